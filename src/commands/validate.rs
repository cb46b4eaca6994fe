//! `mlcost validate`: ingest -> ledger -> compliance; prints the report, writes nothing.

use super::Outcome;
use crate::cli::ValidateArgs;
use crate::config::LoadedConfig;
use crate::context::Context;
use crate::error::ExitStatus;
use crate::error::Result;
use crate::ledger::{self, compliance};
use crate::report;
use crate::tags::TagNormaliser;

pub fn run(args: &ValidateArgs, ctx: &Context) -> Result<Outcome> {
    let loaded = LoadedConfig::load(args.input.config.as_deref())?;
    let config = &loaded.config;
    let tagger = TagNormaliser::new(&config.tags);
    let mut staging = crate::ingest::Staging::new(ctx.read.progress);
    let paths = staging.billing(&args.input.billing)?;
    let paths = crate::ingest::resolve_paths(&paths, &[])?;
    let prefer = args
        .input
        .prefer
        .as_deref()
        .map(|p| staging.prefer(p))
        .transpose()?;
    let billing = crate::ingest::read_billing(
        paths,
        args.input.format.0,
        prefer.as_deref(),
        config.cost.basis,
        &ctx.read,
    )?;
    let ledger = ledger::build(&billing.groups, config, None)?;
    let summary = compliance::assess(&ledger, tagger.required()).summary;
    let threshold = config.validate.min_compliance;
    let counted: u64 = ledger.totals.values().map(|t| t.rows).sum();
    let read: u64 = billing.files.iter().map(|f| f.rows).sum();
    // Nothing usable is not 100% compliant: there is nothing to measure.
    let unusable = counted == 0;
    let below = unusable || threshold.is_some_and(|t| summary.overall_spend_compliant < t);
    let status = if below {
        ExitStatus::Rejected
    } else {
        ExitStatus::Success
    };
    let stdout = if args.json {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            status: &'static str,
            exit_code: u8,
            threshold: Option<f64>,
            passed: bool,
            counted_rows: u64,
            quarantined_rows: u64,
            #[serde(flatten)]
            summary: &'a compliance::ComplianceSummary,
        }
        let json = Json {
            status: if below { "rejected" } else { "passed" },
            exit_code: status.code(),
            threshold,
            passed: !below,
            counted_rows: counted,
            quarantined_rows: ledger.quarantined_rows(),
            summary: &summary,
        };
        super::json(&json)?
    } else {
        report::validate_text(&summary, threshold)
    };
    let rejection = below.then(|| {
        if unusable {
            return format!(
                "none of the {read} billing rows could be used ({} quarantined): there is no spend to measure compliance on",
                ledger.quarantined_rows()
            );
        }
        format!(
            "tag compliance {:.1}% of spend is below the threshold {:.1}% (`validate.min_compliance`)",
            summary.overall_spend_compliant * 100.0,
            threshold.unwrap_or(0.0) * 100.0
        )
    });
    Ok(Outcome {
        stdout,
        stderr: rejection
            .map(|r| format!("error: {r}\n"))
            .unwrap_or_default(),
        status,
    })
}
