//! Azure cost details adapter (EA and MCA; actual and amortised datasets): PascalCase,
//! camelCase and localised `Name (EnglishName)` headers, `M/D/YYYY` dates, Tags with or without
//! braces, any billing currency. The cost column (`CostInBillingCurrency`, or `Cost` /
//! `PreTaxCost` in older layouts) is both the billed and the effective cost of its dataset:
//! the actual-cost dataset is the cash view (purchases included, covered usage at 0), the
//! amortised dataset the accrual view (no purchases, `UnusedReservation` rows). Never mix
//! the two datasets in one run: that counts commitments twice.

use polars::prelude::*;

use super::columns::{Canonical, Columns};
use crate::schema::line;

pub const REQUIRED: &[&[&str]] = &[
    &["CostInBillingCurrency", "PreTaxCost", "Cost"],
    &["BillingCurrencyCode", "BillingCurrency", "Currency"],
    &["BillingPeriodStartDate", "Date", "UsageDateTime"],
    &["SubscriptionId", "SubscriptionGuid"],
];

pub fn map(cols: &Columns) -> Canonical {
    let version = if cols.has("CostInBillingCurrency") {
        if cols.has("BillingProfileId") {
            "ea/mca"
        } else {
            "ea"
        }
    } else {
        "legacy"
    };
    let mut c = Canonical::new("azure", version);
    c.dim_from(
        cols,
        line::BILLING_PERIOD_START,
        &["BillingPeriodStartDate", "Date", "UsageDateTime"],
    )
    .dim_from(
        cols,
        line::BILLING_CURRENCY,
        &["BillingCurrencyCode", "BillingCurrency", "Currency"],
    )
    .dim_from(
        cols,
        line::CHARGE_PERIOD_START,
        &["Date", "UsageDateTime", "UsageDate"],
    )
    .dim(line::PROVIDER, lit("Microsoft"))
    .dim_from(cols, line::BILLING_ACCOUNT_ID, &["BillingAccountId"])
    .dim_from(
        cols,
        line::SUB_ACCOUNT_ID,
        &["SubscriptionId", "SubscriptionGuid"],
    )
    .dim_from(cols, line::SUB_ACCOUNT_NAME, &["SubscriptionName"])
    .dim_from(
        cols,
        line::SERVICE_NAME,
        &["MeterCategory", "ConsumedService", "ServiceName"],
    )
    .dim_from(cols, line::SERVICE_CATEGORY, &["ServiceFamily"])
    .dim_from(cols, line::RESOURCE_ID, &["ResourceId", "InstanceId"])
    .dim_from(cols, line::RESOURCE_NAME, &["ResourceName"])
    .dim_from(cols, line::REGION, &["ResourceLocation", "Location"])
    .dim_from(cols, line::TAGS, &["Tags"]);
    if let Some(charge) = cols.find(&["ChargeType"]) {
        let t = col(charge.as_str()).cast(DataType::String);
        let is = |v: &str| t.clone().eq(lit(v.to_string()));
        let unused = is("UnusedReservation").or(is("UnusedSavingsPlan"));
        c.dim(
            line::CHARGE_CATEGORY,
            when(is("Usage").or(unused.clone()))
                .then(lit("Usage"))
                .when(is("Purchase"))
                .then(lit("Purchase"))
                .when(is("Refund"))
                .then(lit("Credit"))
                .when(is("Tax"))
                .then(lit("Tax"))
                .otherwise(lit("Adjustment")),
        );
        c.dim(
            line::COMMITMENT_DISCOUNT_STATUS,
            when(unused)
                .then(lit("Unused"))
                .otherwise(lit(NULL).cast(DataType::String)),
        );
        c.columns_used.push((line::CHARGE_CATEGORY.into(), charge));
    } else {
        c.dim(line::CHARGE_CATEGORY, lit("Usage"));
    }
    let names = ["CostInBillingCurrency", "PreTaxCost", "Cost"];
    c.cost_from(cols, line::EFFECTIVE_COST, &names)
        .cost_from(cols, line::BILLED_COST, &names)
        .cost_from(cols, line::LIST_COST, &["PaygCostInBillingCurrency"]);
    c
}
