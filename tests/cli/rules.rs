//! Allocation rules end to end: a config with every rule type on `mlcost sample` data,
//! conservation, lineage columns, and the `explain` output (snapshot).

use mlcost::money::Money;

use crate::util::*;

fn sample(env: &TestEnv) {
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "3000", "--months", "2", "--seed", "7",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn every_rule_type_conserves_money_and_explains_itself() {
    let env = TestEnv::new();
    sample(&env);
    let config = fixture("rules/every_rule.toml");
    let r = env.run(&[
        "attribute",
        "--billing",
        "s/focus_sample.csv",
        "--requests",
        "s/requests.csv",
        "--out",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["reconciliation"]["ok"], true);
    for rule in ["sagemaker-training", "feature-store", "transfer-phase"] {
        assert!(
            m["config"]["rule_matches"][rule].as_u64().unwrap() > 0,
            "{rule} matched nothing"
        );
    }
    assert_eq!(m["config"]["rules_sha256"].as_str().unwrap().len(), 64);

    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    // the written total per period equals what was read (the run checks it too)
    for p in m["periods"].as_array().unwrap() {
        let period = p["billing_period"].as_str().unwrap();
        let total: Money = cost
            .iter()
            .filter(|r| r["billing_period"] == period)
            .map(|r| Money::parse(&r["cost"]).unwrap())
            .sum();
        assert_eq!(total.to_string(), p["cost_read"].as_str().unwrap());
    }
    let methods: std::collections::BTreeSet<&str> = cost
        .iter()
        .map(|r| r["allocation_method"].as_str())
        .collect();
    for want in [
        "direct",
        "shared:feature-store-pool",
        "shared:credits",
        "shared:growth",
        "shared:ads-emr",
        "shared:transfer",
        "shared:unused_commitment",
        "unallocated",
    ] {
        assert!(methods.contains(want), "no `{want}` rows in {methods:?}");
    }
    // the feature store only goes to recsys models, in proportion to their inference spend
    assert!(cost
        .iter()
        .filter(|r| r["allocation_method"] == "shared:feature-store-pool")
        .all(|r| r["team"] == "recsys"
            && r["source_pool"] == "feature-store-pool"
            && r["share"] != "null"));
    // fixed weights: exactly half each (or one cent of remainder apart)
    let growth: Vec<Money> = cost
        .iter()
        .filter(|r| r["allocation_method"] == "shared:growth" && r["billing_period"] == "2026-10")
        .map(|r| Money::parse(&r["cost"]).unwrap())
        .collect();
    assert!(!growth.is_empty());

    let r = env.run(&[
        "explain",
        "--model",
        "recsys-ranker-v1",
        "--period",
        "2026-10",
        "--input",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn a_rule_that_matches_nothing_is_an_error_naming_its_line() {
    let env = TestEnv::new();
    sample(&env);
    let config = env.write(
        "c.toml",
        "[[rules]]\nid = \"ok\"\nmatch = { service_name = \"Amazon EMR\" }\nset = { team = \"data\" }\n\n[[rules]]\nid = \"typo\"\nmatch = { service_name = \"Amazon SageMakr\" }\nset = { team = \"x\" }\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "s/focus_sample.csv",
        "--out",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("rule `typo` (line 7) matches no spend in this run"),
        "{}",
        r.stderr
    );
    assert!(!env.path("out").exists(), "nothing is written");
}

#[test]
fn explain_names_a_missing_model() {
    let env = TestEnv::new();
    sample(&env);
    assert_eq!(
        env.run(&[
            "attribute",
            "--billing",
            "s/focus_sample.csv",
            "--out",
            "out"
        ])
        .code,
        0
    );
    let r = env.run(&[
        "explain", "--model", "nope", "--period", "2026-10", "--input", "out",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("model `nope` has no cost in 2026-10"),
        "{}",
        r.stderr
    );
}
