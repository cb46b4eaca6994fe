//! `mlcost estimate`, `tags` and `frontier` through the binary.

use crate::util::*;

#[test]
fn estimate_text_json_and_what_if() {
    let env = TestEnv::new();
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data/profile_recommendation.toml");
    let p = profile.to_str().unwrap();
    // a fixed day: the shipped catalog's prices would be called stale some day
    let r = env.run(&["estimate", "--profile", p, "--today", "2026-12-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    insta::assert_snapshot!(r.stdout);
    let r = env.run(&[
        "estimate",
        "--profile",
        p,
        "--today",
        "2026-12-01",
        "--json",
        "--compare",
        "pricing=on_demand",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["estimate"]["models"][0]["monthly"], "7557.618");
    assert_eq!(v["compared"]["models"][0]["monthly"], "13701.33");
    let r = env.run(&[
        "estimate",
        "--profile",
        p,
        "--compare",
        "inference.replicas",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("invalid `--compare` value `inference.replicas`"),
        "{}",
        r.stderr
    );
}

/// Prices taken more than 180 days before the estimate are flagged, the catalog's and an
/// instance's own, in the report, on stderr and in JSON; an instance the profile does not use
/// is not; a date that is not one is a config error naming the catalog.
#[test]
fn estimate_flags_stale_prices() {
    let env = TestEnv::new();
    let catalog = |as_of: &str| {
        format!(
            "provider = \"aws\"\nregion = \"r\"\ncurrency = \"USD\"\nprices_as_of = \"2026-01-01\"\n\
             [instances.\"a.large\"]\nhourly = 2.0\nas_of = \"{as_of}\"\n\
             [instances.\"b.large\"]\nhourly = 1.0\nas_of = \"2020-01-01\"\n\
             [storage]\ngb_month = 0.02\n[transfer]\nout_gb = 0.09\n"
        )
    };
    env.write("fresh.toml", &catalog("2026-06-01"));
    env.write("old.toml", &catalog("2025-01-01"));
    env.write("bad.toml", &catalog("June 2026"));
    env.write(
        "p.toml",
        "[[model]]\nname = \"m\"\n[model.inference]\ninstance = \"a.large\"\nreplicas = 1\npricing = \"on_demand\"\n",
    );
    let run = |catalog: &str, today: &str, json: bool| {
        let mut args = vec![
            "estimate",
            "--profile",
            "p.toml",
            "--catalog",
            catalog,
            "--today",
            today,
        ];
        if json {
            args.push("--json");
        }
        env.run(&args)
    };
    // 2026-06-30 is 180 days after 2026-01-01: not yet stale; the day after is
    let r = run("fresh.toml", "2026-06-30", false);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(!r.stdout.contains("Stale"), "{}", r.stdout);
    let r = run("fresh.toml", "2026-07-01", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line =
        "the prices of the catalog are 181 days old (taken 2026-01-01, more than 180 days ago)";
    assert!(
        r.stdout.contains(&format!("Stale prices: {line}.")),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stderr,
        format!("warning: {line}; check them or pass a current catalog with `--catalog`\n")
    );
    // the instance's own, older date is flagged too; b.large is not priced, so not flagged
    let r = run("old.toml", "2026-07-01", true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["estimate"]["stale_prices"],
        serde_json::json!([
            {"what": "the catalog", "as_of": "2026-01-01", "age_days": 181},
            {"what": "instance `a.large`", "as_of": "2025-01-01", "age_days": 546}
        ])
    );
    assert_eq!(r.stderr.matches("warning:").count(), 2, "{}", r.stderr);
    // -q: errors only
    let r = env.run(&[
        "-q",
        "estimate",
        "--profile",
        "p.toml",
        "--catalog",
        "old.toml",
        "--today",
        "2026-07-01",
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    // a what-if onto an instance with an older price is flagged too, in its section
    let r = env.run(&[
        "estimate",
        "--profile",
        "p.toml",
        "--catalog",
        "fresh.toml",
        "--today",
        "2026-06-30",
        "--compare",
        "inference.instance=b.large",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = "the prices of instance `b.large` are 2372 days old (taken 2020-01-01, more than 180 days ago)";
    assert!(
        r.stdout.contains(&format!("  Stale prices: {b}.")),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains(&format!("warning: {b}")), "{}", r.stderr);
    env.write("short.toml", &catalog("2026-6-1"));
    let r = run("short.toml", "2026-07-01", false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`as_of` `2026-6-1` is not a date"),
        "{}",
        r.stderr
    );
    let r = run("bad.toml", "2026-07-01", false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.toml")
            && r.stderr
                .contains("instance `a.large`: `as_of` `June 2026` is not a date")
            && r.stderr.contains("YYYY-MM-DD"),
        "{}",
        r.stderr
    );
}

#[test]
fn plan_vs_actual_on_fixture_outputs() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    assert_eq!(
        env.run(&[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--out",
            "out"
        ])
        .code,
        0
    );
    let profile = env.write(
        "ranker.toml",
        "[[model]]\nname = \"ranker\"\n[model.training]\ninstance = \"p3.16xlarge\"\nhours_per_run = 1\nruns_per_month = 5\npricing = \"spot\"\n[model.inference]\ninstance = \"g4dn.xlarge\"\nreplicas = 1\nhours_per_month = 300\npricing = \"reserved_1y\"\n",
    );
    let r = env.run(&[
        "estimate",
        "--profile",
        profile.to_str().unwrap(),
        "--actual",
        "out",
        "--period",
        "2026-09",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // planned: training 24.48 x 0.3 x 5 = 36.72; inference 0.526 x 0.6 x 300 = 94.68
    // actual (fixture): training 50.005, inference 127.4863
    assert!(
        r.stdout.contains("Plan vs actual, 2026-09 (USD)"),
        "{}",
        r.stdout
    );
    let inference = r
        .stdout
        .lines()
        .find(|l| l.contains("ranker") && l.contains("inference"))
        .unwrap();
    assert!(
        inference.contains("94.68") && inference.contains("127.49") && inference.contains("32.81"),
        "{inference}"
    );
    let training = r
        .stdout
        .lines()
        .find(|l| l.contains("ranker") && l.contains("training"))
        .unwrap();
    assert!(
        training.contains("36.72") && training.contains("50.01") && training.contains("13.29"),
        "{training}"
    );
}

#[test]
fn tags_every_output_format_and_check() {
    let env = TestEnv::new();
    let args = [
        "tags",
        "--team",
        "recsys",
        "--project",
        "feed",
        "--model-id",
        "ranker",
        "--environment",
        "prod",
        "--lifecycle-phase",
        "inference",
        "--created-by",
        "ci",
    ];
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["cost_center"], "eng-recsys");
    assert_eq!(v["managed_by"], "terraform");
    let mut tf = args.to_vec();
    tf.extend(["--output", "terraform"]);
    let r = env.run(&tf);
    assert!(
        r.stdout
            .starts_with("tags = {\n  team            = \"recsys\"\n"),
        "{}",
        r.stdout
    );
    let mut aws = args.to_vec();
    aws.extend(["--output", "aws-cli"]);
    let r = env.run(&aws);
    assert!(
        r.stdout
            .starts_with("Key=team,Value=recsys Key=project,Value=feed"),
        "{}",
        r.stdout
    );

    // check: a good JSON map passes, a tfvars map missing keys fails with exit 1
    env.write("good.json", &env.run(&args).stdout);
    let r = env.run(&["tags", "check", "good.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.write(
        "bad.tfvars",
        "tags = {\n  team = \"recsys\"\n  env  = \"prod\"\n}\n",
    );
    let r = env.run(&["tags", "check", "bad.tfvars"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: bad.tfvars violates the tag policy: missing:project, missing:model_id, missing:cost_center, missing:lifecycle_phase\n"
    );
    // allowed values from the config
    let config = env.write(
        "c.toml",
        "[tags.allowed]\nenvironment = [\"prod\", \"dev\"]\n",
    );
    let mut qa = args.to_vec();
    qa[8] = "qa";
    qa.extend(["--config", config.to_str().unwrap()]);
    let r = env.run(&qa);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("invalid:environment"), "{}", r.stderr);
}

#[test]
fn frontier_from_costs_and_profiles() {
    let env = TestEnv::new();
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data/profile_recommendation.toml");
    env.write(
        "c.toml",
        &format!(
            "[[candidate]]\nname = \"baseline\"\naccuracy = 0.90\nmonthly_cost = 5000\n\n[[candidate]]\nname = \"recommendation\"\naccuracy = 0.93\nprofile = \"{}\"\n\n[[candidate]]\nname = \"worse\"\naccuracy = 0.89\nmonthly_cost = 8000\n",
            profile.display()
        ),
    );
    let r = env.run(&["frontier", "--candidates", "c.toml", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rec = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "recommendation")
        .unwrap();
    assert_eq!(rec["monthly_cost"], "7557.618");
    // (7557.618 - 5000) / 3 points
    assert_eq!(rec["marginal_cost_per_point"], "852.539333333333333333");
    let worse = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "worse")
        .unwrap();
    // both others dominate it; the cheapest of them is named
    assert_eq!(worse["dominated_by"], "baseline");
}
