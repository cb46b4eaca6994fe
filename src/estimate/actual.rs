//! Plan vs actual: an estimate held against the unit costs `attribute` wrote for a month.

use super::*;

/// One category of one model: planned against actual.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanVsActual {
    pub model: String,
    pub category: &'static str,
    pub planned: Money,
    pub actual: Option<Money>,
    pub gap: Option<Money>,
    /// Why the gap may be there, when a pricing mix-up explains it.
    pub note: Option<String>,
}

/// Compares an estimate with the unit costs `attribute` wrote for the same month.
pub fn plan_vs_actual(
    est: &Estimate,
    actual: &[crate::economics::UnitCostRow],
) -> Vec<PlanVsActual> {
    let mut out = Vec::new();
    for m in &est.models {
        let rows: Vec<_> = actual
            .iter()
            .filter(|r| r.model_id == m.name.to_lowercase() || r.model_id == m.name)
            .collect();
        for c in &m.categories {
            let col = crate::schema::phase_column(c.category);
            let idx = crate::schema::PHASE_COLUMNS.iter().position(|p| *p == col);
            let value = idx.and_then(|i| {
                (!rows.is_empty()).then(|| rows.iter().map(|r| r.phase_costs[i]).sum::<Money>())
            });
            let gap = value.map(|a| a - c.monthly);
            // billed at on-demand rates while the plan assumed a discount?
            let note = match (value, c.pricing, c.discount) {
                (Some(a), Some(p), Some(d)) if p != Pricing::OnDemand && d.0 > 0 && d.0 < ONE => {
                    let on_demand = Money::fraction(c.monthly.0, ONE - d.0).unwrap_or_default();
                    a.ratio(on_demand).filter(|r| (0.9..=1.1).contains(r)).map(|_| {
                        format!(
                            "actual is close to the on-demand cost ({}): the plan assumed {} at {} off",
                            on_demand.to_fixed(2),
                            p.name(),
                            d
                        )
                    })
                }
                _ => None,
            };
            out.push(PlanVsActual {
                model: m.name.clone(),
                category: c.category,
                planned: c.monthly,
                actual: value,
                gap,
                note,
            });
        }
    }
    // biggest absolute gaps first
    out.sort_by(|a, b| {
        b.gap
            .map_or(0, |g| g.0.abs())
            .cmp(&a.gap.map_or(0, |g| g.0.abs()))
            .then(a.model.cmp(&b.model))
    });
    out
}
