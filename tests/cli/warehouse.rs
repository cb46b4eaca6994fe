//! Issue #14: what schedulers and warehouse loaders rely on: one JSON object on stdout for
//! every exit code, logs a machine can read, no colour codes in files, and JSON that matches
//! the schemas in `schemas/`.

use crate::util::*;

fn schema_required(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(name),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issue14_json_is_one_object_for_every_exit_code() {
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let b = basic.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["attribute", "--billing", b, "--out", "out", "--json"],
            0,
            "published",
        ),
        (
            vec![
                "attribute",
                "--billing",
                b,
                "--out",
                "out",
                "--json",
                "--strict",
            ],
            1,
            "rejected",
        ),
        (
            vec![
                "attribute",
                "--billing",
                "nope.csv",
                "--out",
                "out",
                "--json",
            ],
            2,
            "failed",
        ),
        (
            vec!["attribute", "--billing", b, "--json", "--no-such-flag"],
            2,
            "failed",
        ),
        (
            vec!["validate", "--billing", "nope.csv", "--json"],
            2,
            "failed",
        ),
    ];
    for (args, code, status) in cases {
        let r = env.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON object ({e}): {}",
                r.stdout
            )
        });
        assert_eq!(v["status"], status, "{args:?}");
        assert_eq!(v["exit_code"], code, "{args:?}");
        let schema = match (args[0], code) {
            ("attribute", 0 | 1) => "attribute-json.schema.json",
            _ => "error.schema.json",
        };
        for key in schema_required(schema) {
            assert!(
                v.get(&key).is_some(),
                "{args:?}: `{key}` required by {schema} is missing"
            );
        }
    }
    // the manifest of the last run matches its schema too
    let m = manifest(&env.path("out"));
    for key in schema_required("manifest.schema.json") {
        assert!(m.get(&key).is_some(), "manifest.json lacks `{key}`");
    }
}

#[test]
fn issue14_logs_for_machines_and_no_colour_in_files() {
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let r = env.run(&[
        "--log-format",
        "json",
        "-v",
        "validate",
        "--billing",
        basic.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.len() >= 2, "{}", r.stderr);
    assert!(events
        .iter()
        .all(|e| e["level"].is_string() && e["timestamp"].is_string()));
    // stderr is a pipe here: no ANSI escape codes, even with -v
    let r = env.run(&["-v", "validate", "--billing", basic.to_str().unwrap()]);
    assert!(!r.stderr.contains('\u{1b}'), "{}", r.stderr);
}
