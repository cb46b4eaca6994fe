//! `mlcost attribute`: the command line to a `pipeline::Job`, and the run's record to what is
//! printed: the summary on stderr, the record as JSON on stdout with `--json`.

use std::time::Duration;

use super::parse_period;
use super::Outcome;
use crate::cli::{AttributeArgs, Grain};
use crate::config::LoadedConfig;
use crate::context::Context;
use crate::error::{ExitStatus, Result};
use crate::ingest;
use crate::pipeline::{self, Job};
use crate::report::{self, RunSummary};

pub fn run(args: &AttributeArgs, ctx: &Context) -> Result<Outcome> {
    let period = args.period.as_deref().map(parse_period).transpose()?;
    if ingest::is_uri(&args.out.to_string_lossy()) {
        return Err(crate::error::Error::Usage {
            message: format!("`--out {}` is a bucket: mlcost publishes its outputs by renaming files, which buckets cannot do atomically", args.out.display()),
            hint: Some("write to a local or mounted directory, then copy the published months to the bucket (README: Inputs in buckets)".into()),
        });
    }
    let loaded = LoadedConfig::load(args.input.config.as_deref())?;
    // Inputs that do not exist are found before the output directory is touched; objects in
    // buckets are fetched to local copies that live as long as `staging`.
    let mut staging = ingest::Staging::new(ctx.read.progress);
    let billing = staging.billing(&args.input.billing)?;
    let billing = ingest::resolve_paths(&billing, &[args.out.as_path()])?;
    let requests = args
        .requests
        .as_deref()
        .map(|p| staging.file(p))
        .transpose()?;
    let revenue = args
        .revenue
        .as_deref()
        .map(|p| staging.file(p))
        .transpose()?;
    for side in [&requests, &revenue].into_iter().flatten() {
        ingest::sniff(side)?;
    }
    let job = Job {
        billing,
        format: args.input.format.0,
        prefer: args
            .input
            .prefer
            .as_deref()
            .map(|p| staging.prefer(p))
            .transpose()?,
        requests,
        revenue,
        out: args.out.clone(),
        period,
        strict: args.strict,
        allow_empty: args.allow_empty,
        wait: args.wait.map(Duration::from_secs),
        days: args.grain == Grain::Day,
    };
    let read = ingest::ReadOptions {
        charge_days: job.days,
        ..ctx.read
    };
    let done = pipeline::run(&job, &loaded, &read, &ctx.hooks)?;
    let summary = RunSummary {
        manifest: done.manifest,
        out_dir: args.out.clone(),
        compliance: done.compliance,
    };
    let stdout = match args.json {
        true => super::json(&summary)?,
        false => String::new(),
    };
    let mut stderr = ctx.say(report::attribute_summary(&summary));
    if let Some(e) = &done.rejection {
        stderr.push_str(&report::error_text(e));
    }
    Ok(Outcome {
        stdout,
        stderr,
        status: done
            .rejection
            .as_ref()
            .map_or(ExitStatus::Success, |e| e.status()),
    })
}
