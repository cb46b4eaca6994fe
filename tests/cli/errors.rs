//! Error messages and exit codes: snapshot-tested so wording changes are reviewed.

use crate::util::*;

fn error_of(env: &TestEnv, args: &[&str]) -> (i32, String) {
    let r = env.run(args);
    assert!(r.stdout.is_empty(), "errors go to stderr: {}", r.stdout);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    (r.code, env.clean(&r.stderr))
}

#[test]
fn missing_input_file() {
    let env = TestEnv::new();
    let (code, err) = error_of(
        &env,
        &["attribute", "--billing", "nope.csv", "--out", "out"],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: cannot read `nope.csv`
      Caused by: no such file or directory

    hint: check the path exists and is readable
    ");
    assert!(
        !env.path("out").exists(),
        "nothing is written on a failed run"
    );
}

#[test]
fn glob_matching_nothing() {
    let env = TestEnv::new();
    let (code, err) = error_of(&env, &["validate", "--billing", "exports/*.parquet"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: no input files found for `exports/*.parquet`

    hint: pass a file, a directory or a quoted glob such as `'exports/*.parquet'`
    ");
}

#[test]
fn unrecognised_file_names_the_closest_format_and_what_it_lacks() {
    let env = TestEnv::new();
    env.write("cur.csv", "lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode\n2026-10-01T00:00:00Z,1.5,USD\n");
    let (code, err) = error_of(&env, &["attribute", "--billing", "cur.csv", "--out", "out"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: `cur.csv` is not readable as AWS CUR: missing column(s) lineItem/LineItemType, bill/BillingPeriodStartDate

    hint: mlcost reads FOCUS 1.0-1.4, AWS CUR 1 and 2, Azure cost details, GCP BigQuery exports, OCI cost reports and Cost Explorer data; the format named is the closest match (`--format` forces one)
    ");
    env.write("other.csv", "a,b\n1,2\n");
    let (code, err) = error_of(&env, &["validate", "--billing", "other.csv"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: `other.csv` is not readable as "),
        "{err}"
    );
}

#[test]
fn empty_file_and_header_only() {
    let env = TestEnv::new();
    env.write("empty.csv", "");
    let (code, err) = error_of(
        &env,
        &["attribute", "--billing", "empty.csv", "--out", "out"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: cannot ingest `empty.csv`: the file is empty"),
        "{err}"
    );
    let header = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    env.write("header.csv", header.lines().next().unwrap());
    let (code, err) = error_of(
        &env,
        &["attribute", "--billing", "header.csv", "--out", "out"],
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(err, @r"
    error: no billing rows were read from 1 file(s); nothing was written

    hint: check that the export is complete: `header.csv` has a header but no data rows
    ");
    // nothing published; the run is recorded as rejected
    assert_eq!(manifest(&env.path("out"))["status"], "rejected");
    assert!(!env.path("out/cost_by_model").exists());
}

#[test]
fn truncated_gzip() {
    let env = TestEnv::new();
    let text = std::fs::read(fixture("focus/basic.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &text).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(env.path("cut.csv.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let (code, err) = error_of(
        &env,
        &["attribute", "--billing", "cut.csv.gz", "--out", "out"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: cannot ingest `cut.csv.gz`: cannot decompress"),
        "{err}"
    );
    assert!(
        err.contains("hint: the gzip file may be truncated"),
        "{err}"
    );
}

#[test]
fn config_with_unknown_key_names_file_and_line() {
    let env = TestEnv::new();
    env.write("mlcost.toml", "[tags]\nrequired = [\"team\"]\nalias = {}\n");
    let billing = fixture("focus/basic.csv");
    let (code, err) = error_of(
        &env,
        &[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--out",
            "out",
            "--config",
            "mlcost.toml",
        ],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: invalid config `mlcost.toml`: TOML parse error at line 3, column 1
      |
    3 | alias = {}
      | ^^^^^
    unknown field `alias`, expected one of `required`, `aliases`, `allowed`, `lowercase_values`

    hint: `mlcost init` writes a commented example of every key
    ");
}

#[test]
fn bad_period_and_forced_format_mismatch() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let b = billing.to_str().unwrap();
    let (code, err) = error_of(
        &env,
        &[
            "attribute",
            "--billing",
            b,
            "--out",
            "out",
            "--period",
            "2026-13",
        ],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: invalid `--period` value `2026-13`

    hint: use a billing month such as `2026-10`
    ");
    // a forced format is checked, not assumed
    let (code, err) = error_of(&env, &["validate", "--billing", b, "--format", "gcp"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: `[FIXTURES]/focus/basic.csv` is not readable as GCP billing export: missing column(s) cost, currency, invoice.month

    hint: mlcost reads FOCUS 1.0-1.4, AWS CUR 1 and 2, Azure cost details, GCP BigQuery exports, OCI cost reports and Cost Explorer data; the format named is the closest match (`--format` forces one)
    ");
}

#[test]
fn volumes_without_required_columns() {
    let env = TestEnv::new();
    env.write("req.csv", "day,model,count_x\n2026-10-01,a,1\n");
    let billing = fixture("focus/basic.csv");
    let (code, err) = error_of(
        &env,
        &[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--requests",
            "req.csv",
            "--out",
            "out",
        ],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(err, @r"
    error: `req.csv` is not readable as request volumes: missing column(s) requests (or a column per unit, or `unit` and `quantity`)

    hint: request volumes need `model_id`, `requests` (or a column per unit such as `tokens`, or `unit` and `quantity`), and `date` (YYYY-MM-DD) or `billing_period` (YYYY-MM) columns
    ");
}

#[test]
fn bad_volume_rows_are_quarantined_not_fatal() {
    let env = TestEnv::new();
    env.write(
        "req.csv",
        "date,model_id,requests\n2026-09-01,ranker,1000000\n2026-09-02,ranker,-5\n2026-09-31,ranker,3\n2026-09-03,,4\n2026-09-04,ranker,1.5\n",
    );
    let billing = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        "req.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // each unusable row is listed under its month; the one without a readable date in
    // other_rows.csv
    let sept =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-09/quarantine.csv"))
            .unwrap();
    let other = std::fs::read_to_string(env.path("out/quarantine/other_rows.csv")).unwrap();
    assert_eq!(
        other.lines().filter(|l| l.starts_with("req.csv")).count(),
        1,
        "{other}"
    );
    let mut q: Vec<&str> = sept
        .lines()
        .chain(other.lines())
        .filter(|l| l.starts_with("req.csv"))
        .collect();
    q.sort_by_key(|l| l.split(',').nth(1).map(|n| n.parse::<u32>().unwrap_or(0)));
    assert_eq!(
        q,
        vec![
            "req.csv,2,requests,negative request count,-5",
            "req.csv,3,date,not a date or YYYY-MM,2026-09-31",
            "req.csv,4,model_id,empty model_id,",
            "req.csv,5,requests,not a whole number,1.5",
        ]
    );
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    assert_eq!(
        find(
            &units,
            &[("billing_period", "2026-09"), ("model_id", "ranker")]
        )["requests"],
        "1000000"
    );
}

#[test]
fn the_same_export_twice_is_refused() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    env.write("a/export.csv", &text);
    env.write("b/export-copy.csv", &text);
    let (code, err) = error_of(&env, &["attribute", "--billing", "a", "b", "--out", "out"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "error: cannot ingest `b/export-copy.csv`: it has the same content as `a/export.csv`"
        ),
        "{err}"
    );
    assert!(
        err.contains("reading both would count every line item twice"),
        "{err}"
    );
}
