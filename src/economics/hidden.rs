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
    /// visible x (1 - u) / u: the capacity bought on top of what was used, taking the visible
    /// cost as the price of the work done. A hidden cost.
    pub idle_capacity: Option<Money>,
    /// visible x (1 - u): the part of the bill that paid for idle capacity. Already in
    /// `visible`, so never added to `hidden_total`.
    pub idle_share_of_bill: Option<Money>,
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
    let (idle, idle_in_bill) = match utilization.filter(|u| u.0 > 0) {
        Some(u) => {
            let in_bill = Money(crate::money::ONE)
                .checked_sub(u)
                .and_then(|idle_share| visible.checked_mul(idle_share))
                .ok_or_else(|| too_large("idle share of the bill"))?;
            let on_top =
                Money::fraction(in_bill.0, u.0).ok_or_else(|| too_large("idle capacity"))?;
            (Some(on_top), Some(in_bill))
        }
        None => (None, None),
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
        idle_share_of_bill: idle_in_bill,
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
    /// The preset inputs these figures rest on, e.g. `preset typical: utilization 0.5`; None
    /// when every input was configured.
    pub assumed: Option<String>,
}

/// The rule-of-thumb inputs of a `[hidden] preset`: estimates, not measurements, used only
/// where `[hidden]` (or a utilisation file) sets nothing, and named in each row they enter.
pub struct Preset {
    pub name: &'static str,
    /// Average utilisation of paid GPU and CPU capacity.
    pub utilization: Money,
    /// Share of a model's spend that is experiments, where its bill has no experimentation
    /// phase.
    pub experiment_share: Money,
    /// Share of experiment spend on runs that lead nowhere.
    pub waste_fraction: Money,
    /// Fully loaded annual cost of one ML engineer, in the bill's currency (engineering time
    /// still needs `ftes`).
    pub fte_annual_cost: Money,
}

impl crate::config::HiddenPreset {
    pub fn values(self) -> Preset {
        use crate::money::ONE;
        match self {
            crate::config::HiddenPreset::Typical => Preset {
                name: "typical",
                utilization: Money(ONE / 2),
                experiment_share: Money(ONE * 15 / 100),
                waste_fraction: Money(ONE * 3 / 10),
                fte_annual_cost: Money(ONE * 200_000),
            },
        }
    }
}

/// The inputs a row took from the preset, in the order they are listed.
#[derive(Default)]
struct Assumed(Vec<String>);

impl Assumed {
    /// `configured`, or the preset's `value` (noted as assumed), or None.
    fn or_preset(
        &mut self,
        configured: Option<Money>,
        preset: Option<(&str, Money)>,
    ) -> Option<Money> {
        configured.or_else(|| {
            let (name, value) = preset?;
            self.0.push(format!("{name} {value}"));
            Some(value)
        })
    }

    fn text(self, preset: Option<&Preset>) -> Option<String> {
        let p = preset.filter(|_| !self.0.is_empty())?;
        Some(format!("preset {}: {}", p.name, self.0.join(", ")))
    }
}

/// Hidden costs per model from the unit costs of one period and the `[hidden]` config.
/// `utilization` may add per-model utilisation from a file; it wins over the config.
pub fn hidden_for_models(
    rows: &[UnitCostRow],
    cfg: &crate::config::HiddenConfig,
    utilization: &BTreeMap<String, Money>,
) -> Result<Vec<HiddenRow>> {
    let f = |x: Option<f64>| x.and_then(|v| Money::from_f64(v).ok());
    let preset = cfg.preset.map(|p| p.values());
    let from_preset = |name, pick: fn(&Preset) -> Money| preset.as_ref().map(|p| (name, pick(p)));
    // engineering time rests on the preset's FTE cost when only `ftes` is configured
    let mut engineering_assumed = Assumed::default();
    let fte_cost = engineering_assumed.or_preset(
        f(cfg.fte_annual_cost).filter(|_| cfg.ftes.is_some()),
        from_preset("fte_annual_cost", |p| p.fte_annual_cost).filter(|_| cfg.ftes.is_some()),
    );
    let models: Vec<&UnitCostRow> = rows
        .iter()
        .filter(|r| crate::schema::is_model(&r.model_id))
        .collect();
    // engineering time: one monthly amount split exactly over the models of each currency
    let monthly_eng =
        match f(cfg.ftes).zip(fte_cost) {
            Some((n, c)) => Some(n.checked_mul(c).and_then(|x| x.div_int(12)).ok_or_else(
                || Error::Overflow {
                    what: "the engineering time estimate".into(),
                    detail: "[hidden] ftes x fte_annual_cost leaves decimal(38,18)".into(),
                },
            )?),
            None => None,
        };
    // (period, model, currency): a model billed in two currencies has a share in each
    let mut eng: BTreeMap<(String, String, String), Money> = BTreeMap::new();
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
                eng.insert(
                    (r.period.clone(), r.model_id.clone(), r.currency.clone()),
                    s,
                );
            }
        }
    }
    models
        .into_iter()
        .map(|r| {
            let mut assumed = Assumed::default();
            let u = assumed.or_preset(
                utilization
                    .get(&r.model_id)
                    .copied()
                    .or_else(|| f(cfg.utilization.get(&r.model_id).copied()))
                    .or_else(|| f(cfg.default_utilization)),
                from_preset("utilization", |p| p.utilization),
            );
            let experiment = match f(cfg.experiment_share) {
                Some(share) => r.total_cost.checked_mul(share),
                None => {
                    let i = PHASE_COLUMNS
                        .iter()
                        .position(|c| *c == "cost_experimentation")
                        .unwrap_or(5);
                    let phase = r.phase_costs[i];
                    // the preset's share stands in only where the bill has no experiments
                    let share = match phase.is_zero() {
                        true => assumed.or_preset(
                            None,
                            from_preset("experiment_share", |p| p.experiment_share),
                        ),
                        false => None,
                    };
                    match share {
                        Some(share) => r.total_cost.checked_mul(share),
                        None => Some(phase),
                    }
                }
            };
            let waste = assumed.or_preset(
                f(cfg.waste_fraction),
                from_preset("waste_fraction", |p| p.waste_fraction),
            );
            let mut costs = hidden_costs(r.total_cost, u, experiment, waste, None, None)?;
            let key = (r.period.clone(), r.model_id.clone(), r.currency.clone());
            if let Some(e) = eng.get(&key) {
                assumed.0.extend(engineering_assumed.0.iter().cloned());
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
                assumed: assumed.text(preset.as_ref()),
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
        assert_eq!(h.idle_share_of_bill, None);
    }

    /// Idle both ways at 45%: bought on top 28400 x 0.55 / 0.45 (hidden) and the part of the
    /// bill idle 28400 x 0.55 = 15620 (already visible, not in the hidden total).
    #[test]
    fn idle_is_reported_both_ways() {
        let m = |s: &str| Money::parse(s).unwrap();
        let h = hidden_costs(m("28400"), Some(m("0.45")), None, None, None, None).unwrap();
        assert_eq!(h.idle_share_of_bill.unwrap().to_string(), "15620");
        assert_eq!(h.hidden_total, h.idle_capacity.unwrap());
    }

    fn unit_row(model: &str, total: &str, experimentation: &str) -> UnitCostRow {
        let m = |s: &str| Money::parse(s).unwrap();
        let mut phase_costs = [Money::ZERO; 7];
        let i = PHASE_COLUMNS
            .iter()
            .position(|c| *c == "cost_experimentation")
            .unwrap();
        phase_costs[i] = m(experimentation);
        UnitCostRow {
            period: "2026-10".into(),
            model_id: model.into(),
            team: "t".into(),
            currency: "USD".into(),
            phase_costs,
            total_cost: m(total),
            requests: None,
            cost_per_request: None,
            cost_per_1000_requests: None,
            reason: None,
            revenue: None,
            value_preserved: None,
            economics: Default::default(),
            verdict: "no_target".into(),
            verdict_reason: None,
            billing_status: None,
        }
    }

    /// `preset = "typical"` fills only what is not configured, and each row names what it
    /// took. By hand:
    /// - a (1000, no experiments on the bill, u from the preset 0.5): idle 1000 x 0.5 / 0.5 =
    ///   1000, in the bill 500; experiments 1000 x 0.15 = 150, wasted x 0.3 = 45;
    /// - b (1000, 200 of experiments, u configured 0.8): idle 1000 x 0.2 / 0.8 = 250, in the
    ///   bill 200; the bill's experiments, not the preset's share: 200 x 0.3 = 60;
    /// - engineering: 1.5 configured FTEs x the preset's 200,000 / 12 = 25,000, 12,500 each.
    #[test]
    fn the_typical_preset_fills_only_what_is_not_configured() {
        let cfg: crate::config::HiddenConfig =
            toml::from_str("preset = \"typical\"\nftes = 1.5\n[utilization]\nb = 0.8\n").unwrap();
        let rows = [unit_row("a", "1000", "0"), unit_row("b", "1000", "200")];
        let out = hidden_for_models(&rows, &cfg, &BTreeMap::new()).unwrap();
        let (a, b) = (&out[0].costs, &out[1].costs);
        let s = |m: Option<Money>| m.map(|m| m.to_string());
        assert_eq!(s(a.idle_capacity).as_deref(), Some("1000"));
        assert_eq!(s(a.idle_share_of_bill).as_deref(), Some("500"));
        assert_eq!(s(a.experiment_waste).as_deref(), Some("45"));
        assert_eq!(s(a.engineering_time).as_deref(), Some("12500"));
        assert_eq!(a.hidden_total.to_string(), "13545");
        assert_eq!(
            out[0].assumed.as_deref(),
            Some("preset typical: utilization 0.5, experiment_share 0.15, waste_fraction 0.3, fte_annual_cost 200000")
        );
        assert_eq!(s(b.idle_capacity).as_deref(), Some("250"));
        assert_eq!(s(b.idle_share_of_bill).as_deref(), Some("200"));
        assert_eq!(s(b.experiment_waste).as_deref(), Some("60"));
        assert_eq!(
            out[1].assumed.as_deref(),
            Some("preset typical: waste_fraction 0.3, fte_annual_cost 200000")
        );
        // configured values win; without a preset nothing is assumed
        let cfg: crate::config::HiddenConfig = toml::from_str(
            "preset = \"typical\"\ndefault_utilization = 0.25\nwaste_fraction = 0.5\n",
        )
        .unwrap();
        let out = hidden_for_models(&rows[1..], &cfg, &BTreeMap::new()).unwrap();
        assert_eq!(out[0].assumed, None);
        assert_eq!(s(out[0].costs.idle_capacity).as_deref(), Some("3000"));
        assert_eq!(s(out[0].costs.experiment_waste).as_deref(), Some("100"));
        let out = hidden_for_models(&rows, &Default::default(), &BTreeMap::new()).unwrap();
        assert!(out
            .iter()
            .all(|r| r.assumed.is_none() && r.costs.hidden_total.is_zero()));
        // a utilisation file wins over the config and the preset, and is not an assumption
        let cfg: crate::config::HiddenConfig =
            toml::from_str("preset = \"typical\"\ndefault_utilization = 0.8\n").unwrap();
        let file = BTreeMap::from([("a".to_string(), Money::parse("0.25").unwrap())]);
        let out = hidden_for_models(&rows[..1], &cfg, &file).unwrap();
        assert_eq!(s(out[0].costs.idle_capacity).as_deref(), Some("3000"));
        assert_eq!(
            out[0].assumed.as_deref(),
            Some("preset typical: experiment_share 0.15, waste_fraction 0.3")
        );
    }

    /// A model billed in two currencies gets its engineering share in each: 1 FTE at the
    /// preset's 200,000 a year is 16,666.67 a month per currency, split evenly over that
    /// currency's models (USD: a alone; EUR: a and c, exactly).
    #[test]
    fn engineering_time_is_split_per_currency() {
        let cfg: crate::config::HiddenConfig =
            toml::from_str("preset = \"typical\"\nftes = 1\n").unwrap();
        let mut a_eur = unit_row("a", "10", "0");
        a_eur.currency = "EUR".into();
        let mut c_eur = unit_row("c", "10", "0");
        c_eur.currency = "EUR".into();
        let rows = [unit_row("a", "10", "0"), a_eur, c_eur];
        let out = hidden_for_models(&rows, &cfg, &BTreeMap::new()).unwrap();
        let eng: Vec<(String, String)> = out
            .iter()
            .map(|r| {
                let e = r.costs.engineering_time.unwrap().to_fixed(2);
                (format!("{} {}", r.model_id, r.currency), e)
            })
            .collect();
        assert_eq!(
            eng,
            [
                ("a USD".to_string(), "16666.67".to_string()),
                ("a EUR".to_string(), "8333.33".to_string()),
                // the split adds up: the remainder goes to one model
                ("c EUR".to_string(), "8333.34".to_string())
            ]
        );
    }
}
