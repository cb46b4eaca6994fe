//! `mlcost attribute`: ingest -> ledger -> allocate -> compliance -> volumes and unit costs ->
//! staged Parquet -> reconciliation of what was written against what was read -> commit.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::{parse_period, read_billing, Verbosity};
use crate::cli::AttributeArgs;
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::output::{self, Manifest, Staging};
use crate::report::RunSummary;
use crate::tags::TagNormaliser;
use crate::{allocate, amortize, compliance, economics, ledger};

/// What the binary needs to finish: the text for stderr, JSON for stdout, the exit code.
pub struct Outcome {
    pub summary: RunSummary,
    pub exit_code: i32,
}

pub fn run(args: &AttributeArgs, verbosity: Verbosity) -> Result<Outcome> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let period = args.period.as_deref().map(parse_period).transpose()?;
    let loaded = LoadedConfig::load(args.input.config.as_deref())?;
    // one writer per output directory, for the whole run (released when `_lock` drops)
    let _lock = output::OutputLock::acquire(&args.out)?;
    output::recover(&args.out)?;
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
    let rules = crate::rules::compile(&loaded, &tagger, volumes.is_some())?;
    let billing = read_billing(&args.input, basis, verbosity)?;
    output::test_pause("read");
    let ledger = ledger::build(&billing.groups, config, period.as_deref());
    let quarantined = billing.quarantine_details(&ledger, basis, period.as_deref())?;
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
        });
    }
    // Partitions to replace: every period in this run (or the one asked for, even if empty).
    let mut periods: BTreeSet<String> = ledger.periods().into_iter().collect();
    if let Some(p) = &period {
        periods.insert(p.clone());
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

    let write_amortization = rules.training_months > 1 || !schedules.is_empty();
    let amortization = write_amortization.then_some(schedules.as_slice());
    let mut staging = Staging::new(&args.out)?;
    let result = stage_tables(
        &mut staging,
        &periods,
        &allocation,
        &unit_rows,
        &compliance.rows,
        amortization,
    );
    let (cost_files, unit_files) = match result {
        Ok(files) => files,
        Err(e) => {
            staging.discard();
            return Err(e);
        }
    };

    // Reconciliation: re-read what was staged, compare per period and currency.
    let written = output::sum_written(&cost_files, "cost");
    let unit_written = output::sum_written(&unit_files, "total_cost");
    let (written, unit_written) = match (written, unit_written) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            staging.discard();
            return Err(e);
        }
    };
    let reconciliation = reconcile(&ledger, &written, &unit_written);

    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let mut quarantined_per_file: BTreeMap<usize, u64> = BTreeMap::new();
    for ((file, reason), n) in &ledger.quarantined {
        *by_reason.entry(reason.message()).or_default() += n;
        *quarantined_per_file.entry(*file).or_default() += n;
    }
    let alloc_split = split_allocated(&allocation);
    let mut file_totals = billing.file_totals.clone();
    let periods_info: Vec<output::PeriodInfo> = ledger
        .totals
        .iter()
        .map(|((p, c), t)| {
            let key = (p.clone(), c.clone());
            let (direct, unallocated) = alloc_split.get(&key).copied().unwrap_or_default();
            output::PeriodInfo {
                billing_period: p.clone(),
                currency: c.clone(),
                rows: t.rows,
                cost_read: t.cost,
                cost_written: written.get(&key).copied().unwrap_or_default(),
                unit_costs_written: unit_written.get(&key).copied().unwrap_or_default(),
                allocated_direct: direct,
                unallocated,
                by_basis: t.by_basis.clone(),
                excluded_commitment_purchases: t.excluded_commitment_purchases,
            }
        })
        .collect();
    let rows = output::RowCounts {
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
    };
    let mut all_quarantined = quarantined;
    all_quarantined.extend(side_file_rows(
        args.requests.as_deref(),
        volumes.as_ref().map(|v| v.bad_rows.as_slice()),
    ));
    all_quarantined.extend(side_file_rows(
        args.revenue.as_deref(),
        revenue.as_ref().map(|v| v.bad_rows.as_slice()),
    ));
    let mut outputs: Vec<String> = Vec::new();
    let mut tables = vec![
        output::COST_BY_MODEL,
        output::UNIT_COSTS,
        output::TAG_COMPLIANCE,
    ];
    if write_amortization {
        tables.push(output::TRAINING_AMORTIZATION);
    }
    let mut closing_balance: BTreeMap<String, Money> = BTreeMap::new();
    for r in schedules
        .iter()
        .filter(|r| run_periods.last() == Some(&r.period))
    {
        *closing_balance
            .entry(format!("{} {}", r.period, r.schedule.currency))
            .or_default() += r.schedule.balance;
    }
    for table in tables {
        for p in &periods {
            outputs.push(format!("{table}/billing_period={p}/part-0.parquet"));
        }
    }
    outputs.push(output::QUARANTINE.to_string());
    let mut manifest = Manifest {
        tool: output::ToolInfo {
            name: "mlcost",
            version: env!("CARGO_PKG_VERSION"),
        },
        schema_version: crate::schema::SCHEMA_VERSION,
        run: output::RunInfo {
            started_at,
            duration_seconds: 0.0,
        },
        config: output::ConfigInfo {
            path: loaded.path.as_ref().map(|p| p.display().to_string()),
            sha256: loaded.hash.clone(),
            rules_sha256: rules.hash.clone(),
            rule_matches: allocation.rule_matches.clone(),
        },
        cost_basis: basis.name(),
        period_filter: period.clone(),
        inputs: billing
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| output::InputInfo {
                path: f.file.path.display().to_string(),
                size: f.file.size,
                sha256: f.file.sha256.clone(),
                kind: f.file.kind,
                format: f.format.clone(),
                format_version: f.format_version.clone(),
                rows: f.rows,
                quarantined_rows: quarantined_per_file.get(&i).copied().unwrap_or(0),
                totals: file_totals.remove(&i).unwrap_or_default(),
                notes: f.notes.clone(),
            })
            .collect(),
        volumes: volumes.as_ref().and_then(|v| {
            v.file.as_ref().map(|f| output::VolumesInfo {
                path: f.path.display().to_string(),
                size: f.size,
                sha256: f.sha256.clone(),
                rows: v.rows,
                unusable_rows: v.bad_rows.len() as u64,
            })
        }),
        rows,
        periods: periods_info,
        reconciliation: reconciliation.clone(),
        volume_report,
        amortization: output::AmortizationInfo {
            training_months: rules.training_months,
            opening_schedules,
            closing_balance,
        },
        outputs,
        history: Vec::new(),
    };
    if !reconciliation.ok {
        staging.discard();
        return Err(Error::Reconciliation(format!(
            "the outputs do not add up to the input; nothing was replaced under `{}`:\n  {}",
            args.out.display(),
            reconciliation.mismatches.join("\n  ")
        )));
    }
    manifest.history = output::restatements(
        &args.out,
        &manifest.periods,
        &manifest.inputs,
        &manifest.run.started_at,
    );
    manifest.run.duration_seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    if let Err(e) = stage_run_files(&mut staging, &all_quarantined, &manifest) {
        staging.discard();
        return Err(e);
    }
    staging.commit()?;

    let strict_failed =
        args.strict && (manifest.rows.quarantined > 0 || !all_quarantined.is_empty());
    let summary = RunSummary {
        manifest,
        out_dir: args.out.clone(),
        compliance: compliance.summary,
        strict_failed,
    };
    Ok(Outcome {
        exit_code: if strict_failed { 1 } else { 0 },
        summary,
    })
}

/// Compares, per period and currency, what was read with what the staged `cost_by_model` and
/// `unit_costs` files hold.
fn reconcile(
    ledger: &ledger::Ledger,
    written: &BTreeMap<(String, String), Money>,
    unit_written: &BTreeMap<(String, String), Money>,
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
    path: Option<&std::path::Path>,
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
        })
        .collect()
}

/// Stages the quarantine file and the manifest, the last files of a run.
fn stage_run_files(
    staging: &mut Staging,
    quarantined: &[crate::ingest::QuarantinedRow],
    manifest: &Manifest,
) -> Result<()> {
    staging.write_text(output::QUARANTINE, &output::quarantine_csv(quarantined))?;
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("cannot serialise the manifest: {e}")))?;
    staging.write_text(output::MANIFEST, &json)
}

type Staged = (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>);

/// Writes every table partition of every period into staging; returns the staged
/// cost_by_model and unit_costs files for reconciliation.
fn stage_tables(
    staging: &mut Staging,
    periods: &BTreeSet<String>,
    allocation: &allocate::Allocation,
    unit_rows: &[economics::UnitCostRow],
    compliance_rows: &[compliance::ComplianceRow],
    amortization: Option<&[amortize::AmortizationRow]>,
) -> Result<Staged> {
    let mut cost_files = Vec::new();
    let mut unit_files = Vec::new();
    // Fault injection for the reconciliation test: one written cost is off by 10^-18.
    let corrupt = std::env::var_os("MLCOST_TEST_CORRUPT_OUTPUT").is_some();
    for p in periods {
        let mut rows: Vec<allocate::CostByModelRow> = allocation
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
        let mut df = output::cost_by_model_frame(&rows, allocation.basis)?;
        cost_files.push(staging.write_partition(output::COST_BY_MODEL, p, &mut df)?);
        let rows: Vec<_> = unit_rows.iter().filter(|r| &r.period == p).collect();
        let mut df = output::unit_costs_frame(&rows)?;
        unit_files.push(staging.write_partition(output::UNIT_COSTS, p, &mut df)?);
        let rows: Vec<_> = compliance_rows.iter().filter(|r| &r.period == p).collect();
        let mut df = output::tag_compliance_frame(&rows)?;
        staging.write_partition(output::TAG_COMPLIANCE, p, &mut df)?;
        if let Some(schedules) = amortization {
            let rows: Vec<_> = schedules.iter().filter(|r| &r.period == p).collect();
            let mut df = output::training_amortization_frame(&rows)?;
            staging.write_partition(output::TRAINING_AMORTIZATION, p, &mut df)?;
        }
    }
    Ok((cost_files, unit_files))
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
