//! `mlcost estimate`: profile x catalog -> monthly cost per model and category; with
//! `--compare`, the difference a change makes; with `--actual`, the plan against the bill.

use crate::cli::EstimateArgs;
use crate::error::{Error, Result};
use crate::estimate::{self, Catalog};
use crate::{output, report};

fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub fn load_catalog(path: Option<&std::path::Path>) -> Result<Catalog> {
    match path {
        Some(p) => Catalog::parse(&read(p)?, p),
        None => Catalog::default_catalog(),
    }
}

/// The estimate's text or JSON, and its stale prices.
fn text(args: &EstimateArgs) -> Result<(String, Vec<estimate::StalePrice>)> {
    let catalog = load_catalog(args.catalog.as_deref())?;
    let text = read(&args.profile)?;
    let mut base = estimate::estimate(&text, &args.profile, &catalog)?;
    let today = args
        .today
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    base.age_prices(&catalog, today);
    let compared = if args.compare.is_empty() {
        None
    } else {
        let alt = estimate::apply_overrides(&text, &args.profile, &args.compare)?;
        let mut alt = estimate::estimate(&alt, &args.profile, &catalog)?;
        alt.age_prices(&catalog, today);
        Some(alt)
    };
    // the prices either side of a comparison rests on, each once
    let mut stale = base.stale_prices.clone();
    for s in compared.iter().flat_map(|c| &c.stale_prices) {
        if !stale.contains(s) {
            stale.push(s.clone());
        }
    }
    let actual = match (&args.actual, &args.period) {
        (Some(dir), Some(period)) => {
            let period = super::parse_period(period)?;
            let rows = output::Published::open(dir)?.unit_costs(&period)?;
            Some((period, estimate::plan_vs_actual(&base, &rows)))
        }
        _ => None,
    };
    if args.json {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            estimate: &'a estimate::Estimate,
            compared: Option<&'a estimate::Estimate>,
            overrides: &'a [String],
            plan_vs_actual: Option<&'a [estimate::PlanVsActual]>,
        }
        let j = Json {
            estimate: &base,
            compared: compared.as_ref(),
            overrides: &args.compare,
            plan_vs_actual: actual.as_ref().map(|(_, r)| r.as_slice()),
        };
        return Ok((super::json(&j)?, stale));
    }
    let mut out = report::estimate_text(&base);
    if let Some(alt) = &compared {
        out.push('\n');
        out.push_str(&report::compare_text(&base, alt, &args.compare));
    }
    if let Some((period, rows)) = &actual {
        out.push('\n');
        out.push_str(&report::plan_vs_actual_text(period, rows, &base.currency));
    }
    Ok((out, stale))
}

pub fn run(args: &EstimateArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let (stdout, stale) = text(args)?;
    let warnings: String = stale
        .iter()
        .map(|s| format!("warning: {s}; check them or pass a current catalog with `--catalog`\n"))
        .collect();
    Ok(super::Outcome {
        stdout,
        stderr: ctx.say(warnings),
        ..super::Outcome::default()
    })
}
