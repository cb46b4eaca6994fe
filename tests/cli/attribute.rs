//! `mlcost attribute` on tests/fixtures/focus/basic.csv; expected numbers are computed by hand
//! in tests/fixtures/focus/README.md.

use crate::util::*;

fn run_basic(env: &TestEnv, extra: &[&str]) -> Run {
    let billing = fixture("focus/basic.csv");
    let requests = fixture("focus/requests.csv");
    let mut args = vec![
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        "out",
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn totals_reconcile_exactly_per_period() {
    let env = TestEnv::new();
    let r = run_basic(&env, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.path("out");
    let cost = read_table(&out, "cost_by_model");
    let sums = sums(&cost, "cost");
    assert_eq!(sums[&("2026-09".into(), "USD".into())], "220.2413");
    assert_eq!(
        sums[&("2026-10".into(), "USD".into())],
        "0.018100000000000001"
    );
    let units = read_table(&out, "unit_costs");
    assert_eq!(crate::util::sums(&units, "total_cost"), sums);
    let m = manifest(&out);
    assert_eq!(m["reconciliation"]["ok"], true);
    assert_eq!(m["periods"][0]["cost_read"], "220.2413");
    assert_eq!(m["periods"][0]["by_basis"]["billed"], "1177.9913");
    assert_eq!(m["rows"]["read"], 13);
    assert_eq!(m["rows"]["counted"], 11);
    assert_eq!(m["rows"]["quarantined"], 2);
    assert_eq!(m["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(r.stderr.contains("reconciliation: ok"), "{}", r.stderr);
}

#[test]
fn hand_computed_cost_per_request() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(ranker["total_cost"], "177.4913");
    assert_eq!(ranker["cost_inference"], "127.4863");
    assert_eq!(ranker["cost_training"], "50.005");
    assert_eq!(ranker["requests"], "1000000");
    assert_eq!(ranker["cost_per_request"], "0.0001774913");
    assert_eq!(ranker["cost_per_1000_requests"], "0.1774913");
    assert_eq!(ranker["unit_cost_reason"], "null");
    let fraud = find(&units, &[("model_id", "fraud-v1")]);
    assert_eq!(fraud["team"], "fraud");
    assert_eq!(fraud["cost_other"], "20");
    assert_eq!(fraud["cost_per_request"], "0.0001");
    let oct = find(
        &units,
        &[("billing_period", "2026-10"), ("model_id", "ranker")],
    );
    assert_eq!(oct["cost_per_request"], "0.000181");
}

#[test]
fn unallocated_and_unused_commitment_stay_visible() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    let untagged = find(
        &cost,
        &[("model_id", "__unallocated__"), ("team", "__untagged__")],
    );
    assert_eq!(untagged["cost"], "7.5");
    assert_eq!(untagged["allocation_method"], "unallocated");
    // the conflicting row keeps its team but not a model
    let conflict = find(
        &cost,
        &[("model_id", "__unallocated__"), ("team", "recsys")],
    );
    assert_eq!(conflict["cost"], "3");
    let unused = find(&cost, &[("model_id", "__unused_commitment__")]);
    assert_eq!(unused["cost"], "12.25");
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let un = find(&units, &[("model_id", "__unallocated__")]);
    assert_eq!(un["unit_cost_reason"], "unallocated spend");
    assert_eq!(un["cost_per_request"], "null");
}

#[test]
fn conflicts_and_missing_tags_reach_tag_compliance() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let tc = rows(&read_table(&env.path("out"), "tag_compliance"));
    let conflict = find(
        &tc,
        &[
            ("resource_id", "i-conflict"),
            ("problem", "conflict:model_id"),
        ],
    );
    assert_eq!(conflict["cost_affected"], "3");
    assert_eq!(conflict["account"], "00012345678");
    let fraud = find(
        &tc,
        &[("resource_id", "i-fraud-1"), ("problem", "missing:project")],
    );
    assert_eq!(fraud["cost_affected"], "20");
    // aliases resolved: fraud's model_id, team and environment are not reported
    assert!(!tc.iter().any(|r| r["resource_id"] == "i-fraud-1"
        && ["missing:model_id", "missing:team", "missing:environment"]
            .contains(&r["problem"].as_str())));
}

#[test]
fn quarantined_rows_are_listed_with_file_row_and_reason() {
    let env = TestEnv::new();
    let r = run_basic(&env, &[]);
    assert_eq!(r.code, 0);
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-09/quarantine.csv"))
            .unwrap();
    let q = env.clean(&q);
    assert_eq!(
        q,
        "source_file,source_row,column,reason,value\n\
         [FIXTURES]/focus/basic.csv,12,EffectiveCost,EffectiveCost is not a decimal number,abc\n\
         [FIXTURES]/focus/basic.csv,13,EffectiveCost,EffectiveCost is not a decimal number,NaN\n"
    );
    // October has no quarantined row: its file has the header only; nothing is without a month
    for empty in [
        "quarantine/billing_period=2026-10/quarantine.csv",
        "quarantine/other_rows.csv",
    ] {
        let text = std::fs::read_to_string(env.path(&format!("out/{empty}"))).unwrap();
        assert_eq!(
            text, "source_file,source_row,column,reason,value\n",
            "{empty}"
        );
    }
    assert!(
        r.stderr.contains("2 billing row(s) quarantined"),
        "{}",
        r.stderr
    );
}

#[test]
fn strict_rejects_and_publishes_nothing() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let published = |env: &TestEnv| published(&env.path("out"));
    let before = published(&env);
    // restated input whose rows would change the month, but with quarantined rows: rejected
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let billing = env.write(
        "restated.csv",
        &text.replace("1.81E-2,1.81E-2", "3.62E-2,3.62E-2"),
    );
    let requests = fixture("focus/requests.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        "out",
        "--strict",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: --strict: 2 billing row(s) quarantined"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was published"), "{}", r.stderr);
    let published_after = published(&env);
    assert!(before.keys().eq(published_after.keys()));
    assert!(
        before == published_after,
        "a rejected run must not replace any partition"
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["status"], "rejected");
    assert_eq!(m["exit_code"], 1);
    assert!(m["error"]["message"].as_str().unwrap().contains("--strict"));
    // the JSON on stdout is the same record
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["status"], "rejected");
    assert_eq!(json["run_id"], m["run_id"]);
    // every partition still listed, written by the earlier run
    let parts = m["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 6, "{parts:?}");
    assert!(parts.iter().all(|p| p["run_id"] != m["run_id"]));
    // the rows to fix are listed although nothing was published
    let q = std::fs::read_to_string(env.path("out/quarantine/rejected_run.csv")).unwrap();
    assert_eq!(q.lines().count(), 3, "{q}");
}

#[test]
fn volumes_report_unknown_models_and_models_without_volumes() {
    let env = TestEnv::new();
    let r = run_basic(&env, &[]);
    assert!(
        r.stderr
            .contains("requests for models without spend: 1 (ghost-model (2026-09))"),
        "{}",
        r.stderr
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["volume_report"]["unknown_models"][0][1], "ghost-model");
}

#[test]
fn without_config_and_without_requests_unit_costs_are_null_with_reason() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(ranker["unit_cost_reason"], "no volumes");
    assert_eq!(ranker["cost_per_request"], "null");
    assert_eq!(ranker["requests"], "null");
}

#[test]
fn two_runs_write_identical_bytes() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    // manifests carry run ids and times; every other file is the same
    let skip = ["manifest.json", ".mlcost.lock"];
    let first = tree_bytes(&env.path("out"), &skip);
    std::fs::rename(env.path("out"), env.path("first")).unwrap();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let second = tree_bytes(&env.path("out"), &skip);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    assert!(first == second, "outputs differ between identical runs");
    // rerunning the same inputs is not a restatement
    assert_eq!(run_basic(&env, &[]).code, 0);
    let m = manifest(&env.path("out"));
    assert_eq!(m["restatements"], serde_json::json!([]));
    let p: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            env.path("out/cost_by_model/billing_period=2026-10/_manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(p["history"], serde_json::json!([]));
    assert_eq!(p["run_id"], m["run_id"]);
    // 3 tables x 2 months, each a part file and _SUCCESS, plus 3 quarantine files
    assert_eq!(first.len(), 15, "{:?}", first.keys());
}

#[test]
fn period_replaces_only_that_partition() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let skip = [
        "manifest.json",
        "quarantine.csv",
        "other_rows.csv",
        "_SUCCESS",
        ".mlcost.lock",
    ];
    let before = tree_bytes(&env.path("out"), &skip);
    // restate October: double the last row's cost
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    let restated = text.replace("1.81E-2,1.81E-2", "3.62E-2,3.62E-2");
    let billing = env.write("restated.csv", &restated);
    let requests = fixture("focus/requests.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        "out",
        "--period",
        "2026-10",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = tree_bytes(&env.path("out"), &skip);
    for (path, bytes) in &before {
        if path.contains("billing_period=2026-09") {
            assert_eq!(bytes, &after[path], "{path} must not change");
        } else if !path.starts_with("tag_compliance") {
            // (October has no compliance problems before or after: that file is empty both times)
            assert_ne!(bytes, &after[path], "{path} must be replaced");
        }
    }
    let cost = read_table(&env.path("out"), "cost_by_model");
    assert_eq!(
        sums(&cost, "cost")[&("2026-10".into(), "USD".into())],
        "0.036200000000000001"
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["period_filter"], "2026-10");
    // the warehouse can see that October was restated, and from what to what
    let h = &m["restatements"][0];
    assert_eq!(h["billing_period"], "2026-10");
    assert_eq!(
        (h["cost_before"].as_str(), h["cost_after"].as_str()),
        (Some("0.018100000000000001"), Some("0.036200000000000001"))
    );
    assert_ne!(h["inputs_before"], h["inputs_after"]);
    assert_eq!(
        m["restatements"].as_array().unwrap().len(),
        1,
        "September was not rerun"
    );
    // every September row is outside the run, the two with a bad cost included
    assert_eq!(m["rows"]["outside_period"], 11);
    assert_eq!(m["rows"]["quarantined"], 0);
    // October's quarantine was replaced (empty); September's list is kept
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-10/quarantine.csv"))
            .unwrap();
    assert_eq!(q.lines().count(), 1, "{q}");
    let q =
        std::fs::read_to_string(env.path("out/quarantine/billing_period=2026-09/quarantine.csv"))
            .unwrap();
    assert_eq!(q.lines().count(), 3, "{q}");
    // the top-level manifest lists every published partition, September's from the first run
    let parts = m["partitions"].as_array().unwrap();
    let sept: Vec<_> = parts
        .iter()
        .filter(|p| p["billing_period"] == "2026-09")
        .collect();
    assert_eq!(sept.len(), 3);
    assert!(sept.iter().all(|p| p["run_id"] != m["run_id"]));
}

#[test]
fn billed_basis_counts_the_purchase_once() {
    let env = TestEnv::new();
    let config = env.write("mlcost.toml", "[cost]\nbasis = \"billed\"\n");
    let r = run_basic(&env, &["--config", config.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cost = read_table(&env.path("out"), "cost_by_model");
    assert_eq!(
        sums(&cost, "cost")[&("2026-09".into(), "USD".into())],
        "1177.9913"
    );
    // list basis leaves the purchase out (it is amortised into the covered usage)
    let config = env.write("list.toml", "[cost]\nbasis = \"list\"\n");
    let r = run_basic(&env, &["--config", config.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["periods"][0]["excluded_commitment_purchases"], "1000");
    // 262.75 of list cost plus the two rows whose EffectiveCost is bad: on the list basis
    // their ListCost (1 each) is valid, so they are counted, not quarantined
    assert_eq!(m["periods"][0]["cost_read"], "264.75");
    assert_eq!(m["rows"]["quarantined"], 0);
}

#[test]
fn reconciliation_failure_exits_1_and_keeps_previous_outputs() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let published = |env: &TestEnv| published(&env.path("out"));
    let before = published(&env);
    let billing = fixture("focus/basic.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args([
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--out",
            "out",
        ])
        .current_dir(env.dir.path())
        .env("MLCOST_TEST_CORRUPT_OUTPUT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: reconciliation failed"), "{stderr}");
    assert!(
        stderr.contains("2026-09 USD: read 220.2413, cost_by_model 220.241300000000000001"),
        "{stderr}"
    );
    assert_eq!(
        before,
        published(&env),
        "previous outputs must be untouched"
    );
    let m = manifest(&env.path("out"));
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_i64()),
        (Some("rejected"), Some(1))
    );
    assert_eq!(m["reconciliation"]["ok"], false);
}

#[test]
fn written_tables_match_the_published_schemas() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    for table in [
        mlcost::schema::cost_by_model(),
        mlcost::schema::unit_costs(),
        mlcost::schema::tag_compliance(),
    ] {
        let df = read_table(&env.path("out"), table.name);
        let have: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let want: Vec<String> = table.columns.iter().map(|c| c.name.to_string()).collect();
        assert_eq!(have, want, "{}", table.name);
        for (c, def) in df.columns().iter().zip(&table.columns) {
            let kind = match c.dtype() {
                polars::prelude::DataType::String => mlcost::schema::ColumnType::String,
                polars::prelude::DataType::Int64 => mlcost::schema::ColumnType::Int64,
                polars::prelude::DataType::Decimal(38, 18) => mlcost::schema::ColumnType::Decimal,
                other => panic!("{}.{} has type {other:?}", table.name, def.name),
            };
            assert_eq!(kind, def.kind, "{}.{}", table.name, def.name);
        }
        // the Arrow schema stored in every file: plain `string` (never large_string or
        // string_view, which older pyarrow cannot read), decimal(38,18), int64, and no
        // partition column
        for f in glob::glob(&format!(
            "{}/{}/*/*.parquet",
            env.path("out").display(),
            table.name
        ))
        .unwrap()
        .flatten()
        {
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&f).unwrap(),
            )
            .unwrap();
            assert_eq!(
                reader.schema().as_ref(),
                &mlcost::output::file_schema(&table),
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn a_second_run_waits_or_is_refused_and_a_dead_runs_lock_is_free() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    // a live holder: this test process takes the same kernel lock
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(env.path("out/.mlcost.lock"))
        .unwrap();
    lock.lock().unwrap();
    let before = tree_bytes(&env.path("out"), &[]);
    let r = run_basic(&env, &[]);
    assert_eq!(r.code, 2);
    // the run that could not take the lock writes nothing, not even its manifest
    assert!(
        r.stderr
            .contains("is being written by another mlcost run (pid="),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--wait SECONDS"), "{}", r.stderr);
    assert_eq!(before, tree_bytes(&env.path("out"), &[]), "nothing changed");
    // --wait queues behind it and gives up when the holder does not finish in time
    let start = std::time::Instant::now();
    let r = run_basic(&env, &["--wait", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    assert!(r.stderr.contains("waited 1 s"), "{}", r.stderr);
    // the holder ends while a run waits: the waiting run goes ahead
    let waiting = std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args([
            "attribute",
            "--billing",
            fixture("focus/basic.csv").to_str().unwrap(),
            "--out",
            "out",
            "--wait",
            "60",
            "-q",
        ])
        .current_dir(env.dir.path())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(lock);
    assert!(waiting.wait_with_output().unwrap().status.success());
    // a lock file left by a dead run (or naming pid 1, or a reused pid) blocks nothing: only
    // the kernel's lock counts
    for holder in [
        "pid=4294967\n",
        "pid=1\n",
        &format!("pid={}\n", std::process::id()),
    ] {
        env.write("out/.mlcost.lock", holder);
        let r = run_basic(&env, &[]);
        assert_eq!(r.code, 0, "{holder}: {}", r.stderr);
    }
}
