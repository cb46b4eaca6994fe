//! What every command gets besides its arguments: how much to say on stderr, how inputs are
//! read, and the test hooks. The environment is read here, once (`USER`, `MLCOST_NO_PROGRESS`,
//! `MLCOST_PARQUET_READER`, `MLCOST_PARQUET_SLICE_ROWS`, `MLCOST_CSV_BATCH_ROWS`, and with the
//! `test-hooks` feature `MLCOST_TEST_*`); nothing below the commands reads it. (The binary's
//! `main` reads the logging variables, `RUST_LOG`, `NO_COLOR` and `CLICOLOR_FORCE`, before a
//! command runs.)

use std::io::IsTerminal;

use crate::ingest::ReadOptions;
use crate::output::TestHooks;

/// How much the user wants to hear on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbosity {
    pub quiet: bool,
    pub verbose: u8,
}

#[derive(Debug, Clone, Default)]
pub struct Context {
    pub verbosity: Verbosity,
    pub read: ReadOptions,
    pub hooks: TestHooks,
    /// `$USER`: the default `created_by` of `mlcost tags`.
    pub user: Option<String>,
}

impl Context {
    /// The context of one command line: verbosity from `-q`/`-v`, the rest from the
    /// environment.
    pub fn from_env(quiet: bool, verbose: u8) -> Context {
        let var = |k: &str| std::env::var(k).ok();
        let positive = |k: &str| {
            var(k)
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|v| *v > 0)
        };
        let defaults = ReadOptions::default();
        // Progress only for a person watching: stderr a terminal, neither -q nor -v.
        let progress = !quiet
            && verbose == 0
            && std::io::stderr().is_terminal()
            && std::env::var_os("MLCOST_NO_PROGRESS").is_none();
        Context {
            verbosity: Verbosity { quiet, verbose },
            read: ReadOptions {
                progress,
                direct_parquet: var("MLCOST_PARQUET_READER").as_deref() != Some("polars"),
                parquet_slice_rows: positive("MLCOST_PARQUET_SLICE_ROWS")
                    .or(defaults.parquet_slice_rows),
                csv_batch_rows: positive("MLCOST_CSV_BATCH_ROWS")
                    .unwrap_or(defaults.csv_batch_rows),
                // set by `attribute --grain day`
                charge_days: false,
            },
            hooks: test_hooks(),
            user: var("USER").filter(|u| !u.is_empty()),
        }
    }

    /// `text` for stderr, unless `-q` asked for errors only.
    pub fn say(&self, text: String) -> String {
        if self.verbosity.quiet {
            String::new()
        } else {
            text
        }
    }
}

/// The test hooks asked for by the environment (only with the `test-hooks` feature).
#[cfg(feature = "test-hooks")]
fn test_hooks() -> TestHooks {
    TestHooks {
        pause_at: std::env::var("MLCOST_TEST_PAUSE_AT").ok().map(|p| {
            let file = std::env::var_os("MLCOST_TEST_PAUSE_FILE").map(std::path::PathBuf::from);
            (p, file)
        }),
        corrupt_output: std::env::var_os("MLCOST_TEST_CORRUPT_OUTPUT")
            .map(|v| v.to_string_lossy().into_owned()),
    }
}

#[cfg(not(feature = "test-hooks"))]
fn test_hooks() -> TestHooks {
    TestHooks::default()
}
