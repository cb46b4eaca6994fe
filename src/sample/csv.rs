//! The CSV and CSV.gz sink: one line per row in the layout's column order, texts quoted only
//! when they must be (the JSON tags always), ChargeClass as the `NULL` of MySQL dumps, LF or
//! CRLF line ends and an optional UTF-8 BOM. Blocks of rows are spelled on all cores and
//! written in order, so the bytes do not depend on the number of threads.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::fields::{Ctx, Val};
use super::rows::Row;
use super::table::{cost, text, Column, Field};
use crate::error::{Error, Result};

/// Rows spelled per task.
const PIECE: usize = 4096;

/// The file, plain or through gzip (fast level, as before).
enum Out {
    Plain(std::io::BufWriter<std::fs::File>),
    Gz(Box<flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>>),
}

impl Out {
    /// Writes whole lines. The compressor gets them one line per call, as the generator
    /// has always fed it: the deflate stream depends on how its input is cut, and the
    /// default CSV.gz must keep its bytes.
    fn write_lines(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Plain(w) => w.write_all(bytes),
            Out::Gz(w) => {
                for line in bytes.split_inclusive(|b| *b == b'\n') {
                    w.write_all(line)?;
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            // a sync flush before the end, as the generator always did (it is in the bytes)
            Out::Gz(mut w) => {
                w.flush()?;
                w.finish()?.flush()
            }
        }
    }
}

/// How rows become CSV lines (shared by the threads that spell blocks).
pub struct CsvLines {
    columns: Vec<Column>,
    /// Each column's constant, spelled for CSV once.
    constants: Vec<Vec<u8>>,
    eol: &'static [u8],
}

impl CsvLines {
    pub fn new(columns: Vec<Column>, crlf: bool) -> CsvLines {
        let constants = columns
            .iter()
            .map(|c| {
                let mut v = Vec::new();
                if let Field::Const(s) = c.field {
                    write_escaped(&mut v, s.as_bytes());
                }
                v
            })
            .collect();
        CsvLines {
            columns,
            constants,
            eol: if crlf { b"\r\n" } else { b"\n" },
        }
    }

    /// The header line (after a BOM if asked for).
    pub fn header(&self, bom: bool) -> Vec<u8> {
        let mut header = Vec::new();
        if bom {
            header.extend_from_slice("\u{feff}".as_bytes());
        }
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                header.push(b',');
            }
            write_escaped(&mut header, c.name.as_bytes());
        }
        header.extend_from_slice(self.eol);
        header
    }

    /// Spells `rows` as lines, in pieces spelled in parallel; `spare` are emptied buffers of
    /// an earlier block, reused so a block costs no fresh pages.
    pub fn spell(&self, ctx: &Ctx, rows: &[Row], mut spare: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let pieces = rows.len().div_ceil(PIECE);
        spare.resize_with(pieces, Vec::new);
        rows.par_chunks(PIECE)
            .zip(spare.par_iter_mut())
            .for_each(|(piece, out)| {
                out.clear();
                let mut scratch = Vec::with_capacity(256);
                for row in piece {
                    line(ctx, &self.columns, &self.constants, row, out, &mut scratch);
                    out.extend_from_slice(self.eol);
                }
            });
        spare
    }
}

/// One CSV or CSV.gz file being written.
pub struct CsvFile {
    w: Out,
    path: PathBuf,
}

impl CsvFile {
    pub fn create(path: &Path, gz: bool, header: &[u8]) -> Result<CsvFile> {
        let io = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut w = if gz {
            Out::Gz(Box::new(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::fast(),
            )))
        } else {
            Out::Plain(buffered)
        };
        w.write_lines(header).map_err(io)?;
        Ok(CsvFile {
            w,
            path: path.to_path_buf(),
        })
    }

    /// Writes spelled pieces in order; hands the buffers back for reuse.
    pub fn write(&mut self, mut pieces: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        for p in &mut pieces {
            self.w.write_lines(p).map_err(|source| Error::Write {
                path: self.path.clone(),
                source,
            })?;
            p.clear();
        }
        Ok(pieces)
    }

    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.w
            .finish()
            .map_err(|source| Error::Write { path, source })
    }
}

/// Appends one row's fields (without the line end).
fn line(
    ctx: &Ctx,
    columns: &[Column],
    constants: &[Vec<u8>],
    row: &Row,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) {
    let write = |out: &mut Vec<u8>, v: &[u8]| {
        if ctx.csv_safe {
            out.extend_from_slice(v);
        } else {
            write_escaped(out, v);
        }
    };
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match c.field {
            Field::Const(_) => out.extend_from_slice(&constants[i]),
            Field::ChargeClass => out.extend_from_slice(b"NULL"),
            Field::Tags => ctx.write_tags_csv(row, out),
            Field::Instant(which) => ctx.write_instant(row, which, out),
            Field::Cost(slot) => {
                if let Some(c) = cost(slot, row) {
                    ctx.write_cost(&c, out);
                }
            }
            field => {
                scratch.clear();
                match text(ctx, field, row, scratch) {
                    Val::Null => {}
                    Val::Str(s) => write(out, s.as_bytes()),
                    Val::Scratch => write(out, scratch),
                }
            }
        }
    }
}

/// Appends a text, quoted (quotes doubled) when it holds a comma, quote or line break.
fn write_escaped(out: &mut Vec<u8>, v: &[u8]) {
    if v.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in v {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(v);
    }
}
