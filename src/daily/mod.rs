//! Daily grain (`attribute --grain day`): the run's counted lines attributed again, each
//! (billing month, charge day) on its own, by the same rules, pools and spreads as the
//! monthly attribution, joined to the day's volumes; and the days whose cost or unit cost
//! departs from the model's trailing baseline (`anomalies`). Amortisation is a monthly view
//! and is not applied here: a day shows the training charged on it. No I/O.

pub mod anomalies;

use std::collections::{BTreeMap, BTreeSet};

use crate::allocate::{self, rules::RuleSet, Allocation, Requests};
use crate::config::TargetsConfig;
use crate::economics::{self, UnitCostRow};
use crate::ingest::SourceGroup;
use crate::ledger::Ledger;
use crate::money::{Money, ONE};
use crate::volumes::Volumes;

/// Separates the billing month from the charge day in a daily period key.
const SEP: char = '/';

/// The period key of a billing month and charge day, by which the daily attribution groups
/// (`2026-10/2026-10-03`; `2026-10/` for lines without a charge day). Keys sort by month,
/// then day.
pub fn key(period: &str, day: Option<&str>) -> String {
    format!("{period}{SEP}{}", day.unwrap_or(""))
}

/// The billing month and charge day of a daily period key.
pub fn split(key: &str) -> (&str, Option<&str>) {
    match key.split_once(SEP) {
        Some((period, day)) => (period, (!day.is_empty()).then_some(day)),
        None => (key, None),
    }
}

/// Whether `day` lies in billing month `period`: a charge dated elsewhere (a late charge)
/// keeps its day but is joined to no volume and kept out of the anomaly series.
pub fn in_month(period: &str, day: &str) -> bool {
    day.len() == 10 && day.starts_with(period) && day.as_bytes()[7] == b'-'
}

/// The cost read per (period, currency, charge day; "" for none): what the daily tables must
/// add up to.
pub type DayTotals = BTreeMap<(String, String, String), Money>;

/// The daily attribution of a run.
#[derive(Debug, Default)]
pub struct Daily {
    /// The cost read per day, for the reconciliation.
    pub read: DayTotals,
    /// `cost_by_model` rows whose period is a daily `key`.
    pub allocation: Allocation,
    /// `unit_costs` rows whose period is a daily `key`.
    pub unit_rows: Vec<UnitCostRow>,
    /// Counted rows without a charge day and their cost, per (period, currency): in the
    /// daily tables with an empty `charge_date`.
    pub undated: BTreeMap<(String, String), (u64, Money)>,
    /// Whether the volumes give any day (else the daily unit costs have no volume, and splits
    /// by requests weigh by the month's requests).
    pub daily_volumes: bool,
    /// Model-days with volumes but no spend (in no daily row).
    pub served_without_spend: usize,
}

/// Attributes the lines of `ledger` (built from `groups`, the groups by charge day) by
/// billing month and charge day.
pub fn attribute(
    mut ledger: Ledger,
    groups: &[SourceGroup],
    rules: &RuleSet,
    volumes: Option<&Volumes>,
    targets: &TargetsConfig,
) -> Daily {
    let mut undated: BTreeMap<(String, String), (u64, Money)> = BTreeMap::new();
    let mut read = DayTotals::new();
    for l in &mut ledger.lines {
        let day = l.day.clone().unwrap_or_default();
        // a month's sum of |cost| is within decimal(38,18) (ledger::build): so is a day's
        *read
            .entry((l.period.clone(), l.currency.clone(), day))
            .or_default() += l.cost;
        if l.day.is_none() {
            let u = undated
                .entry((l.period.clone(), l.currency.clone()))
                .or_default();
            u.0 += l.rows;
            u.1 += l.cost;
        }
        l.period = key(&l.period, l.day.as_deref());
    }
    let keys: BTreeSet<String> = ledger.lines.iter().map(|l| l.period.clone()).collect();
    // a driver file gives a month's quantities: each day of the month weighs by them
    let mut rules = rules.clone();
    for pool in &mut rules.pools {
        let monthly = std::mem::take(&mut pool.driver);
        for k in &keys {
            let (month, _) = split(k);
            for ((p, model), q) in &monthly {
                if p == month {
                    pool.driver.insert((k.clone(), model.clone()), *q);
                }
            }
        }
    }
    let daily_volumes = volumes.is_some_and(|v| !v.days.is_empty());
    let day_volumes = volumes.filter(|_| daily_volumes).map(|v| by_key(v, &keys));
    let requests = volumes.map(|v| split_requests(v, day_volumes.as_ref(), &keys));
    let allocation = allocate::allocate(&ledger, groups, &rules, requests.as_ref());
    let (unit_rows, report) =
        economics::unit_costs(&allocation, day_volumes.as_ref(), None, targets);
    // and the days of the run's months that no billing row is dated to
    let months: BTreeSet<&str> = keys.iter().map(|k| split(k).0).collect();
    let billed_days: BTreeSet<&str> = keys.iter().filter_map(|k| split(k).1).collect();
    let unbilled = volumes.map_or(0, |v| {
        v.days
            .keys()
            .filter(|(day, _)| {
                months.iter().any(|m| in_month(m, day)) && !billed_days.contains(day.as_str())
            })
            .count()
    });
    Daily {
        served_without_spend: report.unknown_models.len() + unbilled,
        read,
        allocation,
        unit_rows,
        undated,
        daily_volumes,
    }
}

/// The day volumes of `v` under the daily keys whose day lies in their month.
fn by_key(v: &Volumes, keys: &BTreeSet<String>) -> Volumes {
    let mut out = Volumes::default();
    for k in keys {
        let (month, Some(day)) = split(k) else {
            continue;
        };
        if !in_month(month, day) {
            continue;
        }
        let from = (day.to_string(), String::new());
        for ((_, model), units) in v.days.range(from..).take_while(|((d, _), _)| d == day) {
            let at = (k.clone(), model.clone());
            if let Some(q) = units.get("requests") {
                // requests are whole and their month's sum fits 64 bits (volumes::read_volumes)
                out.requests
                    .insert(at.clone(), i64::try_from(q.0 / ONE).unwrap_or(i64::MAX));
            }
            out.units.insert(at, units.clone());
        }
    }
    out
}

/// Request weights per daily key: the day's requests where the volumes give them, else the
/// month's (a monthly volumes file still splits a day's shared cost by request share).
fn split_requests(v: &Volumes, days: Option<&Volumes>, keys: &BTreeSet<String>) -> Requests {
    let mut out = Requests::new();
    for k in keys {
        let (month, _) = split(k);
        let daily: Vec<(&String, i64)> = days
            .map(|d| {
                d.requests
                    .range((k.clone(), String::new())..)
                    .take_while(|((key, _), _)| key == k)
                    .map(|((_, model), n)| (model, *n))
                    .collect()
            })
            .unwrap_or_default();
        if !daily.is_empty() {
            for (model, n) in daily {
                out.insert((k.clone(), model.clone()), n);
            }
            continue;
        }
        let from = (month.to_string(), String::new());
        for ((_, model), n) in v
            .requests
            .range(from..)
            .take_while(|((p, _), _)| p == month)
        {
            out.insert((k.clone(), model.clone()), *n);
        }
    }
    out
}
