//! `[output] dimensions` and `cost_by_dimension` on a hand-computed fixture
//! (tests/fixtures/dimensions, 2026-10, USD; every number below is worked out by hand):
//! - ranker inference: EC2 us-east-1 100.01 and eu-west-1 50.00 (project feed); data transfer
//!   10.00 (us-east-1, no project); training 20.00 on SageMaker (us-east-1, feed), amortised
//!   over 2 months: 10.00 now, 10.00 deferred;
//! - scorer inference: EC2 us-east-1 30.00 (project ads);
//! - feature-store pool (team recsys, no phase): DynamoDB us-east-1 40.00, ElastiCache
//!   eu-west-1 20.00, a DynamoDB credit of -6.00 without a region: 54.00, split in proportion
//!   to direct inference (150.01 : 30.00) at cents: ranker 45.00, scorer 9.00.
//!
//! The pool's services are 34 DynamoDB : 20 ElastiCache, so ranker's 45.00 is 28.33 and 16.67
//! and scorer's 9.00 is 5.67 and 3.33 (largest remainder at cents); its regions mix a credit
//! with charges, so each split counts under `__mixed__`.

use crate::util::*;
use mlcost::money::Money;

fn attributed(env: &TestEnv, config: Option<&str>) -> std::path::PathBuf {
    let billing = fixture("dimensions/billing.csv");
    let config = config.map_or_else(
        || fixture("dimensions/mlcost.toml"),
        |c| env.write("c.toml", c),
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--out",
        "out",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.path("out")
}

#[test]
fn cost_by_dimension_breaks_each_model_down_exactly() {
    let env = TestEnv::new();
    let out = attributed(&env, None);
    let rows = rows(&read_table(&out, "cost_by_dimension"));
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}={}",
                r["dimension"],
                r["model_id"],
                r["team"],
                r["lifecycle_phase"],
                r["value"],
                r["cost"]
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "project __deferred_training__ recsys training __amortized_training__=10",
            "project ranker recsys __untagged__ null=45",
            "project ranker recsys data_transfer null=10",
            "project ranker recsys inference feed=150.01",
            "project ranker recsys training __amortized_training__=-10",
            "project ranker recsys training feed=20",
            "project scorer recsys __untagged__ null=9",
            "project scorer recsys inference ads=30",
            "region __deferred_training__ recsys training __amortized_training__=10",
            "region ranker recsys __untagged__ __mixed__=45",
            "region ranker recsys data_transfer us-east-1=10",
            "region ranker recsys inference eu-west-1=50",
            "region ranker recsys inference us-east-1=100.01",
            "region ranker recsys training __amortized_training__=-10",
            "region ranker recsys training us-east-1=20",
            "region scorer recsys __untagged__ __mixed__=9",
            "region scorer recsys inference us-east-1=30",
            "service_name __deferred_training__ recsys training __amortized_training__=10",
            "service_name ranker recsys __untagged__ Amazon DynamoDB=28.33",
            "service_name ranker recsys __untagged__ Amazon ElastiCache=16.67",
            "service_name ranker recsys data_transfer AWS Data Transfer=10",
            "service_name ranker recsys inference Amazon EC2=150.01",
            "service_name ranker recsys training Amazon SageMaker=20",
            "service_name ranker recsys training __amortized_training__=-10",
            "service_name scorer recsys __untagged__ Amazon DynamoDB=5.67",
            "service_name scorer recsys __untagged__ Amazon ElastiCache=3.33",
            "service_name scorer recsys inference Amazon EC2=30",
        ]
    );
    // the manifest names them, in config order
    assert_eq!(
        manifest(&out)["config"]["dimensions"],
        serde_json::json!(["region", "service_name", "project"])
    );
    // each dimension ties out to cost_by_model per model, team and phase, and to the bill
    let by_model = rows_of(&read_table(&out, "cost_by_model"));
    for dimension in ["project", "region", "service_name"] {
        let mut sums = std::collections::BTreeMap::<String, Money>::new();
        for r in rows.iter().filter(|r| r["dimension"] == dimension) {
            *sums
                .entry(format!(
                    "{} {} {}",
                    r["model_id"], r["team"], r["lifecycle_phase"]
                ))
                .or_default() += Money::parse(&r["cost"]).unwrap();
        }
        assert_eq!(sums, by_model, "{dimension}");
        assert_eq!(sums.values().copied().sum::<Money>().to_string(), "264.01");
    }
}

/// cost_by_model summed per "model team phase".
fn rows_of(df: &polars::prelude::DataFrame) -> std::collections::BTreeMap<String, Money> {
    let mut sums = std::collections::BTreeMap::<String, Money>::new();
    for r in rows(df) {
        *sums
            .entry(format!(
                "{} {} {}",
                r["model_id"], r["team"], r["lifecycle_phase"]
            ))
            .or_default() += Money::parse(&r["cost"]).unwrap();
    }
    sums.retain(|_, v| !v.is_zero());
    sums
}

/// A tag named like a billing column is listed as `tag.<key>` next to the column; an entry
/// no billing line has a value for (a misspelt column) is warned about, not silently null.
#[test]
fn tag_named_like_a_column_and_unknown_entries() {
    let env = TestEnv::new();
    let billing = fixture("dimensions/billing.csv");
    let c = env.write(
        "c.toml",
        "[output]\ndimensions = [\"region\", \"tag.region\", \"servicename\"]\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        c.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dims: std::collections::BTreeSet<String> =
        rows(&read_table(&env.path("out"), "cost_by_dimension"))
            .into_iter()
            .map(|r| format!("{}={}", r["dimension"], r["value"]))
            .collect();
    assert!(
        dims.contains("region=eu-west-1") && dims.contains("tag.region=null"),
        "{dims:?}"
    );
    for name in ["tag.region", "servicename"] {
        assert!(
            r.stderr.contains(&format!(
                "`[output] dimensions` entry `{name}` has no value on any billing line of this run"
            )),
            "{name}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("entry `region`"), "{}", r.stderr);
}

/// `explain` shows what drives a model's cost; `--top` sums the rest.
#[test]
fn explain_shows_the_dimensions() {
    let env = TestEnv::new();
    attributed(&env, None);
    let r = env.run(&[
        "explain", "--input", "out", "--model", "ranker", "--period", "2026-10", "--top", "2",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

/// A month published again without dimensions loses its partition (with a warning), and
/// mistakes in the list are config errors naming the entry.
#[test]
fn dimensions_removed_and_mistaken() {
    let env = TestEnv::new();
    let out = attributed(&env, None);
    assert!(out
        .join("cost_by_dimension/billing_period=2026-10/_SUCCESS")
        .exists());
    let billing = fixture("dimensions/billing.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!out
        .join("cost_by_dimension/billing_period=2026-10")
        .exists());
    assert!(
        r.stderr.contains("`cost_by_dimension/billing_period=2026-10` removed: this run republished its month without it (`[output] dimensions` lists none)"),
        "{}",
        r.stderr
    );
    for (dims, expected) in [
        (
            r#"["region", " Region "]"#,
            "`region` and `Region` both name `region`",
        ),
        (
            r#"["project", "tag.project"]"#,
            "`project` and `tag.project` both name `project`",
        ),
        (
            r#"["env", "environment"]"#,
            "`env` and `environment` both name `environment`",
        ),
        (
            r#"["model_id"]"#,
            "`model_id` is `model_id`, already a column of every row",
        ),
        (
            r#"["phase"]"#,
            "`phase` is `lifecycle_phase`, already a column of every row",
        ),
        (r#"[""]"#, "an entry is empty"),
    ] {
        let c = env.write("bad.toml", &format!("[output]\ndimensions = {dims}\n"));
        let r = env.run(&[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--out",
            "bad",
            "--config",
            c.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{dims}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{dims}: {}", r.stderr);
        assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
    }
}

/// The same spend written as FOCUS and as AWS CUR (CSV, and Parquet through the fast path)
/// breaks down the same by region, service and a tag: each adapter maps its region column.
#[test]
fn focus_and_cur_layouts_break_down_alike() {
    let env = TestEnv::new();
    let config = env.write(
        "c.toml",
        "[output]\ndimensions = [\"region\", \"service_name\", \"project\"]\n",
    );
    let mut tables = Vec::new();
    for (dir, layout, format, file) in [
        ("focus", "focus", "csv", "focus_sample.csv"),
        ("cur", "aws-cur", "csv", "aws_cur_sample.csv"),
        ("curpq", "aws-cur", "parquet", "aws_cur_sample.parquet"),
    ] {
        let r = env.run(&[
            "sample", "--out", dir, "--layout", layout, "--format", format, "--rows", "3000",
            "--seed", "3", "-q",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = format!("{dir}-out");
        let r = env.run(&[
            "attribute",
            "--billing",
            &format!("{dir}/{file}"),
            "--out",
            &out,
            "--config",
            config.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        tables.push(rows(&read_table(&env.path(&out), "cost_by_dimension")));
    }
    assert!(tables[0]
        .iter()
        .any(|r| r["dimension"] == "region" && r["value"] != "null"));
    assert_eq!(tables[0], tables[1], "CUR CSV");
    assert_eq!(tables[0], tables[2], "CUR Parquet");
}

/// The report's "What drives cost" section: by hand, region us-east-1 is 100.01 + 10 + 30 +
/// 20 = 160.01 of 264.01 (60.6%), most of it ranker's 130.01; the pool's 54 is `__mixed__`.
#[test]
fn report_shows_what_drives_cost() {
    let env = TestEnv::new();
    attributed(&env, None);
    let r = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in [
        "## What drives cost, 2026-10",
        "| region | us-east-1 | $160.01 | 60.6% | ranker ($130.01) |",
        "| region | \\_\\_mixed\\_\\_ | $54.00 | 20.5% | ranker ($45.00) |",
        "| region | eu-west-1 | $50.00 | 18.9% | ranker ($50.00) |",
        "| service_name | Amazon EC2 | $180.01 | 68.2% | ranker ($150.01) |",
    ] {
        assert!(r.stdout.contains(line), "{line}\n{}", r.stdout);
    }
    // without dimensions the section is not there
    let plain = TestEnv::new();
    let billing = fixture("dimensions/billing.csv");
    let r = plain.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "out",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = plain.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert!(!r.stdout.contains("What drives cost"), "{}", r.stdout);
}
