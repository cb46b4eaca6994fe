//! `mlcost validate`: the compliance report as text (snapshot) and JSON, and the threshold.

use crate::util::*;

#[test]
fn text_report() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let r = env.run(&["validate", "--billing", billing.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
    assert!(!env.path("out").exists());
}

#[test]
fn json_report_and_threshold() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let b = billing.to_str().unwrap();
    let r = env.run(&["validate", "--billing", b, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["quarantined_rows"], 2);
    let model = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "model_id")
        .unwrap();
    // conflict (3) + untagged (7.5) + unused commitment (12.25) + purchase (0)
    assert_eq!(model["cost_noncompliant"], "22.75");
    assert_eq!(model["rows_noncompliant"], 4);

    let config = env.write("strict.toml", "[validate]\nmin_compliance = 0.9\n");
    let r = env.run(&[
        "validate",
        "--billing",
        b,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: tag compliance 81.0% of spend is below the threshold 90.0% (`validate.min_compliance`)\n"
    );
    let config = env.write("loose.toml", "[validate]\nmin_compliance = 0.5\n");
    let r = env.run(&[
        "validate",
        "--billing",
        b,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0);
}

#[test]
fn allowed_values_and_custom_required_keys() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let config = env.write(
        "c.toml",
        "[tags]\nrequired = [\"team\", \"model_id\"]\n[tags.allowed]\nteam = [\"recsys\"]\n",
    );
    let r = env.run(&[
        "validate",
        "--billing",
        billing.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["required"], serde_json::json!(["team", "model_id"]));
    let team = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "team")
        .unwrap();
    // fraud (20) is not an allowed team; untagged (7.5), unused (12.25) and purchase (0) miss it
    assert_eq!(team["cost_noncompliant"], "39.75");
}
