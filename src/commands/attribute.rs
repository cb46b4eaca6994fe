//! `mlcost attribute`: ingest -> ledger -> allocate -> compliance -> volumes and unit costs ->
//! staged Parquet -> reconciliation of what was written against what was read -> commit.
//! A month is published only when the run counted rows for it, nothing was rejected and the
//! written tables add up exactly; otherwise nothing under `--out` changes but `manifest.json`,
//! which records the rejected or failed run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{parse_period, read_billing, Verbosity};
use crate::cli::AttributeArgs;
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::output::{self, Manifest, RunDetail, RunStatus, Staging};
use crate::report::RunSummary;
use crate::tags::TagNormaliser;
use crate::{allocate, amortize, compliance, economics, ledger};

/// What the binary needs to finish: the manifest (for `--json`), the summary for stderr, and
/// the rejection when the run was not published.
pub struct Outcome {
    pub summary: RunSummary,
    /// Set when the data was rejected (exit 1): nothing was published.
    pub rejection: Option<Error>,
}

/// Why a run stopped after taking the lock, with what it knew by then.
struct Stop {
    error: Error,
    detail: Option<Box<RunDetail>>,
    compliance: Option<compliance::ComplianceSummary>,
    /// The rows the rejected run quarantined, written to `quarantine/rejected_run.csv` so
    /// they can be fixed although nothing was published.
    quarantined: Vec<crate::ingest::QuarantinedRow>,
}

impl From<Error> for Box<Stop> {
    fn from(error: Error) -> Box<Stop> {
        Box::new(Stop {
            error,
            detail: None,
            compliance: None,
            quarantined: Vec::new(),
        })
    }
}

/// Identity and clock of one run.
struct RunId {
    id: String,
    started: Instant,
    started_at: String,
}

pub fn run(args: &AttributeArgs, verbosity: Verbosity) -> Result<Outcome> {
    let now = chrono::Utc::now();
    let run = RunId {
        id: output::new_run_id(now),
        started: Instant::now(),
        started_at: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    let period = args.period.as_deref().map(parse_period).transpose()?;
    let loaded = LoadedConfig::load(args.input.config.as_deref())?;
    // Inputs that do not exist are found before the output directory is touched.
    let paths = crate::ingest::resolve_paths(&args.input.billing, &[args.out.as_path()])?;
    for side in [&args.requests, &args.revenue].into_iter().flatten() {
        crate::ingest::sniff(side)?;
    }
    // one writer per output directory, for the whole run (the kernel releases it at exit)
    let wait = args.wait.map(std::time::Duration::from_secs);
    let _lock = output::OutputLock::acquire(&args.out, wait)?;
    output::recover(&args.out)?;
    match attribute(args, paths, &loaded, period.as_deref(), &run, verbosity) {
        Ok(outcome) => Ok(outcome),
        Err(stop) => {
            let status = match stop.error.exit_code() {
                1 => RunStatus::Rejected,
                _ => RunStatus::Failed,
            };
            let manifest = Manifest {
                status,
                run_id: run.id.clone(),
                exit_code: stop.error.exit_code(),
                error: Some(output::ErrorInfo::from_error(&stop.error)),
                tool: tool(),
                schema_version: crate::schema::SCHEMA_VERSION,
                run: run_info(&run),
                detail: stop.detail.map(|d| *d),
                partitions: output::published_partitions(&args.out, &[], &run.id, ""),
            };
            // Best effort: the run failed already; a manifest that cannot be written is
            // reported, not a second error.
            if let Err(e) = write_manifest(&args.out, &manifest) {
                tracing::warn!("{}", crate::report::error_chain(&e));
            }
            if !stop.quarantined.is_empty() {
                let rows: Vec<&_> = stop.quarantined.iter().collect();
                let path = args
                    .out
                    .join(output::QUARANTINE_DIR)
                    .join(output::REJECTED_QUARANTINE);
                let written = output::quarantine_csv(&rows).and_then(|bytes| {
                    std::fs::create_dir_all(args.out.join(output::QUARANTINE_DIR)).map_err(
                        |source| Error::Write {
                            path: path.clone(),
                            source,
                        },
                    )?;
                    output::write_file_atomic(&path, &bytes)
                });
                if let Err(e) = written {
                    tracing::warn!("{}", crate::report::error_chain(&e));
                }
            }
            match (manifest.detail.is_some(), stop.compliance) {
                (true, Some(compliance)) => Ok(Outcome {
                    summary: RunSummary {
                        manifest,
                        out_dir: args.out.clone(),
                        compliance,
                    },
                    rejection: Some(stop.error),
                }),
                _ => Err(stop.error),
            }
        }
    }
}

fn tool() -> output::ToolInfo {
    output::ToolInfo {
        name: "mlcost",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn run_info(run: &RunId) -> output::RunInfo {
    output::RunInfo {
        started_at: run.started_at.clone(),
        duration_seconds: (run.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    }
}

fn write_manifest(out: &Path, manifest: &Manifest) -> Result<()> {
    output::write_file_atomic(&out.join(output::MANIFEST), &manifest_json(manifest)?)
}

fn manifest_json(manifest: &Manifest) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("cannot serialise the manifest: {e}")))
}

fn attribute(
    args: &AttributeArgs,
    paths: Vec<PathBuf>,
    loaded: &LoadedConfig,
    period: Option<&str>,
    run: &RunId,
    verbosity: Verbosity,
) -> std::result::Result<Outcome, Box<Stop>> {
    let config = &loaded.config;
    let basis = config.cost.basis;
    let tagger = TagNormaliser::new(&config.tags);
    // Read the volumes first: a bad volumes file should fail before the long billing read.
    let volumes = args
        .requests
        .as_deref()
        .map(|p| economics::read_volumes(p, &tagger))
        .transpose()?;
    let revenue = args
        .revenue
        .as_deref()
        .map(|p| economics::read_revenue(p, &tagger))
        .transpose()?;
    // A side file with rows but none usable is the wrong file, not a month without volumes.
    let unusable = |path: &Option<PathBuf>, rows: u64, good: usize, what: &str| -> Result<()> {
        match path {
            Some(p) if rows > 0 && good == 0 => Err(Error::Rejected {
                message: format!(
                    "none of the {rows} rows of the {what} file `{}` could be used; nothing was published",
                    p.display()
                ),
                hint: Some(format!(
                    "check that `{}` is the {what} file: `mlcost attribute --help` lists its columns",
                    p.display()
                )),
            }),
            _ => Ok(()),
        }
    };
    if let Some(v) = &volumes {
        unusable(&args.requests, v.rows, v.requests.len(), "requests")?;
    }
    if let Some(r) = &revenue {
        let rows = r.values.len() as u64 + r.bad_rows.len() as u64;
        unusable(&args.revenue, rows, r.values.len(), "revenue")?;
    }
    let rules = crate::rules::compile(loaded, &tagger, volumes.is_some())?;
    let billing = read_billing(&args.input, paths, basis, verbosity)?;
    output::test_pause("read");
    let ledger = ledger::build(&billing.groups, config, period)?;
    let mut quarantined = billing.quarantine_details(&ledger, basis, period)?;
    let mut allocation = allocate::allocate(&ledger, &billing.groups, &rules, volumes.as_ref());
    if let Some(rule) = rules
        .rules
        .iter()
        .find(|r| allocation.rule_matches.get(&r.id) == Some(&0))
    {
        return Err(Error::Config {
            path: loaded.path.clone().unwrap_or_default(),
            message: format!("rule `{}` (line {}) matches no spend in this run", rule.id, rule.line),
            hint: Some("fix its matchers (values are compared exactly, tags after normalisation) or remove it".into()),
        }
        .into());
    }
    // Partitions to replace: every period in this run (and the one asked for, which is
    // refused below when it has no counted row).
    let mut periods: BTreeSet<String> = ledger.periods().into_iter().collect();
    if let Some(p) = period {
        periods.insert(p.to_string());
    }
    let run_periods: Vec<String> = periods.iter().cloned().collect();
    let opening = match run_periods.first() {
        Some(first) => output::read_open_schedules(&args.out, first)?,
        None => Vec::new(),
    };
    let opening_schedules = opening.len();
    let schedules = amortize::amortize(
        &mut allocation,
        rules.training_months,
        opening,
        &run_periods,
    );
    let compliance = compliance::assess(&ledger, tagger.required());
    let (unit_rows, volume_report) = economics::unit_costs(
        &allocation,
        volumes.as_ref(),
        revenue.as_ref(),
        &config.targets,
    );

    quarantined.extend(side_file_rows(
        args.requests.as_deref(),
        volumes.as_ref().map(|v| v.bad_rows.as_slice()),
    ));
    quarantined.extend(side_file_rows(
        args.revenue.as_deref(),
        revenue.as_ref().map(|v| v.bad_rows.as_slice()),
    ));
    let write_amortization = rules.training_months > 1 || !schedules.is_empty();
    let mut detail = RunDetail {
        config: output::ConfigInfo {
            path: loaded.path.as_ref().map(|p| p.display().to_string()),
            sha256: loaded.hash.clone(),
            rules_sha256: rules.hash.clone(),
            rule_matches: allocation.rule_matches.clone(),
        },
        cost_basis: basis.name(),
        period_filter: period.map(str::to_string),
        allow_empty: args.allow_empty,
        inputs: input_infos(&billing, &ledger),
        volumes: volumes.as_ref().and_then(|v| {
            v.file.as_ref().map(|f| output::VolumesInfo {
                path: f.path.display().to_string(),
                size: f.size,
                sha256: f.sha256.clone(),
                rows: v.rows,
                unusable_rows: v.bad_rows.len() as u64,
            })
        }),
        rows: row_counts(&billing, &ledger, &quarantined),
        periods: period_infos(&ledger, &allocation, None),
        reconciliation: None,
        volume_report,
        amortization: output::AmortizationInfo {
            training_months: rules.training_months,
            opening_schedules,
            closing_balance: closing_balance(&schedules, run_periods.last()),
        },
        outputs: Vec::new(),
        restatements: Vec::new(),
    };
    let reject = |error: Error, detail: RunDetail| {
        Box::new(Stop {
            error,
            detail: Some(Box::new(detail)),
            compliance: Some(compliance.summary.clone()),
            quarantined: quarantined.clone(),
        })
    };
    if let Some(error) = refusal(args, &ledger, &periods, &quarantined, &detail) {
        return Err(reject(error, detail));
    }

    let amortization = write_amortization.then_some(schedules.as_slice());
    let mut staging = Staging::new(&args.out)?;
    let tables = Tables {
        allocation: &allocation,
        unit_rows: &unit_rows,
        compliance: &compliance.rows,
        amortization,
    };
    let written = match stage_tables(&mut staging, &periods, &tables).and_then(|files| {
        Ok((
            output::sum_written(&files.0, "cost")?,
            output::sum_written(&files.1, "total_cost")?,
        ))
    }) {
        Ok(sums) => sums,
        Err(e) => {
            staging.discard();
            return Err(e.into());
        }
    };
    // Reconciliation: what was staged, read back, against what was read.
    let reconciliation = reconcile(&ledger, &written.0, &written.1);
    detail.periods = period_infos(&ledger, &allocation, Some(&written));
    let ok = reconciliation.ok;
    let mismatches = reconciliation.mismatches.join("\n  ");
    detail.reconciliation = Some(reconciliation);
    if !ok {
        staging.discard();
        let error = Error::Reconciliation(format!(
            "the outputs do not add up to the input; nothing was replaced under `{}`:\n  {mismatches}",
            args.out.display()
        ));
        return Err(reject(error, detail));
    }
    let published = match stage_run_files(
        &mut staging,
        args,
        run,
        &tables,
        &periods,
        &quarantined,
        &mut detail,
    ) {
        Ok(p) => p,
        Err(e) => {
            staging.discard();
            return Err(e.into());
        }
    };
    let mut manifest = Manifest {
        status: RunStatus::Published,
        run_id: run.id.clone(),
        exit_code: 0,
        error: None,
        tool: tool(),
        schema_version: crate::schema::SCHEMA_VERSION,
        run: run_info(run),
        detail: Some(detail),
        partitions: output::published_partitions(&args.out, &published, &run.id, &run.started_at),
    };
    if let Some(d) = manifest.detail.as_mut() {
        d.outputs.push(output::MANIFEST.to_string());
    }
    let staged = manifest_json(&manifest)
        .and_then(|json| staging.write_text(Path::new(output::MANIFEST), &json));
    if let Err(e) = staged {
        staging.discard();
        return Err(e.into());
    }
    staging.commit()?;
    manifest.run = run_info(run);
    Ok(Outcome {
        summary: RunSummary {
            manifest,
            out_dir: args.out.clone(),
            compliance: compliance.summary,
        },
        rejection: None,
    })
}

/// Why the run must not publish, checked before anything is written: no usable row, a month
/// with no counted row (unless `--allow-empty`), or `--strict` with quarantined rows.
fn refusal(
    args: &AttributeArgs,
    ledger: &ledger::Ledger,
    periods: &BTreeSet<String>,
    quarantined: &[crate::ingest::QuarantinedRow],
    detail: &RunDetail,
) -> Option<Error> {
    const REJECTED: &str = "quarantine/rejected_run.csv";
    let rows = &detail.rows;
    let nothing = "nothing was published";
    if rows.counted == 0 && rows.outside_period == 0 && rows.excluded_commitment_purchases == 0 {
        return Some(Error::Rejected {
            message: format!(
                "none of the {} billing rows could be used ({} quarantined); {nothing}",
                rows.read, rows.quarantined
            ),
            hint: Some(format!("every row and its reason is in `{REJECTED}`")),
        });
    }
    let counted: BTreeMap<&str, u64> =
        ledger
            .totals
            .iter()
            .fold(BTreeMap::new(), |mut m, ((p, _), t)| {
                *m.entry(p.as_str()).or_default() += t.rows;
                m
            });
    let empty: Vec<&str> = periods
        .iter()
        .map(String::as_str)
        .filter(|p| counted.get(p).copied().unwrap_or(0) == 0)
        .collect();
    if !empty.is_empty() && !args.allow_empty {
        let outside = if rows.outside_period > 0 {
            format!(
                " ({} rows of other months are outside --period)",
                rows.outside_period
            )
        } else {
            String::new()
        };
        return Some(Error::Rejected {
            message: format!(
                "no usable billing row for {}{outside}; publishing would replace {} with empty tables, so {nothing}",
                empty.join(", "),
                if empty.len() == 1 { "that month" } else { "those months" }
            ),
            hint: Some(
                "check `--period` and the input; `--allow-empty` publishes empty months on purpose (the manifest records it)".into(),
            ),
        });
    }
    let unusable_side_rows = quarantined.len() as u64 > rows.quarantined;
    if args.strict && (rows.quarantined > 0 || unusable_side_rows) {
        return Some(Error::Rejected {
            message: format!(
                "--strict: {} billing row(s) quarantined and {} request or revenue row(s) unusable; {nothing}",
                rows.quarantined,
                (quarantined.len() as u64).saturating_sub(rows.quarantined)
            ),
            hint: Some(format!("every row and its reason is in `{REJECTED}`")),
        });
    }
    None
}

fn input_infos(billing: &super::BillingRead, ledger: &ledger::Ledger) -> Vec<output::InputInfo> {
    let mut quarantined_per_file: BTreeMap<usize, u64> = BTreeMap::new();
    for ((file, _), n) in &ledger.quarantined {
        *quarantined_per_file.entry(*file).or_default() += n;
    }
    let mut file_totals = billing.file_totals.clone();
    billing
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| output::InputInfo {
            path: f.file.path.display().to_string(),
            size: f.file.size,
            sha256: f.file.sha256.clone(),
            content_sha256: f.file.content_sha256.clone(),
            kind: f.file.kind,
            format: f.format.clone(),
            format_version: f.format_version.clone(),
            rows: f.rows,
            quarantined_rows: quarantined_per_file.get(&i).copied().unwrap_or(0),
            totals: file_totals.remove(&i).unwrap_or_default(),
            notes: f.notes.clone(),
        })
        .collect()
}

fn row_counts(
    billing: &super::BillingRead,
    ledger: &ledger::Ledger,
    listed: &[crate::ingest::QuarantinedRow],
) -> output::RowCounts {
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, reason), n) in &ledger.quarantined {
        *by_reason.entry(reason.message()).or_default() += n;
    }
    // The listing refines "not a decimal number" into "out of range" row by row.
    let basis = ledger.basis.focus_column().to_string();
    let (invalid, too_large) = (
        ledger::QuarantineReason::InvalidCost(basis.clone()).message(),
        ledger::QuarantineReason::CostOutOfRange(basis).message(),
    );
    let refined = listed.iter().filter(|r| r.reason == too_large).count() as u64;
    if refined > 0 {
        if let Some(n) = by_reason.get_mut(&invalid) {
            *n = n.saturating_sub(refined);
            if *n == 0 {
                by_reason.remove(&invalid);
            }
        }
        *by_reason.entry(too_large).or_default() += refined;
    }
    output::RowCounts {
        read: billing.files.iter().map(|f| f.rows).sum(),
        counted: ledger.totals.values().map(|t| t.rows).sum(),
        excluded_commitment_purchases: ledger
            .totals
            .values()
            .map(|t| t.excluded_commitment_rows)
            .sum(),
        outside_period: ledger.outside_period_rows,
        quarantined: ledger.quarantined_rows(),
        quarantined_by_reason: by_reason,
    }
}

type Sums = BTreeMap<(String, String), Money>;

fn period_infos(
    ledger: &ledger::Ledger,
    allocation: &allocate::Allocation,
    written: Option<&(Sums, Sums)>,
) -> Vec<output::PeriodInfo> {
    let split = split_allocated(allocation);
    ledger
        .totals
        .iter()
        .map(|((p, c), t)| {
            let key = (p.clone(), c.clone());
            let (direct, unallocated) = split.get(&key).copied().unwrap_or_default();
            let get = |m: &Sums| m.get(&key).copied().unwrap_or_default();
            output::PeriodInfo {
                billing_period: p.clone(),
                currency: c.clone(),
                rows: t.rows,
                cost_read: t.cost,
                cost_written: written.map(|w| get(&w.0)),
                unit_costs_written: written.map(|w| get(&w.1)),
                allocated_direct: direct,
                unallocated,
                by_basis: t.by_basis.clone(),
                excluded_commitment_purchases: t.excluded_commitment_purchases,
            }
        })
        .collect()
}

fn closing_balance(
    schedules: &[amortize::AmortizationRow],
    last: Option<&String>,
) -> BTreeMap<String, Money> {
    let mut out: BTreeMap<String, Money> = BTreeMap::new();
    for r in schedules.iter().filter(|r| last == Some(&r.period)) {
        *out.entry(format!("{} {}", r.period, r.schedule.currency))
            .or_default() += r.schedule.balance;
    }
    out
}

/// Compares, per period and currency, what was read with what the staged `cost_by_model` and
/// `unit_costs` files hold.
fn reconcile(
    ledger: &ledger::Ledger,
    written: &Sums,
    unit_written: &Sums,
) -> output::Reconciliation {
    let keys: BTreeSet<&(String, String)> = ledger
        .totals
        .keys()
        .chain(written.keys())
        .chain(unit_written.keys())
        .collect();
    let mut mismatches = Vec::new();
    for key in &keys {
        let read = ledger.totals.get(key).map(|t| t.cost).unwrap_or_default();
        let w = written.get(key).copied().unwrap_or_default();
        let u = unit_written.get(key).copied().unwrap_or_default();
        if read != w || read != u {
            mismatches.push(format!(
                "{} {}: read {read}, cost_by_model {w}, unit_costs {u}",
                key.0, key.1
            ));
        }
    }
    output::Reconciliation {
        ok: mismatches.is_empty(),
        checked: keys.len(),
        mismatches,
    }
}

/// Unusable rows of a volumes or revenue file, as quarantine rows naming that file.
fn side_file_rows(
    path: Option<&Path>,
    bad: Option<&[economics::BadVolumeRow]>,
) -> Vec<crate::ingest::QuarantinedRow> {
    let (Some(path), Some(bad)) = (path, bad) else {
        return Vec::new();
    };
    bad.iter()
        .map(|b| crate::ingest::QuarantinedRow {
            file: path.to_path_buf(),
            row: b.row,
            column: b.column.to_string(),
            reason: b.reason.clone(),
            value: b.value.clone(),
            period: None,
        })
        .collect()
}

/// The result tables of a run, before they are split by month.
struct Tables<'a> {
    allocation: &'a allocate::Allocation,
    unit_rows: &'a [economics::UnitCostRow],
    compliance: &'a [compliance::ComplianceRow],
    amortization: Option<&'a [amortize::AmortizationRow]>,
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
        t
    }
}

type Staged = (Vec<PathBuf>, Vec<PathBuf>);

/// Writes every table partition of every period into staging; returns the staged
/// cost_by_model and unit_costs files for reconciliation.
fn stage_tables(staging: &mut Staging, periods: &BTreeSet<String>, t: &Tables) -> Result<Staged> {
    let mut cost_files = Vec::new();
    let mut unit_files = Vec::new();
    // Fault injection for the reconciliation test: one written cost is off by 10^-18.
    let corrupt = std::env::var_os("MLCOST_TEST_CORRUPT_OUTPUT").is_some();
    for p in periods {
        let mut rows: Vec<allocate::CostByModelRow> = t
            .allocation
            .rows
            .iter()
            .filter(|r| &r.period == p)
            .cloned()
            .collect();
        if corrupt && cost_files.is_empty() {
            if let Some(r) = rows.first_mut() {
                r.cost.0 += 1;
            }
        }
        let rows: Vec<_> = rows.iter().collect();
        let df = output::cost_by_model_frame(&rows, t.allocation.basis)?;
        cost_files.push(staging.write_partition(output::COST_BY_MODEL, p, &df)?);
        let rows: Vec<_> = t.unit_rows.iter().filter(|r| &r.period == p).collect();
        let df = output::unit_costs_frame(&rows)?;
        unit_files.push(staging.write_partition(output::UNIT_COSTS, p, &df)?);
        let rows: Vec<_> = t.compliance.iter().filter(|r| &r.period == p).collect();
        let df = output::tag_compliance_frame(&rows)?;
        staging.write_partition(output::TAG_COMPLIANCE, p, &df)?;
        if let Some(schedules) = t.amortization {
            let rows: Vec<_> = schedules.iter().filter(|r| &r.period == p).collect();
            let df = output::training_amortization_frame(&rows)?;
            staging.write_partition(output::TRAINING_AMORTIZATION, p, &df)?;
        }
    }
    Ok((cost_files, unit_files))
}

/// Stages what goes with the tables: each partition's `_manifest.json` and `_SUCCESS`
/// (last), and the quarantine files. Records the restatements and outputs in `detail`;
/// returns the (table, period) partitions this run publishes.
fn stage_run_files(
    staging: &mut Staging,
    args: &AttributeArgs,
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
        let (history, new) =
            output::history_after(&args.out, p, &totals, &inputs, &run.id, &run.started_at);
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
            };
            let json = serde_json::to_vec_pretty(&m).map_err(|e| {
                Error::Internal(format!("cannot serialise a partition manifest: {e}"))
            })?;
            let dir = output::partition_dir(table, p);
            staging.write_text(&dir.join(output::PARTITION_MANIFEST), &json)?;
            staging.write_text(&dir.join(output::SUCCESS), b"")?;
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

/// (direct, unallocated) cost per (period, currency).
fn split_allocated(a: &allocate::Allocation) -> BTreeMap<(String, String), (Money, Money)> {
    let mut out: BTreeMap<(String, String), (Money, Money)> = BTreeMap::new();
    for r in &a.rows {
        let e = out
            .entry((r.period.clone(), r.currency.clone()))
            .or_default();
        if !crate::schema::is_model(&r.model_id) {
            e.1 += r.cost;
        } else {
            e.0 += r.cost;
        }
    }
    out
}
