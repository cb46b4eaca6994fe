//! Reading every billing input of a run: open and detect each file, refuse the same export
//! given twice (by content) and AWS CUR months delivered twice (by line-item identity, unless
//! `--prefer` names the winner), aggregate each file (Parquet files with a direct column
//! mapping together, on their dictionary keys), and merge the groups across files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{FileKind, InputFile, RawScan, SourceFormat, SourceGroup};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::schema::line;

/// How inputs are read, resolved once from the command line and the environment (see
/// `Context`) and handed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Show a spinner (stderr is a terminal, no -q/-v, `MLCOST_NO_PROGRESS` unset).
    pub progress: bool,
    /// Read Parquet on its dictionary keys where possible (`MLCOST_PARQUET_READER=polars`
    /// turns it off, for comparison).
    pub direct_parquet: bool,
    /// Rows per slice of the Polars Parquet path (`MLCOST_PARQUET_SLICE_ROWS`); None: as many
    /// as keep a slice's cells under `groups::PARQUET_SLICE_CELLS`.
    pub parquet_slice_rows: Option<usize>,
    /// Rows per CSV batch (`MLCOST_CSV_BATCH_ROWS`).
    pub csv_batch_rows: usize,
    /// Read each row's charge period too (`--grain day`).
    pub charge_days: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            progress: false,
            direct_parquet: true,
            parquet_slice_rows: None,
            csv_batch_rows: super::csv::BATCH_ROWS,
            charge_days: false,
        }
    }
}

impl ReadOptions {
    fn progress_bar(&self) -> indicatif::ProgressBar {
        if !self.progress {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// One billing file after ingest.
pub struct FileRead {
    pub file: InputFile,
    pub source: SourceFormat,
    pub notes: Vec<String>,
    pub format: String,
    pub format_version: String,
    pub rows: u64,
    pub scan: RawScan,
}

pub struct BillingRead {
    pub files: Vec<FileRead>,
    /// Groups of all files, merged across files where they are counted (see
    /// `merge_across_files`).
    pub groups: Vec<SourceGroup>,
    /// Totals of every basis per input file and currency, taken before the merge.
    pub file_totals: FileTotals,
    /// The FOCUS datasets that are not spend (Contract Commitment, Billing Period, Invoice
    /// Detail), read whole.
    pub companions: super::focus_datasets::Companions,
    /// What the FOCUS Cost and Usage files say about those datasets (read only when one was
    /// given).
    pub cost_and_usage: super::focus_datasets::CostAndUsageFacts,
}

/// Opens, normalises and aggregates every billing input (`paths`, from
/// `super::resolve_paths`).
pub fn read_billing(
    paths: Vec<PathBuf>,
    forced: Option<SourceFormat>,
    prefer: Option<&Path>,
    basis: CostBasis,
    options: &ReadOptions,
) -> Result<BillingRead> {
    let prefer = prefer.map(|p| preferred_input(p, &paths)).transpose()?;
    let prefer = prefer.as_deref();
    let bar = options.progress_bar();
    let mut files = Vec::with_capacity(paths.len());
    let mut groups = Vec::new();
    let n = paths.len();
    let inspected: Vec<InputFile> = paths
        .iter()
        .map(|p| super::sniff(p))
        .collect::<Result<_>>()?;
    // Hash the inputs on a thread of their own while Polars reads them: hashing is one more
    // pass over every byte, and the scans leave part of the CPU idle. Each file gets the
    // hash of its bytes (for the manifest) and of its content (decompressed), which decides
    // whether two inputs are the same export.
    let hashing = {
        let paths = paths.clone();
        std::thread::spawn(move || -> Result<Vec<super::Hashes>> {
            use rayon::prelude::*;
            paths.par_iter().map(|p| super::hash_content(p)).collect()
        })
    };
    let mut opened = Vec::with_capacity(inspected.len());
    let mut companions = super::focus_datasets::Companions::default();
    for file in inspected {
        let mut scan = RawScan::open(file.clone())?;
        scan.options = *options;
        // a FOCUS dataset that is not spend is read for what it adds, never as line items
        if let Some(dataset) =
            super::focus_datasets::companion(&super::columns::Columns::new(&scan.schema))
        {
            companions.read(&scan, dataset)?;
            continue;
        }
        let source = super::detect(&scan, forced)?;
        opened.push((file, scan, source));
    }
    let skip = overlapping_line_items(&opened, prefer)?;
    let direct_allowed = options.direct_parquet;
    // Parquet files with a direct column mapping are aggregated together at the end, their
    // row groups in parallel; the rest one at a time through Polars.
    let mut deferred: Vec<(usize, super::NormalisedLines)> = Vec::new();
    let mut plans: Vec<super::parquet_direct::DirectPlan> = Vec::new();
    let mut i = 0;
    for (file, scan, source) in opened {
        if skip.contains(&file.path) {
            continue;
        }
        bar.set_message(format!(
            "reading {}/{n} {}",
            i + 1,
            crate::origin::shown(&file.path)
        ));
        let _span =
            tracing::info_span!("ingest", path = %crate::origin::shown(&file.path)).entered();
        let lines = super::normalise(
            &scan,
            source,
            scan.plan_frame()?,
            false,
            basis,
            options.charge_days,
        )?;
        let (format, format_version) = (lines.format.clone(), lines.format_version.clone());
        let notes = lines.notes.clone();
        tracing::info!(
            "detected {format} {format_version} from columns {}",
            lines
                .columns_used
                .iter()
                .map(|(c, s)| format!("{s}->{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let plan = match (&lines.direct, file.kind) {
            (Some(direct), FileKind::Parquet) if direct_allowed => {
                // an object read by ranges: the chunks of the mapped columns, before the reader
                super::objects::complete(&file.path, lines.needed.as_deref())?;
                super::parquet_direct::DirectPlan::new(&file.path, i, direct, basis)
                    .map_err(|why| tracing::info!("read through Polars: {why}"))
                    .ok()
            }
            _ => None,
        };
        let rows = match plan {
            Some(plan) => {
                plans.push(plan);
                deferred.push((i, lines));
                0 // counted when the deferred files are read
            }
            None => {
                let file_groups = super::aggregate(lines, basis, i, &scan, source)?;
                let rows = file_groups.iter().map(|g| g.rows).sum();
                tracing::info!(rows, groups = file_groups.len(), "aggregated");
                groups.extend(file_groups);
                rows
            }
        };
        files.push(FileRead {
            file,
            source,
            notes,
            format,
            format_version,
            rows,
            scan,
        });
        i += 1;
    }
    // Per file, the totals of its counted rows, taken before groups merge across files.
    let file_paths: Vec<std::path::PathBuf> = files.iter().map(|f| f.file.path.clone()).collect();
    let mut file_totals = file_totals(&groups, &file_paths)?;
    if !plans.is_empty() {
        bar.set_message(format!("reading {} Parquet file(s)", plans.len()));
        let read = super::parquet_direct::aggregate(&plans);
        groups.extend(read.groups);
        for ((i, lines), result) in deferred.into_iter().zip(read.files) {
            let f = &mut files[i];
            match result {
                Ok(summary) => {
                    tracing::info!(path = %crate::origin::shown(&f.file.path), rows = summary.rows, "aggregated on Parquet dictionaries");
                    f.rows = summary.rows;
                    file_totals.insert(i, summary.totals);
                }
                Err(why) => {
                    tracing::info!(path = %crate::origin::shown(&f.file.path), "read through Polars: {why}");
                    let file_groups = super::aggregate(lines, basis, i, &f.scan, f.source)?;
                    f.rows = file_groups.iter().map(|g| g.rows).sum();
                    file_totals.append(&mut self::file_totals(&file_groups, &file_paths)?);
                    groups.extend(file_groups);
                }
            }
        }
    }
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("the hashing thread panicked".into()))??;
    let by_path: std::collections::HashMap<&std::path::Path, &super::Hashes> = paths
        .iter()
        .map(|p| p.as_path())
        .zip(hashes.iter())
        .collect();
    let companion_files = companions.files.iter_mut().map(|c| &mut c.file);
    for f in files.iter_mut().map(|f| &mut f.file).chain(companion_files) {
        if let Some(h) = by_path.get(f.path.as_path()) {
            f.sha256 = h.file.clone();
            f.content_sha256 = h.content.clone();
        }
    }
    // the same export given twice (a month delivered twice, a copy in another folder, the
    // same CSV once plain and once gzipped): compared on decompressed content
    // (a dataset that is not spend may repeat: its rows replace the earlier ones)
    let spend: Vec<bool> = paths
        .iter()
        .map(|p| !companions.files.iter().any(|c| &c.file.path == p))
        .collect();
    for (i, a) in paths.iter().enumerate().filter(|(i, _)| spend[*i]) {
        if let Some(j) = (0..i).find(|&j| spend[j] && hashes[j].content == hashes[i].content) {
            return Err(Error::Ingest {
                path: a.clone(),
                message: format!(
                    "it has the same content as `{}` (sha256 of the content {}); reading both would count every line item twice",
                    crate::origin::shown(&paths[j]),
                    &hashes[i].content[..12]
                ),
                hint: Some("pass only one of the two files".into()),
            });
        }
    }
    bar.finish_and_clear();
    if files.is_empty() {
        let given: Vec<String> = companions
            .files
            .iter()
            .map(|c| {
                format!(
                    "`{}` ({})",
                    crate::origin::shown(&c.file.path),
                    c.dataset.name()
                )
            })
            .collect();
        return Err(Error::Rejected {
            message: format!(
                "no billing rows: the input holds only FOCUS datasets that are not spend ({}); nothing was written",
                given.join(", ")
            ),
            hint: Some("give the FOCUS Cost and Usage dataset too (the whole export folder)".into()),
        });
    }
    if files.iter().all(|f| f.rows == 0) {
        let empty: Vec<String> = files
            .iter()
            .map(|f| format!("`{}`", crate::origin::shown(&f.file.path)))
            .collect();
        return Err(Error::Rejected {
            message: format!(
                "no billing rows were read from {} file(s); nothing was written",
                files.len()
            ),
            hint: Some(format!(
                "check that the export is complete: {} has a header but no data rows",
                empty.join(", ")
            )),
        });
    }
    let groups = merge_across_files(groups, &file_paths)?;
    let focus: Vec<&RawScan> = files
        .iter()
        .filter(|f| f.source == SourceFormat::Focus)
        .map(|f| &f.scan)
        .collect();
    let cost_and_usage = super::focus_datasets::cost_and_usage_facts(&focus, &companions, basis)?;
    Ok(BillingRead {
        files,
        groups,
        file_totals,
        companions,
        cost_and_usage,
    })
}

/// Position of the charge period in `line::DIMENSIONS` (the last).
const CHARGE: usize = line::DIMENSION_COUNT - 1;

impl BillingRead {
    /// `--grain day`: swaps `groups` (one per dimension set and charge period) for the same
    /// groups merged over their days, exactly the groups a monthly run gives, so the month is
    /// attributed as a monthly run attributes it; returns the groups by charge day (the
    /// charge period's UTC date, `YYYY-MM-DD`, or None: hourly rows of a day are one group).
    pub fn split_off_days(&mut self) -> Result<Vec<SourceGroup>> {
        let paths: Vec<PathBuf> = self.files.iter().map(|f| f.file.path.clone()).collect();
        let mut values = super::ValueCache::default();
        let mut groups = std::mem::take(&mut self.groups);
        for g in &mut groups {
            g.dims[CHARGE] = g.dims[CHARGE].take().and_then(|raw| values.day(&raw));
        }
        let absorb = |into: &mut SourceGroup, g: &SourceGroup| {
            into.absorb(g).map_err(|detail| Error::Overflow {
                what: format!(
                    "a cost sum of `{}`",
                    paths
                        .get(g.file)
                        .map_or("?".into(), |p| crate::origin::shown(p))
                ),
                detail,
            })
        };
        // the months: a copy of the first group of each set, the others added to it
        let mut months = Vec::new();
        for set in equal_sets(&groups, true) {
            let mut m = groups[set[0]].clone();
            m.dims[CHARGE] = None;
            for &i in &set[1..] {
                absorb(&mut m, &groups[i])?;
            }
            months.push(m);
        }
        self.groups = months;
        // the days: the first group of each set itself, the others added to it
        let sets = equal_sets(&groups, false);
        let mut slots: Vec<Option<SourceGroup>> = groups.into_iter().map(Some).collect();
        let mut days = Vec::with_capacity(sets.len());
        for set in sets {
            // each index is in one set, and a set's first is taken once
            let Some(mut d) = slots[set[0]].take() else {
                continue;
            };
            for &i in &set[1..] {
                if let Some(g) = &slots[i] {
                    absorb(&mut d, g)?;
                }
            }
            days.push(d);
        }
        Ok(days)
    }
}

/// The sets of groups `merge_across_files` would merge (the charge day left out when
/// `ignore_day`), without an owned key per group: ordered by a hash of their dimensions, and
/// within one hash by equality; each set in index order.
fn equal_sets(groups: &[SourceGroup], ignore_day: bool) -> Vec<Vec<usize>> {
    let mut values = super::ValueCache::default();
    let uncounted_file: Vec<Option<usize>> = groups
        .iter()
        .map(|g| (!counted(&mut values, g)).then_some(g.file))
        .collect();
    let dims = if ignore_day { CHARGE } else { CHARGE + 1 };
    let key = |i: usize| {
        let g = &groups[i];
        (
            &g.dims[..dims],
            g.basis_status,
            g.prepaid_shape,
            uncounted_file[i],
        )
    };
    let hasher = foldhash::fast::FixedState::default();
    let mut order: Vec<(u64, usize)> = (0..groups.len())
        .map(|i| (std::hash::BuildHasher::hash_one(&hasher, key(i)), i))
        .collect();
    order.sort_unstable();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    // the sets started in the current run of equal hashes
    let mut run: Vec<usize> = Vec::new();
    for (k, &(hash, i)) in order.iter().enumerate() {
        if k == 0 || order[k - 1].0 != hash {
            run.clear();
        }
        match run.iter().find(|&&s| key(sets[s][0]) == key(i)) {
            Some(&s) => sets[s].push(i),
            None => {
                run.push(sets.len());
                sets.push(vec![i]);
            }
        }
    }
    sets
}

/// Merges groups with the same dimensions from different files, so a month delivered in 100
/// parts gives the same few groups (and the same rounding precision) as one file. Groups
/// that will be quarantined (cost missing or not a number, period or currency that does not
/// parse) keep their file, which the quarantine report names.
fn merge_across_files(
    groups: Vec<SourceGroup>,
    paths: &[std::path::PathBuf],
) -> Result<Vec<SourceGroup>> {
    type Key = (
        [Option<String>; line::DIMENSION_COUNT],
        i32,
        bool,
        Option<usize>,
    );
    let mut values = super::ValueCache::default();
    let mut merged: std::collections::HashMap<Key, SourceGroup, foldhash::fast::FixedState> =
        Default::default();
    for g in groups {
        let counted = counted(&mut values, &g);
        let key = (
            g.dims.clone(),
            g.basis_status,
            g.prepaid_shape,
            (!counted).then_some(g.file),
        );
        match merged.get_mut(&key) {
            Some(m) => m.absorb(&g).map_err(|detail| Error::Overflow {
                what: format!(
                    "a cost sum across input files (`{}` and `{}`)",
                    paths
                        .get(m.file)
                        .map_or("?".into(), |p| crate::origin::shown(p)),
                    paths
                        .get(g.file)
                        .map_or("?".into(), |p| crate::origin::shown(p))
                ),
                detail,
            })?,
            None => {
                merged.insert(key, g);
            }
        }
    }
    Ok(merged.into_values().collect())
}

/// Line-item identities of an AWS CUR file (identity/LineItemId + identity/TimeInterval, or
/// lineItem/UsageStartDate without an interval), when it has them, hashed. Read a batch at a time; rows the reader could not read are left out
/// (they are quarantined, not counted). AWS makes the identity unique within a file, so a
/// repeat is the file's own rows given twice (two downloads concatenated): an error, since
/// each repeat would be counted twice.
fn line_item_ids(scan: &RawScan) -> Result<Option<Vec<u64>>> {
    use polars::prelude::DataType;
    use std::hash::BuildHasher;
    let cols = super::columns::Columns::new(&scan.schema);
    // the interval, or its start where an export leaves the interval out (the real sample:
    // both pairs are unique, the id alone is not)
    let (Some(id), Some(interval)) = (
        cols.find(&["identity/LineItemId"]),
        cols.find(&["identity/TimeInterval", "lineItem/UsageStartDate"]),
    ) else {
        return Ok(None);
    };
    // hashed identities, sorted at the end: 8 bytes a line item, and a repeat is two
    // neighbours (a hash set takes twice the memory and more time to grow)
    let mut set: Vec<u64> = Vec::new();
    // each distinct interval parsed once (a month has a few hundred of them, not a row each);
    // a fixed hasher, so the keys of two files compare
    let hasher = foldhash::fast::FixedState::default();
    let mut digests = IntervalDigests::default();
    for frame in scan.frames(Some(&[id.clone(), interval.clone()]), false, false)? {
        let df = frame?.frame;
        let column = |n: &str| df.column(n).map_err(|e| scan.read_error(e));
        let ids = column(&id)?
            .as_materialized_series()
            .cast(&DataType::String)
            .map_err(|e| scan.read_error(e))?;
        let ids = ids.str().map_err(|e| scan.read_error(e))?;
        let intervals = digests
            .of(column(&interval)?, &hasher)
            .map_err(|e| scan.read_error(e))?;
        for (a, b) in ids.iter().zip(intervals) {
            // an empty id is no id (Parquet often stores a missing text as "")
            let a = a.map(str::trim).filter(|a| !a.is_empty());
            if let (Some(a), Some(digest)) = (a, b) {
                set.push(hasher.hash_one((a, digest)));
            }
        }
    }
    {
        use rayon::slice::ParallelSliceMut;
        set.par_sort_unstable();
    }
    let repeats = set.windows(2).filter(|w| w[0] == w[1]).count();
    if repeats > 0 {
        return Err(Error::Ingest {
            path: scan.file.path.clone(),
            message: format!(
                "{repeats} line item(s) appear twice in this file (same identity/LineItemId and usage interval): each would be counted twice"
            ),
            hint: Some("AWS writes each line item once per file: the file was probably put together from two downloads; export it again".into()),
        });
    }
    Ok(Some(set))
}

/// The digest of each distinct usage interval (`instants`, hashed), computed once: a month
/// has a few hundred intervals, not one per row. Text is looked up without a copy; timestamps
/// and dates by their number.
#[derive(Default)]
struct IntervalDigests {
    texts: std::collections::HashMap<String, u64>,
    /// (None: a number that is no instant, as the text reader gives it: no interval)
    numbers: std::collections::HashMap<i64, Option<u64>>,
}

impl IntervalDigests {
    /// The digest of each row's interval (None: null).
    fn of(
        &mut self,
        c: &polars::prelude::Column,
        hasher: &foldhash::fast::FixedState,
    ) -> polars::prelude::PolarsResult<Vec<Option<u64>>> {
        use polars::prelude::DataType;
        use std::hash::BuildHasher;
        let s = c.as_materialized_series();
        let mut by_text = |t: &str| match self.texts.get(t) {
            Some(d) => *d,
            None => {
                let d = hasher.hash_one(instants(t));
                self.texts.insert(t.to_string(), d);
                d
            }
        };
        let by_number = |numbers: &mut std::collections::HashMap<i64, Option<u64>>,
                         v: i64,
                         text: &dyn Fn(i64) -> Option<String>| {
            *numbers
                .entry(v)
                .or_insert_with(|| text(v).map(|t| hasher.hash_one(instants(&t))))
        };
        Ok(match s.dtype() {
            DataType::Datetime(unit, _) => {
                let unit = *unit;
                let phys = s.to_physical_repr();
                let text = |v: i64| super::datetime_text(v, unit);
                phys.i64()?
                    .iter()
                    .map(|v| v.and_then(|v| by_number(&mut self.numbers, v, &text)))
                    .collect()
            }
            DataType::Date => {
                let phys = s.to_physical_repr();
                let text = |v: i64| i32::try_from(v).ok().and_then(super::date_text);
                phys.i32()?
                    .iter()
                    .map(|v| v.and_then(|v| by_number(&mut self.numbers, i64::from(v), &text)))
                    .collect()
            }
            _ => {
                let t = s.cast(&DataType::String)?;
                t.str()?.iter().map(|v| v.map(&mut by_text)).collect()
            }
        })
    }
}

/// An interval (`start/end`) or a timestamp as the UTC instants it names, so that a CSV's
/// `2026-10-05T00:00:00.000Z` and a Parquet timestamp's `2026-10-05 00:00:00` are one key;
/// text that is not a timestamp is kept as it is.
fn instants(text: &str) -> Vec<Result<chrono::NaiveDateTime, &str>> {
    text.split('/')
        .map(|part| super::values::utc_timestamp(part).ok_or(part.trim()))
        .collect()
}

/// The billing input `--prefer` names, however it is spelled (`./a.csv`, an absolute path, a
/// link to it); an error when it names none of them.
fn preferred_input(prefer: &Path, inputs: &[PathBuf]) -> Result<PathBuf> {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let want = canonical(prefer).ok_or_else(|| Error::Io {
        path: prefer.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "the `--prefer` file"),
    })?;
    inputs
        .iter()
        .find(|p| canonical(p).as_ref() == Some(&want))
        .cloned()
        .ok_or_else(|| Error::Usage {
            message: format!(
                "`--prefer {}` is not one of the billing inputs",
                crate::origin::shown(prefer)
            ),
            hint: Some("name one of the files `--billing` reads".into()),
        })
}

/// Refuses two CUR exports that repeat the same line items, unless `prefer` names the one that
/// wins; returns the files to skip.
fn overlapping_line_items(
    opened: &[(InputFile, RawScan, SourceFormat)],
    prefer: Option<&std::path::Path>,
) -> Result<Vec<std::path::PathBuf>> {
    let cur: Vec<&(InputFile, RawScan, SourceFormat)> = opened
        .iter()
        .filter(|o| o.2 == SourceFormat::AwsCur)
        .collect();
    if cur.is_empty() {
        return Ok(Vec::new());
    }
    let mut sets = Vec::new();
    for (file, scan, _) in &cur {
        if let Some(ids) = line_item_ids(scan)? {
            sets.push((file.path.clone(), ids));
        }
    }
    let mut skip = Vec::new();
    for i in 0..sets.len() {
        for j in 0..i {
            let (a, b) = (&sets[j], &sets[i]);
            if skip.contains(&a.0) || skip.contains(&b.0) {
                continue;
            }
            let common = shared(&a.1, &b.1);
            if common == 0 {
                continue;
            }
            match prefer {
                Some(p) if p == a.0 || p == b.0 => {
                    let (winner, loser) = if p == a.0 { (a, b) } else { (b, a) };
                    // skipping the loser whole must not drop what only it has
                    let only = loser.1.len() - shared(&winner.1, &loser.1);
                    if only > 0 {
                        return Err(Error::Ingest {
                            path: loser.0.clone(),
                            message: format!(
                                "it has {only} line item(s) `{}` lacks, besides the {common} they share: `--prefer` would skip them with the rest of the file",
                                crate::origin::shown(&winner.0)
                            ),
                            hint: Some("these are not one month delivered twice: give mlcost the files of one delivery only (the newest), or remove the shared line items from one of them".into()),
                        });
                    }
                    let loser = loser.0.clone();
                    tracing::warn!("`{}` repeats {common} line items of `{}`: skipped (--prefer)", crate::origin::shown(&loser), crate::origin::shown(p));
                    skip.push(loser);
                }
                _ => {
                    return Err(Error::Ingest {
                        path: b.0.clone(),
                        message: format!(
                            "it repeats {common} line items of `{}` (same identity/LineItemId and usage interval): the same month delivered twice?",
                            crate::origin::shown(&a.0)
                        ),
                        hint: Some(format!("say which file wins with `--prefer {}` (or the other one)", crate::origin::shown(&b.0))),
                    })
                }
            }
        }
    }
    Ok(skip)
}

/// How many of the sorted, distinct `b` are in the sorted, distinct `a`.
fn shared(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut count) = (0, 0);
    for h in b {
        while i < a.len() && a[i] < *h {
            i += 1;
        }
        if a.get(i) == Some(h) {
            count += 1;
        }
    }
    count
}

/// Whether a group is counted (`is_counted`), its texts parsed through `values`.
fn counted(values: &mut super::ValueCache, g: &SourceGroup) -> bool {
    let period = g
        .dim(line::BILLING_PERIOD_START)
        .and_then(|p| values.period(p));
    let currency = g
        .dim(line::BILLING_CURRENCY)
        .and_then(|c| values.currency(c));
    super::is_counted(g.basis_status, period.is_some(), currency.is_some())
}

/// Per input file, per currency, per basis name: the sum of the counted rows.
pub type FileTotals = BTreeMap<usize, BTreeMap<String, BTreeMap<&'static str, Money>>>;

/// Totals of every basis per input file and currency, over the rows that were counted
/// (quarantined rows left out): the provider's own cost columns, for reconciliation.
pub fn file_totals(groups: &[SourceGroup], paths: &[std::path::PathBuf]) -> Result<FileTotals> {
    let mut out = FileTotals::new();
    let mut values = super::ValueCache::default();
    for g in groups {
        if !counted(&mut values, g) {
            continue;
        }
        let Some(currency) = g
            .dim(line::BILLING_CURRENCY)
            .and_then(|c| values.currency(c))
        else {
            continue;
        };
        let per = out
            .entry(g.file)
            .or_default()
            .entry(currency.clone())
            .or_default();
        for b in CostBasis::ALL {
            if let Some(c) = g.cost(b) {
                crate::money::accumulate(per.entry(b.name()).or_default(), c, || {
                    let file = paths
                        .get(g.file)
                        .map_or("?".into(), |p| crate::origin::shown(p));
                    format!("the {} total of `{file}` in {currency}", b.name())
                })?;
            }
        }
    }
    Ok(out)
}
