//! `mlcost economics`: the unit-economics arithmetic for one system without a bill.

use std::fmt::Write;

use crate::cli::{EconomicsArgs, VolumePer};
use crate::economics::{hidden_costs, unit_economics};
use crate::error::{Error, Result};
use crate::money::Money;

/// A non-negative amount given on the command line.
fn amount(name: &str, v: &str) -> Result<Money> {
    let m = Money::parse(v).map_err(|e| Error::Usage {
        message: format!("invalid `--{name}` value `{v}`: {e}"),
        hint: Some("give a plain decimal number such as 28400 or 0.45".into()),
    })?;
    if m.0 < 0 {
        return Err(Error::Usage {
            message: format!("`--{name}` cannot be negative, got {v}"),
            hint: None,
        });
    }
    Ok(m)
}

/// `v` when it lies in `[min, 1]`, else a usage error.
fn fraction(name: &str, v: Option<Money>, min: Money, hint: &str) -> Result<Option<Money>> {
    match v {
        Some(f) if f < min || f.0 > crate::money::ONE => Err(Error::Usage {
            message: format!("`--{name}` must be from {min} to 1, got {f}"),
            hint: Some(hint.into()),
        }),
        _ => Ok(v),
    }
}

fn opt(name: &str, v: &Option<String>) -> Result<Option<Money>> {
    v.as_deref().map(|x| amount(name, x)).transpose()
}

/// The cost of one unit besides requests (`--unit`), at three scales.
#[derive(serde::Serialize)]
struct PerUnit {
    unit: String,
    volume_per_month: Money,
    /// Per unit, per 1,000 and per 1,000,000 units (`crate::economics::per_units`).
    #[serde(serialize_with = "scales")]
    costs: [Option<Money>; 3],
}

fn scales<S: serde::Serializer>(
    c: &[Option<Money>; 3],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(3))?;
    m.serialize_entry("cost_per_unit", &c[0])?;
    m.serialize_entry("cost_per_1000_units", &c[1])?;
    m.serialize_entry("cost_per_1m_units", &c[2])?;
    m.end()
}

fn text(args: &EconomicsArgs) -> Result<String> {
    let cost = amount("cost", &args.cost)?;
    let volume = amount("volume", &args.volume)?;
    let monthly = match args.per {
        VolumePer::Month => volume,
        VolumePer::Day => volume
            .mul_int_div(i128::from(args.days_per_month), 1)
            .ok_or_else(|| Error::Usage {
                message: "`--volume` x `--days-per-month` is too large".into(),
                hint: None,
            })?,
    };
    // a unit besides requests: a decimal volume, costs per unit at three scales
    let unit = args
        .unit
        .as_deref()
        .map(crate::config::unit_name)
        .filter(|u| u != "requests");
    if let Some(u) = &unit {
        if u.is_empty() || monthly.is_zero() {
            return Err(Error::Usage {
                message: "`--unit` needs a unit name and a volume above zero".into(),
                hint: Some("e.g. `--volume 3000000000 --unit tokens`".into()),
            });
        }
    }
    // requests are a count: the month's volume to the nearest whole request (another unit's
    // volume is a decimal of any size)
    let whole = monthly.mul_int_div(1, crate::money::ONE).map_or(0, |m| m.0);
    let requests = match unit {
        Some(_) => 0,
        None => i64::try_from(whole).map_err(|_| Error::Usage {
            message: "`--volume` is too large".into(),
            hint: None,
        })?,
    };
    if requests == 0 && unit.is_none() {
        return Err(Error::Usage {
            message: format!(
                "`--volume {}` is less than one request a month",
                args.volume
            ),
            hint: Some("give the requests per month (or per day with `--per day`)".into()),
        });
    }
    let min_utilization = Money::from_f64(crate::config::MIN_UTILIZATION).unwrap_or_default();
    let utilization = fraction(
        "utilization",
        opt("utilization", &args.utilization)?,
        min_utilization,
        "45% utilisation is 0.45",
    )?;
    let waste = fraction(
        "waste-fraction",
        opt("waste-fraction", &args.waste_fraction)?,
        Money::ZERO,
        "a tenth of experiment spend wasted is 0.1",
    )?;
    let requests = unit.is_none().then_some(requests);
    let per_unit = unit.as_ref().map(|u| PerUnit {
        unit: u.clone(),
        volume_per_month: monthly,
        costs: crate::economics::per_units(cost, monthly),
    });
    let e = unit_economics(
        cost,
        requests,
        opt("revenue", &args.revenue)?,
        opt("value-preserved", &args.value_preserved)?,
    );
    let h = hidden_costs(
        cost,
        utilization,
        opt("experiment-spend", &args.experiment_spend)?,
        waste,
        opt("ftes", &args.ftes)?,
        opt("fte-cost", &args.fte_cost)?,
    )?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            cost: Money,
            #[serde(skip_serializing_if = "Option::is_none")]
            requests_per_month: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            unit: Option<&'a PerUnit>,
            #[serde(flatten)]
            economics: &'a crate::economics::UnitEconomics,
            hidden: &'a crate::economics::HiddenCosts,
        }
        return super::json(&Json {
            cost,
            requests_per_month: requests,
            unit: per_unit.as_ref(),
            economics: &e,
            hidden: &h,
        });
    }
    let mut o = String::new();
    let show = |m: Option<Money>, places: u32| m.map_or("-".to_string(), |m| m.to_fixed(places));
    match &per_unit {
        None => {
            let _ = writeln!(
                o,
                "cost {} a month for {} requests a month",
                cost.to_fixed(2),
                requests.unwrap_or_default()
            );
            let _ = writeln!(
                o,
                "  cost per request              {}",
                show(e.cost_per_request, 9)
            );
            let _ = writeln!(
                o,
                "  cost per 1,000 requests       {}",
                show(e.cost_per_1000_requests, 6)
            );
            let _ = writeln!(
                o,
                "  revenue per request           {}",
                show(e.revenue_per_request, 9)
            );
        }
        Some(p) => {
            let u = crate::escape::terminal(&p.unit, 40);
            let _ = writeln!(
                o,
                "cost {} a month for {} {u} a month",
                cost.to_fixed(2),
                p.volume_per_month
            );
            for (label, i, places) in [("unit of", 0, 12), ("1,000", 1, 9), ("1M", 2, 6)] {
                let _ = writeln!(
                    o,
                    "  {:<29} {}",
                    format!("cost per {label} {u}"),
                    show(p.costs[i], places)
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "  gross margin                  {}%",
        show(e.gross_margin_pct, 2)
    );
    let _ = writeln!(
        o,
        "  cost as % of revenue          {}%",
        show(e.cost_pct_of_revenue, 4)
    );
    let _ = writeln!(o, "  ROI ((value - cost) / cost)   {}", show(e.roi, 4));
    let _ = writeln!(
        o,
        "  cost per dollar of value      {}",
        show(e.cost_per_dollar_of_value, 6)
    );
    if !h.hidden_total.is_zero() {
        let _ = writeln!(o, "hidden costs (estimates, not on the bill):");
        let _ = writeln!(
            o,
            "  idle capacity                 {} (bought on top of what was used: cost x (1 - u) / u)",
            show(h.idle_capacity, 2)
        );
        let _ = writeln!(
            o,
            "  experiment waste              {}",
            show(h.experiment_waste, 2)
        );
        let _ = writeln!(
            o,
            "  engineering time              {}",
            show(h.engineering_time, 2)
        );
        let _ = writeln!(
            o,
            "  true total                    {}",
            h.true_total.to_fixed(2)
        );
        let _ = writeln!(
            o,
            "  hidden as % of visible        {}%",
            show(h.hidden_pct_of_visible, 2)
        );
        let _ = writeln!(
            o,
            "  idle share of the bill        {} (cost x (1 - u): already in the cost, not in the hidden total)",
            show(h.idle_share_of_bill, 2)
        );
    }
    Ok(o)
}

pub fn run(args: &EconomicsArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    text(args).map(Outcome::stdout)
}
