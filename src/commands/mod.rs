//! One file per subcommand. Commands wire the stages together and own no logic of their own;
//! this module holds the wiring they share (reading billing files with progress).

pub mod attribute;
pub mod ddl;
pub mod economics;
pub mod estimate;
pub mod explain;
pub mod frontier;
pub mod hidden;
pub mod init;
pub mod report;
pub mod sample;
pub mod sql;
pub mod tags;
pub mod trend;
pub mod validate;

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{BillingInput, Format};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::ingest::{self, FileKind, InputFile, RawScan, SourceFormat, SourceGroup};
use crate::ledger;

/// How much the user wants to hear on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: u8,
}

impl Verbosity {
    /// Progress bars only for a person watching: stderr is a terminal, neither -q nor -v,
    /// and `MLCOST_NO_PROGRESS` is unset.
    fn progress(&self) -> indicatif::ProgressBar {
        let show = !self.quiet
            && self.verbose == 0
            && std::io::stderr().is_terminal()
            && std::env::var_os("MLCOST_NO_PROGRESS").is_none();
        if !show {
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
    scan: RawScan,
}

pub struct BillingRead {
    pub files: Vec<FileRead>,
    /// Groups of all files, merged across files where they are counted (see
    /// `merge_across_files`).
    pub groups: Vec<SourceGroup>,
    /// Totals of every basis per input file and currency, taken before the merge.
    pub file_totals: ledger::FileTotals,
}

impl BillingRead {
    /// Lists the quarantined rows of the files the ledger flagged (second pass, bad files only).
    pub fn quarantine_details(
        &self,
        ledger: &crate::ledger::Ledger,
        basis: CostBasis,
        period_filter: Option<&str>,
    ) -> Result<Vec<ingest::QuarantinedRow>> {
        let mut out = Vec::new();
        let empty = Vec::new();
        for (i, f) in self.files.iter().enumerate() {
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
}

/// Opens, normalises and aggregates every billing input (`paths`, from
/// `ingest::resolve_paths`).
pub fn read_billing(
    input: &BillingInput,
    paths: Vec<std::path::PathBuf>,
    basis: CostBasis,
    verbosity: Verbosity,
) -> Result<BillingRead> {
    let forced = match input.format {
        Format::Auto => None,
        Format::Focus => Some(SourceFormat::Focus),
        Format::AwsCur | Format::AwsCur2 => Some(SourceFormat::AwsCur),
        Format::Azure => Some(SourceFormat::Azure),
        Format::Gcp => Some(SourceFormat::Gcp),
        Format::Oci => Some(SourceFormat::Oci),
        Format::CostExplorer => Some(SourceFormat::CostExplorer),
    };
    let bar = verbosity.progress();
    let mut files = Vec::with_capacity(paths.len());
    let mut groups = Vec::new();
    let n = paths.len();
    let inspected: Vec<InputFile> = paths
        .iter()
        .map(|p| ingest::sniff(p))
        .collect::<Result<_>>()?;
    // Hash the inputs on a thread of their own while Polars reads them: hashing is one more
    // pass over every byte, and the scans leave part of the CPU idle. Each file gets the
    // hash of its bytes (for the manifest) and of its content (decompressed), which decides
    // whether two inputs are the same export.
    let hashing = {
        let paths = paths.clone();
        std::thread::spawn(move || -> Result<Vec<ingest::Hashes>> {
            use rayon::prelude::*;
            paths.par_iter().map(|p| ingest::hash_content(p)).collect()
        })
    };
    let mut opened = Vec::with_capacity(inspected.len());
    for file in inspected {
        let scan = RawScan::open(file.clone())?;
        let source = ingest::detect(&scan, forced)?;
        opened.push((file, scan, source));
    }
    let skip = overlapping_line_items(&opened, input.prefer.as_deref())?;
    let direct_allowed = std::env::var("MLCOST_PARQUET_READER").as_deref() != Ok("polars");
    // Parquet files with a direct column mapping are aggregated together at the end, their
    // row groups in parallel; the rest one at a time through Polars.
    let mut deferred: Vec<(usize, ingest::NormalisedLines)> = Vec::new();
    let mut plans: Vec<ingest::parquet_direct::DirectPlan> = Vec::new();
    let mut i = 0;
    for (file, scan, source) in opened {
        if skip.contains(&file.path) {
            continue;
        }
        bar.set_message(format!("reading {}/{n} {}", i + 1, file.path.display()));
        let _span = tracing::info_span!("ingest", path = %file.path.display()).entered();
        let lines = ingest::normalise(&scan, source, scan.plan_frame()?, false, basis)?;
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
                ingest::parquet_direct::DirectPlan::new(&file.path, i, direct, basis)
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
                let file_groups = ingest::aggregate(lines, basis, i, &scan, source)?;
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
    let mut file_totals = ledger::file_totals(&groups, &file_paths)?;
    if !plans.is_empty() {
        bar.set_message(format!("reading {} Parquet file(s)", plans.len()));
        let read = ingest::parquet_direct::aggregate(&plans);
        groups.extend(read.groups);
        for ((i, lines), result) in deferred.into_iter().zip(read.files) {
            let f = &mut files[i];
            match result {
                Ok(summary) => {
                    tracing::info!(path = %f.file.path.display(), rows = summary.rows, "aggregated on Parquet dictionaries");
                    f.rows = summary.rows;
                    file_totals.insert(i, summary.totals);
                }
                Err(why) => {
                    tracing::info!(path = %f.file.path.display(), "read through Polars: {why}");
                    let file_groups = ingest::aggregate(lines, basis, i, &f.scan, f.source)?;
                    f.rows = file_groups.iter().map(|g| g.rows).sum();
                    file_totals.append(&mut ledger::file_totals(&file_groups, &file_paths)?);
                    groups.extend(file_groups);
                }
            }
        }
    }
    let hashes = hashing
        .join()
        .map_err(|_| Error::Internal("the hashing thread panicked".into()))??;
    let by_path: std::collections::HashMap<&std::path::Path, &ingest::Hashes> = paths
        .iter()
        .map(|p| p.as_path())
        .zip(hashes.iter())
        .collect();
    for f in files.iter_mut() {
        if let Some(h) = by_path.get(f.file.path.as_path()) {
            f.file.sha256 = h.file.clone();
            f.file.content_sha256 = h.content.clone();
        }
    }
    // the same export given twice (a month delivered twice, a copy in another folder, the
    // same CSV once plain and once gzipped): compared on decompressed content
    for (i, a) in paths.iter().enumerate() {
        if let Some(j) = hashes[..i]
            .iter()
            .position(|h| h.content == hashes[i].content)
        {
            return Err(Error::Ingest {
                path: a.clone(),
                message: format!(
                    "it has the same content as `{}` (sha256 of the content {}); reading both would count every line item twice",
                    paths[j].display(),
                    &hashes[i].content[..12]
                ),
                hint: Some("pass only one of the two files".into()),
            });
        }
    }
    bar.finish_and_clear();
    if files.iter().all(|f| f.rows == 0) {
        let empty: Vec<String> = files
            .iter()
            .map(|f| format!("`{}`", f.file.path.display()))
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
    Ok(BillingRead {
        files,
        groups,
        file_totals,
    })
}

/// Merges groups with the same dimensions from different files, so a month delivered in 100
/// parts gives the same few groups (and the same rounding precision) as one file. Groups
/// that will be quarantined (cost missing or not a number, period or currency that does not
/// parse) keep their file, which the quarantine report names.
fn merge_across_files(
    groups: Vec<SourceGroup>,
    paths: &[std::path::PathBuf],
) -> Result<Vec<SourceGroup>> {
    use crate::schema::line;
    type Key = ([Option<String>; 15], i32, bool, Option<usize>);
    let mut parses: std::collections::HashMap<(usize, String), bool> = Default::default();
    let mut ok = |d: usize, v: Option<&str>| -> bool {
        let Some(v) = v else { return false };
        *parses.entry((d, v.to_string())).or_insert_with(|| match d {
            0 => ledger::billing_period(v).is_some(),
            _ => ledger::currency_code(v).is_some(),
        })
    };
    let mut merged: std::collections::HashMap<Key, SourceGroup> = Default::default();
    for g in groups {
        let counted = g.basis_status == 0
            && ok(0, g.dim(line::BILLING_PERIOD_START))
            && ok(1, g.dim(line::BILLING_CURRENCY));
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
                        .map_or("?".into(), |p| p.display().to_string()),
                    paths
                        .get(g.file)
                        .map_or("?".into(), |p| p.display().to_string())
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

/// Line-item identities of an AWS CUR file (identity/LineItemId + identity/TimeInterval), when
/// it has them, hashed. Read a batch at a time; rows the reader could not read are left out
/// (they are quarantined, not counted).
fn line_item_ids(scan: &RawScan) -> Result<Option<std::collections::HashSet<u64>>> {
    use std::hash::{Hash, Hasher};
    let cols = ingest::columns::Columns::new(&scan.schema);
    let (Some(id), Some(interval)) = (
        cols.find(&["identity/LineItemId"]),
        cols.find(&["identity/TimeInterval"]),
    ) else {
        return Ok(None);
    };
    let mut set = std::collections::HashSet::new();
    for frame in scan.frames(Some(&[id.clone(), interval.clone()]), false, false)? {
        let df = frame?.frame;
        let get = |n: &str| {
            df.column(n)
                .and_then(ingest::text_values)
                .map_err(|e| scan.read_error(e))
        };
        let (ids, intervals) = (get(&id)?, get(&interval)?);
        for (a, b) in ids.iter().zip(&intervals) {
            if let (Some(a), Some(b)) = (a, b) {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (a, b).hash(&mut h);
                set.insert(h.finish());
            }
        }
    }
    Ok(Some(set))
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
    if cur.len() < 2 {
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
            let common = b.1.iter().filter(|h| a.1.contains(h)).count();
            if common == 0 {
                continue;
            }
            match prefer {
                Some(p) if p == a.0 || p == b.0 => {
                    let loser = if p == a.0 { b.0.clone() } else { a.0.clone() };
                    tracing::warn!("`{}` repeats {common} line items of `{}`: skipped (--prefer)", loser.display(), p.display());
                    skip.push(loser);
                }
                _ => {
                    return Err(Error::Ingest {
                        path: b.0.clone(),
                        message: format!(
                            "it repeats {common} line items of `{}` (same identity/LineItemId and TimeInterval): the same month delivered twice?",
                            a.0.display()
                        ),
                        hint: Some(format!("say which file wins with `--prefer {}` (or the other one)", b.0.display())),
                    })
                }
            }
        }
    }
    Ok(skip)
}

/// Checks a `--period` value.
pub fn parse_period(p: &str) -> Result<String> {
    let ok = p.len() == 7
        && p.as_bytes()[4] == b'-'
        && crate::ledger::billing_period(p).as_deref() == Some(p);
    if ok {
        Ok(p.to_string())
    } else {
        Err(Error::Usage {
            message: format!("invalid `--period` value `{p}`"),
            hint: Some("use a billing month such as `2026-10`".into()),
        })
    }
}
