//! The CSV tokenizer: splits a byte stream into records of fields, RFC 4180 style (`,`
//! between fields, `\n` after a record, `"` quoting with `""` inside), exactly as
//! BurntSushi's `csv-core` does with a `\n` terminator, plus what csv-core does not report and
//! mlcost's semantics need: whether a field was quoted (`""` is an empty string, an empty
//! unquoted field is null) and the raw byte that ended it (a `\r` there is dropped, so CRLF
//! reads like LF, as Polars read it).
//!
//! Why not csv-core itself: it was the first version of this reader, fed field by field to
//! learn the raw bytes of each field; on the 5M-row sample (2.8 GB) it parsed about 80 MB/s and
//! was two thirds of the run's CPU (`csv_core::Reader::read_field` alone 37%). This tokenizer
//! finds delimiters with `memchr` (SIMD) and copies whole runs of bytes, several times faster.
//! csv-core stays as the oracle of a differential property test (`tests.rs`): on any bytes,
//! both must give the same records and fields.

use std::io::Read;
use std::path::{Path, PathBuf};

use memchr::{memchr, memchr2};

use super::{FileKind, INPUT_CHUNK, MAX_ROW_BYTES};
use crate::error::{Error, Result};

/// One record as the tokenizer read it.
pub struct Record<'a> {
    pub(super) text: &'a [u8],
    pub(super) ends: &'a [usize],
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

    /// The bytes of field `i` (quotes removed, `""` unescaped, a final `\r` dropped); None
    /// when the field is null (empty and unquoted, or `NULL`) or absent.
    pub fn field(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.ends.len() || self.nulls[i] {
            return None;
        }
        Some(self.raw_field(i))
    }

    /// The bytes of field `i` whether it is null or not.
    pub fn raw_field(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// Splits a byte stream into records. Reads `INPUT_CHUNK` bytes at a time; a record that
/// does not fit the buffer grows it (up to `MAX_ROW_BYTES`). A record's fields are kept until
/// the next call.
pub struct Tokenizer {
    pub(super) path: PathBuf,
    kind: FileKind,
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Whether the first bytes (a BOM) were looked at.
    started: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    nulls: Vec<bool>,
    /// Fields whose text is kept (None: all); the others are only counted, read as empty.
    keep: Option<Vec<bool>>,
    /// Records returned so far, the header included.
    pub records: u64,
}

/// How `parse_record` ended.
enum Parsed {
    /// A record of `len` bytes; `cut` when the file ended inside it.
    Record { len: usize, cut: bool },
    /// The buffer ends inside the record: read more and parse it again.
    NeedMore,
}

impl Tokenizer {
    pub fn open(path: &Path, kind: FileKind) -> Result<Tokenizer> {
        Ok(Tokenizer::new(path, kind, super::open_stream(path, kind)?))
    }

    /// A tokenizer over any byte stream (`path` and `kind` name it in errors).
    pub fn new(path: &Path, kind: FileKind, input: Box<dyn Read + Send>) -> Tokenizer {
        Tokenizer {
            path: path.to_path_buf(),
            kind,
            input,
            buf: vec![0; INPUT_CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            out: Vec::with_capacity(64 * 1024),
            ends: Vec::new(),
            nulls: Vec::new(),
            keep: None,
            records: 0,
        }
    }

    /// Keeps the text of these fields only (by index); the others, and fields past the last
    /// one given, read as empty. Saves copying columns no one reads.
    pub fn keep_only(&mut self, fields: &[usize]) {
        let n = fields.iter().max().map_or(0, |m| m + 1);
        let mut keep = vec![false; n];
        for f in fields {
            keep[*f] = true;
        }
        self.keep = Some(keep);
    }

    /// Keeps the unread bytes, moved to the front, and reads more after them (growing the
    /// buffer when the unread bytes fill it).
    fn refill(&mut self) -> Result<()> {
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        if self.len == self.buf.len() {
            if self.buf.len() >= MAX_ROW_BYTES {
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
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
        // The first read collects at least the three bytes a BOM takes, if the file has them.
        let want = if self.started { self.len + 1 } else { 3 };
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
        loop {
            if self.pos == self.len {
                if self.eof {
                    return Ok(None);
                }
                self.refill()?;
                continue;
            }
            // A `\n` where a record starts is a blank line. Before the header it is skipped;
            // after it, it is a row of nulls: both as Polars read them.
            if self.buf[self.pos] == b'\n' {
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
            match self.parse_record() {
                Parsed::NeedMore => self.refill()?,
                Parsed::Record { len, cut } => {
                    self.pos += len;
                    self.records += 1;
                    // a line that is only `\r` (a blank line of a CRLF file)
                    let blank = !cut
                        && self.ends.len() == 1
                        && self.nulls[0]
                        && self.buf[self.pos - 2] == b'\r'
                        && len == 2;
                    return Ok(Some(Record {
                        text: &self.out,
                        ends: &self.ends,
                        nulls: &self.nulls,
                        cut,
                        blank,
                    }));
                }
            }
        }
    }

    /// Parses the record at `pos` into `out`, `ends` and `nulls`. Mirrors csv-core: a `"`
    /// opens a quoted field only as its first byte; inside, `""` is a `"` and a lone `"`
    /// closes it; bytes after the closing quote are kept as text up to the delimiter.
    fn parse_record(&mut self) -> Parsed {
        let buf = &self.buf[self.pos..self.len];
        let eof = self.eof;
        self.out.clear();
        self.ends.clear();
        self.nulls.clear();
        let mut i = 0;
        loop {
            let raw_start = i;
            let field_start = self.out.len();
            let keep = match &self.keep {
                None => true,
                Some(k) => k.get(self.ends.len()).copied().unwrap_or(false),
            };
            let quoted = buf.get(i) == Some(&b'"');
            // `closed`: not inside quotes any more (always, for an unquoted field)
            let mut closed = !quoted;
            if quoted {
                i += 1;
                loop {
                    let Some(k) = memchr(b'"', &buf[i..]) else {
                        if !eof {
                            return Parsed::NeedMore;
                        }
                        if keep {
                            self.out.extend_from_slice(&buf[i..]);
                        }
                        i = buf.len();
                        break; // the file ends inside the quotes
                    };
                    if keep {
                        self.out.extend_from_slice(&buf[i..i + k]);
                    }
                    i += k + 1;
                    match buf.get(i) {
                        Some(b'"') => {
                            if keep {
                                self.out.push(b'"');
                            }
                            i += 1;
                        }
                        Some(_) => {
                            closed = true;
                            break;
                        }
                        None if eof => {
                            closed = true;
                            break;
                        }
                        None => return Parsed::NeedMore,
                    }
                }
            }
            // Unquoted text, or what follows a closing quote, up to the delimiter or line end.
            let mut end_byte = None;
            if closed {
                match memchr2(b',', b'\n', &buf[i..]) {
                    Some(k) => {
                        if keep {
                            self.out.extend_from_slice(&buf[i..i + k]);
                        }
                        end_byte = Some(buf[i + k]);
                        i += k + 1;
                    }
                    None if eof => {
                        if keep {
                            self.out.extend_from_slice(&buf[i..]);
                        }
                        i = buf.len();
                    }
                    None => return Parsed::NeedMore,
                }
            }
            let raw_end = i - usize::from(end_byte.is_some());
            // A `\r` ending the raw field (CRLF, or before a delimiter) is dropped, as Polars
            // did; inside quotes it stays.
            if raw_end > raw_start
                && buf[raw_end - 1] == b'\r'
                && self.out.len() > field_start
                && closed
            {
                self.out.pop();
            }
            let value = &self.out[field_start..];
            let null = (value.is_empty() && !quoted) || value == b"NULL";
            self.ends.push(self.out.len());
            self.nulls.push(null);
            match end_byte {
                Some(b',') => continue,
                Some(_) => return Parsed::Record { len: i, cut: false },
                None => return Parsed::Record { len: i, cut: true },
            }
        }
    }
}
