//! FOCUS 1.0 to 1.4 Cost and Usage adapter: recognises a FOCUS export by its columns (pre-1.0
//! spellings such as `AmortizedCost`, `ChargeType` and `Provider` included) and maps it to the
//! canonical line item; a 1.3 split row goes to its allocated resource with its allocated tags.
//! Unknown and `x_` columns are projected away; missing optional columns become nulls. Tags
//! may be JSON text, a map (list of key/value structs) or a struct.

use polars::prelude::*;

use super::columns::{text, Canonical, Columns};
use super::tags_expr;
use crate::schema::line;

/// Columns without which a file is not a usable FOCUS export (alternatives per entry).
pub const REQUIRED: &[&[&str]] = &[
    &["BillingPeriodStart"],
    &["BillingCurrency"],
    &["EffectiveCost", "AmortizedCost"],
    &["BilledCost"],
];

/// Columns that only exist from a given FOCUS version on (for a best-effort version label).
const VERSION_MARKERS: [(&str, &str); 8] = [
    ("InvoiceDetailId", "1.4"),
    ("ServiceProviderName", "1.3"),
    ("HostProviderName", "1.3"),
    ("ContractApplied", "1.3"),
    ("AllocatedMethodId", "1.3"),
    ("AllocatedTags", "1.3"),
    ("InvoiceId", "1.2"),
    ("CapacityReservationId", "1.1"),
];

pub fn map(cols: &Columns) -> Canonical {
    let version = VERSION_MARKERS
        .iter()
        .find(|(c, _)| cols.has(c))
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| {
            if cols.has("AmortizedCost") {
                "pre-1.0".to_string()
            } else {
                "1.0".to_string()
            }
        });
    let mut c = Canonical::new("focus", version);
    c.dim_from(cols, line::BILLING_PERIOD_START, &["BillingPeriodStart"])
        .dim_from(cols, line::BILLING_CURRENCY, &["BillingCurrency"])
        .dim_from(
            cols,
            line::PROVIDER,
            &["ServiceProviderName", "ProviderName", "Provider"],
        )
        .dim_from(cols, line::BILLING_ACCOUNT_ID, &["BillingAccountId"])
        .dim_from(cols, line::SUB_ACCOUNT_ID, &["SubAccountId"])
        .dim_from(cols, line::SUB_ACCOUNT_NAME, &["SubAccountName"])
        .dim_from(cols, line::SERVICE_NAME, &["ServiceName"])
        .dim_from(cols, line::SERVICE_CATEGORY, &["ServiceCategory"])
        .dim_from(cols, line::REGION, &["RegionId", "Region", "RegionName"])
        .dim_from(
            cols,
            line::CHARGE_CATEGORY,
            &["ChargeCategory", "ChargeType"],
        )
        .dim_from(cols, line::CHARGE_CLASS, &["ChargeClass"])
        .dim_from(cols, line::CHARGE_PERIOD_START, &["ChargePeriodStart"])
        .dim_from(
            cols,
            line::COMMITMENT_DISCOUNT_STATUS,
            &["CommitmentDiscountStatus"],
        );
    // FOCUS 1.3 split rows: the allocated resource (a pod of a node) is the row's resource
    for (canonical, own, allocated) in [
        (line::RESOURCE_ID, "ResourceId", "AllocatedResourceId"),
        (line::RESOURCE_NAME, "ResourceName", "AllocatedResourceName"),
    ] {
        match (cols.find(&[own]), cols.find(&[allocated])) {
            (Some(own), Some(allocated)) => {
                c.columns_used
                    .push((canonical.to_string(), format!("{allocated} or {own}")));
                let pair = [text(cols, &allocated), text(cols, &own)];
                c.dim(
                    canonical,
                    row_wise(pair, |a, own| filled(a).or(own).map(str::to_string)),
                );
            }
            _ => {
                c.dim_from(cols, canonical, &[own, allocated]);
            }
        }
    }
    let as_json = |c: &mut Canonical, name: &str| -> Option<Expr> {
        let actual = cols.find(&[name])?;
        Some(
            match cols.dtype(&actual).cloned().unwrap_or(DataType::String) {
                DataType::String => col(actual.as_str()),
                dtype => {
                    c.columns_used
                        .push((line::TAGS.to_string(), actual.clone()));
                    tags_expr(col(actual.as_str()), &dtype, None)
                }
            },
        )
    };
    match (cols.find(&["Tags"]), cols.find(&["AllocatedTags"])) {
        (Some(tags), None) if cols.dtype(&tags) == Some(&DataType::String) => {
            // JSON text: the column as it is
            c.dim_from(cols, line::TAGS, &["Tags"]);
        }
        (Some(tags), None) => {
            // a map or struct: JSON text per row, which the fast path renders the same way
            if let Some(e) = as_json(&mut c, "Tags") {
                c.dim_of(line::TAGS, e, tags);
            }
        }
        (None, None) => {}
        (tags, Some(allocated)) => {
            // FOCUS 1.3 split rows carry the allocated resource's tags (pod labels) besides
            // the origin's: the row's tags are both
            c.columns_used.push((
                line::TAGS.to_string(),
                format!("{} + {allocated}", tags.as_deref().unwrap_or("(no Tags)")),
            ));
            let own = match tags {
                Some(_) => {
                    as_json(&mut c, "Tags").unwrap_or_else(|| lit(NULL).cast(DataType::String))
                }
                None => lit(NULL).cast(DataType::String),
            };
            let allocated = as_json(&mut c, "AllocatedTags")
                .unwrap_or_else(|| lit(NULL).cast(DataType::String));
            c.dim(line::TAGS, row_wise([own, allocated], merge_tag_texts));
        }
    }
    c.cost_from(
        cols,
        line::EFFECTIVE_COST,
        &["EffectiveCost", "AmortizedCost"],
    )
    .cost_from(cols, line::BILLED_COST, &["BilledCost"])
    .cost_from(cols, line::LIST_COST, &["ListCost"])
    .cost_from(cols, line::CONTRACTED_COST, &["ContractedCost"]);
    c
}

/// Expression: `f` of two text columns, row by row.
fn row_wise([a, b]: [Expr; 2], f: fn(Option<&str>, Option<&str>) -> Option<String>) -> Expr {
    as_struct(vec![
        a.cast(DataType::String).alias("a"),
        b.cast(DataType::String).alias("b"),
    ])
    .map(
        move |c: Column| {
            let s = c.struct_()?;
            let fields = s.fields_as_series();
            let (a, b) = (fields[0].str()?, fields[1].str()?);
            let out: StringChunked = a.iter().zip(b.iter()).map(|(a, b)| f(a, b)).collect();
            Ok(out.with_name(c.name().clone()).into_series().into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// A text without its surrounding blanks; None when nothing (or JSON `null`) is left.
fn filled(t: Option<&str>) -> Option<&str> {
    t.map(str::trim).filter(|t| !t.is_empty() && *t != "null")
}

/// Two JSON object texts as one: their members side by side (the spec forbids
/// `AllocatedTags` to repeat a key of `Tags`; a repeat with another value then shows as a tag
/// conflict). A text that is not a JSON object is kept so the row is reported malformed.
pub fn merge_tag_texts(own: Option<&str>, allocated: Option<&str>) -> Option<String> {
    let (own, allocated) = (filled(own), filled(allocated));
    match (own, allocated) {
        (None, None) => None,
        (Some(t), None) | (None, Some(t)) => Some(t.to_string()),
        // read as the tag parser reads them (the brace-less Azure form too), written back as
        // one object with every pair, repeats kept
        (Some(a), Some(b)) => match (crate::tags::parse_pairs(a), crate::tags::parse_pairs(b)) {
            (Some(x), Some(y)) => {
                let members: Vec<String> = x
                    .into_iter()
                    .chain(y)
                    .map(|(k, v)| {
                        let v = v.map_or(serde_json::Value::Null, serde_json::Value::String);
                        format!("{}:{v}", serde_json::Value::String(k))
                    })
                    .collect();
                Some(format!("{{{}}}", members.join(",")))
            }
            // one of them is not an object: keep the bad text, so the row is malformed
            (None, _) => Some(a.to_string()),
            (_, None) => Some(b.to_string()),
        },
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
        assert!(Columns::new(&s).missing(REQUIRED).is_empty());
        let s = schema(&[
            "\u{feff}billingperiodstart",
            "BillingCurrency",
            "BilledCost",
            "AmortizedCost",
        ]);
        assert!(Columns::new(&s).missing(REQUIRED).is_empty());
        assert_eq!(map(&Columns::new(&s)).version, "pre-1.0");
    }

    #[test]
    fn allocated_tags_join_the_row_tags() {
        let m = |a, b| merge_tag_texts(a, b);
        assert_eq!(
            m(Some(r#"{"team":"ml"}"#), Some(r#" {"model_id":"rec"} "#)).as_deref(),
            Some(r#"{"team":"ml","model_id":"rec"}"#)
        );
        assert_eq!(
            m(Some("{}"), Some(r#"{"a":"1"}"#)).as_deref(),
            Some(r#"{"a":"1"}"#)
        );
        assert_eq!(
            m(Some(r#"{"a":"1"}"#), Some("{ }")).as_deref(),
            Some(r#"{"a":"1"}"#)
        );
        assert_eq!(
            m(None, Some(r#"{"a":"1"}"#)).as_deref(),
            Some(r#"{"a":"1"}"#)
        );
        assert_eq!(
            m(Some(r#"{"a":"1"}"#), Some("null")).as_deref(),
            Some(r#"{"a":"1"}"#)
        );
        assert_eq!(m(None, Some("")), None);
        // not an object: kept as it is, so the row is reported malformed
        assert_eq!(m(Some(r#"{"a":"1"}"#), Some("[1]")).as_deref(), Some("[1]"));
        assert_eq!(
            m(Some("oops"), Some(r#"{"a":"1"}"#)).as_deref(),
            Some("oops")
        );
    }

    #[test]
    fn lists_missing_columns_by_focus_name() {
        let s = schema(&["BillingPeriodStart", "BilledCost"]);
        assert_eq!(
            Columns::new(&s).missing(REQUIRED),
            vec!["BillingCurrency", "EffectiveCost"]
        );
    }
}
