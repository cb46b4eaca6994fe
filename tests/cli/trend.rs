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
    // spend effect 20 / 750,000 x 1000 = 0.026667; volume effect 1120/900000 - 1120/750000 (x1000)
    assert_eq!(v[1]["spend_effect"], "0.026666666666666667");
    assert_eq!(v[1]["volume_effect"], "-0.248888888888888889");
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
            .contains("alert: ranker: cost per 1,000 requests crosses its target 1.2 in 2026-11"),
        "{}",
        r.stdout
    );
}
