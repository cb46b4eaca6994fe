//! OCI cost report adapter: `lineItem/intervalUsageStart` gives the month (OCI reports have no
//! billing-period column), `cost/myCost` is the cost (billed and effective; up to 18 decimals
//! and E-notation), one `tags/<Namespace>.<key>` column per tag (the namespace is dropped, empty
//! values are absent tags). Corrections are new rows and are simply summed; they are marked
//! with `ChargeClass = Correction`.

use polars::prelude::*;

use super::columns::{tag_columns_expr, Canonical, Columns};
use crate::schema::line;

pub const REQUIRED: &[&[&str]] = &[
    &["cost/myCost"],
    &["cost/currencyCode"],
    &["lineItem/intervalUsageStart"],
];

pub fn map(cols: &Columns) -> Canonical {
    let mut c = Canonical::new("oci", "cost report");
    c.dim_from(
        cols,
        line::BILLING_PERIOD_START,
        &["lineItem/intervalUsageStart"],
    )
    .dim_from(cols, line::BILLING_CURRENCY, &["cost/currencyCode"])
    .dim_from(
        cols,
        line::CHARGE_PERIOD_START,
        &["lineItem/intervalUsageStart"],
    )
    .dim(line::PROVIDER, lit("Oracle"))
    .dim_from(cols, line::BILLING_ACCOUNT_ID, &["lineItem/tenantId"])
    .dim_from(cols, line::SUB_ACCOUNT_ID, &["product/compartmentId"])
    .dim_from(cols, line::SUB_ACCOUNT_NAME, &["product/compartmentName"])
    .dim_from(cols, line::SERVICE_NAME, &["product/service"])
    .dim_from(cols, line::RESOURCE_ID, &["product/resourceId"])
    .dim_from(cols, line::REGION, &["product/region"])
    .dim(line::CHARGE_CATEGORY, lit("Usage"));
    if let Some(flag) = cols.find(&["lineItem/isCorrection"]) {
        let v = col(flag.as_str()).cast(DataType::String).fill_null(lit(""));
        let set = v
            .clone()
            .neq(lit(""))
            .and(v.clone().neq(lit("false")))
            .and(v.neq(lit("N")));
        c.dim(
            line::CHARGE_CLASS,
            when(set)
                .then(lit("Correction"))
                .otherwise(lit(NULL).cast(DataType::String)),
        );
    }
    let tag_cols: Vec<(String, String)> = cols
        .with_prefix("tags/")
        .into_iter()
        .map(|name| {
            let rest = &name["tags/".len()..];
            let key = rest
                .split_once('.')
                .map(|(_, k)| k)
                .unwrap_or(rest)
                .to_string();
            (name, key)
        })
        .collect();
    if !tag_cols.is_empty() {
        c.columns_used.push((
            line::TAGS.into(),
            format!("{} tags/ columns", tag_cols.len()),
        ));
        c.dim(line::TAGS, tag_columns_expr(&tag_cols));
    }
    c.cost_from(cols, line::EFFECTIVE_COST, &["cost/myCost"])
        .cost_from(cols, line::BILLED_COST, &["cost/myCost"]);
    c
}
