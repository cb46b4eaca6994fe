//! The bytes mlcost publishes, pinned: the sample run, the bundled `sample_data/` run (with its
//! config) and a run on every billing fixture. Any change of an output file, or of an exit
//! code, fails here, so a refactoring that must not change behaviour (issue #13) is proved by
//! this test staying green. A deliberate change of the outputs regenerates the pins with
//! `UPDATE_PINS=1 cargo test pinned` and shows up in review as a diff of
//! `tests/fixtures/pinned_outputs.txt`.
//!
//! Run records (`manifest.json`, each partition's `_manifest.json`) carry run ids and times and
//! are left out; the lock file too.

use sha2::{Digest, Sha256};

use crate::util::*;

const PINS: &str = "tests/fixtures/pinned_outputs.txt";

/// (case name, arguments after `attribute`), all run with `--out out`.
fn cases() -> Vec<(String, Vec<String>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = |p: &str| root.join(p).display().to_string();
    let mut cases = vec![
        (
            "sample_data".to_string(),
            vec![
                "--billing".into(),
                s("sample_data/focus_sample.csv"),
                "--requests".into(),
                s("sample_data/requests.csv"),
                "--config".into(),
                s("sample_data/mlcost.toml"),
            ],
        ),
        (
            "focus/basic with requests and revenue".to_string(),
            vec![
                "--billing".into(),
                s("tests/fixtures/focus/basic.csv"),
                "--requests".into(),
                s("tests/fixtures/focus/requests.csv"),
                "--revenue".into(),
                s("tests/fixtures/focus/revenue.csv"),
            ],
        ),
    ];
    let mut files: Vec<_> = glob::glob(&format!("{}/tests/fixtures/*/*", root.display()))
        .unwrap()
        .flatten()
        .filter(|p| {
            let n = p.to_string_lossy();
            [".csv", ".json", ".jsonl", ".parquet", ".gz"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .collect();
    files.sort();
    for f in files {
        let name = f
            .strip_prefix(root.join("tests/fixtures"))
            .unwrap()
            .display()
            .to_string();
        cases.push((name, vec!["--billing".into(), f.display().to_string()]));
    }
    cases
}

fn outcome(env: &TestEnv, args: &[String], out: &str) -> Vec<String> {
    let mut all = vec!["attribute".to_string()];
    all.extend(args.iter().cloned());
    all.extend(["--out".into(), out.into(), "-q".into()]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let r = env.run(&refs);
    let mut lines = vec![format!("exit\t{}", r.code)];
    for (name, bytes) in published(&env.path(out)) {
        if name.ends_with("_manifest.json") {
            continue;
        }
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        lines.push(format!("{name}\t{hash}"));
    }
    lines
}

#[test]
fn published_outputs_are_pinned() {
    let mut got = String::new();
    for (name, args) in cases() {
        let env = TestEnv::new();
        for line in outcome(&env, &args, "out") {
            got.push_str(&format!("{name}\t{line}\n"));
        }
    }
    // the sample run pins the generator and the reader at scale
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "3000", "--months", "2", "--seed", "7", "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut args: Vec<String> = [
        "--billing",
        "s/focus_sample.csv",
        "--requests",
        "s/requests.csv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for line in outcome(&env, &args, "out") {
        got.push_str(&format!("sample 3000 rows seed 7\t{line}\n"));
    }
    // every rule type on the same sample
    let rules = fixture("rules/every_rule.toml").display().to_string();
    args.extend(["--config".to_string(), rules]);
    for line in outcome(&env, &args, "rules") {
        got.push_str(&format!("sample with rules/every_rule.toml\t{line}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PINS);
    if std::env::var_os("UPDATE_PINS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .filter(|l| !want.lines().any(|w| w == *l))
            .map(|l| format!("+ {l}"))
            .chain(
                want.lines()
                    .filter(|w| !got.lines().any(|l| l == *w))
                    .map(|l| format!("- {l}")),
            )
            .collect();
        panic!(
            "published outputs changed ({PINS}; UPDATE_PINS=1 if on purpose):\n{}",
            diff.join("\n")
        );
    }
}
