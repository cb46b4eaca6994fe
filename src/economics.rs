//! Economics: reads request volumes (CSV or Parquet: `model_id`, `requests`, and a `date` or
//! `billing_period`), sums them per month and model, joins them to the allocated cost and
//! computes `unit_costs` (phase columns, total, cost per request and per 1,000 requests) with
//! a reason whenever a unit cost is null. Reports request rows for unknown models and models
//! with spend but no volume; never divides by zero.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::allocate::Allocation;
use crate::error::{Error, Result};
use crate::ingest::{text_values, InputFile, RawScan};
use crate::ledger::billing_period;
use crate::money::Money;
use crate::schema::{phase_column, PHASE_COLUMNS};
use crate::tags::TagNormaliser;

/// A request-volume row that could not be used.
#[derive(Debug, Clone, Serialize)]
pub struct BadVolumeRow {
    pub row: u64,
    pub column: &'static str,
    pub reason: String,
    pub value: String,
}

/// Request volumes summed per (period, model).
#[derive(Debug, Default)]
pub struct Volumes {
    pub file: Option<InputFile>,
    pub requests: BTreeMap<(String, String), i64>,
    pub rows: u64,
    pub bad_rows: Vec<BadVolumeRow>,
}

const MODEL_NAMES: [&str; 3] = ["model_id", "model", "modelid"];
const REQUEST_NAMES: [&str; 4] = ["requests", "request_count", "requests_count", "count"];
const DATE_NAMES: [&str; 3] = ["date", "day", "timestamp"];
const PERIOD_NAMES: [&str; 3] = ["billing_period", "period", "month"];

fn find(schema: &Schema, names: &[&str]) -> Option<String> {
    names.iter().find_map(|want| {
        schema
            .iter_names()
            .find(|have| {
                have.trim_start_matches('\u{feff}')
                    .trim()
                    .eq_ignore_ascii_case(want)
            })
            .map(|s| s.to_string())
    })
}

/// Reads a volumes file. Bad rows are collected, not fatal; a missing column is.
pub fn read_volumes(path: &Path, tagger: &TagNormaliser) -> Result<Volumes> {
    let file = crate::ingest::inspect(path)?;
    let scan = RawScan::open(file.clone())?;
    let schema = scan.schema.clone();
    let model = find(&schema, &MODEL_NAMES);
    let requests = find(&schema, &REQUEST_NAMES);
    let when = find(&schema, &DATE_NAMES).or_else(|| find(&schema, &PERIOD_NAMES));
    let (Some(model), Some(requests), Some(when)) = (model, requests, when) else {
        let mut missing = Vec::new();
        if find(&schema, &MODEL_NAMES).is_none() {
            missing.push("model_id".to_string());
        }
        if find(&schema, &REQUEST_NAMES).is_none() {
            missing.push("requests".to_string());
        }
        if find(&schema, &DATE_NAMES)
            .or_else(|| find(&schema, &PERIOD_NAMES))
            .is_none()
        {
            missing.push("date or billing_period".to_string());
        }
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "request volumes".into(),
            missing,
        });
    };
    let df = scan
        .lazy(false)?
        .select([
            col(when.as_str()),
            col(model.as_str()),
            col(requests.as_str()),
        ])
        .collect()
        .map_err(|e| scan.read_error(e))?;
    let read = |name: &str| {
        df.column(name)
            .and_then(text_values)
            .map_err(|e| scan.read_error(e))
    };
    let (whens, models, counts) = (read(&when)?, read(&model)?, read(&requests)?);
    let mut v = Volumes {
        file: Some(file),
        rows: df.height() as u64,
        ..Volumes::default()
    };
    for (i, ((w, m), c)) in whens.into_iter().zip(models).zip(counts).enumerate() {
        let row = i as u64 + 1;
        let bad = |column: &'static str, reason: &str, value: &Option<String>| BadVolumeRow {
            row,
            column,
            reason: reason.to_string(),
            value: value.clone().unwrap_or_default(),
        };
        let Some(period) = w.as_deref().and_then(billing_period) else {
            v.bad_rows.push(bad("date", "not a date or YYYY-MM", &w));
            continue;
        };
        let Some(model_id) = m
            .as_deref()
            .map(|m| tagger.value(m))
            .filter(|m| !m.is_empty())
        else {
            v.bad_rows.push(bad("model_id", "empty model_id", &m));
            continue;
        };
        let n = match c.as_deref().map(Money::parse) {
            Some(Ok(x)) if x.0 >= 0 && x.0 % crate::money::ONE == 0 => x.0 / crate::money::ONE,
            Some(Ok(x)) if x.0 < 0 => {
                v.bad_rows
                    .push(bad("requests", "negative request count", &c));
                continue;
            }
            _ => {
                v.bad_rows.push(bad("requests", "not a whole number", &c));
                continue;
            }
        };
        let Ok(n) = i64::try_from(n) else {
            v.bad_rows
                .push(bad("requests", "request count too large", &c));
            continue;
        };
        let e = v.requests.entry((period, model_id)).or_default();
        *e = e.saturating_add(n);
    }
    Ok(v)
}

/// One row of `unit_costs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCostRow {
    pub period: String,
    pub model_id: String,
    pub team: String,
    pub currency: String,
    /// In `PHASE_COLUMNS` order.
    pub phase_costs: [Money; 7],
    pub total_cost: Money,
    pub requests: Option<i64>,
    pub cost_per_request: Option<Money>,
    pub cost_per_1000_requests: Option<Money>,
    pub reason: Option<String>,
}

/// What the join of volumes to spend found, for the summary and manifest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VolumeReport {
    pub volumes_given: bool,
    /// (period, model) with requests but no spend in that period.
    pub unknown_models: Vec<(String, String, i64)>,
    /// (period, model) with spend but no requests.
    pub models_without_volumes: Vec<(String, String)>,
    /// Periods present in the volumes but not in the billing data of this run.
    pub periods_without_billing: Vec<String>,
}

pub fn unit_costs(
    alloc: &Allocation,
    volumes: Option<&Volumes>,
) -> (Vec<UnitCostRow>, VolumeReport) {
    // (period, model, currency) -> phase costs; (period, model) -> team -> cost
    let mut costs: BTreeMap<(String, String, String), [Money; 7]> = BTreeMap::new();
    let mut teams: BTreeMap<(String, String, String), BTreeMap<String, Money>> = BTreeMap::new();
    for r in &alloc.rows {
        let key = (r.period.clone(), r.model_id.clone(), r.currency.clone());
        let col = phase_column(&r.lifecycle_phase);
        let i = PHASE_COLUMNS
            .iter()
            .position(|c| *c == col)
            .unwrap_or(PHASE_COLUMNS.len() - 1);
        costs.entry(key.clone()).or_default()[i] += r.cost;
        *teams
            .entry(key)
            .or_default()
            .entry(r.team.clone())
            .or_default() += r.cost;
    }
    let mut report = VolumeReport {
        volumes_given: volumes.is_some(),
        ..VolumeReport::default()
    };
    let mut rows = Vec::with_capacity(costs.len());
    let mut with_spend: BTreeSet<(String, String)> = BTreeSet::new();
    let periods: BTreeSet<String> = costs.keys().map(|(p, _, _)| p.clone()).collect();
    for ((period, model_id, currency), phase_costs) in costs {
        let total_cost: Money = phase_costs.iter().copied().sum();
        // the team with the most spend; ties go to the first name
        let team = teams[&(period.clone(), model_id.clone(), currency.clone())]
            .iter()
            .fold(None::<(&String, Money)>, |best, (t, c)| match best {
                Some((_, bc)) if bc.0.abs() >= c.0.abs() => best,
                _ => Some((t, *c)),
            })
            .map(|(t, _)| t.clone())
            .unwrap_or_default();
        let reserved = model_id.starts_with("__") || model_id.starts_with("shared:");
        let requests =
            volumes.and_then(|v| v.requests.get(&(period.clone(), model_id.clone())).copied());
        if !reserved {
            with_spend.insert((period.clone(), model_id.clone()));
        }
        let reason = if model_id == crate::amortize::DEFERRED_TRAINING {
            Some("deferred training balance")
        } else if reserved {
            Some("unallocated spend")
        } else if volumes.is_none() {
            Some("no volumes")
        } else if requests.is_none() {
            report
                .models_without_volumes
                .push((period.clone(), model_id.clone()));
            Some("no requests for model")
        } else if requests == Some(0) {
            Some("zero requests")
        } else {
            None
        };
        let (requests_out, per_request, per_1000) = match (reason, requests) {
            (None, Some(n)) => (
                Some(n),
                total_cost.div_int(i128::from(n)),
                Money(total_cost.0.saturating_mul(1000)).div_int(i128::from(n)),
            ),
            (_, n) if !reserved => (n, None, None),
            _ => (None, None, None),
        };
        rows.push(UnitCostRow {
            period,
            model_id,
            team,
            currency,
            phase_costs,
            total_cost,
            requests: requests_out,
            cost_per_request: per_request,
            cost_per_1000_requests: per_1000,
            reason: reason.map(str::to_string),
        });
    }
    if let Some(v) = volumes {
        let mut missing_periods = BTreeSet::new();
        for ((period, model), n) in &v.requests {
            if !periods.contains(period) {
                missing_periods.insert(period.clone());
            } else if !with_spend.contains(&(period.clone(), model.clone())) {
                report
                    .unknown_models
                    .push((period.clone(), model.clone(), *n));
            }
        }
        report.periods_without_billing = missing_periods.into_iter().collect();
    }
    (rows, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::CostByModelRow;

    fn row(model: &str, team: &str, phase: &str, cost: &str) -> CostByModelRow {
        CostByModelRow {
            period: "2024-09".into(),
            currency: "USD".into(),
            model_id: model.into(),
            team: team.into(),
            lifecycle_phase: phase.into(),
            allocation_method: "direct".into(),
            cost: Money::parse(cost).unwrap(),
            rows: 1,
            rule_id: None,
            source_pool: None,
            share: None,
        }
    }

    #[test]
    fn hand_computed_unit_costs_and_reasons() {
        let alloc = Allocation {
            basis: "effective",
            rows: vec![
                row("ranker", "recsys", "inference", "300"),
                row("ranker", "recsys", "training", "100"),
                row("ranker", "search", "training", "50"),
                row("batch", "ops", "training", "10"),
                row("idle", "ops", "inference", "5"),
                row("__unallocated__", "__untagged__", "__untagged__", "7"),
            ],
            rule_matches: Default::default(),
        };
        let mut v = Volumes::default();
        v.requests
            .insert(("2024-09".into(), "ranker".into()), 1_200_000);
        v.requests.insert(("2024-09".into(), "idle".into()), 0);
        v.requests.insert(("2024-09".into(), "ghost".into()), 5);
        v.requests.insert(("2024-08".into(), "ranker".into()), 5);
        let (rows, report) = unit_costs(&alloc, Some(&v));
        let ranker = rows.iter().find(|r| r.model_id == "ranker").unwrap();
        assert_eq!(ranker.total_cost.to_string(), "450");
        assert_eq!(ranker.team, "recsys");
        assert_eq!(ranker.phase_costs[0].to_string(), "150");
        assert_eq!(ranker.phase_costs[1].to_string(), "300");
        // 450 / 1,200,000 = 0.000375 per request, 0.375 per 1,000
        assert_eq!(ranker.cost_per_request.unwrap().to_string(), "0.000375");
        assert_eq!(ranker.cost_per_1000_requests.unwrap().to_string(), "0.375");
        let batch = rows.iter().find(|r| r.model_id == "batch").unwrap();
        assert_eq!(batch.reason.as_deref(), Some("no requests for model"));
        assert!(batch.cost_per_request.is_none() && batch.requests.is_none());
        let idle = rows.iter().find(|r| r.model_id == "idle").unwrap();
        assert_eq!(idle.reason.as_deref(), Some("zero requests"));
        assert_eq!(idle.requests, Some(0));
        assert!(idle.cost_per_request.is_none());
        let un = rows
            .iter()
            .find(|r| r.model_id == "__unallocated__")
            .unwrap();
        assert_eq!(un.reason.as_deref(), Some("unallocated spend"));
        assert_eq!(
            report.unknown_models,
            vec![("2024-09".into(), "ghost".into(), 5)]
        );
        assert_eq!(
            report.models_without_volumes,
            vec![("2024-09".into(), "batch".into())]
        );
        assert_eq!(report.periods_without_billing, vec!["2024-08".to_string()]);

        let (rows, _) = unit_costs(&alloc, None);
        assert!(rows
            .iter()
            .filter(|r| r.model_id == "ranker")
            .all(|r| r.reason.as_deref() == Some("no volumes") && r.cost_per_request.is_none()));
    }
}
