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

/// `[amortize] method = "served"`: each request bears the same share of a training run.
/// By hand (ranker: training 1200.01 in 2026-08 and 600 in 2026-11; inference 100 a month;
/// requests 1000, 1500, 500, 2000; window 4 months):
/// - 08: planned 1000 x 4 = 4000 requests; through 1200.01 x 1000 / 4000 = 300.0025 -> 300.00
///   (largest remainder at cents) -> charged 300.00, deferred 900.01;
/// - 09: served 2500 -> 750.00625 -> 750.01, charged 450.01;
/// - 10: served 3000 -> 900.0075 -> 900.01, charged 150.00;
/// - 11: trained again: the rest, 300.00, is charged now; the new 600 plans 2000 x 4 = 8000
///   requests, charges 150 and defers 450.
///
/// Each month's total stays its bill (1300.01, 100, 100, 700); a run of 08-09 and a later
/// run of 10-11 give the same tables as one run over all four months.
/// A FOCUS bill of `ranker` (team recsys): inference 100 each month, and the training given
/// for a month (`YYYY-MM`, amount; none when empty).
fn ranker_bill(months: &[(&str, &str)]) -> String {
    let tags = |phase: &str| {
        format!("\"{{\"\"model_id\"\": \"\"ranker\"\", \"\"team\"\": \"\"recsys\"\", \"\"lifecycle_phase\"\": \"\"{phase}\"\"}}\"")
    };
    let mut billing = String::from(
        "BillingPeriodStart,BillingCurrency,ChargeCategory,ProviderName,ResourceId,Tags,BilledCost,EffectiveCost\n",
    );
    for (month, training) in months {
        let start = format!("{month}-01T00:00:00Z");
        billing.push_str(&format!(
            "{start},USD,Usage,AWS,i-1,{},100,100\n",
            tags("inference")
        ));
        if !training.is_empty() {
            billing.push_str(&format!(
                "{start},USD,Usage,AWS,gpu-1,{},{training},{training}\n",
                tags("training")
            ));
        }
    }
    billing
}

/// `mlcost attribute -q` of `billing` with the volumes `requests` and `config` into `out`,
/// over every month of the bill or one `--period`.
fn attribute_quietly(
    env: &TestEnv,
    billing: &str,
    requests: &str,
    config: &std::path::Path,
    out: &str,
    period: Option<&str>,
) -> Run {
    let mut args = vec![
        "attribute",
        "--billing",
        billing,
        "--requests",
        requests,
        "--out",
        out,
        "--config",
        config.to_str().unwrap(),
        "-q",
    ];
    args.extend(period.iter().flat_map(|p| ["--period", *p]));
    env.run(&args)
}

#[test]
fn training_served_spreads_each_run_over_its_requests() {
    let env = TestEnv::new();
    let billing = ranker_bill(&[
        ("2026-08", "1200.01"),
        ("2026-09", ""),
        ("2026-10", ""),
        ("2026-11", "600"),
    ]);
    env.write("billing.csv", &billing);
    env.write(
        "requests.csv",
        "billing_period,model_id,requests\n2026-08,ranker,1000\n2026-09,ranker,1500\n2026-10,ranker,500\n2026-11,ranker,2000\n",
    );
    let config = env.write(
        "c.toml",
        "[amortize]\ntraining_months = 4\nmethod = \"served\"\n",
    );
    let attribute = |out: &str, periods: &[&str]| {
        for p in periods {
            let r = attribute_quietly(&env, "billing.csv", "requests.csv", &config, out, Some(p));
            assert_eq!(r.code, 0, "{}", r.stderr);
        }
    };
    let r = attribute_quietly(&env, "billing.csv", "requests.csv", &config, "all", None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cost = rows(&read_table(&env.path("all"), "cost_by_model"));
    let total = |period: &str, model: &str| -> String {
        cost.iter()
            .filter(|r| {
                r["billing_period"] == period && (model.is_empty() || r["model_id"] == model)
            })
            .map(|r| Money::parse(&r["cost"]).unwrap())
            .sum::<Money>()
            .to_string()
    };
    let by_month = |model: &str| -> Vec<String> {
        ["2026-08", "2026-09", "2026-10", "2026-11"]
            .iter()
            .map(|p| total(p, model))
            .collect()
    };
    assert_eq!(by_month("ranker"), ["400", "550.01", "250", "550"]);
    assert_eq!(
        by_month("__deferred_training__"),
        ["900.01", "-450.01", "-150", "150"]
    );
    assert_eq!(by_month(""), ["1300.01", "100", "100", "700"]);
    let sched = rows(&read_table(&env.path("all"), "training_amortization"));
    let got: Vec<[&str; 8]> = sched
        .iter()
        .map(|r| {
            [
                r["billing_period"].as_str(),
                r["incurred_period"].as_str(),
                r["charged"].as_str(),
                r["balance_after"].as_str(),
                r["months_remaining"].as_str(),
                r["method"].as_str(),
                r["planned_quantity"].as_str(),
                r["served_quantity"].as_str(),
            ]
        })
        .collect();
    assert_eq!(
        got,
        [
            ["2026-08", "2026-08", "300", "900.01", "3", "served", "4000", "1000"],
            ["2026-09", "2026-08", "450.01", "450", "2", "served", "4000", "2500"],
            ["2026-10", "2026-08", "150", "300", "1", "served", "4000", "3000"],
            ["2026-11", "2026-08", "300", "0", "0", "served", "4000", "5000"],
            ["2026-11", "2026-11", "150", "450", "3", "served", "8000", "2000"],
        ]
    );
    assert!(sched.iter().all(|r| r["unit"] == "requests"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // the report shows the month's schedules where a person looks for them
    let report = env.run(&[
        "report", "--input", "all", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    for line in [
        // models take 550 of 700: the rest is November's training deferred (450 - 300)
        "$150.00 of this month's training is deferred to later months ([amortize])",
        "## Training spread over time, 2026-11",
        "| ranker | 2026-08 | $1,200.01 | $300.00 | $0 | 0 | served (requests) | 5000 of 4000 |",
        "| ranker | 2026-11 | $600.00 | $150.00 | $450.00 | 3 | served (requests) | 2000 of 8000 |",
    ] {
        assert!(report.stdout.contains(line), "{line}\n{}", report.stdout);
    }
    // October: models take 250 of 100 spent, because 150 of August's training is charged
    let report = env.run(&[
        "report", "--input", "all", "--format", "markdown", "--out", "-", "--period", "2026-10",
    ]);
    assert!(
        report.stdout.contains(
            "$150.00 of earlier months' training is charged to models this month ([amortize])"
        ),
        "{}",
        report.stdout
    );
    // a unit no volume gives is said: the cost would wait for the window's end
    let tokens = env.write(
        "t.toml",
        "[amortize]\ntraining_months = 4\nmethod = \"served\"\nunit = \"Tokens\"\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "billing.csv",
        "--requests",
        "requests.csv",
        "--out",
        "tokens",
        "--config",
        tokens.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "[amortize] spreads training over `tokens`, which no row of the volumes gives"
        ),
        "{}",
        r.stderr
    );
    // the same months in two runs, the second carrying the first's schedules
    attribute("split", &["2026-08", "2026-09"]);
    attribute("split", &["2026-10", "2026-11"]);
    for table in ["cost_by_model", "training_amortization", "unit_costs"] {
        assert_eq!(
            rows(&read_table(&env.path("split"), table)),
            rows(&read_table(&env.path("all"), table)),
            "{table}"
        );
    }
}

/// Served schedules across runs. By hand (120 of training in January, a 4-month window, 100
/// requests a month): published from volumes that lacked January (January charges 0; February
/// plans 100 x 3 = 300 and charges 40; March 40), January published again with its volumes
/// (plans 400, charges 30) would leave February and March charging from the old plan (150 of
/// 120 in all): refused. The run the refusal asks for charges 30 a month. A credit of -10 in
/// February is not a retraining: February still charges 30, and the credit is amortised on
/// its own (-10 x 100 / 400 = -2.5, at the whole units -10 is written in: -3). Training again under `training_months = 1` closes the open schedule.
#[test]
fn training_served_across_runs_credits_and_retraining() {
    let env = TestEnv::new();
    env.write(
        "billing.csv",
        &ranker_bill(&[
            ("2026-01", "120"),
            ("2026-02", ""),
            ("2026-03", ""),
            ("2026-04", ""),
        ]),
    );
    let all = "billing_period,model_id,requests\n2026-01,ranker,100\n2026-02,ranker,100\n2026-03,ranker,100\n2026-04,ranker,100\n";
    env.write("requests.csv", all);
    env.write("late.csv", &all.replace("2026-01,ranker,100\n", ""));
    let served = env.write(
        "c.toml",
        "[amortize]\ntraining_months = 4\nmethod = \"served\"\n",
    );
    let run = |requests: &str, period: Option<&str>, config: &std::path::Path| {
        attribute_quietly(&env, "billing.csv", requests, config, "out", period)
    };
    for p in ["2026-01", "2026-02", "2026-03"] {
        assert_eq!(run("late.csv", Some(p), &served).code, 0);
    }
    let r = run("requests.csv", Some("2026-01"), &served);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("2026-02, 2026-03 are published with amortisation that depends on 2026-01"),
        "{}",
        r.stderr
    );
    let r = run("requests.csv", None, &served);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let charged = |out: &str| -> Vec<String> {
        rows(&read_table(&env.path(out), "training_amortization"))
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["billing_period"], r["incurred_period"], r["charged"]
                )
            })
            .collect()
    };
    assert_eq!(
        charged("out"),
        [
            "2026-01 2026-01 30",
            "2026-02 2026-01 30",
            "2026-03 2026-01 30",
            "2026-04 2026-01 30"
        ]
    );
    // a credit is not a retraining
    env.write(
        "credit.csv",
        &ranker_bill(&[
            ("2026-01", "120"),
            ("2026-02", "-10"),
            ("2026-03", ""),
            ("2026-04", ""),
        ]),
    );
    let r = attribute_quietly(&env, "credit.csv", "requests.csv", &served, "credit", None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let feb: Vec<String> = charged("credit")
        .into_iter()
        .filter(|r| r.starts_with("2026-02"))
        .collect();
    assert_eq!(feb, ["2026-02 2026-01 30", "2026-02 2026-02 -3"]);
    // training again under training_months = 1 still ends the served schedule; a run without
    // the volumes a carried schedule needs says it charges nothing
    env.write(
        "again.csv",
        &ranker_bill(&[
            ("2026-01", "120"),
            ("2026-02", "60"),
            ("2026-03", ""),
            ("2026-04", ""),
        ]),
    );
    let once = env.write("once.toml", "[amortize]\ntraining_months = 1\n");
    for (period, config) in [("2026-01", &served), ("2026-02", &once)] {
        let r = attribute_quietly(
            &env,
            "again.csv",
            "requests.csv",
            config,
            "again",
            Some(period),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(
        charged("again"),
        ["2026-01 2026-01 30", "2026-02 2026-01 90"]
    );
    let r = attribute_quietly(
        &env,
        "billing.csv",
        "requests.csv",
        &served,
        "stalled",
        Some("2026-01"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[
        "attribute",
        "--billing",
        "billing.csv",
        "--out",
        "stalled",
        "--period",
        "2026-02",
        "--config",
        once.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("schedules carried from earlier months spread training over `requests`, which this run's volumes do not give"),
        "{}",
        r.stderr
    );
}

/// Republishing a month that closes a schedule later months still charge (or leaves open one
/// they closed) is refused; a month republished unchanged is not, even across a month with no
/// bill. By hand (1200.01 in January, window 4): requests 1000, 1500, 500, 2000 charge
/// 300, 450.01, 150, 300; February restated to 5,000 requests would close the schedule in
/// February (900.01) while March and April keep charging 150 and 300: refused.
#[test]
fn training_republish_that_closes_or_reopens_a_schedule_is_refused() {
    let env = TestEnv::new();
    env.write(
        "billing.csv",
        &ranker_bill(&[
            ("2026-01", "1200.01"),
            ("2026-02", ""),
            ("2026-03", ""),
            ("2026-04", ""),
        ]),
    );
    let volumes = |feb: &str| {
        format!("billing_period,model_id,requests\n2026-01,ranker,1000\n2026-02,ranker,{feb}\n2026-03,ranker,500\n2026-04,ranker,2000\n")
    };
    env.write("requests.csv", &volumes("1500"));
    env.write("more.csv", &volumes("5000"));
    let served = env.write(
        "c.toml",
        "[amortize]\ntraining_months = 4\nmethod = \"served\"\n",
    );
    let run = |out: &str, requests: &str, period: Option<&str>| {
        attribute_quietly(&env, "billing.csv", requests, &served, out, period)
    };
    assert_eq!(run("out", "requests.csv", None).code, 0);
    // closes in February what March and April charge
    let r = run("out", "more.csv", Some("2026-02"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("2026-03, 2026-04 are published with amortisation that depends on 2026-02"),
        "{}",
        r.stderr
    );
    // the other way: published from 5,000 (closed in February), restated to 1,500 (open)
    assert_eq!(run("closed", "more.csv", None).code, 0);
    let r = run("closed", "requests.csv", Some("2026-02"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("2026-03, 2026-04 are published"),
        "{}",
        r.stderr
    );
    // unchanged, with a month without a bill in the window, for both methods
    env.write(
        "gap.csv",
        &ranker_bill(&[
            ("2026-01", "1000"),
            ("2026-03", ""),
            ("2026-04", ""),
            ("2026-05", ""),
            ("2026-06", ""),
        ]),
    );
    let months = env.write("m.toml", "[amortize]\ntraining_months = 4\n");
    for config in [&months, &served] {
        for period in [None, Some("2026-01"), Some("2026-03")] {
            let r = attribute_quietly(&env, "gap.csv", "requests.csv", config, "gap", period);
            assert_eq!(r.code, 0, "{period:?}: {}", r.stderr);
        }
        std::fs::remove_dir_all(env.path("gap")).unwrap();
    }
}

/// helper-30's three ways past the check: a run whose months skip a published month
/// (January and March while February is published: March would charge as if February had
/// not happened, 400.01 of 300.01), a window changed before the model served anything (the
/// months left differ), and a restated volume whose rounding leaves the balance unchanged
/// (1.01 over 10 months: February 100 -> 102 keeps February's charge, but March must charge
/// from 304 served, not 302). All refused.
#[test]
fn training_republish_gaps_windows_and_small_restatements_are_refused() {
    let env = TestEnv::new();
    // months skipped inside the run
    env.write(
        "all.csv",
        &ranker_bill(&[("2026-01", "300.01"), ("2026-02", ""), ("2026-03", "")]),
    );
    env.write(
        "jan_mar.csv",
        &ranker_bill(&[("2026-01", "300.01"), ("2026-03", "")]),
    );
    env.write("r.csv", "billing_period,model_id,requests\n2026-01,ranker,100\n2026-02,ranker,100\n2026-03,ranker,100\n");
    let three = env.write("m3.toml", "[amortize]\ntraining_months = 3\n");
    assert_eq!(
        attribute_quietly(&env, "all.csv", "r.csv", &three, "gap", None).code,
        0
    );
    let r = attribute_quietly(&env, "jan_mar.csv", "r.csv", &three, "gap", None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("this run's months go from 2026-01 to 2026-03 but leave out 2026-02, which is published"), "{}", r.stderr);
    // a served window changed while the model has served nothing yet
    env.write("zero.csv", "billing_period,model_id,requests\n2026-01,ranker,0\n2026-02,ranker,1000\n2026-03,ranker,1000\n");
    let s3 = env.write(
        "s3.toml",
        "[amortize]\ntraining_months = 3\nmethod = \"served\"\n",
    );
    let s6 = env.write(
        "s6.toml",
        "[amortize]\ntraining_months = 6\nmethod = \"served\"\n",
    );
    assert_eq!(
        attribute_quietly(&env, "all.csv", "zero.csv", &s3, "window", None).code,
        0
    );
    let r = attribute_quietly(&env, "all.csv", "zero.csv", &s6, "window", Some("2026-01"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("2026-02, 2026-03 are published with amortisation that depends on 2026-01"),
        "{}",
        r.stderr
    );
    // a restated volume that leaves the balance where it was
    env.write(
        "small.csv",
        &ranker_bill(&[
            ("2026-01", "1.01"),
            ("2026-02", ""),
            ("2026-03", ""),
            ("2026-04", ""),
        ]),
    );
    let volumes = |feb: &str| {
        format!("billing_period,model_id,requests\n2026-01,ranker,100\n2026-02,ranker,{feb}\n2026-03,ranker,101\n2026-04,ranker,50\n")
    };
    env.write("v100.csv", &volumes("100"));
    env.write("v102.csv", &volumes("102"));
    let s10 = env.write(
        "s10.toml",
        "[amortize]\ntraining_months = 10\nmethod = \"served\"\n",
    );
    assert_eq!(
        attribute_quietly(&env, "small.csv", "v100.csv", &s10, "small", None).code,
        0
    );
    let r = attribute_quietly(
        &env,
        "small.csv",
        "v102.csv",
        &s10,
        "small",
        Some("2026-02"),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("2026-03, 2026-04 are published"),
        "{}",
        r.stderr
    );
    // and unchanged it is not refused
    assert_eq!(
        attribute_quietly(
            &env,
            "small.csv",
            "v100.csv",
            &s10,
            "small",
            Some("2026-02")
        )
        .code,
        0
    );
}

/// `served` needs a window and volumes; `unit` belongs to `served`.
#[test]
fn training_served_config_mistakes_are_named() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let requests = fixture("focus/requests.csv");
    for (config, with_requests, expected) in [
        (
            "[amortize]\nmethod = \"served\"\n",
            true,
            "`method = \"served\"` needs `training_months` above 1",
        ),
        (
            "[amortize]\ntraining_months = 6\nmethod = \"served\"\n",
            false,
            "no volumes were given",
        ),
        (
            "[amortize]\ntraining_months = 6\nunit = \"tokens\"\n",
            true,
            "`unit` is only used with `method = \"served\"`",
        ),
        (
            "[amortize]\ntraining_months = 6\nmethod = \"weekly\"\n",
            true,
            "unknown variant `weekly`",
        ),
        (
            "[amortize]\ntraining_months = 6\nmethod = \"served\"\nunit = \" \"\n",
            true,
            "`unit` is empty",
        ),
    ] {
        let c = env.write("c.toml", config);
        let mut args = vec![
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--out",
            "out",
            "--config",
            c.to_str().unwrap(),
        ];
        if with_requests {
            args.extend(["--requests", requests.to_str().unwrap()]);
        }
        let r = env.run(&args);
        assert_eq!(r.code, 2, "{config}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{config}: {}", r.stderr);
        assert!(r.stderr.contains("c.toml"), "{}", r.stderr);
    }
}
