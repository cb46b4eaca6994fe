//! FOCUS 1.0 to 1.3 adapter: recognises a FOCUS export by its columns (pre-1.0 spellings such
//! as `AmortizedCost` and `ChargeType` included), and maps it to the canonical line item of
//! `schema::line`. Unknown and `x_` columns are ignored (projected away); missing optional
//! columns become nulls. Tags may be JSON text, a map (list of key/value structs) or a struct.

use polars::prelude::*;

use super::{money_expr, NormalisedLines, RawScan};
use crate::error::{Error, Result};
use crate::schema::line;

/// Canonical column -> accepted FOCUS source names, best first.
const MAPPING: [(&str, &[&str]); 17] = [
    (line::BILLING_PERIOD_START, &["BillingPeriodStart"]),
    (line::BILLING_CURRENCY, &["BillingCurrency"]),
    (
        line::PROVIDER,
        &["ServiceProviderName", "ProviderName", "Provider"],
    ),
    (line::BILLING_ACCOUNT_ID, &["BillingAccountId"]),
    (line::SUB_ACCOUNT_ID, &["SubAccountId"]),
    (line::SUB_ACCOUNT_NAME, &["SubAccountName"]),
    (line::SERVICE_NAME, &["ServiceName"]),
    (line::SERVICE_CATEGORY, &["ServiceCategory"]),
    (line::RESOURCE_ID, &["ResourceId"]),
    (line::CHARGE_CATEGORY, &["ChargeCategory", "ChargeType"]),
    (line::CHARGE_CLASS, &["ChargeClass"]),
    (
        line::COMMITMENT_DISCOUNT_STATUS,
        &["CommitmentDiscountStatus"],
    ),
    (line::TAGS, &["Tags"]),
    (line::EFFECTIVE_COST, &["EffectiveCost", "AmortizedCost"]),
    (line::BILLED_COST, &["BilledCost"]),
    (line::LIST_COST, &["ListCost"]),
    (line::CONTRACTED_COST, &["ContractedCost"]),
];

/// Columns without which a file is not a usable FOCUS export.
const REQUIRED: [&str; 4] = [
    line::BILLING_PERIOD_START,
    line::BILLING_CURRENCY,
    line::EFFECTIVE_COST,
    line::BILLED_COST,
];

/// Columns that only exist from a given FOCUS version on (for a best-effort version label).
const VERSION_MARKERS: [(&str, &str); 3] = [
    ("ServiceProviderName", "1.3"),
    ("InvoiceId", "1.2"),
    ("CapacityReservationId", "1.1"),
];

/// Normalised header name for matching: BOM and white space removed, lower case.
fn key(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// Finds the actual source column for each canonical column.
fn resolve(schema: &Schema) -> Vec<(&'static str, Option<String>)> {
    MAPPING
        .iter()
        .map(|(canonical, names)| {
            let found = names.iter().find_map(|want| {
                schema
                    .iter_names()
                    .find(|have| key(have) == key(want))
                    .map(|s| s.to_string())
            });
            (*canonical, found)
        })
        .collect()
}

/// Whether the columns look like a FOCUS export, and if not, which FOCUS columns are missing.
pub fn missing_columns(schema: &Schema) -> Vec<String> {
    let found = resolve(schema);
    REQUIRED
        .iter()
        .filter(|r| found.iter().any(|(c, f)| c == *r && f.is_none()))
        .map(|r| {
            MAPPING
                .iter()
                .find(|(c, _)| c == r)
                .map(|(_, names)| names[0].to_string())
                .unwrap_or_else(|| r.to_string())
        })
        .collect()
}

/// Maps a FOCUS scan to the canonical line item. With `row_numbers` the scan's row-number
/// column (see `RawScan::lazy`) is kept.
pub fn normalise(scan: &RawScan, lf: LazyFrame, row_numbers: bool) -> Result<NormalisedLines> {
    let missing = missing_columns(&scan.schema);
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            path: scan.file.path.clone(),
            format: "FOCUS".into(),
            missing,
        });
    }
    let mut exprs = Vec::new();
    if row_numbers {
        exprs.push(col(super::ROW_NUMBER));
    }
    let mut columns_used = Vec::new();
    for (canonical, source) in resolve(&scan.schema) {
        let is_cost = line::COSTS.contains(&canonical);
        match source {
            Some(src) => {
                columns_used.push((canonical.to_string(), src.clone()));
                let dtype = scan.schema.get(&src).cloned().unwrap_or(DataType::String);
                if is_cost {
                    exprs.push(money_expr(col(src.as_str())).alias(canonical));
                    exprs.push(col(src.as_str()).alias(format!("{canonical}__raw")));
                } else if canonical == line::TAGS {
                    exprs.push(tags_expr(col(src.as_str()), &dtype).alias(canonical));
                } else if canonical == line::BILLING_PERIOD_START {
                    // keep datetimes native; text_values() renders them after aggregation
                    exprs.push(col(src.as_str()).alias(canonical));
                } else if dtype == DataType::String {
                    exprs.push(col(src.as_str()).alias(canonical));
                } else {
                    exprs.push(col(src.as_str()).cast(DataType::String).alias(canonical));
                }
            }
            None => {
                if is_cost {
                    exprs.push(money_expr(lit(NULL).cast(DataType::String)).alias(canonical));
                    exprs.push(
                        lit(NULL)
                            .cast(DataType::String)
                            .alias(format!("{canonical}__raw")),
                    );
                } else {
                    exprs.push(lit(NULL).cast(DataType::String).alias(canonical));
                }
            }
        }
    }
    let version = VERSION_MARKERS
        .iter()
        .find(|(c, _)| scan.schema.iter_names().any(|n| key(n) == key(c)))
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| {
            if scan.schema.iter_names().any(|n| key(n) == "amortizedcost") {
                "pre-1.0".to_string()
            } else {
                "1.0".to_string()
            }
        });
    Ok(NormalisedLines {
        lf: lf.select(exprs),
        format: "focus".into(),
        format_version: version,
        columns_used,
    })
}

/// Tags column to JSON object text, whatever its physical type.
fn tags_expr(e: Expr, dtype: &DataType) -> Expr {
    match dtype {
        DataType::String => e,
        DataType::Struct(_) | DataType::List(_) => e.map(
            |c: Column| {
                let s = c.as_materialized_series();
                let out: StringChunked = (0..s.len())
                    .map(|i| s.get(i).ok().and_then(|v| any_value_to_json(&v)))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_series().into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        ),
        _ => e.cast(DataType::String),
    }
}

/// A map (list of {key, value} structs) or struct as JSON object text; None when empty.
fn any_value_to_json(v: &AnyValue) -> Option<String> {
    let mut map = serde_json::Map::new();
    match v {
        AnyValue::List(inner) => {
            for item in inner.iter() {
                if let AnyValue::Struct(_, _, _) | AnyValue::StructOwned(_) = item {
                    let fields: Vec<(String, Option<String>)> = struct_fields(&item);
                    let k = fields
                        .iter()
                        .find(|(n, _)| n == "key")
                        .and_then(|(_, v)| v.clone());
                    let val = fields
                        .iter()
                        .find(|(n, _)| n == "value")
                        .and_then(|(_, v)| v.clone());
                    if let Some(k) = k {
                        map.insert(
                            k,
                            val.map_or(serde_json::Value::Null, serde_json::Value::String),
                        );
                    }
                }
            }
        }
        AnyValue::Struct(_, _, _) | AnyValue::StructOwned(_) => {
            for (k, val) in struct_fields(v) {
                if let Some(val) = val {
                    map.insert(k, serde_json::Value::String(val));
                }
            }
        }
        _ => return None,
    }
    if map.is_empty() {
        return None;
    }
    serde_json::to_string(&serde_json::Value::Object(map)).ok()
}

fn struct_fields(v: &AnyValue) -> Vec<(String, Option<String>)> {
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
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(names: &[&str]) -> Schema {
        names
            .iter()
            .map(|n| Field::new((*n).into(), DataType::String))
            .collect()
    }

    #[test]
    fn recognises_focus_and_pre_1_0_names() {
        let s = schema(&[
            "BillingPeriodStart",
            "BillingCurrency",
            "BilledCost",
            "EffectiveCost",
        ]);
        assert!(missing_columns(&s).is_empty());
        let s = schema(&[
            "\u{feff}billingperiodstart",
            "BillingCurrency",
            "BilledCost",
            "AmortizedCost",
        ]);
        assert!(missing_columns(&s).is_empty());
    }

    #[test]
    fn lists_missing_columns_by_focus_name() {
        let s = schema(&["BillingPeriodStart", "BilledCost"]);
        assert_eq!(
            missing_columns(&s),
            vec!["BillingCurrency", "EffectiveCost"]
        );
    }
}
