//! The CSV reader: every CSV and CSV.gz that mlcost reads (billing exports and the side files)
//! goes through here. It owns the byte-level reading: a gzip stream decoded on the fly
//! (`MultiGzDecoder`, no temporary file), the RFC 4180 tokenizer (BurntSushi's `csv-core`,
//! fed 1 MiB at a time), the header, the text rules of the rest of mlcost (every field is
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
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use polars::prelude::*;

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

/// One record as the tokenizer read it.
pub struct Record<'a> {
    text: &'a [u8],
    ends: &'a [usize],
    nulls: &'a [bool],
    /// The file ended inside this record (no line break after it, or an open quote).
    pub cut: bool,
    /// An empty line (or only `\r`): read as a row of nulls, as Polars did.
    pub blank: bool,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The raw bytes of field `i` (quotes removed, `""` unescaped, a final `\r` dropped);
    /// None when the field is null (empty and unquoted, or `NULL`) or absent.
    pub fn field(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.ends.len() || self.nulls[i] {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..self.ends[i]])
    }

    /// All of the record's field bytes, one after the other (for a single UTF-8 check).
    fn text(&self) -> &'a [u8] {
        self.text
    }
}

/// Opens `path` as a byte stream: gzip is decoded as it is read.
fn open_stream(path: &Path, kind: FileKind) -> Result<Box<dyn Read + Send>> {
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

/// Splits a byte stream into records. Reads `INPUT_CHUNK` bytes at a time; a record's fields
/// are kept until the next call.
pub struct Tokenizer {
    path: PathBuf,
    kind: FileKind,
    input: Box<dyn Read + Send>,
    core: csv_core::Reader,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Whether the first bytes (a BOM) were looked at.
    started: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    nulls: Vec<bool>,
    /// Data records returned so far, the header included.
    pub records: u64,
}

/// What is known of the raw bytes of the field being read.
#[derive(Default)]
struct RawField {
    /// Bytes of the field consumed so far, the delimiter (or `\n`) after it included.
    len: usize,
    first: u8,
    last: u8,
    before_last: u8,
}

impl RawField {
    fn observe(&mut self, bytes: &[u8]) {
        match bytes {
            [] => {}
            [b] => {
                self.before_last = self.last;
                self.last = *b;
            }
            [.., a, b] => {
                self.before_last = *a;
                self.last = *b;
            }
        }
        if self.len == 0 {
            if let Some(b) = bytes.first() {
                self.first = *b;
            }
        }
        self.len += bytes.len();
    }
}

impl Tokenizer {
    pub fn open(path: &Path, kind: FileKind) -> Result<Tokenizer> {
        Ok(Tokenizer::new(path, kind, open_stream(path, kind)?))
    }

    /// A tokenizer over any byte stream (`path` and `kind` name it in errors).
    pub fn new(path: &Path, kind: FileKind, input: Box<dyn Read + Send>) -> Tokenizer {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(b',')
            .quote(b'"')
            .double_quote(true)
            // `\n` ends a record; a `\r` before it is dropped with the field's other trailing
            // `\r` below (as Polars did), so a lone `\r` inside a field stays text.
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        Tokenizer {
            path: path.to_path_buf(),
            kind,
            input,
            core,
            buf: vec![0; INPUT_CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            out: vec![0; 64 * 1024],
            ends: Vec::new(),
            nulls: Vec::new(),
            records: 0,
        }
    }

    fn refill(&mut self) -> Result<()> {
        self.pos = 0;
        self.len = 0;
        // The first read collects at least the three bytes a BOM takes, if the file has them.
        let want = if self.started { 1 } else { 3 };
        while self.len < want {
            match self.input.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            }
        }
        if !self.started {
            self.started = true;
            // A UTF-8 byte-order mark is not part of the first column's name.
            if self.buf[..self.len].starts_with(b"\xef\xbb\xbf") {
                self.pos = 3;
            }
        }
        Ok(())
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        match self.kind {
            FileKind::CsvGz => Error::Ingest {
                path: self.path.clone(),
                message: format!("cannot decompress: {e}"),
                hint: Some("the gzip file may be truncated; download it again".into()),
            },
            _ => Error::Io {
                path: self.path.clone(),
                source: e,
            },
        }
    }

    /// The next record, or None at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        self.ends.clear();
        self.nulls.clear();
        let mut olen = 0usize;
        let mut field_start = 0usize;
        let mut raw = RawField::default();
        loop {
            if self.pos == self.len && !self.eof {
                self.refill()?;
                if self.pos == self.len && !self.eof {
                    continue; // only a BOM so far
                }
            }
            // A `\n` where a record would start is a blank line. Before the header it is
            // skipped; after it, it is a row of nulls: both as Polars read them.
            if self.ends.is_empty()
                && raw.len == 0
                && self.pos < self.len
                && self.buf[self.pos] == b'\n'
            {
                self.pos += 1;
                if self.records == 0 {
                    continue;
                }
                self.records += 1;
                return Ok(Some(Record {
                    text: &[],
                    ends: &[],
                    nulls: &[],
                    cut: false,
                    blank: true,
                }));
            }
            let input = &self.buf[self.pos..self.len];
            let (result, nin, nout) = self.core.read_field(input, &mut self.out[olen..]);
            let input = &input[..nin];
            self.pos += nin;
            olen += nout;
            raw.observe(input);
            match result {
                csv_core::ReadFieldResult::InputEmpty => {}
                csv_core::ReadFieldResult::OutputFull => {
                    if self.out.len() >= MAX_ROW_BYTES {
                        return Err(Error::Ingest {
                            path: self.path.clone(),
                            message: format!(
                                "data row {} is longer than {} MiB",
                                self.records,
                                MAX_ROW_BYTES >> 20
                            ),
                            hint: Some("a quote that is never closed makes the rest of the file one field; check the quotes of that row".into()),
                        });
                    }
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadFieldResult::Field { record_end } => {
                    // At the end of the file the last field has no delimiter after it.
                    let delimited = nin > 0;
                    let content = raw.len - usize::from(delimited);
                    let last = if delimited { raw.before_last } else { raw.last };
                    let quoted = content > 0 && raw.first == b'"';
                    let mut end = olen;
                    if content > 0 && last == b'\r' && end > field_start {
                        end -= 1; // CRLF, or a `\r` ending a field, as Polars read it
                    }
                    let value = &self.out[field_start..end];
                    let null = (value.is_empty() && !quoted) || value == b"NULL";
                    olen = end;
                    self.ends.push(end);
                    self.nulls.push(null);
                    field_start = end;
                    raw = RawField::default();
                    if record_end {
                        self.records += 1;
                        // a line that is only `\r` (a blank line of a CRLF file)
                        let blank = self.ends.len() == 1 && content == 1 && last == b'\r';
                        return Ok(Some(Record {
                            text: &self.out[..olen],
                            ends: &self.ends,
                            nulls: &self.nulls,
                            cut: !delimited,
                            blank: blank && delimited,
                        }));
                    }
                }
                csv_core::ReadFieldResult::End => return Ok(None),
            }
        }
    }
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
        let whole = std::str::from_utf8(rec.text()).ok();
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
                    t.path.display()
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
        if b.rows.len() >= p.batch_rows || b.bytes >= p.batch_bytes {
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
    rx: Option<mpsc::Receiver<Result<Batch>>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Iterator for Batches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        self.rx.as_ref()?.recv().ok()
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
    let (tx, rx) = mpsc::sync_channel(1);
    let worker = std::thread::Builder::new()
        .name("mlcost-csv".into())
        .spawn(move || produce(t, header_len, p, tx))
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Batches {
        rx: Some(rx),
        worker: Some(worker),
    })
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
