//! Publishing a run: its tables staged month by month, read back and reconciled, each
//! partition's `_manifest.json` and `_SUCCESS`, the quarantine files and `manifest.json`, all
//! committed in one journaled step; and the record of a run that was not published.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{record, Job, RunId, Stop};
use crate::allocate::{self, amortize};
use crate::economics;
use crate::error::{Error, Result};
use crate::ingest::QuarantinedRow;
use crate::ledger::{self, compliance};
use crate::output::{self, Manifest, RunDetail, RunStatus, Staging, TestHooks};

/// Why publishing failed, with the run's record when it got that far (boxed: it is large).
pub(super) type Failed = Box<(Error, Option<RunDetail>)>;

fn failed(error: Error, detail: Option<RunDetail>) -> Failed {
    Box::new((error, detail))
}

/// Stages, reconciles and commits; on a mismatch or an error nothing under `--out` changed.
/// Returns the manifest of the published run.
pub(super) fn publish(
    job: &Job,
    run: &RunId,
    hooks: &TestHooks,
    tables: &Tables,
    mut detail: RunDetail,
) -> std::result::Result<Manifest, Failed> {
    let (ledger, periods, quarantined) = (tables.ledger, tables.periods, tables.quarantined);
    let mut staging = Staging::new(&job.out, hooks).map_err(|e| failed(e, None))?;
    let written = stage_tables(&mut staging, periods, tables, hooks).and_then(|files| {
        Ok((
            output::sum_written(&files.cost, "cost")?,
            output::sum_written(&files.unit, "total_cost")?,
            output::sum_written_by(&files.dimension, "cost", "dimension")?,
            output::sum_written_by(&files.daily_cost, "cost", "charge_date")?,
            output::sum_written_by(&files.daily_unit, "total_cost", "charge_date")?,
        ))
    });
    let written = match written {
        Ok(sums) => sums,
        Err(e) => {
            staging.discard();
            return Err(failed(e, None));
        }
    };
    // Reconciliation: what was staged, read back, against what was read.
    let reconciliation = record::reconcile(
        ledger,
        &written.0,
        &written.1,
        tables.by_dimension.map(|_| (tables.dimensions, &written.2)),
        tables.days.map(|d| (&d.daily.read, &written.3, &written.4)),
    );
    let written = (written.0, written.1);
    detail.periods = record::period_infos(ledger, tables.allocation, Some(&written));
    let (ok, mismatches) = (reconciliation.ok, reconciliation.mismatches.join("\n  "));
    detail.reconciliation = Some(reconciliation);
    if !ok {
        staging.discard();
        let error = Error::Reconciliation(format!(
            "the outputs do not add up to the input; nothing was replaced under `{}`:\n  {mismatches}",
            job.out.display()
        ));
        return Err(failed(error, Some(detail)));
    }
    let staged = stage_run_files(
        &mut staging,
        job,
        run,
        tables,
        periods,
        quarantined,
        &mut detail,
    )
    .and_then(|published| {
        let removed = stage_removals(&mut staging, &job.out, tables, periods);
        detail.removed = removed.iter().map(|(t, p)| partition_name(t, p)).collect();
        detail.outputs.push(output::MANIFEST.to_string());
        let manifest = Manifest {
            status: RunStatus::Published,
            run_id: run.id.clone(),
            exit_code: 0,
            error: None,
            tool: tool(),
            schema_version: crate::schema::SCHEMA_VERSION,
            run: run.info(),
            partitions: output::published_partitions(
                &job.out,
                &published,
                &removed,
                &run.id,
                &run.started_at,
            ),
            detail: Some(detail),
        };
        staging.write_text(Path::new(output::MANIFEST), &manifest_json(&manifest)?)?;
        Ok(manifest)
    });
    match staged {
        Ok(mut manifest) => {
            staging.commit().map_err(|e| failed(e, None))?;
            // said once the removals happened, not when they were staged
            if let Some(d) = &manifest.detail {
                for r in &d.removed {
                    tracing::warn!(
                        "`{r}` removed: this run republished its month without it{}",
                        match r {
                            r if r.starts_with(output::HIDDEN_COSTS) => {
                                " (run `mlcost hidden` again to estimate it)"
                            }
                            r if r.starts_with(output::UNIT_COSTS_BY_UNIT) => {
                                " (its volumes give requests alone)"
                            }
                            r if r.starts_with(output::COST_BY_DIMENSION) => {
                                " (`[output] dimensions` lists none)"
                            }
                            r if DAILY_TABLES.iter().any(|t| r.starts_with(&format!("{t}/"))) => {
                                " (it was not run with `--grain day`)"
                            }
                            _ => " (amortisation is off)",
                        }
                    );
                }
            }
            manifest.run = run.info();
            Ok(manifest)
        }
        Err(e) => {
            staging.discard();
            Err(failed(e, None))
        }
    }
}

/// Stages the removal of the partitions of the months this run republishes whose table it
/// does not write: left in place they would describe the month as the replaced run saw it.
/// Returns them as (table, period).
fn stage_removals(
    staging: &mut Staging,
    out: &Path,
    tables: &Tables,
    periods: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let written = tables.names();
    let mut removed = Vec::new();
    for table in [
        output::TRAINING_AMORTIZATION,
        output::HIDDEN_COSTS,
        output::UNIT_COSTS_BY_UNIT,
        output::COST_BY_DIMENSION,
    ]
    .into_iter()
    .chain(DAILY_TABLES)
    {
        if written.contains(&table) {
            continue;
        }
        for p in periods {
            if out.join(output::partition_dir(table, p)).exists() {
                staging.remove_partition(table, p);
                removed.push((table.to_string(), p.clone()));
            }
        }
    }
    removed
}

fn partition_name(table: &str, period: &str) -> String {
    output::partition_dir(table, period)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Records a run that was not published in `manifest.json` (and its quarantined rows in
/// `quarantine/rejected_run.csv`), best effort: the run failed already, so a record that
/// cannot be written is a warning, not a second error. Returns the manifest.
pub(super) fn record_failure(job: &Job, run: &RunId, stop: &mut Stop) -> Manifest {
    let manifest = Manifest {
        status: stop.error.status().into(),
        run_id: run.id.clone(),
        exit_code: stop.error.status().code(),
        error: Some(output::ErrorInfo::from_error(&stop.error)),
        tool: tool(),
        schema_version: crate::schema::SCHEMA_VERSION,
        run: run.info(),
        detail: stop.detail.take().map(|d| *d),
        partitions: output::published_partitions(&job.out, &[], &[], &run.id, ""),
    };
    let written = manifest_json(&manifest)
        .and_then(|json| output::write_record(&job.out, Path::new(output::MANIFEST), &json));
    if let Err(e) = written {
        tracing::warn!("{}", e.chain());
    }
    if !stop.quarantined.is_empty() {
        let rows: Vec<&_> = stop.quarantined.iter().collect();
        let path = Path::new(output::QUARANTINE_DIR).join(output::REJECTED_QUARANTINE);
        let written = output::quarantine_csv(&rows)
            .and_then(|bytes| output::write_record(&job.out, &path, &bytes));
        if let Err(e) = written {
            tracing::warn!("{}", e.chain());
            // the hint must not point at a file that was not written
            if let Error::Rejected { hint, .. } = &mut stop.error {
                *hint = Some(format!(
                    "the rows and their reasons could not be written to `{}` (see the warning above)",
                    path.display()
                ));
            }
        }
    }
    manifest
}

/// Stages a partition's `_manifest.json` and then its `_SUCCESS` marker (after its data file,
/// which the caller staged first: the commit moves them in this order).
pub(super) fn stage_partition_meta(
    staging: &mut Staging,
    m: &output::PartitionManifest,
) -> Result<()> {
    let json = serde_json::to_vec_pretty(m)
        .map_err(|e| Error::Internal(format!("cannot serialise a partition manifest: {e}")))?;
    let dir = output::partition_dir(&m.table, &m.billing_period);
    staging.write_text(&dir.join(output::PARTITION_MANIFEST), &json)?;
    staging.write_text(&dir.join(output::SUCCESS), b"")
}

pub(super) fn tool() -> output::ToolInfo {
    output::ToolInfo {
        name: "mlcost",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn manifest_json(manifest: &Manifest) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("cannot serialise the manifest: {e}")))
}

/// The result tables of a run, before they are split by month.
pub(super) struct Tables<'a> {
    pub ledger: &'a ledger::Ledger,
    pub periods: &'a BTreeSet<String>,
    pub quarantined: &'a [QuarantinedRow],
    pub allocation: &'a allocate::Allocation,
    pub unit_rows: &'a [economics::UnitCostRow],
    pub compliance: &'a [compliance::ComplianceRow],
    pub amortization: Option<&'a [amortize::AmortizationRow]>,
    /// Written when the volumes file gives a unit besides requests.
    pub by_unit: Option<&'a [economics::UnitVolumeCost]>,
    /// Written when `[output] dimensions` lists any.
    pub by_dimension: Option<&'a [allocate::dimensions::DimensionRow]>,
    /// The names of those dimensions, each reconciled on its own.
    pub dimensions: &'a [String],
    /// `--grain day`: the daily tables and anomalies.
    pub days: Option<&'a super::days::Days>,
}

impl Tables<'_> {
    /// The tables this run writes, in commit order.
    fn names(&self) -> Vec<&'static str> {
        let mut t = vec![
            output::COST_BY_MODEL,
            output::UNIT_COSTS,
            output::TAG_COMPLIANCE,
        ];
        if self.amortization.is_some() {
            t.push(output::TRAINING_AMORTIZATION);
        }
        if self.by_unit.is_some() {
            t.push(output::UNIT_COSTS_BY_UNIT);
        }
        if self.by_dimension.is_some() {
            t.push(output::COST_BY_DIMENSION);
        }
        if self.days.is_some() {
            t.extend(DAILY_TABLES);
        }
        t
    }
}

/// The tables of `--grain day`.
const DAILY_TABLES: [&str; 3] = [
    output::COST_BY_MODEL_DAILY,
    output::UNIT_COSTS_DAILY,
    output::ANOMALIES,
];

/// The staged files the run reconciles: cost_by_model, unit_costs, cost_by_dimension,
/// cost_by_model_daily and unit_costs_daily.
#[derive(Default)]
struct Staged {
    cost: Vec<PathBuf>,
    unit: Vec<PathBuf>,
    dimension: Vec<PathBuf>,
    daily_cost: Vec<PathBuf>,
    daily_unit: Vec<PathBuf>,
}

/// Writes every table partition of every period into staging; returns the staged
/// cost_by_model and unit_costs files for reconciliation.
fn stage_tables(
    staging: &mut Staging,
    periods: &BTreeSet<String>,
    t: &Tables,
    hooks: &TestHooks,
) -> Result<Staged> {
    let mut staged = Staged::default();
    for p in periods {
        let corrupt = hooks.corrupt_output() && staged.cost.is_empty();
        let rows = cost_rows(&t.allocation.rows, |period| period == p, corrupt);
        let rows: Vec<_> = rows.iter().collect();
        let df = output::cost_by_model_frame(&rows, t.allocation.basis)?;
        staged
            .cost
            .push(staging.write_partition(output::COST_BY_MODEL, p, &df)?);
        let rows: Vec<_> = t.unit_rows.iter().filter(|r| &r.period == p).collect();
        let df = output::unit_costs_frame(&rows)?;
        staged
            .unit
            .push(staging.write_partition(output::UNIT_COSTS, p, &df)?);
        let rows: Vec<_> = t.compliance.iter().filter(|r| &r.period == p).collect();
        let df = output::tag_compliance_frame(&rows)?;
        staging.write_partition(output::TAG_COMPLIANCE, p, &df)?;
        if let Some(schedules) = t.amortization {
            let rows: Vec<_> = schedules.iter().filter(|r| &r.period == p).collect();
            let df = output::training_amortization_frame(&rows)?;
            staging.write_partition(output::TRAINING_AMORTIZATION, p, &df)?;
        }
        if let Some(by_unit) = t.by_unit {
            let rows: Vec<_> = by_unit.iter().filter(|r| &r.period == p).collect();
            let df = output::unit_costs_by_unit_frame(&rows)?;
            staging.write_partition(output::UNIT_COSTS_BY_UNIT, p, &df)?;
        }
        if let Some(by_dimension) = t.by_dimension {
            let rows: Vec<_> = by_dimension.iter().filter(|r| &r.period == p).collect();
            let df = output::cost_by_dimension_frame(&rows)?;
            staged
                .dimension
                .push(staging.write_partition(output::COST_BY_DIMENSION, p, &df)?);
        }
        if let Some(days) = t.days {
            stage_days(staging, p, days, t.allocation.basis, &mut staged, hooks)?;
        }
    }
    Ok(staged)
}

/// The cost rows whose period `of` takes; the first one off by 10^-18 when `corrupt` (fault
/// injection for the reconciliation tests).
fn cost_rows(
    rows: &[allocate::CostByModelRow],
    of: impl Fn(&str) -> bool,
    corrupt: bool,
) -> Vec<allocate::CostByModelRow> {
    let mut rows: Vec<allocate::CostByModelRow> =
        rows.iter().filter(|r| of(&r.period)).cloned().collect();
    if let Some(r) = rows.first_mut().filter(|_| corrupt) {
        r.cost.0 += 1;
    }
    rows
}

/// Stages one month of the daily tables (rows keyed by `daily::key`) and its anomalies.
fn stage_days(
    staging: &mut Staging,
    p: &str,
    days: &super::days::Days,
    basis: &str,
    staged: &mut Staged,
    hooks: &TestHooks,
) -> Result<()> {
    let of_month = |key: &str| crate::daily::split(key).0 == p;
    let corrupt = hooks.corrupt_daily_output() && staged.daily_cost.is_empty();
    let rows = cost_rows(&days.daily.allocation.rows, of_month, corrupt);
    let rows: Vec<_> = rows.iter().collect();
    let df = output::cost_by_model_daily_frame(&rows, basis)?;
    staged
        .daily_cost
        .push(staging.write_partition(output::COST_BY_MODEL_DAILY, p, &df)?);
    let rows: Vec<_> = days
        .daily
        .unit_rows
        .iter()
        .filter(|r| of_month(&r.period))
        .collect();
    let df = output::unit_costs_daily_frame(&rows)?;
    staged
        .daily_unit
        .push(staging.write_partition(output::UNIT_COSTS_DAILY, p, &df)?);
    let rows: Vec<_> = days.anomalies.iter().filter(|a| a.period() == p).collect();
    let df = output::anomalies_frame(&rows)?;
    staging.write_partition(output::ANOMALIES, p, &df)?;
    Ok(())
}

/// Stages what goes with the tables: each partition's `_manifest.json` and `_SUCCESS`
/// (last), and the quarantine files. Records the restatements and outputs in `detail`;
/// returns the (table, period) partitions this run publishes.
fn stage_run_files(
    staging: &mut Staging,
    job: &Job,
    run: &RunId,
    tables: &Tables,
    periods: &BTreeSet<String>,
    quarantined: &[crate::ingest::QuarantinedRow],
    detail: &mut RunDetail,
) -> Result<Vec<(String, String)>> {
    let inputs: Vec<output::PartitionInput> = detail
        .inputs
        .iter()
        .map(|i| output::PartitionInput {
            path: i.path.clone(),
            sha256: i.sha256.clone(),
            content_sha256: i.content_sha256.clone(),
        })
        .collect();
    let mut published = Vec::new();
    for p in periods {
        let totals: Vec<output::PartitionTotal> = detail
            .periods
            .iter()
            .filter(|i| &i.billing_period == p)
            .map(|i| output::PartitionTotal {
                currency: i.currency.clone(),
                rows: i.rows,
                cost_read: i.cost_read.to_string(),
            })
            .collect();
        let status = detail.billing_status.get(p).copied();
        let (history, new) = output::history_after(
            &job.out,
            p,
            &totals,
            &inputs,
            &run.id,
            &run.started_at,
            status,
        )?;
        let invoices: Vec<_> = detail
            .invoices
            .iter()
            .filter(|i| &i.billing_period == p)
            .cloned()
            .collect();
        let commitments: Vec<_> = detail
            .commitments
            .iter()
            .filter(|c| &c.billing_period == p)
            .cloned()
            .collect();
        detail.restatements.extend(new);
        let quarantined_rows = quarantined
            .iter()
            .filter(|r| r.period.as_deref() == Some(p.as_str()))
            .count() as u64;
        for table in tables.names() {
            let m = output::PartitionManifest {
                table: table.to_string(),
                billing_period: p.clone(),
                run_id: run.id.clone(),
                published_at: run.started_at.clone(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                schema_version: crate::schema::SCHEMA_VERSION.to_string(),
                cost_basis: detail.cost_basis.to_string(),
                config_sha256: detail.config.sha256.clone(),
                allow_empty: detail.allow_empty,
                inputs: inputs.clone(),
                totals: totals.clone(),
                quarantined_rows,
                history: history.clone(),
                billing_status: status,
                invoices: invoices.clone(),
                commitments: commitments.clone(),
            };
            stage_partition_meta(staging, &m)?;
            let dir = output::partition_dir(table, p);
            for f in [
                output::PART_FILE,
                output::PARTITION_MANIFEST,
                output::SUCCESS,
            ] {
                detail.outputs.push(dir.join(f).display().to_string());
            }
            published.push((table.to_string(), p.clone()));
        }
    }
    for (path, bytes) in output::quarantine_files(quarantined, periods)? {
        staging.write_text(&path, &bytes)?;
        detail.outputs.push(path.display().to_string());
    }
    Ok(published)
}
