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

/// Volumes in any unit, wide or long: `unit_costs_by_unit` has a row per model and unit with
/// the cost per unit, per 1,000 and per 1,000,000 units, by hand from the fixture (ranker
/// 2026-09 costs 177.4913, fraud-v1 20); `unit_costs` is what the requests alone give; a
/// request-only run writes no such table and removes the month's old one.
#[test]
fn tokens_and_any_unit_get_their_unit_costs() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let attribute = |requests: &str, out: &str| {
        let r = env.run(&[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--requests",
            requests,
            "--out",
            out,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r
    };
    env.write(
        "wide.csv",
        "date,model_id,requests,tokens\n2026-09-01,ranker,600000,300000000\n2026-09-02,Ranker,400000,200000000\n2026-09-01,fraud-v1,200000,\n2026-09-01,__unallocated__,5,100\n",
    );
    attribute("wide.csv", "out");
    let by_unit = rows(&read_table(&env.path("out"), "unit_costs_by_unit"));
    // reserved ids serve nothing: no unit costs for unallocated spend
    assert!(by_unit.iter().all(|r| r["model_id"] != "__unallocated__"));
    let ranker = |unit: &str| find(&by_unit, &[("model_id", "ranker"), ("unit", unit)]);
    // 177.4913 / 500,000,000 tokens: 0.3549826 per million
    let t = ranker("tokens");
    assert_eq!(
        (
            t["team"].as_str(),
            t["currency"].as_str(),
            t["total_cost"].as_str()
        ),
        ("recsys", "USD", "177.4913")
    );
    assert_eq!(
        (
            t["quantity"].as_str(),
            t["cost_per_unit"].as_str(),
            t["cost_per_1000_units"].as_str(),
            t["cost_per_1m_units"].as_str()
        ),
        ("500000000", "0.0000003549826", "0.0003549826", "0.3549826")
    );
    // and per request: 177.4913 / 1,000,000
    assert_eq!(ranker("requests")["cost_per_1000_units"], "0.1774913");
    let fraud: Vec<_> = by_unit
        .iter()
        .filter(|r| r["model_id"] == "fraud-v1")
        .collect();
    assert_eq!(
        fraud.len(),
        1,
        "an empty tokens cell is no tokens row: {fraud:?}"
    );
    assert_eq!(fraud[0]["cost_per_1000_units"], "0.1");
    // unit_costs is the file the requests alone give, byte for byte
    attribute(fixture("focus/requests.csv").to_str().unwrap(), "plain");
    let part = "unit_costs/billing_period=2026-09/part-0.parquet";
    assert_eq!(
        std::fs::read(env.path("out").join(part)).unwrap(),
        std::fs::read(env.path("plain").join(part)).unwrap()
    );
    assert!(!env.path("plain/unit_costs_by_unit").exists());
    // long form: any unit, lower-cased and summed; a zero quantity has a reason
    env.write(
        "long.csv",
        "billing_period,model_id,unit,quantity\n2026-09,ranker,GPU_Hours,12.5\n2026-09,ranker,gpu_hours,2.5\n2026-09,fraud-v1,images,0\n",
    );
    let tokens_target = env.write("tokens.toml", "[targets]\nmax_cost_per_1m_tokens = 0.3\n");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        "long.csv",
        "--config",
        tokens_target.to_str().unwrap(),
        "--out",
        "long",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a tokens target with no tokens in the volumes judges nothing, and says so
    assert!(
        r.stderr.contains("[targets] sets a limit for unit `tokens`, which no volume gives (units given: gpu_hours, images)"),
        "{}",
        r.stderr
    );
    let by_unit = rows(&read_table(&env.path("long"), "unit_costs_by_unit"));
    let gpu = find(&by_unit, &[("model_id", "ranker"), ("unit", "gpu_hours")]);
    // 177.4913 / 15 = 11.83275333..., rounded at 18 decimals
    assert_eq!(gpu["cost_per_unit"], "11.832753333333333333");
    let images = find(&by_unit, &[("model_id", "fraud-v1")]);
    assert_eq!(
        (
            images["cost_per_unit"].as_str(),
            images["unit_cost_reason"].as_str()
        ),
        ("null", "zero quantity")
    );
    // unit targets judge the unit rows and the model: 0.3549826 per 1M tokens > 0.3
    let config = env.write(
        "targets.toml",
        "[targets]\nmax_cost_per_1m_tokens = 0.3\n[targets.units.requests]\nmax_cost_per_1000 = 1\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        "wide.csv",
        "--config",
        config.to_str().unwrap(),
        "--out",
        "judged",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let by_unit = rows(&read_table(&env.path("judged"), "unit_costs_by_unit"));
    let tokens = find(&by_unit, &[("model_id", "ranker"), ("unit", "tokens")]);
    assert_eq!(
        (
            tokens["verdict"].as_str(),
            tokens["verdict_reason"].as_str()
        ),
        ("over_target", "cost per 1M tokens 0.3550 > 0.3")
    );
    let requests = find(&by_unit, &[("model_id", "ranker"), ("unit", "requests")]);
    assert_eq!(requests["verdict"], "within_target");
    let units = rows(&read_table(&env.path("judged"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(
        (
            ranker["verdict"].as_str(),
            ranker["verdict_reason"].as_str()
        ),
        ("over_target", "cost per 1M tokens 0.3550 > 0.3")
    );
    let fraud = find(&units, &[("model_id", "fraud-v1")]);
    assert_eq!(
        (fraud["verdict"].as_str(), fraud["verdict_reason"].as_str()),
        ("within_target", "cost per 1,000 requests 0.1000 <= 1")
    );
    // the report shows the units where the cost per 1,000 requests is
    let r = env.run(&[
        "report", "--input", "judged", "--period", "2026-09", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = &r.stdout;
    let at = |s: &str| {
        page.find(s)
            .unwrap_or_else(|| panic!("no `{s}` in\n{page}"))
    };
    assert!(at("## Cost per 1,000 requests") < at("## Cost per unit, 2026-09"));
    assert!(at("| ranker | tokens | 500,000,000 | ") > 0);
    let row = page
        .lines()
        .find(|l| l.starts_with("| ranker | tokens |"))
        .unwrap();
    assert!(row.ends_with("| over target |"), "{row}");
    // the month republished from requests alone loses its by-unit partition
    attribute(fixture("focus/requests.csv").to_str().unwrap(), "out");
    assert!(!env
        .path("out/unit_costs_by_unit/billing_period=2026-09")
        .exists());
}

/// `economics --unit`: one system's cost per unit of any unit, at three scales, by hand:
/// 50,000 a month for 100 GPU-hours a day x 30 = 3,000 -> 16.666...67 per GPU-hour; for
/// 3,000,000,000 tokens -> 16.666...67 per million; margins do not depend on the unit.
#[test]
fn economics_of_one_system_in_any_unit() {
    let env = TestEnv::new();
    let r = env.run(&[
        "economics",
        "--cost",
        "50000",
        "--volume",
        "100",
        "--per",
        "day",
        "--unit",
        "GPU Hours",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["unit"]["unit"], "gpu_hours");
    assert_eq!(v["unit"]["volume_per_month"], "3000");
    assert_eq!(v["unit"]["costs"]["cost_per_unit"], "16.666666666666666667");
    assert!(v.get("requests_per_month").is_none(), "{v}");
    let r = env.run(&[
        "economics",
        "--cost",
        "50000",
        "--volume",
        "3000000000",
        "--unit",
        "tokens",
        "--revenue",
        "200000",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("cost per 1M tokens            16.666667"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("gross margin                  75.00%"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("per request"), "{}", r.stdout);
    // a unit's volume is a decimal of any size, not a 64-bit count; labels never touch values
    let r = env.run(&[
        "economics",
        "--cost",
        "1",
        "--volume",
        "10000000000000000000",
        "--unit",
        "output_tokens",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("cost per unit of output_tokens 0.000000000000"),
        "{}",
        r.stdout
    );
    let r = env.run(&[
        "economics",
        "--cost",
        "1",
        "--volume",
        "0",
        "--unit",
        "tokens",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("a volume above zero"), "{}", r.stderr);
}
