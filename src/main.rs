//! The `mlcost` binary: parse arguments, set up logging, run the library, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use mlcost::cli::{Cli, LogFormat};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--json` promises one JSON object on stdout whatever the exit code, usage
            // errors included; help and version print as usual
            let usage = e.use_stderr();
            // (args_os: an argument that is not UTF-8 is a usage error here, never a panic)
            if usage && std::env::args_os().any(|a| a == "--json") {
                let err = mlcost::error::Error::Usage {
                    message: e.kind().to_string(),
                    hint: Some(e.render().to_string().trim().to_string()),
                };
                let _ = std::io::stdout().write_all(mlcost::report::error_json(&err).as_bytes());
            }
            e.exit()
        }
    };
    let default_level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mlcost={default_level}")));
    // Colour only for a person at a terminal: NO_COLOR turns it off, CLICOLOR_FORCE on.
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
    let ansi = set("CLICOLOR_FORCE") || (std::io::stderr().is_terminal() && !set("NO_COLOR"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match cli.log_format {
        LogFormat::Json => builder.json().with_ansi(false).init(),
        LogFormat::Text => builder.with_ansi(ansi).without_time().init(),
    }

    match mlcost::run(&cli) {
        Ok(out) => {
            // A closed stdout (e.g. `| head`) is not an error worth a non-zero exit.
            // Data goes out as it is (JSON and reports escape their own text); only a person
            // reading a terminal gets control characters escaped.
            let stdout = if std::io::stdout().is_terminal() {
                mlcost::escape::terminal_text(&out.stdout)
            } else {
                std::borrow::Cow::Borrowed(out.stdout.as_str())
            };
            let _ = std::io::stdout().write_all(stdout.as_bytes());
            eprint!("{}", mlcost::escape::terminal_text(&out.stderr));
            ExitCode::from(out.status)
        }
        Err(err) => {
            if cli.wants_json() {
                let _ = std::io::stdout().write_all(mlcost::report::error_json(&err).as_bytes());
            }
            eprint!(
                "{}",
                mlcost::escape::terminal_text(&mlcost::report::error_text(&err))
            );
            ExitCode::from(err.status())
        }
    }
}
