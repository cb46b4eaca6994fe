//! Hidden costs: estimates of what is not on the bill (idle capacity bought on top of what
//! was used, experiment waste, engineering time) next to the visible cost, per model and month
//! (the `hidden_costs` table of `mlcost hidden`) or for one system (`mlcost economics`). They
//! never enter the reconciled totals.

use std::collections::BTreeMap;

use super::UnitCostRow;
use crate::error::{Error, Result};
use crate::money::{split_largest_remainder, Money};
use crate::schema::PHASE_COLUMNS;

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
        Some((f, c)) => Some(
            f.checked_mul(c)
                .and_then(|x| x.div_int(12))
                .ok_or_else(|| too_large("engineering time"))?,
        ),
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
    let monthly_eng =
        match f(cfg.ftes).zip(f(cfg.fte_annual_cost)) {
            Some((n, c)) => Some(n.checked_mul(c).and_then(|x| x.div_int(12)).ok_or_else(
                || Error::Overflow {
                    what: "the engineering time estimate".into(),
                    detail: "[hidden] ftes x fte_annual_cost leaves decimal(38,18)".into(),
                },
            )?),
            None => None,
        };
    let mut eng: BTreeMap<(String, String), Money> = BTreeMap::new();
    if let Some(total) = monthly_eng {
        let mut by_currency: BTreeMap<&str, Vec<&UnitCostRow>> = BTreeMap::new();
        for r in &models {
            by_currency.entry(r.currency.as_str()).or_default().push(r);
        }
        let proportional = cfg.engineering_allocation.as_deref() == Some("proportional");
        for list in by_currency.values() {
            let even = vec![1; list.len()];
            let by_cost: Vec<i128> = list.iter().map(|r| r.total_cost.0.max(0)).collect();
            // proportional to cost; evenly when no model of the currency has a positive cost
            let split = |w: &[i128]| split_largest_remainder(total, w, 10i128.pow(16));
            let shares = match proportional {
                true => split(&by_cost).or_else(|| split(&even)),
                false => split(&even),
            };
            for (r, s) in list.iter().zip(shares.unwrap_or_default()) {
                eng.insert((r.period.clone(), r.model_id.clone()), s);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
