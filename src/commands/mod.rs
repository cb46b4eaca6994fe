//! One file per subcommand, each `run(args, &Context) -> Result<Outcome>`: a command turns its
//! arguments into the library's inputs, calls it, and turns the result into what is printed.
//! The logic lives in the library modules; this module holds the little commands share.

pub mod attribute;
pub mod ddl;
pub mod economics;
pub mod estimate;
pub mod explain;
pub mod forecast;
pub mod frontier;
pub mod hidden;
pub mod init;
pub mod report;
pub mod sample;
pub mod sql;
pub mod tags;
pub mod trend;
pub mod validate;

use crate::error::{Error, ExitStatus, Result};

/// What the binary prints and how it exits, once a command has run: every command returns
/// one (or an error, which the binary prints the same way for every command).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Data the user asked for (reports, JSON).
    pub stdout: String,
    /// Summary and warnings for a person or a log.
    pub stderr: String,
    pub status: ExitStatus,
}

impl Outcome {
    /// Success with data on stdout.
    pub fn stdout(text: String) -> Outcome {
        Outcome {
            stdout: text,
            ..Outcome::default()
        }
    }

    /// Success with a message on stderr.
    pub fn stderr(text: String) -> Outcome {
        Outcome {
            stderr: text,
            ..Outcome::default()
        }
    }
}

/// Pretty JSON of a command's result, with a final line break.
pub fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::Internal(format!("cannot serialise the result as JSON: {e}")))
}

/// Text a command writes to `--out`: stdout when it is `-`, else the file (atomically, with
/// the umask's permissions) and a line on stderr saying so.
pub fn emit(text: String, out: &std::path::Path, ctx: &crate::context::Context) -> Result<Outcome> {
    if out.as_os_str() == "-" {
        return Ok(Outcome::stdout(text));
    }
    crate::output::write_file_atomic(out, text.as_bytes())?;
    Ok(Outcome::stderr(
        ctx.say(format!("wrote {}\n", out.display())),
    ))
}

/// Checks a `--period` value.
pub fn parse_period(p: &str) -> Result<String> {
    let ok = p.len() == 7
        && p.as_bytes()[4] == b'-'
        && crate::ingest::billing_period(p).as_deref() == Some(p);
    if ok {
        Ok(p.to_string())
    } else {
        Err(Error::Usage {
            message: format!("invalid `--period` value `{p}`"),
            hint: Some("use a billing month such as `2026-10`".into()),
        })
    }
}
