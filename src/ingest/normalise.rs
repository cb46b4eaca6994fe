//! From a raw scan to canonical line items: the billing formats mlcost reads, detecting a file's
//! format from its columns, handing the scan to that format's adapter, and the expressions the
//! adapters share (money parsed exactly from any column type, tags as JSON text, values as text).

use polars::prelude::*;

use super::{aws, azure, columns, cost_explorer, focus, gcp, oci, parquet_direct, RawScan};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::line;

/// A scan mapped to the canonical line-item columns of `schema::line` (text dimensions plus
/// decimal(38,18) costs). Produced by a format adapter.
pub struct NormalisedLines {
    pub lf: LazyFrame,
    /// Format name and version for the manifest, e.g. `focus` / `1.2`.
    pub format: String,
    pub format_version: String,
    /// Source column used for each canonical column that was present.
    pub columns_used: Vec<(String, String)>,
    /// Facts about the source a user should see in the summary.
    pub notes: Vec<String>,
    /// Set when every canonical column is a source column as it is: such a Parquet file can
    /// be read by `parquet_direct`.
    pub direct: Option<parquet_direct::DirectColumns>,
    /// The source columns the mapping reads (the CSV projection); None when it needs them all.
    pub needed: Option<Vec<String>>,
    /// Whether the charge period is read (`--grain day`): a CSV's batches are normalised
    /// as its plan was.
    pub charge_days: bool,
}

/// The billing export formats mlcost reads; each has an adapter module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    Focus,
    /// AWS CUR 1 and CUR 2.0 (`aws-cur2` is accepted as a name too)
    #[value(alias = "aws-cur2")]
    AwsCur,
    Azure,
    Gcp,
    Oci,
    CostExplorer,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 6] = [
        SourceFormat::Focus,
        SourceFormat::AwsCur,
        SourceFormat::Azure,
        SourceFormat::Gcp,
        SourceFormat::Oci,
        SourceFormat::CostExplorer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Focus => "FOCUS",
            SourceFormat::AwsCur => "AWS CUR",
            SourceFormat::Azure => "Azure cost details",
            SourceFormat::Gcp => "GCP billing export",
            SourceFormat::Oci => "OCI cost report",
            SourceFormat::CostExplorer => "AWS Cost Explorer",
        }
    }

    /// What a file lacks to be read as this format (empty: it is one).
    fn missing(self, cols: &columns::Columns) -> Vec<String> {
        if self == SourceFormat::CostExplorer && cost_explorer::matches(cols) {
            return Vec::new();
        }
        cols.missing(self.required())
    }

    /// Columns a file must have to be read as this format (alternatives per entry).
    fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            SourceFormat::Focus => focus::REQUIRED,
            SourceFormat::AwsCur => aws::REQUIRED,
            SourceFormat::Azure => azure::REQUIRED,
            SourceFormat::Gcp => gcp::REQUIRED,
            SourceFormat::Oci => oci::REQUIRED,
            SourceFormat::CostExplorer => cost_explorer::REQUIRED,
        }
    }
}

/// Picks the format of a file: the forced one (checked), or the first whose required columns
/// are all present. Otherwise an error naming the closest format and what it lacks.
pub fn detect(scan: &RawScan, forced: Option<SourceFormat>) -> Result<SourceFormat> {
    let cols = columns::Columns::new(&scan.schema);
    let candidates: Vec<SourceFormat> = match forced {
        Some(f) => vec![f],
        None => SourceFormat::ALL.to_vec(),
    };
    let mut best: Option<(SourceFormat, Vec<String>)> = None;
    for f in candidates {
        let missing = f.missing(&cols);
        if missing.is_empty() {
            tracing::info!(
                "`{}`: detected {} (all of {} present)",
                crate::origin::shown(&scan.file.path),
                f.name(),
                f.required()
                    .iter()
                    .map(|a| a[0])
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(f);
        }
        if best.as_ref().is_none_or(|(_, m)| missing.len() < m.len()) {
            best = Some((f, missing));
        }
    }
    // candidates is never empty, so best is set; fall back to FOCUS defensively
    let (format, missing) = best.unwrap_or((SourceFormat::Focus, Vec::new()));
    Err(Error::MissingColumns {
        path: scan.file.path.clone(),
        format: format.name().to_string(),
        missing,
    })
}

/// Maps a scan of `format` to canonical lines, checking the cost basis is available.
pub fn normalise(
    scan: &RawScan,
    format: SourceFormat,
    lf: LazyFrame,
    row_numbers: bool,
    basis: CostBasis,
    charge_days: bool,
) -> Result<NormalisedLines> {
    let cols = columns::Columns::new(&scan.schema);
    let (mut canonical, lf) = match format {
        SourceFormat::Focus => (focus::map(&cols), lf),
        SourceFormat::AwsCur => (aws::map(&cols), lf),
        SourceFormat::Azure => (azure::map(&cols), lf),
        SourceFormat::Gcp => (gcp::map(&cols), lf),
        SourceFormat::Oci => (oci::map(&cols), lf),
        SourceFormat::CostExplorer => cost_explorer::map(scan, &cols, lf)?,
    };
    match charge_days {
        // grouped by its day, as the Parquet fast path groups it: the hours of a day are one group
        true => canonical.map_dim(line::CHARGE_PERIOD_START, charge_day_expr),
        false => canonical.forget(line::CHARGE_PERIOD_START),
    }
    if !canonical.supports(basis) {
        return Err(Error::Ingest {
            path: scan.file.path.clone(),
            message: format!(
                "cost basis `{}` is not available for {} exports",
                basis.name(),
                format.name()
            ),
            hint: Some("set `[cost] basis` to `effective` or `billed` in the config".into()),
        });
    }
    let mut lines = canonical.into_lines(lf, row_numbers);
    lines.charge_days = charge_days;
    // A mapping over reshaped columns (Cost Explorer) reads the whole file.
    if let Some(needed) = &lines.needed {
        if format == SourceFormat::CostExplorer || !needed.iter().all(|n| scan.schema.contains(n)) {
            lines.needed = None;
        }
    }
    Ok(lines)
}

/// The charge day (`values::charge_day`) of each charge period, each distinct text parsed once
/// per batch; a timestamp or date as `text_values` renders it (the text the fast path reads).
fn charge_day_expr(e: Expr) -> Expr {
    e.map(
        |c: Column| {
            let s = c.as_materialized_series();
            // text is read as it is (a CSV's every row); anything else rendered first
            let rendered;
            let texts: Box<dyn Iterator<Item = Option<&str>>> = match s.dtype() {
                DataType::String => Box::new(s.str()?.iter()),
                _ => {
                    rendered = text_values(&c)?;
                    Box::new(rendered.iter().map(Option::as_deref))
                }
            };
            let mut days: std::collections::HashMap<&str, Option<String>> =
                std::collections::HashMap::new();
            let out: StringChunked = texts
                .map(|t| {
                    t.and_then(|t| {
                        days.entry(t)
                            .or_insert_with(|| super::charge_day(t))
                            .clone()
                    })
                })
                .collect();
            Ok(out.with_name(c.name().clone()).into_series().into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Tags column to JSON object text, whatever its physical type. `strip` removes a key prefix
/// (CUR 2.0 spells `user:team` as `user_team` in its map).
pub fn tags_expr(e: Expr, dtype: &DataType, strip: Option<&'static str>) -> Expr {
    match dtype {
        DataType::String => e,
        DataType::Struct(_) | DataType::List(_) => e.map(
            move |c: Column| {
                let s = c.as_materialized_series();
                if let Some(out) = map_of_texts(s, strip)? {
                    return Ok(out.with_name(c.name().clone()).into_series().into_column());
                }
                let out: StringChunked = (0..s.len())
                    .map(|i| s.get(i).ok().and_then(|v| any_value_to_json(&v, strip)))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_series().into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        ),
        _ => e.cast(DataType::String),
    }
}

/// Tag pairs as JSON object text, in their order, a repeated key kept (the tag parser sees
/// both values and reports a conflict when they differ, as for JSON text that repeats a key);
/// None when there are none. The one rule for maps, structs and columns of tags, on both
/// Parquet paths.
pub(crate) fn tags_object(pairs: impl IntoIterator<Item = (String, String)>) -> Option<String> {
    let members: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| {
            let (k, v) = (serde_json::Value::String(k), serde_json::Value::String(v));
            format!("{k}:{v}")
        })
        .collect();
    (!members.is_empty()).then(|| format!("{{{}}}", members.join(",")))
}

/// A map of texts to texts (a list of {key, value} structs of text, as Polars reads a Parquet
/// MAP) as JSON object text per row, read on the arrays rather than value by value, each
/// distinct list of entries turned into text once: what `any_value_to_json` gives each row
/// (null, empty and valueless entries left out; `strip` taken off the keys). None for any
/// other type, which `any_value_to_json` reads.
fn map_of_texts(s: &Series, strip: Option<&str>) -> PolarsResult<Option<StringChunked>> {
    use polars_core::utils::arrow::array::{Array, StructArray, Utf8ViewArray};
    let DataType::List(inner) = s.dtype() else {
        return Ok(None);
    };
    let DataType::Struct(fields) = inner.as_ref() else {
        return Ok(None);
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
    let Some((key_at, value_at)) = entry_positions(&names) else {
        return Ok(None);
    };
    if fields.iter().any(|f| f.dtype() != &DataType::String) {
        return Ok(None);
    }
    let list = s.list()?;
    let mut distinct: std::collections::HashMap<
        Vec<(&str, &str)>,
        usize,
        foldhash::fast::FixedState,
    > = Default::default();
    let mut objects: Vec<Option<String>> = vec![None];
    let mut index: Vec<usize> = Vec::with_capacity(s.len());
    let mut entries: Vec<(&str, &str)> = Vec::new();
    for chunk in list.downcast_iter() {
        let Some(st) = chunk.values().as_any().downcast_ref::<StructArray>() else {
            return Ok(None);
        };
        let texts: Vec<&Utf8ViewArray> = st
            .values()
            .iter()
            .filter_map(|a| a.as_any().downcast_ref::<Utf8ViewArray>())
            .collect();
        if texts.len() != names.len() {
            return Ok(None);
        }
        let (keys, values) = (texts[key_at], texts[value_at]);
        let offsets = chunk.offsets();
        for row in 0..chunk.len() {
            if chunk.is_null(row) {
                index.push(0);
                continue;
            }
            entries.clear();
            let (start, end) = offsets.start_end(row);
            for j in start..end {
                if st.is_null(j) || keys.is_null(j) || values.is_null(j) {
                    continue;
                }
                entries.push((keys.value(j), values.value(j)));
            }
            if entries.is_empty() {
                index.push(0);
                continue;
            }
            let at = match distinct.get(entries.as_slice()) {
                Some(at) => *at,
                None => {
                    objects.push(tags_object(entries.iter().map(|(k, v)| {
                        let k = strip.and_then(|p| k.strip_prefix(p)).unwrap_or(k);
                        (k.to_string(), v.to_string())
                    })));
                    distinct.insert(entries.clone(), objects.len() - 1);
                    objects.len() - 1
                }
            };
            index.push(at);
        }
    }
    Ok(Some(index.iter().map(|i| objects[*i].as_deref()).collect()))
}

/// Where the key and the value are in a map entry's fields: first and second when there are
/// two, whatever they are named (a Parquet MAP's entries are key then value by position, and
/// pyarrow keeps its own names for them, `k`/`v` or even `value`/`key`, in the Arrow schema it
/// stores, which Polars reads), else by the names `key` and `value`; None otherwise. The one
/// rule of both Parquet readers.
pub(crate) fn entry_positions(names: &[&str]) -> Option<(usize, usize)> {
    let at = |name: &str| names.iter().position(|n| *n == name);
    match (names.len(), at("key"), at("value")) {
        (2, _, _) => Some((0, 1)),
        (_, Some(k), Some(v)) => Some((k, v)),
        _ => None,
    }
}

/// A map (list of {key, value} structs) or struct as JSON object text; None when empty.
fn any_value_to_json(v: &AnyValue, strip: Option<&str>) -> Option<String> {
    let mut pairs = Vec::new();
    let key = |k: String| match strip {
        Some(p) => k.strip_prefix(p).map(str::to_string).unwrap_or(k),
        None => k,
    };
    match v {
        AnyValue::List(inner) => {
            for item in inner.iter() {
                let fields = struct_fields(&item);
                let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                let Some((key_at, value_at)) = entry_positions(&names) else {
                    continue;
                };
                let k = fields[key_at].1.clone();
                let val = fields[value_at].1.clone();
                if let (Some(k), Some(val)) = (k, val) {
                    pairs.push((key(k), val));
                }
            }
        }
        AnyValue::Struct(_, _, _) | AnyValue::StructOwned(_) => {
            for (k, val) in struct_fields(v) {
                if let Some(val) = val {
                    pairs.push((key(k), val));
                }
            }
        }
        _ => return None,
    }
    tags_object(pairs)
}

/// Any value as JSON: structs as objects, lists as arrays, text as strings, numbers and
/// decimals as the strings of their text (so an amount keeps its digits), null as null.
pub(crate) fn any_value_json(v: &AnyValue) -> serde_json::Value {
    use serde_json::Value;
    let object = |pairs: Vec<(String, Value)>| Value::Object(pairs.into_iter().collect());
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::List(items) => Value::Array(items.iter().map(|x| any_value_json(&x)).collect()),
        AnyValue::Struct(_, _, fields) => object(
            fields
                .iter()
                .zip(v._iter_struct_av())
                .map(|(f, x)| (f.name().to_string(), any_value_json(&x)))
                .collect(),
        ),
        AnyValue::StructOwned(payload) => object(
            payload
                .0
                .iter()
                .zip(payload.1.iter())
                .map(|(x, f)| (f.name().to_string(), any_value_json(x)))
                .collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

/// The (field name, value as text) pairs of a struct value.
pub(crate) fn struct_fields(v: &AnyValue) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    if let AnyValue::Struct(_, _, fields) = v {
        for (field, value) in fields.iter().zip(v._iter_struct_av()) {
            out.push((field.name().to_string(), scalar_text(&value)));
        }
    } else if let AnyValue::StructOwned(payload) = v {
        for (value, field) in payload.0.iter().zip(payload.1.iter()) {
            out.push((field.name().to_string(), scalar_text(value)));
        }
    }
    out
}

fn scalar_text(v: &AnyValue) -> Option<String> {
    match v {
        AnyValue::Null => None,
        // text, and the text of a categorical or enum (its Display quotes it)
        other => Some(
            other
                .get_str()
                .map_or_else(|| other.to_string(), str::to_string),
        ),
    }
}

/// Extra columns of the aggregated frame.
pub const ROWS: &str = "__rows";
/// Column of a line's basis status, one of the `STATUS_*` values below.
pub const BASIS_STATUS: &str = "__basis_status";
/// The basis cost parsed: the only status that can be counted.
pub const STATUS_PARSED: i32 = 0;
/// The basis cost is empty or null.
pub const STATUS_MISSING: i32 = 1;
/// The basis cost is not a decimal number (or out of range).
pub const STATUS_NOT_A_NUMBER: i32 = 2;
/// Status of a group of CSV rows with another number of fields than the header.
pub const STATUS_WRONG_FIELD_COUNT: i32 = 3;
/// Status of the last CSV row when the file ends inside it.
pub const STATUS_CUT_ROW: i32 = 4;
/// BilledCost > 0 and EffectiveCost = 0: with ChargeCategory Purchase, a commitment purchase.
pub const PREPAID_SHAPE: &str = "__prepaid_shape";

/// Expression: parse any column to decimal(38,18) money. Text is parsed exactly; numbers and
/// other types go through their text form; unparsable values become null.
pub fn money_expr(e: Expr) -> Expr {
    e.map(
        |c: Column| {
            let name = c.name().clone();
            let s = c.as_materialized_series();
            let decimal = DataType::Decimal(PRECISION, SCALE as usize);
            if let DataType::Decimal(_, _) = s.dtype() {
                return Ok(s.cast(&decimal)?.into_column());
            }
            let text = if s.dtype() == &DataType::String {
                s.clone()
            } else {
                s.cast(&DataType::String)?
            };
            let parsed: Int128Chunked = text
                .str()?
                .iter()
                .map(|v| v.and_then(|t| Money::parse(t).ok().map(|m| m.0)))
                .collect();
            Ok(parsed
                .with_name(name)
                .into_decimal_unchecked(PRECISION, SCALE as usize)
                .into_series()
                .into_column())
        },
        |_, f| {
            Ok(Field::new(
                f.name().clone(),
                DataType::Decimal(PRECISION, SCALE as usize),
            ))
        },
    )
}

/// A column's values as text: strings as they are, datetimes as ISO 8601 (UTC), dates as
/// `YYYY-MM-DD`, anything else through Polars' cast to string.
pub fn text_values(c: &Column) -> PolarsResult<Vec<Option<String>>> {
    let s = c.as_materialized_series();
    match s.dtype() {
        DataType::String => Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect()),
        DataType::Datetime(unit, _) => {
            let unit = *unit;
            let phys = s.to_physical_repr();
            let phys = phys.i64()?;
            Ok(phys
                .iter()
                .map(|v| v.and_then(|v| datetime_text(v, unit)))
                .collect())
        }
        DataType::Date => {
            let phys = s.to_physical_repr();
            let phys = phys.i32()?;
            Ok(phys.iter().map(|v| v.and_then(date_text)).collect())
        }
        _ => {
            let t = s.cast(&DataType::String)?;
            Ok(t.str()?.iter().map(|v| v.map(str::to_string)).collect())
        }
    }
}

/// A date (days since 1970-01-01) as `YYYY-MM-DD`, the text both Parquet readers give it.
pub(crate) fn date_text(days: i32) -> Option<String> {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// A datetime (`v` units since the epoch, UTC) as ISO 8601 with a `Z`, the text both Parquet
/// readers give it.
pub(crate) fn datetime_text(v: i64, unit: TimeUnit) -> Option<String> {
    let dt = match unit {
        TimeUnit::Nanoseconds => chrono::DateTime::from_timestamp_nanos(v),
        TimeUnit::Microseconds => chrono::DateTime::from_timestamp_micros(v)?,
        TimeUnit::Milliseconds => chrono::DateTime::from_timestamp_millis(v)?,
    };
    Some(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_read_on_their_arrays_give_what_each_value_gives() {
        use arrow_array::builder::{MapBuilder, StringBuilder};
        use std::sync::Arc;
        let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        let rows: Vec<Option<Vec<(&str, Option<&str>)>>> = vec![
            Some(vec![("user_team", Some("a")), ("user_model_id", Some("m"))]),
            None,
            Some(vec![]),
            Some(vec![("user_team", None), ("env", Some("x"))]),
            Some(vec![("user_team", Some("a")), ("user_team", Some("b"))]),
            Some(vec![("user_team", Some("a")), ("user_model_id", Some("m"))]),
            Some(vec![("user_model_id", Some("m")), ("user_team", Some("a"))]),
            Some(vec![("model_id", Some("\"quoted\""))]),
        ];
        for row in &rows {
            match row {
                None => b.append(false).unwrap(),
                Some(entries) => {
                    for (k, v) in entries {
                        b.keys().append_value(k);
                        b.values().append_option(*v);
                    }
                    b.append(true).unwrap();
                }
            }
        }
        let map: arrow_array::ArrayRef = Arc::new(b.finish());
        let batch = arrow_array::RecordBatch::try_from_iter([("tags", map)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let mut df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        // two chunks: rows keep their places across them
        df.vstack_mut(&df.clone()).unwrap();
        let s = df.column("tags").unwrap().as_materialized_series().clone();
        assert!(s.n_chunks() > 1);
        for strip in [None, Some("user_")] {
            let fast: Vec<Option<String>> = map_of_texts(&s, strip)
                .unwrap()
                .expect("a map of texts")
                .iter()
                .map(|v| v.map(str::to_string))
                .collect();
            let each: Vec<Option<String>> = (0..s.len())
                .map(|i| any_value_to_json(&s.get(i).unwrap(), strip))
                .collect();
            assert_eq!(fast, each, "{strip:?}");
            assert_eq!(fast.iter().flatten().count(), 12, "{fast:?}");
        }
    }

    fn parsed(df: DataFrame, column: &str) -> Vec<Option<String>> {
        let out = df
            .lazy()
            .select([money_expr(col(column))])
            .collect()
            .unwrap();
        out.column(column)
            .unwrap()
            .decimal()
            .unwrap()
            .physical()
            .iter()
            .map(|v| v.map(|v| Money(v).to_string()))
            .collect()
    }

    #[test]
    fn money_expr_parses_text_floats_and_decimals_exactly() {
        let df = df!("c" => [Some("1.81E-2"), Some("abc"), None, Some(" 0.000000000000000001 "), Some("NaN")]).unwrap();
        assert_eq!(
            parsed(df, "c"),
            vec![
                Some("0.0181".into()),
                None,
                None,
                Some("0.000000000000000001".into()),
                None
            ]
        );
        let df = df!("f" => [0.1f64, -2.6137, 1e-9]).unwrap();
        assert_eq!(
            parsed(df, "f"),
            vec![
                Some("0.1".into()),
                Some("-2.6137".into()),
                Some("0.000000001".into())
            ]
        );
        let df = df!("i" => [3i64, -4]).unwrap();
        assert_eq!(parsed(df, "i"), vec![Some("3".into()), Some("-4".into())]);
    }

    #[test]
    fn text_values_render_datetimes_as_utc_iso() {
        let ms = Int64Chunked::from_vec("t".into(), vec![1_790_812_800_000])
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series()
            .into_column();
        assert_eq!(
            text_values(&ms).unwrap(),
            vec![Some("2026-10-01T00:00:00Z".to_string())]
        );
        assert_eq!(
            super::super::billing_period("2026-10-01T00:00:00Z").as_deref(),
            Some("2026-10")
        );
    }
}
