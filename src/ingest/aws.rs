//! AWS Cost and Usage Report adapter: legacy CUR 1 CSV (`lineItem/UnblendedCost`,
//! `resourceTags/user:<key>`), its Athena/Parquet spelling (`line_item_unblended_cost`,
//! `resource_tags_user_<key>`) and CUR 2.0 Data Exports (`resource_tags` map). Columns are
//! matched by normalised name, so the dynamic schema (columns that come and go) is fine.
//! Billed = unblended cost; effective = the amortised formula of docs/billing-formats.md ("AWS CUR: the amortised cost"), which
//! counts no commitment twice; list = public on-demand cost. Unused RI / Savings Plan fees are
//! marked as unused commitment.

use polars::prelude::*;

use super::columns::{null_money, text, zero_money, Canonical, Columns};
use super::parquet_direct::CurColumns;
use super::{money_expr, tags_expr};
use crate::schema::line;

/// The provider of every CUR row.
pub const PROVIDER: &str = "AWS";

/// The prefix of user tag keys in CUR 2.0's `resource_tags` map, taken off the keys.
pub const TAG_PREFIX: &str = "user_";

/// The FOCUS charge category of each line item type; any other type is an `Adjustment`.
/// One table for both readers: the Polars expression and the Parquet fast path.
const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "Usage",
        &[
            "Usage",
            "DiscountedUsage",
            "SavingsPlanCoveredUsage",
            "RIFee",
            "SavingsPlanRecurringFee",
        ],
    ),
    ("Purchase", &["Fee", "SavingsPlanUpfrontFee"]),
    ("Tax", &["Tax"]),
    (
        "Credit",
        &[
            "Credit",
            "Refund",
            "SavingsPlanNegation",
            "BundledDiscount",
            "Discount",
            "EdpDiscount",
            "PrivateRateDiscount",
            "RiVolumeDiscount",
        ],
    ),
];
const OTHER_CATEGORY: &str = "Adjustment";

/// Line item types whose amortised contribution is the unused part of the commitment.
const UNUSED_COMMITMENT: &[&str] = &["RIFee", "SavingsPlanRecurringFee"];

/// The charge category of a line item type (None: a null type, which is no type above).
pub fn charge_category(item_type: Option<&str>) -> &'static str {
    item_type
        .and_then(|t| {
            CATEGORIES
                .iter()
                .find(|(_, types)| types.contains(&t))
                .map(|(c, _)| *c)
        })
        .unwrap_or(OTHER_CATEGORY)
}

/// The commitment discount status of a line item type.
pub fn commitment_status(item_type: Option<&str>) -> Option<&'static str> {
    item_type
        .filter(|t| UNUSED_COMMITMENT.contains(t))
        .map(|_| "Unused")
}

/// The amortised formula's parts (docs/billing-formats.md, "AWS CUR: the amortised cost"),
/// in `CurColumns::parts` order; each counts 0 where absent or empty.
pub const PARTS: [&str; 6] = [
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
    "reservation/EffectiveCost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
];

/// What a row's effective (amortised) cost is, by its line item type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amortised {
    /// The given part (an index into `PARTS`).
    Part(usize),
    /// One part minus another: a Savings Plan's unused commitment.
    Difference(usize, usize),
    /// The sum of two parts: an RI's unused fees.
    Sum(usize, usize),
    /// Nothing: the commitment is counted where it is used.
    Zero,
    /// 0 when the row has a reservation ARN (an RI's upfront fee), else its unblended cost.
    ZeroWithReservation,
    /// Its unblended cost.
    Unblended,
}

/// The amortised case of each line item type; any other type (or none) is `Unblended`.
const AMORTISED: &[(&str, Amortised)] = &[
    ("SavingsPlanCoveredUsage", Amortised::Part(0)),
    ("SavingsPlanRecurringFee", Amortised::Difference(1, 2)),
    ("SavingsPlanNegation", Amortised::Zero),
    ("SavingsPlanUpfrontFee", Amortised::Zero),
    ("DiscountedUsage", Amortised::Part(3)),
    ("RIFee", Amortised::Sum(4, 5)),
    ("Fee", Amortised::ZeroWithReservation),
];

/// The amortised case of a line item type.
pub fn amortised(item_type: Option<&str>) -> Amortised {
    item_type
        .and_then(|t| AMORTISED.iter().find(|(name, _)| *name == t))
        .map_or(Amortised::Unblended, |(_, case)| *case)
}

pub const REQUIRED: &[&[&str]] = &[
    &["lineItem/UnblendedCost"],
    &["lineItem/LineItemType"],
    &["bill/BillingPeriodStartDate"],
    &["lineItem/CurrencyCode"],
];

pub fn map(cols: &Columns) -> Canonical {
    let version = if cols.has("resource_tags") || cols.has("bill_payer_account_name") {
        "2.0"
    } else if cols
        .find(&["lineItem/UnblendedCost"])
        .is_some_and(|n| n.contains('/'))
    {
        "1 (csv)"
    } else {
        "1 (athena)"
    };
    let mut c = Canonical::new("aws-cur", version);
    let item_type_name = cols.find(&["lineItem/LineItemType"]).unwrap_or_default();
    let t = col(item_type_name.as_str()).cast(DataType::String);
    let any_of = |types: &[&str]| {
        types
            .iter()
            .map(|v| t.clone().eq(lit(v.to_string())))
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(|| lit(false))
    };
    c.dim_from(
        cols,
        line::BILLING_PERIOD_START,
        &["bill/BillingPeriodStartDate"],
    )
    .dim_from(cols, line::BILLING_CURRENCY, &["lineItem/CurrencyCode"])
    .dim_from(
        cols,
        line::CHARGE_PERIOD_START,
        &["lineItem/UsageStartDate"],
    )
    .dim(line::PROVIDER, lit(PROVIDER))
    .dim_from(cols, line::BILLING_ACCOUNT_ID, &["bill/PayerAccountId"])
    .dim_from(cols, line::SUB_ACCOUNT_ID, &["lineItem/UsageAccountId"])
    .dim_from(
        cols,
        line::SUB_ACCOUNT_NAME,
        &["lineItem/UsageAccountName", "line_item_usage_account_name"],
    )
    .dim_from(
        cols,
        line::SERVICE_NAME,
        &[
            "product/ProductName",
            "product/servicename",
            "lineItem/ProductCode",
        ],
    )
    .dim_from(cols, line::SERVICE_CATEGORY, &["product/productFamily"])
    // `product/region` is filled on rows where the newer `product/regionCode` is empty
    .dim_from(
        cols,
        line::REGION,
        &[
            "product/region",
            "product/regionCode",
            "product_region_code",
        ],
    )
    .dim_from(cols, line::RESOURCE_ID, &["lineItem/ResourceId"]);
    // the first matching entry wins: folded from the last, each an `otherwise` of the one before
    let category = CATEGORIES
        .iter()
        .rev()
        .fold(lit(OTHER_CATEGORY), |rest, (name, types)| {
            when(any_of(types)).then(lit(*name)).otherwise(rest)
        });
    c.dim(line::CHARGE_CATEGORY, category);
    // the amortised contribution of these rows is the unused part of the commitment
    c.dim(
        line::COMMITMENT_DISCOUNT_STATUS,
        when(any_of(UNUSED_COMMITMENT))
            .then(lit("Unused"))
            .otherwise(lit(NULL).cast(DataType::String)),
    );
    c.columns_used
        .push((line::CHARGE_CATEGORY.into(), item_type_name.clone()));
    let mut fast = CurColumns {
        item_type: item_type_name.clone(),
        ..CurColumns::default()
    };

    // tags: CUR 2.0 map, CUR 1 columns, or Athena columns
    if let Some(map_col) = cols.find(&["resource_tags"]).filter(|n| {
        matches!(
            cols.dtype(n),
            Some(DataType::List(_)) | Some(DataType::Struct(_))
        )
    }) {
        let dtype = cols.dtype(&map_col).cloned().unwrap_or(DataType::String);
        c.dim(
            line::TAGS,
            tags_expr(col(map_col.as_str()), &dtype, Some(TAG_PREFIX)),
        );
        fast.tag_map = Some(map_col.clone());
        c.columns_used.push((line::TAGS.into(), map_col));
    } else {
        let mut tag_cols: Vec<(String, String)> = Vec::new();
        for name in cols.with_prefix("resourceTags/") {
            let key = name["resourceTags/".len()..]
                .trim_start_matches("user:")
                .to_string();
            tag_cols.push((name, key));
        }
        for name in cols.with_prefix("resource_tags_") {
            let rest = &name["resource_tags_".len()..];
            let key = rest.strip_prefix("user_").unwrap_or(rest).to_string();
            tag_cols.push((name, key));
        }
        if !tag_cols.is_empty() {
            c.columns_used
                .push((line::TAGS.into(), format!("{} tag columns", tag_cols.len())));
            c.dim(line::TAGS, super::columns::tag_columns_expr(&tag_cols));
            fast.tag_columns = tag_cols;
        }
    }

    let unblended_name = cols.find(&["lineItem/UnblendedCost"]).unwrap_or_default();
    let unblended = money_expr(col(unblended_name.as_str()));
    let raw = text(cols, &unblended_name);
    fast.reservation_arn = cols.find(&["reservation/ReservationARN"]);
    let reservation_arn = fast
        .reservation_arn
        .as_ref()
        .map(|a| {
            col(a.as_str())
                .cast(DataType::String)
                .fill_null(lit(""))
                .neq(lit(""))
        })
        .unwrap_or_else(|| lit(false));
    fast.parts = PARTS.map(|p| cols.find(&[p]));
    let part = |k: usize| -> Expr {
        fast.parts[k]
            .as_ref()
            .map(|a| money_expr(col(a.as_str())).fill_null(zero_money()))
            .unwrap_or_else(zero_money)
    };
    let amortised = AMORTISED
        .iter()
        .rev()
        .fold(unblended.clone(), |rest, (name, case)| {
            let is = t.clone().eq(lit(name.to_string()));
            // a sum or difference is computed in the rows of its type only (null elsewhere):
            // a huge part in a row that does not use it must not overflow the whole column
            let only = |k: usize| when(is.clone()).then(part(k)).otherwise(null_money());
            let (is, value) = match *case {
                Amortised::Part(k) => (is, part(k)),
                Amortised::Difference(a, b) => (is.clone(), only(a) - only(b)),
                Amortised::Sum(a, b) => (is.clone(), only(a) + only(b)),
                Amortised::Zero => (is, zero_money()),
                Amortised::ZeroWithReservation => (is.and(reservation_arn.clone()), zero_money()),
                Amortised::Unblended => (is, unblended.clone()),
            };
            when(is).then(value).otherwise(rest)
        });
    // a row whose own unblended cost is unreadable is quarantined on every basis
    let effective = when(unblended.clone().is_null())
        .then(null_money())
        .otherwise(amortised)
        .cast(DataType::Decimal(
            crate::money::PRECISION,
            crate::money::SCALE as usize,
        ));
    c.columns_used
        .push((line::BILLED_COST.into(), unblended_name.clone()));
    c.columns_used.push((
        line::EFFECTIVE_COST.into(),
        "amortised formula (docs/billing-formats.md)".into(),
    ));
    c.cost(line::EFFECTIVE_COST, effective, raw.clone());
    // public on-demand cost is empty on fees, taxes and credits: those list at 0
    if let Some(list) = cols.find(&["pricing/publicOnDemandCost"]) {
        c.columns_used.push((line::LIST_COST.into(), list.clone()));
        c.cost(
            line::LIST_COST,
            money_expr(col(list.as_str())).fill_null(zero_money()),
            raw.clone(),
        );
        fast.list = Some(list);
    }
    c.cost(line::BILLED_COST, unblended, raw);
    fast.unblended = unblended_name;
    if !cols.has("lineItem/ResourceId") {
        c.notes.push(
            "no lineItem/ResourceId column: the report was created without resource ids".into(),
        );
    }
    // the Parquet fast path evaluates this mapping itself (`parquet_direct::cur`)
    c.evaluated_by_fast_path(fast);
    c
}
