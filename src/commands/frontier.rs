//! `mlcost frontier`: the Pareto-optimal candidates by accuracy and monthly cost.

use crate::cli::FrontierArgs;
use crate::error::{Error, Result};
use crate::{estimate, report};

fn text(args: &FrontierArgs) -> Result<String> {
    let catalog = super::estimate::load_catalog(args.catalog.as_deref())?;
    let text = std::fs::read_to_string(&args.candidates).map_err(|source| Error::Io {
        path: args.candidates.clone(),
        source,
    })?;
    let cands = estimate::frontier(&text, &args.candidates, &catalog)?;
    if args.json {
        return super::json(&cands);
    }
    Ok(report::frontier_text(&cands))
}

pub fn run(args: &FrontierArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    text(args).map(Outcome::stdout)
}
