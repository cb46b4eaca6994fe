//! The query's second half: rules, models, pools, weights and the exact split in integers.

use super::*;

impl Query<'_> {
    /// A matcher as a SQL condition over dimension columns and tag columns `{prefix}tag_<i>`.
    pub(super) fn matcher(&self, m: &Matcher, prefix: &str) -> String {
        let d = self.d;
        let conds: Vec<String> = m
            .conditions()
            .iter()
            .map(|(field, pattern)| {
                let v = match field {
                    Field::Dim(dim) => dim.to_string(),
                    Field::Tag(k) => format!("{prefix}{}", self.key_col(k)),
                };
                match pattern {
                    Pattern::Exact(e) => format!("{v} = {}", d.lit(e)),
                    Pattern::Regex(r) => d.regex(&v, r.as_str()),
                    Pattern::Glob(g) => match glob_to_like(g.as_str()) {
                        Some(like) => d.like(&v, &like),
                        None => d.regex(&v, &glob_to_regex(g.as_str())),
                    },
                }
            })
            .collect();
        if conds.is_empty() {
            "FALSE".into()
        } else {
            format!("({})", conds.join(" AND "))
        }
    }

    pub(super) fn ruled(&self) -> String {
        let tag_cols: Vec<String> = (0..self.keys.len()).map(|i| format!("s.tag_{i}")).collect();
        let rule_no = if self.rules.rules.is_empty() {
            "CAST(NULL AS INT)".to_string()
        } else {
            let whens: Vec<String> = self
                .rules
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    format!(
                        "WHEN {} THEN {} -- {}",
                        self.matcher(&r.matcher, ""),
                        i + 1,
                        comment_text(&r.id)
                    )
                })
                .collect();
            format!("CASE\n      {}\n    END", whens.join("\n      "))
        };
        format!(
            "  SELECT *, {rule_no} AS rule_no\n  FROM (\n    SELECT c.*, {}\n    FROM counted c LEFT JOIN tag_sets s ON s.tags = c.tags\n  ) x",
            tag_cols.join(", ")
        )
    }

    pub(super) fn classified(&self) -> String {
        let d = self.d;
        let mut cols: Vec<String> = Vec::new();
        // rule_id
        let null_text = format!("CAST(NULL AS {})", d.text());
        let rule_id = self.by_rule(|_, r| Some(d.lit(&r.id)), &null_text);
        cols.push(format!("{rule_id} AS rule_id"));
        // the method of direct spend: rule:<id> when the rule gave the model
        let gave = self.by_rule(
            |_, r| {
                r.set.iter().any(|(k, _)| k == MODEL_ID).then(|| {
                    format!(
                        "CASE WHEN {} IS NULL THEN {} ELSE 'direct' END",
                        self.key_col(MODEL_ID),
                        d.lit(&format!("rule:{}", r.id))
                    )
                })
            },
            "'direct'",
        );
        cols.push(format!("{gave} AS direct_method"));
        for (i, key) in self.keys.iter().enumerate() {
            let src = format!("tag_{i}");
            let whens: Vec<String> = self
                .rules
                .rules
                .iter()
                .enumerate()
                .filter_map(|(n, r)| {
                    let v = r.set.iter().find(|(k, _)| k == key)?;
                    let value = if r.overrides {
                        d.lit(&v.1)
                    } else {
                        format!("COALESCE({src}, {})", d.lit(&v.1))
                    };
                    Some(format!("WHEN {} THEN {value}", n + 1))
                })
                .collect();
            let e = if whens.is_empty() {
                src.clone()
            } else {
                format!("CASE rule_no {} ELSE {src} END", whens.join(" "))
            };
            cols.push(format!("{e} AS a_tag_{i}"));
        }
        let mut buckets = vec![format!(
            "WHEN COALESCE(LOWER(commitment_discount_status) = 'unused', FALSE) THEN {UNUSED_BUCKET}"
        )];
        for (i, p) in self.rules.pools.iter().enumerate() {
            buckets.push(format!(
                "WHEN {} THEN {} -- {}",
                self.matcher(&p.matcher, "a_"),
                i + 1,
                comment_text(&p.id)
            ));
        }
        buckets.push(format!(
            "WHEN a_{} IS NULL THEN {UNALLOCATED_BUCKET}",
            self.key_col(MODEL_ID)
        ));
        format!(
            "  SELECT r.*,\n    COALESCE(a_{team}, '{UNTAGGED}') AS team,\n    COALESCE(a_{phase}, '{UNTAGGED}') AS lifecycle_phase,\n    CASE\n      {buckets}\n    END AS bucket_no\n  FROM (\n    SELECT ruled.*,\n    {cols}\n    FROM ruled\n  ) r",
            team = self.key_col(TEAM),
            phase = self.key_col(LIFECYCLE_PHASE),
            buckets = buckets.join("\n      "),
            cols = cols.join(",\n    "),
        )
    }

    /// `CASE rule_no WHEN i THEN ... END` over the rules `f` gives a value for.
    pub(super) fn by_rule(
        &self,
        f: impl Fn(usize, &rules::Rule) -> Option<String>,
        default: &str,
    ) -> String {
        let whens: Vec<String> = self
            .rules
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| f(i, r).map(|v| format!("WHEN {} THEN {v}", i + 1)))
            .collect();
        if whens.is_empty() {
            default.to_string()
        } else {
            format!("CASE rule_no {} ELSE {default} END", whens.join(" "))
        }
    }

    pub(super) fn models(&self) -> String {
        let d = self.d;
        let zero = d.money_lit(Money::ZERO);
        let mut cols = vec!["SUM(cost) AS direct_cost".to_string()];
        for (i, ph) in self.phases.iter().enumerate() {
            cols.push(format!(
                "SUM(CASE WHEN lifecycle_phase = {} THEN cost ELSE {zero} END) AS phase_cost_{i}",
                d.lit(ph)
            ));
        }
        for (i, p) in self.rules.pools.iter().enumerate() {
            for (j, (k, values)) in p.targets.iter().enumerate() {
                if k == MODEL_ID {
                    continue;
                }
                cols.push(format!(
                    "MAX(CASE WHEN a_{} IN ({}) THEN 1 ELSE 0 END) AS pool{}_target{j}",
                    self.key_col(k),
                    values
                        .iter()
                        .map(|v| d.lit(v))
                        .collect::<Vec<_>>()
                        .join(", "),
                    i + 1
                ));
            }
        }
        format!(
            "  SELECT billing_period, currency, a_{model} AS model_id,\n    {}\n  FROM classified\n  WHERE bucket_no IS NULL\n  GROUP BY billing_period, currency, a_{model}",
            cols.join(",\n    "),
            model = self.key_col(MODEL_ID),
        )
    }

    pub(super) fn model_team(&self) -> String {
        format!(
            "  SELECT billing_period, currency, model_id, team FROM (\n    SELECT billing_period, currency, model_id, team,\n      ROW_NUMBER() OVER (PARTITION BY billing_period, currency, model_id ORDER BY ABS(cost) DESC, team) AS rn\n    FROM (\n      SELECT billing_period, currency, a_{} AS model_id, team, SUM(cost) AS cost\n      FROM classified WHERE bucket_no IS NULL\n      GROUP BY billing_period, currency, a_{}, team\n    ) t\n  ) x\n  WHERE rn = 1",
            self.key_col(MODEL_ID),
            self.key_col(MODEL_ID)
        )
    }

    pub(super) fn requests(&self) -> String {
        let d = self.d;
        let table = self.s.requests_table.as_deref().unwrap_or_default();
        format!(
            "  SELECT billing_period, model_id, SUM(n) AS requests FROM (\n    SELECT p.billing_period, NULLIF({model}, '') AS model_id, n\n    FROM (\n      SELECT {date} AS t, {mid} AS m,\n        {n} AS n\n      FROM {table}\n    ) r\n    LEFT JOIN (\n{periods}\n    ) p ON p.t = r.t\n  ) x\n  WHERE billing_period IS NOT NULL AND model_id IS NOT NULL AND n >= 0 AND n = ROUND(n, 0)\n  GROUP BY billing_period, model_id",
            periods = self.period_texts(&format!(
                "SELECT DISTINCT {} AS t FROM {}",
                d.trim(&d.as_text(&d.ident("date"))),
                d.table(table)
            )),
            model = self.value_expr("m"),
            date = d.trim(&d.as_text(&d.ident("date"))),
            mid = d.as_text(&d.ident("model_id")),
            n = d.try_cast(&d.trim(&d.as_text(&d.ident("requests"))), d.money()),
            table = d.table(table),
        )
    }

    /// The `driver` pools: (bucket number, pool id, table of its driver rows).
    pub(super) fn driver_pools(&self) -> Vec<(i64, &str, &str)> {
        self.rules
            .pools
            .iter()
            .enumerate()
            .filter(|(_, p)| p.method == SplitMethod::Driver)
            .filter_map(|(i, p)| {
                let table = self.s.driver_table(&p.id)?;
                Some((i as i64 + 1, p.id.as_str(), table))
            })
            .collect()
    }

    /// Every row of every driver table, its texts trimmed as a driver file's cells are.
    pub(super) fn driver_rows(&self) -> String {
        let d = self.d;
        let text = |c: &str| d.trim(&d.as_text(&d.ident(c)));
        let parts: Vec<String> = self
            .driver_pools()
            .into_iter()
            .map(|(bucket, _, table)| {
                format!(
                    "SELECT {bucket} AS bucket_no, {} AS t, {} AS model_id, {} AS quantity FROM {}",
                    text("period"),
                    text("model_id"),
                    d.try_cast(&text("quantity"), d.money()),
                    d.table(table)
                )
            })
            .collect();
        format!("  {}", parts.join("\n  UNION ALL\n  "))
    }

    /// Driver rows with their month (`values::billing_period`) and model id normalised.
    pub(super) fn drivers(&self) -> String {
        format!(
            "  SELECT r.bucket_no, p.billing_period, NULLIF({model}, '') AS model_id, r.quantity\n  FROM driver_rows r\n  LEFT JOIN (\n{periods}\n  ) p ON p.t = r.t",
            model = self.value_expr("r.model_id"),
            periods = self.period_texts("SELECT DISTINCT t FROM driver_rows"),
        )
    }

    /// One row, `ok` = 1; the query stops when a driver row is not (month, model, quantity
    /// >= 0), as `mlcost attribute` refuses such a driver file whole.
    pub(super) fn driver_check(&self) -> String {
        let d = self.d;
        let whens: Vec<String> = self
            .driver_pools()
            .into_iter()
            .map(|(bucket, id, table)| {
                format!(
                    "WHEN MAX(CASE WHEN bucket_no = {bucket} AND {bad} THEN 1 ELSE 0 END) = 1 THEN {}",
                    d.fail(&format!(
                        "mlcost sql: the driver table {table} of pool {id} has a row whose period is not a month, model_id is empty or quantity is not a non-negative number"
                    )),
                    bad = "(billing_period IS NULL OR model_id IS NULL OR quantity IS NULL OR quantity < 0)",
                )
            })
            .collect();
        format!(
            "  SELECT CASE {} ELSE 1 END AS ok\n  FROM drivers",
            whens.join("\n    ")
        )
    }

    /// The driver quantity per pool, month and model (a model's rows summed).
    pub(super) fn driver_weights(&self) -> String {
        "  SELECT bucket_no, billing_period, model_id, SUM(quantity) AS quantity\n  FROM drivers\n  GROUP BY bucket_no, billing_period, model_id".to_string()
    }

    /// The weight rows of one bucket: `(bucket_no, billing_period, currency, model_id,
    /// fixed_pos, w)`; None when the bucket is kept whole.
    pub(super) fn bucket_weights(
        &self,
        bucket: i64,
        method: SplitMethod,
        pool: Option<&rules::Pool>,
    ) -> Option<String> {
        let d = self.d;
        let money = d.money();
        let mut conds: Vec<String> = Vec::new();
        if let Some(p) = pool {
            for (j, (k, values)) in p.targets.iter().enumerate() {
                if k == MODEL_ID {
                    conds.push(format!(
                        "m.model_id IN ({})",
                        values
                            .iter()
                            .map(|v| d.lit(v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                } else {
                    conds.push(format!("m.pool{bucket}_target{j} = 1"));
                }
            }
        }
        let (w, from) = match method {
            SplitMethod::Even => (format!("CAST(1 AS {money})"), "models m".to_string()),
            SplitMethod::Proportional => {
                let col = match pool.and_then(|p| p.phase.as_ref()) {
                    Some(ph) => {
                        let i = self.phases.iter().position(|x| x == ph).unwrap_or(0);
                        format!("m.phase_cost_{i}")
                    }
                    None => "m.direct_cost".to_string(),
                };
                (col, "models m".to_string())
            }
            SplitMethod::Requests => (
                format!("CAST(q.requests AS {money})"),
                "models m JOIN requests q ON q.billing_period = m.billing_period AND q.model_id = m.model_id".to_string(),
            ),
            SplitMethod::Fixed => {
                let p = pool?;
                let rows: Vec<String> = p
                    .weights
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, w))| w.0 > 0)
                    .map(|(i, (model, w))| {
                        format!(
                            "SELECT {bucket} AS bucket_no, k.billing_period, k.currency, {} AS model_id, {i} AS fixed_pos, {} AS w FROM periods k",
                            d.lit(model),
                            d.money_lit(*w)
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    return None;
                }
                return Some(rows.join("\n  UNION ALL\n  "));
            }
            SplitMethod::Driver => (
                "q.quantity".to_string(),
                format!("models m JOIN driver_weights q ON q.bucket_no = {bucket} AND q.billing_period = m.billing_period AND q.model_id = m.model_id"),
            ),
        };
        conds.push(format!("{w} > 0"));
        Some(format!(
            "SELECT {bucket} AS bucket_no, m.billing_period, m.currency, m.model_id, CAST(NULL AS INT) AS fixed_pos, {w} AS w\n  FROM {from}\n  WHERE {}",
            conds.join(" AND ")
        ))
    }

    pub(super) fn weights(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (i, p) in self.rules.pools.iter().enumerate() {
            if let Some(s) = self.bucket_weights(i as i64 + 1, p.method, Some(p)) {
                parts.push(s);
            }
        }
        for (bucket, spread) in [
            (UNUSED_BUCKET, self.rules.unused_commitment),
            (UNALLOCATED_BUCKET, self.rules.unallocated),
        ] {
            let method = match spread {
                SpreadMethod::Keep => continue,
                SpreadMethod::Even => SplitMethod::Even,
                SpreadMethod::Proportional => SplitMethod::Proportional,
                SpreadMethod::Requests => SplitMethod::Requests,
            };
            if let Some(s) = self.bucket_weights(bucket, method, None) {
                parts.push(s);
            }
        }
        if parts.is_empty() {
            // no split at all: an empty relation of the right shape
            let d = self.d;
            parts.push(format!(
                "SELECT CAST(NULL AS {bigint}) AS bucket_no, CAST(NULL AS {text}) AS billing_period, CAST(NULL AS {text}) AS currency, CAST(NULL AS {text}) AS model_id, CAST(NULL AS INT) AS fixed_pos, CAST(NULL AS {money}) AS w\n  FROM p10 WHERE n < 0",
                bigint = d.bigint(),
                text = d.text(),
                money = d.money()
            ));
        }
        format!("  {}", parts.join("\n  UNION ALL\n  "))
    }

    pub(super) fn weight_units(&self) -> String {
        let d = self.d;
        format!(
            "  SELECT w.bucket_no, w.billing_period, w.currency, w.model_id, w.fixed_pos, w.wu,\n    SUM(w.wu) OVER (PARTITION BY w.bucket_no, w.billing_period, w.currency) AS wsum\n  FROM (\n    SELECT x.*, {units} AS wu\n    FROM (\n      SELECT weights.*, MAX({places}) OVER (PARTITION BY bucket_no, billing_period, currency) AS dw\n      FROM weights\n    ) x\n    JOIN p10 pp ON pp.n = x.dw\n    JOIN p10 pr ON pr.n = {SCALE} - x.dw\n  ) w",
            units = d.money_to_units("x.w", "pp.v", "pr.v"),
            places = self.places("w"),
        )
    }

    pub(super) fn entries(&self) -> String {
        format!(
            "  SELECT bucket_no, billing_period, currency, team, lifecycle_phase,\n    CASE WHEN bucket_no = {UNALLOCATED_BUCKET} THEN rule_id END AS rule_id,\n    SUM(cost) AS cost, SUM(source_rows) AS source_rows\n  FROM classified\n  WHERE bucket_no IS NOT NULL\n  GROUP BY bucket_no, billing_period, currency, team, lifecycle_phase,\n    CASE WHEN bucket_no = {UNALLOCATED_BUCKET} THEN rule_id END"
        )
    }

    pub(super) fn split_units(&self) -> String {
        let d = self.d;
        let a = "ABS(units) * wu";
        format!(
            "  SELECT s.*,\n    {r} AS r,\n    CASE WHEN units < 0 THEN -1 ELSE 1 END * {q} AS q,\n    {f} AS fraction_units\n  FROM (\n    SELECT e.*, w.model_id, w.fixed_pos, w.wu, w.wsum, ip.p,\n      {units} AS units\n    FROM entries e\n    JOIN weight_units w ON w.bucket_no = e.bucket_no AND w.billing_period = e.billing_period AND w.currency = e.currency\n    JOIN input_precision ip ON ip.billing_period = e.billing_period AND ip.currency = e.currency\n  ) s",
            r = d.int_mod(a, "wsum"),
            q = d.int_div_exact(&format!("{a} - {}", d.int_mod(a, "wsum")), "wsum"),
            f = {
                let scaled = format!("wu * {}", d.int_lit(10i128.pow(SCALE)));
                d.int_div_exact(
                    &format!("{scaled} - {}", d.int_mod(&scaled, "wsum")),
                    "wsum",
                )
            },
            units = d.money_to_units("e.cost", "ip.pow_p", "ip.pow_rest"),
        )
    }

    pub(super) fn split_ranked(&self) -> String {
        let entry =
            "PARTITION BY bucket_no, billing_period, currency, team, lifecycle_phase, rule_id";
        format!(
            "  SELECT s.*,\n    units - SUM(q) OVER ({entry}) AS missing,\n    ROW_NUMBER() OVER ({entry} ORDER BY r DESC, fixed_pos, model_id) AS rk\n  FROM split_units s"
        )
    }

    pub(super) fn allocated(&self) -> String {
        let d = self.d;
        let text = d.text();
        let money = d.money();
        let checked = |e: &str, what: &str| {
            format!(
                "CASE WHEN {e} IS NULL THEN {} ELSE {e} END",
                d.fail(&format!(
                    "mlcost sql: {what} does not fit the decimal type (overflow)"
                ))
            )
        };
        let pools = &self.rules.pools;
        // `column` is the qualified bucket column; ids go into literals only, never into the
        // SQL text around them.
        let case_bucket = |column: &str, f: &dyn Fn(i64, &str) -> String| -> String {
            let mut whens: Vec<String> = pools
                .iter()
                .enumerate()
                .map(|(i, p)| format!("WHEN {} THEN {}", i + 1, f(i as i64 + 1, &p.id)))
                .collect();
            whens.push(format!(
                "WHEN {UNUSED_BUCKET} THEN {}",
                f(UNUSED_BUCKET, "")
            ));
            whens.push(format!(
                "WHEN {UNALLOCATED_BUCKET} THEN {}",
                f(UNALLOCATED_BUCKET, "")
            ));
            format!("CASE {column} {} END", whens.join(" "))
        };
        let split_method = case_bucket("s.bucket_no", &|b, id| match b {
            UNUSED_BUCKET => d.lit("shared:unused_commitment"),
            UNALLOCATED_BUCKET => d.lit("shared:unallocated"),
            _ => d.lit(&format!("shared:{id}")),
        });
        let split_pool = case_bucket("s.bucket_no", &|b, id| match b {
            UNUSED_BUCKET => d.lit("unused_commitment"),
            UNALLOCATED_BUCKET => d.lit("unallocated"),
            _ => d.lit(id),
        });
        let kept_model = case_bucket("e.bucket_no", &|b, id| match b {
            UNUSED_BUCKET => d.lit(UNUSED_COMMITMENT),
            UNALLOCATED_BUCKET => d.lit(UNALLOCATED),
            _ => d.lit(&format!("shared:{id}")),
        });
        let kept_pool = case_bucket("e.bucket_no", &|b, id| match b {
            UNUSED_BUCKET | UNALLOCATED_BUCKET => format!("CAST(NULL AS {text})"),
            _ => d.lit(id),
        });
        let share_units =
            "q + CASE WHEN rk <= ABS(missing) THEN CASE WHEN missing > 0 THEN 1 ELSE -1 END ELSE 0 END";
        format!(
            "  -- direct spend
  SELECT billing_period, currency, a_{model} AS model_id, team, lifecycle_phase,
    direct_method AS allocation_method, rule_id, CAST(NULL AS {text}) AS source_pool,
    CAST(NULL AS {money}) AS share, {direct_cost} AS cost, SUM(source_rows) AS source_rows
  FROM classified
  WHERE bucket_no IS NULL
  GROUP BY billing_period, currency, a_{model}, team, lifecycle_phase, direct_method, rule_id
  UNION ALL
  -- entries without any target (or kept): visible under a reserved model
  SELECT e.billing_period, e.currency, {kept_model} AS model_id, e.team, e.lifecycle_phase,
    'unallocated' AS allocation_method, e.rule_id, {kept_pool} AS source_pool,
    CAST(NULL AS {money}) AS share, e.cost, e.source_rows
  FROM entries e
  WHERE NOT EXISTS (
    SELECT 1 FROM weight_units w
    WHERE w.bucket_no = e.bucket_no AND w.billing_period = e.billing_period AND w.currency = e.currency
  )
  UNION ALL
  -- shares
  SELECT s.billing_period, s.currency, s.model_id, COALESCE(mt.team, '{UNTAGGED}') AS team, s.lifecycle_phase,
    {split_method} AS allocation_method, CAST(NULL AS {text}) AS rule_id, {split_pool} AS source_pool,
    {fraction} AS share,
    {share_cost} AS cost,
    s.source_rows
  FROM split_ranked s
  LEFT JOIN model_team mt ON mt.billing_period = s.billing_period AND mt.currency = s.currency AND mt.model_id = s.model_id",
            model = self.key_col(MODEL_ID),
            direct_cost = checked("SUM(cost)", "a direct cost"),
            fraction = checked(&d.units_to_money("s.fraction_units", &SCALE.to_string()), "a share"),
            share_cost = checked(&d.units_to_money(&format!("({share_units})"), "s.p"), "a split cost"),
        )
    }

    /// The rows of `cost_by_model`, unordered.
    /// The rows of cost_by_model: with amortisation, the attributed rows and the schedules'
    /// rows, of the asked month only.
    pub(super) fn cost_by_model(&self) -> String {
        if !self.amortising() {
            return self.attributed();
        }
        let period = match &self.s.period {
            Some(p) => format!("\n  WHERE billing_period = {}", self.d.lit(p)),
            None => String::new(),
        };
        format!(
            "  SELECT * FROM (\n  SELECT * FROM attributed\n  UNION ALL\n{}\n  ) a{period}",
            self.amortised_rows()
        )
    }

    /// The rows allocation gives, summed per cost_by_model row.
    pub(super) fn attributed(&self) -> String {
        let d = self.d;
        format!(
            "  SELECT billing_period, model_id, team, lifecycle_phase,\n    SUM(cost) AS cost, currency, allocation_method, rule_id, source_pool, share,\n    {basis} AS cost_basis, CAST(SUM(source_rows) AS {bigint}) AS source_rows\n  FROM allocated\n  GROUP BY billing_period, currency, model_id, team, lifecycle_phase, allocation_method, rule_id, source_pool, share",
            basis = d.lit(self.s.basis.name()),
            bigint = d.bigint(),
        )
    }

    pub(super) fn final_select(&self) -> String {
        format!(
            "{}\nORDER BY billing_period, currency, model_id, team, lifecycle_phase, allocation_method,\n  rule_id NULLS FIRST, source_pool NULLS FIRST, share NULLS FIRST\n",
            self.cost_by_model().trim_start()
        )
    }
}
