//! Trends and forecasts from the `unit_costs` an earlier `attribute` wrote: month-over-month
//! change of each model's unit cost split exactly into a spend effect and a volume effect, and
//! a projection of requests and cost that separates cost scaling with volume from fixed cost.
//! Pure functions over rows; reading the tables is `output`'s job.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::economics::UnitCostRow;
use crate::money::{Money, ONE};
use crate::schema::PHASE_COLUMNS;

/// One model's change from one month to the next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    pub model_id: String,
    pub currency: String,
    pub from: String,
    pub to: String,
    pub spend_from: Money,
    pub spend_to: Money,
    pub requests_from: Option<i64>,
    pub requests_to: Option<i64>,
    pub cost_per_1000_from: Option<Money>,
    pub cost_per_1000_to: Option<Money>,
    /// Change of cost per 1,000 requests had volume stayed the same: (S1 - S0) / V0 x 1000.
    pub spend_effect: Option<Money>,
    /// Change due to volume at the new spend: (S1 / V1 - S1 / V0) x 1000, taken as the rest
    /// of the change so the two effects add up to it exactly.
    pub volume_effect: Option<Money>,
    /// One sentence a person can read.
    pub explanation: String,
}

fn pct(from: Money, to: Money) -> Option<f64> {
    // against the size of the month before (a month of credits is negative)
    (to - from).ratio(Money(from.0.abs())).map(|r| r * 100.0)
}

fn phase_of(column: &str) -> &str {
    column.strip_prefix("cost_").unwrap_or(column)
}

/// Month-over-month trend per model (rows of any periods; sorted here).
pub fn trend(rows: &[UnitCostRow]) -> Vec<TrendRow> {
    let mut by_model: BTreeMap<(String, String), BTreeMap<String, &UnitCostRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| crate::schema::is_model(&r.model_id)) {
        by_model
            .entry((r.model_id.clone(), r.currency.clone()))
            .or_default()
            .insert(r.period.clone(), r);
    }
    let mut out = Vec::new();
    for ((model, currency), months) in by_model {
        let list: Vec<&&UnitCostRow> = months.values().collect();
        for w in list.windows(2) {
            let (a, b) = (*w[0], *w[1]);
            let (s0, s1) = (a.total_cost, b.total_cost);
            let v0 = a.requests.filter(|v| *v > 0);
            let v1 = b.requests.filter(|v| *v > 0);
            // checked in 256 bits: a figure out of range is null, never wrapped
            let per_k = |s: Money, v: i64| s.mul_int_div(1000, i128::from(v));
            let (spend_effect, volume_effect) = match (v0, v1) {
                (Some(v0), Some(v1)) => {
                    let spend = s1.checked_sub(s0).and_then(|d| per_k(d, v0));
                    // the rest of the change, so the two effects add up to it exactly (each
                    // rounded on its own they could miss it by 10^-18)
                    let volume = per_k(s1, v1)
                        .zip(per_k(s0, v0))
                        .and_then(|(x, y)| x.checked_sub(y))
                        .zip(spend)
                        .and_then(|(change, spend)| change.checked_sub(spend));
                    (spend, volume)
                }
                _ => (None, None),
            };
            // the phase whose spend moved least, to say what stayed flat
            let flat = PHASE_COLUMNS
                .iter()
                .enumerate()
                .filter(|(i, _)| !a.phase_costs[*i].is_zero())
                .min_by(|(i, _), (j, _)| {
                    // only to pick the flattest phase: saturation cannot change a published number
                    let d = |k: usize| {
                        b.phase_costs[k]
                            .0
                            .saturating_sub(a.phase_costs[k].0)
                            .saturating_abs()
                    };
                    d(*i).cmp(&d(*j))
                })
                .map(|(i, c)| {
                    (
                        phase_of(c),
                        pct(a.phase_costs[i], b.phase_costs[i]).unwrap_or(0.0),
                    )
                });
            let mut explanation = match (a.cost_per_1000_requests, b.cost_per_1000_requests) {
                (Some(x), Some(y)) => format!(
                    "cost per 1,000 requests {} {:.1}% ({} -> {})",
                    if y >= x { "up" } else { "down" },
                    pct(x, y).unwrap_or(0.0).abs(),
                    x.to_fixed_nonzero(4),
                    y.to_fixed_nonzero(4)
                ),
                _ => format!(
                    "spend {:+.1}% ({} -> {}); no requests to compare",
                    pct(s0, s1).unwrap_or(0.0),
                    s0.to_fixed_nonzero(2),
                    s1.to_fixed_nonzero(2)
                ),
            };
            if let (Some(v0), Some(v1)) = (v0, v1) {
                let vol = (v1 as f64 - v0 as f64) / v0 as f64 * 100.0;
                explanation.push_str(&format!(
                    " because spend {} {:.1}% and volume {} {:.1}%",
                    if s1 >= s0 { "rose" } else { "fell" },
                    pct(s0, s1).unwrap_or(0.0).abs(),
                    if v1 >= v0 { "rose" } else { "fell" },
                    vol.abs()
                ));
                if let Some((phase, p)) = flat {
                    explanation.push_str(&format!(" while {phase} spend changed {p:+.1}%"));
                }
            }
            out.push(TrendRow {
                model_id: model.clone(),
                currency: currency.clone(),
                from: a.period.clone(),
                to: b.period.clone(),
                spend_from: s0,
                spend_to: s1,
                requests_from: a.requests,
                requests_to: b.requests,
                cost_per_1000_from: a.cost_per_1000_requests,
                cost_per_1000_to: b.cost_per_1000_requests,
                spend_effect,
                volume_effect,
                explanation,
            });
        }
    }
    out
}

/// One model's change in the cost of one unit of its volumes (tokens, GPU-hours, ...) from one
/// month to the next, at the unit's scale (see [`unit_scale`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitTrendRow {
    pub model_id: String,
    pub currency: String,
    pub unit: String,
    /// The number of units the costs are per: 1,000,000 for tokens, 1,000 for counts, else 1.
    pub per: i64,
    pub from: String,
    pub to: String,
    pub spend_from: Money,
    pub spend_to: Money,
    pub quantity_from: Money,
    pub quantity_to: Money,
    pub cost_from: Option<Money>,
    pub cost_to: Option<Money>,
    /// (S1 - S0) / Q0 x per: the change had volume stayed the same.
    pub spend_effect: Option<Money>,
    /// (S1 / Q1 - S1 / Q0) x per: the change due to volume at the new spend, taken as the
    /// rest of the change so the two effects add up to it exactly.
    pub volume_effect: Option<Money>,
    pub explanation: String,
}

/// Months from `a` to `b` (YYYY-MM), 1 for consecutive months; 1 when either is not a month.
fn months_between(a: &str, b: &str) -> i32 {
    let month = |p: &str| {
        let (y, m) = p.split_once('-')?;
        Some(y.parse::<i32>().ok()? * 12 + m.parse::<i32>().ok()?)
    };
    month(a).zip(month(b)).map_or(1, |(a, b)| b - a)
}

/// The scale a unit's cost is read at, and its name: per 1M tokens (as LLM prices are
/// quoted), per 1,000 requests, predictions or images, per unit otherwise (a GPU-hour).
pub fn unit_scale(unit: &str) -> (i64, &'static str) {
    match unit {
        u if u.ends_with("tokens") => (1_000_000, "1M"),
        "requests" | "predictions" | "images" => (1000, "1,000"),
        _ => (1, "1"),
    }
}

/// Month-over-month trend of `unit`'s cost per model from `unit_costs_by_unit` rows, split
/// exactly into a spend effect and a volume effect like [`trend`].
pub fn unit_trend(rows: &[crate::economics::UnitVolumeCost], unit: &str) -> Vec<UnitTrendRow> {
    let mut by_model: BTreeMap<(&str, &str), BTreeMap<&str, &crate::economics::UnitVolumeCost>> =
        BTreeMap::new();
    for r in rows.iter().filter(|r| r.unit == unit) {
        by_model
            .entry((r.model_id.as_str(), r.currency.as_str()))
            .or_default()
            .insert(r.period.as_str(), r);
    }
    let (per, per_name) = unit_scale(unit);
    let at = |s: Money, q: Money| s.per(per, q);
    let mut out = Vec::new();
    for ((model, currency), months) in by_model {
        let list: Vec<&&crate::economics::UnitVolumeCost> = months.values().collect();
        for w in list.windows(2) {
            let (a, b) = (*w[0], *w[1]);
            let (s0, s1, q0, q1) = (a.total_cost, b.total_cost, a.quantity, b.quantity);
            let (c0, c1) = (at(s0, q0), at(s1, q1));
            let spend_effect = s1.checked_sub(s0).and_then(|d| at(d, q0));
            // the rest of the change, so the two add up to it exactly (each rounded on its
            // own they could miss by 10^-18)
            let volume_effect = c1
                .zip(c0)
                .and_then(|(y, x)| y.checked_sub(x))
                .zip(spend_effect)
                .and_then(|(change, spend)| change.checked_sub(spend));
            let mut explanation = match (c0, c1) {
                (Some(x), Some(y)) => format!(
                    "cost per {per_name} {unit} {} {:.1}% ({} -> {}) because spend {} {:.1}% and {unit} {} {:.1}%",
                    if y >= x { "up" } else { "down" },
                    pct(x, y).unwrap_or(0.0).abs(),
                    x.to_fixed_nonzero(4),
                    y.to_fixed_nonzero(4),
                    if s1 >= s0 { "rose" } else { "fell" },
                    pct(s0, s1).unwrap_or(0.0).abs(),
                    if q1 >= q0 { "rose" } else { "fell" },
                    pct(q0, q1).unwrap_or(0.0).abs(),
                ),
                _ => format!(
                    "spend {:+.1}% ({} -> {}); {}",
                    pct(s0, s1).unwrap_or(0.0),
                    s0.to_fixed_nonzero(2),
                    s1.to_fixed_nonzero(2),
                    match q0.is_zero() || q1.is_zero() {
                        true => format!("no {unit} to compare"),
                        false => format!("the cost per {per_name} {unit} is out of range"),
                    }
                ),
            };
            let apart = months_between(&a.period, &b.period);
            if apart > 1 {
                explanation.push_str(&format!(
                    " ({apart} months apart: no {unit} costs in between)"
                ));
            }
            out.push(UnitTrendRow {
                model_id: model.to_string(),
                currency: currency.to_string(),
                unit: unit.to_string(),
                per,
                from: a.period.clone(),
                to: b.period.clone(),
                spend_from: s0,
                spend_to: s1,
                quantity_from: q0,
                quantity_to: q1,
                cost_from: c0,
                cost_to: c1,
                spend_effect,
                volume_effect,
                explanation,
            });
        }
    }
    out
}

/// One projected month of one model, in requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastRow {
    pub model_id: String,
    pub currency: String,
    pub period: String,
    pub requests: Option<i64>,
    pub variable_cost: Money,
    pub fixed_cost: Money,
    pub total_cost: Money,
    pub cost_per_1000_requests: Option<Money>,
}

/// One projected month of one model, in a unit of the volumes (`forecast --unit`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitForecastRow {
    pub model_id: String,
    pub currency: String,
    pub period: String,
    pub unit: String,
    pub quantity: Option<Money>,
    pub variable_cost: Money,
    pub fixed_cost: Money,
    pub total_cost: Money,
    /// `cost_per` is the cost of this many units (1,000,000 for tokens, see [`unit_scale`]).
    pub per: i64,
    pub cost_per: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast<R = ForecastRow> {
    /// Monthly growth rate of the volume used (fraction), and where it came from.
    pub monthly_growth: BTreeMap<String, f64>,
    pub basis: BTreeMap<String, String>,
    pub rows: Vec<R>,
    /// Events worth a person's attention (target crossed, cost doubled).
    pub alerts: Vec<String>,
}

/// A month a forecast starts from: a model's cost by phase and the volume of the unit it
/// served (None when no volume was given).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastPoint {
    pub period: String,
    pub model_id: String,
    pub currency: String,
    /// In `PHASE_COLUMNS` order.
    pub phase_costs: [Money; 7],
    pub total_cost: Money,
    pub volume: Option<Money>,
}

/// A limit a projected month is checked against: `name` for the alert, the cost of `per`
/// units may be at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub name: String,
    pub per: i64,
    pub limit: f64,
}

impl ForecastPoint {
    /// The points of requests: each `unit_costs` row with its request count.
    pub fn of_requests(rows: &[UnitCostRow]) -> Vec<ForecastPoint> {
        rows.iter()
            .map(|r| ForecastPoint {
                period: r.period.clone(),
                model_id: r.model_id.clone(),
                currency: r.currency.clone(),
                phase_costs: r.phase_costs,
                total_cost: r.total_cost,
                volume: r.requests.map(|v| Money(i128::from(v) * ONE)),
            })
            .collect()
    }

    /// The points of `unit`: each `unit_costs_by_unit` row of it, with the costs by phase of
    /// the same model, month and currency in `unit_costs` (all fixed when that row is missing).
    pub fn of_unit(
        costs: &[UnitCostRow],
        by_unit: &[crate::economics::UnitVolumeCost],
        unit: &str,
    ) -> Vec<ForecastPoint> {
        let phases: BTreeMap<(&str, &str, &str), [Money; 7]> = costs
            .iter()
            .map(|r| {
                (
                    (r.period.as_str(), r.model_id.as_str(), r.currency.as_str()),
                    r.phase_costs,
                )
            })
            .collect();
        by_unit
            .iter()
            .filter(|r| r.unit == unit)
            .map(|r| {
                let key = (r.period.as_str(), r.model_id.as_str(), r.currency.as_str());
                ForecastPoint {
                    period: r.period.clone(),
                    model_id: r.model_id.clone(),
                    currency: r.currency.clone(),
                    phase_costs: phases.get(&key).copied().unwrap_or([Money::ZERO; 7]),
                    total_cost: r.total_cost,
                    volume: Some(r.quantity),
                }
            })
            .collect()
    }
}

/// `20%/quarter`, `5%/month`, `0.3/year` -> monthly growth fraction.
pub fn parse_growth(text: &str) -> Option<f64> {
    let (rate, per) = text
        .trim()
        .split_once('/')
        .unwrap_or((text.trim(), "month"));
    let rate = rate.trim();
    let r: f64 = match rate.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => rate.parse().ok()?,
    };
    let months = match per.trim() {
        "month" | "mo" | "m" => 1.0,
        "quarter" | "q" => 3.0,
        "year" | "yr" | "y" => 12.0,
        _ => return None,
    };
    (r.is_finite() && (1.0 + r) > 0.0).then(|| (1.0 + r).powf(1.0 / months) - 1.0)
}

fn add_months(period: &str, n: u32) -> String {
    let y: i32 = period.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let m: u32 = period.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let total = y * 12 + (m as i32 - 1) + n as i32;
    format!("{:04}-{:02}", total / 12, total % 12 + 1)
}

/// Projects each model `months` ahead, in requests (see [`forecast_unit`]). `limits` are
/// the targets a projected month is checked against.
pub fn forecast(
    rows: &[UnitCostRow],
    months: u32,
    growth: Option<f64>,
    variable_phases: &[String],
    limits: &dyn Fn(&str) -> Vec<Limit>,
) -> crate::error::Result<Forecast> {
    let f = forecast_unit(
        &ForecastPoint::of_requests(rows),
        "requests",
        months,
        growth,
        variable_phases,
        limits,
    )?;
    let mut rows = Vec::with_capacity(f.rows.len());
    for r in f.rows {
        // whole requests: the projection rounds an integral history to whole units
        let requests = match r.quantity {
            Some(q) => Some(
                i64::try_from(q.0 / ONE)
                    .map_err(|_| too_large(&r.model_id, "requests", "request volume"))?,
            ),
            None => None,
        };
        rows.push(ForecastRow {
            model_id: r.model_id,
            currency: r.currency,
            period: r.period,
            requests,
            variable_cost: r.variable_cost,
            fixed_cost: r.fixed_cost,
            total_cost: r.total_cost,
            cost_per_1000_requests: r.cost_per,
        });
    }
    Ok(Forecast {
        monthly_growth: f.monthly_growth,
        basis: f.basis,
        rows,
        alerts: f.alerts,
    })
}

fn too_large(model: &str, unit: &str, what: &str) -> crate::error::Error {
    crate::error::Error::Overflow {
        what: format!(
            "the forecast {what} of `{}`",
            crate::escape::terminal(model, 80)
        ),
        detail: match unit {
            "requests" => "the projection leaves decimal(38,18) or a 64-bit request count",
            _ => "the projection leaves decimal(38,18)",
        }
        .into(),
    }
}

/// Projects each model's `unit` `months` past the last month of the history (of any model):
/// the volume grows by `growth` a month (default: the geometric mean growth between its first
/// and last months with volume, counted in calendar months) from the model's last month, the
/// cost of `variable_phases` grows with it and the rest stays fixed. A history of whole units
/// projects whole units (rounded half away from zero), any other to 6 decimals. A model
/// billed in several currencies is projected per currency, labelled `model (CUR)`; a model
/// absent from the history's last month is not projected (its `basis` says so).
pub fn forecast_unit(
    points: &[ForecastPoint],
    unit: &str,
    months: u32,
    growth: Option<f64>,
    variable_phases: &[String],
    limits: &dyn Fn(&str) -> Vec<Limit>,
) -> crate::error::Result<Forecast<UnitForecastRow>> {
    let (per, _) = unit_scale(unit);
    let mut by_model: BTreeMap<(String, String), Vec<&ForecastPoint>> = BTreeMap::new();
    for r in points
        .iter()
        .filter(|r| crate::schema::is_model(&r.model_id))
    {
        by_model
            .entry((r.model_id.clone(), r.currency.clone()))
            .or_default()
            .push(r);
    }
    let mut currencies: BTreeMap<String, usize> = BTreeMap::new();
    for (model, _) in by_model.keys() {
        *currencies.entry(model.clone()).or_default() += 1;
    }
    let label = |model: &str, currency: &str| match currencies.get(model) {
        Some(n) if *n > 1 => format!("{model} ({currency})"),
        _ => model.to_string(),
    };
    // projections start after the history's last month, whichever model it belongs to
    let Some(end) = points.iter().map(|p| p.period.as_str()).max() else {
        return Ok(Forecast {
            monthly_growth: BTreeMap::new(),
            basis: BTreeMap::new(),
            rows: Vec::new(),
            alerts: Vec::new(),
        });
    };
    let mut out = Forecast {
        monthly_growth: BTreeMap::new(),
        basis: BTreeMap::new(),
        rows: Vec::new(),
        alerts: Vec::new(),
    };
    let as_f64 = |m: Money| m.0 as f64 / ONE as f64;
    for ((model, currency), mut hist) in by_model {
        hist.sort_by(|a, b| a.period.cmp(&b.period));
        let Some(last) = hist.last().copied() else {
            continue;
        };
        let name = label(&model, &currency);
        // a model absent from the history's last month has stopped (or paused): not projected
        if last.period.as_str() != end {
            out.basis.insert(
                name,
                format!("not projected: nothing in {end} (last in {})", last.period),
            );
            continue;
        }
        // fitted: geometric mean of month-over-month volume growth, over calendar months
        let volumes: Vec<(&str, f64)> = hist
            .iter()
            .filter_map(|r| r.volume.map(|v| (r.period.as_str(), v)))
            .filter(|(_, v)| v.0 > 0)
            .map(|(p, v)| (p, as_f64(v)))
            .collect();
        let whole = hist.iter().filter_map(|r| r.volume).all(|v| v.0 % ONE == 0);
        let few = match (hist.len(), volumes.len()) {
            (1, _) => "one month of history".to_string(),
            (_, 0) => format!("no month with {unit}"),
            _ => format!("one month with {unit}"),
        };
        let (g, basis) = match (growth, volumes.len()) {
            (Some(g), n) if n < 2 => (g, format!("{few}: from the given growth alone")),
            (Some(g), _) => (g, "given growth".to_string()),
            (None, n) if n >= 2 => {
                let (first_period, first) = volumes[0];
                let (last_period, lastv) = volumes[n - 1];
                let span = months_between(first_period, last_period).max(1);
                (
                    (lastv / first).powf(1.0 / f64::from(span)) - 1.0,
                    format!("fitted to {n} months of {unit}"),
                )
            }
            (None, _) => (0.0, format!("{few} and no --growth: volume held flat")),
        };
        out.monthly_growth.insert(name.clone(), g);
        out.basis.insert(name.clone(), basis);
        let too_large = |what: &str| too_large(&model, unit, what);
        let variable = Money::checked_sum(
            PHASE_COLUMNS
                .iter()
                .enumerate()
                .filter(|(_, c)| variable_phases.iter().any(|v| v == phase_of(c)))
                .map(|(i, _)| last.phase_costs[i]),
        )
        .ok_or_else(|| too_large("variable cost"))?;
        let fixed = last
            .total_cost
            .checked_sub(variable)
            .ok_or_else(|| too_large("fixed cost"))?;
        let limits = limits(&model);
        // a limit is crossed when a month goes over it from at or under it; one already over
        // in the last month is said once
        let actual = last.volume.filter(|q| q.0 > 0);
        let mut over: Vec<bool> = Vec::with_capacity(limits.len());
        for l in &limits {
            let value = actual.and_then(|q| last.total_cost.per(l.per, q));
            let is_over = value.is_some_and(|v| Money::from_f64(l.limit).is_ok_and(|m| v > m));
            if let (true, Some(v)) = (is_over, value) {
                out.alerts.push(format!(
                    "{name}: {} is already over its target {} in {} ({})",
                    l.name,
                    l.limit,
                    last.period,
                    v.to_fixed_nonzero(4)
                ));
            }
            over.push(is_over);
        }
        let mut doubled = false;
        for k in 1..=months {
            let period = add_months(end, k);
            let distance = months_between(&last.period, &period).max(1);
            let factor = (1.0 + g).powi(distance);
            let factor_m = Money::from_f64((factor * 1e9).round() / 1e9)
                .map_err(|_| too_large(&format!("{unit} growth")))?;
            let quantity = match last.volume.map(|v| as_f64(v) * factor) {
                Some(x) => {
                    let x = if whole {
                        x.round()
                    } else {
                        (x * 1e6).round() / 1e6
                    };
                    // beyond decimal(38,18) (or not a number) is not a volume
                    Some(Money::from_f64(x).map_err(|_| too_large(&format!("{unit} volume")))?)
                }
                None => None,
            };
            let variable_k = variable
                .checked_mul(factor_m)
                .ok_or_else(|| too_large("variable cost"))?;
            let total = variable_k
                .checked_add(fixed)
                .ok_or_else(|| too_large("total cost"))?;
            let positive = quantity.filter(|q| q.0 > 0);
            for (l, over) in limits.iter().zip(over.iter_mut()) {
                let Some(v) = positive.and_then(|q| total.per(l.per, q)) else {
                    continue;
                };
                let now_over = Money::from_f64(l.limit).is_ok_and(|limit| v > limit);
                if now_over && !*over {
                    out.alerts.push(format!(
                        "{name}: {} crosses its target {} in {period} ({})",
                        l.name,
                        l.limit,
                        v.to_fixed_nonzero(4)
                    ));
                }
                *over = now_over;
            }
            if !doubled && last.total_cost.0 > 0 && total.0 / 2 >= last.total_cost.0 {
                out.alerts.push(format!(
                    "{name}: monthly cost doubles by {period} ({} from {})",
                    total.to_fixed(2),
                    last.total_cost.to_fixed(2)
                ));
                doubled = true;
            }
            out.rows.push(UnitForecastRow {
                model_id: model.clone(),
                currency: currency.clone(),
                period,
                unit: unit.to_string(),
                quantity,
                variable_cost: variable_k,
                fixed_cost: fixed,
                total_cost: total,
                per,
                cost_per: positive.and_then(|q| total.per(per, q)),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        period: &str,
        model: &str,
        inference: &str,
        training: &str,
        requests: Option<i64>,
    ) -> UnitCostRow {
        let m = |s: &str| Money::parse(s).unwrap();
        let mut phase_costs = [Money::ZERO; 7];
        phase_costs[1] = m(inference);
        phase_costs[0] = m(training);
        let total = m(inference) + m(training);
        UnitCostRow {
            period: period.into(),
            model_id: model.into(),
            team: "t".into(),
            currency: "USD".into(),
            phase_costs,
            total_cost: total,
            requests,
            cost_per_request: None,
            cost_per_1000_requests: requests
                .and_then(|v| Money(total.0 * 1000).div_int(i128::from(v))),
            reason: None,
            revenue: None,
            value_preserved: None,
            economics: Default::default(),
            verdict: String::new(),
            verdict_reason: None,
            billing_status: None,
        }
    }

    /// Spend flat at 1000 (always-on inference), volume falls 25% (1,000,000 -> 750,000):
    /// cost per 1,000 goes 1 -> 1.333...; spend effect 0, volume effect +0.333...
    #[test]
    fn unit_cost_change_split_into_spend_and_volume() {
        let t = trend(&[
            row("2026-09", "m", "1000", "0", Some(1_000_000)),
            row("2026-10", "m", "1000", "0", Some(750_000)),
        ]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].spend_effect.unwrap().to_string(), "0");
        assert_eq!(
            t[0].volume_effect.unwrap().to_string(),
            "0.333333333333333333"
        );
        assert!(t[0].explanation.starts_with("cost per 1,000 requests up 33.3% (1.0000 -> 1.3333) because spend rose 0.0% and volume fell 25.0% while inference spend changed +0.0%"), "{}", t[0].explanation);
        // both effects add up to the change
        let change = t[0].cost_per_1000_to.unwrap() - t[0].cost_per_1000_from.unwrap();
        assert_eq!(
            change,
            t[0].spend_effect.unwrap() + t[0].volume_effect.unwrap()
        );
    }

    /// Growth is fitted over calendar months (b: 1M tokens in January, 8M in April, nothing
    /// in February: 100% a month, not 185%), projections start after the history's last month
    /// (b in May: 16M), a model billed in two currencies is projected per currency, and one
    /// absent from the last month (d) is not projected.
    #[test]
    fn forecast_counts_calendar_months_and_currencies() {
        let point = |period: &str, model: &str, currency: &str, tokens: &str| ForecastPoint {
            period: period.into(),
            model_id: model.into(),
            currency: currency.into(),
            phase_costs: [Money::ZERO; 7],
            total_cost: Money::parse("100").unwrap(),
            volume: Some(Money::parse(tokens).unwrap()),
        };
        let points = [
            point("2026-01", "b", "USD", "1000000"),
            point("2026-03", "b", "USD", "4000000"),
            point("2026-04", "b", "USD", "8000000"),
            point("2026-03", "d", "USD", "5"),
            point("2026-04", "a", "USD", "10"),
            point("2026-04", "c", "USD", "10"),
            point("2026-04", "c", "EUR", "20"),
        ];
        let f = forecast_unit(&points, "tokens", 1, None, &[], &|_| Vec::new()).unwrap();
        assert!((f.monthly_growth["b"] - 1.0).abs() < 1e-9);
        assert_eq!(
            f.basis["d"],
            "not projected: nothing in 2026-04 (last in 2026-03)"
        );
        assert!(f.rows.iter().all(|r| r.model_id != "d"));
        let b: Vec<(String, String)> = f
            .rows
            .iter()
            .filter(|r| r.model_id == "b")
            .map(|r| (r.period.clone(), r.quantity.unwrap().to_string()))
            .collect();
        assert_eq!(b, [("2026-05".to_string(), "16000000".to_string())]);
        let keys: Vec<&String> = f.monthly_growth.keys().collect();
        assert_eq!(keys, ["a", "b", "c (EUR)", "c (USD)"]);
        assert_eq!(
            f.basis["c (EUR)"],
            "one month of history and no --growth: volume held flat"
        );
        assert!(parse_growth("inf%").is_none() && parse_growth("NaN").is_none());
    }

    #[test]
    fn growth_parsing() {
        assert!((parse_growth("20%/quarter").unwrap() - 0.062658).abs() < 1e-6);
        assert!((parse_growth("5%/month").unwrap() - 0.05).abs() < 1e-12);
        assert!((parse_growth("0.1").unwrap() - 0.1).abs() < 1e-12);
        assert!(parse_growth("fast").is_none());
        assert_eq!(add_months("2026-11", 3), "2027-02");
    }

    /// Inference (variable) 1000 at 1,000,000 requests, training (fixed) 500; 100% growth a
    /// month: month 1 = 2,000,000 requests, 2000 + 500 = 2500, 1.25 per 1,000.
    #[test]
    fn forecast_separates_variable_and_fixed_and_alerts() {
        let rows = vec![row("2026-10", "m", "1000", "500", Some(1_000_000))];
        let limit = |limit: f64| {
            move |_: &str| {
                vec![Limit {
                    name: "cost per 1,000 requests".into(),
                    per: 1000,
                    limit,
                }]
            }
        };
        let f = forecast(&rows, 2, Some(1.0), &["inference".into()], &limit(1.6)).unwrap();
        assert_eq!(f.rows[0].period, "2026-11");
        assert_eq!(f.rows[0].requests, Some(2_000_000));
        assert_eq!(f.rows[0].total_cost.to_string(), "2500");
        assert_eq!(
            f.rows[0].cost_per_1000_requests.unwrap().to_string(),
            "1.25"
        );
        assert_eq!(f.rows[1].total_cost.to_string(), "4500");
        // 2500 is not yet double 1500; 4500 is
        assert!(
            f.alerts.iter().any(|a| a.contains("doubles by 2026-12")),
            "{:?}",
            f.alerts
        );
        assert!(
            f.alerts.iter().all(|a| !a.contains("crosses")),
            "1.25 and 1.125 stay under 1.6"
        );
        let flat = forecast(&rows, 1, None, &["inference".into()], &|_| Vec::new()).unwrap();
        assert_eq!(
            flat.basis["m"],
            "one month of history and no --growth: volume held flat"
        );
        let two = vec![
            row("2026-09", "m", "1000", "0", Some(1_000_000)),
            row("2026-10", "m", "1000", "0", Some(1_100_000)),
        ];
        let fitted = forecast(&two, 1, None, &["inference".into()], &limit(0.5)).unwrap();
        assert!((fitted.monthly_growth["m"] - 0.1).abs() < 1e-9);
        assert_eq!(fitted.basis["m"], "fitted to 2 months of requests");
    }
}
