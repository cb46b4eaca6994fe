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
