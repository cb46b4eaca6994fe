//! A Parquet file's layout checked before Polars reads it. Polars trusts the byte ranges the
//! footer gives for each column chunk and slices the file with them without a bounds check
//! (`get_unchecked` while prefetching), so a corrupted footer can make it read outside the
//! file, which no `catch_unwind` can turn into an error. The footer is parsed here with the
//! `parquet` crate (its panics caught) and every range checked to lie inside the file.
//! A footer that does not parse is left to Polars, whose error names it as before.

use std::fs::File;
use std::path::Path;

use parquet::file::metadata::ParquetMetaDataReader;

use crate::error::{Error, Result};

/// What to tell the user about a corrupted Parquet input.
pub const INPUT_HINT: &str =
    "the Parquet file is damaged (cut short or altered on the way): export or download it again";

/// Checks that every column chunk, dictionary and data page offset and page index of
/// `file` (the file at `path`) lies between the magic bytes and the footer, and that no count
/// is negative. `Error::Corrupt` with `hint` otherwise.
pub fn check_parquet(path: &Path, file: &File, hint: &str) -> Result<()> {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_path_buf(),
        detail,
        hint: hint.to_string(),
    };
    let len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let parsed = crate::error::catch_panic(|| ParquetMetaDataReader::new().parse_and_finish(file))
        .map_err(|m| corrupt(format!("its footer cannot be parsed ({m})")))?;
    let Ok(meta) = parsed else {
        return Ok(()); // Polars reports it as it always has
    };
    // column data lives between the leading `PAR1` and the footer (footer, its length, `PAR1`)
    let footer = footer_len(file).unwrap_or(0);
    let end = i128::from(len) - 8 - i128::from(footer);
    let inside = |start: i64, length: i64| {
        let (start, length) = (i128::from(start), i128::from(length));
        start >= 4 && length >= 0 && start + length <= end
    };
    // the row counts agree with each other: the readers trust them (the fast path takes a
    // column whose null count is the row count for all null)
    let rows: i64 = meta.row_groups().iter().map(|rg| rg.num_rows()).sum();
    if rows != meta.file_metadata().num_rows() {
        return Err(corrupt(format!(
            "its footer counts {} rows, its row groups {rows}",
            meta.file_metadata().num_rows()
        )));
    }
    for (r, rg) in meta.row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(corrupt(format!("row group {r} has a negative row count")));
        }
        for chunk in rg.columns() {
            let bad = |what: &str| {
                corrupt(format!(
                    "the {what} of column `{}` in row group {r} lies outside the file",
                    chunk.column_path().string()
                ))
            };
            let size = chunk.compressed_size();
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            if chunk.num_values() < 0 || !inside(start, size) {
                return Err(bad("data"));
            }
            // a column that is not repeated has one value (or null) per row
            if chunk.column_descr().max_rep_level() == 0 && chunk.num_values() != rg.num_rows() {
                return Err(corrupt(format!(
                    "column `{}` in row group {r} has {} values for {} rows",
                    chunk.column_path().string(),
                    chunk.num_values(),
                    rg.num_rows()
                )));
            }
            // (a row group without rows has no page: pyarrow writes offset 0 for it)
            let pages = rg.num_rows() > 0;
            if pages && (!inside(chunk.data_page_offset(), 0) || chunk.data_page_offset() < start) {
                return Err(bad("first data page"));
            }
            let indexes = [
                (chunk.column_index_offset(), chunk.column_index_length()),
                (chunk.offset_index_offset(), chunk.offset_index_length()),
            ];
            for (offset, length) in indexes {
                if let Some(offset) = offset {
                    if !inside(offset, i64::from(length.unwrap_or(0))) {
                        return Err(bad("page index"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The footer length the last 8 bytes give (None when they cannot be read).
fn footer_len(file: &File) -> Option<u32> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().ok()?.len();
    let mut tail = [0u8; 8];
    file.read_exact_at(&mut tail, len.checked_sub(8)?).ok()?;
    Some(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataWriter};
    use std::path::PathBuf;
    use std::sync::Arc;

    /// A two-row-group file, and the same data under a footer `change` rewrote.
    fn with_footer(dir: &Path, change: impl Fn(ParquetMetaData) -> ParquetMetaData) -> PathBuf {
        let good = dir.join("good.parquet");
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)]));
        let batch = RecordBatch::try_from_iter([("cost", a)]).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let mut w = ArrowWriter::try_new(File::create(&good).unwrap(), batch.schema(), Some(props))
            .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let bytes = std::fs::read(&good).unwrap();
        let file = File::open(&good).unwrap();
        let footer = footer_len(&file).unwrap() as usize;
        let meta = ParquetMetaDataReader::new()
            .parse_and_finish(&file)
            .unwrap();
        let mut out = bytes[..bytes.len() - 8 - footer].to_vec();
        let mut tail = Vec::new();
        ParquetMetaDataWriter::new(&mut tail, &change(meta))
            .finish()
            .unwrap();
        out.extend(tail);
        let bad = dir.join("bad.parquet");
        std::fs::write(&bad, out).unwrap();
        bad
    }

    fn check(path: &Path) -> Result<()> {
        check_parquet(path, &File::open(path).unwrap(), INPUT_HINT)
    }

    /// Review of issue 15 (helper-21): a footer whose row counts contradict the data made the
    /// fast path take a column for all null (its null count equal to the row count) and the
    /// Polars path stop on an index out of bounds. Both are refused before either reads.
    #[test]
    fn row_counts_that_contradict_each_other_are_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check(&with_footer(dir.path(), |m| m)).is_ok(), "unchanged");
        // (the footer writer counts the file's rows from its row groups)
        for rows in [0, 1, 5] {
            let bad = with_footer(dir.path(), |m| {
                let mut b = m.into_builder();
                let mut groups = b.take_row_groups();
                groups[0] = groups[0]
                    .clone()
                    .into_builder()
                    .set_num_rows(rows)
                    .build()
                    .unwrap();
                b.set_row_groups(groups).build()
            });
            let e = check(&bad).unwrap_err().to_string();
            assert!(
                e.contains(&format!("has 2 values for {rows} rows")),
                "{rows}: {e}"
            );
        }
        // the file's row count, patched in the footer's bytes: in thrift's compact protocol,
        // field 3 (`num_rows`, an i64: 0x16) holds 4 (zigzag 8), before field 4 (`row_groups`,
        // a list: 0x19)
        let good = with_footer(dir.path(), |m| m);
        let mut bytes = std::fs::read(&good).unwrap();
        let footer = footer_len(&File::open(&good).unwrap()).unwrap() as usize;
        let start = bytes.len() - 8 - footer;
        let at: Vec<usize> = (start..bytes.len() - 8 - 2)
            .filter(|i| bytes[*i..*i + 3] == [0x16, 0x08, 0x19])
            .collect();
        assert_eq!(at.len(), 1, "the footer's num_rows is found once");
        bytes[at[0] + 1] = 0x12; // 9 rows
        let bad = dir.path().join("nine.parquet");
        std::fs::write(&bad, bytes).unwrap();
        let e = check(&bad).unwrap_err().to_string();
        assert!(
            e.contains("its footer counts 9 rows, its row groups 4"),
            "{e}"
        );
    }
}
