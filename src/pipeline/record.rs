//! The record of a run: what it read, counted and quarantined, per file and per month, as
//! the manifest shows it; the checks that refuse to publish (nothing usable, an empty month,
//! `--strict`); and the reconciliation of what was written against what was read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Job;
use crate::allocate::amortize::Volume;
use crate::allocate::{self, amortize};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::ingest::{self, BillingRead, QuarantineReason, QuarantinedRow};
use crate::ledger;
use crate::money::Money;
use crate::output::{self, RunDetail};
use crate::volumes::BadRow;

/// What a run knows once it has read, classified and allocated, for its record.
pub(super) struct Facts<'a> {
    pub loaded: &'a crate::config::LoadedConfig,
    pub rules: &'a allocate::rules::RuleSet,
    pub billing: &'a BillingRead,
    pub ledger: &'a ledger::Ledger,
    pub allocation: &'a allocate::Allocation,
    pub volumes: Option<&'a crate::volumes::Volumes>,
    pub quarantined: &'a [QuarantinedRow],
    pub schedules: &'a [amortize::AmortizationRow],
    pub opening_schedules: usize,
    pub volume_report: crate::economics::VolumeReport,
    pub datasets: &'a ledger::datasets::DatasetFacts,
    pub daily: Option<output::DailyInfo>,
}

/// The manifest's account of a run before anything is written.
pub(super) fn detail(job: &Job, f: &Facts) -> RunDetail {
    let loaded = f.loaded;
    RunDetail {
        config: output::ConfigInfo {
            path: loaded.path.as_ref().map(|p| p.display().to_string()),
            sha256: loaded.hash.clone(),
            rules_sha256: f.rules.hash.clone(),
            rule_matches: f.allocation.rule_matches.clone(),
            dimensions: f.rules.dimensions.iter().map(|(n, _)| n.clone()).collect(),
        },
        cost_basis: loaded.config.cost.basis.name(),
        period_filter: job.period.clone(),
        allow_empty: job.allow_empty,
        inputs: input_infos(f.billing, f.ledger),
        volumes: f.volumes.and_then(|v| {
            v.file.as_ref().map(|file| output::VolumesInfo {
                path: crate::origin::shown(&file.path),
                object: crate::origin::object(&file.path),
                size: file.size,
                sha256: file.sha256.clone(),
                rows: v.rows,
                unusable_rows: v.bad_rows.len() as u64,
            })
        }),
        rows: row_counts(f.billing, f.ledger, f.quarantined),
        periods: period_infos(f.ledger, f.allocation, None),
        reconciliation: None,
        volume_report: f.volume_report.clone(),
        amortization: output::AmortizationInfo {
            training_months: f.rules.training_months,
            served_unit: f.rules.served_unit.clone(),
            opening_schedules: f.opening_schedules,
            closing_balance: closing_balance(
                f.schedules,
                f.ledger.periods().iter().chain(job.period.iter()).max(),
            ),
        },
        outputs: Vec::new(),
        restatements: Vec::new(),
        billing_status: f.datasets.statuses.clone(),
        invoices: f.datasets.invoices.clone(),
        commitments: f.datasets.commitments.clone(),
        unreadable_contract_applied: f.datasets.unreadable_contract_applied,
        invoice_rows_left_out: f.datasets.invoice_rows_left_out,
        daily: f.daily.clone(),
        removed: Vec::new(),
    }
}

/// A side file with rows but none usable is the wrong file, not a month without volumes.
pub(super) fn usable_side_files(
    job: &Job,
    volumes: Option<&crate::volumes::Volumes>,
    revenue: Option<&crate::volumes::Revenue>,
) -> Result<()> {
    let unusable = |path: &Option<std::path::PathBuf>,
                    rows: u64,
                    good: usize,
                    what: &str|
     -> Result<()> {
        match path {
            Some(p) if rows > 0 && good == 0 => Err(Error::Rejected {
                message: format!(
                    "none of the {rows} rows of the {what} file `{}` could be used; nothing was published",
                    crate::origin::shown(p)
                ),
                hint: Some(format!(
                    "check that `{}` is the {what} file: `mlcost attribute --help` lists its columns",
                    crate::origin::shown(p)
                )),
            }),
            _ => Ok(()),
        }
    };
    if let Some(v) = volumes {
        unusable(&job.requests, v.rows, v.units.len(), "requests")?;
    }
    if let Some(r) = revenue {
        unusable(&job.revenue, r.rows, r.values.len(), "revenue")?;
    }
    Ok(())
}

/// Lists the quarantined rows of the files the ledger flagged (a second pass, bad files only).
pub(super) fn quarantine_details(
    billing: &BillingRead,
    ledger: &ledger::Ledger,
    basis: CostBasis,
    period_filter: Option<&str>,
) -> Result<Vec<QuarantinedRow>> {
    let mut out = Vec::new();
    let empty = Vec::new();
    for (i, f) in billing.files.iter().enumerate() {
        if !ledger.quarantined.keys().any(|(file, _)| *file == i) {
            continue;
        }
        let periods = ledger.bad_periods.get(&i).unwrap_or(&empty);
        let currencies = ledger.bad_currencies.get(&i).unwrap_or(&empty);
        out.extend(ingest::quarantine_rows(
            &f.scan,
            basis,
            periods,
            currencies,
            period_filter,
            f.source,
        )?);
    }
    Ok(out)
}

/// The months this run replaces: every month of the input, including one whose rows were all
/// quarantined (left out, the previous run's version of it would stay published as if this
/// input agreed with it), and the one asked for. `refusal` refuses those without a counted
/// row unless `--allow-empty`.
pub(super) fn periods(
    ledger: &ledger::Ledger,
    quarantined_billing_rows: &[QuarantinedRow],
    period: Option<&str>,
) -> BTreeSet<String> {
    let mut periods: BTreeSet<String> = ledger.periods().into_iter().collect();
    periods.extend(
        quarantined_billing_rows
            .iter()
            .filter_map(|r| r.period.clone())
            .filter(|p| period.is_none_or(|want| want == p)),
    );
    if let Some(p) = period {
        periods.insert(p.to_string());
    }
    periods
}

/// A rule that matched no spend is a config error naming its line.
pub(super) fn every_rule_matched(
    rules: &allocate::rules::RuleSet,
    allocation: &allocate::Allocation,
    config_path: Option<&Path>,
) -> Result<()> {
    match rules
        .rules
        .iter()
        .find(|r| allocation.rule_matches.get(&r.id) == Some(&0))
    {
        None => Ok(()),
        Some(rule) => Err(Error::Config {
            path: config_path.map(Path::to_path_buf).unwrap_or_default(),
            message: format!("rule `{}` (line {}) matches no spend in this run", rule.id, rule.line),
            hint: Some("fix its matchers (values are compared exactly, tags after normalisation) or remove it".into()),
        }),
    }
}

/// Why the run must not publish, checked before anything is written: no usable row, a month
/// with no counted row (unless `--allow-empty`), later amortised months it would leave stale,
/// or `--strict` with quarantined rows.
pub(super) fn refusal(
    job: &Job,
    ledger: &ledger::Ledger,
    periods: &BTreeSet<String>,
    quarantined: &[QuarantinedRow],
    detail: &RunDetail,
    schedules: &[amortize::AmortizationRow],
    volume: Volume,
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
    if !empty.is_empty() && !job.allow_empty {
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
    // the months published under --out, read once for both amortisation checks
    let published_months =
        output::list_periods(&job.out, output::COST_BY_MODEL).unwrap_or_default();
    if !schedules.is_empty() {
        if let Some(error) = skipped_months(&published_months, periods) {
            return Some(error);
        }
    }
    if let Some(error) = stale_amortisation(&job.out, &published_months, schedules, periods, volume)
    {
        return Some(error);
    }
    let unusable_side_rows = quarantined.len() as u64 > rows.quarantined;
    let unreconciled: Vec<String> = detail
        .invoices
        .iter()
        .filter(|i| i.result == ledger::datasets::InvoiceResult::Mismatch)
        .map(ledger::datasets::finding)
        .collect();
    if job.strict && !unreconciled.is_empty() {
        return Some(Error::Rejected {
            message: format!(
                "--strict: {} invoice(s) do not reconcile with FOCUS Invoice Detail ({}); {nothing}",
                unreconciled.len(),
                unreconciled.join("; ")
            ),
            hint: Some("each invoice's totals are in manifest.json under `invoices` (differences within the spec's rounding tolerance, open invoices and months not invoiced yet do not stop --strict); check that the Cost and Usage export is the complete, current version of the month".into()),
        });
    }
    if job.strict && (rows.quarantined > 0 || unusable_side_rows) {
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

pub(super) fn input_infos(
    billing: &BillingRead,
    ledger: &ledger::Ledger,
) -> Vec<output::InputInfo> {
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
            path: crate::origin::shown(&f.file.path),
            object: crate::origin::object(&f.file.path),
            size: f.file.size,
            sha256: f.file.sha256.clone(),
            content_sha256: f.file.content_sha256.clone(),
            kind: f.file.kind,
            format: f.format.clone(),
            format_version: f.format_version.clone(),
            dataset: (f.source == ingest::SourceFormat::Focus)
                .then_some(ingest::Dataset::CostAndUsage),
            rows: f.rows,
            quarantined_rows: quarantined_per_file.get(&i).copied().unwrap_or(0),
            totals: file_totals.remove(&i).unwrap_or_default(),
            notes: f.notes.clone(),
        })
        .chain(billing.companions.files.iter().map(|c| {
            let mut notes = vec![format!(
                "FOCUS {} dataset: read for what it adds, not counted as spend",
                c.dataset.name()
            )];
            notes.extend(c.notes.iter().cloned());
            output::InputInfo {
                path: crate::origin::shown(&c.file.path),
                object: crate::origin::object(&c.file.path),
                size: c.file.size,
                sha256: c.file.sha256.clone(),
                content_sha256: c.file.content_sha256.clone(),
                kind: c.file.kind,
                format: "focus".into(),
                format_version: match c.dataset {
                    ingest::Dataset::ContractCommitment => "1.3",
                    _ => "1.4",
                }
                .into(),
                dataset: Some(c.dataset),
                rows: c.rows,
                quarantined_rows: 0,
                totals: BTreeMap::new(),
                notes,
            }
        }))
        .collect()
}

pub(super) fn row_counts(
    billing: &BillingRead,
    ledger: &ledger::Ledger,
    listed: &[QuarantinedRow],
) -> output::RowCounts {
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, reason), n) in &ledger.quarantined {
        *by_reason.entry(reason.message()).or_default() += n;
    }
    // The listing refines "not a decimal number" into "out of range" row by row.
    let basis = ledger.basis.focus_column().to_string();
    let (invalid, too_large) = (
        QuarantineReason::InvalidCost(basis.clone()).message(),
        QuarantineReason::CostOutOfRange(basis).message(),
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

pub(super) type Sums = BTreeMap<(String, String), Money>;
/// Written cost per (period, currency, dimension) of `cost_by_dimension`.
pub(super) type DimensionSums = BTreeMap<(String, String, String), Money>;

pub(super) fn period_infos(
    ledger: &ledger::Ledger,
    allocation: &allocate::Allocation,
    written: Option<&(Sums, Sums)>,
) -> Vec<output::PeriodInfo> {
    let split = split_allocated(allocation);
    let mut unused: BTreeMap<(String, String), Money> = BTreeMap::new();
    for r in allocation
        .rows
        .iter()
        .filter(|r| r.model_id == crate::schema::UNUSED_COMMITMENT)
    {
        *unused
            .entry((r.period.clone(), r.currency.clone()))
            .or_default() += r.cost;
    }
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
                unused_commitment: unused.get(&key).copied().unwrap_or_default(),
            }
        })
        .collect()
}

pub(super) fn closing_balance(
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
/// `unit_costs` files hold, and with each dimension of the staged `cost_by_dimension` files
/// when the run writes them.
pub(super) fn reconcile(
    ledger: &ledger::Ledger,
    written: &Sums,
    unit_written: &Sums,
    by_dimension: Option<(&[String], &DimensionSums)>,
    daily: Option<(&DimensionSums, &DimensionSums, &DimensionSums)>,
) -> output::Reconciliation {
    let keys: BTreeSet<&(String, String)> = ledger
        .totals
        .keys()
        .chain(written.keys())
        .chain(unit_written.keys())
        .collect();
    // each configured dimension in every month, whether or not the files hold it
    let (dimensions, by_dimension) = match by_dimension {
        Some((names, sums)) => (names, Some(sums)),
        None => (&[][..], None),
    };
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
        for name in dimensions {
            let d = by_dimension
                .and_then(|b| b.get(&(key.0.clone(), key.1.clone(), name.clone())))
                .copied()
                .unwrap_or_default();
            if read != d {
                mismatches.push(format!(
                    "{} {}: read {read}, cost_by_dimension `{name}` {d}",
                    key.0, key.1
                ));
            }
        }
    }
    let days = daily.map_or(0, |(read, cost, unit)| {
        reconcile_days(read, cost, unit, &mut mismatches)
    });
    output::Reconciliation {
        ok: mismatches.is_empty(),
        checked: keys.len(),
        days_checked: days as u64,
        mismatches,
    }
}

/// The daily tables against the bill, day by day (every day read or written, so each month
/// adds up too): the cost read per (period, currency, charge day; "" for none) against the
/// written cost_by_model_daily and unit_costs_daily. Returns the days checked.
fn reconcile_days(
    read: &DimensionSums,
    cost: &DimensionSums,
    unit: &DimensionSums,
    mismatches: &mut Vec<String>,
) -> usize {
    let keys: BTreeSet<&(String, String, String)> =
        read.keys().chain(cost.keys()).chain(unit.keys()).collect();
    for key in &keys {
        let r = read.get(key).copied().unwrap_or_default();
        let (c, u) = (
            cost.get(key).copied().unwrap_or_default(),
            unit.get(key).copied().unwrap_or_default(),
        );
        if r != c || r != u {
            let day = if key.2.is_empty() {
                "(no charge day)"
            } else {
                key.2.as_str()
            };
            mismatches.push(format!(
                "{} {} {day}: read {r}, cost_by_model_daily {c}, unit_costs_daily {u}",
                key.0, key.1
            ));
        }
    }
    keys.len()
}

/// Unusable rows of a volumes or revenue file, as quarantine rows naming that file.
pub(super) fn side_file_rows(path: Option<&Path>, bad: Option<&[BadRow]>) -> Vec<QuarantinedRow> {
    let (Some(path), Some(bad)) = (path, bad) else {
        return Vec::new();
    };
    bad.iter()
        .map(|b| QuarantinedRow {
            file: path.to_path_buf(),
            row: b.row,
            column: b.column.to_string(),
            reason: b.reason.clone(),
            value: b.value.clone(),
            period: b.period.clone(),
        })
        .collect()
}

/// (direct, unallocated) cost per (period, currency).
pub(super) fn split_allocated(
    a: &allocate::Allocation,
) -> BTreeMap<(String, String), (Money, Money)> {
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

/// A run that republishes some months but not the published months after them whose
/// amortisation depends on them: a month's `amortized` rows carry the schedules of the months
/// before it, so a later month would keep charging the old schedule (training cost charged
/// twice or dropped) while every month still reconciles. The first published month after one
/// of the run's months (with no published month between) must start from what the run leaves
/// open at the end of it: the same schedules (model, team, currency, incurred month and cost),
/// each from the same balance and, for a served schedule, the same unit and plan and no less
/// volume served. Otherwise it is refused, with the published months after it that carry a
/// schedule from the run's months, or would carry one the run leaves open (each started from
/// the one before). One run over every month from the first republished one to the last
/// refused one publishes them consistently.
fn stale_amortisation(
    out: &Path,
    published_months: &[String],
    schedules: &[amortize::AmortizationRow],
    periods: &BTreeSet<String>,
    volume: Volume,
) -> Option<Error> {
    let first = periods.first()?;
    type Key = (String, String, String, String, Money);
    let key = |s: &amortize::Schedule| -> Key {
        (
            s.incurred_period.clone(),
            s.model_id.clone(),
            s.team.clone(),
            s.currency.clone(),
            s.incurred_cost,
        )
    };
    let mut later: Vec<String> = Vec::new();
    for m in published_months
        .iter()
        .filter(|m| *m > first && !periods.contains(*m))
    {
        let Some(before) = periods.iter().rfind(|p| *p < m) else {
            continue;
        };
        // a partition that cannot be read is that error, not a month without schedules
        let rows = match output::read_schedules(out, m) {
            Ok(rows) => rows,
            Err(e) => return Some(e),
        };
        // the schedules `m` carried in from the months before it
        let published: BTreeMap<Key, &amortize::AmortizationRow> = rows
            .iter()
            .filter(|r| r.schedule.incurred_period < *m)
            .map(|r| (key(&r.schedule), r))
            .collect();
        // what this run leaves open at the end of `before`
        let expected: BTreeMap<Key, &amortize::Schedule> = schedules
            .iter()
            .filter(|r| &r.period == before)
            .map(|r| &r.schedule)
            .filter(|s| !s.balance.is_zero() && s.months_remaining > 0)
            .map(|s| (key(s), s))
            .collect();
        // published months from the one after `before` to `m`: a schedule's window counts them
        let counted = published_months
            .iter()
            .filter(|p| p.as_str() > before.as_str() && *p <= m)
            .count();
        if counted > 1 {
            // it started from a published month after the run's: stale when that chain is and
            // it carries (or this run would have it carry) a schedule from the run's months
            let carries = published
                .values()
                .any(|r| r.schedule.incurred_period <= *before)
                || expected
                    .values()
                    .any(|s| s.months_remaining as usize >= counted);
            if !later.is_empty() && carries {
                later.push(m.clone());
            }
            continue;
        }
        let differs = !expected.keys().eq(published.keys())
            || expected
                .iter()
                .any(|(k, s)| published.get(k).is_none_or(|r| !started_from(r, s, volume)));
        if differs {
            later.push(m.clone());
        }
    }
    let last = later.last()?;
    Some(Error::Rejected {
        message: format!(
            "{} {} published with amortisation that depends on {first}, which this run republishes without {}: {} would keep charging the old schedule (training cost charged twice or dropped); nothing was published",
            later.join(", "),
            if later.len() == 1 { "is" } else { "are" },
            if later.len() == 1 { "it" } else { "them" },
            if later.len() == 1 { "it" } else { "they" },
        ),
        hint: Some(format!(
            "run once over the billing of every month from {first} to {last}, so that each month's schedule follows from the one before"
        )),
    })
}

/// Whether the published row of month `m` started from the schedule `s` (as of the month
/// before): the same balance and months left (a schedule that closed in `m` may have closed
/// early) and, for a served schedule, the same unit and plan (or, set in `m`, the plan its
/// first volume gives) and exactly `m`'s volume more served when the run's volumes give it
/// (no less otherwise).
fn started_from(row: &amortize::AmortizationRow, s: &amortize::Schedule, volume: Volume) -> bool {
    let now = &row.schedule;
    let opening = now.balance.checked_add(row.charged);
    let closed = now.months_remaining == 0 && now.balance.is_zero();
    let months = closed || now.months_remaining + 1 == s.months_remaining;
    let served = match (&now.served, &s.served) {
        (None, None) => true,
        (Some(b), Some(then)) => {
            let added = b.served.checked_sub(then.served);
            let plan = match (then.planned, b.planned) {
                (Some(p), q) => q == Some(p),
                (None, None) => true,
                // the plan is set by the month's volume x the months then left
                (None, Some(q)) => {
                    added.is_some_and(|v| amortize::plan(v, s.months_remaining) == q)
                }
            };
            let volume = match volume(&row.period, &now.model_id, &b.unit) {
                Some(v) => added == Some(Money(v.0.max(0))),
                None => added.is_some_and(|a| a.0 >= 0),
            };
            b.unit == then.unit && plan && volume
        }
        _ => false,
    };
    opening == Some(s.balance) && months && served
}

/// The run's months skip a month published between them while schedules are carried: the
/// amortisation would go from the month before the gap straight to the month after it.
fn skipped_months(published_months: &[String], periods: &BTreeSet<String>) -> Option<Error> {
    let (first, last) = (periods.first()?, periods.last()?);
    let skipped: Vec<String> = published_months
        .iter()
        .filter(|p| *p > first && *p < last && !periods.contains(*p))
        .cloned()
        .collect();
    let list = skipped.join(", ");
    (!skipped.is_empty()).then(|| Error::Rejected {
        message: format!(
            "this run's months go from {first} to {last} but leave out {list}, which {} published: training amortisation carries each schedule month to month, so the months after {} would be charged as if {} had not happened; nothing was published",
            if skipped.len() == 1 { "is" } else { "are" },
            skipped[0],
            if skipped.len() == 1 { "it" } else { "they" },
        ),
        hint: Some(format!(
            "include the billing of {list} in the run, or run the months on each side of it separately"
        )),
    })
}
