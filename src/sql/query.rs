//! The query's first half: billing rows, counted lines, periods, precision and tag sets.

use super::*;

/// The pieces the query is built from.
pub(super) struct Query<'a> {
    pub(super) d: Dialect,
    pub(super) s: &'a SqlSettings,
    pub(super) tagger: &'a TagNormaliser,
    pub(super) rules: &'a RuleSet,
    /// Canonical tag keys the query needs, in order; column `tag_<i>` holds key i.
    pub(super) keys: Vec<String>,
    /// Distinct `phase` values of proportional pools; column `phase_cost_<i>`.
    pub(super) phases: Vec<String>,
}

impl<'a> Query<'a> {
    pub(super) fn new(
        s: &'a SqlSettings,
        tagger: &'a TagNormaliser,
        rules: &'a RuleSet,
    ) -> Query<'a> {
        let mut keys: BTreeSet<String> = [MODEL_ID, TEAM, LIFECYCLE_PHASE]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let mut tag_keys = |m: &Matcher| {
            for (f, _) in m.conditions() {
                if let Field::Tag(k) = f {
                    keys.insert(k.clone());
                }
            }
        };
        for r in &rules.rules {
            tag_keys(&r.matcher);
        }
        for p in &rules.pools {
            tag_keys(&p.matcher);
        }
        for r in &rules.rules {
            keys.extend(r.set.iter().map(|(k, _)| k.clone()));
        }
        for p in &rules.pools {
            keys.extend(p.targets.iter().map(|(k, _)| k.clone()));
        }
        let phases: BTreeSet<String> = rules
            .pools
            .iter()
            .filter(|p| p.method == SplitMethod::Proportional)
            .filter_map(|p| p.phase.clone())
            .collect();
        Query {
            d: s.dialect,
            s,
            tagger,
            rules,
            keys: keys.into_iter().collect(),
            phases: phases.into_iter().collect(),
        }
    }

    pub(super) fn key_col(&self, key: &str) -> String {
        let i = self.keys.iter().position(|k| k == key).unwrap_or(0);
        format!("tag_{i}")
    }

    pub(super) fn render(&self, table: OutputTable) -> String {
        let d = self.d;
        let mut ctes: Vec<(String, String, String)> = Vec::new();
        let mut add = |name: &str, doc: &str, body: String| {
            ctes.push((name.to_string(), doc.to_string(), body));
        };
        add(
            "billing_rows",
            "every billing row: the FOCUS dimensions as text and the basis cost parsed exactly",
            self.billing_rows(),
        );
        add(
            "lines",
            "rows with a parsed cost, summed per identical dimensions (mlcost's ledger lines)",
            self.lines(),
        );
        add(
            "billing_periods",
            "the billing month of each distinct period text: the month of its instant in UTC",
            self.period_texts("SELECT DISTINCT TRIM(billing_period_start) AS t FROM lines"),
        );
        add(
            "counted",
            "lines with a valid billing period and currency; commitment purchases left out where the basis counts them twice",
            self.counted(),
        );
        add(
            "periods",
            "the billing periods and currencies of the run",
            "  SELECT DISTINCT billing_period, currency FROM counted".to_string(),
        );
        add("p10", "powers of ten as exact integers", self.p10());
        add(
            "input_precision",
            "decimals the input uses per currency: every split is rounded to them",
            self.input_precision(),
        );
        add(
            "tag_texts",
            "distinct tag texts, as JSON objects (Azure's form without braces is wrapped)",
            self.tag_texts(),
        );
        add(
            "tag_pairs",
            "every key/value pair, key trimmed, lower-cased and aliased, value normalised",
            self.tag_pairs(),
        );
        add(
            "tag_sets",
            "one value per canonical key; keys whose source keys disagree are conflicts (no value)",
            self.tag_sets(),
        );
        add(
            "ruled",
            "(1) virtual-tag rules: the first rule that matches",
            self.ruled(),
        );
        add(
            "classified",
            "tags after the rule; each line is direct, unused commitment, a pool's, or unallocated",
            self.classified(),
        );
        add(
            "models",
            "models with direct spend per period and currency: their cost, and the tags pools target",
            self.models(),
        );
        add(
            "model_team",
            "the team of a model: the team with the most direct spend (ties: first by name)",
            self.model_team(),
        );
        if self.s.requests_table.is_some() {
            add(
                "requests",
                "request volumes per period and model",
                self.requests(),
            );
        }
        add(
            "weights",
            "(2, 3) split weights: one row per pool, period, currency and target model",
            self.weights(),
        );
        add(
            "weight_units",
            "weights as integers at their own precision, with their sum",
            self.weight_units(),
        );
        add(
            "entries",
            "spend waiting to be split: per pool, period, currency, team and phase",
            self.entries(),
        );
        add(
            "split_units",
            "each entry over its weights in integer quanta: floor(units * w / sum) and the remainder",
            self.split_units(),
        );
        add(
            "split_ranked",
            "largest remainder: the quanta truncation left go to the largest remainders, ties to the earlier target",
            self.split_ranked(),
        );
        add(
            "allocated",
            "direct rows, entries nothing could take, and shares",
            self.allocated(),
        );
        if table == OutputTable::UnitCosts {
            add(
                "cost_by_model",
                "the rows of cost_by_model",
                self.cost_by_model(),
            );
            add(
                "phase_costs",
                "cost per model, period and currency in the lifecycle phase columns",
                self.phase_costs(),
            );
            add(
                "unit_team",
                "the team with the most spend on the model (ties: first by name)",
                self.unit_team(),
            );
            add(
                "unit_base",
                "requests, and why a unit cost cannot be computed",
                self.unit_base(),
            );
        }
        let mut out = String::new();
        out.push_str(&format!(
            "-- mlcost {} attribution query ({} dialect), cost basis `{}`.\n",
            env!("CARGO_PKG_VERSION"),
            d.name(),
            self.s.basis.name()
        ));
        out.push_str(&format!(
            "-- Produces the rows of {}; generated by `mlcost sql`, do not edit.\n",
            table.name()
        ));
        out.push_str(
            "-- Reads FOCUS 1.0-1.2 columns: FOCUS 1.3 split rows (AllocatedResourceId, AllocatedTags) are\n-- read as ordinary rows here, unlike `mlcost attribute`; attribute such exports with it.\n",
        );
        out.push_str(&format!(
            "-- Tag columns: {}.\n",
            self.keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("tag_{i} = {}", comment_text(k)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.push_str("WITH\n");
        let n = ctes.len();
        for (i, (name, doc, body)) in ctes.into_iter().enumerate() {
            out.push_str(&format!(
                "-- {doc}\n{name} AS (\n{body}\n){}\n",
                if i + 1 < n { "," } else { "" }
            ));
        }
        out.push_str(&match table {
            OutputTable::CostByModel => self.final_select(),
            OutputTable::UnitCosts => self.unit_costs(),
        });
        out
    }

    pub(super) fn billing_rows(&self) -> String {
        let d = self.d;
        let money = |c: &str| d.try_cast(&format!("TRIM({})", d.as_text(&d.ident(c))), d.money());
        let mut cols: Vec<String> = FOCUS_COLUMNS
            .iter()
            .map(|(canonical, focus)| {
                let column = d.ident(focus);
                let text = match *canonical {
                    line::BILLING_PERIOD_START => d.instant_text(&column),
                    line::TAGS => d.tags_text(&column, self.s.tags),
                    _ => d.as_text(&column),
                };
                format!("{text} AS {canonical}")
            })
            .collect();
        cols.push(format!("{} AS cost", money(self.s.basis.focus_column())));
        cols.push(format!(
            "COALESCE({} > 0 AND {} = 0, FALSE) AS prepaid",
            money("BilledCost"),
            money("EffectiveCost")
        ));
        format!(
            "  SELECT\n    {}\n  FROM {}",
            cols.join(",\n    "),
            d.table(&self.s.billing_table)
        )
    }

    pub(super) fn lines(&self) -> String {
        let dims: Vec<&str> = FOCUS_COLUMNS.iter().map(|(c, _)| *c).collect();
        format!(
            "  SELECT {dims}, prepaid,\n    SUM(cost) AS cost, COUNT(*) AS source_rows\n  FROM billing_rows\n  WHERE cost IS NOT NULL\n  GROUP BY {dims}, prepaid",
            dims = dims.join(", ")
        )
    }

    /// One row per distinct period text `t` of `texts` (a query with a column `t`, trimmed)
    /// with its `billing_period` as `values::billing_period` reads it: the month of the
    /// instant in UTC (an ISO or US `M/D/YYYY` date, optionally a clock and a zone `Z`,
    /// `UTC`, `GMT`, `+HH`, `+HHMM`, `+HH:MM`, `+HHMMSS` or `+HH:MM:SS`, applied; none is
    /// UTC), `YYYY-MM` or `YYYYMM`; NULL for anything else (a named zone, an impossible date
    /// or clock). Built in steps over the distinct texts, never per row.
    pub(super) fn period_texts(&self, texts: &str) -> String {
        let d = self.d;
        let clock = "^(?:[Tt ]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\\.[0-9]*)?)?\\s*(Z|z|UTC|GMT|[+-](?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2})?)?|[0-9]{2}:[0-9]{2}(?::[0-9]{2})?))?)?$";
        let iso = d.regex("t", "^[0-9]{4}-[0-9]{2}-[0-9]{2}");
        let us = d.regex("t", "^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}([ T]|$)");
        let us_date = format!(
            "SUBSTR({y}, 1, 4) || '-' || LPAD({m}, 2, '0') || '-' || LPAD({day}, 2, '0')",
            y = d.split_part("t", "/", 3),
            m = d.split_part("t", "/", 1),
            day = d.split_part("t", "/", 2),
        );
        // a US date is cut at ` ` or `T`, so its clock cannot start with `t`
        let us_rest = d.regex_group("t", "^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(.*)$", 1);
        let group = |n: usize| d.regex_group("rest", clock, n);
        let int = |e: &str| d.try_cast(&format!("COALESCE(NULLIF({e}, ''), '0')"), d.bigint());
        let utc_seconds = "h * 3600 + mi * 60 + s - sign * (zh * 3600 + zm * 60 + zs)";
        format!(
            "  SELECT t, CASE
      WHEN {ym} THEN t
      WHEN {compact} THEN SUBSTR(t, 1, 4) || '-' || SUBSTR(t, 5, 2)
      WHEN ok AND h <= 23 AND mi <= 59 AND s <= 59 AND zh <= 23 AND zm <= 59 AND zs <= 59
        THEN {month}
    END AS billing_period
  FROM (
    SELECT t, day_text, ok, {h} AS h, {mi} AS mi, {s} AS s,
      CASE SUBSTR(zone, 1, 1) WHEN '-' THEN -1 WHEN '+' THEN 1 ELSE 0 END AS sign,
      {zh} AS zh, {zm} AS zm, {zs} AS zs
    FROM (
      SELECT t, day_text, {ok} AS ok, {g1} AS g1, {g2} AS g2, {g3} AS g3, {g4} AS zone,
        CASE WHEN SUBSTR({g4}, 1, 1) IN ('+', '-') THEN REPLACE(SUBSTR({g4}, 2), ':', '') END AS zone_digits
      FROM (
        SELECT t,
          CASE WHEN {iso} THEN SUBSTR(t, 1, 10) WHEN {us} THEN {us_date} END AS day_text,
          CASE WHEN {iso} THEN SUBSTR(t, 11) WHEN {us} AND SUBSTR({us_rest}, 1, 1) <> 't' THEN {us_rest} END AS rest
        FROM ({texts}) x
      ) a
    ) b
  ) c",
            ym = d.regex("t", "^[0-9]{4}-(0[1-9]|1[0-2])$"),
            compact = d.regex("t", "^[0-9]{4}(0[1-9]|1[0-2])$"),
            month = d.month_after_days(
                &d.try_cast("day_text", "DATE"),
                &format!("CASE WHEN {utc_seconds} < 0 THEN -1 WHEN {utc_seconds} >= 86400 THEN 1 ELSE 0 END")
            ),
            h = int("g1"),
            mi = int("g2"),
            s = int("g3"),
            zh = int("SUBSTR(zone_digits, 1, 2)"),
            zm = int("SUBSTR(zone_digits, 3, 2)"),
            zs = int("SUBSTR(zone_digits, 5, 2)"),
            ok = d.regex("rest", clock),
            g1 = group(1),
            g2 = group(2),
            g3 = group(3),
            g4 = group(4),
        )
    }

    pub(super) fn counted(&self) -> String {
        let d = self.d;
        let dims: Vec<&str> = FOCUS_COLUMNS.iter().map(|(c, _)| *c).collect();
        let mut filters = vec![
            "billing_period IS NOT NULL".to_string(),
            "currency IS NOT NULL".to_string(),
        ];
        if self.s.basis.excludes_commitment_purchases() {
            filters.push(
                "NOT (COALESCE(LOWER(TRIM(charge_category)) = 'purchase', FALSE) AND prepaid)"
                    .into(),
            );
        }
        if let Some(p) = &self.s.period {
            filters.push(format!("billing_period = {}", d.lit(p)));
        }
        let currency = format!(
            "CASE WHEN {} THEN UPPER(TRIM(billing_currency)) END",
            d.regex("TRIM(billing_currency)", "^[A-Za-z]{3}$")
        );
        format!(
            "  SELECT * FROM (\n    SELECT\n    p.billing_period,\n    {currency} AS currency,\n    {dims}, prepaid, cost, source_rows\n    FROM lines\n    LEFT JOIN billing_periods p ON p.t = TRIM(lines.billing_period_start)\n  ) l\n  WHERE {filters}",
            dims = dims.join(", "),
            filters = filters.join("\n    AND "),
        )
    }

    pub(super) fn p10(&self) -> String {
        (0..=SCALE)
            .map(|n| format!("  SELECT {n} AS n, {} AS v", self.d.int_lit(10i128.pow(n))))
            .collect::<Vec<_>>()
            .join("\n  UNION ALL\n")
    }

    /// Decimal places an amount uses (0 to 18), like `allocate::places`.
    pub(super) fn places(&self, x: &str) -> String {
        let whens: Vec<String> = (0..SCALE)
            .map(|k| format!("WHEN {x} = ROUND({x}, {k}) THEN {k}"))
            .collect();
        format!("CASE {} ELSE {SCALE} END", whens.join(" "))
    }

    pub(super) fn input_precision(&self) -> String {
        format!(
            "  SELECT c.currency, c.p, pp.v AS pow_p, pr.v AS pow_rest\n  FROM (SELECT currency, MAX({}) AS p FROM counted GROUP BY currency) c\n  JOIN p10 pp ON pp.n = c.p\n  JOIN p10 pr ON pr.n = {SCALE} - c.p",
            self.places("cost")
        )
    }

    pub(super) fn tag_texts(&self) -> String {
        let d = self.d;
        let j = "CASE WHEN SUBSTR(TRIM(tags), 1, 1) = '{' THEN TRIM(tags) ELSE '{' || TRIM(tags) || '}' END";
        format!(
            "  SELECT tags, {} AS j\n  FROM (SELECT DISTINCT tags FROM counted WHERE tags IS NOT NULL AND TRIM(tags) <> '') x",
            d.json_object_or_null(&format!("({j})"))
        )
    }

    /// `tags::TagNormaliser::value` in SQL.
    pub(super) fn value_expr(&self, v: &str) -> String {
        if self.tagger.lowercases_values() {
            format!("LOWER(TRIM({v}))")
        } else {
            format!("TRIM({v})")
        }
    }

    pub(super) fn tag_pairs(&self) -> String {
        let d = self.d;
        let norm = "LOWER(TRIM(tag_key))";
        let aliases = self.alias_pairs();
        let key = if aliases.is_empty() {
            norm.to_string()
        } else {
            let whens: Vec<String> = aliases
                .iter()
                .map(|(from, to)| format!("WHEN {} THEN {}", d.lit(from), d.lit(to)))
                .collect();
            format!("CASE {norm} {} ELSE {norm} END", whens.join(" "))
        };
        format!(
            "  SELECT tags, {key} AS tag_key,\n    NULLIF({}, '') AS tag_value, nested\n  FROM (\n  {}\n  ) p",
            self.value_expr("tag_value"),
            d.tag_pairs()
        )
    }

    /// (normalised source key, canonical key) of every alias, as `TagNormaliser` applies them.
    pub(super) fn alias_pairs(&self) -> Vec<(String, String)> {
        self.tagger
            .aliases()
            .iter()
            .filter(|(from, to)| from != to)
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect()
    }

    pub(super) fn tag_sets(&self) -> String {
        let d = self.d;
        let cols: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let k = d.lit(k);
                format!(
                    "CASE WHEN MAX(CASE WHEN nested THEN 1 ELSE 0 END) = 0\n      AND COUNT(DISTINCT CASE WHEN tag_key = {k} THEN tag_value END) = 1\n      THEN MAX(CASE WHEN tag_key = {k} THEN tag_value END) END AS tag_{i}"
                )
            })
            .collect();
        format!(
            "  SELECT tags,\n    {}\n  FROM tag_pairs\n  GROUP BY tags",
            cols.join(",\n    ")
        )
    }
}
