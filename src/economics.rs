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
use crate::ingest::{text_values, InputFile, RawScan, ROW_NUMBER};
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

/// The (period, model) key of a volumes or revenue row, or why the row is unusable.
fn row_key(
    row: u64,
    when: &Option<String>,
    model: &Option<String>,
    tagger: &TagNormaliser,
) -> std::result::Result<(String, String), BadVolumeRow> {
    let Some(period) = when.as_deref().and_then(billing_period) else {
        return Err(BadVolumeRow::new(
            row,
            "date",
            "not a date or YYYY-MM",
            when,
        ));
    };
    let Some(model_id) = model
        .as_deref()
        .map(|m| tagger.value(m))
        .filter(|m| !m.is_empty())
    else {
        return Err(BadVolumeRow::new(row, "model_id", "empty model_id", model));
    };
    Ok((period, model_id))
}

/// A 1-based row number as `text_values` renders it (0 if it is somehow missing).
fn row_number(v: &Option<String>) -> u64 {
    v.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0)
}

impl BadVolumeRow {
    /// A row the CSV reader could not read (wrong field count, cut at the end of the file).
    fn unreadable(b: &crate::ingest::csv::BadRow) -> BadVolumeRow {
        BadVolumeRow {
            row: b.row,
            column: "(row)",
            reason: crate::ingest::bad_row_reason(&b.problem).message(),
            value: b.problem.value(),
        }
    }

    fn new(row: u64, column: &'static str, reason: &str, value: &Option<String>) -> BadVolumeRow {
        BadVolumeRow {
            row,
            column,
            reason: reason.to_string(),
            value: value.clone().unwrap_or_default(),
        }
    }
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
    let mut v = Volumes {
        file: Some(file),
        ..Volumes::default()
    };
    let columns = [when.clone(), model.clone(), requests.clone()];
    for frame in scan.frames(Some(&columns), true, false)? {
        let frame = frame?;
        v.rows += frame.bad.len() as u64;
        v.bad_rows
            .extend(frame.bad.iter().map(BadVolumeRow::unreadable));
        let df = frame.frame;
        let read = |name: &str| {
            df.column(name)
                .and_then(text_values)
                .map_err(|e| scan.read_error(e))
        };
        let rows = read(ROW_NUMBER)?;
        let (whens, models, counts) = (read(&when)?, read(&model)?, read(&requests)?);
        v.rows += df.height() as u64;
        for (((w, m), c), row) in whens.into_iter().zip(models).zip(counts).zip(&rows) {
            let row = row_number(row);
            let bad = |column: &'static str, reason: &str, value: &Option<String>| {
                BadVolumeRow::new(row, column, reason, value)
            };
            let (period, model_id) = match row_key(row, &w, &m, tagger) {
                Ok(k) => k,
                Err(b) => {
                    v.bad_rows.push(b);
                    continue;
                }
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
            let key = (period, model_id);
            let e = v.requests.entry(key.clone()).or_default();
            *e = e.checked_add(n).ok_or_else(|| Error::Overflow {
                what: format!(
                    "the request count of `{}` in {} in `{}`",
                    crate::escape::terminal(&key.1, 80),
                    key.0,
                    path.display()
                ),
                detail: "the sum of its rows leaves a 64-bit count".into(),
            })?;
        }
    }
    v.bad_rows.sort_by_key(|b| b.row);
    Ok(v)
}

/// Revenue and value preserved per (period, model), from `--revenue`.
#[derive(Debug, Default)]
pub struct Revenue {
    pub file: Option<InputFile>,
    /// (period, model) -> (revenue, value preserved)
    pub values: BTreeMap<(String, String), (Option<Money>, Option<Money>)>,
    pub bad_rows: Vec<BadVolumeRow>,
}

/// Reads a revenue file: billing_period or date, model_id, and `revenue` and/or
/// `value_preserved` (decimal amounts; negative allowed for refunds).
pub fn read_revenue(path: &Path, tagger: &TagNormaliser) -> Result<Revenue> {
    let file = crate::ingest::inspect(path)?;
    let scan = RawScan::open(file.clone())?;
    let schema = scan.schema.clone();
    let when = find(&schema, &DATE_NAMES).or_else(|| find(&schema, &PERIOD_NAMES));
    let model = find(&schema, &MODEL_NAMES);
    let revenue = find(&schema, &["revenue", "attributed_revenue"]);
    let preserved = find(&schema, &["value_preserved", "value"]);
    let (Some(when), Some(model)) = (when, model) else {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "revenue".into(),
            missing: vec!["billing_period or date, model_id".into()],
        });
    };
    if revenue.is_none() && preserved.is_none() {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "revenue".into(),
            missing: vec!["revenue or value_preserved".into()],
        });
    }
    let mut out = Revenue {
        file: Some(file),
        ..Revenue::default()
    };
    let columns: Vec<String> = [
        Some(when.clone()),
        Some(model.clone()),
        revenue.clone(),
        preserved.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for frame in scan.frames(Some(&columns), true, false)? {
        let frame = frame?;
        out.bad_rows
            .extend(frame.bad.iter().map(BadVolumeRow::unreadable));
        let df = frame.frame;
        let read = |name: &Option<String>| -> Result<Vec<Option<String>>> {
            match name {
                Some(n) => df
                    .column(n)
                    .and_then(text_values)
                    .map_err(|e| scan.read_error(e)),
                None => Ok(vec![None; df.height()]),
            }
        };
        let (rows, whens, models, revs, vals) = (
            read(&Some(ROW_NUMBER.to_string()))?,
            read(&Some(when.clone()))?,
            read(&Some(model.clone()))?,
            read(&revenue)?,
            read(&preserved)?,
        );
        for i in 0..df.height() {
            let row = row_number(&rows[i]);
            let bad = |column: &'static str, reason: &str, value: &Option<String>| {
                BadVolumeRow::new(row, column, reason, value)
            };
            let (period, model_id) = match row_key(row, &whens[i], &models[i], tagger) {
                Ok(k) => k,
                Err(b) => {
                    out.bad_rows.push(b);
                    continue;
                }
            };
            let parse = |v: &Option<String>| v.as_deref().map(Money::parse).transpose();
            let (Ok(r), Ok(p)) = (parse(&revs[i]), parse(&vals[i])) else {
                out.bad_rows.push(bad(
                    "revenue",
                    "not a decimal number",
                    &revs[i].clone().or(vals[i].clone()),
                ));
                continue;
            };
            let overflow = || Error::Overflow {
                what: format!(
                    "the revenue of `{}` in {period} in `{}`",
                    crate::escape::terminal(&model_id, 80),
                    path.display()
                ),
                detail: "the sum of its rows leaves decimal(38,18)".into(),
            };
            let e = out
                .values
                .entry((period.clone(), model_id.clone()))
                .or_default();
            if let Some(r) = r {
                e.0 = Some(
                    e.0.unwrap_or_default()
                        .checked_add(r)
                        .ok_or_else(overflow)?,
                );
            }
            if let Some(p) = p {
                e.1 = Some(
                    e.1.unwrap_or_default()
                        .checked_add(p)
                        .ok_or_else(overflow)?,
                );
            }
        }
    }
    out.bad_rows.sort_by_key(|b| b.row);
    Ok(out)
}

/// Unit economics of one system: what a request costs against what it earns or saves.
/// Percentages are numbers of percent (12.5 = 12.5%); all values exact decimals, rounded at
/// 18 decimals.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitEconomics {
    pub cost_per_request: Option<Money>,
    pub cost_per_1000_requests: Option<Money>,
    pub revenue_per_request: Option<Money>,
    pub gross_margin_pct: Option<Money>,
    pub cost_pct_of_revenue: Option<Money>,
    /// (value - cost) / cost, value = revenue + value preserved.
    pub roi: Option<Money>,
    pub cost_per_dollar_of_value: Option<Money>,
    /// Why the revenue-based figures are null.
    pub reason: Option<String>,
}

pub fn unit_economics(
    cost: Money,
    requests: Option<i64>,
    revenue: Option<Money>,
    preserved: Option<Money>,
) -> UnitEconomics {
    let n = requests.filter(|n| *n > 0).map(i128::from);
    // Every figure is computed in 256 bits and checked: out of range is null with a reason,
    // never a wrapped number.
    let value = match (revenue, preserved) {
        (None, None) => None,
        (r, p) => r.unwrap_or_default().checked_add(p.unwrap_or_default()),
    };
    let mut e = UnitEconomics {
        cost_per_request: n.and_then(|n| cost.div_int(n)),
        cost_per_1000_requests: n.and_then(|n| cost.mul_int_div(1000, n)),
        revenue_per_request: revenue.zip(n).and_then(|(r, n)| r.div_int(n)),
        gross_margin_pct: revenue.and_then(|r| Money::percent(r.checked_sub(cost)?, r)),
        cost_pct_of_revenue: revenue.and_then(|r| Money::percent(cost, r)),
        roi: value.and_then(|v| Money::fraction(v.checked_sub(cost)?.0, cost.0)),
        cost_per_dollar_of_value: value.and_then(|v| Money::fraction(cost.0, v.0)),
        reason: match (revenue, preserved) {
            (None, None) => Some("no revenue".into()),
            _ => None,
        },
    };
    let nonzero = |m: Option<Money>| m.is_some_and(|m| !m.is_zero());
    let out_of_range = (revenue.is_some() || preserved.is_some())
        && ((value.is_none())
            || (revenue.is_some_and(|r| !r.is_zero())
                && (e.gross_margin_pct.is_none() || e.cost_pct_of_revenue.is_none()))
            || (!cost.is_zero() && e.roi.is_none())
            || (nonzero(value) && e.cost_per_dollar_of_value.is_none()));
    if out_of_range {
        e.reason = Some("out of range for decimal(38,18)".into());
    }
    e
}

/// Costs that are not on the bill, as estimates next to the visible (billed) cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HiddenCosts {
    pub visible: Money,
    /// cost x (1 - u) / u: what the idle share of paid capacity would cost if it were busy.
    pub idle_capacity: Option<Money>,
    /// experiment spend x waste fraction.
    pub experiment_waste: Option<Money>,
    /// FTEs x fully loaded annual cost / 12.
    pub engineering_time: Option<Money>,
    pub hidden_total: Money,
    pub true_total: Money,
    /// hidden_total / visible x 100
    pub hidden_pct_of_visible: Option<Money>,
}

/// Hidden costs of one month. `utilization` in (0, 1]; `experiment_spend` is the cost on
/// experiment-phase resources (or visible x a configured share); `waste` in [0, 1].
pub fn hidden_costs(
    visible: Money,
    utilization: Option<Money>,
    experiment_spend: Option<Money>,
    waste: Option<Money>,
    ftes: Option<Money>,
    annual_fte_cost: Option<Money>,
) -> Result<HiddenCosts> {
    let too_large = |what: &str| Error::Overflow {
        what: format!("the {what} estimate"),
        detail: format!(
            "visible cost {visible} with the configured [hidden] values leaves decimal(38,18)"
        ),
    };
    let idle = match utilization.filter(|u| u.0 > 0) {
        Some(u) => Some(
            Money(crate::money::ONE)
                .checked_sub(u)
                .and_then(|idle_share| visible.checked_mul(idle_share))
                .and_then(|x| Money::fraction(x.0, u.0))
                .ok_or_else(|| too_large("idle capacity"))?,
        ),
        None => None,
    };
    let experiment_waste = match experiment_spend.zip(waste) {
        Some((e, w)) => Some(
            e.checked_mul(w)
                .ok_or_else(|| too_large("experiment waste"))?,
        ),
        None => None,
    };
    let engineering = match ftes.zip(annual_fte_cost) {
        Some((f, c)) => f.checked_mul(c).and_then(|x| x.div_int(12)),
        None => None,
    };
    let hidden_total =
        Money::checked_sum([idle, experiment_waste, engineering].into_iter().flatten())
            .ok_or_else(|| too_large("hidden total"))?;
    Ok(HiddenCosts {
        visible,
        idle_capacity: idle,
        experiment_waste,
        engineering_time: engineering,
        hidden_total,
        true_total: visible
            .checked_add(hidden_total)
            .ok_or_else(|| too_large("true total"))?,
        hidden_pct_of_visible: Money::percent(hidden_total, visible),
    })
}

/// Hidden costs of one model in one period (the `hidden_costs` table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HiddenRow {
    pub period: String,
    pub model_id: String,
    pub currency: String,
    #[serde(flatten)]
    pub costs: HiddenCosts,
}

/// Hidden costs per model from the unit costs of one period and the `[hidden]` config.
/// `utilization` may add per-model utilisation from a file; it wins over the config.
pub fn hidden_for_models(
    rows: &[UnitCostRow],
    cfg: &crate::config::HiddenConfig,
    utilization: &BTreeMap<String, Money>,
) -> Result<Vec<HiddenRow>> {
    let f = |x: Option<f64>| x.and_then(|v| Money::from_f64(v).ok());
    let models: Vec<&UnitCostRow> = rows
        .iter()
        .filter(|r| crate::schema::is_model(&r.model_id))
        .collect();
    // engineering time: one monthly amount split exactly over the models of each currency
    let monthly_eng = f(cfg.ftes)
        .zip(f(cfg.fte_annual_cost))
        .and_then(|(n, c)| n.checked_mul(c)?.div_int(12));
    let mut eng: BTreeMap<(String, String), Money> = BTreeMap::new();
    if let Some(total) = monthly_eng {
        let mut by_currency: BTreeMap<&str, Vec<&UnitCostRow>> = BTreeMap::new();
        for r in &models {
            by_currency.entry(r.currency.as_str()).or_default().push(r);
        }
        let proportional = cfg.engineering_allocation.as_deref() == Some("proportional");
        for list in by_currency.values() {
            let weights: Vec<i128> = list
                .iter()
                .map(|r| {
                    if proportional {
                        r.total_cost.0.max(0)
                    } else {
                        1
                    }
                })
                .collect();
            if let Some(shares) =
                crate::money::split_largest_remainder(total, &weights, 10i128.pow(16))
            {
                for (r, s) in list.iter().zip(shares) {
                    eng.insert((r.period.clone(), r.model_id.clone()), s);
                }
            }
        }
    }
    models
        .into_iter()
        .map(|r| {
            let u = utilization
                .get(&r.model_id)
                .copied()
                .or_else(|| f(cfg.utilization.get(&r.model_id).copied()))
                .or_else(|| f(cfg.default_utilization));
            let experiment = match f(cfg.experiment_share) {
                Some(share) => r.total_cost.checked_mul(share),
                None => {
                    let i = PHASE_COLUMNS
                        .iter()
                        .position(|c| *c == "cost_experimentation")
                        .unwrap_or(5);
                    Some(r.phase_costs[i])
                }
            };
            let mut costs = hidden_costs(
                r.total_cost,
                u,
                experiment,
                f(cfg.waste_fraction),
                None,
                None,
            )?;
            if let Some(e) = eng.get(&(r.period.clone(), r.model_id.clone())) {
                let overflow = || Error::Overflow {
                    what: format!(
                        "the hidden costs of `{}` in {}",
                        crate::escape::terminal(&r.model_id, 80),
                        r.period
                    ),
                    detail:
                        "engineering time added to the other hidden costs leaves decimal(38,18)"
                            .into(),
                };
                costs.engineering_time = Some(*e);
                costs.hidden_total = costs.hidden_total.checked_add(*e).ok_or_else(overflow)?;
                costs.true_total = costs.true_total.checked_add(*e).ok_or_else(overflow)?;
                costs.hidden_pct_of_visible = Money::percent(costs.hidden_total, costs.visible);
            }
            Ok(HiddenRow {
                period: r.period.clone(),
                model_id: r.model_id.clone(),
                currency: r.currency.clone(),
                costs,
            })
        })
        .collect()
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
    pub revenue: Option<Money>,
    pub value_preserved: Option<Money>,
    pub economics: UnitEconomics,
    /// within_target | over_target | no_target
    pub verdict: String,
    pub verdict_reason: Option<String>,
}

/// What the join of volumes to spend found, for the summary and manifest.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct VolumeReport {
    pub volumes_given: bool,
    /// (period, model) with requests but no spend in that period.
    pub unknown_models: Vec<(String, String, i64)>,
    /// (period, model) with spend but no requests.
    pub models_without_volumes: Vec<(String, String)>,
    /// Periods present in the volumes but not in the billing data of this run.
    pub periods_without_billing: Vec<String>,
}

/// The verdict of one model against its targets, with the reason.
pub fn verdict(e: &UnitEconomics, t: &crate::config::TargetSet) -> (String, Option<String>) {
    let mut checked = Vec::new();
    let mut over = Vec::new();
    let mut unknown = Vec::new();
    let mut check = |name: &str, value: Option<Money>, limit: Option<f64>, max: bool| {
        let Some(limit) = limit else { return };
        let Ok(l) = Money::from_f64(limit) else {
            return;
        };
        match value {
            None => unknown.push(format!("no {name} to compare")),
            Some(v) if (max && v > l) || (!max && v < l) => over.push(format!(
                "{name} {} {} {}",
                v.to_fixed(4),
                if max { ">" } else { "<" },
                l
            )),
            Some(v) => checked.push(format!(
                "{name} {} {} {}",
                v.to_fixed(4),
                if max { "<=" } else { ">=" },
                l
            )),
        }
    };
    check(
        "cost per 1,000 requests",
        e.cost_per_1000_requests,
        t.max_cost_per_1000_requests,
        true,
    );
    check(
        "cost % of revenue",
        e.cost_pct_of_revenue,
        t.max_cost_pct_of_revenue,
        true,
    );
    check("ROI", e.roi, t.min_roi, false);
    if !over.is_empty() {
        ("over_target".into(), Some(over.join("; ")))
    } else if !checked.is_empty() {
        ("within_target".into(), Some(checked.join("; ")))
    } else if !unknown.is_empty() {
        ("no_target".into(), Some(unknown.join("; ")))
    } else {
        ("no_target".into(), Some("no targets configured".into()))
    }
}

pub fn unit_costs(
    alloc: &Allocation,
    volumes: Option<&Volumes>,
    revenue: Option<&Revenue>,
    targets: &crate::config::TargetsConfig,
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
        let reserved = !crate::schema::is_model(&model_id);
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
        let (rev, preserved) = revenue
            .and_then(|r| r.values.get(&(period.clone(), model_id.clone())).copied())
            .unwrap_or((None, None));
        let mut economics = unit_economics(
            total_cost,
            requests_out.filter(|_| reason.is_none()),
            rev,
            preserved,
        );
        if revenue.is_none() {
            economics.reason = Some("no revenue file".into());
        } else if rev.is_none() && preserved.is_none() {
            economics.reason = Some("no revenue for model".into());
        }
        let (verdict, verdict_reason) = if reserved {
            ("no_target".to_string(), Some("not a model".to_string()))
        } else {
            verdict(&economics, &targets.for_model(&model_id))
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
            revenue: rev,
            value_preserved: preserved,
            economics,
            verdict,
            verdict_reason,
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

    /// The origin example: 28,400 USD a month, 72,000,000 predictions, 4,200,000 USD revenue.
    /// cost per prediction 28400 / 72e6 = 0.000394444...; per 1,000 0.394444...;
    /// cost as % of revenue 28400 / 4.2e6 = 0.676190476...%.
    #[test]
    fn origin_example_unit_economics() {
        let m = |s: &str| Money::parse(s).unwrap();
        let e = unit_economics(m("28400"), Some(72_000_000), Some(m("4200000")), None);
        assert_eq!(
            e.cost_per_request.unwrap().to_string(),
            "0.000394444444444444"
        );
        assert_eq!(
            e.cost_per_1000_requests.unwrap().to_string(),
            "0.394444444444444444"
        );
        assert_eq!(
            e.cost_pct_of_revenue.unwrap().to_string(),
            "0.67619047619047619"
        );
        // ratios are truncated at 18 decimals: 99.32380952380952380952... -> ...809
        assert_eq!(
            e.gross_margin_pct.unwrap().to_string(),
            "99.323809523809523809"
        );
        assert_eq!(
            e.revenue_per_request.unwrap().to_string(),
            "0.058333333333333333"
        );
        // ROI = (4,200,000 - 28,400) / 28,400 = 146.887323943661971830
        assert_eq!(e.roi.unwrap().to_string(), "146.88732394366197183");
        assert_eq!(
            e.cost_per_dollar_of_value.unwrap().to_string(),
            "0.006761904761904761"
        );
        let none = unit_economics(m("10"), Some(5), None, None);
        assert_eq!(none.reason.as_deref(), Some("no revenue"));
        assert!(none.roi.is_none() && none.cost_pct_of_revenue.is_none());
        // value preserved alone (fraud prevented): ROI from it
        let fraud = unit_economics(m("100"), None, None, Some(m("1000")));
        assert_eq!(fraud.roi.unwrap().to_string(), "9");
        assert!(fraud.gross_margin_pct.is_none() && fraud.cost_per_request.is_none());
    }

    /// 28,400 USD visible at 45% utilisation, 1.5 FTEs at 300,000 USD a year:
    /// idle = 28400 x 0.55 / 0.45 = 34711.111...; engineering = 1.5 x 300000 / 12 = 37500;
    /// true total 100611.111...; hidden = 254.26...% of visible.
    #[test]
    fn hidden_cost_example() {
        let m = |s: &str| Money::parse(s).unwrap();
        let h = hidden_costs(
            m("28400"),
            Some(m("0.45")),
            None,
            None,
            Some(m("1.5")),
            Some(m("300000")),
        )
        .unwrap();
        assert_eq!(
            h.idle_capacity.unwrap().to_string(),
            "34711.111111111111111111"
        );
        assert_eq!(h.engineering_time.unwrap().to_string(), "37500");
        assert_eq!(h.true_total.to_string(), "100611.111111111111111111");
        assert_eq!(h.hidden_pct_of_visible.unwrap().to_fixed(2), "254.26");
        // experiment waste: 10% of spend on experiments, half of it wasted
        let h = hidden_costs(m("1000"), None, Some(m("100")), Some(m("0.5")), None, None).unwrap();
        assert_eq!(h.experiment_waste.unwrap().to_string(), "50");
        assert_eq!(h.true_total.to_string(), "1050");
    }

    /// 50,000 USD a month at 10,000,000 requests a day (30-day month: 300,000,000 requests):
    /// 0.000166666666666667 per request, 0.166666666666666667 per 1,000.
    #[test]
    fn fifty_thousand_a_month_at_ten_million_a_day() {
        let e = unit_economics(
            Money::parse("50000").unwrap(),
            Some(300_000_000),
            None,
            None,
        );
        assert_eq!(
            e.cost_per_request.unwrap().to_string(),
            "0.000166666666666667"
        );
        assert_eq!(
            e.cost_per_1000_requests.unwrap().to_string(),
            "0.166666666666666667"
        );
    }

    #[test]
    fn verdicts_against_targets() {
        let m = |s: &str| Money::parse(s).unwrap();
        let e = unit_economics(m("28400"), Some(72_000_000), Some(m("4200000")), None);
        let t = |k: Option<f64>, p: Option<f64>, r: Option<f64>| crate::config::TargetSet {
            max_cost_per_1000_requests: k,
            max_cost_pct_of_revenue: p,
            min_roi: r,
        };
        assert_eq!(
            verdict(&e, &t(Some(0.5), Some(1.0), Some(10.0))).0,
            "within_target"
        );
        let (v, why) = verdict(&e, &t(Some(0.3), None, None));
        assert_eq!(v, "over_target");
        assert_eq!(why.unwrap(), "cost per 1,000 requests 0.3944 > 0.3");
        assert_eq!(
            verdict(&e, &t(None, None, None)),
            ("no_target".into(), Some("no targets configured".into()))
        );
        let no_revenue = unit_economics(m("1"), Some(1), None, None);
        assert_eq!(
            verdict(&no_revenue, &t(None, Some(5.0), None)).0,
            "no_target"
        );
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
        let (rows, report) = unit_costs(&alloc, Some(&v), None, &Default::default());
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

        let (rows, _) = unit_costs(&alloc, None, None, &Default::default());
        assert!(rows
            .iter()
            .filter(|r| r.model_id == "ranker")
            .all(|r| r.reason.as_deref() == Some("no volumes") && r.cost_per_request.is_none()));
    }
}
