//! The bytes mlcost publishes, pinned: every billing fixture, the bundled `sample_data/` run,
//! generated samples as CSV, CSV.gz and Parquet parts (through both Parquet readers), a run over
//! several files of different formats, a `--period` rerun, training amortisation across months,
//! `mlcost hidden`, and the side files read as side files. For each case the exit code, the
//! sha256 of every published file, of the manifests (run ids, times and durations taken out)
//! and of the summary on stderr are compared with `tests/fixtures/pinned_outputs.txt`. A
//! refactoring that must not change behaviour (issue #13) is proved by this test staying
//! green; a deliberate change regenerates the pins with `UPDATE_PINS=1 cargo test pinned`
//! and shows up in review as a diff of that file.
//!
//! Inputs are copied into the test's directory and named by relative paths, so what the
//! outputs record (file names in quarantine files and manifests) is the same on any checkout.

use sha2::{Digest, Sha256};

use crate::util::*;

const PINS: &str = "tests/fixtures/pinned_outputs.txt";

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A manifest with what differs from run to run taken out.
fn normalised_manifest(bytes: &[u8]) -> Vec<u8> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in [
                    "run_id",
                    "run",
                    "published_at",
                    "restated_at",
                    "previous_run_id",
                    "duration_seconds",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).expect("a manifest is JSON");
    strip(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// A summary with the run id taken out.
fn normalised_summary(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("; run ") {
            Some(i) => format!("{}; run [RUN]", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Copies the fixtures and the sample data into the test directory once.
fn inputs(env: &TestEnv) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["tests/fixtures", "sample_data"] {
        for f in glob::glob(&format!("{}/{dir}/**/*", root.display()))
            .unwrap()
            .flatten()
        {
            if f.is_file() {
                let rel = f.strip_prefix(root).unwrap();
                let to = env.path(&rel.display().to_string());
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&f, to).unwrap();
            }
        }
    }
}

/// Runs one command and returns its pin lines: exit code, summary, and every file under `out`.
fn pin(env: &TestEnv, name: &str, args: &[&str], vars: &[(&str, &str)], out: &str) -> String {
    let r = env.run_env(args, vars);
    let mut lines = vec![
        format!("exit\t{}", r.code),
        format!(
            "stderr\t{}",
            sha(normalised_summary(&env.clean(&r.stderr)).as_bytes())
        ),
    ];
    if env.path(out).exists() {
        for (file, bytes) in tree_bytes(&env.path(out), &[".mlcost.lock"]) {
            let bytes = match file.ends_with("manifest.json") {
                true => normalised_manifest(&bytes),
                false => bytes,
            };
            lines.push(format!("{file}\t{}", sha(&bytes)));
        }
    }
    lines.iter().map(|l| format!("{name}\t{l}\n")).collect()
}

#[test]
fn published_outputs_are_pinned() {
    let env = TestEnv::new();
    inputs(&env);
    let mut got = String::new();
    let mut n = 0;
    let mut case = |name: &str, args: &[&str], vars: &[(&str, &str)]| {
        n += 1;
        let out = format!("out{n}");
        let mut all: Vec<&str> = args.to_vec();
        if args[0] == "attribute" {
            all.extend(["--out", out.as_str()]);
        }
        got.push_str(&pin(&env, name, &all, vars, &out));
    };
    // every billing fixture alone
    let mut bills: Vec<String> =
        glob::glob(&format!("{}/tests/fixtures/**/*", env.dir.path().display()))
            .unwrap()
            .flatten()
            .filter(|p| p.is_file())
            .map(|p| {
                p.strip_prefix(env.dir.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .filter(|p| {
                [".csv", ".json", ".jsonl", ".parquet", ".gz"]
                    .iter()
                    .any(|e| p.ends_with(e))
            })
            .filter(|p| {
                !p.ends_with("requests.csv")
                    && !p.ends_with("revenue.csv")
                    && !p.ends_with("feature_reads.csv")
            })
            .collect();
    bills.sort();
    for b in &bills {
        case(b, &["attribute", "--billing", b], &[]);
    }
    // side files as side files, the bundled sample with its config, several files at once
    let f = "tests/fixtures";
    case(
        "focus with requests and revenue",
        &[
            "attribute",
            "--billing",
            &format!("{f}/focus/basic.csv"),
            "--requests",
            &format!("{f}/focus/requests.csv"),
            "--revenue",
            &format!("{f}/focus/revenue.csv"),
        ],
        &[],
    );
    case(
        "sample_data",
        &[
            "attribute",
            "--billing",
            "sample_data/focus_sample.csv",
            "--requests",
            "sample_data/requests.csv",
            "--config",
            "sample_data/mlcost.toml",
        ],
        &[],
    );
    case(
        "five formats at once",
        &[
            "attribute",
            "--billing",
            &format!("{f}/focus/basic.csv"),
            &format!("{f}/aws/cur1.csv"),
            &format!("{f}/azure/amortized.csv"),
            &format!("{f}/gcp/export.jsonl"),
            &format!("{f}/oci/cost_report.csv"),
        ],
        &[],
    );
    case(
        "focus --period 2026-10",
        &[
            "attribute",
            "--billing",
            &format!("{f}/focus/basic.csv"),
            "--period",
            "2026-10",
        ],
        &[],
    );
    env.write("amortize.toml", "[amortize]\ntraining_months = 3\n");
    let amortize = "amortize.toml";
    case(
        "history with training over 3 months",
        &[
            "attribute",
            "--billing",
            &format!("{f}/history/billing.csv"),
            "--requests",
            &format!("{f}/history/requests.csv"),
            "--config",
            amortize,
        ],
        &[],
    );
    // generated samples: CSV, CSV.gz, Parquet in parts through both Parquet readers
    for (dir, format, parts) in [
        ("s", "csv", "1"),
        ("sgz", "csv-gz", "1"),
        ("spq", "parquet", "3"),
    ] {
        let r = env.run(&[
            "sample", "--out", dir, "--rows", "3000", "--months", "2", "--seed", "7", "--format",
            format, "--parts", parts, "-q",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    case(
        "sample csv",
        &[
            "attribute",
            "--billing",
            "s/focus_sample.csv",
            "--requests",
            "s/requests.csv",
        ],
        &[],
    );
    case(
        "sample csv.gz",
        &[
            "attribute",
            "--billing",
            "sgz/focus_sample.csv.gz",
            "--requests",
            "sgz/requests.csv",
        ],
        &[],
    );
    case(
        "sample parquet parts",
        &[
            "attribute",
            "--billing",
            "spq/focus_sample",
            "--requests",
            "spq/requests.csv",
        ],
        &[],
    );
    case(
        "sample parquet parts through polars",
        &[
            "attribute",
            "--billing",
            "spq/focus_sample",
            "--requests",
            "spq/requests.csv",
        ],
        &[("MLCOST_PARQUET_READER", "polars")],
    );
    case(
        "sample with rules/every_rule.toml",
        &[
            "attribute",
            "--billing",
            "s/focus_sample.csv",
            "--requests",
            "s/requests.csv",
            "--config",
            &format!("{f}/rules/every_rule.toml"),
        ],
        &[],
    );
    // hidden costs over a published output, with a utilisation file
    env.write("util.csv", "model_id,utilization\nranker,0.5\n");
    env.write("hidden.toml", "[hidden]\ndefault_utilization = 0.6\nexperiment_share = 0.1\nwaste_fraction = 0.5\nftes = 1.5\nfte_annual_cost = 300000\n");
    let hidden_cfg = "hidden.toml";
    n += 1;
    let out = format!("out{n}");
    let r = env.run(&[
        "attribute",
        "--billing",
        &format!("{f}/history/billing.csv"),
        "--requests",
        &format!("{f}/history/requests.csv"),
        "--out",
        &out,
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    got.push_str(&pin(
        &env,
        "hidden",
        &[
            "hidden",
            "--input",
            &out,
            "--utilization",
            "util.csv",
            "--config",
            hidden_cfg,
        ],
        &[],
        &out,
    ));

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
