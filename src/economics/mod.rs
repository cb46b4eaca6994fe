//! Economics: joins request volumes and revenue (read by `volumes`) to the allocated cost and
//! computes `unit_costs` (phase columns, total, cost per request and per 1,000 requests, margin,
//! ROI, the verdict against `[targets]`) with a reason whenever a figure is null; the hidden-cost
//! estimates of `mlcost hidden` are in `hidden`. Reports request rows for unknown models and
//! models with spend but no volume; never divides by zero; every figure is checked in 256 bits.

pub mod hidden;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use hidden::{hidden_costs, hidden_for_models, HiddenCosts, HiddenRow};

use crate::allocate::Allocation;
use crate::money::Money;
use crate::schema::{phase_column, PHASE_COLUMNS};
use crate::volumes::{Revenue, Volumes};

/// Why a unit cost, revenue figure or verdict is missing: the texts of `unit_costs`'
/// reason columns (also written by `mlcost sql`).
pub mod reason {
    pub const OUT_OF_RANGE: &str = "out of range for decimal(38,18)";
    pub const DEFERRED_TRAINING: &str = "deferred training balance";
    pub const UNALLOCATED: &str = "unallocated spend";
    pub const NO_VOLUMES: &str = "no volumes";
    pub const NO_REQUESTS: &str = "no requests for model";
    pub const ZERO_REQUESTS: &str = "zero requests";
    pub const NO_REVENUE_FILE: &str = "no revenue file";
    pub const NO_TARGETS: &str = "no targets configured";
    pub const NOT_A_MODEL: &str = "not a model";
}
use reason::OUT_OF_RANGE;

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
        e.reason = Some(OUT_OF_RANGE.into());
    }
    e
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
    /// `provisional` | `final` when a FOCUS Billing Period dataset says, else None.
    pub billing_status: Option<String>,
}

/// One row of `unit_costs_by_unit`: a model's cost in a period per unit it served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitVolumeCost {
    pub period: String,
    pub model_id: String,
    pub team: String,
    pub currency: String,
    pub unit: String,
    pub quantity: Money,
    /// The model's total cost in the period (as in `unit_costs`), per unit below.
    pub total_cost: Money,
    pub cost_per_unit: Option<Money>,
    pub cost_per_1000_units: Option<Money>,
    pub cost_per_1m_units: Option<Money>,
    /// Why the unit costs are null: `zero quantity` or `out of range`.
    pub reason: Option<String>,
    /// Against the unit's `[targets]`: within_target | over_target | no_target.
    pub verdict: String,
    pub verdict_reason: Option<String>,
}

/// The cost per unit of every (period, model, currency) of `unit_costs` with volumes, one row
/// per unit in unit order, each judged against its unit's targets.
pub fn unit_volume_costs(
    rows: &[UnitCostRow],
    volumes: &Volumes,
    targets: &crate::config::TargetsConfig,
) -> Vec<UnitVolumeCost> {
    let mut out = Vec::new();
    // the reserved ids (unallocated spend, unused commitment) serve nothing
    for r in rows.iter().filter(|r| crate::schema::is_model(&r.model_id)) {
        let Some(units) = volumes.units.get(&(r.period.clone(), r.model_id.clone())) else {
            continue;
        };
        for (unit, quantity) in units {
            let costs = per_units(r.total_cost, *quantity);
            let reason = match (quantity.is_zero(), costs.iter().all(Option::is_some)) {
                (true, _) => Some("zero quantity".to_string()),
                (false, false) => Some("out of range".to_string()),
                (false, true) => None,
            };
            let checks = unit_checks(targets.for_unit(&r.model_id, unit), unit, costs);
            let (verdict, verdict_reason) = judge(&checks, "no target for this unit");
            out.push(UnitVolumeCost {
                period: r.period.clone(),
                model_id: r.model_id.clone(),
                team: r.team.clone(),
                currency: r.currency.clone(),
                unit: unit.clone(),
                quantity: *quantity,
                total_cost: r.total_cost,
                cost_per_unit: costs[0],
                cost_per_1000_units: costs[1],
                cost_per_1m_units: costs[2],
                reason,
                verdict,
                verdict_reason,
            });
        }
    }
    out
}

/// The units `[targets]` sets a limit for that no row of the volumes gives (a target that
/// judges nothing), each with the units the volumes do give.
pub fn unserved_unit_targets(
    targets: &crate::config::TargetsConfig,
    volumes: Option<&Volumes>,
) -> Vec<(String, Vec<String>)> {
    let tokens = |t: Option<f64>| t.map(|_| "tokens".to_string());
    let configured: BTreeSet<String> = targets
        .units
        .keys()
        .cloned()
        .chain(tokens(targets.max_cost_per_1m_tokens))
        .chain(targets.models.values().flat_map(|m| {
            m.units
                .keys()
                .cloned()
                .chain(tokens(m.max_cost_per_1m_tokens))
        }))
        .collect();
    let given: BTreeSet<String> = volumes
        .into_iter()
        .flat_map(|v| v.units.values().flat_map(|u| u.keys().cloned()))
        .collect();
    configured
        .into_iter()
        .filter(|u| !given.contains(u))
        .map(|u| (u, given.iter().cloned().collect()))
        .collect()
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

/// One comparison of a figure with a limit, for a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// e.g. `cost per 1,000 requests`
    pub name: String,
    pub value: Option<Money>,
    pub limit: f64,
    /// true: the figure may be at most the limit; false: at least.
    pub max: bool,
}

/// The verdict of one model against its targets, with the reason; `units` adds the checks
/// of its unit targets (see [`unit_checks`]).
pub fn verdict(
    e: &UnitEconomics,
    t: &crate::config::TargetSet,
    units: &[Check],
) -> (String, Option<String>) {
    let check = |name: &str, value: Option<Money>, limit: Option<f64>, max: bool| {
        limit.map(|limit| Check {
            name: name.to_string(),
            value,
            limit,
            max,
        })
    };
    let checks: Vec<Check> = [
        check(
            "cost per 1,000 requests",
            e.cost_per_1000_requests,
            t.max_cost_per_1000_requests,
            true,
        ),
        check(
            "cost % of revenue",
            e.cost_pct_of_revenue,
            t.max_cost_pct_of_revenue,
            true,
        ),
        check("ROI", e.roi, t.min_roi, false),
    ]
    .into_iter()
    .flatten()
    .chain(units.iter().cloned())
    .collect();
    judge(&checks, reason::NO_TARGETS)
}

/// over_target when any check fails, within_target when every figure was compared and
/// passed, else no_target; the reason lists the comparisons (or `none`).
fn judge(checks: &[Check], none: &str) -> (String, Option<String>) {
    let mut checked = Vec::new();
    let mut over = Vec::new();
    let mut unknown = Vec::new();
    for c in checks {
        let Ok(l) = Money::from_f64(c.limit) else {
            continue;
        };
        let (ok, bad) = if c.max { ("<=", ">") } else { (">=", "<") };
        // four significant decimals, unless rounding would show the comparison wrong (0.3550
        // <= 0.3549826): then every decimal
        let shown = |v: Money| {
            let short = v.to_fixed_nonzero(4);
            match Money::parse(&short).map(|s| s.cmp(&l)) {
                Ok(order) if order == v.cmp(&l) => short,
                _ => v.to_string(),
            }
        };
        match c.value {
            None => unknown.push(format!("no {} to compare", c.name)),
            Some(v) if (c.max && v > l) || (!c.max && v < l) => {
                over.push(format!("{} {} {bad} {}", c.name, shown(v), l))
            }
            Some(v) => checked.push(format!("{} {} {ok} {}", c.name, shown(v), l)),
        }
    }
    if !over.is_empty() {
        ("over_target".into(), Some(over.join("; ")))
    } else if !checked.is_empty() {
        ("within_target".into(), Some(checked.join("; ")))
    } else if !unknown.is_empty() {
        ("no_target".into(), Some(unknown.join("; ")))
    } else {
        ("no_target".into(), Some(none.into()))
    }
}

/// The cost per unit, per 1,000 and per 1,000,000 units of `total` over `quantity`, each
/// rounded half away from zero at 18 decimals; each None for a zero quantity, or on its own
/// when it leaves decimal(38,18).
pub fn per_units(total: Money, quantity: Money) -> [Option<Money>; 3] {
    [1, 1000, 1_000_000].map(|scale| total.per(scale, quantity))
}

/// The checks of one unit's target against its costs (from [`per_units`]).
pub fn unit_checks(
    target: crate::config::UnitTarget,
    unit: &str,
    costs: [Option<Money>; 3],
) -> Vec<Check> {
    [
        (
            format!("cost per unit of {unit}"),
            target.max_cost_per_unit,
            0,
        ),
        (
            format!("cost per 1,000 {unit}"),
            target.max_cost_per_1000,
            1,
        ),
        (format!("cost per 1M {unit}"), target.max_cost_per_1m, 2),
    ]
    .into_iter()
    .filter_map(|(name, limit, i)| {
        limit.map(|limit| Check {
            name,
            value: costs[i],
            limit,
            max: true,
        })
    })
    .collect()
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
        let reason = if model_id == crate::allocate::amortize::DEFERRED_TRAINING {
            Some(reason::DEFERRED_TRAINING)
        } else if reserved {
            Some(reason::UNALLOCATED)
        } else if volumes.is_none() {
            Some(reason::NO_VOLUMES)
        } else if requests.is_none() {
            report
                .models_without_volumes
                .push((period.clone(), model_id.clone()));
            Some(reason::NO_REQUESTS)
        } else if requests == Some(0) {
            Some(reason::ZERO_REQUESTS)
        } else {
            None
        };
        let (requests_out, per_request, per_1000) = match (reason, requests) {
            (None, Some(n)) => (
                Some(n),
                total_cost.div_int(i128::from(n)),
                total_cost.mul_int_div(1000, i128::from(n)),
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
            economics.reason = Some(reason::NO_REVENUE_FILE.into());
        } else if rev.is_none() && preserved.is_none() {
            economics.reason = Some("no revenue for model".into());
        }
        let (verdict, verdict_reason) = if reserved {
            (
                "no_target".to_string(),
                Some(reason::NOT_A_MODEL.to_string()),
            )
        } else {
            // the targets of the units the model served besides requests
            let units: Vec<Check> = volumes
                .and_then(|v| v.units.get(&(period.clone(), model_id.clone())))
                .into_iter()
                .flatten()
                .flat_map(|(unit, quantity)| {
                    unit_checks(
                        targets.for_unit(&model_id, unit),
                        unit,
                        per_units(total_cost, *quantity),
                    )
                })
                .collect();
            verdict(&economics, &targets.for_model(&model_id), &units)
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
            // a figure with requests but no value only happens when it left decimal(38,18)
            reason: reason
                .or((requests_out.is_some() && per_1000.is_none()).then_some(OUT_OF_RANGE))
                .map(str::to_string),
            revenue: rev,
            value_preserved: preserved,
            economics,
            verdict,
            verdict_reason,
            billing_status: None,
        });
    }
    if let Some(v) = volumes {
        let mut missing_periods = BTreeSet::new();
        // every (period, model) with a volume in any unit
        let keys: BTreeSet<&(String, String)> = v.requests.keys().chain(v.units.keys()).collect();
        for (period, model) in keys {
            if !periods.contains(period) {
                missing_periods.insert(period.clone());
            } else if !with_spend.contains(&(period.clone(), model.clone())) {
                let n = v.requests.get(&(period.clone(), model.clone()));
                report.unknown_models.push((
                    period.clone(),
                    model.clone(),
                    n.copied().unwrap_or(0),
                ));
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
            dimensions: Vec::new(),
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
            ..Default::default()
        };
        assert_eq!(
            verdict(&e, &t(Some(0.5), Some(1.0), Some(10.0)), &[]).0,
            "within_target"
        );
        let (v, why) = verdict(&e, &t(Some(0.3), None, None), &[]);
        assert_eq!(v, "over_target");
        assert_eq!(why.unwrap(), "cost per 1,000 requests 0.3944 > 0.3");
        assert_eq!(
            verdict(&e, &t(None, None, None), &[]),
            ("no_target".into(), Some("no targets configured".into()))
        );
        let no_revenue = unit_economics(m("1"), Some(1), None, None);
        assert_eq!(
            verdict(&no_revenue, &t(None, Some(5.0), None), &[]).0,
            "no_target"
        );
    }

    /// Unit targets: a model's own limits win, each on its own, over the defaults (keys are
    /// unit names here; loading makes them so, see the config tests);
    /// `max_cost_per_1m_tokens` is the per-1m limit of `tokens`. A unit
    /// over its limit makes the model over target. By hand: 177.4913 over 500,000,000 tokens
    /// is 0.3549826 per 1M; over 15 GPU-hours 11.8327533... per hour, 11832.75... per 1,000.
    #[test]
    fn unit_targets_judge_the_cost_per_unit() {
        let targets: crate::config::TargetsConfig = toml::from_str(
            "max_cost_per_1m_tokens = 0.3\n[units.gpu_hours]\nmax_cost_per_unit = 10\n\
             [models.m]\nmax_cost_per_1m_tokens = 0.5\n[models.m.units.gpu_hours]\nmax_cost_per_1000 = 9000\n",
        )
        .unwrap();
        assert_eq!(targets.for_unit("m", "tokens").max_cost_per_1m, Some(0.5));
        assert_eq!(targets.for_unit("x", "tokens").max_cost_per_1m, Some(0.3));
        let gpu = targets.for_unit("m", "gpu_hours");
        assert_eq!(
            (gpu.max_cost_per_unit, gpu.max_cost_per_1000),
            (Some(10.0), Some(9000.0))
        );
        assert_eq!(targets.for_unit("m", "images"), Default::default());
        let m = |s: &str| Money::parse(s).unwrap();
        let tokens = per_units(m("177.4913"), m("500000000"));
        assert_eq!(tokens[2].unwrap().to_string(), "0.3549826");
        let checks = unit_checks(targets.for_unit("x", "tokens"), "tokens", tokens);
        let e = unit_economics(m("177.4913"), Some(1_000_000), None, None);
        let (v, why) = verdict(&e, &targets.for_model("x"), &checks);
        assert_eq!(
            (v.as_str(), why.as_deref()),
            ("over_target", Some("cost per 1M tokens 0.3550 > 0.3"))
        );
        let gpu = per_units(m("177.4913"), m("15"));
        let checks = unit_checks(targets.for_unit("m", "gpu_hours"), "gpu_hours", gpu);
        let (v, why) = verdict(&e, &targets.for_model("m"), &checks);
        assert_eq!(v, "over_target");
        assert_eq!(
            why.as_deref(),
            Some("cost per unit of gpu_hours 11.8328 > 10; cost per 1,000 gpu_hours 11832.7533 > 9000")
        );
        // a shown value never contradicts its limit: 0.3549826 is not shown as 0.3550
        let exact = unit_checks(
            crate::config::UnitTarget {
                max_cost_per_1m: Some(0.3549826),
                ..Default::default()
            },
            "tokens",
            tokens,
        );
        assert_eq!(
            verdict(&e, &targets.for_model("x"), &exact).1.as_deref(),
            Some("cost per 1M tokens 0.3549826 <= 0.3549826")
        );
        // rounded half away from zero, not truncated: 2 / 3 = 0.666...667
        assert_eq!(
            per_units(m("2"), m("3"))[0].unwrap().to_string(),
            "0.666666666666666667"
        );
        // each figure on its own: 10^19 over 1,000 fits per unit and per 1,000, not per 1M
        let big = per_units(m("10000000000000000000"), m("1000"));
        assert_eq!(
            big.map(|c| c.map(|c| c.to_string())),
            [
                Some("10000000000000000".into()),
                Some("10000000000000000000".into()),
                None
            ]
        );
        // a zero quantity has nothing to compare
        let checks = unit_checks(
            targets.for_unit("x", "tokens"),
            "tokens",
            per_units(m("1"), Money::ZERO),
        );
        assert_eq!(
            verdict(&e, &targets.for_model("x"), &checks).1.as_deref(),
            Some("no cost per 1M tokens to compare")
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
