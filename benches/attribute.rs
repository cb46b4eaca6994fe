//! Benchmark of `mlcost attribute` on data from `mlcost sample` (run: `cargo bench --bench
//! attribute`). For each size and input kind it generates the sample once (cached under
//! `target/bench-data/`), runs the release binary, and prints wall time, peak RSS of the child
//! process and rows/s; when the `duckdb` Python package is installed it also runs the
//! equivalent DuckDB query on the same input in the same run and prints the ratio.
//!
//! Sizes: `MLCOST_BENCH_ROWS=1000000,10000000` (the default). Inputs:
//! `MLCOST_BENCH_INPUTS=parquet,parquet-parts,csv,csv.gz` (the default; `parquet-parts` is the
//! same rows as 100 Parquet files). Results go in BENCHMARKS.md; nothing here asserts a time.

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

/// Sample data for a size and input kind: `parquet`, `parquet-parts` (the same rows in 100
/// files), `csv` or `csv.gz`. Generated once with `mlcost sample` and cached.
fn ensure_sample(bin: &str, rows: u64, kind: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("{rows}-{kind}"));
    let (format, parts, file) = match kind {
        "parquet" => ("parquet", 1, "focus_sample.parquet"),
        "parquet-parts" => ("parquet", 100, "focus_sample"),
        "csv" => ("csv", 1, "focus_sample.csv"),
        "csv.gz" => ("csv-gz", 1, "focus_sample.csv.gz"),
        other => panic!("unknown input kind {other}"),
    };
    let path = dir.join(file);
    if !dir.join("requests.csv").exists() {
        let m = measure(Command::new(bin).args([
            "sample",
            "--out",
            dir.to_str().unwrap(),
            "--rows",
            &rows.to_string(),
            "--format",
            format,
            "--parts",
            &parts.to_string(),
            "--seed",
            "1",
            "-q",
        ]));
        eprintln!("generated {} in {:.1} s", path.display(), m.wall);
    }
    path
}

fn duckdb_available() -> bool {
    Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The same job in DuckDB: exclude nothing on the effective basis, extract model_id, team and
/// lifecycle_phase from Tags, group EffectiveCost by month, model, team and phase, join
/// monthly requests, write Parquet.
const DUCKDB_QUERY: &str = r#"
import duckdb, sys
source, requests, out = sys.argv[1], sys.argv[2], sys.argv[3]
duckdb.sql(f"""
copy (
  with b as (
    select strftime(cast(BillingPeriodStart as timestamp), '%Y-%m') as period,
           coalesce(json_extract_string(t, '$.model_id'), '__unallocated__') as model_id,
           json_extract_string(t, '$.team') as team,
           json_extract_string(t, '$.lifecycle_phase') as phase,
           sum(EffectiveCost) as cost
    from (select *, case when json_valid(Tags) then Tags end as t from {source})
    group by all),
  r as (select strftime(cast(date as date), '%Y-%m') as period, model_id, sum(requests) as requests
        from read_csv('{requests}') group by all)
  select b.*, r.requests, b.cost / r.requests as cost_per_request
  from b left join r using (period, model_id)
) to '{out}' (format parquet)
""")
"#;

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
    let sizes: Vec<u64> = list("MLCOST_BENCH_ROWS", "1000000,10000000")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let kinds = list("MLCOST_BENCH_INPUTS", "parquet,parquet-parts,csv,csv.gz");
    let duck = duckdb_available();
    println!("| rows | input | tool | wall s | peak RSS MiB | rows/s | mlcost / duckdb |");
    println!("|---:|---|---|---:|---:|---:|---:|");
    for rows in sizes {
        for kind in &kinds {
            let billing = ensure_sample(bin, rows, kind);
            let requests = billing.with_file_name("requests.csv");
            let out = std::env::temp_dir().join(format!("mlcost-bench-{rows}-{kind}"));
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
            let d = duck.then(|| {
                let source = match kind.as_str() {
                    "parquet" => format!("read_parquet('{}')", billing.display()),
                    "parquet-parts" => format!("read_parquet('{}/*.parquet')", billing.display()),
                    _ => format!("read_csv('{}')", billing.display()),
                };
                let target = std::env::temp_dir().join(format!("duckdb-bench-{rows}.parquet"));
                measure(Command::new("python3").args([
                    "-c",
                    DUCKDB_QUERY,
                    &source,
                    requests.to_str().unwrap(),
                    target.to_str().unwrap(),
                ]))
            });
            let ratio = d
                .as_ref()
                .map_or("".to_string(), |d| format!("{:.2}", m.wall / d.wall));
            println!(
                "| {rows} | {kind} | mlcost | {:.2} | {:.0} | {:.0} | {ratio} |",
                m.wall,
                m.peak_rss_mib,
                rows as f64 / m.wall
            );
            if let Some(d) = d {
                println!(
                    "| {rows} | {kind} | duckdb (python) | {:.2} | {:.0} | {:.0} | |",
                    d.wall,
                    d.peak_rss_mib,
                    rows as f64 / d.wall
                );
            }
        }
    }
}
