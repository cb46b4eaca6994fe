//! `mlcost report`: gathers the written tables and renders the HTML or Markdown report.

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::report::page::{self, ReportData};

pub fn run(args: &ReportArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let out = output::Published::open(&args.input)?;
    let mut periods = out.periods(output::UNIT_COSTS)?;
    if let Some(p) = &args.period {
        if !periods.contains(p) {
            return Err(Error::Usage {
                message: format!(
                    "`--period {p}`: no such month under `{}` (it has {})",
                    args.input.display(),
                    if periods.is_empty() {
                        "none".to_string()
                    } else {
                        periods.join(", ")
                    }
                ),
                hint: Some("name a published month, or leave --period out for every month".into()),
            });
        }
        // the month asked for, and the one before it for the comparison
        let i = periods.iter().position(|m| m == p).unwrap_or_default();
        periods = periods[i.saturating_sub(1)..=i].to_vec();
    }
    let Some(latest) = periods.last().cloned() else {
        return Err(Error::Usage {
            message: format!("no unit_costs under `{}`", args.input.display()),
            hint: Some(
                "run `mlcost attribute --out DIR` first and pass that DIR as --input".into(),
            ),
        });
    };
    let mut unit_costs = Vec::new();
    let mut allocation = Vec::new();
    let mut cost_basis = String::new();
    for p in &periods {
        unit_costs.extend(out.unit_costs(p)?);
        let (rows, basis) = out.cost_by_model(p)?;
        allocation.extend(rows);
        cost_basis = basis;
    }
    let data = ReportData {
        title: args.title.clone(),
        trend: crate::trend::trend(&unit_costs),
        unit_costs,
        allocation,
        cost_basis,
        compliance: out.compliance(&latest)?,
        hidden: out.hidden(&latest)?,
        by_unit: out.unit_costs_by_unit(&latest)?,
        by_dimension: out.cost_by_dimension(&latest)?,
        anomalies: out.anomalies(&latest)?,
        amortization: out.amortization(&latest)?,
        bill: out.partition_manifest(&latest)?,
        periods,
    };
    let text = match args.format {
        ReportFormat::Html => page::html(&data),
        ReportFormat::Markdown => page::markdown(&data),
    };
    super::emit(text, &args.out, ctx)
}
