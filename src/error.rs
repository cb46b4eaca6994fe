//! The one error type of the library. Every variant names the stage and carries enough
//! context (file, row, column) to tell the user what to fix; `status` maps it to the
//! contract of the README ("Exit codes": 1 = data rejected, 2 = could not run).

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a command ended, as the README's exit code contract says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    #[default]
    Success,
    /// 1: the run finished but the data was rejected (nothing published).
    Rejected,
    /// 2: the tool could not run (usage, config, I/O, internal).
    Failed,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Rejected => 1,
            ExitStatus::Failed => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line usage that clap could not catch (e.g. a malformed `--period`).
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    /// The config file could not be read or parsed.
    #[error("invalid config `{path}`: {message}")]
    Config {
        path: PathBuf,
        message: String,
        hint: Option<String>,
    },

    /// An input path matched no file.
    #[error("no input files found for `{pattern}`")]
    NoInput { pattern: String },

    /// An input file could not be opened or read at all.
    #[error("cannot read `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An input file is readable but is not what we expected (format, header, encoding).
    #[error("cannot ingest `{path}`: {message}")]
    Ingest {
        path: PathBuf,
        message: String,
        hint: Option<String>,
    },

    /// Polars failed while reading a file.
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },

    /// An input file does not have the columns its format needs.
    #[error("`{path}` is not readable as {format}: missing column(s) {}", .missing.join(", "))]
    MissingColumns {
        path: PathBuf,
        format: String,
        missing: Vec<String>,
    },

    /// Writing an output failed.
    #[error("cannot write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Polars failed while writing an output file.
    #[error("cannot write `{path}`")]
    WriteParquet {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },

    /// Another run holds the lock of the output directory.
    #[error("`{path}` is being written by another mlcost run ({holder}){}", waited_text(.waited))]
    Locked {
        path: PathBuf,
        holder: String,
        waited: Option<std::time::Duration>,
    },

    /// The commit journal of an interrupted run names something it must not: it is left for a
    /// person to look at and nothing is moved.
    #[error("the commit journal `{path}` cannot be trusted: {message}")]
    Journal { path: PathBuf, message: String },

    /// Something under `--out` that a commit would write through or over is not what mlcost
    /// writes there (a symbolic link, a directory where a file goes): nothing was replaced.
    #[error("`{path}` is in the way of the outputs: {what}")]
    OutputInTheWay { path: PathBuf, what: String },

    /// A sum or product left the range of decimal(38,18) or of a 64-bit count.
    #[error("{what} is too large: {detail}")]
    Overflow { what: String, detail: String },

    /// The written outputs do not add up to what was read. The run is rejected (exit 1).
    #[error("reconciliation failed: {0}")]
    Reconciliation(String),

    /// The data was read but rejected (exit 1): no rows, or a check the user asked for.
    #[error("{message}")]
    Rejected {
        message: String,
        hint: Option<String>,
    },

    /// A Polars error in an internal step that has no file of its own.
    #[error("internal data-frame error while {context}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },

    /// A bug: a state the code believed impossible.
    #[error("internal error: {0}")]
    Internal(String),
}

fn waited_text(waited: &Option<std::time::Duration>) -> String {
    waited.map_or(String::new(), |w| format!("; waited {} s", w.as_secs()))
}

impl Error {
    /// How a command that fails with this error ends: rejected (1) when the data was
    /// rejected, failed (2) when the tool could not run.
    pub fn status(&self) -> ExitStatus {
        match self {
            Error::Reconciliation(_) | Error::Rejected { .. } => ExitStatus::Rejected,
            _ => ExitStatus::Failed,
        }
    }

    /// The error and its sources on one line (`message: cause: cause`), for the manifest
    /// and JSON.
    pub fn chain(&self) -> String {
        let mut o = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            o.push_str(&format!(": {s}"));
            source = s.source();
        }
        o
    }

    /// A one-line suggestion for the user, where there is an obvious fix.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. }
            | Error::Config { hint, .. }
            | Error::Ingest { hint, .. }
            | Error::Rejected { hint, .. } => hint.clone(),
            Error::NoInput { .. } => Some(
                "pass a file, a directory or a quoted glob such as `'exports/*.parquet'`".into(),
            ),
            Error::MissingColumns { format, .. } if format == "request volumes" => Some(
                "request volumes need `model_id`, `requests`, and `date` (YYYY-MM-DD) or `billing_period` (YYYY-MM) columns".into(),
            ),
            Error::MissingColumns { .. } => Some(
                "mlcost reads FOCUS 1.0-1.3, AWS CUR 1 and 2, Azure cost details, GCP BigQuery exports, OCI cost reports and Cost Explorer data; the format named is the closest match (`--format` forces one)".into(),
            ),
            Error::Io { .. } => Some("check the path exists and is readable".into()),
            Error::Locked { waited: None, .. } => Some(
                "wait for it to finish, or pass `--wait SECONDS` to queue behind it (the lock is released when that run ends, however it ends)".into(),
            ),
            Error::Locked { waited: Some(_), .. } => Some(
                "that run is still going; wait longer with a larger `--wait`".into(),
            ),
            Error::Journal { .. } => Some(
                "no mlcost run writes such an entry: find out who did, then remove the journal; the published outputs were not touched".into(),
            ),
            Error::OutputInTheWay { .. } => Some(
                "mlcost writes only real directories and regular files under --out and never follows a symbolic link there; move it away and run again".into(),
            ),
            Error::Overflow { .. } => Some(
                "amounts are exact decimal(38,18) (up to 10^20 per value and per total) and counts 64-bit; check the input for a corrupted value".into(),
            ),
            Error::Write { .. } | Error::WriteParquet { .. } => {
                Some("check the output directory is writable and the disk is not full".into())
            }
            Error::Internal(_) => {
                Some("this is a bug in mlcost; please report it with the command you ran".into())
            }
            _ => None,
        }
    }

    /// Helper for polars errors in steps without a file.
    pub fn polars(context: impl Into<String>) -> impl FnOnce(polars::error::PolarsError) -> Error {
        let context = context.into();
        move |source| Error::Polars { context, source }
    }
}
