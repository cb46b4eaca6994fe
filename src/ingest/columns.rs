//! Shared adapter machinery: finding source columns by a normalised name (case, separators,
//! BOM and localised `Name (EnglishName)` headers do not matter), and `Canonical`, the
//! declarative mapping an adapter fills in (one expression per canonical column) and turns
//! into `NormalisedLines`. Adapters say what maps where; this module does the plumbing.

use std::collections::HashMap;

use polars::prelude::*;

use super::parquet_direct::{CurColumns, DirectColumns};
use super::{money_expr, NormalisedLines, ROW_NUMBER};
use crate::config::CostBasis;
use crate::money::{PRECISION, SCALE};
use crate::schema::line;

/// Normalised header: BOM dropped, the text inside a trailing `(...)` when present (Azure's
/// localised headers), lower-cased, only letters and digits kept. `lineItem/UnblendedCost`,
/// `line_item_unblended_cost` and `lineitem_unblendedcost` all become `lineitemunblendedcost`.
pub fn norm_key(name: &str) -> String {
    let n = name.trim_start_matches('\u{feff}').trim();
    let n = match (n.rfind('('), n.ends_with(')')) {
        (Some(i), true) if i > 0 => &n[i + 1..n.len() - 1],
        _ => n,
    };
    n.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The columns of one source file, looked up by normalised name.
pub struct Columns<'a> {
    pub schema: &'a Schema,
    by_key: HashMap<String, String>,
}

impl<'a> Columns<'a> {
    pub fn new(schema: &'a Schema) -> Columns<'a> {
        let mut by_key = HashMap::new();
        for name in schema.iter_names() {
            // first spelling wins when two headers normalise alike
            by_key
                .entry(norm_key(name))
                .or_insert_with(|| name.to_string());
        }
        Columns { schema, by_key }
    }

    /// The actual name of the first of `names` present.
    pub fn find(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.by_key.get(&norm_key(n)).cloned())
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(&[name]).is_some()
    }

    pub fn dtype(&self, actual: &str) -> Option<&DataType> {
        self.schema.get(actual)
    }

    /// Which entries of `required` (each a list of alternative names) are missing, named by
    /// their first alternative.
    pub fn missing(&self, required: &[&[&str]]) -> Vec<String> {
        required
            .iter()
            .filter(|alts| self.find(alts).is_none())
            .map(|alts| alts[0].to_string())
            .collect()
    }

    /// Actual names of all columns whose raw name starts with `prefix` (case-insensitive).
    pub fn with_prefix(&self, prefix: &str) -> Vec<String> {
        let p = prefix.to_lowercase();
        self.schema
            .iter_names()
            .filter(|n| n.to_lowercase().starts_with(&p))
            .map(|n| n.to_string())
            .collect()
    }
}

/// A source column as text (datetimes stay native; `text_values` renders them later).
pub fn text(cols: &Columns, actual: &str) -> Expr {
    match cols.dtype(actual) {
        Some(DataType::String) | Some(DataType::Datetime(_, _)) | Some(DataType::Date) => {
            col(actual)
        }
        _ => col(actual).cast(DataType::String),
    }
}

/// A null decimal(38,18) literal.
pub fn null_money() -> Expr {
    lit(NULL).cast(DataType::Decimal(PRECISION, SCALE as usize))
}

/// A zero decimal(38,18) literal.
pub fn zero_money() -> Expr {
    lit(0i32).cast(DataType::Decimal(PRECISION, SCALE as usize))
}

fn null_text() -> Expr {
    lit(NULL).cast(DataType::String)
}

/// What an adapter declares: an expression per canonical dimension, a (parsed, raw)
/// expression pair per cost basis it supports, and how it recognised the file.
pub struct Canonical {
    pub format: &'static str,
    pub version: String,
    dims: Vec<(&'static str, Expr)>,
    costs: Vec<(&'static str, Expr, Expr)>,
    pub columns_used: Vec<(String, String)>,
    /// Facts a user should see in the summary (e.g. "aggregates without resource ids").
    pub notes: Vec<String>,
    /// Source column of each canonical column mapped as it is (`dim_from`, `cost_from`).
    direct: DirectColumns,
    /// Set when any canonical column is a computed expression: the file then has no direct
    /// mapping and only the Polars path can read it.
    computed: bool,
}

impl Canonical {
    pub fn new(format: &'static str, version: impl Into<String>) -> Canonical {
        Canonical {
            format,
            version: version.into(),
            dims: Vec::new(),
            costs: Vec::new(),
            columns_used: Vec::new(),
            notes: Vec::new(),
            direct: DirectColumns::default(),
            computed: false,
        }
    }

    /// Maps a canonical dimension to an expression.
    pub fn dim(&mut self, canonical: &'static str, expr: Expr) -> &mut Self {
        self.computed = true;
        self.dims.push((canonical, expr));
        self
    }

    /// Maps a canonical dimension to `expr`, computed from the one source column `source` in
    /// a way the Parquet fast path reproduces (a map or struct of tags as JSON text), so the
    /// file keeps its direct mapping.
    pub fn dim_of(&mut self, canonical: &'static str, expr: Expr, source: String) -> &mut Self {
        self.dims.push((canonical, expr));
        if let Some(i) = line::DIMENSIONS.iter().position(|d| *d == canonical) {
            self.direct.dims[i] = Some(source);
        }
        self
    }

    /// Maps a canonical dimension to the first present source column, as text.
    pub fn dim_from(
        &mut self,
        cols: &Columns,
        canonical: &'static str,
        names: &[&str],
    ) -> &mut Self {
        if let Some(actual) = cols.find(names) {
            self.columns_used
                .push((canonical.to_string(), actual.clone()));
            let e = text(cols, &actual);
            self.dims.push((canonical, e));
            if let Some(i) = line::DIMENSIONS.iter().position(|d| *d == canonical) {
                self.direct.dims[i] = Some(actual);
            }
        }
        self
    }

    /// Maps a canonical cost to an already-parsed decimal expression and the raw expression
    /// whose emptiness means "missing" (for quarantine reasons).
    pub fn cost(&mut self, canonical: &'static str, parsed: Expr, raw: Expr) -> &mut Self {
        self.computed = true;
        self.costs.push((canonical, parsed, raw));
        self
    }

    /// Maps a canonical cost to the first present source column, parsed exactly.
    pub fn cost_from(
        &mut self,
        cols: &Columns,
        canonical: &'static str,
        names: &[&str],
    ) -> &mut Self {
        if let Some(actual) = cols.find(names) {
            self.columns_used
                .push((canonical.to_string(), actual.clone()));
            self.costs.push((
                canonical,
                money_expr(col(actual.as_str())),
                col(actual.as_str()),
            ));
            if let Some(i) = line::COSTS.iter().position(|c| *c == canonical) {
                self.direct.costs[i] = Some(actual);
            }
        }
        self
    }

    /// Unmaps a canonical dimension (the charge period on a monthly run: a column not read
    /// is a column not grouped by).
    pub fn forget(&mut self, canonical: &'static str) {
        self.dims.retain(|(c, _)| *c != canonical);
        self.columns_used.retain(|(c, _)| c != canonical);
        if let Some(i) = line::DIMENSIONS.iter().position(|d| *d == canonical) {
            self.direct.dims[i] = None;
        }
    }

    /// Maps the expression of a canonical dimension through `f` (the Parquet fast path derives
    /// the same from the source column: see `parquet_direct::cur::Derive`).
    pub fn map_dim(&mut self, canonical: &'static str, f: impl Fn(Expr) -> Expr) {
        for (c, e) in &mut self.dims {
            if *c == canonical {
                *e = f(e.clone());
            }
        }
    }

    /// Says that the Parquet fast path evaluates this mapping's computed columns itself (the
    /// AWS CUR mapping, `parquet_direct::cur`), so the file keeps a direct mapping.
    pub fn evaluated_by_fast_path(&mut self, cur: CurColumns) {
        self.direct.cur = Some(cur);
        self.computed = false;
    }

    /// The canonical cost columns this mapping fills.
    pub fn supports(&self, basis: CostBasis) -> bool {
        let want = super::cost_column(basis);
        self.costs.iter().any(|(c, _, _)| *c == want)
    }

    /// Selects the canonical columns (nulls for the unmapped ones) in the fixed order of
    /// `schema::line`, keeping the row-number column when asked.
    pub fn into_lines(self, lf: LazyFrame, row_numbers: bool) -> NormalisedLines {
        let mut exprs = Vec::new();
        if row_numbers {
            exprs.push(col(ROW_NUMBER));
        }
        for d in line::DIMENSIONS {
            let e = self
                .dims
                .iter()
                .find(|(c, _)| *c == d)
                .map(|(_, e)| e.clone())
                .unwrap_or_else(null_text);
            exprs.push(e.alias(d));
        }
        for c in line::COSTS {
            let (parsed, raw) = self
                .costs
                .iter()
                .find(|(name, _, _)| *name == c)
                .map(|(_, p, r)| (p.clone(), r.clone().cast(DataType::String)))
                .unwrap_or_else(|| (null_money(), null_text()));
            exprs.push(parsed.alias(c));
            exprs.push(raw.alias(format!("{c}__raw")));
        }
        NormalisedLines {
            needed: leaf_columns(&exprs),
            lf: lf.select(exprs),
            format: self.format.to_string(),
            format_version: self.version,
            columns_used: self.columns_used,
            notes: self.notes,
            direct: (!self.computed).then_some(self.direct),
            charge_days: false,
        }
    }
}

/// The source columns `exprs` read (the CSV projection), `ROW_NUMBER` aside; None when an
/// expression selects columns other than by name, so that all must be read.
fn leaf_columns(exprs: &[Expr]) -> Option<Vec<String>> {
    let mut needed: Vec<String> = Vec::new();
    for e in exprs {
        for node in e {
            match node {
                Expr::Column(name) => {
                    let name = name.to_string();
                    if name != ROW_NUMBER && !needed.contains(&name) {
                        needed.push(name);
                    }
                }
                Expr::Selector(_) => return None,
                _ => {}
            }
        }
    }
    Some(needed)
}

/// Builds `{"key": value, ...}` JSON text per row from several tag columns (one column per
/// key, as CUR 1 and OCI export them); empty values are left out, no tags gives null.
pub fn tag_columns_expr(columns: &[(String, String)]) -> Expr {
    if columns.is_empty() {
        return null_text();
    }
    let fields: Vec<Expr> = columns
        .iter()
        .enumerate()
        // fields named by position: two columns may give the same key (a struct cannot)
        .map(|(i, (actual, _))| {
            col(actual.as_str())
                .cast(DataType::String)
                .alias(format!("{i}"))
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|(_, key)| key.clone()).collect();
    as_struct(fields).map(
        move |c: Column| {
            use polars_core::utils::arrow::array::Array;
            let s = c.as_materialized_series();
            let st = s.struct_()?;
            let texts: Vec<StringChunked> = st
                .fields_as_series()
                .iter()
                .map(|f| f.str().cloned())
                .collect::<PolarsResult<_>>()?;
            // Each row's non-empty values in column order (a CUR has hundreds of tag columns,
            // most of them empty in most rows) as one flat list (`at[row]` its start): counted,
            // then placed, column by column over the valid cells only; then JSON text once per
            // distinct list of values.
            let mut at = vec![0usize; s.len() + 1];
            fn each<'a>(texts: &'a [StringChunked], visit: &mut dyn FnMut(usize, usize, &'a str)) {
                for (k, t) in texts.iter().enumerate() {
                    let mut start = 0;
                    for chunk in t.downcast_iter() {
                        let mut cell = |i: usize| {
                            // SAFETY: `i` < chunk.len(): from the chunk's validity or range
                            let v = unsafe { chunk.value_unchecked(i) }.trim();
                            if !v.is_empty() {
                                visit(start + i, k, v);
                            }
                        };
                        match chunk.validity() {
                            Some(valid) => valid.true_idx_iter().for_each(&mut cell),
                            None => (0..chunk.len()).for_each(&mut cell),
                        }
                        start += chunk.len();
                    }
                }
            }
            each(&texts, &mut |row, _, _| at[row + 1] += 1);
            for i in 0..s.len() {
                at[i + 1] += at[i];
            }
            let mut flat: Vec<(usize, &str)> = vec![(0, ""); at[s.len()]];
            let mut next = at.clone();
            each(&texts, &mut |row, k, v| {
                flat[next[row]] = (k, v);
                next[row] += 1;
            });
            let entries = (0..s.len()).map(|row| &flat[at[row]..at[row + 1]]);
            let mut distinct: HashMap<&[(usize, &str)], usize, foldhash::fast::FixedState> =
                HashMap::default();
            let mut objects: Vec<Option<String>> = vec![None];
            let index: Vec<usize> = entries
                .map(|e| match e.is_empty() {
                    true => 0,
                    false => *distinct.entry(e).or_insert_with(|| {
                        objects.push(super::tags_object(
                            e.iter().map(|(k, v)| (names[*k].clone(), v.to_string())),
                        ));
                        objects.len() - 1
                    }),
                })
                .collect();
            let out: StringChunked = index.iter().map(|i| objects[*i].as_deref()).collect();
            Ok(out.with_name(c.name().clone()).into_series().into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_names_match_across_spellings() {
        assert_eq!(norm_key("lineItem/UnblendedCost"), "lineitemunblendedcost");
        assert_eq!(
            norm_key("line_item_unblended_cost"),
            "lineitemunblendedcost"
        );
        assert_eq!(
            norm_key("reservation_reservation_a_r_n"),
            norm_key("reservation/ReservationARN")
        );
        assert_eq!(norm_key("\u{feff}BillingPeriodStart"), "billingperiodstart");
        assert_eq!(
            norm_key("Abonnement-GUID (SubscriptionGuid)"),
            "subscriptionguid"
        );
    }

    #[test]
    fn tag_columns_become_one_json_object() {
        let df = df!(
            "resourceTags/user:team" => [Some("recsys"), None, Some("")],
            "resourceTags/user:model_id" => [Some("ranker"), None, Some("x")],
        )
        .unwrap();
        let expr = tag_columns_expr(&[
            ("resourceTags/user:team".into(), "team".into()),
            ("resourceTags/user:model_id".into(), "model_id".into()),
        ]);
        let out = df.lazy().select([expr.alias("tags")]).collect().unwrap();
        let v: Vec<Option<&str>> = out.column("tags").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            v,
            [
                Some(r#"{"team":"recsys","model_id":"ranker"}"#),
                None,
                Some(r#"{"model_id":"x"}"#)
            ]
        );
    }

    #[test]
    fn tag_columns_across_chunks_repeated_keys_and_repeated_rows() {
        let part = |team: [Option<&str>; 3], model: [Option<&str>; 3], again: [Option<&str>; 3]| {
            df!("t" => team, "m" => model, "t2" => again).unwrap()
        };
        let mut df = part(
            [Some(" a "), None, Some("b")],
            [Some("m1"), Some("m1"), None],
            [None, None, Some("c")],
        );
        // a second chunk: the rows' positions continue across it
        df.vstack_mut(&part(
            [Some("a"), Some("  "), None],
            [Some("m1"), Some("m2"), None],
            [Some(" "), None, None],
        ))
        .unwrap();
        assert_eq!(df.column("t").unwrap().n_chunks(), 2);
        let expr = tag_columns_expr(&[
            ("t".into(), "team".into()),
            ("m".into(), "model_id".into()),
            ("t2".into(), "team".into()),
        ]);
        let out = df.lazy().select([expr.alias("tags")]).collect().unwrap();
        let v: Vec<Option<&str>> = out.column("tags").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            v,
            [
                Some(r#"{"team":"a","model_id":"m1"}"#),
                Some(r#"{"model_id":"m1"}"#),
                // the later column of a repeated key wins, in the first one's place
                // a key given by two columns keeps both values: a conflict when they differ
                Some(r#"{"team":"b","team":"c"}"#),
                Some(r#"{"team":"a","model_id":"m1"}"#),
                Some(r#"{"model_id":"m2"}"#),
                None,
            ]
        );
    }
}
