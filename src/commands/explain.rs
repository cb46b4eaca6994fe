//! `mlcost explain`: reads one period of `cost_by_model` from an output directory and shows
//! how one model's cost was built (direct spend by phase, rules, pools and their shares), and
//! from `cost_by_dimension` what drives it (service, region, ... as `[output] dimensions` set).

use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::output;
use crate::report;

fn text(args: &ExplainArgs) -> Result<String> {
    let period = super::parse_period(&args.period)?;
    let published = output::Published::open(&args.input)?;
    let (rows, basis) = published.cost_by_model(&period)?;
    let model = args.model.trim().to_lowercase();
    let is_mine = |id: &str| id == model || id == args.model;
    let mine: Vec<_> = rows.into_iter().filter(|r| is_mine(&r.model_id)).collect();
    if mine.is_empty() {
        return Err(Error::Usage {
            message: format!("model `{}` has no cost in {period} under `{}`", args.model, args.input.display()),
            hint: Some("list the models with `duckdb -c \"select distinct model_id from 'out/cost_by_model/*/*.parquet'\"`".into()),
        });
    }
    let mut text = report::explain_text(&args.model, &period, &basis, &mine);
    let by_dimension: Vec<_> = published
        .cost_by_dimension(&period)?
        .into_iter()
        .filter(|r| is_mine(&r.model_id))
        .collect();
    text.push_str(&report::explain_dimensions_text(&by_dimension, args.top));
    Ok(text)
}

pub fn run(args: &ExplainArgs, _ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    text(args).map(Outcome::stdout)
}
