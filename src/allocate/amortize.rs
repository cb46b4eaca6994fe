//! Training amortisation: with `[amortize] training_months = N` (N > 1), the training spend a
//! model incurs in a month is charged straight-line over that month and the next N - 1, with
//! largest-remainder rounding at the amount's own precision. The not-yet-charged part is a
//! visible balance: in `cost_by_model` it sits under the reserved model `__deferred_training__`
//! (so every month still adds up exactly to its bill), and the `training_amortization` table
//! carries each schedule's balance from month to month, including across separate runs.
//! Pure: it rewrites allocation rows and schedules; reading and writing them is `output`'s job.

use std::collections::BTreeMap;

use crate::allocate::{Allocation, CostByModelRow};
use crate::money::{split_largest_remainder, Money, SCALE};

/// Model id of the training cost incurred but not yet charged.
pub const DEFERRED_TRAINING: &str = "__deferred_training__";

/// One open amortisation schedule: what is left to charge of one month's training spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub model_id: String,
    pub team: String,
    pub currency: String,
    pub incurred_period: String,
    pub incurred_cost: Money,
    pub balance: Money,
    pub months_remaining: u32,
}

/// One row of `training_amortization`: a schedule as of the end of `period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmortizationRow {
    pub period: String,
    pub schedule: Schedule,
    pub charged: Money,
}

/// Decimal places an amount uses (its precision decides the rounding quantum).
fn quantum_of(m: Money) -> i128 {
    let mut v = m.0.unsigned_abs();
    let mut places = SCALE;
    while places > 0 && v != 0 && v.is_multiple_of(10) {
        v /= 10;
        places -= 1;
    }
    if v == 0 {
        places = 0;
    }
    10i128.pow(SCALE - places)
}

/// The next installment of a schedule: the first of `months_remaining` equal shares.
fn installment(s: &Schedule) -> Money {
    if s.months_remaining <= 1 {
        return s.balance;
    }
    let weights = vec![1i128; s.months_remaining as usize];
    split_largest_remainder(s.balance, &weights, quantum_of(s.incurred_cost))
        .and_then(|v| v.first().copied())
        .unwrap_or(s.balance)
}

/// Rewrites `alloc` for the run's `periods` (sorted) and returns the schedule rows per period.
/// `opening` are the schedules still open after the month before the first period.
pub fn amortize(
    alloc: &mut Allocation,
    months: u32,
    opening: Vec<Schedule>,
    periods: &[String],
) -> Vec<AmortizationRow> {
    if months <= 1 && opening.is_empty() {
        return Vec::new();
    }
    let mut open: Vec<Schedule> = opening
        .into_iter()
        .filter(|s| !s.balance.is_zero() && s.months_remaining > 0)
        .collect();
    let mut out = Vec::new();
    let mut extra: Vec<CostByModelRow> = Vec::new();
    let row = |period: &str,
               model: &str,
               team: &str,
               currency: &str,
               method: &str,
               pool: String,
               cost: Money| CostByModelRow {
        period: period.to_string(),
        currency: currency.to_string(),
        model_id: model.to_string(),
        team: team.to_string(),
        lifecycle_phase: "training".into(),
        allocation_method: method.to_string(),
        cost,
        rows: 0,
        rule_id: None,
        source_pool: Some(pool),
        share: None,
    };
    for period in periods {
        // 1. installments of schedules opened in earlier months
        for s in open.iter_mut() {
            let inst = installment(s);
            let pool = format!("training:{}", s.incurred_period);
            extra.push(row(
                period,
                &s.model_id,
                &s.team,
                &s.currency,
                "amortized",
                pool.clone(),
                inst,
            ));
            extra.push(row(
                period,
                DEFERRED_TRAINING,
                &s.team,
                &s.currency,
                "deferred",
                format!("{pool}:{}", s.model_id),
                Money(-inst.0),
            ));
            s.balance = s.balance - inst;
            s.months_remaining -= 1;
            out.push(AmortizationRow {
                period: period.clone(),
                schedule: s.clone(),
                charged: inst,
            });
        }
        open.retain(|s| s.months_remaining > 0 && !s.balance.is_zero());
        // 2. training incurred this month: charge the first installment, defer the rest
        if months > 1 {
            let mut incurred: BTreeMap<(String, String, String), Money> = BTreeMap::new();
            for r in alloc.rows.iter().filter(|r| {
                &r.period == period
                    && r.lifecycle_phase == "training"
                    && crate::schema::is_model(&r.model_id)
            }) {
                *incurred
                    .entry((r.model_id.clone(), r.team.clone(), r.currency.clone()))
                    .or_default() += r.cost;
            }
            for ((model, team, currency), cost) in incurred {
                if cost.is_zero() {
                    continue;
                }
                let mut s = Schedule {
                    model_id: model.clone(),
                    team: team.clone(),
                    currency: currency.clone(),
                    incurred_period: period.clone(),
                    incurred_cost: cost,
                    balance: cost,
                    months_remaining: months,
                };
                let inst = installment(&s);
                let deferred = cost - inst;
                let pool = format!("training:{period}");
                extra.push(row(
                    period,
                    &model,
                    &team,
                    &currency,
                    "deferred",
                    pool.clone(),
                    Money(-deferred.0),
                ));
                extra.push(row(
                    period,
                    DEFERRED_TRAINING,
                    &team,
                    &currency,
                    "deferred",
                    format!("{pool}:{model}"),
                    deferred,
                ));
                s.balance = deferred;
                s.months_remaining -= 1;
                out.push(AmortizationRow {
                    period: period.clone(),
                    schedule: s.clone(),
                    charged: inst,
                });
                if s.months_remaining > 0 && !s.balance.is_zero() {
                    open.push(s);
                }
            }
        }
    }
    alloc.rows.extend(extra);
    // keep the documented row order: (period, currency, model, team, phase, method, ...)
    alloc.rows.sort_by(|a, b| {
        (
            &a.period,
            &a.currency,
            &a.model_id,
            &a.team,
            &a.lifecycle_phase,
            &a.allocation_method,
            &a.rule_id,
            &a.source_pool,
        )
            .cmp(&(
                &b.period,
                &b.currency,
                &b.model_id,
                &b.team,
                &b.lifecycle_phase,
                &b.allocation_method,
                &b.rule_id,
                &b.source_pool,
            ))
    });
    out.sort_by(|a, b| {
        (
            &a.period,
            &a.schedule.currency,
            &a.schedule.model_id,
            &a.schedule.incurred_period,
        )
            .cmp(&(
                &b.period,
                &b.schedule.currency,
                &b.schedule.model_id,
                &b.schedule.incurred_period,
            ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn training(period: &str, model: &str, cost: &str) -> CostByModelRow {
        CostByModelRow {
            period: period.into(),
            currency: "USD".into(),
            model_id: model.into(),
            team: "recsys".into(),
            lifecycle_phase: "training".into(),
            allocation_method: "direct".into(),
            cost: Money::parse(cost).unwrap(),
            rows: 1,
            rule_id: None,
            source_pool: None,
            share: None,
        }
    }

    fn model_total(a: &Allocation, period: &str, model: &str) -> String {
        a.rows
            .iter()
            .filter(|r| r.period == period && r.model_id == model)
            .map(|r| r.cost)
            .sum::<Money>()
            .to_string()
    }

    fn period_total(a: &Allocation, period: &str) -> String {
        a.rows
            .iter()
            .filter(|r| r.period == period)
            .map(|r| r.cost)
            .sum::<Money>()
            .to_string()
    }

    #[test]
    fn three_months_straight_line_with_exact_remainders() {
        let mut a = Allocation {
            basis: "effective",
            rows: vec![
                training("2026-09", "ranker", "100.01"),
                training("2026-10", "ranker", "30"),
            ],
            rule_matches: Default::default(),
        };
        let periods = vec!["2026-09".to_string(), "2026-10".to_string()];
        let sched = amortize(&mut a, 3, Vec::new(), &periods);
        // September: 100.01 over 3 months at cents -> 33.34 now
        assert_eq!(model_total(&a, "2026-09", "ranker"), "33.34");
        assert_eq!(model_total(&a, "2026-09", DEFERRED_TRAINING), "66.67");
        // every month still adds up to what was incurred in it
        assert_eq!(period_total(&a, "2026-09"), "100.01");
        assert_eq!(period_total(&a, "2026-10"), "30");
        // October: 33.34 from September + 10 of October's 30
        assert_eq!(model_total(&a, "2026-10", "ranker"), "43.34");
        let oct: Vec<(String, String, String)> = sched
            .iter()
            .filter(|r| r.period == "2026-10")
            .map(|r| {
                (
                    r.schedule.incurred_period.clone(),
                    r.charged.to_string(),
                    r.schedule.balance.to_string(),
                )
            })
            .collect();
        assert_eq!(
            oct,
            [
                ("2026-09".into(), "33.34".into(), "33.33".into()),
                ("2026-10".into(), "10".into(), "20".into())
            ]
        );
        // a later run continues from the closing schedules
        let opening: Vec<Schedule> = sched
            .iter()
            .filter(|r| r.period == "2026-10")
            .map(|r| r.schedule.clone())
            .collect();
        let mut nov = Allocation {
            basis: "effective",
            rows: vec![],
            rule_matches: Default::default(),
        };
        let s = amortize(&mut nov, 3, opening, &["2026-11".to_string()]);
        assert_eq!(model_total(&nov, "2026-11", "ranker"), "43.33");
        assert_eq!(period_total(&nov, "2026-11"), "0");
        assert_eq!(
            s.iter()
                .map(|r| r.schedule.balance)
                .sum::<Money>()
                .to_string(),
            "10"
        );
    }

    #[test]
    fn one_month_changes_nothing() {
        let mut a = Allocation {
            basis: "effective",
            rows: vec![training("2026-09", "ranker", "100")],
            rule_matches: Default::default(),
        };
        assert!(amortize(&mut a, 1, Vec::new(), &["2026-09".to_string()]).is_empty());
        assert_eq!(a.rows.len(), 1);
    }
}
