//! An opened input file: `RawScan` knows its columns and hands out its rows, as a lazy Polars
//! scan (Parquet, JSON) or as batches from the CSV reader (`csv`), with the rows that reader
//! could not read.

use std::path::Path;

use polars::prelude::*;

use super::{
    cost_explorer, csv, gcp, FileKind, InputFile, STATUS_CUT_ROW, STATUS_WRONG_FIELD_COUNT,
};
use crate::error::{Error, Result};

/// An opened input: a lazy scan of the raw source columns (Parquet, JSON), or the header of a
/// CSV file whose rows `frames` reads in batches.
pub struct RawScan {
    pub file: InputFile,
    /// Set for JSON inputs, which are read whole into a frame of text columns.
    materialised: Option<DataFrame>,
    pub schema: SchemaRef,
    /// Whether the warning about a cut last row was given (once per file, not once per pass).
    warned: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Batch and slice sizes (defaults unless the run set them).
    pub options: super::ReadOptions,
}

/// Name of the row-number column added for the quarantine pass (1-based data rows).
pub const ROW_NUMBER: &str = "__mlcost_row";

/// Rows of a file as frames of raw columns, with the rows that could not be read.
pub type Frame = csv::Batch;

impl RawScan {
    /// Opens `file` and reads its schema. CSV columns are all read as text, so ids keep their
    /// leading zeros and money is never parsed through a float.
    pub fn open(file: InputFile) -> Result<RawScan> {
        if file.size == 0 {
            return Err(Error::Ingest {
                path: file.path.clone(),
                message: "the file is empty".into(),
                hint: Some(
                    "the export may still be being written; run again when it is complete".into(),
                ),
            });
        }
        let materialised = match file.kind {
            FileKind::Json => Some(read_json(&file.path)?),
            _ => None,
        };
        let mut scan = RawScan {
            file,
            materialised,
            schema: Arc::new(Schema::default()),
            warned: Default::default(),
            options: Default::default(),
        };
        if scan.file.kind == FileKind::Parquet {
            let f = std::fs::File::open(&scan.file.path).map_err(|source| Error::Io {
                path: scan.file.path.clone(),
                source,
            })?;
            super::parquet_check::check_parquet(
                &scan.file.path,
                &f,
                super::parquet_check::INPUT_HINT,
            )?;
        }
        let schema = if scan.is_csv() {
            csv::read_header(&scan.file.path, scan.file.kind)?
                .into_iter()
                .map(|n| Field::new(n.into(), DataType::String))
                .collect()
        } else {
            scan.guard(|| {
                scan.lazy(false)?
                    .collect_schema()
                    .map_err(|source| scan.read_error(source))
            })?
            .as_ref()
            .clone()
        };
        if schema.is_empty() {
            return Err(Error::Ingest {
                path: scan.file.path.clone(),
                message: "the file has no columns".into(),
                hint: Some("is the file empty?".into()),
            });
        }
        scan.schema = Arc::new(schema);
        Ok(scan)
    }

    /// CSV and CSV.gz: read in batches by `frames`, never as one lazy scan.
    pub fn is_csv(&self) -> bool {
        matches!(self.file.kind, FileKind::Csv | FileKind::CsvGz)
    }

    /// A fresh lazy scan of a Parquet or JSON input; with `row_numbers`, a 1-based data-row
    /// column is added. CSV inputs are read with `frames`.
    pub fn lazy(&self, row_numbers: bool) -> Result<LazyFrame> {
        let row_index = row_numbers.then(|| RowIndex {
            name: ROW_NUMBER.into(),
            offset: 1,
        });
        if let Some(df) = &self.materialised {
            let lf = df.clone().lazy();
            return Ok(match row_numbers {
                true => lf.with_row_index(ROW_NUMBER, Some(1)),
                false => lf,
            });
        }
        let path = PlRefPath::new(self.file.path.to_string_lossy().as_ref());
        let lf = match self.file.kind {
            FileKind::Json => {
                return Err(Error::Internal("JSON input was not materialised".into()))
            }
            FileKind::Csv | FileKind::CsvGz => {
                return Err(Error::Internal("CSV input is read in batches".into()))
            }
            FileKind::Parquet => LazyFrame::scan_parquet(
                path,
                ScanArgsParquet {
                    row_index,
                    low_memory: true,
                    ..Default::default()
                },
            ),
        };
        lf.map_err(|source| self.read_error(source))
    }

    /// A frame with the file's columns and no rows, for what depends only on the columns
    /// (format detection, the adapter's mapping, its notes and projection).
    pub fn plan_frame(&self) -> Result<LazyFrame> {
        if self.is_csv() {
            return Ok(DataFrame::empty_with_schema(&self.schema).lazy());
        }
        self.lazy(false)
    }

    /// The rows of the file as frames of its raw columns (`columns`, or all of them), with
    /// `ROW_NUMBER` when asked. CSV comes a batch at a time (one batch when `whole`), its
    /// unreadable rows in each frame's `bad`; Parquet and JSON as one collected frame.
    pub fn frames(
        &self,
        columns: Option<&[String]>,
        row_numbers: bool,
        whole: bool,
    ) -> Result<Frames> {
        if !self.is_csv() {
            super::objects::complete(&self.file.path, columns)?;
            let lf = self.lazy(row_numbers)?;
            let lf = match columns {
                Some(cols) => {
                    let mut sel: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
                    if row_numbers {
                        sel.insert(0, col(ROW_NUMBER));
                    }
                    lf.select(sel)
                }
                None => lf,
            };
            if !whole && self.file.kind == super::FileKind::Parquet {
                // a slice of rows at a time: memory follows the slice, not the file
                let width = columns.map_or(self.schema.len(), <[String]>::len);
                return Ok(Frames::Slices(Slices {
                    lf,
                    path: self.file.path.clone(),
                    offset: 0,
                    rows: self
                        .options
                        .parquet_slice_rows
                        .unwrap_or_else(|| super::groups::slice_rows(width))
                        .max(1),
                    done: false,
                }));
            }
            let frame = self.guard(|| lf.collect().map_err(|e| self.read_error(e)))?;
            return Ok(Frames::One(Some(Frame {
                frame,
                bad: Vec::new(),
            })));
        }
        let names: Vec<String> = self.schema.iter_names().map(|n| n.to_string()).collect();
        let projected: Vec<(usize, String)> = match columns {
            None => names.iter().cloned().enumerate().collect(),
            Some(cols) => {
                let mut out: Vec<(usize, String)> = Vec::with_capacity(cols.len());
                for c in cols {
                    if out.iter().any(|(_, n)| n == c) {
                        continue;
                    }
                    let i = names.iter().position(|n| n == c).ok_or_else(|| {
                        Error::Internal(format!("column `{c}` is not in the header"))
                    })?;
                    out.push((i, c.clone()));
                }
                out
            }
        };
        let batch_rows = match whole {
            true => usize::MAX,
            false => self.options.csv_batch_rows,
        };
        let p = csv::Projection {
            columns: projected,
            row_number: row_numbers.then(|| ROW_NUMBER.to_string()),
            batch_rows,
            batch_bytes: if whole { usize::MAX } else { csv::BATCH_BYTES },
            warned: self.warned.clone(),
        };
        Ok(Frames::Csv(csv::batches(
            &self.file.path,
            self.file.kind,
            names.len(),
            p,
        )?))
    }

    /// Runs a Polars read of this file: a panic in Polars (it asserts on some corrupted
    /// Parquet files instead of returning an error) is an error naming the file.
    pub fn guard<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        crate::error::guard_read(&self.file.path, super::parquet_check::INPUT_HINT, read)
    }

    pub fn read_error(&self, source: PolarsError) -> Error {
        Error::Read {
            path: self.file.path.clone(),
            source,
        }
    }
}

/// The frames of one read of a file (`RawScan::frames`).
pub enum Frames {
    One(Option<Frame>),
    Csv(csv::Batches),
    /// A Parquet file, a slice of rows at a time (the slice pushed down to the row groups).
    Slices(Slices),
}

/// What `Frames::Slices` reads next.
pub struct Slices {
    lf: LazyFrame,
    path: std::path::PathBuf,
    offset: i64,
    rows: usize,
    done: bool,
}

impl Slices {
    fn next_slice(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        let (lf, path) = (
            self.lf.clone().slice(self.offset, self.rows as IdxSize),
            &self.path,
        );
        let read = crate::error::guard_read(path, super::parquet_check::INPUT_HINT, || {
            lf.collect().map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })
        });
        match read {
            Ok(frame) => {
                self.done = frame.height() < self.rows;
                self.offset += self.rows as i64;
                Some(Ok(Frame {
                    frame,
                    bad: Vec::new(),
                }))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Iterator for Frames {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        match self {
            Frames::One(f) => f.take().map(Ok),
            Frames::Csv(b) => b.next(),
            Frames::Slices(s) => s.next_slice(),
        }
    }
}

/// Quarantine status of the rows `csv` could not read (see `BASIS_STATUS`).
pub fn bad_row_status(problem: &csv::RowProblem) -> i32 {
    match problem {
        csv::RowProblem::WrongFieldCount { .. } => STATUS_WRONG_FIELD_COUNT,
        csv::RowProblem::EndsInsideRow => STATUS_CUT_ROW,
    }
}

/// Why a row `csv` could not read is quarantined.
pub fn bad_row_reason(problem: &csv::RowProblem) -> super::QuarantineReason {
    match problem {
        csv::RowProblem::WrongFieldCount { .. } => super::QuarantineReason::WrongFieldCount,
        csv::RowProblem::EndsInsideRow => super::QuarantineReason::FileEndsInsideRow,
    }
}

/// Reads a JSON input: Cost Explorer API responses, or GCP's newline-delimited export.
fn read_json(path: &Path) -> Result<DataFrame> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let head: String = text.chars().take(4096).collect();
    if head.contains("\"ResultsByTime\"") {
        cost_explorer::read_api_json(path, &text)
    } else {
        gcp::read_ndjson(path)
    }
}
