//! The attribute job, stage after stage (`stages`): side files first (`volumes`) -> billing files (`ingest`)
//! -> classified lines (`ledger`) -> allocation and amortisation (`allocate`) -> tag compliance
//! and unit costs (`economics`) -> with `--grain day`, the same by charge day and its anomalies
//! (`days`, on `daily`) -> checks (`record`) -> staged, reconciled, committed tables
//! (`publish`, on `output`). This module only connects the stages; each owns its logic. A
//! month is published only when the run counted rows for it, nothing was rejected and the
//! written tables add up exactly; otherwise nothing under `--out` changes but `manifest.json`.

mod days;
mod hidden;
mod publish;
mod record;

pub use hidden::{hidden, HiddenJob};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::allocate::{self, amortize, rules};
use crate::config::LoadedConfig;
use crate::economics;
use crate::error::{Error, Result};
use crate::ingest::{self, QuarantinedRow, ReadOptions, SourceFormat};
use crate::ledger::{self, compliance};
use crate::output::{self, Manifest, RunDetail, TestHooks};
use crate::tags::TagNormaliser;
use crate::volumes;

/// One attribute run, as the command line asked for it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Billing files, already resolved (`ingest::resolve_paths`).
    pub billing: Vec<PathBuf>,
    pub format: Option<SourceFormat>,
    pub prefer: Option<PathBuf>,
    pub requests: Option<PathBuf>,
    pub revenue: Option<PathBuf>,
    pub out: PathBuf,
    pub period: Option<String>,
    pub strict: bool,
    pub allow_empty: bool,
    pub wait: Option<Duration>,
    /// `--grain day`: attribute by charge day too (`daily`).
    pub days: bool,
}

/// How a run ended: its manifest and tag compliance, and the rejection when nothing was
/// published.
pub struct Attributed {
    pub manifest: Manifest,
    pub compliance: compliance::ComplianceSummary,
    pub rejection: Option<Error>,
}

/// Runs `job` under the output lock. An error after the lock is recorded in `manifest.json`;
/// a rejection after the data was read comes back with the record, for the summary.
pub fn run(
    job: &Job,
    loaded: &LoadedConfig,
    read: &ReadOptions,
    hooks: &TestHooks,
) -> Result<Attributed> {
    let run = RunId::new();
    // one writer per output directory, for the whole run (the kernel releases it at exit)
    let _lock = output::OutputLock::acquire(&job.out, job.wait)?;
    let done = output::recover(&job.out)
        .map_err(Box::<Stop>::from)
        .and_then(|()| stages(job, loaded, &run, read, hooks));
    match done {
        Ok(done) => Ok(done),
        Err(mut stop) => {
            let manifest = publish::record_failure(job, &run, &mut stop);
            match (manifest.detail.is_some(), stop.compliance.take()) {
                (true, Some(compliance)) => Ok(Attributed {
                    manifest,
                    compliance,
                    rejection: Some(stop.error),
                }),
                _ => Err(stop.error),
            }
        }
    }
}

fn stages(
    job: &Job,
    loaded: &LoadedConfig,
    run: &RunId,
    read: &ReadOptions,
    hooks: &TestHooks,
) -> std::result::Result<Attributed, Box<Stop>> {
    let (config, period) = (&loaded.config, job.period.as_deref());
    let tagger = TagNormaliser::new(&config.tags);
    let reader = volumes::SideReader {
        tagger: &tagger,
        options: *read,
    };
    // volumes first: a wrong side file should fail before the long billing read
    let side = SideFiles::read(job, &reader)?;
    let rules = rules::compile(loaded, &tagger, side.volumes.is_some(), &|p: &Path| {
        reader.driver(p)
    })?;
    let basis = config.cost.basis;
    let mut billing = ingest::read_billing(
        job.billing.clone(),
        job.format,
        job.prefer.as_deref(),
        basis,
        read,
    )?;
    // a day run attributes the month from its groups merged over the days (what a monthly
    // run reads), and the days from the groups by day
    let day_groups = job.days.then(|| billing.split_off_days()).transpose()?;
    hooks.pause("read");
    let ledger = ledger::build(&billing.groups, config, period)?;
    let mut quarantined = record::quarantine_details(&billing, &ledger, basis, period)?;
    let periods = record::periods(&ledger, &quarantined, period);
    quarantined.extend(side.bad_rows(job));
    let months = ledger.totals.keys().cloned().collect();
    let datasets = ledger::datasets::assess(
        &billing.companions,
        &billing.cost_and_usage,
        &periods,
        &months,
    );
    let mut allocation = allocate::allocate(&ledger, &billing.groups, &rules, side.requests());
    record::every_rule_matched(&rules, &allocation, loaded.path.as_deref())?;
    let (schedules, opening_schedules) = amortize_months(
        job,
        &mut allocation,
        &rules,
        side.volumes.as_ref(),
        &periods,
    )?;
    let compliance = compliance::assess(&ledger, tagger.required());
    let (mut unit_rows, volume_report) = economics::unit_costs(
        &allocation,
        side.volumes.as_ref(),
        side.revenue.as_ref(),
        &config.targets,
    );
    for r in &mut unit_rows {
        r.billing_status = datasets
            .statuses
            .get(&r.period)
            .map(|s| s.name().to_string());
    }
    for (unit, given) in economics::unserved_unit_targets(&config.targets, side.volumes.as_ref()) {
        tracing::warn!(
            "[targets] sets a limit for unit `{unit}`, which no volume gives ({}): it judges nothing",
            match given.is_empty() {
                true => "no units given".to_string(),
                false => format!("units given: {}", given.join(", ")),
            }
        );
    }
    // per unit only when the volumes give more than requests: request-only runs write what
    // they always wrote
    let by_unit = side
        .volumes
        .as_ref()
        .filter(|v| {
            v.units
                .values()
                .flat_map(|u| u.keys())
                .any(|u| u != "requests")
        })
        .map(|v| economics::unit_volume_costs(&unit_rows, v, &config.targets));
    let dimension_names: Vec<String> = rules.dimensions.iter().map(|(n, _)| n.clone()).collect();
    let by_dimension = (!dimension_names.is_empty())
        .then(|| allocate::dimensions::cost_by_dimension(&allocation, &dimension_names));
    for name in allocate::dimensions::never_valued(
        by_dimension.as_deref().unwrap_or_default(),
        &dimension_names,
    ) {
        tracing::warn!(
            "`[output] dimensions` entry `{name}` has no value on any billing line of this run: is it a billing column ({}) or a tag key the bill carries?",
            allocate::rules::DIMENSION_KEYS.join(", ")
        );
    }
    let days = match &day_groups {
        Some(groups) => Some(days::attribute(
            &job.out,
            groups,
            &rules,
            side.volumes.as_ref(),
            config,
            period,
            &periods,
        )?),
        None => {
            // a monthly run replaces (removes) the days of its months too
            days::stale_anomalies(&job.out, &periods, config)?;
            None
        }
    };
    drop(day_groups);
    let facts = record::Facts {
        loaded,
        rules: &rules,
        billing: &billing,
        ledger: &ledger,
        allocation: &allocation,
        volumes: side.volumes.as_ref(),
        quarantined: &quarantined,
        schedules: &schedules,
        opening_schedules,
        volume_report,
        datasets: &datasets,
        daily: days.as_ref().map(|d| d.info.clone()),
    };
    let detail = record::detail(job, &facts);
    let stop = |error: Error, detail: Option<RunDetail>| Stop {
        error,
        detail: detail.map(Box::new),
        compliance: Some(compliance.summary.clone()),
        quarantined: quarantined.clone(),
    };
    let amortising = rules.training_months > 1 || !schedules.is_empty();
    let volume =
        |period: &str, model: &str, unit: &str| served(side.volumes.as_ref(), period, model, unit);
    if let Some(error) = record::refusal(
        job,
        &ledger,
        &periods,
        &quarantined,
        &detail,
        &schedules,
        &volume,
    ) {
        return Err(Box::new(stop(error, Some(detail))));
    }
    let tables = publish::Tables {
        ledger: &ledger,
        periods: &periods,
        quarantined: &quarantined,
        allocation: &allocation,
        unit_rows: &unit_rows,
        compliance: &compliance.rows,
        amortization: amortising.then_some(schedules.as_slice()),
        by_unit: by_unit.as_deref(),
        by_dimension: by_dimension.as_deref(),
        dimensions: &dimension_names,
        days: days.as_ref(),
    };
    let manifest = publish::publish(job, run, hooks, &tables, detail).map_err(|f| {
        let (error, detail) = *f;
        Box::new(stop(error, detail))
    })?;
    Ok(Attributed {
        manifest,
        compliance: compliance.summary,
        rejection: None,
    })
}

/// The side files of a run, read and checked to be usable.
struct SideFiles {
    volumes: Option<volumes::Volumes>,
    revenue: Option<volumes::Revenue>,
}

impl SideFiles {
    fn read(job: &Job, reader: &volumes::SideReader) -> Result<SideFiles> {
        let volumes = job
            .requests
            .as_deref()
            .map(|p| reader.volumes(p))
            .transpose()?;
        let revenue = job
            .revenue
            .as_deref()
            .map(|p| reader.revenue(p))
            .transpose()?;
        record::usable_side_files(job, volumes.as_ref(), revenue.as_ref())?;
        Ok(SideFiles { volumes, revenue })
    }

    fn requests(&self) -> Option<&allocate::Requests> {
        self.volumes.as_ref().map(|v| &v.requests)
    }

    /// Their unusable rows, as quarantine rows naming their file.
    fn bad_rows(&self, job: &Job) -> Vec<QuarantinedRow> {
        let mut rows = record::side_file_rows(
            job.requests.as_deref(),
            self.volumes.as_ref().map(|v| v.bad_rows.as_slice()),
        );
        rows.extend(record::side_file_rows(
            job.revenue.as_deref(),
            self.revenue.as_ref().map(|v| v.bad_rows.as_slice()),
        ));
        rows
    }
}

/// The volume of `unit` a model served in a month, from the run's volumes.
fn served(
    volumes: Option<&volumes::Volumes>,
    period: &str,
    model: &str,
    unit: &str,
) -> Option<crate::money::Money> {
    volumes?
        .units
        .get(&(period.to_string(), model.to_string()))?
        .get(unit)
        .copied()
}

/// Training amortised over the months of this run, carrying the schedules still open at the
/// end of the last month published before them; returns the schedules and how many were
/// carried in.
fn amortize_months(
    job: &Job,
    allocation: &mut allocate::Allocation,
    rules: &rules::RuleSet,
    volumes: Option<&volumes::Volumes>,
    periods: &std::collections::BTreeSet<String>,
) -> Result<(Vec<amortize::AmortizationRow>, usize)> {
    let run_periods: Vec<String> = periods.iter().cloned().collect();
    let opening = match run_periods.first() {
        Some(first) => output::read_open_schedules(&job.out, first)?,
        None => Vec::new(),
    };
    let carried = opening.len();
    // a served schedule charges only as its unit is served
    let given =
        |unit: &str| volumes.is_some_and(|v| v.units.values().any(|u| u.contains_key(unit)));
    if let Some(unit) = rules.served_unit.as_deref().filter(|u| !given(u)) {
        tracing::warn!(
            "[amortize] spreads training over `{unit}`, which no row of the volumes gives: each training run is charged in the last month of its window (set `[amortize] unit` to a unit the volumes give)"
        );
    }
    let stalled: std::collections::BTreeSet<&str> = opening
        .iter()
        .filter_map(|s| s.served.as_ref().map(|b| b.unit.as_str()))
        .filter(|unit| !given(unit))
        .collect();
    for unit in stalled {
        tracing::warn!(
            "schedules carried from earlier months spread training over `{unit}`, which this run's volumes do not give: they charge nothing until their window ends (pass the volumes with `--requests FILE`)"
        );
    }
    let policy = amortize::Policy {
        months: rules.training_months,
        served_unit: rules.served_unit.as_deref(),
    };
    let volume = |period: &str, model: &str, unit: &str| served(volumes, period, model, unit);
    let schedules = amortize::amortize(allocation, policy, &volume, opening, &run_periods);
    Ok((schedules, carried))
}

/// Why a run stopped after taking the lock, with what it knew by then.
struct Stop {
    error: Error,
    detail: Option<Box<RunDetail>>,
    compliance: Option<compliance::ComplianceSummary>,
    /// The rows the rejected run quarantined, written to `quarantine/rejected_run.csv` so
    /// they can be fixed although nothing was published.
    quarantined: Vec<QuarantinedRow>,
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

impl RunId {
    fn new() -> RunId {
        let now = chrono::Utc::now();
        RunId {
            id: output::new_run_id(now),
            started: Instant::now(),
            started_at: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    fn info(&self) -> output::RunInfo {
        output::RunInfo {
            started_at: self.started_at.clone(),
            duration_seconds: (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        }
    }
}
