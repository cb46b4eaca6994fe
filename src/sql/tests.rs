//! Tests of the parent module.

use super::*;

#[test]
fn globs_become_like_or_anchored_regex() {
    assert_eq!(glob_to_like("*feature-store*").unwrap(), "%feature-store%");
    assert_eq!(glob_to_like("a_b%?").unwrap(), "a\\_b\\%_");
    assert!(glob_to_like("ml-[ab]*").is_none());
    assert_eq!(glob_to_regex("ml-[ab]*"), "^(?s)ml\\-[ab].*$");
    assert_eq!(glob_to_regex("x[!0-9]?.y"), "^(?s)x[^0-9].\\.y$");
    let re = regex::Regex::new(&glob_to_regex("a[]x]*")).unwrap();
    assert!(re.is_match("a]bc") && re.is_match("axbc") && !re.is_match("abc"));
}

fn sample_query(dialect: Dialect, table: SqlTable) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/mlcost.toml");
    let loaded = LoadedConfig::load(Some(&path)).unwrap();
    let settings = SqlSettings {
        dialect,
        billing_table: "focus_billing".into(),
        requests_table: None,
        basis: loaded.config.cost.basis,
        period: None,
        tags: TagsColumn::Json,
        cost_by_model_table: None,
        driver_tables: Vec::new(),
    };
    attribution_query(&loaded, &settings, table)
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

/// The emitted SQL for the sample config, per dialect: a change to it is reviewed here.
#[test]
fn sample_config_sql_per_dialect() {
    for d in [
        Dialect::DuckDb,
        Dialect::Spark,
        Dialect::Trino,
        Dialect::BigQuery,
    ] {
        insta::assert_snapshot!(
            format!("sample_{}", d.name()),
            sample_query(d, SqlTable::CostByModel)
        );
        insta::assert_snapshot!(
            format!("tag_compliance_{}", d.name()),
            sample_query(d, SqlTable::TagCompliance)
        );
    }
}

#[test]
fn refuses_driver_served_amortisation_and_requests_without_a_table() {
    let loaded = |text: &str| LoadedConfig {
        config: crate::config::parse(text, std::path::Path::new("m.toml")).unwrap(),
        path: None,
        hash: String::new(),
        text: text.into(),
    };
    let settings = SqlSettings {
        dialect: Dialect::DuckDb,
        billing_table: "b".into(),
        requests_table: None,
        basis: CostBasis::Effective,
        period: None,
        tags: TagsColumn::Json,
        cost_by_model_table: None,
        driver_tables: Vec::new(),
    };
    // straight-line amortisation is a query; a served schedule's volume is not
    let c = loaded("[amortize]\ntraining_months = 3\n");
    let q = attribution_query(&c, &settings, SqlTable::CostByModel).unwrap();
    assert!(q.contains("schedule_months AS ("), "{q}");
    let c = loaded("\n[amortize]\ntraining_months = 3\nmethod = \"served\"\n");
    let e = attribution_query(&c, &settings, SqlTable::CostByModel)
        .unwrap_err()
        .to_string();
    assert!(e.contains("method = \"served\"` (line 4)"), "{e}");
    // compliance reads the raw tags: amortisation and a driver file (never read) do not matter
    let c = loaded("[amortize]\ntraining_months = 3\n\n[[shared]]\nid = \"x\"\nmatch = { service_name = \"S\" }\nmethod = \"driver\"\ndriver = \"/nonexistent/usage.csv\"\n");
    let q = attribution_query(&c, &settings, SqlTable::TagCompliance).unwrap();
    assert!(q.contains("-- Produces the rows of tag_compliance;"), "{q}");
    assert!(attribution_query(&c, &settings, SqlTable::All).is_err());
    let c =
        loaded("[[shared]]\nid = \"x\"\nmatch = { service_name = \"S\" }\nmethod = \"requests\"\n");
    assert!(attribution_query(&c, &settings, SqlTable::CostByModel).is_err());
    let with_table = SqlSettings {
        requests_table: Some("r".into()),
        ..settings
    };
    let q = attribution_query(&c, &with_table, SqlTable::CostByModel).unwrap();
    assert!(q.contains("FROM \"r\""), "{q}");
}

#[test]
fn literals_are_escaped_per_dialect() {
    assert_eq!(Dialect::DuckDb.lit("it's \\"), "'it''s \\'");
    assert_eq!(Dialect::Spark.lit("it's \\"), "'it\\'s \\\\'");
    assert_eq!(Dialect::Trino.ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(Dialect::BigQuery.table("p.d.t"), "`p`.`d`.`t`");
}

#[test]
fn config_text_cannot_leave_a_comment() {
    assert_eq!(
        comment_text("x\nUNION ALL SELECT secret FROM t --"),
        "x UNION ALL SELECT secret FROM t --"
    );
    assert_eq!(comment_text("gpu_bucket_no"), "gpu_bucket_no");
}

/// The white space the SQL trims is exactly the white space Rust trims.
#[test]
fn trimmed_white_space_is_rusts() {
    let mut rust: Vec<u32> = (0..=0x10ffff_u32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .map(u32::from)
        .collect();
    let mut ours = dialect::WHITE_SPACE.to_vec();
    rust.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, rust);
}
