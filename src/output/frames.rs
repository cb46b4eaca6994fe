//! Result rows to Arrow record batches, one function per table. The batch is checked against
//! the table's definition in `schema.rs` (names, order, types, nullability), which is also
//! what `schemas/*.json` is generated from, so a written file cannot drift from its schema.
//! The partition column (`billing_period`) lives in the path only, as Spark writes it:
//! files carry plain `string`, `decimal(38,18)` and `int64` columns that every Parquet
//! reader (pyarrow old and new, pandas, Polars, DuckDB, Spark) maps the same way.

use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::allocate::CostByModelRow;
use crate::economics::UnitCostRow;
use crate::error::{Error, Result};
use crate::ledger::compliance::ComplianceRow;
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::{ColumnType, TableDef, PHASE_COLUMNS};

/// One output column before it is checked against the table definition.
type Col = (&'static str, ArrayRef);

fn decimal(name: &'static str, values: impl Iterator<Item = Option<Money>>) -> Col {
    let a: Decimal128Array = values.map(|m| m.map(|m| m.0)).collect();
    // 38 and 18 are valid decimal128 parameters, so this cannot fail
    let a = a
        .with_precision_and_scale(PRECISION as u8, SCALE as i8)
        .unwrap_or_else(|_| Decimal128Array::from(Vec::<i128>::new()));
    (name, Arc::new(a))
}

fn strings<'a>(name: &'static str, values: impl Iterator<Item = Option<&'a str>>) -> Col {
    (name, Arc::new(values.collect::<StringArray>()))
}

fn ints(name: &'static str, values: impl Iterator<Item = Option<i64>>) -> Col {
    (name, Arc::new(values.collect::<Int64Array>()))
}

/// The Arrow type of a schema column type.
pub fn arrow_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::String => DataType::Utf8,
        ColumnType::Decimal => DataType::Decimal128(PRECISION as u8, SCALE as i8),
        ColumnType::Int64 => DataType::Int64,
    }
}

/// The Arrow schema of a table's files: its columns without the partition column.
pub fn file_schema(table: &TableDef) -> Schema {
    Schema::new(
        table
            .columns
            .iter()
            .filter(|c| Some(c.name) != table.partitioned_by)
            .map(|c| Field::new(c.name, arrow_type(c.kind), c.nullable))
            .collect::<Vec<_>>(),
    )
}

/// A record batch of `table` from its columns, which must be the table's file columns in
/// order; a mismatch is a bug, reported as such.
fn frame(table: &TableDef, columns: Vec<Col>) -> Result<RecordBatch> {
    let schema = file_schema(table);
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let want: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if names != want {
        return Err(Error::Internal(format!(
            "{} columns {names:?} differ from its schema {want:?}",
            table.name
        )));
    }
    // a value beyond decimal(38,18) would be written as bytes no reader can trust
    for (name, a) in &columns {
        if let Some(d) = a.as_any().downcast_ref::<Decimal128Array>() {
            d.validate_decimal_precision(PRECISION as u8).map_err(|e| {
                Error::Internal(format!(
                    "{}.{name} holds a value outside decimal(38,18): {e}",
                    table.name
                ))
            })?;
        }
    }
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .map_err(|e| Error::Internal(format!("{} does not match its schema: {e}", table.name)))
}

pub fn cost_by_model_frame(rows: &[&CostByModelRow], basis: &str) -> Result<RecordBatch> {
    frame(
        &crate::schema::cost_by_model(),
        cost_by_model_columns(rows, basis),
    )
}

/// `cost_by_model_daily`: rows whose period is a `daily::key`.
pub fn cost_by_model_daily_frame(rows: &[&CostByModelRow], basis: &str) -> Result<RecordBatch> {
    let mut cols = cost_by_model_columns(rows, basis);
    cols.insert(0, charge_dates(rows.iter().map(|r| r.period.as_str())));
    frame(&crate::schema::cost_by_model_daily(), cols)
}

/// The `charge_date` column of rows keyed by `daily::key`.
fn charge_dates<'a>(keys: impl Iterator<Item = &'a str>) -> Col {
    strings("charge_date", keys.map(|k| crate::daily::split(k).1))
}

fn cost_by_model_columns(rows: &[&CostByModelRow], basis: &str) -> Vec<Col> {
    vec![
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
    ]
}

pub fn unit_costs_frame(rows: &[&UnitCostRow]) -> Result<RecordBatch> {
    frame(&crate::schema::unit_costs(), unit_costs_columns(rows))
}

/// `unit_costs_daily`: rows whose period is a `daily::key`.
pub fn unit_costs_daily_frame(rows: &[&UnitCostRow]) -> Result<RecordBatch> {
    let mut cols = unit_costs_columns(rows);
    cols.insert(0, charge_dates(rows.iter().map(|r| r.period.as_str())));
    frame(&crate::schema::unit_costs_daily(), cols)
}

pub fn anomalies_frame(rows: &[&crate::daily::anomalies::Anomaly]) -> Result<RecordBatch> {
    let days: Vec<String> = rows
        .iter()
        .map(|r| r.day.format("%Y-%m-%d").to_string())
        .collect();
    frame(
        &crate::schema::anomalies(),
        vec![
            strings("charge_date", days.iter().map(|d| Some(d.as_str()))),
            strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
            strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
            strings("metric", rows.iter().map(|r| Some(r.metric))),
            decimal("value", rows.iter().map(|r| Some(r.value))),
            decimal("baseline", rows.iter().map(|r| Some(r.baseline))),
            decimal("mad", rows.iter().map(|r| Some(r.mad))),
            decimal("score", rows.iter().map(|r| r.score)),
            ints(
                "history_days",
                rows.iter().map(|r| Some(r.history_days as i64)),
            ),
            decimal("cost", rows.iter().map(|r| Some(r.cost))),
            decimal("baseline_cost", rows.iter().map(|r| Some(r.baseline_cost))),
            ints("requests", rows.iter().map(|r| r.requests)),
            decimal(
                "baseline_requests",
                rows.iter().map(|r| r.baseline_requests),
            ),
            decimal("spend_effect", rows.iter().map(|r| Some(r.spend_effect))),
            decimal("volume_effect", rows.iter().map(|r| r.volume_effect)),
        ],
    )
}

fn unit_costs_columns(rows: &[&UnitCostRow]) -> Vec<Col> {
    let mut cols = vec![
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
        strings(
            "billing_status",
            rows.iter().map(|r| r.billing_status.as_deref()),
        ),
    ]);
    cols
}

pub fn tag_compliance_frame(rows: &[&ComplianceRow]) -> Result<RecordBatch> {
    frame(
        &crate::schema::tag_compliance(),
        vec![
            strings("resource_id", rows.iter().map(|r| r.resource_id.as_deref())),
            strings("provider", rows.iter().map(|r| r.provider.as_deref())),
            strings("account", rows.iter().map(|r| r.account.as_deref())),
            strings("problem", rows.iter().map(|r| Some(r.problem.as_str()))),
            decimal("cost_affected", rows.iter().map(|r| Some(r.cost))),
            strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
            ints("source_rows", rows.iter().map(|r| Some(r.rows as i64))),
        ],
    )
}

pub fn training_amortization_frame(
    rows: &[&crate::allocate::amortize::AmortizationRow],
) -> Result<RecordBatch> {
    frame(
        &crate::schema::training_amortization(),
        vec![
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
            strings(
                "method",
                rows.iter().map(|r| {
                    Some(match r.schedule.served {
                        Some(_) => "served",
                        None => "months",
                    })
                }),
            ),
            strings(
                "unit",
                rows.iter()
                    .map(|r| r.schedule.served.as_ref().map(|b| b.unit.as_str())),
            ),
            decimal(
                "planned_quantity",
                rows.iter()
                    .map(|r| r.schedule.served.as_ref().and_then(|b| b.planned)),
            ),
            decimal(
                "served_quantity",
                rows.iter()
                    .map(|r| r.schedule.served.as_ref().map(|b| b.served)),
            ),
        ],
    )
}

pub fn cost_by_dimension_frame(
    rows: &[&crate::allocate::dimensions::DimensionRow],
) -> Result<RecordBatch> {
    frame(
        &crate::schema::cost_by_dimension(),
        vec![
            strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
            strings("dimension", rows.iter().map(|r| Some(r.dimension.as_str()))),
            strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
            strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
            strings(
                "lifecycle_phase",
                rows.iter().map(|r| Some(r.lifecycle_phase.as_str())),
            ),
            strings("value", rows.iter().map(|r| r.value.as_deref())),
            decimal("cost", rows.iter().map(|r| Some(r.cost))),
        ],
    )
}

pub fn unit_costs_by_unit_frame(rows: &[&crate::economics::UnitVolumeCost]) -> Result<RecordBatch> {
    frame(
        &crate::schema::unit_costs_by_unit(),
        vec![
            strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
            strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
            strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
            strings("unit", rows.iter().map(|r| Some(r.unit.as_str()))),
            decimal("quantity", rows.iter().map(|r| Some(r.quantity))),
            decimal("total_cost", rows.iter().map(|r| Some(r.total_cost))),
            decimal("cost_per_unit", rows.iter().map(|r| r.cost_per_unit)),
            decimal(
                "cost_per_1000_units",
                rows.iter().map(|r| r.cost_per_1000_units),
            ),
            decimal(
                "cost_per_1m_units",
                rows.iter().map(|r| r.cost_per_1m_units),
            ),
            strings("unit_cost_reason", rows.iter().map(|r| r.reason.as_deref())),
            strings("verdict", rows.iter().map(|r| Some(r.verdict.as_str()))),
            strings(
                "verdict_reason",
                rows.iter().map(|r| r.verdict_reason.as_deref()),
            ),
        ],
    )
}

pub fn hidden_costs_frame(rows: &[&crate::economics::HiddenRow]) -> Result<RecordBatch> {
    frame(
        &crate::schema::hidden_costs(),
        vec![
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
            decimal(
                "idle_share_of_bill",
                rows.iter().map(|r| r.costs.idle_share_of_bill),
            ),
            strings("assumed", rows.iter().map(|r| r.assumed.as_deref())),
        ],
    )
}
