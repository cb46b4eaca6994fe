//! The CSV reader: every CSV and CSV.gz that mlcost reads (billing exports and the side files)
//! goes through here. It owns the byte-level reading: a gzip stream decoded on the fly
//! (`MultiGzDecoder`, no temporary file), the RFC 4180 tokenizer (`tokenizer.rs`, which
//! reads 1 MiB at a time and says why it is not csv-core), the header, the text rules of the rest of mlcost (every field is
//! text; an empty unquoted field and the exact text `NULL` are null; invalid UTF-8 becomes
//! U+FFFD; a `\r` ending a field is dropped, so CRLF and LF files read alike), and the rows that
//! cannot be trusted: a row with another number of fields than the header, or a last row the
//! file ends inside (no line break after it, or an open quote). Those rows are handed back as
//! `BadRow`s with their 1-based data row number; they never reach a frame.
//!
//! `Tokenizer` yields records one at a time (a later fast path can group on their raw bytes);
//! `Batches` turns them into Polars frames of String columns, only the projected ones, a
//! bounded number of rows at a time, built on a thread of its own while the caller works on
//! the previous batch.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use polars::prelude::*;

mod tokenizer;

pub use tokenizer::{Record, Tokenizer};

use super::FileKind;
use crate::error::{Error, Result};

/// Bytes read from the file (or the gzip stream) per refill.
const INPUT_CHUNK: usize = 1 << 20;
/// A row longer than this is refused: it is almost always a quote that is never closed,
/// which makes the rest of the file one field.
const MAX_ROW_BYTES: usize = 256 << 20;
/// Default batch size: rows, and bytes of field text (whichever is reached first).
pub const BATCH_ROWS: usize = 128 * 1024;
pub const BATCH_BYTES: usize = 64 << 20;

/// Why a data row was not handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// The row has `fields` fields, the header `header`.
    WrongFieldCount { fields: usize, header: usize },
    /// The file ends inside this row: no line break after it, or inside an open quote.
    EndsInsideRow,
}

impl RowProblem {
    /// The value shown in the quarantine list.
    pub fn value(&self) -> String {
        match self {
            RowProblem::WrongFieldCount { fields, header } => {
                format!("{fields} fields, header has {header}")
            }
            RowProblem::EndsInsideRow => "no line break after it, or an unclosed quote".to_string(),
        }
    }
}

/// A data row that was not handed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub problem: RowProblem,
}

/// Opens `path` as a byte stream: gzip is decoded as it is read.
pub(crate) fn open_stream(path: &Path, kind: FileKind) -> Result<Box<dyn Read + Send>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match kind {
        FileKind::CsvGz => Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(INPUT_CHUNK, file),
        )),
        _ => Box::new(file),
    })
}

/// Polars' names for a header: `name`, then `name_duplicated_0`, `name_duplicated_1`, ...
/// for repeats; an error when such a name is already taken by another column.
fn dedup_names(path: &Path, names: Vec<String>) -> Result<Vec<String>> {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut taken: std::collections::HashSet<String> = Default::default();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let count = seen.entry(name.clone()).or_insert(0);
        let unique = match *count {
            0 => name.clone(),
            n => format!("{name}_duplicated_{}", n - 1),
        };
        *count += 1;
        if !taken.insert(unique.clone()) {
            return Err(Error::Ingest {
                path: path.to_path_buf(),
                message: format!(
                    "the header repeats `{name}` and also has a column named `{unique}`"
                ),
                hint: Some("rename the repeated columns in the header".into()),
            });
        }
        out.push(unique);
    }
    Ok(out)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads the header of a CSV file: its column names (duplicates renamed as Polars did).
/// Empty when the file has no record at all.
pub fn read_header(path: &Path, kind: FileKind) -> Result<Vec<String>> {
    let mut t = Tokenizer::open(path, kind)?;
    header(&mut t)
}

fn header(t: &mut Tokenizer) -> Result<Vec<String>> {
    let path = t.path.clone();
    let Some(rec) = t.next_record()? else {
        return Ok(Vec::new());
    };
    let names = (0..rec.len())
        .map(|i| rec.field(i).map(lossy).unwrap_or_default())
        .collect();
    dedup_names(&path, names)
}

/// A batch of data rows: the projected columns as text (and the row number when asked), and
/// the rows of the same stretch of the file that were not handed over.
pub struct Batch {
    pub frame: DataFrame,
    pub bad: Vec<BadRow>,
}

/// What to read: the projected columns by index and name, the row-number column, batch sizes.
#[derive(Clone)]
pub struct Projection {
    pub columns: Vec<(usize, String)>,
    /// Name of a 1-based data-row column to add (UInt64), if any.
    pub row_number: Option<String>,
    pub batch_rows: usize,
    pub batch_bytes: usize,
    /// Set once the cut last row was warned about, so a second pass over the file is quiet.
    pub warned: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Builds the columns of one batch.
struct Builder {
    values: Vec<StringChunkedBuilder>,
    rows: Vec<u64>,
    bad: Vec<BadRow>,
    bytes: usize,
}

impl Builder {
    fn new(p: &Projection, capacity: usize) -> Builder {
        Builder {
            values: p
                .columns
                .iter()
                .map(|(_, n)| StringChunkedBuilder::new(n.as_str().into(), capacity))
                .collect(),
            rows: Vec::with_capacity(capacity),
            bad: Vec::new(),
            bytes: 0,
        }
    }

    fn push(&mut self, p: &Projection, rec: &Record, row: u64) {
        // One UTF-8 check per record; a field is then valid on its own when its ends are
        // character boundaries.
        let whole = std::str::from_utf8(rec.text).ok();
        for ((i, _), b) in p.columns.iter().zip(self.values.iter_mut()) {
            match rec.field(*i) {
                None => b.append_null(),
                Some(bytes) => {
                    self.bytes += bytes.len();
                    let start = if *i == 0 { 0 } else { rec.ends[*i - 1] };
                    match whole {
                        Some(s)
                            if s.is_char_boundary(start) && s.is_char_boundary(rec.ends[*i]) =>
                        {
                            b.append_value(&s[start..rec.ends[*i]])
                        }
                        _ => b.append_value(String::from_utf8_lossy(bytes).as_ref()),
                    }
                }
            }
        }
        self.rows.push(row);
    }

    fn finish(self, p: &Projection) -> PolarsResult<Batch> {
        let height = self.rows.len();
        let mut cols: Vec<Column> = Vec::with_capacity(self.values.len() + 1);
        if let Some(name) = &p.row_number {
            cols.push(Column::new(name.as_str().into(), self.rows));
        }
        for b in self.values {
            cols.push(b.finish().into_series().into_column());
        }
        Ok(Batch {
            frame: DataFrame::new(height, cols)?,
            bad: self.bad,
        })
    }
}

/// Reads the data rows after the header and sends them as batches to `tx`; stops when the
/// receiver is gone.
fn produce(
    mut t: Tokenizer,
    header_len: usize,
    p: Projection,
    tx: mpsc::SyncSender<Result<Batch>>,
) {
    let polars_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Read { path, source }
    };
    let capacity = p.batch_rows.min(BATCH_ROWS);
    let mut b = Builder::new(&p, capacity);
    let mut row = 0u64;
    loop {
        let rec = match t.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        row += 1;
        if rec.cut {
            if !p.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                "`{}`: the file ends inside data row {row} (no line break after it, or an open quote); the row is quarantined: was the download cut?",
                    crate::origin::shown(&t.path)
                );
            }
            b.bad.push(BadRow {
                row,
                problem: RowProblem::EndsInsideRow,
            });
        } else if rec.blank {
            b.push(&p, &rec, row);
        } else if rec.len() != header_len {
            b.bad.push(BadRow {
                row,
                problem: RowProblem::WrongFieldCount {
                    fields: rec.len(),
                    header: header_len,
                },
            });
        } else {
            b.push(&p, &rec, row);
        }
        // bad rows count too: a file of millions of them must not pile up in one batch
        if b.rows.len() + b.bad.len() >= p.batch_rows || b.bytes >= p.batch_bytes {
            let full = std::mem::replace(&mut b, Builder::new(&p, capacity));
            let batch = full.finish(&p).map_err(polars_err(&t.path));
            if tx.send(batch).is_err() {
                return;
            }
        }
    }
    if !b.rows.is_empty() || !b.bad.is_empty() {
        let _ = tx.send(b.finish(&p).map_err(polars_err(&t.path)));
    }
}

/// The batches of a CSV file, read on a thread of their own (at most two batches ahead).
pub struct Batches {
    path: std::path::PathBuf,
    rx: Option<mpsc::Receiver<Result<Batch>>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Iterator for Batches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if let Ok(batch) = self.rx.as_ref()?.recv() {
            return Some(batch);
        }
        // The worker is gone: at the end of the file, or because it panicked, which must not
        // pass for the end of the file.
        self.rx = None;
        let worker = self.worker.take()?;
        match worker.join() {
            Ok(()) => None,
            Err(_) => Some(Err(Error::Internal(format!(
                "the CSV reader stopped on `{}`",
                crate::origin::shown(&self.path)
            )))),
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        // the worker stops at its next send once the receiver is gone
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Reads the data rows of a CSV file in batches of the projected columns. The header is
/// read again and must have `header_len` fields names (the file is not expected to change
/// between the two reads; if it did, rows are still checked against this header).
pub fn batches(path: &Path, kind: FileKind, header_len: usize, p: Projection) -> Result<Batches> {
    let mut t = Tokenizer::open(path, kind)?;
    header(&mut t)?;
    t.keep_only(&p.columns.iter().map(|(i, _)| *i).collect::<Vec<_>>());
    let (tx, rx) = mpsc::sync_channel(1);
    let worker = std::thread::Builder::new()
        .name("mlcost-csv".into())
        .spawn(move || produce(t, header_len, p, tx))
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Batches {
        path: path.to_path_buf(),
        rx: Some(rx),
        worker: Some(worker),
    })
}

#[cfg(test)]
mod tests;
