//! `mlcost report`: gathers the written tables and renders the HTML or Markdown report.

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::report::page::{self, ReportData};

pub fn run(args: &ReportArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let periods = output::list_periods(&args.input, output::UNIT_COSTS)?;
    let Some(latest) = periods.last().cloned() else {
        return Err(Error::Usage {
            message: format!("no unit_costs under `{}`", args.input.display()),
            hint: Some(
                "run `mlcost attribute --out DIR` first and pass that DIR as --input".into(),
            ),
        });
    };
    let data = ReportData {
        title: args.title.clone(),
        unit_costs: output::read_all_unit_costs(&args.input)?,
        allocation: output::read_cost_by_model(&args.input, &latest)?.0,
        compliance: output::read_compliance(&args.input, &latest)?,
        hidden: output::read_hidden(&args.input, &latest)?,
        periods,
    };
    let text = match args.format {
        ReportFormat::Html => page::html(&data),
        ReportFormat::Markdown => page::markdown(&data),
    };
    super::emit(text, &args.out, ctx)
}
