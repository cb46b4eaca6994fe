//! Training amortisation: with `[amortize] training_months = N` (N > 1), the training spend a
//! model incurs in a month is charged over that month and the next N - 1: straight line
//! (`method = "months"`), or as the model serves its volume (`method = "served"`), with
//! rounding at the amount's own precision. The not-yet-charged part is a visible balance: in
//! `cost_by_model` it sits under the reserved model `__deferred_training__` (so every month
//! still adds up exactly to its bill), and the `training_amortization` table carries each
//! schedule's balance from month to month, including across separate runs.
//! Pure: it rewrites allocation rows and schedules; reading and writing them is `output`'s job.

use std::collections::BTreeMap;

use crate::allocate::{Allocation, CostByModelRow};
use crate::money::{split_largest_remainder, Money, MAX_ABS, SCALE};

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
    /// Some for a `served` schedule (kept for its whole life, whatever later configs say).
    pub served: Option<ServedBasis>,
}

/// The volume of a `served` schedule: each unit the model serves bears the same share of the
/// training cost, `incurred_cost / planned`, until the cost is used up, the window ends or
/// the model is trained again (then the rest is charged at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedBasis {
    /// The unit of the volumes (`requests` unless `[amortize] unit` says otherwise).
    pub unit: String,
    /// The volume the cost is spread over: the model's volume in the first month it served
    /// any, times the months then left in the window; None until then.
    pub planned: Option<Money>,
    /// The volume served since the schedule opened.
    pub served: Money,
}

/// How new schedules charge: over `months` at most, straight line or as the model serves
/// `served_unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy<'a> {
    pub months: u32,
    pub served_unit: Option<&'a str>,
}

/// The volume of a unit a model served in a month: (period, model, unit) -> quantity.
pub type Volume<'a> = &'a dyn Fn(&str, &str, &str) -> Option<Money>;

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

/// The volume a served schedule is spread over: the first month's `volume` times the months
/// then left in the window (at the edge of decimal(38,18) past it: the cost is used up by then).
pub fn plan(volume: Money, months_remaining: u32) -> Money {
    let months = i128::from(months_remaining.max(1));
    Money(volume.0.saturating_mul(months).min(MAX_ABS))
}

/// The installment of a schedule this month, given the volume its model served in it and
/// whether the model was trained again this month; records the volume on a served schedule.
/// Straight line: the first of `months_remaining` equal shares. Served: the cost of the volume
/// served so far (`incurred x served / planned`, largest-remainder rounded at the amount's
/// precision) less what was charged before, so the installments add up exactly. The last
/// month of the window, or a retraining, charges the whole balance.
fn installment(s: &mut Schedule, volume: Option<Money>, retrained: bool) -> Money {
    let quantum = quantum_of(s.incurred_cost);
    let Some(b) = s.served.as_mut() else {
        if s.months_remaining <= 1 {
            return s.balance;
        }
        let weights = vec![1i128; s.months_remaining as usize];
        return split_largest_remainder(s.balance, &weights, quantum)
            .and_then(|v| v.first().copied())
            .unwrap_or(s.balance);
    };
    if let Some(v) = volume.filter(|v| v.0 > 0) {
        b.planned.get_or_insert(plan(v, s.months_remaining));
        // volumes past decimal(38,18) stop growing at its edge (the cost is used up by then)
        b.served = Money(b.served.0.saturating_add(v.0).min(MAX_ABS));
    }
    if s.months_remaining <= 1 || retrained {
        return s.balance;
    }
    let Some(planned) = b.planned else {
        return Money::ZERO;
    };
    let through = match b.served >= planned {
        true => Some(s.incurred_cost),
        // served < planned <= MAX_ABS: both weights are non-negative and sum to planned
        false => split_largest_remainder(
            s.incurred_cost,
            &[b.served.0, planned.0 - b.served.0],
            quantum,
        )
        .and_then(|v| v.first().copied()),
    };
    let charged_before = s.incurred_cost.checked_sub(s.balance);
    through
        .zip(charged_before)
        .and_then(|(t, c)| t.checked_sub(c))
        .unwrap_or(s.balance)
}

/// Rewrites `alloc` for the run's `periods` (sorted) and returns the schedule rows per period.
/// `opening` are the schedules still open after the month before the first period.
pub fn amortize(
    alloc: &mut Allocation,
    policy: Policy,
    volume: Volume,
    opening: Vec<Schedule>,
    periods: &[String],
) -> Vec<AmortizationRow> {
    let months = policy.months;
    if months <= 1 && opening.is_empty() {
        return Vec::new();
    }
    let mut open: Vec<Schedule> = opening
        .into_iter()
        .filter(|s| !s.balance.is_zero() && s.months_remaining > 0)
        .collect();
    let mut out = Vec::new();
    let mut extra: Vec<CostByModelRow> = Vec::new();
    // the model's own row and the deferred balance's, for one installment
    let mut charge = |period: &str, s: &Schedule, inst: Money, opened: bool| {
        // a served month without volume charges nothing: no rows of zero
        let moved = if opened { s.incurred_cost - inst } else { inst };
        if moved.is_zero() && s.served.is_some() {
            return;
        }
        let row = |model: &str, method: &str, pool: String, cost: Money| CostByModelRow {
            period: period.to_string(),
            currency: s.currency.clone(),
            model_id: model.to_string(),
            team: s.team.clone(),
            lifecycle_phase: "training".into(),
            allocation_method: method.to_string(),
            cost,
            rows: 0,
            rule_id: None,
            source_pool: Some(pool),
            share: None,
            dimensions: Vec::new(),
        };
        let pool = format!("training:{}", s.incurred_period);
        let pool_of_model = format!("{pool}:{}", s.model_id);
        if opened {
            // training incurred this month: all of it is the model's direct spend already;
            // move what is not charged now to the deferred balance
            let deferred = s.incurred_cost - inst;
            extra.push(row(&s.model_id, "deferred", pool, Money(-deferred.0)));
            extra.push(row(DEFERRED_TRAINING, "deferred", pool_of_model, deferred));
        } else {
            extra.push(row(&s.model_id, "amortized", pool, inst));
            extra.push(row(
                DEFERRED_TRAINING,
                "deferred",
                pool_of_model,
                Money(-inst.0),
            ));
        }
    };
    for period in periods {
        // training incurred this month, per (model, team, currency)
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
        incurred.retain(|_, cost| !cost.is_zero());
        // 1. installments of schedules opened in earlier months; a served schedule ends when
        // its model is trained again (training spend, not a credit, whatever the config now)
        for s in open.iter_mut() {
            let retrained = s.served.is_some()
                && incurred
                    .get(&(s.model_id.clone(), s.team.clone(), s.currency.clone()))
                    .is_some_and(|c| c.0 > 0);
            let served = s
                .served
                .as_ref()
                .map(|b| volume(period, &s.model_id, &b.unit));
            let inst = installment(s, served.flatten(), retrained);
            charge(period, s, inst, false);
            s.balance = s.balance - inst;
            s.months_remaining = if retrained { 0 } else { s.months_remaining - 1 };
            out.push(AmortizationRow {
                period: period.clone(),
                schedule: s.clone(),
                charged: inst,
            });
        }
        open.retain(|s| s.months_remaining > 0 && !s.balance.is_zero());
        // 2. training incurred this month: charge the first installment, defer the rest
        if months <= 1 {
            continue;
        }
        for ((model, team, currency), cost) in incurred {
            let mut s = Schedule {
                model_id: model,
                team,
                currency,
                incurred_period: period.clone(),
                incurred_cost: cost,
                balance: cost,
                months_remaining: months,
                served: policy.served_unit.map(|unit| ServedBasis {
                    unit: unit.to_string(),
                    planned: None,
                    served: Money::ZERO,
                }),
            };
            let served = policy
                .served_unit
                .and_then(|unit| volume(period, &s.model_id, unit));
            let inst = installment(&mut s, served, false);
            charge(period, &s, inst, true);
            s.balance = cost - inst;
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

    fn straight(months: u32) -> Policy<'static> {
        Policy {
            months,
            served_unit: None,
        }
    }

    fn no_volume(_: &str, _: &str, _: &str) -> Option<Money> {
        None
    }

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
            dimensions: Vec::new(),
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
        let sched = amortize(&mut a, straight(3), &no_volume, Vec::new(), &periods);
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
        let s = amortize(
            &mut nov,
            straight(3),
            &no_volume,
            opening,
            &["2026-11".to_string()],
        );
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

    /// Served, 3 months, 90 of training in 2026-09: no volume in 09 charges nothing; 10 tokens
    /// in 10 plan 10 x 2 = 20 and charge half (45); the window's last month charges the rest
    /// although 11 serves nothing.
    #[test]
    fn served_waits_for_volume_and_the_window_end_charges_the_rest() {
        let mut a = Allocation {
            basis: "effective",
            rows: vec![training("2026-09", "ranker", "90")],
            rule_matches: Default::default(),
        };
        let volume = |period: &str, model: &str, unit: &str| {
            (period == "2026-10" && model == "ranker" && unit == "tokens")
                .then(|| Money::parse("10").unwrap())
        };
        let periods: Vec<String> = ["2026-09", "2026-10", "2026-11"].map(String::from).into();
        let policy = Policy {
            months: 3,
            served_unit: Some("tokens"),
        };
        let sched = amortize(&mut a, policy, &volume, Vec::new(), &periods);
        let charged: Vec<String> = sched.iter().map(|r| r.charged.to_string()).collect();
        assert_eq!(charged, ["0", "45", "45"]);
        assert_eq!(model_total(&a, "2026-09", "ranker"), "0");
        assert_eq!(model_total(&a, "2026-11", "ranker"), "45");
        for p in &periods {
            assert_eq!(period_total(&a, p), if p == "2026-09" { "90" } else { "0" });
        }
        let last = &sched[2].schedule;
        assert_eq!((last.balance, last.months_remaining), (Money::ZERO, 0));
        let basis = last.served.as_ref().unwrap();
        assert_eq!(
            (basis.planned.unwrap().to_string(), basis.served.to_string()),
            ("20".into(), "10".into())
        );
        // no zero rows for the month that charged nothing
        assert!(a.rows.iter().all(|r| !r.cost.is_zero()), "{:?}", a.rows);
    }

    #[test]
    fn one_month_changes_nothing() {
        let mut a = Allocation {
            basis: "effective",
            rows: vec![training("2026-09", "ranker", "100")],
            rule_matches: Default::default(),
        };
        assert!(amortize(
            &mut a,
            straight(1),
            &no_volume,
            Vec::new(),
            &["2026-09".to_string()]
        )
        .is_empty());
        assert_eq!(a.rows.len(), 1);
    }
}
