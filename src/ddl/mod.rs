//! `mlcost ddl`: the SQL that makes the Hive-partitioned Parquet tables under an output
//! directory queryable where they lie (an external table, or a DuckDB view), for seven engines,
//! generated from `schema::output_tables()`: columns, types, nullability and the partition
//! column. Pure text: nothing here reads a file or runs a query. Identifiers and the location
//! are quoted for each dialect; a location the dialect cannot hold safely is an error.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::schema::{ColumnDef, ColumnType, TableDef, SCHEMA_VERSION};

mod quote;
#[cfg(test)]
mod tests;

use quote::{check_location, check_schema, ident, lit};

/// The engines `mlcost ddl` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    #[value(name = "duckdb")]
    DuckDb,
    Spark,
    Athena,
    #[value(name = "bigquery")]
    BigQuery,
    Snowflake,
    Trino,
    Redshift,
}

impl Dialect {
    pub const ALL: [Dialect; 7] = [
        Dialect::DuckDb,
        Dialect::Spark,
        Dialect::Athena,
        Dialect::BigQuery,
        Dialect::Snowflake,
        Dialect::Trino,
        Dialect::Redshift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Athena => "athena",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::Trino => "trino",
            Dialect::Redshift => "redshift",
        }
    }

    /// The column type of a logical type.
    fn type_name(self, kind: ColumnType) -> &'static str {
        use ColumnType::*;
        match (self, kind) {
            (Dialect::DuckDb | Dialect::Snowflake, String) => "VARCHAR",
            (Dialect::Spark | Dialect::BigQuery, String) => "STRING",
            (Dialect::Athena, String) => "string",
            (Dialect::Trino, String) => "varchar",
            // Spectrum's VARCHAR is 256 bytes unless told otherwise
            (Dialect::Redshift, String) => "VARCHAR(65535)",
            // NUMERIC has 9 decimals only; BIGNUMERIC is what BigQuery maps decimal(38,18) to
            (Dialect::BigQuery, Decimal) => "BIGNUMERIC",
            (Dialect::Snowflake, Decimal) => "NUMBER(38, 18)",
            (Dialect::Athena, Decimal) => "decimal(38,18)",
            (Dialect::Trino, Decimal) => "decimal(38, 18)",
            (_, Decimal) => "DECIMAL(38, 18)",
            (Dialect::BigQuery, Int64) => "INT64",
            (Dialect::Athena | Dialect::Trino, Int64) => "bigint",
            (_, Int64) => "BIGINT",
        }
    }

    /// What the location must look like for the engine to read it, when a local path would
    /// not do (said on stderr by the command; the DDL is still written).
    pub fn location_note(self, location: &str) -> Option<String> {
        let ok: &[&str] = match self {
            Dialect::DuckDb | Dialect::Spark | Dialect::Trino => return None,
            Dialect::Athena | Dialect::Redshift => &["s3://"],
            Dialect::BigQuery => &["gs://"],
            Dialect::Snowflake => &["@", "s3://", "gcs://", "azure://"],
        };
        if ok.iter().any(|p| location.starts_with(p)) {
            return None;
        }
        Some(format!(
            "{} reads tables from {}: pass `--location` with the URI the output directory is copied to (the DDL below points at `{location}`)",
            self.name(),
            ok.join(" or ")
        ))
    }
}

/// What to write the DDL for.
#[derive(Debug, Clone)]
pub struct DdlSettings {
    pub dialect: Dialect,
    /// The output directory as the engine sees it: a path, a URI (`s3://bucket/prefix`), or for
    /// Snowflake a stage (`@stage/prefix`). Each table is `<location>/<table>`.
    pub location: String,
    /// The schema (database, dataset) the tables are created in; `a.b` is a catalog- or
    /// project-qualified one.
    pub schema: String,
    /// Published months per table, for engines that register partitions one by one (Redshift).
    pub partitions: BTreeMap<String, Vec<String>>,
}

/// The DDL script for `tables`: a header, the schema, then each table (a comment with its grain
/// and the columns that are never null, then its statements), every statement ending in `;`.
pub fn ddl(settings: &DdlSettings, tables: &[TableDef]) -> Result<String> {
    let d = settings.dialect;
    let location = check_location(d, &settings.location)?;
    let schema = check_schema(d, &settings.schema)?;
    let mut out = format!(
        "-- mlcost ddl --dialect {}: the mlcost tables (schema {SCHEMA_VERSION}) under {}\n\n",
        d.name(),
        settings.location
    );
    out.push_str(&schema_statement(d, &schema));
    if d == Dialect::Snowflake && !location.starts_with('@') {
        out.push('\n');
        out.push_str(&snowflake_stage(&schema, &location));
    }
    for table in tables {
        let partition = table.partitioned_by.ok_or_else(|| {
            Error::Internal(format!(
                "table {} has no partition column; `mlcost ddl` writes Hive-partitioned tables only",
                table.name
            ))
        })?;
        let t = Table {
            def: table,
            name: qualified(d, &schema, table.name),
            location: format!("{location}/{}", table.name),
            partition: table
                .columns
                .iter()
                .find(|c| c.name == partition)
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "partition column {partition} is not a column of {}",
                        table.name
                    ))
                })?,
            data: table
                .columns
                .iter()
                .filter(|c| c.name != partition)
                .collect(),
        };
        out.push('\n');
        out.push_str(&header(table));
        let periods = settings
            .partitions
            .get(table.name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        out.push_str(&match d {
            Dialect::DuckDb => duckdb(&t),
            Dialect::Spark => spark(&t),
            Dialect::Athena => athena(&t),
            Dialect::BigQuery => bigquery(&t),
            Dialect::Snowflake => snowflake(&t, &schema, &location),
            Dialect::Trino => trino(&t, &schema),
            Dialect::Redshift => redshift(&t, periods),
        });
    }
    Ok(out)
}

/// One table as the generators need it.
struct Table<'a> {
    def: &'a TableDef,
    /// Quoted, schema-qualified name.
    name: String,
    /// The table's directory (no trailing slash).
    location: String,
    partition: &'a ColumnDef,
    /// The columns stored in the files (all but the partition column), in schema order.
    data: Vec<&'a ColumnDef>,
}

fn qualified(d: Dialect, schema: &[String], name: &str) -> String {
    schema
        .iter()
        .map(String::as_str)
        .chain([name])
        .map(|p| ident(d, p))
        .collect::<Vec<_>>()
        .join(".")
}

fn header(table: &TableDef) -> String {
    let required: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| c.name)
        .collect();
    format!(
        "-- {}: one row per {}\n-- never null: {}\n",
        table.name,
        table.grain,
        required.join(", ")
    )
}

/// The column comment: its description, and whether it can be null.
fn comment(c: &ColumnDef) -> String {
    let null = if c.nullable {
        "may be null"
    } else {
        "never null"
    };
    if c.description.is_empty() {
        null.to_string()
    } else {
        format!("{}; {null}", c.description)
    }
}

fn schema_statement(d: Dialect, schema: &[String]) -> String {
    let name = schema
        .iter()
        .map(|p| ident(d, p))
        .collect::<Vec<_>>()
        .join(".");
    match d {
        Dialect::Athena => format!("CREATE DATABASE IF NOT EXISTS {name};\n"),
        Dialect::Redshift => format!(
            "-- an external schema on an AWS Glue database, with the cluster's default IAM role\nCREATE EXTERNAL SCHEMA IF NOT EXISTS {name} FROM DATA CATALOG DATABASE {} IAM_ROLE default CREATE EXTERNAL DATABASE IF NOT EXISTS;\n",
            lit(d, schema.first().map_or("", String::as_str))
        ),
        _ => format!("CREATE SCHEMA IF NOT EXISTS {name};\n"),
    }
}

/// `name TYPE COMMENT '...'` lines, one per column, joined for a column list.
fn column_list(d: Dialect, columns: &[&ColumnDef], extra: impl Fn(&ColumnDef) -> String) -> String {
    columns
        .iter()
        .map(|c| {
            format!(
                "    {} {}{}",
                ident(d, c.name),
                d.type_name(c.kind),
                extra(c)
            )
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// A view over `read_parquet` with every column cast to its type, so a file that drifted
/// fails loudly instead of changing the view's types. The files are read by name after an
/// empty row of every column (`UNION ALL BY NAME`), so a column added by a later schema
/// version reads as null even when no file has it yet.
fn duckdb(t: &Table) -> String {
    let d = Dialect::DuckDb;
    let list = |cast: &dyn Fn(&str) -> String| {
        t.def
            .columns
            .iter()
            .map(|c| {
                let name = ident(d, c.name);
                format!(
                    "    CAST({} AS {}) AS {name}",
                    cast(&name),
                    d.type_name(c.kind)
                )
            })
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let columns = list(&|name| name.to_string());
    let empty = list(&|_| "NULL".to_string());
    let glob = format!("{}/{}=*/*.parquet", t.location, t.partition.name);
    format!(
        "CREATE OR REPLACE VIEW {} AS\nSELECT\n{columns}\nFROM (\n  SELECT\n{empty}\n  WHERE false\n  UNION ALL BY NAME\n  SELECT * FROM read_parquet({}, hive_partitioning = true, union_by_name = true, hive_types = {{{}: {}}})\n);\n",
        t.name,
        lit(d, &glob),
        lit(d, t.partition.name),
        d.type_name(t.partition.kind),
    )
}

fn spark(t: &Table) -> String {
    let d = Dialect::Spark;
    let mut all = t.data.clone();
    all.push(t.partition);
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n)\nUSING PARQUET\nPARTITIONED BY ({})\nLOCATION {}\nCOMMENT {};\n-- registers the months already there; run it again after each new month\nMSCK REPAIR TABLE {};\n",
        t.name,
        column_list(d, &all, |c| format!(" COMMENT {}", lit(d, &comment(c)))),
        ident(d, t.partition.name),
        lit(d, &t.location),
        lit(d, t.def.grain),
        t.name,
    )
}

/// Hive DDL with partition projection: every month is visible as soon as its files are,
/// without `MSCK REPAIR TABLE` or `ALTER TABLE ADD PARTITION`.
fn athena(t: &Table) -> String {
    let d = Dialect::Athena;
    let p = t.partition.name;
    let props = [
        ("projection.enabled".to_string(), "true".to_string()),
        (format!("projection.{p}.type"), "date".into()),
        (format!("projection.{p}.format"), "yyyy-MM".into()),
        (format!("projection.{p}.range"), "2000-01,NOW".into()),
        (format!("projection.{p}.interval"), "1".into()),
        (format!("projection.{p}.interval.unit"), "MONTHS".into()),
        (
            "storage.location.template".into(),
            format!("{}/{p}=${{{p}}}/", t.location),
        ),
    ]
    .iter()
    .map(|(k, v)| format!("    {} = {}", lit(d, k), lit(d, v)))
    .collect::<Vec<_>>()
    .join(",\n");
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {} (\n{}\n)\nCOMMENT {}\nPARTITIONED BY (\n{}\n)\nSTORED AS PARQUET\nLOCATION {}\nTBLPROPERTIES (\n{props}\n);\n",
        t.name,
        column_list(d, &t.data, |c| format!(" COMMENT {}", lit(d, &comment(c)))),
        lit(d, t.def.grain),
        column_list(d, &[t.partition], |c| format!(" COMMENT {}", lit(d, &comment(c)))),
        lit(d, &format!("{}/", t.location)),
    )
}

/// An external table with Hive partitioning; BigQuery finds new months by itself.
fn bigquery(t: &Table) -> String {
    let d = Dialect::BigQuery;
    let columns = column_list(d, &t.data, |c| {
        format!(
            "{} OPTIONS(description = {})",
            if c.nullable { "" } else { " NOT NULL" },
            lit(d, c.description)
        )
    });
    format!(
        "CREATE OR REPLACE EXTERNAL TABLE {} (\n{columns}\n)\nWITH PARTITION COLUMNS (\n{}\n)\nOPTIONS (\n    format = 'PARQUET',\n    uris = [{}],\n    hive_partition_uri_prefix = {},\n    require_hive_partition_filter = false,\n    description = {}\n);\n",
        t.name,
        column_list(d, &[t.partition], |_| String::new()),
        lit(d, &format!("{}/*.parquet", t.location)),
        lit(d, &t.location),
        lit(d, t.def.grain),
    )
}

/// The stage over a cloud location: `@<schema>.mlcost_out`.
fn snowflake_stage(schema: &[String], location: &str) -> String {
    let d = Dialect::Snowflake;
    format!(
        "-- a private bucket also needs STORAGE_INTEGRATION = <integration> (or CREDENTIALS)\nCREATE STAGE IF NOT EXISTS {}\n    URL = {}\n    FILE_FORMAT = (TYPE = PARQUET);\n",
        qualified(d, schema, "mlcost_out"),
        lit(d, &format!("{location}/")),
    )
}

/// Columns are typed expressions over `VALUE` (the Parquet row) and the partition column is
/// read from the file's path.
fn snowflake(t: &Table, schema: &[String], location: &str) -> String {
    let d = Dialect::Snowflake;
    let p = t.partition.name;
    let mut columns = vec![format!(
        "    {} {} AS (REGEXP_SUBSTR(METADATA$FILENAME, {}, 1, 1, 'e', 1))",
        ident(d, p),
        d.type_name(t.partition.kind),
        lit(d, &format!("{p}=([^/]+)/")),
    )];
    for c in &t.data {
        let ty = d.type_name(c.kind);
        // the Parquet field names are lower case; a quoted path element matches them exactly
        let path = format!("\"{}\"", c.name.replace('"', "\"\""));
        columns.push(format!(
            "    {} {ty} AS (VALUE:{path}::{ty})",
            ident(d, c.name)
        ));
    }
    let stage = if location.starts_with('@') {
        format!("{location}/{}/", t.def.name)
    } else {
        format!("@{}/{}/", qualified(d, schema, "mlcost_out"), t.def.name)
    };
    format!(
        "CREATE OR REPLACE EXTERNAL TABLE {} (\n{}\n)\nPARTITION BY ({})\nLOCATION = {stage}\nPATTERN = {}\nFILE_FORMAT = (TYPE = PARQUET)\nAUTO_REFRESH = FALSE\nCOMMENT = {};\n",
        t.name,
        columns.join(",\n"),
        ident(d, p),
        lit(d, &format!(".*{p}=[^/]+/[^/]+[.]parquet")),
        lit(d, t.def.grain),
    )
}

/// A Hive connector table; the partition column comes last, as Trino requires.
fn trino(t: &Table, schema: &[String]) -> String {
    let d = Dialect::Trino;
    let mut all = t.data.clone();
    all.push(t.partition);
    // `CALL <catalog>.system.sync_partition_metadata` when the schema names its catalog
    let (procedure, schema_name) = match schema {
        [catalog, s] => (
            format!("{}.system.sync_partition_metadata", ident(d, catalog)),
            s.as_str(),
        ),
        _ => (
            "system.sync_partition_metadata".to_string(),
            schema.last().map_or("", String::as_str),
        ),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{}\n)\nCOMMENT {}\nWITH (\n    external_location = {},\n    format = 'PARQUET',\n    partitioned_by = ARRAY[{}]\n);\n-- registers the months already there; run it again after each new month\nCALL {procedure}(schema_name => {}, table_name => {}, mode => 'FULL');\n",
        t.name,
        column_list(d, &all, |c| format!(" COMMENT {}", lit(d, &comment(c)))),
        lit(d, t.def.grain),
        lit(d, &t.location),
        lit(d, t.partition.name),
        lit(d, schema_name),
        lit(d, t.def.name),
    )
}

/// A Spectrum table, and one `ADD PARTITION` per published month (Spectrum has no partition
/// discovery).
fn redshift(t: &Table, periods: &[String]) -> String {
    let d = Dialect::Redshift;
    let mut out = format!(
        "CREATE EXTERNAL TABLE {} (\n{}\n)\nPARTITIONED BY ({} {})\nSTORED AS PARQUET\nLOCATION {};\n",
        t.name,
        column_list(d, &t.data, |_| String::new()),
        ident(d, t.partition.name),
        d.type_name(t.partition.kind),
        lit(d, &format!("{}/", t.location)),
    );
    let add = |period: &str| {
        format!(
            "ALTER TABLE {} ADD IF NOT EXISTS PARTITION ({} = {}) LOCATION {};\n",
            t.name,
            ident(d, t.partition.name),
            lit(d, period),
            lit(d, &format!("{}/{}={period}/", t.location, t.partition.name)),
        )
    };
    if periods.is_empty() {
        out.push_str("-- add each month as it is published, e.g.\n-- ");
        out.push_str(&add("2026-10"));
    } else {
        out.push_str(
            "-- the months published when this was written; add each new one the same way\n",
        );
        for p in periods {
            out.push_str(&add(p));
        }
    }
    out
}
