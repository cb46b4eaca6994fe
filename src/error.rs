//! The one error type of the library. Every variant names the stage and carries enough
//! context (file, row, column) to tell the user what to fix; `exit_code` maps it to the
//! contract of DESIGN.md section 2 (1 = data rejected, 2 = could not run).

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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

    /// arrow-rs failed while writing a Parquet file (`mlcost sample` shapes).
    #[error("cannot write `{path}`")]
    WriteArrowParquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Another run holds the lock of the output directory.
    #[error("`{path}` is being written by another mlcost run ({holder})")]
    Locked { path: PathBuf, holder: String },

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

impl Error {
    /// Exit code for this error: 1 when the data was rejected, 2 when the tool could not run.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Reconciliation(_) | Error::Rejected { .. } => 1,
            _ => 2,
        }
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
            Error::Locked { path, .. } => Some(format!(
                "wait for it to finish; if no mlcost is running, remove `{}`",
                path.join(".mlcost.lock").display()
            )),
            Error::Write { .. } | Error::WriteParquet { .. } | Error::WriteArrowParquet { .. } => {
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
