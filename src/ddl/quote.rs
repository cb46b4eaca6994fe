//! Quoting for `mlcost ddl`: identifiers and string literals per dialect, and the checks on
//! `--location` and `--schema` that refuse what a dialect cannot hold safely (control
//! characters anywhere, glob characters where the location becomes a glob).

use super::Dialect;
use crate::error::{Error, Result};

/// A quoted identifier. Snowflake folds unquoted names to upper case, so a plain lower-case
/// name is quoted upper-cased: `"MODEL_ID"` is what `model_id` means in a query there.
pub fn ident(d: Dialect, name: &str) -> String {
    match d {
        Dialect::DuckDb | Dialect::Trino | Dialect::Redshift => {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
        Dialect::Snowflake => {
            let plain = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
            if plain {
                format!("\"{}\"", name.to_ascii_uppercase())
            } else {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
        }
        Dialect::Spark | Dialect::Athena => format!("`{}`", name.replace('`', "``")),
        Dialect::BigQuery => format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`")),
    }
}

/// A string literal. DuckDB and Trino follow the standard (the quote doubled, a backslash is a
/// backslash); Redshift and Snowflake double the quote and read backslash escapes; Spark, Hive
/// (Athena) and BigQuery read backslash escapes.
pub fn lit(d: Dialect, s: &str) -> String {
    match d {
        Dialect::DuckDb | Dialect::Trino => format!("'{}'", s.replace('\'', "''")),
        Dialect::Redshift | Dialect::Snowflake => {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
        }
        Dialect::Spark | Dialect::Athena | Dialect::BigQuery => {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    }
}

fn usage(message: String, hint: &str) -> Error {
    Error::Usage {
        message,
        hint: Some(hint.into()),
    }
}

/// The location without a trailing `/`, or an error naming `--location`.
pub fn check_location(d: Dialect, location: &str) -> Result<String> {
    if location.trim().is_empty() {
        return Err(usage(
            "`--location` is empty".into(),
            "pass the directory or URI the tables are in, e.g. `--location s3://bucket/mlcost`",
        ));
    }
    if location.chars().any(char::is_control) {
        return Err(usage(
            format!("`--location` {location:?} contains a control character"),
            "pass the directory or URI the tables are in, on one line",
        ));
    }
    // DuckDB globs the path; BigQuery allows one `*` in a URI and we use it
    let glob = match d {
        Dialect::DuckDb => "*?[]{}",
        Dialect::BigQuery => "*",
        _ => "",
    };
    if let Some(c) = location.chars().find(|c| glob.contains(*c)) {
        return Err(usage(
            format!(
                "`--location` `{location}` contains `{c}`, which {} reads as a wildcard",
                d.name()
            ),
            "move the output directory to a path without wildcard characters",
        ));
    }
    if d == Dialect::Snowflake && location.starts_with('@') {
        let bad = |c: char| c.is_whitespace() || matches!(c, '\'' | ';' | '(' | ')' | ',');
        if location.len() < 2 || location.chars().any(bad) {
            return Err(usage(
                format!("`--location` `{location}` is not a Snowflake stage reference"),
                "use `@stage` or `@db.schema.stage/path`, or a URL (s3://, gcs://, azure://) to create a stage over",
            ));
        }
    }
    let trimmed = location.trim_end_matches('/');
    Ok(if trimmed.is_empty() {
        String::new()
    } else {
        trimmed.to_string()
    })
}

/// The schema's parts (`catalog.schema` is two), or an error naming `--schema`.
pub fn check_schema(d: Dialect, schema: &str) -> Result<Vec<String>> {
    let parts: Vec<String> = schema.split('.').map(str::to_string).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || p.chars().any(char::is_control))
    {
        return Err(usage(
            format!(
                "`--schema` `{}` is not a schema name",
                schema.escape_debug()
            ),
            "pass a name such as `mlcost`, or `catalog.mlcost` / `project.dataset`",
        ));
    }
    let max = match d {
        // a Glue database; Redshift's external schema maps to one
        Dialect::Athena | Dialect::Redshift => 1,
        _ => 2,
    };
    if parts.len() > max {
        return Err(usage(
            format!(
                "`--schema` `{schema}` has {} parts; {} takes at most {max}",
                parts.len(),
                d.name()
            ),
            "pass the schema name alone and set the catalog or database in the session",
        ));
    }
    if d == Dialect::Athena
        && !parts[0]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(usage(
            format!("`--schema` `{schema}` is not an AWS Glue database name"),
            "Glue database names are lower-case letters, digits and `_`",
        ));
    }
    Ok(parts)
}
