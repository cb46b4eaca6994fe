//! The attribution as one SQL query (`mlcost sql`), for when the bill lives in a warehouse
//! engine (DuckDB, Spark, Trino, BigQuery) and is too big for one machine. The query reads a
//! FOCUS-shaped billing table and produces the rows of `cost_by_model` exactly as `allocate`
//! does: the same rows counted (cost, period and currency parsed; commitment purchases left
//! out on the list and contracted bases), the same tag normalisation, the first matching
//! virtual-tag rule, shared pools and spreading with largest-remainder rounding at the input's
//! precision (done in integers with window functions, never in floating point). A config the
//! SQL cannot express is refused with the config item and its line. This module only writes
//! text: it never reads billing data and never runs a query.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::allocate::rules::{self, Field, Matcher, Pattern, RuleSet};
use crate::config::{CostBasis, LoadedConfig, SplitMethod, SpreadMethod};
use crate::error::{Error, Result};
use crate::money::{Money, SCALE};
use crate::schema::{line, UNALLOCATED, UNTAGGED, UNUSED_COMMITMENT};
use crate::tags::{TagNormaliser, LIFECYCLE_PHASE, MODEL_ID, TEAM};

/// The SQL engines `mlcost sql` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    #[value(name = "duckdb")]
    DuckDb,
    Spark,
    Trino,
    #[value(name = "bigquery")]
    BigQuery,
}

/// What to emit: for which engine, over which tables, on which cost basis.
#[derive(Debug, Clone)]
pub struct SqlSettings {
    pub dialect: Dialect,
    /// The FOCUS billing table (may be qualified, e.g. `billing.focus`).
    pub billing_table: String,
    /// A table of request volumes (`date`, `model_id`, `requests`), for `requests` splits.
    pub requests_table: Option<String>,
    pub basis: CostBasis,
    /// Only this billing month (YYYY-MM).
    pub period: Option<String>,
}

/// The FOCUS column read for each canonical dimension (FOCUS 1.0-1.2 names).
pub const FOCUS_COLUMNS: [(&str, &str); 15] = [
    (line::BILLING_PERIOD_START, "BillingPeriodStart"),
    (line::BILLING_CURRENCY, "BillingCurrency"),
    (line::PROVIDER, "ProviderName"),
    (line::BILLING_ACCOUNT_ID, "BillingAccountId"),
    (line::SUB_ACCOUNT_ID, "SubAccountId"),
    (line::SUB_ACCOUNT_NAME, "SubAccountName"),
    (line::SERVICE_NAME, "ServiceName"),
    (line::SERVICE_CATEGORY, "ServiceCategory"),
    (line::RESOURCE_ID, "ResourceId"),
    (line::RESOURCE_NAME, "ResourceName"),
    (line::REGION, "RegionId"),
    (line::CHARGE_CATEGORY, "ChargeCategory"),
    (line::CHARGE_CLASS, "ChargeClass"),
    (line::COMMITMENT_DISCOUNT_STATUS, "CommitmentDiscountStatus"),
    (line::TAGS, "Tags"),
];

/// Bucket numbers of the two implicit pools (configured pools are 1, 2, ...).
const UNUSED_BUCKET: i64 = -1;
const UNALLOCATED_BUCKET: i64 = -2;

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Trino => "trino",
            Dialect::BigQuery => "bigquery",
        }
    }

    fn ident(self, name: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::BigQuery => format!("`{}`", name.replace('`', "\\`")),
        }
    }

    /// A possibly qualified table name, each part quoted.
    fn table(self, name: &str) -> String {
        name.split('.')
            .map(|p| self.ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A string literal. Spark and BigQuery read backslash escapes in literals; DuckDB and
    /// Trino follow the standard (only the quote is doubled).
    fn lit(self, s: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("'{}'", s.replace('\'', "''")),
            Dialect::Spark | Dialect::BigQuery => {
                let mut out = String::from("'");
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
        }
    }

    fn text(self) -> &'static str {
        match self {
            Dialect::DuckDb | Dialect::Trino => "VARCHAR",
            Dialect::Spark | Dialect::BigQuery => "STRING",
        }
    }

    /// Exact money: decimal(38, 18), or BIGNUMERIC (NUMERIC has only 9 decimals).
    fn money(self) -> &'static str {
        match self {
            Dialect::BigQuery => "BIGNUMERIC",
            _ => "DECIMAL(38, 18)",
        }
    }

    /// Exact integers of up to 38 digits (counts of the rounding quantum).
    fn int(self) -> &'static str {
        match self {
            Dialect::DuckDb => "HUGEINT",
            Dialect::Spark | Dialect::Trino => "DECIMAL(38, 0)",
            Dialect::BigQuery => "BIGNUMERIC",
        }
    }

    fn bigint(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    fn try_cast(self, e: &str, ty: &str) -> String {
        match self {
            Dialect::BigQuery => format!("SAFE_CAST({e} AS {ty})"),
            _ => format!("TRY_CAST({e} AS {ty})"),
        }
    }

    fn as_text(self, e: &str) -> String {
        format!("CAST({e} AS {})", self.text())
    }

    fn int_lit(self, n: i128) -> String {
        format!("CAST({} AS {})", self.lit(&n.to_string()), self.int())
    }

    fn money_lit(self, m: Money) -> String {
        format!("CAST({} AS {})", self.lit(&m.to_string()), self.money())
    }

    /// Unanchored regex search, like Rust's `Regex::is_match`.
    fn regex(self, v: &str, re: &str) -> String {
        let re = self.lit(re);
        match self {
            Dialect::DuckDb => format!("regexp_matches({v}, {re})"),
            Dialect::Spark => format!("({v} RLIKE {re})"),
            Dialect::Trino => format!("regexp_like({v}, {re})"),
            Dialect::BigQuery => format!("REGEXP_CONTAINS({v}, {re})"),
        }
    }

    /// LIKE with `\` as the escape character (the default in Spark and BigQuery).
    fn like(self, v: &str, pattern: &str) -> String {
        let p = self.lit(pattern);
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("{v} LIKE {p} ESCAPE '\\'"),
            Dialect::Spark | Dialect::BigQuery => format!("{v} LIKE {p}"),
        }
    }

    /// `a / b` for non-negative integers where `b` divides `a` exactly.
    fn int_div_exact(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({a}) // ({b})"),
            // Spark types the quotient decimal(38, 6): exact, since it is a whole number
            Dialect::Spark => format!("CAST(({a}) / ({b}) AS DECIMAL(38, 0))"),
            Dialect::Trino => format!("({a}) / ({b})"),
            Dialect::BigQuery => format!("DIV({a}, {b})"),
        }
    }

    fn int_mod(self, a: &str, b: &str) -> String {
        match self {
            Dialect::BigQuery => format!("MOD({a}, {b})"),
            _ => format!("({a}) % ({b})"),
        }
    }

    /// `x * 10^p` as an integer, for an amount `x` with at most `p` decimals; `pow_p` is 10^p
    /// and `pow_rest` 10^(18 - p), both integers. DuckDB and Trino would overflow a
    /// decimal(38, 18) product, so they go through the exact text of the amount.
    fn money_to_units(self, x: &str, pow_p: &str, pow_rest: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => {
                let raw = format!(
                    "CAST(REPLACE(CAST(CAST({x} AS {money}) AS VARCHAR), '.', '') AS {int})",
                    money = self.money(),
                    int = self.int()
                );
                match self {
                    Dialect::DuckDb => format!("({raw} // {pow_rest})"),
                    _ => format!("({raw} / {pow_rest})"),
                }
            }
            Dialect::Spark => format!("CAST({x} * {pow_p} AS DECIMAL(38, 0))"),
            Dialect::BigQuery => format!("({x} * {pow_p})"),
        }
    }

    /// The amount `n / 10^p` for an integer `n` and `0 <= p <= 18`, built from the digits
    /// of `n` so no engine rounds it (Spark would cut the scale of a decimal product).
    fn units_to_money(self, n: &str, p: &str) -> String {
        let digits = self.as_text(&format!("ABS({n})"));
        let padded =
            format!("LPAD({digits}, CAST(GREATEST(LENGTH({digits}), {p} + 1) AS INT), '0')");
        format!(
            "CAST(CASE WHEN {n} < 0 THEN '-' ELSE '' END || SUBSTR({padded}, 1, LENGTH({padded}) - {p}) || '.' || SUBSTR({padded}, LENGTH({padded}) - {p} + 1) || '0' AS {})",
            self.money()
        )
    }

    fn split_part(self, s: &str, delim: &str, n: usize) -> String {
        match self {
            Dialect::BigQuery => format!("SPLIT({s}, '{delim}')[SAFE_OFFSET({})]", n - 1),
            _ => format!("split_part({s}, '{delim}', {n})"),
        }
    }

    /// Stops the query with a message (a null where a number must be means an overflow).
    fn fail(self, message: &str) -> String {
        let m = self.lit(message);
        match self {
            Dialect::DuckDb => format!("error({m})"),
            Dialect::Spark => format!("raise_error({m})"),
            Dialect::Trino => format!("fail({m})"),
            Dialect::BigQuery => format!("ERROR({m})"),
        }
    }

    /// The FROM clause that lists every (key, value) pair of the JSON object text `j` of
    /// `tag_texts`, with `tag_key`, `tag_value` (scalar as text) and `nested` (the value is
    /// an object or array, which makes the whole tag text malformed, as in `tags::parse`).
    fn tag_pairs(self) -> String {
        match self {
            Dialect::DuckDb => "SELECT t.tags, e.key AS tag_key,\n    CASE WHEN e.type IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(e.value, '$') END AS tag_value,\n    e.type IN ('OBJECT', 'ARRAY') AS nested\n  FROM tag_texts t, json_each(t.j) e".into(),
            Dialect::Spark => "SELECT t.tags, e.tag_key, e.tag_value,\n    (e.tag_value LIKE '{%}' OR e.tag_value LIKE '[%]') AS nested\n  FROM tag_texts t\n  LATERAL VIEW explode(from_json(t.j, 'map<string,string>')) e AS tag_key, tag_value".into(),
            Dialect::Trino => "SELECT t.tags, e.tag_key, json_extract_scalar(e.v, '$') AS tag_value,\n    (json_extract_scalar(e.v, '$') IS NULL AND json_format(e.v) <> 'null') AS nested\n  FROM tag_texts t\n  CROSS JOIN UNNEST(TRY(CAST(json_parse(t.j) AS MAP(VARCHAR, JSON)))) AS e(tag_key, v)".into(),
            Dialect::BigQuery => "SELECT t.tags, k AS tag_key, JSON_VALUE(PARSE_JSON(t.j)[k]) AS tag_value,\n    JSON_TYPE(PARSE_JSON(t.j)[k]) IN ('object', 'array') AS nested\n  FROM tag_texts t, UNNEST(JSON_KEYS(SAFE.PARSE_JSON(t.j), 1)) AS k".into(),
        }
    }

    /// `j` when it is a JSON object, else NULL (so invalid tag text gives no pairs).
    fn json_object_or_null(self, j: &str) -> String {
        match self {
            Dialect::DuckDb => format!(
                "CASE WHEN json_valid({j}) THEN CASE WHEN json_type({j}) = 'OBJECT' THEN {j} END END"
            ),
            // from_json, TRY(json_parse) and SAFE.PARSE_JSON give no pairs for invalid text
            _ => j.to_string(),
        }
    }
}

/// Refuses what the SQL cannot express, naming the config item and its line.
fn check_expressible(loaded: &LoadedConfig, settings: &SqlSettings) -> Result<()> {
    let c = &loaded.config;
    let path = loaded
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("mlcost.toml"));
    let refuse = |what: String, line: usize, message: &str, hint: &str| {
        Error::Config {
        path: path.clone(),
        message: format!(
            "{what} (line {line}) cannot be expressed in SQL for `mlcost sql --dialect {}`: {message}",
            settings.dialect.name()
        ),
        hint: Some(hint.to_string()),
    }
    };
    let section_line = |name: &str| {
        loaded
            .text
            .find(&format!("[{name}]"))
            .map_or(0, |at| loaded.line_of(at))
    };
    for p in &c.shared {
        let line = loaded.line_of(p.id.span().start);
        let what = format!("pool `{}`", p.id.get_ref());
        match p.method {
            SplitMethod::Driver => {
                return Err(refuse(
                    what,
                    line,
                    "method `driver` reads a usage file on this machine",
                    "load the driver file into a table and split by it in the warehouse, or run `mlcost attribute`",
                ))
            }
            SplitMethod::Requests if settings.requests_table.is_none() => {
                return Err(refuse(
                    what,
                    line,
                    "method `requests` needs request volumes",
                    "pass `--requests-table NAME` (columns date, model_id, requests)",
                ))
            }
            _ => {}
        }
    }
    for (name, spread) in [
        ("unallocated", c.unallocated.method),
        ("unused_commitment", c.unused_commitment.method),
    ] {
        if spread == SpreadMethod::Requests && settings.requests_table.is_none() {
            return Err(refuse(
                format!("`[{name}] method = \"requests\"`"),
                section_line(name),
                "spreading by requests needs request volumes",
                "pass `--requests-table NAME` (columns date, model_id, requests)",
            ));
        }
    }
    if c.amortize.training_months > 1 {
        return Err(refuse(
            "`[amortize] training_months`".into(),
            section_line("amortize"),
            "amortisation carries a balance from run to run, which one query cannot keep",
            "set `training_months = 1` for the SQL, or run `mlcost attribute`, which keeps the schedules",
        ));
    }
    Ok(())
}

/// Emits the attribution query for a loaded config.
pub fn attribution_query(loaded: &LoadedConfig, settings: &SqlSettings) -> Result<String> {
    check_expressible(loaded, settings)?;
    let tagger = TagNormaliser::new(&loaded.config.tags);
    // volumes are checked above: a `requests` split here always has a requests table
    let rules = rules::compile(loaded, &tagger, true, &|p: &std::path::Path| {
        crate::volumes::read_driver(p, &tagger)
    })?;
    let q = Query::new(settings, &tagger, &rules);
    Ok(q.render())
}

/// The pieces the query is built from.
struct Query<'a> {
    d: Dialect,
    s: &'a SqlSettings,
    tagger: &'a TagNormaliser,
    rules: &'a RuleSet,
    /// Canonical tag keys the query needs, in order; column `tag_<i>` holds key i.
    keys: Vec<String>,
    /// Distinct `phase` values of proportional pools; column `phase_cost_<i>`.
    phases: Vec<String>,
}

impl<'a> Query<'a> {
    fn new(s: &'a SqlSettings, tagger: &'a TagNormaliser, rules: &'a RuleSet) -> Query<'a> {
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

    fn key_col(&self, key: &str) -> String {
        let i = self.keys.iter().position(|k| k == key).unwrap_or(0);
        format!("tag_{i}")
    }

    fn render(&self) -> String {
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
        let mut out = String::new();
        out.push_str(&format!(
            "-- mlcost {} attribution query ({} dialect), cost basis `{}`.\n",
            env!("CARGO_PKG_VERSION"),
            d.name(),
            self.s.basis.name()
        ));
        out.push_str(
            "-- Produces the rows of cost_by_model; generated by `mlcost sql`, do not edit.\n",
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
        out.push_str(&self.final_select());
        out
    }

    fn billing_rows(&self) -> String {
        let d = self.d;
        let money = |c: &str| d.try_cast(&format!("TRIM({})", d.as_text(&d.ident(c))), d.money());
        let mut cols: Vec<String> = FOCUS_COLUMNS
            .iter()
            .map(|(canonical, focus)| format!("{} AS {canonical}", d.as_text(&d.ident(focus))))
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

    fn lines(&self) -> String {
        let dims: Vec<&str> = FOCUS_COLUMNS.iter().map(|(c, _)| *c).collect();
        format!(
            "  SELECT {dims}, prepaid,\n    SUM(cost) AS cost, COUNT(*) AS source_rows\n  FROM billing_rows\n  WHERE cost IS NOT NULL\n  GROUP BY {dims}, prepaid",
            dims = dims.join(", ")
        )
    }

    /// YYYY-MM of a period text, as `ledger::billing_period` reads it; NULL when it is not one.
    fn period_expr(&self, t: &str) -> String {
        let d = self.d;
        let date = |e: &str| d.try_cast(e, "DATE");
        let m = d.split_part(t, "/", 1);
        let day = d.split_part(t, "/", 2);
        let y = format!("SUBSTR({}, 1, 4)", d.split_part(t, "/", 3));
        let us = format!("{y} || '-' || LPAD({m}, 2, '0')");
        format!(
            "CASE\n      WHEN {iso} THEN CASE WHEN {iso_date} IS NOT NULL THEN SUBSTR({t}, 1, 7) END\n      WHEN {ym} THEN {t}\n      WHEN {compact} THEN SUBSTR({t}, 1, 4) || '-' || SUBSTR({t}, 5, 2)\n      WHEN {us_re} THEN CASE WHEN {us_date} IS NOT NULL THEN {us} END\n    END",
            iso = d.regex(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?$"),
            iso_date = date(&format!("SUBSTR({t}, 1, 10)")),
            ym = d.regex(t, "^[0-9]{4}-(0[1-9]|1[0-2])$"),
            compact = d.regex(t, "^[0-9]{4}(0[1-9]|1[0-2])$"),
            us_re = d.regex(t, "^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}([ T].*)?$"),
            us_date = date(&format!("{us} || '-' || LPAD({day}, 2, '0')")),
        )
    }

    fn counted(&self) -> String {
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
            "  SELECT * FROM (\n    SELECT\n    {period} AS billing_period,\n    {currency} AS currency,\n    {dims}, prepaid, cost, source_rows\n    FROM lines\n  ) l\n  WHERE {filters}",
            period = self.period_expr("TRIM(billing_period_start)"),
            dims = dims.join(", "),
            filters = filters.join("\n    AND "),
        )
    }

    fn p10(&self) -> String {
        (0..=SCALE)
            .map(|n| format!("  SELECT {n} AS n, {} AS v", self.d.int_lit(10i128.pow(n))))
            .collect::<Vec<_>>()
            .join("\n  UNION ALL\n")
    }

    /// Decimal places an amount uses (0 to 18), like `allocate::places`.
    fn places(&self, x: &str) -> String {
        let whens: Vec<String> = (0..SCALE)
            .map(|k| format!("WHEN {x} = ROUND({x}, {k}) THEN {k}"))
            .collect();
        format!("CASE {} ELSE {SCALE} END", whens.join(" "))
    }

    fn input_precision(&self) -> String {
        format!(
            "  SELECT c.currency, c.p, pp.v AS pow_p, pr.v AS pow_rest\n  FROM (SELECT currency, MAX({}) AS p FROM counted GROUP BY currency) c\n  JOIN p10 pp ON pp.n = c.p\n  JOIN p10 pr ON pr.n = {SCALE} - c.p",
            self.places("cost")
        )
    }

    fn tag_texts(&self) -> String {
        let d = self.d;
        let j = "CASE WHEN SUBSTR(TRIM(tags), 1, 1) = '{' THEN TRIM(tags) ELSE '{' || TRIM(tags) || '}' END";
        format!(
            "  SELECT tags, {} AS j\n  FROM (SELECT DISTINCT tags FROM counted WHERE tags IS NOT NULL AND TRIM(tags) <> '') x",
            d.json_object_or_null(&format!("({j})"))
        )
    }

    /// `tags::TagNormaliser::value` in SQL.
    fn value_expr(&self, v: &str) -> String {
        if self.tagger.lowercases_values() {
            format!("LOWER(TRIM({v}))")
        } else {
            format!("TRIM({v})")
        }
    }

    fn tag_pairs(&self) -> String {
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
    fn alias_pairs(&self) -> Vec<(String, String)> {
        self.tagger
            .aliases()
            .iter()
            .filter(|(from, to)| from != to)
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect()
    }

    fn tag_sets(&self) -> String {
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

    /// A matcher as a SQL condition over dimension columns and tag columns `{prefix}tag_<i>`.
    fn matcher(&self, m: &Matcher, prefix: &str) -> String {
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

    fn ruled(&self) -> String {
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

    fn classified(&self) -> String {
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
            "WHEN COALESCE(LOWER(TRIM(commitment_discount_status)) = 'unused', FALSE) THEN {UNUSED_BUCKET}"
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
    fn by_rule(&self, f: impl Fn(usize, &rules::Rule) -> Option<String>, default: &str) -> String {
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

    fn models(&self) -> String {
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

    fn model_team(&self) -> String {
        format!(
            "  SELECT billing_period, currency, model_id, team FROM (\n    SELECT billing_period, currency, model_id, team,\n      ROW_NUMBER() OVER (PARTITION BY billing_period, currency, model_id ORDER BY ABS(cost) DESC, team) AS rn\n    FROM (\n      SELECT billing_period, currency, a_{} AS model_id, team, SUM(cost) AS cost\n      FROM classified WHERE bucket_no IS NULL\n      GROUP BY billing_period, currency, a_{}, team\n    ) t\n  ) x\n  WHERE rn = 1",
            self.key_col(MODEL_ID),
            self.key_col(MODEL_ID)
        )
    }

    fn requests(&self) -> String {
        let d = self.d;
        let table = self.s.requests_table.as_deref().unwrap_or_default();
        format!(
            "  SELECT billing_period, model_id, SUM(n) AS requests FROM (\n    SELECT {period} AS billing_period, NULLIF({model}, '') AS model_id, n\n    FROM (\n      SELECT TRIM({date}) AS t, {mid} AS m,\n        {n} AS n\n      FROM {table}\n    ) r\n  ) x\n  WHERE billing_period IS NOT NULL AND model_id IS NOT NULL AND n >= 0 AND n = ROUND(n, 0)\n  GROUP BY billing_period, model_id",
            period = self.period_expr("t"),
            model = self.value_expr("m"),
            date = d.as_text(&d.ident("date")),
            mid = d.as_text(&d.ident("model_id")),
            n = d.try_cast(&format!("TRIM({})", d.as_text(&d.ident("requests"))), d.money()),
            table = d.table(table),
        )
    }

    /// The weight rows of one bucket: `(bucket_no, billing_period, currency, model_id,
    /// fixed_pos, w)`; None when the bucket is kept whole.
    fn bucket_weights(
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
            SplitMethod::Driver => return None,
        };
        conds.push(format!("{w} > 0"));
        Some(format!(
            "SELECT {bucket} AS bucket_no, m.billing_period, m.currency, m.model_id, CAST(NULL AS INT) AS fixed_pos, {w} AS w\n  FROM {from}\n  WHERE {}",
            conds.join(" AND ")
        ))
    }

    fn weights(&self) -> String {
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

    fn weight_units(&self) -> String {
        let d = self.d;
        format!(
            "  SELECT w.bucket_no, w.billing_period, w.currency, w.model_id, w.fixed_pos, w.wu,\n    SUM(w.wu) OVER (PARTITION BY w.bucket_no, w.billing_period, w.currency) AS wsum\n  FROM (\n    SELECT x.*, {units} AS wu\n    FROM (\n      SELECT weights.*, MAX({places}) OVER (PARTITION BY bucket_no, billing_period, currency) AS dw\n      FROM weights\n    ) x\n    JOIN p10 pp ON pp.n = x.dw\n    JOIN p10 pr ON pr.n = {SCALE} - x.dw\n  ) w",
            units = d.money_to_units("x.w", "pp.v", "pr.v"),
            places = self.places("w"),
        )
    }

    fn entries(&self) -> String {
        format!(
            "  SELECT bucket_no, billing_period, currency, team, lifecycle_phase,\n    CASE WHEN bucket_no = {UNALLOCATED_BUCKET} THEN rule_id END AS rule_id,\n    SUM(cost) AS cost, SUM(source_rows) AS source_rows\n  FROM classified\n  WHERE bucket_no IS NOT NULL\n  GROUP BY bucket_no, billing_period, currency, team, lifecycle_phase,\n    CASE WHEN bucket_no = {UNALLOCATED_BUCKET} THEN rule_id END"
        )
    }

    fn split_units(&self) -> String {
        let d = self.d;
        let a = "ABS(units) * wu";
        format!(
            "  SELECT s.*,\n    {r} AS r,\n    CASE WHEN units < 0 THEN -1 ELSE 1 END * {q} AS q,\n    {f} AS fraction_units\n  FROM (\n    SELECT e.*, w.model_id, w.fixed_pos, w.wu, w.wsum, ip.p,\n      {units} AS units\n    FROM entries e\n    JOIN weight_units w ON w.bucket_no = e.bucket_no AND w.billing_period = e.billing_period AND w.currency = e.currency\n    JOIN input_precision ip ON ip.currency = e.currency\n  ) s",
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

    fn split_ranked(&self) -> String {
        let entry =
            "PARTITION BY bucket_no, billing_period, currency, team, lifecycle_phase, rule_id";
        format!(
            "  SELECT s.*,\n    units - SUM(q) OVER ({entry}) AS missing,\n    ROW_NUMBER() OVER ({entry} ORDER BY r DESC, fixed_pos, model_id) AS rk\n  FROM split_units s"
        )
    }

    fn allocated(&self) -> String {
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

    fn final_select(&self) -> String {
        let d = self.d;
        format!(
            "SELECT billing_period, model_id, team, lifecycle_phase,\n  SUM(cost) AS cost, currency, allocation_method, rule_id, source_pool, share,\n  {basis} AS cost_basis, CAST(SUM(source_rows) AS {bigint}) AS source_rows\nFROM allocated\nGROUP BY billing_period, currency, model_id, team, lifecycle_phase, allocation_method, rule_id, source_pool, share\nORDER BY billing_period, currency, model_id, team, lifecycle_phase, allocation_method,\n  rule_id NULLS FIRST, source_pool NULLS FIRST, share NULLS FIRST\n",
            basis = d.lit(self.s.basis.name()),
            bigint = d.bigint(),
        )
    }
}

/// A glob with only `*` and `?` as a LIKE pattern (escape `\`); None when it has a `[...]`
/// class, which LIKE cannot say.
/// Config text (a rule or pool id, a tag key) made safe for a `--` comment: a line break
/// would end the comment and let the rest of the text run as SQL.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn glob_to_like(glob: &str) -> Option<String> {
    if glob.contains('[') {
        return None;
    }
    let mut out = String::new();
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// A glob (`*`, `?`, `[...]`, `[!...]`) as an anchored regex that RE2 and Java both read.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^(?s)");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    let escape = |c: char, out: &mut String| {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    };
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                // glob::Pattern validated the class: it is closed, `!` negates, and a `]`
                // right after the opening (or the `!`) is a literal
                let mut j = i + 1;
                out.push('[');
                if chars.get(j) == Some(&'!') {
                    out.push('^');
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j] != ']' || j == start) {
                    let c = chars[j];
                    if c == '-' && j != start && chars.get(j + 1) != Some(&']') {
                        out.push('-');
                    } else {
                        escape(c, &mut out);
                    }
                    j += 1;
                }
                out.push(']');
                i = j;
            }
            c => escape(c, &mut out),
        }
        i += 1;
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_become_like_or_anchored_regex() {
        assert_eq!(glob_to_like("*feature-store*").unwrap(), "%feature-store%");
        assert_eq!(glob_to_like("a_b%?").unwrap(), "a\\_b\\%_");
        assert!(glob_to_like("ml-[ab]*").is_none());
        assert_eq!(glob_to_regex("ml-[ab]*"), "^(?s)ml\\-[ab].*$");
        assert_eq!(glob_to_regex("x[!0-9]?.y"), "^(?s)x[^0-9].\\.y$");
        let re = regex::Regex::new(&glob_to_regex("a[]x]*")).unwrap();
        assert!(re.is_match("a]bc") && re.is_match("axbc") && !re.is_match("abc"));
    }

    fn sample_query(dialect: Dialect) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/mlcost.toml");
        let loaded = LoadedConfig::load(Some(&path)).unwrap();
        let settings = SqlSettings {
            dialect,
            billing_table: "focus_billing".into(),
            requests_table: None,
            basis: loaded.config.cost.basis,
            period: None,
        };
        attribution_query(&loaded, &settings)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
    }

    /// The emitted SQL for the sample config, per dialect: a change to it is reviewed here.
    #[test]
    fn sample_config_sql_per_dialect() {
        for d in [
            Dialect::DuckDb,
            Dialect::Spark,
            Dialect::Trino,
            Dialect::BigQuery,
        ] {
            insta::assert_snapshot!(format!("sample_{}", d.name()), sample_query(d));
        }
    }

    #[test]
    fn refuses_driver_amortisation_and_requests_without_a_table() {
        let loaded = |text: &str| LoadedConfig {
            config: crate::config::parse(text, std::path::Path::new("m.toml")).unwrap(),
            path: None,
            hash: String::new(),
            text: text.into(),
        };
        let settings = SqlSettings {
            dialect: Dialect::DuckDb,
            billing_table: "b".into(),
            requests_table: None,
            basis: CostBasis::Effective,
            period: None,
        };
        let c = loaded("[amortize]\ntraining_months = 3\n");
        let e = attribution_query(&c, &settings).unwrap_err().to_string();
        assert!(e.contains("training_months` (line 1)"), "{e}");
        let c = loaded(
            "[[shared]]\nid = \"x\"\nmatch = { service_name = \"S\" }\nmethod = \"requests\"\n",
        );
        assert!(attribution_query(&c, &settings).is_err());
        let with_table = SqlSettings {
            requests_table: Some("r".into()),
            ..settings
        };
        let q = attribution_query(&c, &with_table).unwrap();
        assert!(q.contains("FROM \"r\""), "{q}");
    }

    #[test]
    fn literals_are_escaped_per_dialect() {
        assert_eq!(Dialect::DuckDb.lit("it's \\"), "'it''s \\'");
        assert_eq!(Dialect::Spark.lit("it's \\"), "'it\\'s \\\\'");
        assert_eq!(Dialect::Trino.ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::BigQuery.table("p.d.t"), "`p`.`d`.`t`");
    }

    #[test]
    fn config_text_cannot_leave_a_comment() {
        assert_eq!(
            comment_text("x\nUNION ALL SELECT secret FROM t --"),
            "x UNION ALL SELECT secret FROM t --"
        );
        assert_eq!(comment_text("gpu_bucket_no"), "gpu_bucket_no");
    }
}
