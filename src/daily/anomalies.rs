//! Anomalies of daily grain: a model's day is flagged when its cost (or its cost per request)
//! departs from the same model's trailing baseline by a robust score, and the change is worth
//! money. The method (docs/allocation.md, "Daily grain and anomalies"): the baseline is the
//! median of the days the model was billed on in the `window_days` before the day (at least
//! `min_history_days` of them); the spread is the median absolute deviation (MAD) from it; the
//! score is |value - median| / (1.4826 x MAD), 1.4826 making the MAD comparable to a standard
//! deviation. A day is flagged when its score reaches `threshold` (or the MAD is 0 and the
//! value moved at all) and the spend the change stands for reaches `min_change`. Each flag
//! splits the change of cost into a volume effect (the baseline cost per request times the
//! change of requests) and a spend effect (the rest), which add up to it exactly.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::config::AnomaliesConfig;
use crate::money::{Money, ONE};

/// Scales a MAD to a standard deviation of normally distributed values.
const MAD_TO_SIGMA: f64 = 1.4826;

/// The largest score written.
const MAX_SCORE: f64 = 1e15;

/// The settings of the method, the config's or the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Method {
    pub window_days: i64,
    pub min_history_days: usize,
    pub threshold: f64,
    pub min_change: Money,
}

impl Default for Method {
    fn default() -> Method {
        Method {
            window_days: 14,
            min_history_days: 7,
            threshold: 3.5,
            min_change: Money(10 * ONE),
        }
    }
}

impl Method {
    pub fn from_config(c: &AnomaliesConfig) -> Method {
        let d = Method::default();
        let window_days = c.window_days.map_or(d.window_days, |w| w as i64);
        Method {
            window_days,
            // at most the window (`config::validate`)
            min_history_days: c
                .min_history_days
                .map_or(d.min_history_days, |m| m as usize)
                .min(window_days as usize),
            threshold: c.threshold.unwrap_or(d.threshold),
            // a config amount is at most 10^15: it has an exact decimal
            min_change: c
                .min_change
                .and_then(|m| Money::from_f64(m).ok())
                .unwrap_or(d.min_change),
        }
    }
}

/// One model's day: what it cost and the requests it served (None: no volume that day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub cost: Money,
    pub requests: Option<i64>,
}

/// (model, currency) -> day -> its cost and requests: the days the model was billed on.
pub type Series = BTreeMap<(String, String), BTreeMap<NaiveDate, Day>>;

/// One row of `anomalies`.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub day: NaiveDate,
    pub model_id: String,
    pub currency: String,
    /// `cost` or `cost_per_request`.
    pub metric: &'static str,
    pub value: Money,
    pub baseline: Money,
    pub mad: Money,
    /// None when the MAD is 0 (every day of the window alike).
    pub score: Option<Money>,
    pub history_days: usize,
    pub cost: Money,
    pub baseline_cost: Money,
    pub requests: Option<i64>,
    pub baseline_requests: Option<Money>,
    /// cost - baseline_cost = spend_effect + volume_effect.
    pub spend_effect: Money,
    pub volume_effect: Option<Money>,
}

impl Anomaly {
    /// The billing month of the day (the partition it is written to).
    pub fn period(&self) -> String {
        self.day.format("%Y-%m").to_string()
    }

    pub fn change(&self) -> Money {
        self.cost - self.baseline_cost
    }
}

/// The median of `values` (the mean of the middle two for an even count, rounded toward zero
/// at 10^-18); None when empty.
fn median(mut values: Vec<Money>) -> Option<Money> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        // `midpoint` cannot overflow, whatever the two amounts
        _ => Some(Money(values[n / 2 - 1].0.midpoint(values[n / 2].0))),
    }
}

/// The median and the MAD of `values`; None when empty or when a deviation leaves
/// decimal(38,18) (amounts near its limits: no baseline, so no judgement).
fn median_mad(values: &[Money]) -> Option<(Money, Money)> {
    let m = median(values.to_vec())?;
    let deviations: Option<Vec<Money>> = values
        .iter()
        .map(|v| v.checked_sub(m).map(|d| Money(d.0.abs())))
        .collect();
    Some((m, median(deviations?)?))
}

/// Whether `dev` away from a baseline of spread `mad` is flagged, and its score.
fn judged(dev: Money, mad: Money, money: Money, method: &Method) -> (bool, Option<Money>) {
    if money.0.abs() < method.min_change.0 || dev.is_zero() {
        return (false, None);
    }
    match Money(dev.0.abs()).ratio(mad) {
        None => (true, None),
        Some(r) => {
            let score = r / MAD_TO_SIGMA;
            // shown at most 10^15 (a MAD of 10^-18 against a jump of thousands), never null
            let shown = Money::from_f64((score.min(MAX_SCORE) * 100.0).round() / 100.0).ok();
            (score >= method.threshold, shown)
        }
    }
}

/// The days of `days` (the run's) on which a model of `series` departs from its baseline.
pub fn detect(series: &Series, days: &BTreeSet<NaiveDate>, method: &Method) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for ((model, currency), history) in series {
        for (&day, today) in history.range(days.first().copied().unwrap_or(NaiveDate::MAX)..) {
            if !days.contains(&day) {
                continue;
            }
            let from = day - chrono::Duration::days(method.window_days);
            let window: Vec<&Day> = history.range(from..day).map(|(_, d)| d).collect();
            if window.len() < method.min_history_days {
                continue;
            }
            let costs: Vec<Money> = window.iter().map(|d| d.cost).collect();
            let Some((baseline_cost, cost_mad)) = median_mad(&costs) else {
                continue;
            };
            let served: Vec<i64> = window.iter().filter_map(|d| d.requests).collect();
            let baseline_requests = (served.len() >= method.min_history_days)
                .then(|| median(served.iter().map(|n| Money(i128::from(*n) * ONE)).collect()))
                .flatten();
            let Some(change) = today.cost.checked_sub(baseline_cost) else {
                continue;
            };
            // volume effect: the baseline cost per request times the change of requests
            let volume_effect = match (today.requests, baseline_requests) {
                (Some(n), Some(v0)) if !v0.is_zero() => Money(i128::from(n) * ONE - v0.0)
                    .checked_mul(baseline_cost)
                    .and_then(|x| x.per(1, v0)),
                _ => None,
            };
            let Some(spend_effect) = change.checked_sub(volume_effect.unwrap_or_default()) else {
                continue;
            };
            let row = |metric, value, baseline, mad, score| Anomaly {
                day,
                model_id: model.clone(),
                currency: currency.clone(),
                metric,
                value,
                baseline,
                mad,
                score,
                history_days: window.len(),
                cost: today.cost,
                baseline_cost,
                requests: today.requests,
                baseline_requests,
                spend_effect,
                volume_effect,
            };
            let (flag, score) = judged(change, cost_mad, change, method);
            if flag {
                out.push(row("cost", today.cost, baseline_cost, cost_mad, score));
            }
            // the unit cost, over the window's days that served requests
            let per = |d: &Day| {
                d.requests
                    .filter(|n| *n > 0)
                    .and_then(|n| d.cost.per(1, Money(i128::from(n) * ONE)))
            };
            let unit: Vec<Money> = window.iter().filter_map(|d| per(d)).collect();
            let (Some(u), true) = (per(today), unit.len() >= method.min_history_days) else {
                continue;
            };
            let Some((u0, unit_mad)) = median_mad(&unit) else {
                continue;
            };
            let Some(dev) = u.checked_sub(u0) else {
                continue;
            };
            // the spend the change of unit cost stands for at today's volume
            let money = today
                .requests
                .and_then(|n| dev.checked_mul(Money(i128::from(n) * ONE)))
                .unwrap_or(dev);
            let (flag, score) = judged(dev, unit_mad, money, method);
            if flag {
                out.push(row("cost_per_request", u, u0, unit_mad, score));
            }
        }
    }
    out.sort_by(|a, b| {
        (a.day, &a.model_id, &a.currency, a.metric).cmp(&(
            b.day,
            &b.model_id,
            &b.currency,
            b.metric,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    /// Fourteen ordinary days then a jump: the jump is flagged with exact effects.
    #[test]
    fn a_jump_after_a_steady_fortnight() {
        let mut days = BTreeMap::new();
        for d in 1..=14 {
            // 100, 102, 98, 100, ... : median 100, MAD 2
            let cost = ["100", "102", "98"][(d % 3) as usize];
            days.insert(
                date(d),
                Day {
                    cost: m(cost),
                    requests: Some(1000),
                },
            );
        }
        days.insert(
            date(15),
            Day {
                cost: m("180"),
                requests: Some(1500),
            },
        );
        let series = Series::from([(("a".into(), "USD".into()), days)]);
        let run = BTreeSet::from([date(14), date(15)]);
        let found = detect(&series, &run, &Method::default());
        assert_eq!(found.len(), 2, "{found:?}");
        let a = &found[0];
        assert_eq!((a.day, a.metric), (date(15), "cost"));
        assert_eq!((a.baseline, a.mad), (m("100"), m("2")));
        // 80 / (1.4826 x 2) = 26.98
        assert_eq!(a.score, Some(m("26.98")));
        assert_eq!(a.baseline_requests, Some(m("1000")));
        // volume: 100/1000 per request x 500 more requests = 50; spend: the other 30
        assert_eq!(a.volume_effect, Some(m("50")));
        assert_eq!(a.spend_effect, m("30"));
        assert_eq!(a.spend_effect + a.volume_effect.unwrap(), a.change());
        // the cost per request moved too: 0.12 against 0.10 (MAD 0.002), 30 at 1,500 requests
        let u = &found[1];
        assert_eq!(
            (u.metric, u.value, u.baseline),
            ("cost_per_request", m("0.12"), m("0.1"))
        );
        assert_eq!((u.mad, u.score), (m("0.002"), Some(m("6.74"))));
    }

    /// A small change is not worth a flag, however unusual; too little history is no baseline.
    #[test]
    fn floor_and_history() {
        let mut days = BTreeMap::new();
        for d in 1..=10 {
            days.insert(
                date(d),
                Day {
                    cost: m("5"),
                    requests: None,
                },
            );
        }
        days.insert(
            date(11),
            Day {
                cost: m("14.99"),
                requests: None,
            },
        );
        days.insert(
            date(12),
            Day {
                cost: m("15"),
                requests: None,
            },
        );
        let series = Series::from([(("a".into(), "USD".into()), days.clone())]);
        let run: BTreeSet<NaiveDate> = (1..=12).map(date).collect();
        let found = detect(&series, &run, &Method::default());
        // day 11: +9.99 < 10; day 12: +10 against a constant baseline (MAD 0, no score)
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].day, found[0].score, found[0].volume_effect),
            (date(12), None, None)
        );
        assert_eq!(found[0].spend_effect, m("10"));
        // day 12 has 11 days before it, day 11 ten
        let short = Method {
            min_history_days: 12,
            ..Method::default()
        };
        assert!(detect(&series, &run, &short).is_empty());
    }

    /// Cost steady but requests collapse: the unit cost is flagged, the cost is not.
    #[test]
    fn unit_cost_jump_at_flat_cost() {
        let mut days = BTreeMap::new();
        for d in 1..=14 {
            days.insert(
                date(d),
                Day {
                    cost: m("100"),
                    requests: Some(10_000),
                },
            );
        }
        days.insert(
            date(15),
            Day {
                cost: m("100"),
                requests: Some(2_000),
            },
        );
        let series = Series::from([(("a".into(), "USD".into()), days)]);
        let found = detect(&series, &BTreeSet::from([date(15)]), &Method::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let a = &found[0];
        assert_eq!(
            (a.metric, a.value, a.baseline),
            ("cost_per_request", m("0.05"), m("0.01"))
        );
        // the cost did not change: -80 of volume, +80 of spend
        assert_eq!((a.volume_effect, a.spend_effect), (Some(m("-80")), m("80")));
    }

    /// Amounts near the limits of decimal(38,18) give no baseline rather than a wrapped one.
    #[test]
    fn no_overflow_near_the_limits() {
        let big = Money(crate::money::MAX_ABS);
        assert_eq!(median(vec![big, big]), Some(big));
        assert_eq!(
            median(vec![Money(-crate::money::MAX_ABS), big]),
            Some(Money::ZERO)
        );
        assert_eq!(median_mad(&[Money(-crate::money::MAX_ABS), big, big]), None);
        let mut days = BTreeMap::new();
        for d in 1..=3 {
            days.insert(
                date(d),
                Day {
                    cost: Money(-crate::money::MAX_ABS),
                    requests: None,
                },
            );
        }
        days.insert(
            date(4),
            Day {
                cost: big,
                requests: None,
            },
        );
        let series = Series::from([(("a".into(), "USD".into()), days)]);
        let method = Method {
            min_history_days: 2,
            ..Method::default()
        };
        assert!(detect(&series, &BTreeSet::from([date(4)]), &method).is_empty());
        // a tiny MAD against a large jump: a capped score, not a null one
        let (flag, score) = judged(m("1000"), Money(2), m("1000"), &Method::default());
        assert!(flag);
        assert_eq!(score, Some(Money::from_f64(1e15).unwrap()));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![m("3"), m("1"), m("2")]), Some(m("2")));
        assert_eq!(median(vec![m("1"), m("2")]), Some(m("1.5")));
        assert_eq!(median(vec![]), None);
        assert_eq!(
            median_mad(&[m("1"), m("2"), m("9")]),
            Some((m("2"), m("1")))
        );
    }
}
