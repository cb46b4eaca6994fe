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
    assert!(
        !env.path("out/cost_by_model").exists(),
        "nothing is published"
    );
    assert_eq!(manifest(&env.path("out"))["status"], "failed");
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

/// Training spend spread over three months: each month still adds up to its bill, the model is
/// charged one installment a month, and a later run continues from the balance it finds.
#[test]
fn training_amortisation_carries_the_balance_across_runs() {
    let env = TestEnv::new();
    let config = env.write("c.toml", "[amortize]\ntraining_months = 3\n");
    let billing = fixture("focus/basic.csv");
    let requests = fixture("focus/requests.csv");
    let c = config.to_str().unwrap();
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        c,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    let total = |period: &str, model: &str| -> String {
        cost.iter()
            .filter(|r| r["billing_period"] == period && r["model_id"] == model)
            .map(|r| Money::parse(&r["cost"]).unwrap())
            .sum::<Money>()
            .to_string()
    };
    // 50.005 of September training over 3 months at the input's 3 decimals: 16.669 now
    assert_eq!(total("2026-09", "ranker"), "144.1553");
    assert_eq!(total("2026-09", "__deferred_training__"), "33.336");
    assert_eq!(total("2026-10", "ranker"), "16.686100000000000001");
    assert_eq!(total("2026-10", "__deferred_training__"), "-16.668");
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let sep = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(sep["cost_per_request"], "0.0001441553");
    let sched = rows(&read_table(&env.path("out"), "training_amortization"));
    let oct = find(
        &sched,
        &[("billing_period", "2026-10"), ("model_id", "ranker")],
    );
    assert_eq!(
        (
            oct["charged"].as_str(),
            oct["balance_after"].as_str(),
            oct["months_remaining"].as_str()
        ),
        ("16.668", "16.668", "1")
    );

    // November arrives in its own run: the last installment comes from the October balance
    let nov = env.write(
        "nov.csv",
        &format!(
            "{}\n2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,2026-11-02T00:00:00Z,USD,Usage,,,AWS,1,2,3,Amazon EC2,i-9,\"{{\"\"model_id\"\": \"\"ranker\"\", \"\"team\"\": \"\"recsys\"\"}}\",1.00,1.00,1,1,\n",
            std::fs::read_to_string(&billing).unwrap().lines().next().unwrap()
        ),
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        nov.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        c,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["amortization"]["opening_schedules"], 1);
    assert_eq!(m["reconciliation"]["ok"], true);
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    let nov_ranker: Money = cost
        .iter()
        .filter(|r| r["billing_period"] == "2026-11" && r["model_id"] == "ranker")
        .map(|r| Money::parse(&r["cost"]).unwrap())
        .sum();
    assert_eq!(nov_ranker.to_string(), "17.668");
    let sched = rows(&read_table(&env.path("out"), "training_amortization"));
    let last = find(
        &sched,
        &[("billing_period", "2026-11"), ("model_id", "ranker")],
    );
    assert_eq!(
        (
            last["balance_after"].as_str(),
            last["months_remaining"].as_str()
        ),
        ("0", "0")
    );
}
