//! Issue #12: never publish a wrong, empty or half-replaced month, whatever the input or the
//! neighbour. One test per finding of the hostile review, named after it; each failed before
//! the fix.

use std::time::Duration;

use crate::util::*;

fn attribute(env: &TestEnv, billing: &str, extra: &[&str]) -> Run {
    let mut args = vec!["attribute", "--billing", billing, "--out", "out"];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn basic(env: &TestEnv) -> String {
    let _ = env;
    fixture("focus/basic.csv").display().to_string()
}

/// The rows of basic.csv in one month only.
fn month_only(env: &TestEnv, month: &str) -> String {
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let kept: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.starts_with(month))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    env.write(&format!("{month}.csv"), &kept)
        .display()
        .to_string()
}

fn partition_manifest(env: &TestEnv, table: &str, period: &str) -> serde_json::Value {
    let p = env.path(&format!(
        "out/{table}/billing_period={period}/_manifest.json"
    ));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn issue12_1_a_run_with_nothing_for_a_month_never_empties_it() {
    let env = TestEnv::new();
    assert_eq!(attribute(&env, &basic(&env), &[]).code, 0);
    let before = published(&env.path("out"));
    let october_rows = rows(&read_table(&env.path("out"), "cost_by_model"))
        .iter()
        .filter(|r| r["billing_period"] == "2026-10")
        .count();
    // September asked for, but the input has only October: September stays as it was
    let oct = month_only(&env, "2026-10");
    let r = attribute(&env, &oct, &["--period", "2026-09"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no usable billing row for 2026-09 (")
            && r.stderr
                .contains("rows of other months are outside --period)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was published"), "{}", r.stderr);
    assert!(
        before == published(&env.path("out")),
        "September was replaced"
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["status"], "rejected");
    // a month nobody has data for
    let r = attribute(&env, &basic(&env), &["--period", "2026-11"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(before == published(&env.path("out")));
    // on purpose: --allow-empty publishes it, and says so
    let r = attribute(&env, &oct, &["--period", "2026-09", "--allow-empty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        read_table(&env.path("out"), "cost_by_model").height(),
        october_rows,
        "only October's rows remain"
    );
    let p = partition_manifest(&env, "cost_by_model", "2026-09");
    assert_eq!(p["allow_empty"], true);
    assert_eq!(manifest(&env.path("out"))["allow_empty"], true);
}

#[test]
fn issue12_2_hostile_journals_are_refused_and_nothing_moves() {
    let env = TestEnv::new();
    assert_eq!(attribute(&env, &basic(&env), &[]).code, 0);
    let victim = env.write("victim.txt", "secret");
    std::fs::create_dir_all(env.path("out/.mlcost-staging-1/cost_by_model/billing_period=2026-10"))
        .unwrap();
    env.write(
        "out/.mlcost-staging-1/cost_by_model/billing_period=2026-10/part-0.parquet",
        "evil",
    );
    std::fs::create_dir_all(env.path("elsewhere")).unwrap();
    std::os::unix::fs::symlink(
        env.path("elsewhere"),
        env.path("out/cost_by_model/billing_period=2026-12"),
    )
    .unwrap();
    let staged = ".mlcost-staging-1/cost_by_model/billing_period=2026-10/part-0.parquet";
    let victim_abs = victim.display().to_string();
    let cases: Vec<(&str, String)> = vec![
        ("target outside --out", format!("{staged}\t../stolen.txt\n")),
        ("absolute target", format!("{staged}\t{}/stolen\n", env.dir.path().display())),
        ("staged file outside staging", "../victim.txt\tcost_by_model/billing_period=2026-10/part-0.parquet\n".to_string()),
        ("absolute staged file", format!("{victim_abs}\tcost_by_model/billing_period=2026-10/part-0.parquet\n")),
        ("a file mlcost never writes", ".mlcost-staging-1/run.sh\trun.sh\n".to_string()),
        ("staged and target differ", format!("{staged}\tunit_costs/billing_period=2026-10/part-0.parquet\n")),
        (
            "a symbolic link on the way",
            ".mlcost-staging-1/cost_by_model/billing_period=2026-12/part-0.parquet\tcost_by_model/billing_period=2026-12/part-0.parquet\n".to_string(),
        ),
        ("not two paths", "cost_by_model\n".to_string()),
    ];
    for (name, journal) in cases {
        env.write("out/.mlcost-commit", &journal);
        let before = published(&env.path("out"));
        let r = attribute(&env, &basic(&env), &[]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("cannot be trusted"),
            "{name}: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "secret",
            "{name}"
        );
        assert!(
            !env.path("stolen.txt").exists() && !env.path("stolen").exists(),
            "{name}"
        );
        assert!(
            before == published(&env.path("out")),
            "{name}: outputs changed"
        );
        assert!(
            env.path("out/.mlcost-commit").exists(),
            "{name}: the journal is left for a person"
        );
        assert!(
            std::fs::read_dir(env.path("elsewhere"))
                .unwrap()
                .next()
                .is_none(),
            "{name}: nothing written through the link"
        );
    }
    // once the journal is gone, runs work again
    std::fs::remove_file(env.path("out/.mlcost-commit")).unwrap();
    assert_eq!(attribute(&env, &basic(&env), &[]).code, 0);
}

#[test]
fn issue12_3_sums_never_wrap() {
    let env = TestEnv::new();
    // 9 * 10^19 twice is beyond decimal(38,18) (and beyond i128 at scale 18)
    env.write(
        "huge.csv",
        std::str::from_utf8(&focus(&[
            good("90000000000000000000"),
            good("90000000000000000000"),
        ]))
        .unwrap(),
    );
    let r = attribute(&env, "huge.csv", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is too large"), "{}", r.stderr);
    assert!(
        r.stderr.contains("huge.csv"),
        "names the file: {}",
        r.stderr
    );
    assert!(!env.path("out/cost_by_model").exists());
    // the same amounts in two files: the merge across files is checked too
    env.write(
        "a.csv",
        std::str::from_utf8(&focus(&[good("90000000000000000000")])).unwrap(),
    );
    env.write(
        "b.csv",
        std::str::from_utf8(&focus(&[good("90000000000000000000"), good("1")])).unwrap(),
    );
    let r = env.run(&["attribute", "--billing", "a.csv", "b.csv", "--out", "out"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is too large"), "{}", r.stderr);
    // request counts: two rows of i64::MAX for one model and month
    env.write("ok.csv", std::str::from_utf8(&focus(&[good("1")])).unwrap());
    env.write(
        "req.csv",
        "date,model_id,requests\n2026-10-01,m,9223372036854775807\n2026-10-02,m,9223372036854775807\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "ok.csv",
        "--requests",
        "req.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("the request count of `m` in 2026-10"),
        "{}",
        r.stderr
    );
    // 20-digit unit economics: exact, computed in 256 bits
    let r = env.run(&[
        "economics",
        "--cost",
        "90000000000000000000",
        "--volume",
        "1",
        "--revenue",
        "99999999999999999999",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["gross_margin_pct"], "9.999999999999999999");
    assert_eq!(j["cost_pct_of_revenue"], "90");
    // out of range is null with a reason, never a wrapped number
    let r = env.run(&[
        "economics",
        "--cost",
        "90000000000000000000",
        "--volume",
        "1",
        "--revenue",
        "0.000000000000000001",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["cost_pct_of_revenue"], serde_json::Value::Null);
    assert_eq!(j["reason"], "out of range for decimal(38,18)");
}

#[test]
fn issue12_5_an_offset_timestamp_has_one_month_in_csv_and_parquet() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};

    let env = TestEnv::new();
    // 2026-10-01T00:00:00+02:00 is 2026-09-30T22:00:00Z: September, from either file
    let tags = r#"{"model_id": "m", "team": "t"}"#;
    let csv = focus(&[row("2026-10-01T00:00:00+02:00", "USD", "5", tags, "i-1")]);
    env.write("offset.csv", std::str::from_utf8(&csv).unwrap());
    let instant_us = 1_790_805_600_000_000i64; // 2026-09-30T22:00:00Z
    let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let period = Arc::new(TimestampMicrosecondArray::from(vec![instant_us]).with_timezone("+02:00"))
        as ArrayRef;
    let batch = RecordBatch::try_from_iter([
        ("BillingPeriodStart", period),
        ("BillingCurrency", text("USD")),
        ("ChargeCategory", text("Usage")),
        ("ProviderName", text("AWS")),
        ("ResourceId", text("i-1")),
        ("Tags", text(tags)),
        ("BilledCost", text("5")),
        ("EffectiveCost", text("5")),
    ])
    .unwrap();
    let file = std::fs::File::create(env.path("offset.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    for (input, out) in [
        ("offset.csv", "from_csv"),
        ("offset.parquet", "from_parquet"),
    ] {
        let r = env.run(&["attribute", "--billing", input, "--out", out]);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let cost = rows(&read_table(&env.path(out), "cost_by_model"));
        assert_eq!(cost.len(), 1, "{input}");
        assert_eq!(cost[0]["billing_period"], "2026-09", "{input}");
    }
}

#[test]
fn issue12_6_the_same_export_plain_and_gzipped_is_refused() {
    let env = TestEnv::new();
    let text = std::fs::read(fixture("focus/basic.csv")).unwrap();
    std::fs::write(env.path("bill.csv"), &text).unwrap();
    std::fs::write(env.path("bill.csv.gz"), gz(&text)).unwrap();
    let r = env.run(&[
        "attribute",
        "--billing",
        "bill.csv",
        "bill.csv.gz",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("it has the same content as"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out/cost_by_model").exists());
}

#[test]
fn issue12_7_nothing_usable_is_rejected_by_attribute_and_validate() {
    let env = TestEnv::new();
    env.write(
        "bad.csv",
        std::str::from_utf8(&focus(&[good("abc"), good("NaN")])).unwrap(),
    );
    let r = attribute(&env, "bad.csv", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("none of the 2 billing rows could be used (2 quarantined)"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out/cost_by_model").exists());
    let q = std::fs::read_to_string(env.path("out/quarantine/rejected_run.csv")).unwrap();
    assert_eq!(q.lines().count(), 3, "{q}");
    let r = env.run(&["validate", "--billing", "bad.csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("none of the 2 billing rows could be used"),
        "{}",
        r.stderr
    );
    let r = env.run(&["validate", "--billing", "bad.csv", "--json"]);
    assert_eq!(r.code, 1);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (j["status"].as_str(), j["passed"].as_bool()),
        (Some("rejected"), Some(false))
    );
}

#[test]
fn issue12_9_ten_runs_racing_on_one_output_directory_finish_in_turn() {
    let env = TestEnv::new();
    let a = basic(&env);
    let text = std::fs::read_to_string(&a).unwrap();
    let b = env.write(
        "restated.csv",
        &text.replace("1.81E-2,1.81E-2", "3.62E-2,3.62E-2"),
    );
    let children: Vec<_> = (0..10)
        .map(|i| {
            let input = if i % 2 == 0 {
                a.clone()
            } else {
                b.display().to_string()
            };
            std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
                .args([
                    "attribute",
                    "--billing",
                    &input,
                    "--out",
                    "out",
                    "--wait",
                    "300",
                    "-q",
                ])
                .current_dir(env.dir.path())
                .env("MLCOST_NO_PROGRESS", "1")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // no working file left, and every partition of a month comes from one run: the last one
    let names: Vec<String> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".mlcost") && n != ".mlcost.lock")
        .collect();
    assert_eq!(names, Vec::<String>::new());
    let m = manifest(&env.path("out"));
    assert_eq!(m["status"], "published");
    for p in m["partitions"].as_array().unwrap() {
        assert_eq!(p["run_id"], m["run_id"], "{p}");
    }
    for period in ["2026-09", "2026-10"] {
        for table in ["cost_by_model", "unit_costs", "tag_compliance"] {
            assert_eq!(
                partition_manifest(&env, table, period)["run_id"],
                m["run_id"]
            );
        }
    }
    let oct = sums(&read_table(&env.path("out"), "cost_by_model"), "cost")
        [&("2026-10".into(), "USD".into())]
        .clone();
    assert!(
        ["0.018100000000000001", "0.036200000000000001"].contains(&oct.as_str()),
        "{oct}"
    );
}

#[test]
fn issue12_10_history_survives_any_order_of_period_and_full_runs() {
    let env = TestEnv::new();
    let a = basic(&env);
    assert_eq!(attribute(&env, &a, &[]).code, 0);
    assert_eq!(attribute(&env, &a, &["--period", "2026-09"]).code, 0);
    let text = std::fs::read_to_string(&a).unwrap();
    let b = env.write(
        "restated.csv",
        &text.replace("1.81E-2,1.81E-2", "3.62E-2,3.62E-2"),
    );
    assert_eq!(attribute(&env, b.to_str().unwrap(), &[]).code, 0);
    let oct = partition_manifest(&env, "cost_by_model", "2026-10");
    let h = oct["history"].as_array().unwrap();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        (h[0]["cost_before"].as_str(), h[0]["cost_after"].as_str()),
        (Some("0.018100000000000001"), Some("0.036200000000000001"))
    );
    assert!(h[0]["previous_run_id"].is_string());
    // and a later --period run of September keeps October's history where it is
    assert_eq!(
        attribute(&env, b.to_str().unwrap(), &["--period", "2026-09"]).code,
        0
    );
    assert_eq!(
        partition_manifest(&env, "cost_by_model", "2026-10")["history"],
        oct["history"]
    );
}

#[test]
fn issue12_11_a_huge_config_number_is_an_error_naming_key_and_line() {
    let env = TestEnv::new();
    let config = env.write("c.toml", "[amortize]\ntraining_months = 4294967295\n");
    let r = attribute(&env, &basic(&env), &["--config", config.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("training_months"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("between 1 and 120 months"),
        "{}",
        r.stderr
    );
    assert_eq!(
        attribute(&env, &basic(&env), &[]).code,
        0,
        "no lock left behind"
    );
}

#[test]
fn issue12_12_untrusted_text_is_escaped_for_each_medium() {
    let env = TestEnv::new();
    let evil = "m\u{1b}]0;pwned\u{7}\u{1b}[31m";
    let long = "x".repeat(1_000_000);
    let tags = |m: &str| serde_json::json!({"model_id": m, "team": "t"}).to_string();
    let csv = focus(&[
        row("2026-10-01", "USD", "1", &tags(evil), "i-1"),
        row("2026-10-01", "USD", "2", &tags(&long), "i-2"),
        row(
            "2026-10-01",
            "USD",
            "3",
            &tags("<script>alert(1)</script>|a"),
            "i-3",
        ),
        row(
            "2026-10-01",
            "USD",
            "=HYPERLINK(\"http://x\")",
            &tags("q"),
            "i-4",
        ),
    ]);
    env.write("evil.csv", std::str::from_utf8(&csv).unwrap());
    env.write("req.csv", "date,model_id,requests\n2026-10-01,other,5\n");
    let r = env.run(&[
        "attribute",
        "--billing",
        "evil.csv",
        "--requests",
        "req.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'),
        "raw control characters reached the terminal"
    );
    assert!(
        r.stderr.contains("\\u{1b}"),
        "{}",
        &r.stderr[..r.stderr.len().min(2000)]
    );
    assert!(
        r.stderr.lines().all(|l| l.chars().count() < 1000),
        "a 1 MB id is printed whole"
    );
    // the table keeps the full value
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    assert!(cost.iter().any(|r| r["model_id"] == long));
    // Markdown: no raw HTML, no broken table
    let r = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains("<script>"),
        "raw HTML in the Markdown report"
    );
    assert!(
        r.stdout.contains("&lt;script&gt;"),
        "{}",
        &r.stdout[..r.stdout.len().min(3000)]
    );
    // CSV for spreadsheets: the formula is defused
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-10/quarantine.csv"))
            .unwrap();
    assert!(q.contains(",\"'=HYPERLINK(\"\"http"), "{q}");
}

#[test]
fn issue12_13_inputs_json_fifo_symlink_loop_and_the_output_directory() {
    let env = TestEnv::new();
    // a Cost Explorer JSON and a GCP export in a directory are read, not skipped
    std::fs::create_dir_all(env.path("in")).unwrap();
    // (one team is called "reconciliation": a word in the data, not a manifest's key)
    let api = std::fs::read_to_string(fixture("cost_explorer/api.json")).unwrap();
    env.write(
        "in/api.json",
        &api.replacen("team$recsys", "team$reconciliation", 1),
    );
    std::fs::copy(fixture("gcp/export.jsonl"), env.path("in/export.jsonl")).unwrap();
    // a delivery manifest next to them is not billing data
    env.write(
        "in/report-Manifest.json",
        r#"{"assemblyId": "1", "reportKeys": ["a.csv.gz"]}"#,
    );
    // nor are the markers writers leave beside their data
    env.write("in/_SUCCESS.csv", "");
    env.write("in/_manifest.json", r#"{"rows": 3}"#);
    // a FIFO would block whoever opens it; a symlink loop would be walked forever
    let fifo = env.path("in/pipe.csv");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink(env.path("in"), env.path("in/loop")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args(["attribute", "--billing", "in", "--out", "in/out"])
        .current_dir(env.dir.path())
        .env("MLCOST_NO_PROGRESS", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "the run hangs");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("pipe.csv") && stderr.contains("not a regular file"),
        "{stderr}"
    );
    assert!(stderr.contains("symbolic link loop"), "{stderr}");
    let m = manifest(&env.path("in/out"));
    let kinds: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    // a second run with --out inside the input directory does not read its own outputs
    let r = env.run(&["attribute", "--billing", "in", "--out", "in/out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        manifest(&env.path("in/out"))["inputs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // naming a file inside --out is an error
    let r = env.run(&[
        "attribute",
        "--billing",
        "in/out/quarantine/other_rows.csv",
        "--out",
        "in/out",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("inside the output directory"),
        "{}",
        r.stderr
    );
    // and a FIFO named directly is refused at once
    let r = env.run(&["attribute", "--billing", "in/pipe.csv", "--out", "o2"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
}

#[test]
fn issue12_14_per_model_targets_match_however_the_key_is_written() {
    let env = TestEnv::new();
    let config = env.write(
        "c.toml",
        "[targets]\nmax_cost_per_1000_requests = 1000\n[targets.models.\" RANKER \"]\nmax_cost_per_1000_requests = 0.000001\n",
    );
    let requests = fixture("focus/requests.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        &basic(&env),
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(ranker["verdict"], "over_target", "{ranker:?}");
    let bad = env.write(
        "bad.toml",
        "[targets.models.ranker]\nmax_cost_per_1000_requests = -1\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        &basic(&env),
        "--out",
        "out",
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("got -1"),
        "{}",
        r.stderr
    );
}

#[test]
fn issue12_15_files_follow_the_umask_and_out_of_range_is_its_own_reason() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.write(
        "big.csv",
        std::str::from_utf8(&focus(&[good("1e25"), good("1")])).unwrap(),
    );
    let r = attribute(&env, "big.csv", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-10/quarantine.csv"))
            .unwrap();
    assert!(
        q.contains("\"EffectiveCost is out of range for decimal(38,18)\",1e25"),
        "{q}"
    );
    let m = manifest(&env.path("out"));
    assert_eq!(
        m["rows"]["quarantined_by_reason"]["EffectiveCost is out of range for decimal(38,18)"],
        1
    );
    // report and sql files get the mode File::create gives under the same umask, not 0600
    let probe = env.write("probe", "");
    let want = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        env.run(&["report", "--input", "out", "--out", "r.html"])
            .code,
        0
    );
    assert_eq!(
        env.run(&["sql", "--dialect", "duckdb", "--out", "q.sql"])
            .code,
        0
    );
    for f in ["r.html", "q.sql"] {
        let mode = std::fs::metadata(env.path(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "{f}: {mode:o}");
    }
}

/// The same mistakes one step away: a side file with nothing usable, an unbounded forecast,
/// per-model utilisation keys, a day count that overflows.
#[test]
fn issue12_neighbours_of_the_findings() {
    let env = TestEnv::new();
    let basic = basic(&env);
    env.write(
        "req.csv",
        "date,model_id,requests\n2026-10-01,m,-5\n2026-10-02,,3\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        &basic,
        "--requests",
        "req.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("none of the 2 rows of the requests file"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out/cost_by_model").exists());
    let r = env.run(&["forecast", "--input", "out", "--months", "4294967295"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = env.run(&[
        "economics",
        "--cost",
        "1",
        "--volume",
        "90000000000000000000",
        "--per",
        "day",
        "--days-per-month",
        "31",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("too large"), "{}", r.stderr);
    // [hidden] utilization keys are model ids too
    assert_eq!(attribute(&env, &basic, &[]).code, 0);
    let c = env.write("h.toml", "[hidden]\nutilization = { \" RANKER \" = 0.5 }\n");
    let r = env.run(&[
        "hidden",
        "--input",
        "out",
        "--config",
        c.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let ranker = rows.iter().find(|r| r["model_id"] == "ranker").unwrap();
    assert_eq!(ranker["idle_capacity"], "177.4913", "{ranker}");
}

/// Review 1.3: a month republished without amortisation (or after `mlcost hidden`) keeps no
/// partition of the replaced run: training schedules and hidden costs of that month would
/// describe a bill that is no longer the published one.
#[test]
fn issue12_review_republished_month_keeps_no_stale_partition() {
    let env = TestEnv::new();
    let config = env.write(
        "c.toml",
        "[amortize]\ntraining_months = 3\n[hidden]\ndefault_utilization = 0.5\n",
    );
    let c = config.to_str().unwrap();
    let r = attribute(&env, &basic(&env), &["--config", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["hidden", "--input", "out", "--config", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for t in ["training_amortization", "hidden_costs"] {
        for p in ["2026-09", "2026-10"] {
            let dir = format!("out/{t}/billing_period={p}/_SUCCESS");
            assert!(env.path(&dir).exists(), "{dir}");
        }
    }
    // October again: its hidden costs were estimated from the unit costs it replaces
    let october = month_only(&env, "2026-10");
    let r = attribute(&env, &october, &["--config", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`hidden_costs/billing_period=2026-10` removed"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out/hidden_costs/billing_period=2026-10").exists());
    assert!(env
        .path("out/hidden_costs/billing_period=2026-09/_SUCCESS")
        .exists());
    let m = manifest(&env.path("out"));
    assert_eq!(
        m["removed"],
        serde_json::json!(["hidden_costs/billing_period=2026-10"])
    );
    let listed: Vec<String> = m["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}/{}", p["table"], p["billing_period"]))
        .collect();
    assert!(
        !listed
            .iter()
            .any(|p| p.contains("hidden") && p.contains("2026-10")),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|p| p.contains("hidden") && p.contains("2026-09")),
        "{listed:?}"
    );
    // both months again with amortisation off: no schedule of either month is left
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for p in ["2026-09", "2026-10"] {
        for t in ["training_amortization", "hidden_costs"] {
            let dir = format!("out/{t}/billing_period={p}");
            assert!(!env.path(&dir).exists(), "{dir}");
        }
    }
    assert_eq!(
        manifest(&env.path("out"))["removed"],
        serde_json::json!([
            "training_amortization/billing_period=2026-09",
            "training_amortization/billing_period=2026-10",
            "hidden_costs/billing_period=2026-09"
        ])
    );
    // re-review F3 and its re-check: September alone with amortisation on again would leave
    // October charging a schedule that no longer follows from September: refused, naming
    // October, and nothing changes
    let before = published(&env.path("out"));
    let september = month_only(&env, "2026-09");
    let r = attribute(&env, &september, &["--config", c]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("2026-10 is published with amortisation that depends on 2026-09, which this run republishes without it"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("run once over the billing of every month from 2026-09 to 2026-10"),
        "{}",
        r.stderr
    );
    assert!(before == published(&env.path("out")));
    assert_eq!(manifest(&env.path("out"))["status"], "rejected");
    let r = attribute(&env, &basic(&env), &["--config", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains("amortisation that depends"),
        "{}",
        r.stderr
    );
}

/// Review 2.1 and 3.2: a commit checks the whole way before its first rename. A partition
/// directory that is a symbolic link (to a directory the run must never write into) or a
/// directory where a file goes stops the run with nothing replaced, and the next run, once
/// the obstacle is gone, publishes normally.
#[test]
fn issue12_review_commit_checks_the_way_before_the_first_rename() {
    let env = TestEnv::new();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a failed run records itself in manifest.json and its quarantined rows beside it
    let skip = [
        "manifest.json",
        ".mlcost.lock",
        "quarantine/rejected_run.csv",
    ];
    let before = tree_bytes(&env.path("out"), &skip);
    // October's unit_costs partition replaced by a link to someone else's directory
    let victim = env.path("victim");
    std::fs::create_dir_all(&victim).unwrap();
    let partition = env.path("out/unit_costs/billing_period=2026-10");
    std::fs::rename(&partition, env.path("moved")).unwrap();
    std::os::unix::fs::symlink(&victim, &partition).unwrap();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("in the way of the outputs: a symbolic link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    assert_eq!(manifest(&env.path("out"))["status"], "failed");
    assert!(!env.path("out/.mlcost-commit").exists());
    // a directory where September's data file goes: same, and September is untouched
    std::fs::remove_file(&partition).unwrap();
    std::fs::rename(env.path("moved"), &partition).unwrap();
    let part = env.path("out/cost_by_model/billing_period=2026-09/part-0.parquet");
    let kept = std::fs::read(&part).unwrap();
    std::fs::remove_file(&part).unwrap();
    std::fs::create_dir_all(&part).unwrap();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    std::fs::remove_dir(&part).unwrap();
    std::fs::write(&part, kept).unwrap();
    let after = tree_bytes(&env.path("out"), &skip);
    let changed: Vec<_> = after
        .keys()
        .filter(|k| after.get(*k) != before.get(*k))
        .collect();
    assert!(
        changed.is_empty() && after.len() == before.len(),
        "{changed:?}"
    );
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Review 2.2: a full run in which every row of a month is quarantined does not leave the
/// previous run's version of that month published as if this input agreed with it: the month
/// is refused as empty, and `--allow-empty` replaces it with empty tables and its quarantine.
#[test]
fn issue12_review_a_month_whose_rows_are_all_quarantined_is_not_kept_silently() {
    let env = TestEnv::new();
    assert_eq!(attribute(&env, &basic(&env), &[]).code, 0);
    let before = published(&env.path("out"));
    // October restated, but every October cost is unreadable
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let broken: String = text
        .lines()
        .map(|l| match l.starts_with("2026-10") {
            true => {
                let mut cells: Vec<&str> = l.rsplitn(6, ',').collect();
                cells[3] = "n/a"; // EffectiveCost
                cells.reverse();
                format!("{}\n", cells.join(","))
            }
            false => format!("{l}\n"),
        })
        .collect();
    let billing = env.write("broken.csv", &broken);
    let billing = billing.to_str().unwrap();
    let r = attribute(&env, billing, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no usable billing row for 2026-10"),
        "{}",
        r.stderr
    );
    assert!(
        before == published(&env.path("out")),
        "a month was replaced"
    );
    let r = attribute(&env, billing, &["--allow-empty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let months: Vec<String> = rows(&read_table(&env.path("out"), "cost_by_model"))
        .iter()
        .map(|r| r["billing_period"].clone())
        .collect();
    assert!(!months.iter().any(|m| m == "2026-10"), "{months:?}");
    assert!(months.iter().any(|m| m == "2026-09"), "{months:?}");
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-10/quarantine.csv"))
            .unwrap();
    assert!(q.contains("n/a"), "{q}");
}

/// Review 1.1, 1.5 and the lower findings on numbers: nothing out of range is saturated or
/// silently dropped. A cost per 1,000 requests beyond decimal(38,18) is null with its reason;
/// engineering time that overflows is an error; a utilisation that rounds to nothing, a
/// negative or sub-request volume and a waste fraction above 1 are refused.
#[test]
fn issue12_review_numbers_are_never_saturated_or_dropped() {
    let env = TestEnv::new();
    // one October inference row of 9 x 10^19 for ranker, one request
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines
        .find(|l| l.starts_with("2026-10") && l.contains("inference") && l.contains("ranker"))
        .unwrap();
    let mut cells: Vec<&str> = row.rsplitn(6, ',').collect();
    cells[3] = "90000000000000000000";
    cells.reverse();
    let billing = env.write("big.csv", &format!("{header}\n{}\n", cells.join(",")));
    env.write("req.csv", "date,model_id,requests\n2026-10-01,ranker,1\n");
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
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(&units, &[("model_id", "ranker")]);
    assert_eq!(ranker["cost_per_request"], "90000000000000000000");
    assert_eq!(ranker["cost_per_1000_requests"], "null");
    assert_eq!(
        ranker["unit_cost_reason"],
        "out of range for decimal(38,18)"
    );

    let e = |args: &[&str], want: &str| {
        let r = env.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    };
    let eco = |extra: &[&str]| {
        let mut a = vec!["economics", "--cost", "100"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: [(&[&str], &str); 6] = [
        (&["--volume", "0"], "less than one request a month"),
        (&["--volume", "0.4"], "less than one request a month"),
        (&["--volume=-5"], "cannot be negative"),
        (
            &[
                "--volume",
                "10",
                "--experiment-spend",
                "5",
                "--waste-fraction",
                "2",
            ],
            "must be from 0 to 1",
        ),
        (
            &["--volume", "10", "--utilization", "0.0000000001"],
            "must be from 0.000001 to 1",
        ),
        (
            &[
                "--volume",
                "10",
                "--ftes",
                "100000000000000",
                "--fte-cost",
                "100000000000000",
            ],
            "the engineering time estimate is too large",
        ),
    ];
    for (extra, want) in cases {
        let args = eco(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        e(&args, want);
    }
    // the same through [hidden]
    let c = env.write(
        "h.toml",
        "[hidden]\nftes = 1000000000000000\nfte_annual_cost = 1000000000000000\n",
    );
    e(
        &["hidden", "--input", "out", "--config", c.to_str().unwrap()],
        "the engineering time estimate is too large",
    );
    let c = env.write("u.toml", "[hidden]\ndefault_utilization = 1e-19\n");
    e(
        &["hidden", "--input", "out", "--config", c.to_str().unwrap()],
        "from 0.000001 to 1",
    );
}

/// Review 4.4: model ids from the data are escaped in every text a command prints, even when
/// stdout is not a terminal: a tag value cannot forge a line or send escape sequences.
#[test]
fn issue12_review_model_ids_cannot_forge_lines_in_text_outputs() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let evil = text.replace(
        r#"""model_id"": ""ranker"""#,
        r#"""model_id"": ""ranker\u001b[2J\nforged line"""#,
    );
    assert_ne!(evil, text);
    let billing = env.write("evil.csv", &evil);
    assert_eq!(attribute(&env, billing.to_str().unwrap(), &[]).code, 0);
    let c = env.write("h.toml", "[hidden]\ndefault_utilization = 0.5\n");
    let r = env.run(&["hidden", "--input", "out", "--config", c.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("ranker\\u{1b}[2j\\u{a}forged"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("forged")),
        "{}",
        r.stdout
    );
}

/// Review 3.1, 3.3-3.5: the files mlcost keeps under `--out` (the lock, the journal, the
/// manifests) are never followed through a planted symbolic link nor opened when they are a
/// FIFO (which would hang the run); each is an error naming the file, and nothing else moves.
#[test]
fn issue12_review_files_under_out_are_never_followed_or_blocked_on() {
    let env = TestEnv::new();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.path("out");
    // the lock replaced by a link to a file of someone else's: refused, the file untouched
    let victim = env.write("victim.txt", "precious\n");
    std::fs::remove_file(out.join(".mlcost.lock")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".mlcost.lock")).unwrap();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(".mlcost.lock` is a symbolic link, not a regular file"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    std::fs::remove_file(out.join(".mlcost.lock")).unwrap();
    // a FIFO where the journal goes: an error at once, not a run that hangs
    let fifo = std::ffi::CString::new(out.join(".mlcost-commit").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let started = std::time::Instant::now();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is a FIFO (named pipe)"), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(60));
    // ... and the readers refuse the half-published directory instead of mixing two runs
    for args in [
        vec!["trend", "--input", "out"],
        vec!["report", "--input", "out"],
        vec!["forecast", "--input", "out"],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("is half-published"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains("hint: run `mlcost attribute --out out` again"),
            "{}",
            r.stderr
        );
    }
    std::fs::remove_file(out.join(".mlcost-commit")).unwrap();
    let r = env.run(&["trend", "--input", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a partition manifest that does not parse holds a month's history: an error naming it,
    // not a history silently started again
    let pm = out.join("cost_by_model/billing_period=2026-10/_manifest.json");
    std::fs::write(&pm, "{ not json").unwrap();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("the partition manifest `")
            && r.stderr
                .contains("billing_period=2026-10/_manifest.json` cannot be read"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&pm).unwrap(), "{ not json");
    std::fs::remove_file(&pm).unwrap();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Review 4.3: inputs that used to panic are errors. A `--wait` too long for the clock, an
/// argument that is not UTF-8 with `--json`, a Parquet file whose bytes were altered.
#[test]
fn issue12_review_no_input_panics() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let r = attribute(&env, &basic(&env), &["--wait", &u64::MAX.to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args(["attribute", "--json", "--out", "out", "--period"])
        .arg(std::ffi::OsStr::from_bytes(b"2026-\xff"))
        .current_dir(env.path(""))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 2);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid UTF-8"),
        "{v}"
    );
    // a sample Parquet export with a run of bytes overwritten in its data and in its footer
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "2000", "--format", "parquet", "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let good = std::fs::read(env.path("s/focus_sample.parquet")).unwrap();
    let n = good.len();
    let mut places: Vec<(String, usize)> =
        (1..20).map(|i| (format!("{i}/20"), n * i / 20)).collect();
    places.extend([("footer".into(), n - 300), ("late footer".into(), n - 60)]);
    for (name, at) in places {
        let mut bad = good.clone();
        for b in &mut bad[at..at + 24] {
            *b = 0xff;
        }
        std::fs::write(env.path("bad.parquet"), &bad).unwrap();
        let r = env.run(&["attribute", "--billing", "bad.parquet", "--out", "o2"]);
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        assert!(r.code == 2 || r.code == 0, "{name}: {}", r.stderr);
        if r.code == 2 {
            assert!(r.stderr.contains("bad.parquet"), "{name}: {}", r.stderr);
        }
    }
    // an output part altered on disk: the readers name it
    let part = env.path("out/unit_costs/billing_period=2026-10/part-0.parquet");
    let mut bytes = std::fs::read(&part).unwrap();
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 24] {
        *b = 0xff;
    }
    std::fs::write(&part, &bytes).unwrap();
    let r = env.run(&["trend", "--input", "out"]);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("part-0.parquet"), "{}", r.stderr);
}

/// Review 3.6: tag values from user data are only ever strings in the Terraform and shell
/// snippets `mlcost tags` prints.
#[test]
fn issue12_review_tag_snippets_cannot_inject() {
    let env = TestEnv::new();
    let mut args = vec![
        "tags",
        "--team",
        "${file(\"/etc/passwd\")}",
        "--project",
        "a'b",
    ];
    args.extend(["--model-id", "$(touch pwned)", "--environment", "prod"]);
    args.extend([
        "--lifecycle-phase",
        "inference",
        "--cost-center",
        "%{ if true }x",
    ]);
    let mut tf = args.clone();
    tf.extend(["--output", "terraform"]);
    let r = env.run(&tf);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(r#""$${file(\"/etc/passwd\")}""#),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(r#""%%{ if true }x""#), "{}", r.stdout);
    let mut cli = args.clone();
    cli.extend(["--output", "aws-cli"]);
    let r = env.run(&cli);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // run through a shell, the words come back exactly and nothing is executed
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\n' {}", r.stdout.trim()))
        .current_dir(env.path(""))
        .output()
        .unwrap();
    let words = String::from_utf8(shell.stdout).unwrap();
    assert!(
        words.contains("Key=model_id,Value=$(touch pwned)\n"),
        "{words}"
    );
    assert!(words.contains("Key=project,Value=\"a'b\"\n"), "{words}");
    assert!(!env.path("pwned").exists());
}

/// Re-review F6: a commit that fails on its last step (here a directory where the quarantine
/// file goes) leaves no empty partition of the new month behind, and readers never take a
/// partition directory without its part file (a commit killed between the two) for a month.
#[test]
fn issue12_review_a_failed_commit_leaves_no_empty_partition() {
    let env = TestEnv::new();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let nov = std::fs::read_to_string(fixture("focus/basic.csv"))
        .unwrap()
        .replace("2026-10-01", "2026-11-01")
        .replace(
            "2026-11-01T00:00:00Z,2026-11-01",
            "2026-11-01T00:00:00Z,2026-12-01",
        );
    env.write("nov.csv", &nov);
    let _ = std::fs::remove_file(env.path("out/quarantine/other_rows.csv"));
    std::fs::create_dir_all(env.path("out/quarantine/other_rows.csv/x")).unwrap();
    let before = published(&env.path("out"));
    let r = attribute(&env, "nov.csv", &["--period", "2026-11"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("in the way of the outputs"),
        "{}",
        r.stderr
    );
    for table in ["cost_by_model", "unit_costs", "tag_compliance"] {
        let dir = env.path(&format!("out/{table}/billing_period=2026-11"));
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    assert!(before == published(&env.path("out")));
    let r = env.run(&["trend", "--input", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // an empty partition directory (a killed commit) is not a month
    std::fs::create_dir_all(env.path("out/unit_costs/billing_period=2026-12")).unwrap();
    let r = env.run(&["trend", "--input", "out", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("2026-12"), "{}", r.stdout);
    std::fs::remove_dir_all(env.path("out/quarantine/other_rows.csv")).unwrap();
    let r = attribute(&env, "nov.csv", &["--period", "2026-11"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    let periods: Vec<&str> = m["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["billing_period"].as_str())
        .collect();
    assert!(!periods.contains(&"2026-12"), "{periods:?}");
    assert!(periods.contains(&"2026-11"), "{periods:?}");
}

/// Re-review F5: the record of a rejected run (its quarantined rows) is never written through
/// a symbolic link planted under `--out`.
#[test]
fn issue12_review_a_rejected_run_writes_nothing_through_a_link() {
    let env = TestEnv::new();
    let r = attribute(&env, &basic(&env), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let victim = env.path("victim");
    std::fs::rename(env.path("out/quarantine"), &victim).unwrap();
    std::os::unix::fs::symlink(&victim, env.path("out/quarantine")).unwrap();
    let r = attribute(&env, &basic(&env), &["--strict"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!victim.join("rejected_run.csv").exists());
    assert!(
        r.stderr
            .contains("is in the way of the outputs: a symbolic link"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("could not be written to `quarantine/rejected_run.csv`"),
        "{}",
        r.stderr
    );
    assert_eq!(manifest(&env.path("out"))["status"], "rejected");
}

/// Re-check of #12: the refusal names only the months whose published schedules no longer
/// follow from the republished ones (a month republished unchanged changes nothing), and one
/// run over those months gives exactly what a run from scratch on the same inputs gives.
#[test]
fn issue12_review_republishing_names_only_the_months_that_depend_on_it() {
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "6000", "--months", "5", "--seed", "7", "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(env.path("s/focus_sample.csv")).unwrap();
    // July restated: every other July row gone
    let restated: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| {
            !(i % 2 == 1
                && l.split(',')
                    .nth(3)
                    .is_some_and(|p| p.starts_with("2026-07")))
        })
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let months = |keep: &[&str], name: &str| {
        let rows: String = restated
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                *i == 0
                    || keep
                        .iter()
                        .any(|m| l.split(',').nth(3).is_some_and(|p| p.starts_with(m)))
            })
            .map(|(_, l)| l.as_str())
            .collect();
        env.write(name, &rows).display().to_string()
    };
    let c = env.write("c.toml", "[amortize]\ntraining_months = 2\n");
    let c = c.to_str().unwrap();
    let run = |billing: &str, out: &str| {
        env.run(&[
            "attribute",
            "--billing",
            billing,
            "--out",
            out,
            "--config",
            c,
        ])
    };
    let original = env.path("s/focus_sample.csv").display().to_string();
    assert_eq!(run(&original, "out").code, 0);
    // June and July again, unchanged: nothing later depends on a change, so it publishes
    let unchanged = env.write(
        "unchanged.csv",
        &text
            .lines()
            .enumerate()
            .filter(|(i, l)| {
                *i == 0
                    || ["2026-06", "2026-07"]
                        .iter()
                        .any(|m| l.split(',').nth(3).is_some_and(|p| p.starts_with(m)))
            })
            .map(|(_, l)| format!("{l}\n"))
            .collect::<String>(),
    );
    let r = run(unchanged.to_str().unwrap(), "out");
    assert_eq!(r.code, 0, "{}", r.stderr);
    // June and the restated July: August carries July's old schedule; nothing after it does
    let r = run(&months(&["2026-06", "2026-07"], "early.csv"), "out");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: 2026-08 is published with amortisation that depends on 2026-06"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("from 2026-06 to 2026-08"), "{}", r.stderr);
    let r = run(
        &months(&["2026-06", "2026-07", "2026-08"], "three.csv"),
        "out",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = months(
        &["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"],
        "all.csv",
    );
    assert_eq!(run(&all, "scratch").code, 0);
    let data = |out: &str| tree_bytes(&env.path(out).join("cost_by_model"), &["_manifest.json"]);
    assert!(data("out") == data("scratch"));
}
