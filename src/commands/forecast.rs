//! `mlcost forecast`: reads `unit_costs` back and projects requests and cost per model.

use std::fmt::Write;

use crate::cli::ForecastArgs;
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::{output, trend};

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
    let rows = output::Published::open(&args.input)?.all_unit_costs()?;
    let targets = loaded.config.targets.clone();
    let limit = move |m: &str| targets.for_model(m).max_cost_per_1000_requests;
    let f = trend::forecast(
        &rows,
        args.months,
        growth,
        &loaded.config.forecast.variable_phases,
        &limit,
    )?;
    if args.json {
        return super::json(&f);
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Forecast, {} months; cost scaling with volume: {}",
        args.months,
        loaded.config.forecast.variable_phases.join(", ")
    );
    for (model, g) in &f.monthly_growth {
        let _ = writeln!(
            o,
            "{}: requests {:+.2}% a month ({})",
            crate::escape::terminal(model, crate::escape::SUMMARY_WIDTH),
            g * 100.0,
            f.basis.get(model).map(String::as_str).unwrap_or("")
        );
        let _ = writeln!(
            o,
            "  {:<8} {:>14} {:>14} {:>14} {:>14} {:>12}",
            "month", "requests", "variable", "fixed", "total", "per 1,000"
        );
        for r in f.rows.iter().filter(|r| &r.model_id == model) {
            let _ = writeln!(
                o,
                "  {:<8} {:>14} {:>14} {:>14} {:>14} {:>12}",
                r.period,
                r.requests.map_or("-".into(), |v| v.to_string()),
                r.variable_cost.to_fixed(2),
                r.fixed_cost.to_fixed(2),
                r.total_cost.to_fixed(2),
                r.cost_per_1000_requests
                    .map_or("-".into(), |v| v.to_fixed(4))
            );
        }
    }
    for a in &f.alerts {
        let _ = writeln!(o, "alert: {}", crate::escape::terminal(a, 400));
    }
    Ok(o)
}
pub fn run(args: &ForecastArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    forecast_text(args).map(Outcome::stdout)
}
