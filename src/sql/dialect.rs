//! The SQL dialects: how each engine spells what the query needs (JSON, regex, types, casts).

use super::*;

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

/// The code points Rust's `char::is_whitespace` (Unicode White_Space) takes, which
/// `str::trim` removes; `Dialect::trim` removes them too.
pub(super) const WHITE_SPACE: [u32; 25] = [
    0x20, 0x9, 0xa, 0xb, 0xc, 0xd, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
    0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Trino => "trino",
            Dialect::BigQuery => "bigquery",
        }
    }

    pub(super) fn ident(self, name: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::BigQuery => format!("`{}`", name.replace('`', "\\`")),
        }
    }

    /// A possibly qualified table name, each part quoted.
    pub(super) fn table(self, name: &str) -> String {
        name.split('.')
            .map(|p| self.ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A string literal. Spark and BigQuery read backslash escapes in literals; DuckDB and
    /// Trino follow the standard (only the quote is doubled).
    pub(super) fn lit(self, s: &str) -> String {
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

    pub(super) fn text(self) -> &'static str {
        match self {
            Dialect::DuckDb | Dialect::Trino => "VARCHAR",
            Dialect::Spark | Dialect::BigQuery => "STRING",
        }
    }

    /// Exact money: decimal(38, 18), or BIGNUMERIC (NUMERIC has only 9 decimals).
    pub(super) fn money(self) -> &'static str {
        match self {
            Dialect::BigQuery => "BIGNUMERIC",
            _ => "DECIMAL(38, 18)",
        }
    }

    /// Exact integers of up to 38 digits (counts of the rounding quantum).
    pub(super) fn int(self) -> &'static str {
        match self {
            Dialect::DuckDb => "HUGEINT",
            Dialect::Spark | Dialect::Trino => "DECIMAL(38, 0)",
            Dialect::BigQuery => "BIGNUMERIC",
        }
    }

    pub(super) fn bigint(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    pub(super) fn try_cast(self, e: &str, ty: &str) -> String {
        match self {
            Dialect::BigQuery => format!("SAFE_CAST({e} AS {ty})"),
            _ => format!("TRY_CAST({e} AS {ty})"),
        }
    }

    pub(super) fn as_text(self, e: &str) -> String {
        format!("CAST({e} AS {})", self.text())
    }

    /// A period column as text that keeps its instant whatever the session's time zone: a
    /// zoned timestamp with its offset (DuckDB, BigQuery and Trino render one; Spark's
    /// `TIMESTAMP` is formatted with it), anything else (text, a date, a timestamp without
    /// zone, read as UTC) as it is.
    pub(super) fn instant_text(self, e: &str) -> String {
        match self {
            Dialect::Spark => format!(
                "CASE WHEN typeof({e}) = 'timestamp' THEN date_format({e}, {}) ELSE {} END",
                // XXXXX: the offset's seconds too (a zone's local mean time before 1900 has them)
                self.lit("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXXXX"),
                self.as_text(e)
            ),
            _ => self.as_text(e),
        }
    }

    /// A Tags column of type `ty` as JSON object text.
    pub(super) fn tags_text(self, e: &str, ty: TagsColumn) -> String {
        match (ty, self) {
            (TagsColumn::Json, _) => self.as_text(e),
            (_, Dialect::DuckDb) => format!("CAST(to_json({e}) AS VARCHAR)"),
            (_, Dialect::Spark) => format!("to_json({e})"),
            (_, Dialect::Trino) => format!("json_format(CAST({e} AS JSON))"),
            (TagsColumn::Struct, Dialect::BigQuery) => format!("TO_JSON_STRING({e})"),
            // BigQuery has no map type: labels are an array of key/value structs
            (TagsColumn::Map, Dialect::BigQuery) => format!(
                "(SELECT '{{' || STRING_AGG(TO_JSON_STRING(kv.key) || ':' || TO_JSON_STRING(kv.value), ',') || '}}' FROM UNNEST({e}) AS kv)"
            ),
        }
    }

    /// `e` without leading and trailing white space as Rust's `str::trim` sees it (Unicode
    /// White_Space: tabs, line breaks, no-break and em spaces, ...), not only spaces. The
    /// characters are written by their code points, so no line break or control character
    /// sits in the SQL text.
    pub(super) fn trim(self, e: &str) -> String {
        let codes: Vec<String> = WHITE_SPACE.iter().map(u32::to_string).collect();
        let chars = match self {
            Dialect::BigQuery => format!("CODE_POINTS_TO_STRING([{}])", codes.join(", ")),
            Dialect::DuckDb | Dialect::Trino => codes
                .iter()
                .map(|c| format!("chr({c})"))
                .collect::<Vec<_>>()
                .join(" || "),
            // Spark's chr takes only 0-255: chr() for the control characters, the other
            // spaces as they are
            Dialect::Spark => {
                let (controls, spaces): (Vec<u32>, Vec<u32>) = WHITE_SPACE
                    .iter()
                    .partition(|c| char::from_u32(**c).is_some_and(char::is_control));
                let spaces: String = spaces.into_iter().filter_map(char::from_u32).collect();
                controls
                    .iter()
                    .map(|c| format!("chr({c})"))
                    .chain([self.lit(&spaces)])
                    .collect::<Vec<_>>()
                    .join(" || ")
            }
        };
        match self {
            Dialect::Spark => format!("TRIM(BOTH {chars} FROM {e})"),
            _ => format!("TRIM({e}, {chars})"),
        }
    }

    pub(super) fn int_lit(self, n: i128) -> String {
        format!("CAST({} AS {})", self.lit(&n.to_string()), self.int())
    }

    pub(super) fn money_lit(self, m: Money) -> String {
        format!("CAST({} AS {})", self.lit(&m.to_string()), self.money())
    }

    /// Unanchored regex search, like Rust's `Regex::is_match`.
    pub(super) fn regex(self, v: &str, re: &str) -> String {
        let re = self.lit(re);
        match self {
            Dialect::DuckDb => format!("regexp_matches({v}, {re})"),
            Dialect::Spark => format!("({v} RLIKE {re})"),
            Dialect::Trino => format!("regexp_like({v}, {re})"),
            Dialect::BigQuery => format!("REGEXP_CONTAINS({v}, {re})"),
        }
    }

    /// LIKE with `\` as the escape character (the default in Spark and BigQuery).
    pub(super) fn like(self, v: &str, pattern: &str) -> String {
        let p = self.lit(pattern);
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("{v} LIKE {p} ESCAPE '\\'"),
            Dialect::Spark | Dialect::BigQuery => format!("{v} LIKE {p}"),
        }
    }

    /// `a / b` for non-negative integers where `b` divides `a` exactly.
    pub(super) fn int_div_exact(self, a: &str, b: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({a}) // ({b})"),
            // Spark types the quotient decimal(38, 6): exact, since it is a whole number
            Dialect::Spark => format!("CAST(({a}) / ({b}) AS DECIMAL(38, 0))"),
            Dialect::Trino => format!("({a}) / ({b})"),
            Dialect::BigQuery => format!("DIV({a}, {b})"),
        }
    }

    pub(super) fn int_mod(self, a: &str, b: &str) -> String {
        match self {
            Dialect::BigQuery => format!("MOD({a}, {b})"),
            _ => format!("({a}) % ({b})"),
        }
    }

    /// `x * 10^p` as an integer, for an amount `x` with at most `p` decimals; `pow_p` is 10^p
    /// and `pow_rest` 10^(18 - p), both integers. DuckDB and Trino would overflow a
    /// decimal(38, 18) product, so they go through the exact text of the amount.
    pub(super) fn money_to_units(self, x: &str, pow_p: &str, pow_rest: &str) -> String {
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
    pub(super) fn units_to_money(self, n: &str, p: &str) -> String {
        let digits = self.as_text(&format!("ABS({n})"));
        let padded =
            format!("LPAD({digits}, CAST(GREATEST(LENGTH({digits}), {p} + 1) AS INT), '0')");
        format!(
            "CAST(CASE WHEN {n} < 0 THEN '-' ELSE '' END || SUBSTR({padded}, 1, LENGTH({padded}) - {p}) || '.' || SUBSTR({padded}, LENGTH({padded}) - {p} + 1) || '0' AS {})",
            self.money()
        )
    }

    /// Group `n` of `re` in `s`: '' or NULL when the group took no part or `re` does not
    /// match (check it first).
    pub(super) fn regex_group(self, s: &str, re: &str, n: usize) -> String {
        let re = self.lit(re);
        match self {
            Dialect::DuckDb | Dialect::Spark | Dialect::Trino => {
                format!("regexp_extract({s}, {re}, {n})")
            }
            // BigQuery's REGEXP_EXTRACT takes no group number: the pattern matches all of `s`
            Dialect::BigQuery => {
                format!("REGEXP_REPLACE({s}, {re}, {})", self.lit(&format!("\\{n}")))
            }
        }
    }

    /// `YYYY-MM` of `date` (a DATE) moved by `days` (an integer).
    pub(super) fn month_after_days(self, date: &str, days: &str) -> String {
        match self {
            Dialect::DuckDb => format!("strftime({date} + CAST({days} AS INTEGER), '%Y-%m')"),
            Dialect::Spark => {
                format!("date_format(date_add({date}, CAST({days} AS INT)), 'yyyy-MM')")
            }
            Dialect::Trino => {
                format!("date_format(date_add('day', {days}, {date}), '%Y-%m')")
            }
            Dialect::BigQuery => {
                format!("FORMAT_DATE('%Y-%m', DATE_ADD({date}, INTERVAL {days} DAY))")
            }
        }
    }

    pub(super) fn split_part(self, s: &str, delim: &str, n: usize) -> String {
        match self {
            Dialect::BigQuery => format!("SPLIT({s}, '{delim}')[SAFE_OFFSET({})]", n - 1),
            _ => format!("split_part({s}, '{delim}', {n})"),
        }
    }

    /// Stops the query with a message (a null where a number must be means an overflow).
    pub(super) fn fail(self, message: &str) -> String {
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
    pub(super) fn tag_pairs(self) -> String {
        match self {
            Dialect::DuckDb => "SELECT t.tags, e.key AS tag_key,\n    CASE WHEN e.type IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(e.value, '$') END AS tag_value,\n    e.type IN ('OBJECT', 'ARRAY') AS nested\n  FROM tag_texts t, json_each(t.j) e".into(),
            // values as variants (Spark 4): an object or array is told from a text like "[beta]"
            Dialect::Spark => "SELECT tags, tag_key, CASE WHEN NOT nested THEN variant_get(v, '$', 'string') END AS tag_value, nested\n  FROM (\n    SELECT t.tags, e.tag_key, e.v,\n      (schema_of_variant(e.v) LIKE 'OBJECT%' OR schema_of_variant(e.v) LIKE 'ARRAY%') AS nested\n    FROM tag_texts t\n    LATERAL VIEW explode(from_json(t.j, 'map<string,variant>')) e AS tag_key, v\n  ) kv".into(),
            // keys then values by key (not UNNEST of the map), so sqlglot can carry it to DuckDB
            Dialect::Trino => "SELECT tags, tag_key, CASE WHEN NOT nested THEN json_extract_scalar(v, '$') END AS tag_value, nested\n  FROM (\n    SELECT t.tags, k AS tag_key, t.m[k] AS v,\n      (json_format(t.m[k]) LIKE '{%' OR json_format(t.m[k]) LIKE '[%') AS nested\n    FROM (SELECT tags, TRY(CAST(json_parse(j) AS MAP(VARCHAR, JSON))) AS m FROM tag_texts) t\n    CROSS JOIN UNNEST(map_keys(t.m)) AS e(k)\n  ) kv".into(),
            Dialect::BigQuery => "SELECT t.tags, k AS tag_key, JSON_VALUE(PARSE_JSON(t.j)[k]) AS tag_value,\n    JSON_TYPE(PARSE_JSON(t.j)[k]) IN ('object', 'array') AS nested\n  FROM tag_texts t, UNNEST(JSON_KEYS(SAFE.PARSE_JSON(t.j), 1)) AS k".into(),
        }
    }

    /// Whether the text `j` of `tag_texts` is a JSON object (what `tags::parse_pairs` reads;
    /// its values are checked apart).
    pub(super) fn is_json_object(self, j: &str) -> String {
        match self {
            // `json_object_or_null` has made anything else NULL
            Dialect::DuckDb => format!("{j} IS NOT NULL"),
            Dialect::Spark => format!("from_json({j}, 'map<string,variant>') IS NOT NULL"),
            Dialect::Trino => {
                format!("TRY(CAST(json_parse({j}) AS MAP(VARCHAR, JSON))) IS NOT NULL")
            }
            Dialect::BigQuery => {
                format!("COALESCE(JSON_TYPE(SAFE.PARSE_JSON({j})) = 'object', FALSE)")
            }
        }
    }

    /// `j` when it is a JSON object, else NULL (so invalid tag text gives no pairs).
    pub(super) fn json_object_or_null(self, j: &str) -> String {
        match self {
            Dialect::DuckDb => format!(
                "CASE WHEN json_valid({j}) THEN CASE WHEN json_type({j}) = 'OBJECT' THEN {j} END END"
            ),
            // from_json, TRY(json_parse) and SAFE.PARSE_JSON give no pairs for invalid text
            _ => j.to_string(),
        }
    }
}
