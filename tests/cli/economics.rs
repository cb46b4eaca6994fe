//! Unit economics: `attribute --revenue` with targets, and `mlcost economics`.

use crate::util::*;

#[test]
fn revenue_margins_and_verdicts_in_unit_costs() {
    let env = TestEnv::new();
    let config = env.write(
        "c.toml",
        "[targets]\nmax_cost_per_1000_requests = 0.5\nmin_roi = 5\n\n[targets.models.fraud-v1]\nmax_cost_per_1000_requests = 0.05\n",
    );
    let (b, r, v) = (
        fixture("focus/basic.csv"),
        fixture("focus/requests.csv"),
        fixture("focus/revenue.csv"),
    );
    let run = env.run(&[
        "attribute",
        "--billing",
        b.to_str().unwrap(),
        "--requests",
        r.to_str().unwrap(),
        "--revenue",
        v.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    // cost 177.4913, revenue 5000, 1,000,000 requests
    assert_eq!(ranker["revenue"], "5000");
    assert_eq!(ranker["revenue_per_request"], "0.005");
    assert_eq!(ranker["cost_pct_of_revenue"], "3.549826");
    assert_eq!(ranker["gross_margin_pct"], "96.450174");
    // (5000 - 177.4913) / 177.4913 = 4822.5087 / 177.4913 = 27.1703... >= 5; 0.1774913 per 1,000 <= 0.5
    assert_eq!(ranker["roi"].get(..7), Some("27.1703"));
    assert_eq!(ranker["verdict"], "within_target");
    let fraud = find(&units, &[("model_id", "fraud-v1")]);
    // 20 / 200,000 requests = 0.1 per 1,000 > its own target 0.05
    assert_eq!(fraud["verdict"], "over_target");
    assert_eq!(
        fraud["verdict_reason"],
        "cost per 1,000 requests 0.1000 > 0.05"
    );
    assert_eq!(fraud["value_preserved"], "2000");
    assert_eq!(fraud["roi"], "99");
    assert_eq!(fraud["gross_margin_pct"], "null");
    let oct = find(
        &units,
        &[("billing_period", "2026-10"), ("model_id", "ranker")],
    );
    assert_eq!(oct["economics_reason"], "no revenue for model");
    let un = find(&units, &[("model_id", "__unallocated__")]);
    assert_eq!(
        (un["verdict"].as_str(), un["verdict_reason"].as_str()),
        ("no_target", "not a model")
    );
}

#[test]
fn economics_command_text_and_json() {
    let env = TestEnv::new();
    let r = env.run(&[
        "economics",
        "--cost",
        "28400",
        "--volume",
        "72000000",
        "--revenue",
        "4200000",
        "--utilization",
        "0.45",
        "--ftes",
        "1.5",
        "--fte-cost",
        "300000",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
    let r = env.run(&[
        "economics",
        "--cost",
        "50000",
        "--volume",
        "10000000",
        "--per",
        "day",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["requests_per_month"], 300000000);
    assert_eq!(v["cost_per_1000_requests"], "0.166666666666666667");
    let r = env.run(&[
        "economics",
        "--cost",
        "1",
        "--volume",
        "1",
        "--utilization",
        "1.5",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("`--utilization` must be from 0.000001 to 1, got 1.5"),
        "{}",
        r.stderr
    );
}
