//! The daily stage of the attribute job (`--grain day`): the run's lines attributed by
//! charge day (`daily`), the published days the anomaly window looks back on, the anomalies
//! of the run's days, and the manifest's account of them.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;

use crate::allocate::rules::RuleSet;
use crate::config::Config;
use crate::daily::anomalies::{self, Anomaly, Day, Method, Series};
use crate::daily::{self, Daily};
use crate::error::Result;
use crate::ingest::SourceGroup;
use crate::ledger;
use crate::money::Money;
use crate::output;
use crate::volumes::Volumes;

/// What the daily stage hands to publishing.
pub(super) struct Days {
    pub daily: Daily,
    pub anomalies: Vec<Anomaly>,
    pub info: output::DailyInfo,
}

/// Attributes `groups` (the billing groups by charge day; `BillingRead::split_off_days`).
pub(super) fn attribute(
    out: &Path,
    groups: &[SourceGroup],
    rules: &RuleSet,
    volumes: Option<&Volumes>,
    config: &Config,
    period: Option<&str>,
    periods: &BTreeSet<String>,
) -> Result<Days> {
    let ledger = ledger::build(groups, config, period)?;
    let daily = daily::attribute(ledger, groups, rules, volumes, &config.targets);
    let undated_rows: u64 = daily.undated.values().map(|(rows, _)| rows).sum();
    if undated_rows > 0 {
        let cost: Vec<String> = daily
            .undated
            .iter()
            .map(|((p, c), (_, cost))| format!("{cost} {c} in {p}"))
            .collect();
        tracing::warn!(
            "{undated_rows} billing rows ({}) have no charge day (their charge period is missing or not a date): the daily tables hold them with an empty charge_date, and no anomaly looks at them",
            cost.join(", ")
        );
    }
    if let Some(v) = volumes.filter(|v| daily.daily_volumes && v.monthly_rows > 0) {
        tracing::warn!(
            "{} volume row(s) give a month, not a day: they count in the monthly unit costs only, not in unit_costs_daily",
            v.monthly_rows
        );
    }
    if daily.served_without_spend > 0 {
        tracing::warn!(
            "{} model-day(s) have requests but no spend that day: they are in unit_costs, not in unit_costs_daily",
            daily.served_without_spend
        );
    }
    if volumes.is_some() && !daily.daily_volumes {
        tracing::warn!(
            "the volumes give months, not days: unit_costs_daily has no requests, and a day's shared cost split by requests weighs by the month's requests (give a `date` per row for daily volumes)"
        );
    }
    let method = Method::from_config(&config.anomalies);
    let mut series = Series::new();
    let mut run_days: BTreeSet<NaiveDate> = BTreeSet::new();
    for r in &daily.unit_rows {
        let (month, Some(day)) = daily::split(&r.period) else {
            continue;
        };
        let Some(date) = in_month_date(month, day) else {
            continue;
        };
        run_days.insert(date);
        add(
            &mut series,
            date,
            &r.model_id,
            &r.currency,
            r.total_cost,
            r.requests,
        );
    }
    for month in reached_months(periods, method.window_days, true) {
        let days = output::read_daily_totals(out, &month)?;
        if days.is_empty() && output::part_path(out, output::COST_BY_MODEL, &month).exists() {
            tracing::warn!(
                "the anomaly window reaches back into {month}, which was published without `--grain day`: days after it are judged on fewer days (attribute {month} with `--grain day` to give them their baseline)"
            );
        }
        for (day, model, currency, cost, requests) in days {
            if let Some(date) = in_month_date(&month, &day) {
                add(&mut series, date, &model, &currency, cost, requests);
            }
        }
    }
    let stale = stale_anomalies(out, periods, config)?;
    let found = anomalies::detect(&series, &run_days, &method);
    // one row per model-day (`cost` sorts before `cost_per_request`), largest change first
    let mut largest: Vec<&Anomaly> = found.iter().collect();
    largest.dedup_by(|b, a| (a.day, &a.model_id, &a.currency) == (b.day, &b.model_id, &b.currency));
    let flagged_days = largest.len();
    largest.sort_by(|a, b| {
        b.change()
            .0
            .abs()
            .cmp(&a.change().0.abs())
            .then((a.day, &a.model_id, a.metric).cmp(&(b.day, &b.model_id, b.metric)))
    });
    let info = output::DailyInfo {
        days: daily
            .allocation
            .rows
            .iter()
            .filter_map(|r| daily::split(&r.period).1)
            .collect::<BTreeSet<_>>()
            .len(),
        volumes: match (volumes.is_some(), daily.daily_volumes) {
            (_, true) => "day",
            (true, false) => "month",
            (false, false) => "none",
        }
        .to_string(),
        undated_rows,
        undated_cost: daily
            .undated
            .iter()
            .map(|((p, c), (_, cost))| (format!("{p} {c}"), *cost))
            .collect(),
        window_days: method.window_days,
        min_history_days: method.min_history_days,
        threshold: method.threshold,
        min_change: method.min_change,
        anomalies: found.len(),
        flagged_days,
        stale_anomalies: stale,
        largest: largest
            .into_iter()
            .take(5)
            .map(|a| output::AnomalyInfo {
                charge_date: a.day.format("%Y-%m-%d").to_string(),
                model_id: a.model_id.clone(),
                currency: a.currency.clone(),
                metric: a.metric.to_string(),
                value: a.value,
                baseline: a.baseline,
                cost_change: a.change(),
                spend_effect: a.spend_effect,
                volume_effect: a.volume_effect,
            })
            .collect(),
    };
    Ok(Days {
        daily,
        anomalies: found,
        info,
    })
}

/// The date of `day` when it lies in billing month `month` (late charges are no day of the
/// model's series).
fn in_month_date(month: &str, day: &str) -> Option<NaiveDate> {
    daily::in_month(month, day)
        .then(|| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
        .flatten()
}

fn add(
    series: &mut Series,
    date: NaiveDate,
    model: &str,
    currency: &str,
    cost: Money,
    requests: Option<i64>,
) {
    series
        .entry((model.to_string(), currency.to_string()))
        .or_default()
        .insert(date, Day { cost, requests });
}

/// The months the anomaly windows of the run's months reach into (`back`: the window of each
/// month's first day, reaching back), or the months whose windows reach into the run's months
/// (forward: a window of `window_days` after each month's last day); the run's own months
/// aside.
fn reached_months(periods: &BTreeSet<String>, window_days: i64, back: bool) -> Vec<String> {
    let mut months = BTreeSet::new();
    for p in periods {
        let Some(first) = NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").ok() else {
            continue;
        };
        let window = chrono::Duration::days(window_days);
        // a month at the ends of the calendar has no month beyond them
        let bounds = match back {
            true => first.checked_sub_signed(window).map(|d| (d, first)),
            false => first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|next| Some((next, next.checked_add_signed(window)?))),
        };
        let Some((mut d, end)) = bounds else {
            continue;
        };
        while d < end {
            months.insert(d.format("%Y-%m").to_string());
            d += chrono::Duration::days(1);
        }
    }
    months
        .into_iter()
        .filter(|m| !periods.contains(m))
        .collect()
}

/// The published months whose anomalies looked back into the run's months, judged against
/// the days this run replaces (a monthly run removes them): each is warned about.
pub(super) fn stale_anomalies(
    out: &Path,
    periods: &BTreeSet<String>,
    config: &Config,
) -> Result<Vec<String>> {
    let window = Method::from_config(&config.anomalies).window_days;
    let stale: Vec<String> = reached_months(periods, window, false)
        .into_iter()
        .filter(|m| output::part_path(out, output::ANOMALIES, m).exists())
        .collect();
    for month in &stale {
        tracing::warn!(
            "the published anomalies of {month} were judged against the days this run replaces: attribute {month} again with `--grain day` to judge its days against them"
        );
    }
    Ok(stale)
}
