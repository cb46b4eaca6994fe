#![doc = include_str!("../README.md")]

pub mod allocate;
pub mod amortize;
pub mod cli;
pub mod commands;
pub mod compliance;
pub mod config;
pub mod ddl;
pub mod economics;
pub mod error;
pub mod escape;
pub mod estimate;
pub mod ingest;
pub mod ledger;
pub mod money;
pub mod output;
pub mod report;
pub mod report_page;
pub mod rules;
pub mod sample;
pub mod schema;
pub mod sql;
pub mod tags;
pub mod trend;

use cli::{Cli, Command};
use commands::Verbosity;

/// What the binary prints and how it exits, once a command has run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Data the user asked for (reports, JSON).
    pub stdout: String,
    /// Summary and warnings for a person or a log.
    pub stderr: String,
    pub exit_code: i32,
}

/// Runs one parsed command line. Errors are returned, never printed here.
pub fn run(cli: &Cli) -> error::Result<Outcome> {
    let verbosity = Verbosity {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let say = |text: String| if cli.quiet { String::new() } else { text };
    match &cli.command {
        Command::Attribute(args) => {
            let out = commands::attribute::run(args, verbosity)?;
            let stdout = if args.json {
                serde_json::to_string_pretty(&out.summary)
                    .map(|s| s + "\n")
                    .map_err(|e| {
                        error::Error::Internal(format!("cannot serialise the summary: {e}"))
                    })?
            } else {
                String::new()
            };
            let mut stderr = say(report::attribute_summary(&out.summary));
            if let Some(e) = &out.rejection {
                stderr.push_str(&report::error_text(e));
            }
            Ok(Outcome {
                stdout,
                stderr,
                exit_code: out.rejection.as_ref().map_or(0, |e| e.exit_code()),
            })
        }
        Command::Validate(args) => {
            let out = commands::validate::run(args, verbosity)?;
            Ok(Outcome {
                stdout: out.stdout,
                stderr: out
                    .rejection
                    .map(|r| format!("error: {r}\n"))
                    .unwrap_or_default(),
                exit_code: out.exit_code,
            })
        }
        Command::Estimate(args) => Ok(Outcome {
            stdout: commands::estimate::run(args)?,
            ..Outcome::default()
        }),
        Command::Tags(args) => {
            let (stdout, exit_code, stderr) = commands::tags::run(args)?;
            Ok(Outcome {
                stdout,
                stderr,
                exit_code,
            })
        }
        Command::Frontier(args) => Ok(Outcome {
            stdout: commands::frontier::run(args)?,
            ..Outcome::default()
        }),
        Command::Economics(args) => Ok(Outcome {
            stdout: commands::economics::run(args)?,
            ..Outcome::default()
        }),
        Command::Trend(args) => Ok(Outcome {
            stdout: commands::trend::run_trend(args)?,
            ..Outcome::default()
        }),
        Command::Forecast(args) => Ok(Outcome {
            stdout: commands::trend::run_forecast(args)?,
            ..Outcome::default()
        }),
        Command::Hidden(args) => Ok(Outcome {
            stdout: commands::hidden::run(args)?,
            ..Outcome::default()
        }),
        Command::Report(args) => {
            let (stdout, stderr) = commands::report::run(args)?;
            Ok(Outcome {
                stdout,
                stderr: say(stderr),
                exit_code: 0,
            })
        }
        Command::Explain(args) => Ok(Outcome {
            stdout: commands::explain::run(args)?,
            ..Outcome::default()
        }),
        Command::Sql(args) => {
            let (stdout, stderr) = commands::sql::run(args)?;
            Ok(Outcome {
                stdout,
                stderr: say(stderr),
                exit_code: 0,
            })
        }
        Command::Ddl(args) => {
            let (stdout, stderr) = commands::ddl::run(args)?;
            Ok(Outcome {
                stdout,
                stderr: say(stderr),
                exit_code: 0,
            })
        }
        Command::Sample(args) => Ok(Outcome {
            stderr: say(commands::sample::run(args)? + "\n"),
            ..Outcome::default()
        }),
        Command::Init(args) => Ok(Outcome {
            stderr: say(commands::init::run(args)? + "\n"),
            ..Outcome::default()
        }),
    }
}
