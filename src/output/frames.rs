//! Result rows to Polars frames, one function per table, columns in the order of
//! `schemas/` (a test keeps the two equal). Money is decimal(38,18), counts int64.

use polars::prelude::*;

use crate::allocate::CostByModelRow;
use crate::compliance::ComplianceRow;
use crate::economics::UnitCostRow;
use crate::error::{Error, Result};
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::PHASE_COLUMNS;

fn decimal(name: &str, values: impl Iterator<Item = Option<Money>>) -> Column {
    let ca: Int128Chunked = values.map(|m| m.map(|m| m.0)).collect();
    ca.with_name(name.into())
        .into_decimal_unchecked(PRECISION, SCALE as usize)
        .into_series()
        .into_column()
}

fn strings<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    let ca: StringChunked = values.collect();
    ca.with_name(name.into()).into_series().into_column()
}

fn ints(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    let ca: Int64Chunked = values.collect();
    ca.with_name(name.into()).into_series().into_column()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns).map_err(Error::polars("building an output frame"))
}

pub fn cost_by_model_frame(rows: &[&CostByModelRow], basis: &str) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
        strings(
            "lifecycle_phase",
            rows.iter().map(|r| Some(r.lifecycle_phase.as_str())),
        ),
        decimal("cost", rows.iter().map(|r| Some(r.cost))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        strings(
            "allocation_method",
            rows.iter().map(|r| Some(r.allocation_method.as_str())),
        ),
        strings("rule_id", rows.iter().map(|r| r.rule_id.as_deref())),
        strings("source_pool", rows.iter().map(|r| r.source_pool.as_deref())),
        decimal("share", rows.iter().map(|r| r.share)),
        strings("cost_basis", rows.iter().map(|_| Some(basis))),
        ints("source_rows", rows.iter().map(|r| Some(r.rows as i64))),
    ])
}

pub fn unit_costs_frame(rows: &[&UnitCostRow]) -> Result<DataFrame> {
    let mut cols = vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
    ];
    for (i, name) in PHASE_COLUMNS.iter().enumerate() {
        cols.push(decimal(name, rows.iter().map(|r| Some(r.phase_costs[i]))));
    }
    cols.extend([
        decimal("total_cost", rows.iter().map(|r| Some(r.total_cost))),
        ints("requests", rows.iter().map(|r| r.requests)),
        decimal("cost_per_request", rows.iter().map(|r| r.cost_per_request)),
        decimal(
            "cost_per_1000_requests",
            rows.iter().map(|r| r.cost_per_1000_requests),
        ),
        strings("unit_cost_reason", rows.iter().map(|r| r.reason.as_deref())),
        decimal("revenue", rows.iter().map(|r| r.revenue)),
        decimal("value_preserved", rows.iter().map(|r| r.value_preserved)),
        decimal(
            "revenue_per_request",
            rows.iter().map(|r| r.economics.revenue_per_request),
        ),
        decimal(
            "gross_margin_pct",
            rows.iter().map(|r| r.economics.gross_margin_pct),
        ),
        decimal(
            "cost_pct_of_revenue",
            rows.iter().map(|r| r.economics.cost_pct_of_revenue),
        ),
        decimal("roi", rows.iter().map(|r| r.economics.roi)),
        decimal(
            "cost_per_dollar_of_value",
            rows.iter().map(|r| r.economics.cost_per_dollar_of_value),
        ),
        strings(
            "economics_reason",
            rows.iter().map(|r| r.economics.reason.as_deref()),
        ),
        strings("verdict", rows.iter().map(|r| Some(r.verdict.as_str()))),
        strings(
            "verdict_reason",
            rows.iter().map(|r| r.verdict_reason.as_deref()),
        ),
    ]);
    frame(cols)
}

pub fn tag_compliance_frame(rows: &[&ComplianceRow]) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("resource_id", rows.iter().map(|r| r.resource_id.as_deref())),
        strings("provider", rows.iter().map(|r| r.provider.as_deref())),
        strings("account", rows.iter().map(|r| r.account.as_deref())),
        strings("problem", rows.iter().map(|r| Some(r.problem.as_str()))),
        decimal("cost_affected", rows.iter().map(|r| Some(r.cost))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        ints("source_rows", rows.iter().map(|r| Some(r.rows as i64))),
    ])
}

pub fn training_amortization_frame(
    rows: &[&crate::amortize::AmortizationRow],
) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings(
            "model_id",
            rows.iter().map(|r| Some(r.schedule.model_id.as_str())),
        ),
        strings("team", rows.iter().map(|r| Some(r.schedule.team.as_str()))),
        strings(
            "currency",
            rows.iter().map(|r| Some(r.schedule.currency.as_str())),
        ),
        strings(
            "incurred_period",
            rows.iter()
                .map(|r| Some(r.schedule.incurred_period.as_str())),
        ),
        decimal(
            "incurred_cost",
            rows.iter().map(|r| Some(r.schedule.incurred_cost)),
        ),
        decimal("charged", rows.iter().map(|r| Some(r.charged))),
        decimal(
            "balance_after",
            rows.iter().map(|r| Some(r.schedule.balance)),
        ),
        ints(
            "months_remaining",
            rows.iter()
                .map(|r| Some(i64::from(r.schedule.months_remaining))),
        ),
    ])
}

pub fn hidden_costs_frame(rows: &[&crate::economics::HiddenRow]) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        decimal("visible_cost", rows.iter().map(|r| Some(r.costs.visible))),
        decimal("idle_capacity", rows.iter().map(|r| r.costs.idle_capacity)),
        decimal(
            "experiment_waste",
            rows.iter().map(|r| r.costs.experiment_waste),
        ),
        decimal(
            "engineering_time",
            rows.iter().map(|r| r.costs.engineering_time),
        ),
        decimal(
            "hidden_total",
            rows.iter().map(|r| Some(r.costs.hidden_total)),
        ),
        decimal("true_total", rows.iter().map(|r| Some(r.costs.true_total))),
        decimal(
            "hidden_pct_of_visible",
            rows.iter().map(|r| r.costs.hidden_pct_of_visible),
        ),
    ])
}
