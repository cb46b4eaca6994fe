//! GCP Cloud Billing export adapter, as exported from BigQuery to Parquet (nested `invoice`,
//! `service`, `project`, `labels`, `credits` columns) or newline-delimited JSON (read by
//! `read_ndjson` into flat columns). The billing period is `invoice.month` (`YYYYMM`), billed
//! cost is `cost`, effective cost is `cost` plus the sum of `credits.amount` (never clamped at
//! zero); labels are read as one key/value map per row, so nothing fans out.

use std::io::BufRead;
use std::path::Path;

use polars::prelude::*;

use super::columns::{text, zero_money, Canonical, Columns};
use super::{money_expr, tags_expr};
use crate::error::{Error, Result};
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::line;

pub const REQUIRED: &[&[&str]] = &[
    &["cost"],
    &["currency"],
    &["invoice.month", "invoice"],
    &["billing_account_id"],
];

/// A nested field: `parent.child` as a struct field (Parquet) or a flat column (JSON).
fn field(cols: &Columns, parent: &str, child: &str) -> Option<Expr> {
    if let Some(flat) = cols.find(&[&format!("{parent}.{child}")]) {
        return Some(text(cols, &flat));
    }
    let p = cols.find(&[parent])?;
    match cols.dtype(&p) {
        Some(DataType::Struct(fields)) if fields.iter().any(|f| f.name() == child) => Some(
            col(p.as_str())
                .struct_()
                .field_by_name(child)
                .cast(DataType::String),
        ),
        _ => None,
    }
}

/// Sum of `credits[].amount` per row, exact; 0 when there are none.
fn credits_expr(cols: &Columns) -> Expr {
    if let Some(total) = cols.find(&["credits_total"]) {
        return money_expr(col(total.as_str())).fill_null(zero_money());
    }
    let Some(credits) = cols.find(&["credits"]) else {
        return zero_money();
    };
    if !matches!(cols.dtype(&credits), Some(DataType::List(_))) {
        return zero_money();
    }
    col(credits.as_str()).map(
        |c: Column| {
            let s = c.as_materialized_series();
            let sums: Int128Chunked = (0..s.len())
                .map(|i| {
                    let mut total = Money::ZERO;
                    if let Ok(AnyValue::List(items)) = s.get(i) {
                        for item in items.iter() {
                            for (name, value) in super::struct_fields(&item) {
                                if name == "amount" {
                                    total += value
                                        .and_then(|v| Money::parse(&v).ok())
                                        .unwrap_or_default();
                                }
                            }
                        }
                    }
                    Some(total.0)
                })
                .collect();
            Ok(sums
                .with_name(c.name().clone())
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

pub fn map(cols: &Columns) -> Canonical {
    let mut c = Canonical::new("gcp", "bigquery export");
    if let Some(e) = field(cols, "invoice", "month") {
        c.dim(line::BILLING_PERIOD_START, e);
    }
    c.dim_from(cols, line::BILLING_CURRENCY, &["currency"])
        .dim_from(cols, line::CHARGE_PERIOD_START, &["usage_start_time"])
        .dim(line::PROVIDER, lit("Google Cloud"))
        .dim_from(cols, line::BILLING_ACCOUNT_ID, &["billing_account_id"]);
    for (canonical, parent, child) in [
        (line::SUB_ACCOUNT_ID, "project", "id"),
        (line::SUB_ACCOUNT_NAME, "project", "name"),
        (line::SERVICE_NAME, "service", "description"),
        (line::RESOURCE_ID, "resource", "name"),
        (line::REGION, "location", "region"),
    ] {
        if let Some(e) = field(cols, parent, child) {
            c.dim(canonical, e);
        }
    }
    if let Some(t) = cols.find(&["cost_type"]) {
        let v = col(t.as_str()).cast(DataType::String);
        let is = |x: &str| v.clone().eq(lit(x.to_string()));
        c.dim(
            line::CHARGE_CATEGORY,
            when(is("regular"))
                .then(lit("Usage"))
                .when(is("tax"))
                .then(lit("Tax"))
                .otherwise(lit("Adjustment")),
        );
    } else {
        c.dim(line::CHARGE_CATEGORY, lit("Usage"));
    }
    if let Some(labels) = cols.find(&["labels"]) {
        let dtype = cols.dtype(&labels).cloned().unwrap_or(DataType::String);
        c.dim(line::TAGS, tags_expr(col(labels.as_str()), &dtype, None));
        c.columns_used.push((line::TAGS.into(), labels));
    }
    let cost_name = cols.find(&["cost"]).unwrap_or_default();
    let cost = money_expr(col(cost_name.as_str()));
    let raw = col(cost_name.as_str());
    c.cost(line::BILLED_COST, cost.clone(), raw.clone());
    c.cost(
        line::EFFECTIVE_COST,
        (cost + credits_expr(cols)).cast(DataType::Decimal(PRECISION, SCALE as usize)),
        raw,
    );
    c.cost_from(cols, line::LIST_COST, &["cost_at_list"]);
    c.columns_used.push((
        line::EFFECTIVE_COST.into(),
        "cost + sum(credits.amount)".into(),
    ));
    c
}

/// Reads BigQuery's newline-delimited JSON export into flat text columns: nested objects
/// become `parent.child`, `labels` becomes JSON object text, `credits` becomes their exact
/// sum (`credits_total`). Numbers keep their JSON text, so nothing goes through a float twice.
pub fn read_ndjson(path: &Path) -> Result<DataFrame> {
    const FIELDS: [&str; 15] = [
        "billing_account_id",
        "invoice.month",
        "cost_type",
        "service.description",
        "project.id",
        "project.name",
        "resource.name",
        "location.region",
        "currency",
        "cost",
        "cost_at_list",
        "usage_start_time",
        "labels",
        "credits_total",
        "export_time",
    ];
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); FIELDS.len()];
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| Error::Ingest {
            path: path.to_path_buf(),
            message: format!("row {}: not a JSON object: {e}", i + 1),
            hint: Some("GCP exports must be newline-delimited JSON, one row per line".into()),
        })?;
        for (k, name) in FIELDS.iter().enumerate() {
            let value = match *name {
                "labels" => labels_text(v.get("labels")),
                "credits_total" => credits_total(v.get("credits")),
                _ => lookup(&v, name).and_then(scalar),
            };
            columns[k].push(value);
        }
    }
    // a field no row has is not a column, so detection can say it is missing
    let cols: Vec<Column> = FIELDS
        .iter()
        .zip(columns)
        .filter(|(_, values)| values.iter().any(Option::is_some))
        .map(|(name, values)| {
            let ca: StringChunked = values.iter().map(|v| v.as_deref()).collect();
            ca.with_name((*name).into()).into_series().into_column()
        })
        .collect();
    DataFrame::new_infer_height(cols).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn lookup<'a>(v: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn labels_text(v: Option<&serde_json::Value>) -> Option<String> {
    let items = v?.as_array()?;
    let mut map = serde_json::Map::new();
    for item in items {
        if let (Some(k), Some(val)) = (
            item.get("key").and_then(|k| k.as_str()),
            item.get("value").and_then(scalar),
        ) {
            map.insert(k.to_string(), serde_json::Value::String(val));
        }
    }
    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
}

fn credits_total(v: Option<&serde_json::Value>) -> Option<String> {
    let items = v?.as_array()?;
    let mut total = Money::ZERO;
    for item in items {
        if let Some(a) = item.get("amount").and_then(scalar) {
            total += Money::parse(&a).unwrap_or_default();
        }
    }
    Some(total.to_string())
}
