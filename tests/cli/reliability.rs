//! Faults: a run killed with SIGKILL at known points (reading, writing each table, half-way
//! through the commit) and an output path that cannot be written. The previous outputs must
//! stay byte-identical, and the next successful run must leave no temporary files.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

fn outputs(env: &TestEnv) -> std::collections::BTreeMap<String, Vec<u8>> {
    // the outputs a reader sees: the published partitions (a failed run records itself in
    // manifest.json; hidden working files are not outputs)
    published(&env.path("out"))
        .into_iter()
        .filter(|(k, _)| !k.split('/').any(|p| p.starts_with(".mlcost")))
        .collect()
}

fn hidden_files(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(env.path("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        // the lock file stays (only the kernel's lock on it matters); working files must not
        .filter(|n| n.starts_with(".mlcost") && n != ".mlcost.lock")
        .collect()
}

/// Starts `attribute` on `billing`, waits until it pauses at `point`, and kills it.
fn kill_at(env: &TestEnv, billing: &str, point: &str) {
    kill_in(env, env.dir.path(), billing, "out", point)
}

/// `kill_at` run from `cwd` with the given `--out`.
fn kill_in(env: &TestEnv, cwd: &std::path::Path, billing: &str, out: &str, point: &str) {
    let flag = env.path(&format!("paused-{}", point.replace(':', "-")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args(["attribute", "--billing", billing, "--out", out, "-q"])
        .current_dir(cwd)
        .env("MLCOST_TEST_PAUSE_AT", point)
        .env("MLCOST_TEST_PAUSE_FILE", &flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !flag.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "never reached {point}"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("ended before {point}: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn killed_runs_leave_the_previous_outputs_intact() {
    let env = TestEnv::new();
    for (dir, seed) in [("a", "1"), ("b", "2")] {
        let r = env.run(&[
            "sample", "--out", dir, "--rows", "20000", "--months", "2", "--seed", seed, "-q",
        ]);
        assert_eq!(r.code, 0);
    }
    assert_eq!(
        env.run(&[
            "attribute",
            "--billing",
            "a/focus_sample.csv",
            "--out",
            "out",
            "-q"
        ])
        .code,
        0
    );
    let before = outputs(&env);
    for point in [
        "read",
        "stage:cost_by_model",
        "stage:unit_costs",
        "stage:tag_compliance",
    ] {
        kill_at(&env, "b/focus_sample.csv", point);
        assert!(
            before == outputs(&env),
            "outputs changed after a kill at {point}"
        );
    }
    // the next run takes over the dead run's lock and cleans up after it
    let r = env.run(&[
        "attribute",
        "--billing",
        "b/focus_sample.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(hidden_files(&env), Vec::<String>::new());
    assert!(before != outputs(&env));
}

#[test]
fn a_commit_killed_half_way_is_completed_by_the_next_run() {
    let env = TestEnv::new();
    for (dir, seed) in [("a", "1"), ("b", "2")] {
        assert_eq!(
            env.run(&["sample", "--out", dir, "--rows", "5000", "--seed", seed, "-q"])
                .code,
            0
        );
    }
    // what a clean run on b writes
    assert_eq!(
        env.run(&[
            "attribute",
            "--billing",
            "b/focus_sample.csv",
            "--out",
            "clean",
            "-q"
        ])
        .code,
        0
    );
    let clean = tree_bytes(&env.path("clean"), &["manifest.json", ".mlcost.lock"]);
    assert_eq!(
        env.run(&[
            "attribute",
            "--billing",
            "a/focus_sample.csv",
            "--out",
            "out",
            "-q"
        ])
        .code,
        0
    );
    kill_at(&env, "b/focus_sample.csv", "commit");
    assert!(
        env.path("out/.mlcost-commit").exists(),
        "the journal survives the kill"
    );
    // any later run completes the commit first, then does its own work
    let r = env.run(&[
        "attribute",
        "--billing",
        "b/focus_sample.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("completing the interrupted commit"),
        "{}",
        r.stderr
    );
    assert_eq!(hidden_files(&env), Vec::<String>::new());
    let after: std::collections::BTreeMap<_, _> = outputs(&env)
        .into_iter()
        .filter(|(k, _)| !k.ends_with("manifest.json"))
        .collect();
    assert!(after == clean, "the outputs are those of a clean run");
}

#[test]
fn an_unwritable_output_fails_cleanly_and_keeps_the_previous_outputs() {
    let env = TestEnv::new();
    let billing = fixture("focus/basic.csv");
    let b = billing.to_str().unwrap();
    assert_eq!(
        env.run(&["attribute", "--billing", b, "--out", "out"]).code,
        0
    );
    // a file where the new month's partition directory must go: the rename cannot happen
    let blocked = env.write(
        "out/cost_by_model/billing_period=2026-11",
        "not a directory",
    );
    let before = outputs(&env);
    let nov = std::fs::read_to_string(&billing)
        .unwrap()
        .replace("2026-10-01", "2026-11-01")
        .replace(
            "2026-11-01T00:00:00Z,2026-11-01",
            "2026-11-01T00:00:00Z,2026-12-01",
        );
    env.write("nov.csv", &nov);
    let r = env.run(&[
        "attribute",
        "--billing",
        "nov.csv",
        "--out",
        "out",
        "--period",
        "2026-11",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("is in the way of the outputs: a file where a directory goes"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("billing_period=2026-11"),
        "the message names the path: {}",
        r.stderr
    );
    assert!(before == outputs(&env), "previous outputs untouched");
    std::fs::remove_file(blocked).unwrap();
}

#[test]
fn issue12_2_a_commit_interrupted_under_a_relative_out_is_completed_from_anywhere() {
    let env = TestEnv::new();
    assert_eq!(
        env.run(&["sample", "--out", "s", "--rows", "3000", "-q"])
            .code,
        0
    );
    let billing = env.path("s/focus_sample.csv").display().to_string();
    assert_eq!(
        env.run(&["attribute", "--billing", &billing, "--out", "clean", "-q"])
            .code,
        0
    );
    let clean = tree_bytes(&env.path("clean"), &["manifest.json", ".mlcost.lock"]);
    // killed half-way through its renames, run from `a/` with `--out ../out`
    std::fs::create_dir_all(env.path("a")).unwrap();
    std::fs::create_dir_all(env.path("b/c")).unwrap();
    kill_in(&env, &env.path("a"), &billing, "../out", "commit");
    let journal = std::fs::read_to_string(env.path("out/.mlcost-commit")).unwrap();
    assert!(
        !journal.contains(".."),
        "journal entries are relative to --out: {journal}"
    );
    // completed by a run from elsewhere that names the same directory another way
    let r = Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args(["attribute", "--billing", &billing, "--out", "../../out"])
        .current_dir(env.path("b/c"))
        .env("MLCOST_NO_PROGRESS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("completing the interrupted commit"),
        "{stderr}"
    );
    let after = tree_bytes(&env.path("out"), &["manifest.json", ".mlcost.lock"]);
    assert!(after == clean, "the outputs are those of a clean run");
}
