//! Test harness: a temporary directory, the `mlcost` binary, and readers for its outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mlcost::money::Money;
use polars::prelude::*;

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs mlcost in the temp dir with progress bars off.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// `run` with extra environment variables.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_mlcost"))
            .args(args)
            .envs(vars.iter().copied())
            .current_dir(self.dir.path())
            .env("MLCOST_NO_PROGRESS", "1")
            .env_remove("RUST_LOG")
            .env_remove("MLCOST_CONFIG")
            .output()
            .expect("run mlcost");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Replaces the temp dir and fixture paths in output so snapshots are stable.
    pub fn clean(&self, text: &str) -> String {
        let fixtures = fixture("").display().to_string();
        text.replace(&self.dir.path().display().to_string(), "[TMP]")
            .replace(fixtures.trim_end_matches('/'), "[FIXTURES]")
    }
}

/// Reads every partition file of a table into one frame, as a Hive-partitioned dataset reader
/// does: `billing_period` comes from the directory and is the first column.
pub fn read_table(out: &Path, table: &str) -> DataFrame {
    let mut files: Vec<PathBuf> = glob::glob(&format!("{}/{table}/*/*.parquet", out.display()))
        .unwrap()
        .flatten()
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for f in files {
        let period = f
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .strip_prefix("billing_period=")
            .expect("a partition directory")
            .to_string();
        let file = std::fs::File::open(&f).unwrap();
        let df = ParquetReader::new(file).finish().unwrap();
        assert!(
            df.column("billing_period").is_err(),
            "{}: the partition key must live in the path only",
            f.display()
        );
        let key = Column::new("billing_period".into(), vec![period.as_str(); df.height()]);
        let mut columns = vec![key];
        columns.extend(df.columns().iter().cloned());
        frames.push(DataFrame::new_infer_height(columns).unwrap());
    }
    let mut it = frames.into_iter();
    let mut df = it.next().expect("at least one partition");
    for f in it {
        df.vstack_mut(&f).unwrap();
    }
    df
}

/// A table's rows as maps of column -> text (decimals as exact strings, nulls as "null").
pub fn rows(df: &DataFrame) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new(); df.height()];
    for c in df.columns() {
        let s = c.as_materialized_series();
        let name = s.name().to_string();
        let texts: Vec<String> = match s.dtype() {
            DataType::Decimal(_, _) => s
                .decimal()
                .unwrap()
                .physical()
                .iter()
                .map(|v| {
                    v.map(|v| Money(v).to_string())
                        .unwrap_or_else(|| "null".into())
                })
                .collect(),
            _ => s
                .cast(&DataType::String)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string).unwrap_or_else(|| "null".into()))
                .collect(),
        };
        for (row, t) in out.iter_mut().zip(texts) {
            row.insert(name.clone(), t);
        }
    }
    out
}

/// Finds the one row whose columns match all of `pairs`.
pub fn find<'a>(
    rows: &'a [BTreeMap<String, String>],
    pairs: &[(&str, &str)],
) -> &'a BTreeMap<String, String> {
    let found: Vec<_> = rows
        .iter()
        .filter(|r| {
            pairs
                .iter()
                .all(|(k, v)| r.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one row matching {pairs:?}, found {}",
        found.len()
    );
    found[0]
}

/// Sum of a decimal column per (billing_period, currency).
pub fn sums(df: &DataFrame, column: &str) -> BTreeMap<(String, String), String> {
    let mut m: BTreeMap<(String, String), Money> = BTreeMap::new();
    for r in rows(df) {
        let k = (r["billing_period"].clone(), r["currency"].clone());
        *m.entry(k).or_default() += Money::parse(&r[column]).unwrap();
    }
    m.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

pub fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir` with its bytes, for byte-identity checks.
pub fn tree_bytes(dir: &Path, skip: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in glob::glob(&format!("{}/**/*", dir.display()))
        .unwrap()
        .flatten()
    {
        let rel = entry.strip_prefix(dir).unwrap().display().to_string();
        if entry.is_file() && !skip.iter().any(|s| rel.ends_with(s)) {
            out.insert(rel, std::fs::read(&entry).unwrap());
        }
    }
    out
}

/// What a run publishes under `out` (every file but the run record `manifest.json`, the lock
/// and `quarantine/rejected_run.csv`), for checks that a rejected or failed run changed nothing.
pub fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    tree_bytes(out, &[])
        .into_iter()
        .filter(|(k, _)| {
            ![
                "manifest.json",
                ".mlcost.lock",
                "quarantine/rejected_run.csv",
            ]
            .contains(&k.as_str())
        })
        .collect()
}

// Hand-made FOCUS inputs (one-line rows of the columns of focus/basic.csv).

/// The header of focus/basic.csv.
pub fn header() -> String {
    std::fs::read_to_string(fixture("focus/basic.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// A FOCUS row with the given period, currency, cost text and Tags text (CSV-quoted here).
pub fn row(period: &str, currency: &str, cost: &str, tags: &str, resource: &str) -> String {
    format!(
        "{period},2026-11-01T00:00:00Z,2026-10-02T00:00:00Z,{currency},Usage,,,AWS,1,2,3,Amazon EC2,{resource},\"{}\",{cost},{cost},1,1,",
        tags.replace('"', "\"\"")
    )
}

pub fn good(cost: &str) -> String {
    row(
        "2026-10-01T00:00:00Z",
        "USD",
        cost,
        r#"{"model_id": "m", "team": "t"}"#,
        "i-1",
    )
}

pub fn focus(rows: &[String]) -> Vec<u8> {
    let mut s = header();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s.into_bytes()
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, bytes).unwrap();
    e.finish().unwrap()
}
