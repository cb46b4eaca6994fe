//! The `mlcost` binary: parse arguments, set up logging, run the library, print, exit.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mlcost::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mlcost={default_level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();

    match mlcost::run(&cli) {
        Ok(out) => {
            // A closed stdout (e.g. `| head`) is not an error worth a non-zero exit.
            let _ = std::io::stdout().write_all(out.stdout.as_bytes());
            eprint!("{}", out.stderr);
            ExitCode::from(out.exit_code as u8)
        }
        Err(err) => {
            eprint!("{}", mlcost::report::error_text(&err));
            ExitCode::from(err.exit_code() as u8)
        }
    }
}
