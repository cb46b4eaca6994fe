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

/// Reads every partition file of a table into one frame.
pub fn read_table(out: &Path, table: &str) -> DataFrame {
    let mut files: Vec<PathBuf> = glob::glob(&format!("{}/{table}/*/*.parquet", out.display()))
        .unwrap()
        .flatten()
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for f in files {
        let file = std::fs::File::open(&f).unwrap();
        frames.push(ParquetReader::new(file).finish().unwrap());
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
