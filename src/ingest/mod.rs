//! Ingest: the first stage. It finds the input files (`files`), opens each as a scan
//! (`scan`; CSV through our streaming reader `csv`, Parquet through Polars or the dictionary
//! reader `parquet_direct`, after `parquet_check` has checked its layout; JSON whole), detects its format and maps it to canonical line items
//! through the format's adapter (`normalise`, one module per format), aggregates the lines to
//! one group per distinct dimension set (`groups`), decides nothing about money but what a row
//! is (`values`, `quarantine`), and reads every billing input of a run (`billing`). FOCUS
//! datasets that are not spend (Contract Commitment, Billing Period, Invoice Detail) are told
//! apart and read whole by `focus_datasets`.
//! Everything after this stage works on those few aggregated groups, never on raw rows.
//! Ingest never writes a file.

pub mod aws;
pub mod azure;
mod billing;
pub mod columns;
pub mod cost_explorer;
pub mod csv;
mod files;
pub mod focus;
pub mod focus_datasets;
pub mod gcp;
mod groups;
mod normalise;
pub mod objects;
pub mod oci;
pub mod parquet_check;
pub mod parquet_direct;
mod quarantine;
mod scan;
mod values;

pub use billing::{file_totals, read_billing, BillingRead, FileRead, FileTotals, ReadOptions};
pub use files::{hash_content, hash_file, inspect, resolve_paths, sniff, Hashes};
pub use focus_datasets::{Companions, CostAndUsageFacts, Dataset};
pub use groups::{aggregate, cost_column, SourceGroup};
pub(crate) use normalise::any_value_json;
pub use normalise::*;
pub use objects::{is_uri, Staging};
pub use quarantine::{
    is_counted, quarantine_reason, quarantine_rows, QuarantineReason, QuarantinedRow,
};
pub use scan::{bad_row_reason, bad_row_status, Frame, Frames, RawScan, ROW_NUMBER};
pub use values::{billing_period, charge_day, currency_code, ValueCache};

use std::path::PathBuf;

/// How an input file is encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Csv,
    CsvGz,
    Parquet,
    /// Newline-delimited JSON (GCP BigQuery export) or Cost Explorer API responses.
    Json,
}

/// An input file with what the manifest needs to know about it.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub size: u64,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// sha256 of its content: the decompressed bytes of a `.csv.gz`, else the same as `sha256`.
    pub content_sha256: String,
}
