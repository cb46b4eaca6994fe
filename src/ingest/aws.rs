//! AWS Cost and Usage Report adapter: legacy CUR 1 CSV (`lineItem/UnblendedCost`,
//! `resourceTags/user:<key>`), its Athena/Parquet spelling (`line_item_unblended_cost`,
//! `resource_tags_user_<key>`) and CUR 2.0 Data Exports (`resource_tags` map). Columns are
//! matched by normalised name, so the dynamic schema (columns that come and go) is fine.
//! Billed = unblended cost; effective = the amortised formula of docs/billing-formats.md ("AWS CUR: the amortised cost"), which
//! counts no commitment twice; list = public on-demand cost. Unused RI / Savings Plan fees are
//! marked as unused commitment.

use polars::prelude::*;

use super::columns::{null_money, text, zero_money, Canonical, Columns};
use super::{money_expr, tags_expr};
use crate::schema::line;

pub const REQUIRED: &[&[&str]] = &[
    &["lineItem/UnblendedCost"],
    &["lineItem/LineItemType"],
    &["bill/BillingPeriodStartDate"],
    &["lineItem/CurrencyCode"],
];

fn money_col(cols: &Columns, name: &str) -> Option<Expr> {
    cols.find(&[name]).map(|a| money_expr(col(a.as_str())))
}

/// A money column or 0 when absent or empty (for the parts of the amortised formula).
fn part(cols: &Columns, name: &str) -> Expr {
    money_col(cols, name)
        .map(|e| e.fill_null(zero_money()))
        .unwrap_or_else(zero_money)
}

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
    let is = |v: &str| t.clone().eq(lit(v.to_string()));
    c.dim_from(
        cols,
        line::BILLING_PERIOD_START,
        &["bill/BillingPeriodStartDate"],
    )
    .dim_from(cols, line::BILLING_CURRENCY, &["lineItem/CurrencyCode"])
    .dim(line::PROVIDER, lit("AWS"))
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
    .dim_from(cols, line::RESOURCE_ID, &["lineItem/ResourceId"]);
    let category = when(
        is("Usage")
            .or(is("DiscountedUsage"))
            .or(is("SavingsPlanCoveredUsage")),
    )
    .then(lit("Usage"))
    .when(is("RIFee").or(is("SavingsPlanRecurringFee")))
    .then(lit("Usage"))
    .when(is("Fee").or(is("SavingsPlanUpfrontFee")))
    .then(lit("Purchase"))
    .when(is("Tax"))
    .then(lit("Tax"))
    .when(
        is("Credit")
            .or(is("Refund"))
            .or(is("SavingsPlanNegation"))
            .or(is("BundledDiscount"))
            .or(is("Discount"))
            .or(is("EdpDiscount"))
            .or(is("PrivateRateDiscount"))
            .or(is("RiVolumeDiscount")),
    )
    .then(lit("Credit"))
    .otherwise(lit("Adjustment"));
    c.dim(line::CHARGE_CATEGORY, category);
    // the amortised contribution of these rows is the unused part of the commitment
    c.dim(
        line::COMMITMENT_DISCOUNT_STATUS,
        when(is("RIFee").or(is("SavingsPlanRecurringFee")))
            .then(lit("Unused"))
            .otherwise(lit(NULL).cast(DataType::String)),
    );
    c.columns_used
        .push((line::CHARGE_CATEGORY.into(), item_type_name.clone()));

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
            tags_expr(col(map_col.as_str()), &dtype, Some("user_")),
        );
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
        }
    }

    let unblended_name = cols.find(&["lineItem/UnblendedCost"]).unwrap_or_default();
    let unblended = money_expr(col(unblended_name.as_str()));
    let raw = text(cols, &unblended_name);
    let reservation_arn = cols
        .find(&["reservation/ReservationARN"])
        .map(|a| {
            col(a.as_str())
                .cast(DataType::String)
                .fill_null(lit(""))
                .neq(lit(""))
        })
        .unwrap_or_else(|| lit(false));
    let amortised = when(is("SavingsPlanCoveredUsage"))
        .then(part(cols, "savingsPlan/SavingsPlanEffectiveCost"))
        .when(is("SavingsPlanRecurringFee"))
        .then(
            part(cols, "savingsPlan/TotalCommitmentToDate")
                - part(cols, "savingsPlan/UsedCommitment"),
        )
        .when(is("SavingsPlanNegation").or(is("SavingsPlanUpfrontFee")))
        .then(zero_money())
        .when(is("DiscountedUsage"))
        .then(part(cols, "reservation/EffectiveCost"))
        .when(is("RIFee"))
        .then(
            part(
                cols,
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
            ) + part(cols, "reservation/UnusedRecurringFee"),
        )
        .when(is("Fee").and(reservation_arn))
        .then(zero_money())
        .otherwise(unblended.clone());
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
        c.cost(line::LIST_COST, part(cols, &list), raw.clone());
    }
    c.cost(line::BILLED_COST, unblended, raw);
    if !cols.has("lineItem/ResourceId") {
        c.notes.push(
            "no lineItem/ResourceId column: the report was created without resource ids".into(),
        );
    }
    c
}
