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

fn text(args: &EstimateArgs) -> Result<String> {
    let catalog = load_catalog(args.catalog.as_deref())?;
    let text = read(&args.profile)?;
    let base = estimate::estimate(&text, &args.profile, &catalog)?;
    let compared = if args.compare.is_empty() {
        None
    } else {
        let alt = estimate::apply_overrides(&text, &args.profile, &args.compare)?;
        Some(estimate::estimate(&alt, &args.profile, &catalog)?)
    };
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
        return super::json(&j);
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
    Ok(out)
}

pub fn run(args: &EstimateArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    text(args).map(Outcome::stdout)
}
