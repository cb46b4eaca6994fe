//! `mlcost ddl`: finds the published tables and months under `--input`, hands them to
//! `ddl::ddl` and prints the script (or writes it to `--out`). Notes go to stderr.

use std::collections::BTreeMap;
use std::path::Path;

use super::Outcome;
use crate::cli::DdlArgs;
use crate::context::Context;
use crate::ddl::{self, DdlSettings};
use crate::error::{Error, Result};
use crate::schema::{output_tables, TableDef};

pub fn run(args: &DdlArgs, ctx: &Context) -> Result<Outcome> {
    let dialect = args.dialect;
    let location = match &args.location {
        Some(l) => l.clone(),
        None => default_location(&args.input)?,
    };
    let partitions = published(&args.input)?;
    let mut notes = String::new();
    let tables = select(args, &partitions, &mut notes)?;
    if let Some(note) = dialect.location_note(&location) {
        notes.push_str(&format!("note: {note}\n"));
    }
    let settings = DdlSettings {
        dialect,
        location,
        schema: args.schema.clone(),
        partitions,
    };
    let text = ddl::ddl(&settings, &tables)?;
    let mut out = super::emit(text, &args.out, ctx)?;
    out.stderr = ctx.say(notes) + &out.stderr;
    Ok(out)
}

fn default_location(input: &Path) -> Result<String> {
    let abs = std::fs::canonicalize(input).map_err(|e| Error::Usage {
        message: format!("cannot find the output directory `{}` (--input): {e}", input.display()),
        hint: Some(
            "run `mlcost attribute --out DIR` first, or pass `--location` with where the tables are".into(),
        ),
    })?;
    abs.to_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Usage {
            message: format!("the path of `{}` (--input) is not UTF-8", input.display()),
            hint: Some("pass `--location` with the path or URI the engine reads".into()),
        })
}

/// The published months (`billing_period=YYYY-MM/` with `_SUCCESS`) of each table under `input`.
fn published(input: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for table in output_tables() {
        let dir = input.join(table.name);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Io { path: dir, source }),
        };
        let mut months = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            let Some(period) = name
                .to_str()
                .and_then(|n| n.strip_prefix("billing_period="))
            else {
                continue;
            };
            if super::parse_period(period).is_ok() && entry.path().join("_SUCCESS").is_file() {
                months.push(period.to_string());
            }
        }
        if !months.is_empty() {
            months.sort();
            out.insert(table.name.to_string(), months);
        }
    }
    Ok(out)
}

/// `--table NAME`, or with `all` every table with a published month (every table when
/// `--input` does not exist, as when only `--location` is given).
fn select(
    args: &DdlArgs,
    partitions: &BTreeMap<String, Vec<String>>,
    notes: &mut String,
) -> Result<Vec<TableDef>> {
    let tables = output_tables();
    if args.table != "all" {
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        return tables
            .iter()
            .find(|t| t.name == args.table)
            .cloned()
            .map(|t| vec![t])
            .ok_or_else(|| Error::Usage {
                message: format!("unknown table `{}` (--table)", args.table),
                hint: Some(format!("one of {}, or `all`", names.join(", "))),
            });
    }
    if !args.input.is_dir() {
        return Ok(tables);
    }
    let (kept, skipped): (Vec<TableDef>, Vec<TableDef>) = tables
        .into_iter()
        .partition(|t| partitions.contains_key(t.name));
    if kept.is_empty() {
        return Err(Error::Usage {
            message: format!(
                "no published table under `{}` (--input)",
                args.input.display()
            ),
            hint: Some(
                "run `mlcost attribute --out DIR` first, or name a table with `--table`".into(),
            ),
        });
    }
    for t in skipped {
        notes.push_str(&format!(
            "note: left out {}: no published month under {} (`--table {}` writes it anyway)\n",
            t.name,
            args.input.display(),
            t.name
        ));
    }
    Ok(kept)
}
