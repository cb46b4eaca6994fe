//! `mlcost trend` and `mlcost forecast` on a three-month history (tests/fixtures/history:
//! inference 1000 a month, data transfer 100, 100, 120; requests 1,000,000, 750,000, 900,000).

use crate::util::*;

fn history(env: &TestEnv, months: &[&str]) {
    let b = fixture("history/billing.csv");
    let r = fixture("history/requests.csv");
    for m in months {
        let run = env.run(&[
            "attribute",
            "--billing",
            b.to_str().unwrap(),
            "--requests",
            r.to_str().unwrap(),
            "--out",
            "out",
            "--period",
            m,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

#[test]
fn trend_over_two_and_three_months() {
    let env = TestEnv::new();
    history(&env, &["2026-08", "2026-09"]);
    let r = env.run(&["trend", "--input", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 1.1 -> 1.466667 per 1,000: spend flat (1100), volume -25%
    insta::assert_snapshot!(r.stdout, @r"
    ranker 2026-08 -> 2026-09 (USD): cost per 1,000 requests up 33.3% (1.1000 -> 1.4667) because spend rose 0.0% and volume fell 25.0% while inference spend changed +0.0%
      spend effect +0 and volume effect +0.366667 per 1,000 requests
    ");
    history(&env, &["2026-10"]);
    let r = env.run(&["trend", "--input", "out", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    // 2026-09 -> 2026-10: spend 1100 -> 1120, volume 750,000 -> 900,000
    // spend effect 20 / 750,000 x 1000 = 0.026667; volume effect 1120/900000 - 1120/750000
    // (x1000) = -0.2488...89 rounded on its own, but taken as the rest of the change
    // (1.244444444444444444 - 1.466666666666666667 = -0.222222222222222223) so the two add up:
    // -0.222222222222222223 - 0.026666666666666667 = -0.24888888888888889
    assert_eq!(v[1]["spend_effect"], "0.026666666666666667");
    assert_eq!(v[1]["volume_effect"], "-0.24888888888888889");
    assert_eq!(v[1]["cost_per_1000_to"], "1.244444444444444444");
    assert_eq!(v[1]["cost_per_1000_from"], "1.466666666666666667");
}

#[test]
fn forecast_from_one_and_three_months() {
    let env = TestEnv::new();
    history(&env, &["2026-10"]);
    let r = env.run(&["forecast", "--input", "out", "--months", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("one month of history and no --growth: volume held flat"),
        "{}",
        r.stdout
    );
    let r = env.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "3",
        "--growth",
        "100%/month",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["basis"]["ranker"],
        "one month of history: from the given growth alone"
    );
    // data transfer (120) scales with volume, inference (1000) is fixed: month 1 = 240 + 1000
    assert_eq!(v["rows"][0]["period"], "2026-11");
    assert_eq!(v["rows"][0]["requests"], 1800000);
    assert_eq!(v["rows"][0]["total_cost"], "1240");
    assert_eq!(v["rows"][2]["total_cost"], "1960");
    let env3 = TestEnv::new();
    history(&env3, &["2026-08", "2026-09", "2026-10"]);
    let config = env3.write("c.toml", "[targets]\nmax_cost_per_1000_requests = 1.2\n");
    let r = env3.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "2",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // fitted: (900,000 / 1,000,000)^(1/2) - 1 = -5.13% a month
    assert!(
        r.stdout
            .contains("ranker: requests -5.13% a month (fitted to 3 months of requests)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("alert: ranker: cost per 1,000 requests is already over its target 1.2 in 2026-10 (1.2444)"),
        "{}",
        r.stdout
    );
}

/// `forecast --unit`: a unit's volume and cost projected from `unit_costs_by_unit`.
/// By hand (history fixture; 2026-10: inference 1000 fixed, data transfer 120 variable):
/// tokens 2,000,000,000 at 100% a month -> 4e9 then 8e9 tokens, cost 240 + 1000 = 1240 then
/// 1480, per 1M tokens 0.31 then 0.185. GPU-hours 10, 12, 14.4 over three months: fitted
/// growth (14.4 / 10)^(1/2) - 1 = 20% -> 17.28 (kept fractional), cost 144 + 1000 = 1144,
/// per GPU-hour 1144 / 17.28 = 66.203703703703703704.
#[test]
fn forecast_of_a_unit_projects_its_volume_and_cost() {
    let env = TestEnv::new();
    env.write(
        "units.csv",
        "billing_period,model_id,unit,quantity\n\
         2026-08,ranker,gpu_hours,10\n2026-09,ranker,gpu_hours,12\n\
         2026-10,ranker,gpu_hours,14.4\n2026-10,ranker,tokens,2000000000\n",
    );
    let b = fixture("history/billing.csv");
    for m in ["2026-08", "2026-09", "2026-10"] {
        let r = env.run(&[
            "attribute",
            "--billing",
            b.to_str().unwrap(),
            "--requests",
            "units.csv",
            "--out",
            "out",
            "--period",
            m,
            "-q",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let config = env.write("c.toml", "[targets]\nmax_cost_per_1m_tokens = 0.3\n");
    let r = env.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "2",
        "--unit",
        "Tokens",
        "--growth",
        "100%/month",
        "--config",
        config.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", r.stdout);
    let got: Vec<[&serde_json::Value; 5]> = rows
        .iter()
        .map(|r| {
            [
                &r["period"],
                &r["quantity"],
                &r["total_cost"],
                &r["per"],
                &r["cost_per"],
            ]
        })
        .collect();
    let j = |s: &str| serde_json::json!(s);
    assert_eq!(
        got,
        [
            [
                &j("2026-11"),
                &j("4000000000"),
                &j("1240"),
                &serde_json::json!(1000000),
                &j("0.31")
            ],
            [
                &j("2026-12"),
                &j("8000000000"),
                &j("1480"),
                &serde_json::json!(1000000),
                &j("0.185")
            ],
        ]
    );
    // 2026-10 was at 1120 / 2,000 = 0.56 per 1M tokens: already over, said once
    assert_eq!(
        v["alerts"],
        serde_json::json!([
            "ranker: cost per 1M tokens is already over its target 0.3 in 2026-10 (0.5600)"
        ])
    );
    // falling by half a month: 1e9 tokens, 60 + 1000 = 1060, 1.06 per 1M crosses 0.6
    let config = env.write("c2.toml", "[targets]\nmax_cost_per_1m_tokens = 0.6\n");
    let r = env.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "1",
        "--unit",
        "tokens",
        "--growth=-50%/month",
        "--config",
        config.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["alerts"],
        serde_json::json!([
            "ranker: cost per 1M tokens crosses its target 0.6 in 2026-11 (1.0600)"
        ])
    );
    let r = env.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "1",
        "--unit",
        "gpu_hours",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("ranker: gpu_hours +20.00% a month (fitted to 3 months of gpu_hours)"),
        "{}",
        r.stdout
    );
    let words = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("month gpu_hours variable fixed total per unit 2026-11 17.28 144.00 1000.00 1144.00 66.2037"),
        "{words}"
    );
    let r = env.run(&[
        "forecast",
        "--input",
        "out",
        "--months",
        "1",
        "--unit",
        "gpu_hours",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["rows"][0]["cost_per"], "66.203703703703703704");
    // a unit no volume gives is said, not an error
    let r = env.run(&["forecast", "--input", "out", "--unit", "images"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("no model has `images` volumes under `out`"),
        "{}",
        r.stdout
    );
}

#[test]
fn hidden_costs_are_a_separate_table() {
    let env = TestEnv::new();
    history(&env, &["2026-10"]);
    let before = published(&env.path("out"));
    let config = env.write(
        "c.toml",
        "[hidden]\ndefault_utilization = 0.5\nexperiment_share = 0.1\nwaste_fraction = 0.5\nftes = 1.5\nfte_annual_cost = 300000\n",
    );
    let r = env.run(&[
        "hidden",
        "--input",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // visible 1120; idle 1120 x 0.5 / 0.5 = 1120; experiments 1120 x 0.1 x 0.5 = 56;
    // engineering 1.5 x 300,000 / 12 = 37,500 -> true total 39,796
    assert!(r.stdout.contains("total 2026-10 USD: visible 1120.00, hidden 38676.00 (3453.2% of visible), true total 39796.00"), "{}", r.stdout);
    let hidden = rows(&read_table(&env.path("out"), "hidden_costs"));
    let ranker = find(&hidden, &[("model_id", "ranker")]);
    assert_eq!(ranker["idle_capacity"], "1120");
    assert_eq!(ranker["engineering_time"], "37500");
    // the billed tables are untouched: hidden costs never mix into reconciled totals
    let after = published(&env.path("out"));
    assert!(after.contains_key("hidden_costs/billing_period=2026-10/_SUCCESS"));
    assert!(after.contains_key("hidden_costs/billing_period=2026-10/_manifest.json"));
    for (k, v) in &before {
        assert_eq!(Some(v), after.get(k), "{k} changed");
    }
}

/// `[hidden] preset = "typical"` fills the unset inputs with labelled estimates: in the text,
/// in each row's `assumed`, and in the report; idle is reported both ways.
#[test]
fn hidden_preset_is_labelled_and_idle_is_shown_both_ways() {
    let env = TestEnv::new();
    history(&env, &["2026-10"]);
    let config = env.write("c.toml", "[hidden]\npreset = \"typical\"\n");
    let r = env.run(&[
        "hidden",
        "--input",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ranker: visible 1120, no experimentation phase; u = 0.5 -> idle on top 1120, in the bill
    // 560; experiments 1120 x 0.15 x 0.3 = 50.4; no FTEs, so no engineering time
    let assumed = "preset typical: utilization 0.5, experiment_share 0.15, waste_fraction 0.3";
    assert!(
        r.stdout.contains(&format!(
            "assumed ({assumed}): rule-of-thumb estimates, not measured"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("idle in bill"), "{}", r.stdout);
    let hidden = rows(&read_table(&env.path("out"), "hidden_costs"));
    let ranker = find(&hidden, &[("model_id", "ranker")]);
    assert_eq!(ranker["idle_capacity"], "1120");
    assert_eq!(ranker["idle_share_of_bill"], "560");
    assert_eq!(ranker["experiment_waste"], "50.4");
    assert_eq!(ranker["engineering_time"], "null");
    assert_eq!(ranker["hidden_total"], "1170.4");
    assert_eq!(ranker["assumed"], assumed);
    let r = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "Assumed ({assumed}): rule-of-thumb estimates, not measured."
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn markdown_and_html_report() {
    let env = TestEnv::new();
    history(&env, &["2026-09", "2026-10"]);
    let config = env.write("c.toml", "[hidden]\ndefault_utilization = 0.5\n");
    assert_eq!(
        env.run(&[
            "hidden",
            "--input",
            "out",
            "--config",
            config.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
    let r = env.run(&["report", "--input", "out", "--out", "report.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(env.path("report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // months, cost per 1,000, phases, compliance, hidden; no scatter (one model with
    // requests), no pools and no targets in this history: those collapse to a line
    assert_eq!(page.matches("<svg").count(), 5, "five charts");
    assert_eq!(
        page.matches("<p class=\"off\">").count(),
        4,
        "four sections collapsed"
    );
    assert!(page.contains("No targets: add [targets] to the config"));
    // --period narrows to the month and the one before it; a month not published is an error
    let r = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-", "--period", "2026-09",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("## 2026-09 at a glance") && !r.stdout.contains("2026-10"));
    let r = env.run(&["report", "--input", "out", "--period", "2025-01"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such month"), "{}", r.stderr);
    assert!(
        !page.contains("https://") && !page.contains(" src="),
        "self-contained"
    );
    let r = env.run(&["report", "--input", "nowhere"]);
    assert_eq!(r.code, 2);
}

/// `trend --unit`: a unit's cost month over month from `unit_costs_by_unit`, split exactly.
/// By hand (fixture: ranker 177.4913 in 2026-09, 0.018100000000000001 in 2026-10; 500M then
/// 250M tokens; per 1M tokens): 0.3549826 -> 0.0000724; spend effect (S1 - S0) / 500 =
/// -0.3549464; volume effect 0.0000724 - S1 / 500 = 0.0000362; they add up to the change.
#[test]
fn trend_of_a_unit_splits_its_cost_change_exactly() {
    let env = TestEnv::new();
    env.write(
        "tokens.csv",
        "billing_period,model_id,unit,quantity\n2026-09,ranker,tokens,500000000\n2026-10,ranker,Tokens,250000000\n",
    );
    let billing = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        "tokens.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["trend", "--input", "out", "--unit", "TOKENS", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let row = &v[0];
    assert_eq!(
        [
            &row["per"],
            &row["cost_from"],
            &row["cost_to"],
            &row["spend_effect"],
            &row["volume_effect"]
        ],
        [
            &serde_json::json!(1000000),
            &serde_json::json!("0.3549826"),
            &serde_json::json!("0.0000724"),
            &serde_json::json!("-0.3549464"),
            &serde_json::json!("0.0000362")
        ]
    );
    let r = env.run(&["trend", "--input", "out", "--unit", "tokens"]);
    assert!(
        r.stdout.contains("ranker 2026-09 -> 2026-10 (USD): cost per 1M tokens down 100.0% (0.3550 -> 0.0001) because spend fell 100.0% and tokens fell 50.0%"),
        "{}",
        r.stdout
    );
    let r = env.run(&["trend", "--input", "out", "--unit", "gpu_hours"]);
    assert!(
        r.stdout
            .starts_with("no model has two months of `gpu_hours` costs"),
        "{}",
        r.stdout
    );
    // an output without the table (volumes of requests alone) says so, it is not an error
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "plain",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["trend", "--input", "plain", "--unit", "tokens"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("no model has two months of `tokens` costs"),
        "{}",
        r.stdout
    );
    // on the sample, every row's two effects add up to its change to the last decimal
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let r = env.run(&[
        "attribute",
        "--billing",
        sample.join("focus_sample.csv").to_str().unwrap(),
        "--requests",
        sample.join("requests.csv").to_str().unwrap(),
        "--out",
        "sample",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for unit in ["input_tokens", "output_tokens", "requests"] {
        let r = env.run(&["trend", "--input", "sample", "--unit", unit, "--json"]);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
        assert!(!rows.is_empty(), "{unit}");
        let m = |v: &serde_json::Value| mlcost::money::Money::parse(v.as_str().unwrap()).unwrap();
        for row in rows {
            let change = m(&row["cost_to"]) - m(&row["cost_from"]);
            let split = m(&row["spend_effect"]) + m(&row["volume_effect"]);
            assert_eq!(change, split, "{row}");
        }
    }
}
