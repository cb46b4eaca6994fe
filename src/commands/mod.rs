//! One file per subcommand. Commands wire the stages together and own no logic of their own;
//! this module holds the wiring they share (reading billing files with progress).

pub mod attribute;
pub mod economics;
pub mod estimate;
pub mod explain;
pub mod frontier;
pub mod hidden;
pub mod init;
pub mod report;
pub mod sample;
pub mod tags;
pub mod trend;
pub mod validate;

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{BillingInput, Format};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::ingest::{self, InputFile, RawScan, SourceFormat, SourceGroup};

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
    pub groups: Vec<SourceGroup>,
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

/// Resolves, opens, normalises and aggregates every billing input.
pub fn read_billing(
    input: &BillingInput,
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
    let paths = ingest::resolve_paths(&input.billing)?;
    let bar = verbosity.progress();
    let mut files = Vec::with_capacity(paths.len());
    let mut groups = Vec::new();
    let n = paths.len();
    // Hash and sniff files in parallel (independent I/O); Polars parallelises each scan itself.
    let inspected: Vec<Result<InputFile>> = {
        use rayon::prelude::*;
        paths.par_iter().map(|p| ingest::inspect(p)).collect()
    };
    let inspected: Vec<InputFile> = inspected.into_iter().collect::<Result<_>>()?;
    // the same export given twice (a month delivered twice, a copy in another folder)
    for (i, a) in inspected.iter().enumerate() {
        if let Some(b) = inspected[..i].iter().find(|b| b.sha256 == a.sha256) {
            return Err(Error::Ingest {
                path: a.path.clone(),
                message: format!(
                    "it has the same content as `{}` (sha256 {}); reading both would count every line item twice",
                    b.path.display(),
                    &a.sha256[..12]
                ),
                hint: Some("pass only one of the two files".into()),
            });
        }
    }
    for (i, file) in inspected.into_iter().enumerate() {
        bar.set_message(format!("reading {}/{n} {}", i + 1, file.path.display()));
        let _span = tracing::info_span!("ingest", path = %file.path.display()).entered();
        let scan = RawScan::open(file.clone())?;
        let source = ingest::detect(&scan, forced)?;
        let lines = ingest::normalise(&scan, source, scan.lazy(false)?, false, basis)?;
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
        let file_groups = ingest::aggregate(lines, basis, i, &scan)?;
        let rows = file_groups.iter().map(|g| g.rows).sum();
        tracing::info!(rows, groups = file_groups.len(), "aggregated");
        groups.extend(file_groups);
        files.push(FileRead {
            file,
            source,
            notes,
            format,
            format_version,
            rows,
            scan,
        });
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
    Ok(BillingRead { files, groups })
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
