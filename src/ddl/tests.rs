use std::collections::BTreeMap;

use super::quote::{ident, lit};
use super::*;
use crate::schema::output_tables;

fn settings(d: Dialect, location: &str) -> DdlSettings {
    let mut partitions = BTreeMap::new();
    partitions.insert(
        "cost_by_model".to_string(),
        vec!["2026-09".to_string(), "2026-10".to_string()],
    );
    DdlSettings {
        dialect: d,
        location: location.into(),
        schema: "mlcost".into(),
        partitions,
    }
}

fn sample_location(d: Dialect) -> &'static str {
    match d {
        Dialect::DuckDb | Dialect::Spark | Dialect::Trino => "/data/mlcost/out",
        Dialect::BigQuery => "gs://example-bucket/mlcost",
        _ => "s3://example-bucket/mlcost",
    }
}

/// The whole script of every dialect, for review in `src/ddl/snapshots/`.
#[test]
fn every_dialect_snapshot() {
    for d in Dialect::ALL {
        let text = ddl(&settings(d, sample_location(d)), &output_tables()).unwrap();
        insta::assert_snapshot!(format!("ddl_{}", d.name()), text);
    }
}

/// Every column of every table is declared with its dialect's type, once.
#[test]
fn every_column_has_its_type() {
    for d in Dialect::ALL {
        for table in output_tables() {
            let text = ddl(
                &settings(d, sample_location(d)),
                std::slice::from_ref(&table),
            )
            .unwrap();
            for c in &table.columns {
                let (name, ty) = (ident(d, c.name), d.type_name(c.kind));
                let decl = match d {
                    Dialect::DuckDb => format!("CAST({name} AS {ty}) AS {name}"),
                    _ => format!("{name} {ty}"),
                };
                assert_eq!(
                    text.matches(&decl).count(),
                    1,
                    "{} {}: `{decl}` in\n{text}",
                    d.name(),
                    table.name
                );
            }
            let required: Vec<&str> = table
                .columns
                .iter()
                .filter(|c| !c.nullable)
                .map(|c| c.name)
                .collect();
            assert!(text.contains(&format!("-- never null: {}\n", required.join(", "))));
        }
    }
}

#[test]
fn types_per_dialect() {
    use ColumnType::*;
    assert_eq!(Dialect::BigQuery.type_name(Decimal), "BIGNUMERIC");
    assert_eq!(Dialect::Snowflake.type_name(Decimal), "NUMBER(38, 18)");
    assert_eq!(Dialect::Redshift.type_name(Decimal), "DECIMAL(38, 18)");
    assert_eq!(Dialect::BigQuery.type_name(Int64), "INT64");
    assert_eq!(Dialect::Redshift.type_name(String), "VARCHAR(65535)");
}

#[test]
fn bigquery_marks_required_columns() {
    let text = ddl(
        &settings(Dialect::BigQuery, "gs://b/o"),
        &[crate::schema::cost_by_model()],
    )
    .unwrap();
    assert!(text.contains("`cost` BIGNUMERIC NOT NULL OPTIONS"));
    assert!(text.contains("`share` BIGNUMERIC OPTIONS"));
    assert!(text.contains("uris = ['gs://b/o/cost_by_model/*.parquet']"));
    assert!(text.contains("hive_partition_uri_prefix = 'gs://b/o/cost_by_model'"));
}

#[test]
fn literals_and_identifiers_are_escaped() {
    let s = r"it's a \ path";
    assert_eq!(lit(Dialect::DuckDb, s), r"'it''s a \ path'");
    assert_eq!(lit(Dialect::Trino, s), r"'it''s a \ path'");
    assert_eq!(lit(Dialect::Redshift, s), r"'it''s a \\ path'");
    assert_eq!(lit(Dialect::Snowflake, s), r"'it''s a \\ path'");
    assert_eq!(lit(Dialect::Spark, s), r"'it\'s a \\ path'");
    assert_eq!(lit(Dialect::Athena, s), r"'it\'s a \\ path'");
    assert_eq!(lit(Dialect::BigQuery, s), r"'it\'s a \\ path'");
    assert_eq!(ident(Dialect::DuckDb, "a\"b"), "\"a\"\"b\"");
    assert_eq!(ident(Dialect::Spark, "a`b"), "`a``b`");
    assert_eq!(ident(Dialect::BigQuery, "a`b"), "`a\\`b`");
    assert_eq!(ident(Dialect::Snowflake, "model_id"), "\"MODEL_ID\"");
    assert_eq!(ident(Dialect::Snowflake, "Analytics"), "\"Analytics\"");
    assert_eq!(ident(Dialect::Snowflake, "a\"b"), "\"a\"\"b\"");
}

#[test]
fn a_quote_in_the_location_stays_inside_the_literal() {
    for d in Dialect::ALL {
        let loc = match d {
            Dialect::Athena | Dialect::Redshift | Dialect::Snowflake => "s3://b/o'brien",
            Dialect::BigQuery => "gs://b/o'brien",
            _ => "/tmp/o'brien",
        };
        let text = ddl(&settings(d, loc), &output_tables()).unwrap();
        // the statements, without the comments that name the location as it was given
        let text: std::string::String = text
            .lines()
            .filter(|l| !l.starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        // Snowflake tables read a stage, which is created over the location
        let target = match d {
            Dialect::Snowflake => format!("{loc}/"),
            _ => format!("{loc}/cost_by_model"),
        };
        let escaped = lit(d, &target);
        let escaped = &escaped[..escaped.len() - 1];
        assert!(text.contains(escaped), "{}: {escaped} in\n{text}", d.name());
        // the raw quote never appears unescaped next to the name
        assert!(!text.contains("o'brien"), "{}:\n{text}", d.name());
    }
}

#[test]
fn unsafe_locations_and_schemas_are_refused() {
    let err = |d: Dialect, loc: &str, schema: &str| {
        let mut s = settings(d, loc);
        s.schema = schema.into();
        ddl(&s, &output_tables()).unwrap_err()
    };
    for (d, loc) in [
        (Dialect::DuckDb, "/data/out[1]"),
        (Dialect::DuckDb, "/data/*"),
        (Dialect::BigQuery, "gs://b/*"),
        (Dialect::Spark, "/data/out\n;DROP TABLE x"),
        (Dialect::Trino, ""),
        (Dialect::Snowflake, "@stage; DROP TABLE x"),
        (Dialect::Snowflake, "@"),
    ] {
        let e = err(d, loc, "mlcost");
        assert!(e.to_string().contains("--location"), "{}: {e}", d.name());
        assert!(e.hint().is_some());
    }
    for (d, schema) in [
        (Dialect::Athena, "Mlcost"),
        (Dialect::Athena, "a.b"),
        (Dialect::Redshift, "a.b"),
        (Dialect::Spark, "a.b.c"),
        (Dialect::DuckDb, "a..b"),
        (Dialect::DuckDb, ""),
    ] {
        let e = err(d, sample_location(d), schema);
        assert!(e.to_string().contains("--schema"), "{}: {e}", d.name());
    }
}

#[test]
fn qualified_schemas_and_stages() {
    let mut s = settings(Dialect::Trino, "s3://b/o");
    s.schema = "hive.mlcost".into();
    let text = ddl(&s, &[crate::schema::unit_costs()]).unwrap();
    assert!(text.contains("CREATE TABLE IF NOT EXISTS \"hive\".\"mlcost\".\"unit_costs\""));
    assert!(text.contains("CALL \"hive\".system.sync_partition_metadata(schema_name => 'mlcost'"));

    let mut s = settings(Dialect::Snowflake, "@my_db.raw.stage/mlcost/");
    s.schema = "analytics".into();
    let text = ddl(&s, &[crate::schema::unit_costs()]).unwrap();
    assert!(!text.contains("CREATE STAGE"));
    assert!(text.contains("LOCATION = @my_db.raw.stage/mlcost/unit_costs/\n"));
    assert!(text.contains("\"ANALYTICS\".\"UNIT_COSTS\""));
}

#[test]
fn redshift_adds_the_published_months() {
    let text = ddl(
        &settings(Dialect::Redshift, "s3://b/o"),
        &[crate::schema::cost_by_model(), crate::schema::unit_costs()],
    )
    .unwrap();
    assert!(text.contains("ALTER TABLE \"mlcost\".\"cost_by_model\" ADD IF NOT EXISTS PARTITION (\"billing_period\" = '2026-10') LOCATION 's3://b/o/cost_by_model/billing_period=2026-10/';"));
    // unit_costs has no published month in these settings: the statement is an example only
    assert!(text.contains("-- ALTER TABLE \"mlcost\".\"unit_costs\" ADD IF NOT EXISTS"));
}

#[test]
fn notes_on_local_locations() {
    assert!(Dialect::DuckDb.location_note("/data/out").is_none());
    assert!(Dialect::Athena.location_note("s3://b/o").is_none());
    assert!(Dialect::Snowflake.location_note("@stage").is_none());
    let note = Dialect::BigQuery.location_note("/data/out").unwrap();
    assert!(
        note.contains("gs://") && note.contains("--location"),
        "{note}"
    );
}
