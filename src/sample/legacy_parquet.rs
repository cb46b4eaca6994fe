//! Today's Parquet: the FOCUS layout with text periods, JSON text tags and decimal(38,10)
//! costs, written through Polars one frame per block of rows. Kept for the default Parquet
//! shape only, so its bytes stay what `mlcost sample` always wrote; every other Parquet
//! shape goes through `arrow_sink`.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use super::fields::{Ctx, Val};
use super::rows::Row;
use super::table::{cost, text, Column, Field};
use crate::error::{Error, Result};

/// Rows per frame: the frames are the file's row groups, so this fixes the bytes.
pub const BLOCK: usize = 200_000;

pub struct LegacyParquetSink {
    writer: polars::io::parquet::write::BatchedWriter<std::fs::File>,
    path: PathBuf,
    columns: Vec<Column>,
}

const DECIMAL: DataType = DataType::Decimal(38, 10);

impl LegacyParquetSink {
    pub fn create(path: &Path, columns: Vec<Column>) -> Result<LegacyParquetSink> {
        let file = std::fs::File::create(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let mut schema = Schema::default();
        for c in &columns {
            let dtype = match c.field {
                Field::Cost(_) => DECIMAL,
                _ => DataType::String,
            };
            schema.insert(c.name.as_str().into(), dtype);
        }
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(&schema)
            .map_err(|source| Error::WriteParquet {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(LegacyParquetSink {
            writer,
            path: path.to_path_buf(),
            columns,
        })
    }

    pub fn write(&mut self, ctx: &Ctx, rows: &[Row]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let err = |source| Error::WriteParquet {
            path: self.path.clone(),
            source,
        };
        // one task per column; Polars then encodes them on its own pool
        let cols: Vec<Column_> = self
            .columns
            .par_iter()
            .map(|c| column(ctx, c, rows))
            .collect();
        let df = DataFrame::new_infer_height(cols).map_err(err)?;
        self.writer.write_batch(&df).map_err(err)
    }

    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.writer
            .finish()
            .map(|_| ())
            .map_err(|source| Error::WriteParquet { path, source })
    }
}

/// One column of `rows`: text, or decimal(38,10) built from the exact cost values (the same
/// numbers Polars' cast of the cost text gives).
fn column(ctx: &Ctx, c: &Column, rows: &[Row]) -> Column_ {
    let name: PlSmallStr = c.name.as_str().into();
    if let Field::Cost(slot) = c.field {
        let units: Int128Chunked = rows
            .iter()
            .map(|r| cost(slot, r).map(|x| x.dec().round(ctx.rounding).units_at(10)))
            .collect();
        return units
            .with_name(name)
            .into_decimal_unchecked(38, 10)
            .into_series()
            .into_column();
    }
    let mut b = StringChunkedBuilder::new(name, rows.len());
    let mut scratch = Vec::with_capacity(256);
    for row in rows {
        scratch.clear();
        match text(ctx, c.field, row, &mut scratch) {
            Val::Null => b.append_null(),
            Val::Str(s) => b.append_value(s),
            // texts are built from UTF-8 strings and ASCII
            Val::Scratch => match std::str::from_utf8(&scratch) {
                Ok(s) => b.append_value(s),
                Err(_) => b.append_null(),
            },
        }
    }
    b.finish().into_series().into_column()
}

/// Polars' column type (our `Column` is the layout's).
type Column_ = polars::prelude::Column;
