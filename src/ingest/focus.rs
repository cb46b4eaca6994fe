//! FOCUS 1.0 to 1.3 adapter: recognises a FOCUS export by its columns (pre-1.0 spellings such
//! as `AmortizedCost`, `ChargeType` and `Provider` included) and maps it to the canonical line
//! item. Unknown and `x_` columns are projected away; missing optional columns become nulls.
//! Tags may be JSON text, a map (list of key/value structs) or a struct.

use polars::prelude::*;

use super::columns::{Canonical, Columns};
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
const VERSION_MARKERS: [(&str, &str); 3] = [
    ("ServiceProviderName", "1.3"),
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
        .dim_from(cols, line::RESOURCE_ID, &["ResourceId"])
        .dim_from(cols, line::RESOURCE_NAME, &["ResourceName"])
        .dim_from(cols, line::REGION, &["RegionId", "Region", "RegionName"])
        .dim_from(
            cols,
            line::CHARGE_CATEGORY,
            &["ChargeCategory", "ChargeType"],
        )
        .dim_from(cols, line::CHARGE_CLASS, &["ChargeClass"])
        .dim_from(
            cols,
            line::COMMITMENT_DISCOUNT_STATUS,
            &["CommitmentDiscountStatus"],
        );
    if let Some(tags) = cols.find(&["Tags"]) {
        match cols.dtype(&tags).cloned().unwrap_or(DataType::String) {
            // JSON text: the column as it is
            DataType::String => {
                c.dim_from(cols, line::TAGS, &["Tags"]);
            }
            dtype => {
                c.columns_used.push((line::TAGS.to_string(), tags.clone()));
                c.dim(line::TAGS, tags_expr(col(tags.as_str()), &dtype, None));
            }
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
    fn lists_missing_columns_by_focus_name() {
        let s = schema(&["BillingPeriodStart", "BilledCost"]);
        assert_eq!(
            Columns::new(&s).missing(REQUIRED),
            vec!["BillingCurrency", "EffectiveCost"]
        );
    }
}
