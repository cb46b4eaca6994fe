//! `mlcost trend`: reads `unit_costs` back and explains each month's change per model.

use std::fmt::Write;

use crate::cli::TrendArgs;
use crate::error::Result;
use crate::{output, trend};

/// `--unit`: the cost of one unit of the volumes, month over month.
fn unit_trend_text(args: &TrendArgs, unit: &str) -> Result<String> {
    let unit = crate::config::unit_name(unit);
    // no table (volumes of requests alone) is no rows, explained below
    let mut rows = output::Published::open(&args.input)?.all_unit_costs_by_unit()?;
    if let Some(m) = &args.model {
        rows.retain(|r| &r.model_id == m);
    }
    let t = trend::unit_trend(&rows, &unit);
    if args.json {
        return super::json(&t);
    }
    let mut o = String::new();
    if t.is_empty() {
        let _ = writeln!(
            o,
            "no model has two months of `{unit}` costs under `{}` yet (unit_costs_by_unit is written when the volumes give units besides requests)",
            args.input.display()
        );
    }
    let (_, per) = trend::unit_scale(&unit);
    for r in &t {
        let _ = writeln!(
            o,
            "{} {} -> {} ({}): {}",
            crate::escape::terminal(&r.model_id, 80),
            r.from,
            r.to,
            r.currency,
            r.explanation
        );
        if let (Some(s), Some(v)) = (r.spend_effect, r.volume_effect) {
            let _ = writeln!(
                o,
                "  spend effect {} and volume effect {} per {per} {unit}",
                signed(s),
                signed(v)
            );
        }
    }
    Ok(o)
}

/// An effect with its sign, at 6 decimals (a tiny negative one is `-0.000000`).
fn signed(m: crate::money::Money) -> String {
    let text = m.to_fixed(6);
    match (text.starts_with('-'), m.0 < 0) {
        (true, _) => text,
        (false, true) => format!("-{text}"),
        (false, false) => format!("+{text}"),
    }
}

fn trend_text(args: &TrendArgs) -> Result<String> {
    if let Some(unit) = &args.unit {
        return unit_trend_text(args, unit);
    }
    let mut rows = output::Published::open(&args.input)?.all_unit_costs()?;
    if let Some(m) = &args.model {
        rows.retain(|r| &r.model_id == m);
    }
    let t = trend::trend(&rows);
    if args.json {
        return super::json(&t);
    }
    let mut o = String::new();
    if t.is_empty() {
        let _ = writeln!(
            o,
            "no model has two months of unit costs under `{}` yet",
            args.input.display()
        );
    }
    for r in &t {
        let _ = writeln!(
            o,
            "{} {} -> {} ({}): {}",
            r.model_id, r.from, r.to, r.currency, r.explanation
        );
        if let (Some(s), Some(v)) = (r.spend_effect, r.volume_effect) {
            let _ = writeln!(
                o,
                "  spend effect {:+} and volume effect {:+} per 1,000 requests",
                s.to_fixed(6).parse::<f64>().unwrap_or(0.0),
                v.to_fixed(6).parse::<f64>().unwrap_or(0.0)
            );
        }
    }
    Ok(o)
}

pub fn run(args: &TrendArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    trend_text(args).map(Outcome::stdout)
}
