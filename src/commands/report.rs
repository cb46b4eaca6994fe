//! `mlcost report`: gathers the written tables and renders the HTML or Markdown report.

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::report::page::{self, ReportData};

pub fn run(args: &ReportArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let out = output::Published::open(&args.input)?;
    let periods = out.periods(output::UNIT_COSTS)?;
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
        unit_costs: out.all_unit_costs()?,
        allocation: out.cost_by_model(&latest)?.0,
        compliance: out.compliance(&latest)?,
        hidden: out.hidden(&latest)?,
        bill: out.partition_manifest(&latest)?,
        periods,
    };
    let text = match args.format {
        ReportFormat::Html => page::html(&data),
        ReportFormat::Markdown => page::markdown(&data),
    };
    super::emit(text, &args.out, ctx)
}
