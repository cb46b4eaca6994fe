//! The `mlcost hidden` job: hidden-cost estimates of every month of `unit_costs` (or one),
//! published like the attribute tables: under the output lock, staged, each partition with its
//! `_manifest.json` (naming the `unit_costs` file it was computed from) and `_SUCCESS`, one
//! journaled commit. `manifest.json` keeps recording the last attribute run, with its list of
//! published partitions brought up to date.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::publish::stage_partition_meta;
use crate::config::HiddenConfig;
use crate::economics::{self, HiddenRow};
use crate::error::{Error, Result};
use crate::ingest;
use crate::money::Money;
use crate::output::{self, Staging, TestHooks};

/// One `mlcost hidden` run.
#[derive(Debug, Clone)]
pub struct HiddenJob {
    /// The output directory of `attribute`; `hidden_costs/` is written there.
    pub out: PathBuf,
    /// Only this month (default: every month with unit costs).
    pub period: Option<String>,
    pub wait: Option<Duration>,
}

/// Computes and publishes the hidden costs; returns the rows written.
pub fn hidden(
    job: &HiddenJob,
    cfg: &HiddenConfig,
    utilization: &BTreeMap<String, Money>,
    hooks: &TestHooks,
) -> Result<Vec<HiddenRow>> {
    let _lock = output::OutputLock::acquire(&job.out, job.wait)?;
    output::recover(&job.out)?;
    let periods = match &job.period {
        Some(p) => vec![p.clone()],
        None => output::list_periods(&job.out, output::UNIT_COSTS)?,
    };
    let now = chrono::Utc::now();
    let run = (
        output::new_run_id(now),
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    let mut staging = Staging::new(&job.out, hooks)?;
    let staged = stage(&mut staging, &job.out, &periods, cfg, utilization, &run);
    match staged {
        Ok(rows) => {
            staging.commit()?;
            Ok(rows)
        }
        Err(e) => {
            staging.discard();
            Err(e)
        }
    }
}

fn stage(
    staging: &mut Staging,
    out: &Path,
    periods: &[String],
    cfg: &HiddenConfig,
    utilization: &BTreeMap<String, Money>,
    (run_id, at): &(String, String),
) -> Result<Vec<HiddenRow>> {
    let mut all = Vec::new();
    for period in periods {
        let source = output::part_path(out, output::UNIT_COSTS, period);
        let rows =
            economics::hidden_for_models(&output::read_unit_costs(out, period)?, cfg, utilization)?;
        let refs: Vec<_> = rows.iter().collect();
        staging.write_partition(
            output::HIDDEN_COSTS,
            period,
            &output::hidden_costs_frame(&refs)?,
        )?;
        let sha256 = ingest::hash_file(&source)?;
        stage_partition_meta(
            staging,
            &output::PartitionManifest {
                table: output::HIDDEN_COSTS.to_string(),
                billing_period: period.clone(),
                run_id: run_id.clone(),
                published_at: at.clone(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                schema_version: crate::schema::SCHEMA_VERSION.to_string(),
                cost_basis: String::new(),
                config_sha256: String::new(),
                allow_empty: false,
                inputs: vec![output::PartitionInput {
                    path: source.display().to_string(),
                    content_sha256: sha256.clone(),
                    sha256,
                }],
                totals: Vec::new(),
                quarantined_rows: 0,
                history: Vec::new(),
                billing_status: None,
                invoices: Vec::new(),
                commitments: Vec::new(),
            },
        )?;
        all.extend(rows);
    }
    // the run record lists every published partition: add these
    let published: Vec<(String, String)> = periods
        .iter()
        .map(|p| (output::HIDDEN_COSTS.to_string(), p.clone()))
        .collect();
    if let Some(text) = output::read_run_manifest(out)? {
        if let Ok(mut m) = serde_json::from_slice::<serde_json::Value>(&text) {
            let partitions = output::published_partitions(out, &published, &[], run_id, at);
            m["partitions"] = serde_json::to_value(partitions)
                .map_err(|e| Error::Internal(format!("cannot serialise the partitions: {e}")))?;
            let json = serde_json::to_vec_pretty(&m)
                .map_err(|e| Error::Internal(format!("cannot serialise the manifest: {e}")))?;
            staging.write_text(Path::new(output::MANIFEST), &json)?;
        }
    }
    Ok(all)
}
