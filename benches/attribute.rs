//! Benchmark of `mlcost attribute` on every shape of billing export issue 15 names (run:
//! `cargo bench --bench attribute`), against DuckDB and ClickHouse (the `chdb` package) doing
//! the same job on the same file in the same run, each written as its experts would
//! (`benches/peers.py`). For each size and shape it generates the export once with `mlcost
//! sample` (cached under `target/bench-data/`), runs the release binary and each peer, and
//! prints wall time, peak RSS of the process (`wait4`), rows/s and the ratios. A peer whose
//! Python package is missing is left out, with a note on stderr.
//!
//! Sizes: `MLCOST_BENCH_ROWS=1000000,10000000` (default 1000000). Shapes:
//! `MLCOST_BENCH_SHAPES=csv,parquet-ts_ms-double,...` (default: all, see `SHAPES`). Results go
//! in BENCHMARKS.md; nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Measure {
    wall: f64,
    peak_rss_mib: f64,
}

/// Runs a command, waits for it with wait4 and returns its wall time and peak RSS.
fn measure(cmd: &mut Command) -> Measure {
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for the child we just spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let wall = start.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "command failed: {cmd:?}"
    );
    std::mem::forget(child); // already reaped
    Measure {
        wall,
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

/// One shape of billing export, as providers and the engines that move them write it: the
/// `mlcost sample` options that write it and how it holds its tags (for the peers' queries,
/// `benches/peers.py`).
struct Shape {
    name: &'static str,
    sample: &'static [&'static str],
    tags: &'static str,
}

/// Every shape of issue 15 that `mlcost sample` writes. Defaults of `mlcost sample`: FOCUS,
/// periods as text, costs as decimal(38,10) in Parquet, Tags as JSON text, 1M-row row groups.
const SHAPES: &[Shape] = &[
    Shape {
        name: "csv",
        sample: &["--format", "csv"],
        tags: "json",
    },
    Shape {
        name: "csv.gz-crlf-bom",
        sample: &["--format", "csv-gz", "--line-ending", "crlf", "--bom"],
        tags: "json",
    },
    Shape {
        name: "parquet-text-period-dec38_10",
        sample: &["--format", "parquet"],
        tags: "json",
    },
    Shape {
        name: "parquet-ts_ms-double",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "timestamp-ms",
            "--cost-type",
            "double",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-ts_us+02:00-dec38_9",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "timestamp-us",
            "--time-zone",
            "+02:00",
            "--cost-type",
            "decimal38-9",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-ts_ns-float",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "timestamp-ns",
            "--cost-type",
            "float",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-date32-dec38_18",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "date32",
            "--cost-type",
            "decimal38-18",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-text-costs",
        sample: &["--format", "parquet", "--cost-type", "text"],
        tags: "json",
    },
    Shape {
        name: "parquet-high-cardinality-plain",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "timestamp-us",
            "--cost-type",
            "double",
            "--cardinality",
            "high",
            "--dictionary",
            "off",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-high-cardinality-dict",
        sample: &[
            "--format",
            "parquet",
            "--period-type",
            "timestamp-us",
            "--cost-type",
            "double",
            "--cardinality",
            "high",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-row-groups-64k",
        sample: &[
            "--format",
            "parquet",
            "--row-group-rows",
            "65536",
            "--period-type",
            "timestamp-us",
            "--cost-type",
            "double",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-100-files",
        sample: &[
            "--format",
            "parquet",
            "--parts",
            "100",
            "--period-type",
            "timestamp-us",
            "--cost-type",
            "double",
        ],
        tags: "json",
    },
    Shape {
        name: "parquet-tags-map",
        sample: &["--format", "parquet", "--tags", "map"],
        tags: "map",
    },
    Shape {
        name: "parquet-tags-struct",
        sample: &["--format", "parquet", "--tags", "struct"],
        tags: "struct",
    },
    Shape {
        name: "aws-cur-parquet",
        sample: &["--format", "parquet", "--layout", "aws-cur"],
        tags: "cur",
    },
    Shape {
        name: "aws-cur2-parquet",
        sample: &["--format", "parquet", "--layout", "aws-cur2"],
        tags: "cur2",
    },
];

/// The export of `shape` at `rows` rows, generated once with `mlcost sample --seed 1` and
/// cached; returns the billing input (a file, or the directory of `--parts` files) and the
/// peers' source (the file, or a glob of the parts).
fn ensure_sample(bin: &str, rows: u64, shape: &Shape) -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("{rows}-{}", shape.name));
    if !dir.join("requests.csv").exists() {
        let mut args = vec![
            "sample",
            "--out",
            dir.to_str().unwrap(),
            "--seed",
            "1",
            "-q",
        ];
        let rows_text = rows.to_string();
        args.extend(["--rows", &rows_text]);
        args.extend_from_slice(shape.sample);
        let m = measure(Command::new(bin).args(&args));
        eprintln!("generated {} in {:.1} s", dir.display(), m.wall);
    }
    let billing = std::fs::read_dir(&dir)
        .expect("sample directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n != "requests.csv"))
        .expect("a billing export");
    let source = match billing.is_dir() {
        true => format!("{}/*.parquet", billing.display()),
        false => billing.display().to_string(),
    };
    (billing, source)
}

/// Whether `python3` can import `module`.
fn importable(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A peer engine: its name in `benches/peers.py` and the Python module it needs.
const PEERS: [(&str, &str); 2] = [("duckdb", "duckdb"), ("clickhouse", "chdb")];

fn main() {
    let bin = env!("CARGO_BIN_EXE_mlcost");
    let list = |var: &str, default: &str| -> Vec<String> {
        std::env::var(var)
            .unwrap_or_else(|_| default.into())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let sizes: Vec<u64> = list("MLCOST_BENCH_ROWS", "1000000")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let wanted = list("MLCOST_BENCH_SHAPES", "all");
    let shapes: Vec<&Shape> = SHAPES
        .iter()
        .filter(|s| wanted.iter().any(|w| w == "all" || w == s.name))
        .collect();
    let peers: Vec<&str> = PEERS
        .iter()
        .filter(|(_, module)| {
            let ok = importable(module);
            if !ok {
                eprintln!("python3 cannot import {module}: that peer is left out");
            }
            ok
        })
        .map(|(name, _)| *name)
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers.py");
    let tmp = std::env::temp_dir();
    let mut header = String::from("| rows | shape | mlcost s | mlcost MiB | mlcost rows/s |");
    for p in &peers {
        header.push_str(&format!(" {p} s | {p} MiB | mlcost / {p} |"));
    }
    println!("{header}");
    println!("|{}", "---|".repeat(5 + 3 * peers.len()));
    for rows in sizes {
        for shape in &shapes {
            let (billing, source) = ensure_sample(bin, rows, shape);
            let requests = billing.with_file_name("requests.csv");
            let out = tmp.join(format!("mlcost-bench-{rows}-{}", shape.name));
            let _ = std::fs::remove_dir_all(&out);
            let m = measure(Command::new(bin).args([
                "attribute",
                "--billing",
                billing.to_str().unwrap(),
                "--requests",
                requests.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "-q",
            ]));
            let _ = std::fs::remove_dir_all(&out);
            let mut line = format!(
                "| {rows} | {} | {:.2} | {:.0} | {:.0} |",
                shape.name,
                m.wall,
                m.peak_rss_mib,
                rows as f64 / m.wall
            );
            for peer in &peers {
                let target = tmp.join(format!("{peer}-bench-{rows}.parquet"));
                let _ = std::fs::remove_file(&target);
                let mut peer_cmd = Command::new("python3");
                peer_cmd.args([
                    script.to_str().unwrap(),
                    peer,
                    shape.tags,
                    &source,
                    requests.to_str().unwrap(),
                    target.to_str().unwrap(),
                ]);
                if shape.sample.contains(&"text") {
                    peer_cmd.arg("text-costs");
                }
                let d = measure(&mut peer_cmd);
                let _ = std::fs::remove_file(&target);
                line.push_str(&format!(
                    " {:.2} | {:.0} | {:.2} |",
                    d.wall,
                    d.peak_rss_mib,
                    m.wall / d.wall
                ));
            }
            println!("{line}");
        }
    }
}
