//! The arrow-rs Parquet file of every shape but today's default Parquet: blocks of Arrow
//! arrays (`arrow_columns`) encoded one task per column into the column writers of the open
//! row group, row groups cut at a fixed row count, so the bytes depend only on the rows and
//! the shape.

use std::path::{Path, PathBuf};

use arrow_array::ArrayRef;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory, ArrowWriterOptions,
};
use parquet::arrow::ArrowWriter;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use super::arrow_columns::ArrowColumns;
use crate::error::{Error, Result};

type File = std::io::BufWriter<std::fs::File>;

/// One Parquet file being written by arrow-rs.
pub struct ArrowFile {
    path: PathBuf,
    schema: SchemaRef,
    /// Leaf writers per top-level column (a map or struct has several).
    writers: Vec<Vec<ArrowColumnWriter>>,
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    group_rows: usize,
    row_group: usize,
    max_group_rows: usize,
}

impl ArrowFile {
    pub fn create(path: &Path, columns: &ArrowColumns) -> Result<ArrowFile> {
        let err = |e: parquet::errors::ParquetError| write_error(path, e);
        let file = std::fs::File::create(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let writer = ArrowWriter::try_new_with_options(
            std::io::BufWriter::with_capacity(1 << 20, file),
            columns.schema.clone(),
            ArrowWriterOptions::new().with_properties(columns.props.clone()),
        )
        .map_err(err)?;
        let (file, factory) = writer.into_serialized_writer().map_err(err)?;
        let mut out = ArrowFile {
            path: path.to_path_buf(),
            schema: columns.schema.clone(),
            writers: Vec::new(),
            file,
            factory,
            group_rows: 0,
            row_group: 0,
            max_group_rows: columns.max_group_rows,
        };
        out.writers = out.new_writers()?;
        Ok(out)
    }

    fn err(&self, e: parquet::errors::ParquetError) -> Error {
        write_error(&self.path, e)
    }

    /// Leaf writers of the next row group, grouped by top-level column.
    fn new_writers(&self) -> Result<Vec<Vec<ArrowColumnWriter>>> {
        let mut flat = self
            .factory
            .create_column_writers(self.row_group)
            .map_err(|e| self.err(e))?
            .into_iter();
        let leaves = |t: &DataType| match t {
            DataType::Struct(f) => f.len(),
            DataType::Map(_, _) => 2,
            _ => 1,
        };
        Ok(self
            .schema
            .fields()
            .iter()
            .map(|f| flat.by_ref().take(leaves(f.data_type())).collect())
            .collect())
    }

    /// Encodes a block's arrays, cutting row groups at `max_group_rows`.
    pub fn write(&mut self, arrays: &[ArrayRef]) -> Result<()> {
        let rows = arrays.first().map_or(0, |a| a.len());
        let mut offset = 0;
        while offset < rows {
            let n = (rows - offset).min(self.max_group_rows - self.group_rows);
            let slices: Vec<ArrayRef> = arrays.iter().map(|a| a.slice(offset, n)).collect();
            self.encode(&slices)?;
            self.group_rows += n;
            offset += n;
            if self.group_rows == self.max_group_rows {
                self.close_group()?;
            }
        }
        Ok(())
    }

    /// Encodes every column, one task per column.
    fn encode(&mut self, arrays: &[ArrayRef]) -> Result<()> {
        let results: Vec<parquet::errors::Result<()>> = arrays
            .par_iter()
            .zip(self.schema.fields().par_iter())
            .zip(self.writers.par_iter_mut())
            .map(|((array, f), writers)| {
                for (w, leaf) in writers.iter_mut().zip(compute_leaves(f, array)?) {
                    w.write(&leaf)?;
                }
                Ok(())
            })
            .collect();
        match results.into_iter().find_map(|r| r.err()) {
            Some(e) => Err(self.err(e)),
            None => Ok(()),
        }
    }

    fn close_group(&mut self) -> Result<()> {
        if self.group_rows == 0 {
            return Ok(());
        }
        let writers = std::mem::take(&mut self.writers);
        let chunks: Vec<_> = writers
            .into_par_iter()
            .flatten()
            .map(|w| w.close())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let path = self.path.clone();
        let err = |e: parquet::errors::ParquetError| write_error(&path, e);
        let mut group = self.file.next_row_group().map_err(err)?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group).map_err(err)?;
        }
        group.close().map_err(err)?;
        self.row_group += 1;
        self.group_rows = 0;
        self.writers = self.new_writers()?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.close_group()?;
        let path = self.path.clone();
        let mut w = self.file.into_inner().map_err(|e| write_error(&path, e))?;
        std::io::Write::flush(&mut w).map_err(|source| Error::Write { path, source })
    }
}

fn write_error(path: &Path, source: parquet::errors::ParquetError) -> Error {
    Error::WriteArrowParquet {
        path: path.to_path_buf(),
        source,
    }
}
