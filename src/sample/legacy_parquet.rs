//! Today's Parquet: the FOCUS layout with text periods, JSON text tags and decimal(38,10)
//! costs, written through Polars one frame per block of rows. Kept for the default Parquet
//! shape only, so its bytes stay what `mlcost sample` always wrote; every other Parquet
//! shape goes through `arrow_columns` and `arrow_file`.
//!
//! Every text a column can hold (a constant, one per month, per resource, per charge hour) is
//! stored once in a pool; a block's column is a gather from its pool, which copies views, not
//! strings. Polars writes the values, not the buffers, so the file is the same.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use super::fields::Ctx;
use super::pool;
use super::rows::Row;
use super::table::{cost, Column, Field};
use crate::error::{Error, Result};

/// Rows per frame: the frames are the file's row groups, so this fixes the bytes.
pub const BLOCK: usize = 200_000;

/// How rows become Polars frames (shared by the threads that build blocks).
pub struct LegacyFrames {
    columns: Vec<Column>,
    /// Each text column's pool (None for costs), and as a Polars column to gather from.
    pools: Vec<Option<(pool::Pool, StringChunked)>>,
}

const DECIMAL: DataType = DataType::Decimal(38, 10);

impl LegacyFrames {
    pub fn new(columns: Vec<Column>, ctx: &Ctx) -> LegacyFrames {
        let pools = columns
            .iter()
            .map(|c| {
                pool::Pool::new(ctx, c.field).map(|p| {
                    // the texts, then a null that null rows point at (plain indices are
                    // much cheaper to collect than indices with a validity mask)
                    let t: Vec<Option<&str>> = p
                        .texts
                        .iter()
                        .map(|t| Some(t.as_str()))
                        .chain([None])
                        .collect();
                    let ca = StringChunked::from_slice_options(c.name.as_str().into(), &t);
                    (p, ca)
                })
            })
            .collect();
        LegacyFrames { columns, pools }
    }

    /// The frame of a block, one task per column.
    pub fn build(&self, ctx: &Ctx, rows: &[Row]) -> PolarsResult<DataFrame> {
        let cols: Vec<Column_> = self
            .columns
            .par_iter()
            .zip(self.pools.par_iter())
            .map(|(c, pool)| column(ctx, c, pool.as_ref(), rows))
            .collect::<PolarsResult<_>>()?;
        DataFrame::new_infer_height(cols)
    }

    fn schema(&self) -> Schema {
        let mut schema = Schema::default();
        for c in &self.columns {
            let dtype = match c.field {
                Field::Cost(_) => DECIMAL,
                _ => DataType::String,
            };
            schema.insert(c.name.as_str().into(), dtype);
        }
        schema
    }
}

/// One Parquet file being written by Polars.
pub struct LegacyFile {
    writer: polars::io::parquet::write::BatchedWriter<std::fs::File>,
    path: PathBuf,
}

impl LegacyFile {
    pub fn create(path: &Path, frames: &LegacyFrames) -> Result<LegacyFile> {
        let file = std::fs::File::create(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(&frames.schema())
            .map_err(|source| Error::WriteParquet {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(LegacyFile {
            writer,
            path: path.to_path_buf(),
        })
    }

    /// Writes one block's frame (Polars encodes its columns on its own pool).
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        self.writer
            .write_batch(df)
            .map_err(|source| Error::WriteParquet {
                path: self.path.clone(),
                source,
            })
    }

    pub fn finish(self) -> Result<()> {
        let path = self.path;
        self.writer
            .finish()
            .map(|_| ())
            .map_err(|source| Error::WriteParquet { path, source })
    }
}

/// One column of `rows`: views into the column's pool, or decimal(38,10) built from the exact
/// cost values (the numbers Polars' cast of the cost text gives).
fn column(
    ctx: &Ctx,
    c: &Column,
    pool: Option<&(pool::Pool, StringChunked)>,
    rows: &[Row],
) -> PolarsResult<Column_> {
    let name: PlSmallStr = c.name.as_str().into();
    let Some((pool, strings)) = pool else {
        let slot = match c.field {
            Field::Cost(slot) => slot,
            _ => polars_bail!(ComputeError: "no text pool for column {}", c.name),
        };
        // FOCUS costs are never empty (a CUR slot can be, but CUR never takes this path)
        let units: Option<Vec<i128>> = rows
            .iter()
            .map(|r| cost(slot, r).map(|x| x.dec().round(ctx.rounding).units_at(10)))
            .collect();
        let units = match units {
            Some(v) => Int128Chunked::from_vec(name.clone(), v),
            None => rows
                .iter()
                .map(|r| cost(slot, r).map(|x| x.dec().round(ctx.rounding).units_at(10)))
                .collect(),
        };
        return Ok(units
            .with_name(name)
            .into_decimal_unchecked(38, 10)
            .into_series()
            .into_column());
    };
    // a gather of views: the strings stay in the pool's buffers
    let null = pool.texts.len() as IdxSize;
    let indices: Vec<IdxSize> = rows
        .iter()
        .map(|r| {
            pool.index(c.field, r, ctx.resources.len())
                .map_or(null, |i| i as IdxSize)
        })
        .collect();
    let indices = IdxCa::from_vec(PlSmallStr::EMPTY, indices);
    Ok(strings
        .take(&indices)?
        .with_name(name)
        .into_series()
        .into_column())
}

/// Polars' column type (our `Column` is the layout's).
type Column_ = polars::prelude::Column;
