//! `mlcost trend`: reads `unit_costs` back and explains each month's change per model.

use std::fmt::Write;

use crate::cli::TrendArgs;
use crate::error::Result;
use crate::{output, trend};

fn trend_text(args: &TrendArgs) -> Result<String> {
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
