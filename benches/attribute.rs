//! Benchmark of `mlcost attribute` on data from `mlcost sample` (run: `cargo bench --bench
//! attribute`). For each size it generates the sample once (cached under
//! `target/bench-data/`), runs the release binary on the Parquet and the CSV export, and prints
//! wall time, peak RSS of the child process and rows/s; when the `duckdb` Python package is
//! installed it also times the equivalent DuckDB query on the same Parquet file.
//!
//! Sizes: `MLCOST_BENCH_ROWS=1000000,10000000` (the default). Results go in BENCHMARKS.md;
//! nothing here asserts a time.

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

fn data_dir(rows: u64, format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("{rows}-{format}"))
}

fn ensure_sample(bin: &str, rows: u64, format: &str) -> PathBuf {
    let dir = data_dir(rows, format);
    let ext = if format == "parquet" {
        "parquet"
    } else {
        "csv"
    };
    let file = dir.join(format!("focus_sample.{ext}"));
    if !file.exists() {
        let m = measure(Command::new(bin).args([
            "sample",
            "--out",
            dir.to_str().unwrap(),
            "--rows",
            &rows.to_string(),
            "--format",
            format,
            "--seed",
            "1",
            "-q",
        ]));
        eprintln!("generated {} in {:.1} s", file.display(), m.wall);
    }
    file
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
billing, requests, out = sys.argv[1], sys.argv[2], sys.argv[3]
duckdb.sql(f"""
copy (
  with b as (
    select strftime(cast(BillingPeriodStart as timestamp), '%Y-%m') as period,
           coalesce(json_extract_string(t, '$.model_id'), '__unallocated__') as model_id,
           json_extract_string(t, '$.team') as team,
           json_extract_string(t, '$.lifecycle_phase') as phase,
           sum(EffectiveCost) as cost
    from (select *, case when json_valid(Tags) then Tags end as t from read_parquet('{billing}'))
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
    let sizes: Vec<u64> = std::env::var("MLCOST_BENCH_ROWS")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let duck = duckdb_available();
    println!("| rows | input | tool | wall s | peak RSS MiB | rows/s |");
    println!("|---:|---|---|---:|---:|---:|");
    for rows in sizes {
        for format in ["parquet", "csv"] {
            let billing = ensure_sample(bin, rows, format);
            let requests = billing.with_file_name("requests.csv");
            let out = std::env::temp_dir().join(format!("mlcost-bench-{rows}-{format}"));
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
            println!(
                "| {rows} | {format} | mlcost | {:.2} | {:.0} | {:.0} |",
                m.wall,
                m.peak_rss_mib,
                rows as f64 / m.wall
            );
            if duck && format == "parquet" {
                let target = std::env::temp_dir().join(format!("duckdb-bench-{rows}.parquet"));
                let m = measure(Command::new("python3").args([
                    "-c",
                    DUCKDB_QUERY,
                    billing.to_str().unwrap(),
                    requests.to_str().unwrap(),
                    target.to_str().unwrap(),
                ]));
                println!(
                    "| {rows} | {format} | duckdb (python) | {:.2} | {:.0} | {:.0} |",
                    m.wall,
                    m.peak_rss_mib,
                    rows as f64 / m.wall
                );
            }
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}
