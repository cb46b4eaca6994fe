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

    /// An object in a bucket could not be listed or fetched (`ingest::objects`).
    #[error("cannot read `{uri}`: {message}")]
    Remote {
        uri: String,
        message: String,
        hint: Option<String>,
    },

    /// An input file could not be opened or read at all.
    #[error("cannot read `{}`", crate::origin::shown(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An input file is readable but is not what we expected (format, header, encoding).
    #[error("cannot ingest `{}`: {message}", crate::origin::shown(path))]
    Ingest {
        path: PathBuf,
        message: String,
        hint: Option<String>,
    },

    /// Polars failed while reading a file.
    #[error("cannot read `{}`", crate::origin::shown(path))]
    Read {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },

    /// An input file does not have the columns its format needs.
    #[error("`{}` is not readable as {format}: missing column(s) {}", crate::origin::shown(path), .missing.join(", "))]
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

    /// A file mlcost reads or writes under the output directory (the lock, the journal, a
    /// manifest, a table part) is a symbolic link, a FIFO or another non-regular file: it is
    /// never followed or opened (a FIFO would block the run, a link would redirect it).
    #[error("`{path}` is {kind}, not a regular file")]
    NotRegular {
        path: PathBuf,
        kind: &'static str,
        hint: String,
    },

    /// A reader found the journal of a commit that is not finished: the tables may mix two
    /// runs, so nothing is read.
    #[error("`{path}` is half-published: a run was interrupted while publishing (or is publishing right now), so its tables may mix two runs")]
    HalfPublished { path: PathBuf },

    /// A partition's `_manifest.json` that cannot be read or parsed: it holds the month's
    /// restatement history, which must not be dropped silently.
    #[error("the partition manifest `{path}` cannot be read: {message}")]
    PartitionManifest { path: PathBuf, message: String },

    /// A file whose reader panicked (a corrupted Parquet file that Polars does not check).
    #[error("`{}` is corrupted: {detail}", crate::origin::shown(path))]
    Corrupt {
        path: PathBuf,
        detail: String,
        hint: String,
    },

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
            | Error::Remote { hint, .. }
            | Error::Rejected { hint, .. } => hint.clone(),
            Error::NotRegular { hint, .. } | Error::Corrupt { hint, .. } => Some(hint.clone()),
            Error::HalfPublished { path } => Some(format!(
                "run `mlcost attribute --out {}` again: it completes the interrupted commit before anything else (so does `mlcost hidden`); if a run is publishing right now, wait for it to finish",
                path.display()
            )),
            Error::PartitionManifest { .. } => Some(
                "it holds the month's restatement history: restore it from a backup, or delete it to start that history again (the next run writes a new one)".into(),
            ),
            Error::NoInput { .. } => Some(
                "pass a file, a directory or a quoted glob such as `'exports/*.parquet'`".into(),
            ),
            Error::MissingColumns { format, .. } if format == "request volumes" => Some(
                "request volumes need `model_id`, `requests` (or a column per unit such as `tokens`, or `unit` and `quantity`), and `date` (YYYY-MM-DD) or `billing_period` (YYYY-MM) columns".into(),
            ),
            Error::MissingColumns { .. } => Some(
                "mlcost reads FOCUS 1.0-1.4, AWS CUR 1 and 2, Azure cost details, GCP BigQuery exports, OCI cost reports and Cost Explorer data; the format named is the closest match (`--format` forces one)".into(),
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

/// Runs `f`, turning a panic into `Err` with the panic's message (its first line). Meant for
/// third-party readers that assert on the bytes they read (Polars' Parquet reader panics on
/// some corrupted files instead of returning an error): the panic is not printed, since it
/// becomes an error the caller reports. A panic on another thread while `f` runs (Polars reads
/// on its own pool) is not printed either; it reaches `f`'s caller through the pool.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    quiet_panics::install();
    let _quiet = quiet_panics::Quiet::enter();
    // Unwind safety: the caller drops whatever `f` touched when it gets `Err` (a reader and
    // its buffers), so no broken invariant is observed afterwards.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let first = text.lines().next().unwrap_or_default();
        let mut short: String = first.chars().take(200).collect();
        if short.len() < first.len() {
            short.push('…');
        }
        short
    })
}

/// `catch_panic` around a reader of `path`: a panic is `Error::Corrupt` naming the file, with
/// `hint`.
pub fn guard_read<T>(
    path: &std::path::Path,
    hint: &str,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    catch_panic(f).unwrap_or_else(|message| {
        Err(Error::Corrupt {
            path: path.to_path_buf(),
            detail: format!("its reader stopped on a broken invariant ({message})"),
            hint: hint.to_string(),
        })
    })
}

/// A panic hook that stays silent while a `catch_panic` is running and otherwise does what the
/// hook before it did.
mod quiet_panics {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static QUIET: AtomicUsize = AtomicUsize::new(0);

    pub fn install() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if QUIET.load(Ordering::SeqCst) == 0 {
                    previous(info);
                }
            }));
        });
    }

    /// Silences the hook while alive.
    pub struct Quiet;

    impl Quiet {
        pub fn enter() -> Quiet {
            QUIET.fetch_add(1, Ordering::SeqCst);
            Quiet
        }
    }

    impl Drop for Quiet {
        fn drop(&mut self) {
            QUIET.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_reader_is_an_error_naming_the_file() {
        let path = std::path::Path::new("dir/part-0.parquet");
        let e = guard_read(path, "write it again", || -> Result<()> {
            panic!("assertion `left == right` failed\n  left: 0\n right: 61")
        })
        .unwrap_err();
        match &e {
            Error::Corrupt {
                path: p,
                detail,
                hint,
            } => {
                assert_eq!(p, path);
                assert!(
                    detail.contains("assertion `left == right` failed"),
                    "{detail}"
                );
                assert!(!detail.contains("right: 61"), "one line: {detail}");
                assert_eq!(hint, "write it again");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e.status(), ExitStatus::Failed);
        // a panic on a pool thread reaches the caller the same way
        let e = guard_read(path, "h", || -> Result<()> {
            rayon::scope(|s| s.spawn(|_| panic!("in the pool")));
            Ok(())
        })
        .unwrap_err();
        assert!(e.to_string().contains("is corrupted"), "{e}");
        // errors and values pass through
        assert_eq!(guard_read(path, "h", || Ok(7)).unwrap(), 7);
        assert!(matches!(
            guard_read(path, "h", || -> Result<()> {
                Err(Error::Internal("x".into()))
            }),
            Err(Error::Internal(_))
        ));
    }
}
