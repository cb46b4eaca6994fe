//! Output: everything a run publishes under `--out`, and reading it back.
//!
//! - `frames`: result rows to Arrow record batches, checked against `schemas/`;
//! - `lock`: the output lock (one run at a time per output directory);
//! - `commit`: the staging directory and the journaled rename commit;
//! - `manifest`: `manifest.json` (every run, whatever its outcome) and each partition's own
//!   `_manifest.json` with its restatement history;
//! - `quarantine`: the per-month quarantine files;
//! - `read`: the tables read back (reconciliation, amortisation, reports, explain);
//! - `regular`: opening the files under `--out` without following a planted symbolic link or
//!   blocking on a FIFO.
//!
//! Layout: `<table>/billing_period=YYYY-MM/{part-0.parquet,_manifest.json,_SUCCESS}`,
//! `quarantine/billing_period=YYYY-MM/quarantine.csv`, `quarantine/other_rows.csv`,
//! `manifest.json`.

mod commit;
mod frames;
mod lock;
mod manifest;
mod quarantine;
mod read;
mod regular;

use std::path::PathBuf;

pub use commit::{recover, write_file_atomic, write_record, Staging, TestHooks};
pub use frames::*;
pub use lock::{OutputLock, LOCK};
pub use manifest::*;
pub use quarantine::*;
pub use read::*;

pub const COST_BY_MODEL: &str = "cost_by_model";
pub const UNIT_COSTS: &str = "unit_costs";
pub const TAG_COMPLIANCE: &str = "tag_compliance";
pub const TRAINING_AMORTIZATION: &str = "training_amortization";
pub const HIDDEN_COSTS: &str = "hidden_costs";
pub const UNIT_COSTS_BY_UNIT: &str = "unit_costs_by_unit";
pub const COST_BY_DIMENSION: &str = "cost_by_dimension";
pub const COST_BY_MODEL_DAILY: &str = "cost_by_model_daily";
pub const UNIT_COSTS_DAILY: &str = "unit_costs_daily";
pub const ANOMALIES: &str = "anomalies";
/// Every partitioned table mlcost writes.
pub const TABLES: [&str; 11] = [
    COST_BY_MODEL,
    UNIT_COSTS,
    TAG_COMPLIANCE,
    TRAINING_AMORTIZATION,
    HIDDEN_COSTS,
    UNIT_COSTS_BY_UNIT,
    COST_BY_DIMENSION,
    COST_BY_MODEL_DAILY,
    UNIT_COSTS_DAILY,
    ANOMALIES,
    QUARANTINE_DIR,
];
pub const MANIFEST: &str = "manifest.json";
/// The data file of a table partition.
pub const PART_FILE: &str = "part-0.parquet";
/// A partition's own manifest (ignored by Hive-style readers: it starts with `_`).
pub const PARTITION_MANIFEST: &str = "_manifest.json";
/// Written last into each published partition, the marker Airflow and Spark sensors watch.
pub const SUCCESS: &str = "_SUCCESS";
/// Quarantined rows, partitioned by month like the tables.
pub const QUARANTINE_DIR: &str = "quarantine";
pub const QUARANTINE_FILE: &str = "quarantine.csv";
/// Quarantined rows of the last run that belong to no published month (the month could not
/// be read, or none of its rows could be used), under `quarantine/`.
pub const NO_PERIOD_QUARANTINE: &str = "other_rows.csv";

/// The quarantined rows of the last rejected run, under `quarantine/` (never published).
pub const REJECTED_QUARANTINE: &str = "rejected_run.csv";

/// `<table>/billing_period=<period>`, relative to the output directory.
pub fn partition_dir(table: &str, period: &str) -> PathBuf {
    PathBuf::from(table).join(format!("billing_period={period}"))
}
