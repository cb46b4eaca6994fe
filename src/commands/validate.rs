//! `mlcost validate`: ingest -> ledger -> compliance; prints the report, writes nothing.

use super::{read_billing, Verbosity};
use crate::cli::ValidateArgs;
use crate::config::LoadedConfig;
use crate::error::Result;
use crate::tags::TagNormaliser;
use crate::{compliance, ledger, report};

pub struct Outcome {
    /// The report for stdout (text or JSON).
    pub stdout: String,
    pub exit_code: i32,
    /// Why the run was rejected, for stderr.
    pub rejection: Option<String>,
}

pub fn run(args: &ValidateArgs, verbosity: Verbosity) -> Result<Outcome> {
    let loaded = LoadedConfig::load(args.input.config.as_deref())?;
    let config = &loaded.config;
    let tagger = TagNormaliser::new(&config.tags);
    let billing = read_billing(&args.input, config.cost.basis, verbosity)?;
    let ledger = ledger::build(&billing.groups, config, None);
    let summary = compliance::assess(&ledger, tagger.required()).summary;
    let threshold = config.validate.min_compliance;
    let below = threshold.is_some_and(|t| summary.overall_spend_compliant < t);
    let stdout = if args.json {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            threshold: Option<f64>,
            passed: bool,
            quarantined_rows: u64,
            #[serde(flatten)]
            summary: &'a compliance::ComplianceSummary,
        }
        let json = Json {
            threshold,
            passed: !below,
            quarantined_rows: ledger.quarantined_rows(),
            summary: &summary,
        };
        let mut s = serde_json::to_string_pretty(&json).map_err(|e| {
            crate::error::Error::Internal(format!("cannot serialise the report: {e}"))
        })?;
        s.push('\n');
        s
    } else {
        report::validate_text(&summary, threshold)
    };
    let rejection = below.then(|| {
        format!(
            "tag compliance {:.1}% of spend is below the threshold {:.1}% (`validate.min_compliance`)",
            summary.overall_spend_compliant * 100.0,
            threshold.unwrap_or(0.0) * 100.0
        )
    });
    Ok(Outcome {
        stdout,
        exit_code: if below { 1 } else { 0 },
        rejection,
    })
}
