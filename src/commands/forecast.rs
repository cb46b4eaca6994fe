//! `mlcost forecast`: reads `unit_costs` (and `unit_costs_by_unit` for `--unit`) back and
//! projects each model's volume and cost.

use std::fmt::Write;

use crate::cli::ForecastArgs;
use crate::config::{LoadedConfig, TargetsConfig};
use crate::error::{Error, Result};
use crate::trend::{self, ForecastPoint, Limit};
use crate::{output, trend::UnitForecastRow};

/// The limits of `unit` for one model: its unit targets, and for requests the cost per 1,000
/// requests (a config giving both for one figure was refused when it was loaded).
fn limits(targets: &TargetsConfig, model: &str, unit: &str) -> Vec<Limit> {
    let t = targets.for_unit(model, unit);
    let per_1000_requests = targets
        .for_model(model)
        .max_cost_per_1000_requests
        .filter(|_| unit == "requests");
    [
        (format!("cost per unit of {unit}"), 1, t.max_cost_per_unit),
        (format!("cost per 1,000 {unit}"), 1000, t.max_cost_per_1000),
        (format!("cost per 1,000 {unit}"), 1000, per_1000_requests),
        (format!("cost per 1M {unit}"), 1_000_000, t.max_cost_per_1m),
    ]
    .into_iter()
    .filter_map(|(name, per, limit)| limit.map(|limit| Limit { name, per, limit }))
    .collect()
}

fn forecast_text(args: &ForecastArgs) -> Result<String> {
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let growth = match &args.growth {
        Some(g) => Some(trend::parse_growth(g).ok_or_else(|| Error::Usage {
            message: format!("invalid `--growth` value `{g}`"),
            hint: Some(
                "use a rate per period such as `20%/quarter`, `5%/month` or `30%/year`".into(),
            ),
        })?),
        None => None,
    };
    let published = output::Published::open(&args.input)?;
    let costs = published.all_unit_costs()?;
    let variable_phases = &loaded.config.forecast.variable_phases;
    let targets = &loaded.config.targets;
    let unit = match args.unit.as_deref().map(crate::config::unit_name) {
        Some(u) if u.is_empty() => {
            return Err(Error::Usage {
                message: "`--unit` is empty".into(),
                hint: Some("name a unit of the volumes, for example `--unit tokens`".into()),
            })
        }
        Some(u) => u,
        None => "requests".to_string(),
    };
    let limits = |m: &str| limits(targets, m, &unit);
    if args.json && args.unit.is_none() {
        // without --unit the JSON keeps its request fields (`requests`, `cost_per_1000_requests`)
        let f = trend::forecast(&costs, args.months, growth, variable_phases, &limits)?;
        return super::json(&f);
    }
    // requests are in `unit_costs` whether or not the volumes gave other units
    let points = match unit.as_str() {
        "requests" => ForecastPoint::of_requests(&costs),
        _ => ForecastPoint::of_unit(&costs, &published.all_unit_costs_by_unit()?, &unit),
    };
    let f = trend::forecast_unit(
        &points,
        &unit,
        args.months,
        growth,
        variable_phases,
        &limits,
    )?;
    if args.json {
        return super::json(&f);
    }
    Ok(forecast_table(&f, args, &unit, variable_phases))
}

/// The forecast as text: per model its growth, then one line per projected month.
fn forecast_table(
    f: &trend::Forecast<UnitForecastRow>,
    args: &ForecastArgs,
    unit: &str,
    variable_phases: &[String],
) -> String {
    let mut o = String::new();
    if f.rows.is_empty() {
        return format!(
            "no model has `{}` volumes under `{}` to project{}\n",
            crate::escape::terminal(unit, 80),
            args.input.display(),
            match unit {
                "requests" => "",
                _ =>
                    " (unit_costs_by_unit is written when the volumes give units besides requests)",
            }
        );
    }
    let _ = writeln!(
        o,
        "Forecast, {} months; cost scaling with volume: {}",
        args.months,
        variable_phases.join(", ")
    );
    let (_, per_name) = trend::unit_scale(unit);
    let unit_label = crate::escape::terminal(unit, 14);
    // a model billed in several currencies is labelled `model (CUR)` in monthly_growth
    let mut blocks: Vec<(&str, &str)> = f
        .rows
        .iter()
        .map(|r| (r.model_id.as_str(), r.currency.as_str()))
        .collect();
    blocks.dedup();
    for (model, currency) in blocks {
        let labelled = format!("{model} ({currency})");
        let name = match f.monthly_growth.contains_key(&labelled) {
            true => labelled,
            false => model.to_string(),
        };
        let g = f.monthly_growth.get(&name).copied().unwrap_or(0.0);
        let _ = writeln!(
            o,
            "{}: {unit_label} {:+.2}% a month ({})",
            crate::escape::terminal(&name, crate::escape::SUMMARY_WIDTH),
            g * 100.0,
            f.basis.get(&name).map(String::as_str).unwrap_or("")
        );
        let _ = writeln!(
            o,
            "  {:<8} {:>14} {:>14} {:>14} {:>14} {:>12}",
            "month",
            unit_label,
            "variable",
            "fixed",
            "total",
            match per_name {
                "1" => "per unit".to_string(),
                n => format!("per {n}"),
            }
        );
        for r in f
            .rows
            .iter()
            .filter(|r| r.model_id == model && r.currency == currency)
        {
            let _ = writeln!(
                o,
                "  {:<8} {:>14} {:>14} {:>14} {:>14} {:>12}",
                r.period,
                r.quantity.map_or("-".into(), |v| v.to_string()),
                r.variable_cost.to_fixed(2),
                r.fixed_cost.to_fixed(2),
                r.total_cost.to_fixed(2),
                r.cost_per.map_or("-".into(), |v| v.to_fixed(4))
            );
        }
    }
    for (name, basis) in f
        .basis
        .iter()
        .filter(|(_, b)| b.starts_with("not projected"))
    {
        let _ = writeln!(
            o,
            "{}: {basis}",
            crate::escape::terminal(name, crate::escape::SUMMARY_WIDTH)
        );
    }
    for a in &f.alerts {
        let _ = writeln!(o, "alert: {}", crate::escape::terminal(a, 400));
    }
    o
}

pub fn run(args: &ForecastArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    forecast_text(args).map(Outcome::stdout)
}
