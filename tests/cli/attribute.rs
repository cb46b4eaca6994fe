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
    let q = std::fs::read_to_string(env.path("out/quarantine.csv")).unwrap();
    let q = env.clean(&q);
    assert_eq!(
        q,
        "source_file,source_row,column,reason,value\n\
         [FIXTURES]/focus/basic.csv,12,EffectiveCost,EffectiveCost is not a decimal number,abc\n\
         [FIXTURES]/focus/basic.csv,13,EffectiveCost,EffectiveCost is not a decimal number,NaN\n"
    );
    assert!(r.stderr.contains("2 row(s) quarantined"));
    // --strict turns quarantined rows into a rejected run, but still writes the outputs
    let r = run_basic(&env, &["--strict"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
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
    let first = tree_bytes(&env.path("out"), &["manifest.json"]);
    std::fs::rename(env.path("out"), env.path("first")).unwrap();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let second = tree_bytes(&env.path("out"), &["manifest.json"]);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    assert!(first == second, "outputs differ between identical runs");
    // rerunning the same inputs is not a restatement
    assert_eq!(run_basic(&env, &[]).code, 0);
    assert_eq!(manifest(&env.path("out"))["history"], serde_json::json!([]));
    assert_eq!(first.len(), 7, "{:?}", first.keys());
}

#[test]
fn period_replaces_only_that_partition() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    let before = tree_bytes(&env.path("out"), &["manifest.json", "quarantine.csv"]);
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
    let after = tree_bytes(&env.path("out"), &["manifest.json", "quarantine.csv"]);
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
    let h = &m["history"][0];
    assert_eq!(h["billing_period"], "2026-10");
    assert_eq!(
        (h["cost_before"].as_str(), h["cost_after"].as_str()),
        (Some("0.018100000000000001"), Some("0.036200000000000001"))
    );
    assert_ne!(h["inputs_before"], h["inputs_after"]);
    assert_eq!(
        m["history"].as_array().unwrap().len(),
        1,
        "September was not rerun"
    );
    // every September row is outside the run, the two with a bad cost included
    assert_eq!(m["rows"]["outside_period"], 11);
    assert_eq!(m["rows"]["quarantined"], 0);
    let q = std::fs::read_to_string(env.path("out/quarantine.csv")).unwrap();
    assert_eq!(q.lines().count(), 1, "{q}");
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
    let before = tree_bytes(&env.path("out"), &[]);
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
        tree_bytes(&env.path("out"), &[]),
        "previous outputs must be untouched"
    );
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
    }
}

#[test]
fn a_second_run_on_the_same_output_is_refused_and_a_stale_lock_taken_over() {
    let env = TestEnv::new();
    assert_eq!(run_basic(&env, &[]).code, 0);
    assert!(
        !env.path("out/.mlcost.lock").exists(),
        "the lock is released"
    );
    // a live holder: this test process itself
    env.write(
        "out/.mlcost.lock",
        &format!(
            "pid={}\nstarted_at=2026-11-28T00:00:00Z\n",
            std::process::id()
        ),
    );
    let before = tree_bytes(&env.path("out"), &[]);
    let r = run_basic(&env, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("is being written by another mlcost run (pid="),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: wait for it to finish"),
        "{}",
        r.stderr
    );
    assert_eq!(before, tree_bytes(&env.path("out"), &[]), "nothing changed");
    // a dead holder: a pid that cannot exist
    env.write(
        "out/.mlcost.lock",
        "pid=4294967\nstarted_at=2026-11-28T00:00:00Z\n",
    );
    let r = run_basic(&env, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("taking over the stale lock"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out/.mlcost.lock").exists());
}
