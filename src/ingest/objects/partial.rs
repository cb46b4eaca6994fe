//! Parquet objects read by range requests: the footer first, then only the column chunks a
//! reader asks for. The local copy is a sparse file of the object's size holding the magic
//! number, the footer and the chunks fetched so far; every read of a Parquet input goes through
//! `complete` first (`RawScan::frames`, the quarantine pass, the dictionary reader), which
//! fetches what that read needs and has not been fetched. A chunk never fetched reads as zeros,
//! which no Parquet reader takes for a page header: a read this module was not told about fails
//! loudly, never silently.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Bytes asked for at the end of an object to find its footer in one request, usually.
const TAIL_BYTES: u64 = 64 << 10;
/// Column chunks closer than this are fetched in one request, with the gap between them: a
/// request costs about what 64 KiB more of its answer costs.
const MERGE_GAP: u64 = 64 << 10;

/// An object whose copy holds only part of it.
struct Partial {
    store: Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    uri: String,
    metadata: ParquetMetaData,
    /// Where the bytes fetched with the footer begin: from here to the end the copy is whole.
    tail_start: u64,
    /// sha256 of the footer: the copy's identity (the object is never read whole).
    footer_sha256: String,
    /// Leaf columns already in the copy.
    fetched: Mutex<BTreeSet<usize>>,
}

fn partials() -> &'static Mutex<HashMap<PathBuf, Arc<Partial>>> {
    static PARTIALS: OnceLock<Mutex<HashMap<PathBuf, Arc<Partial>>>> = OnceLock::new();
    PARTIALS.get_or_init(Default::default)
}

fn partial(path: &Path) -> Option<Arc<Partial>> {
    let map = partials().lock().unwrap_or_else(|p| p.into_inner());
    map.get(path).cloned()
}

/// The object's bytes in `range`, of the version listed.
pub(super) async fn get(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    range: Range<u64>,
) -> object_store::Result<bytes::Bytes> {
    let options = GetOptions {
        if_match: meta.e_tag.clone(),
        range: Some(GetRange::Bounded(range)),
        ..Default::default()
    };
    store.get_opts(&meta.location, options).await?.bytes().await
}

/// Starts the copy of a Parquet object at `local`: its size, magic number and footer. Returns
/// the bytes read, or `None` when the footer does not decode (the caller then copies the object
/// whole, and the readers report what is wrong with it).
pub(super) async fn start(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    local: &Path,
    uri: &str,
) -> std::result::Result<Option<u64>, super::Failed> {
    let size = meta.size;
    if size < 12 {
        return Ok(None);
    }
    let tail_start = size.saturating_sub(TAIL_BYTES);
    let tail = get(store, meta, tail_start..size)
        .await
        .map_err(super::Failed::Store)?;
    let n = tail.len();
    if n < 8 || &tail[n - 4..] != b"PAR1" {
        return Ok(None);
    }
    let footer_len =
        u32::from_le_bytes([tail[n - 8], tail[n - 7], tail[n - 6], tail[n - 5]]) as u64;
    let Some(footer_start) = size.checked_sub(footer_len + 8) else {
        return Ok(None);
    };
    if footer_start < 4 {
        return Ok(None);
    }
    let mut read = tail.len() as u64;
    let footer: Vec<u8> = if footer_start >= tail_start {
        tail[(footer_start - tail_start) as usize..].to_vec()
    } else {
        let head = get(store, meta, footer_start..tail_start)
            .await
            .map_err(super::Failed::Store)?;
        read += head.len() as u64;
        [head.as_ref(), tail.as_ref()].concat()
    };
    let Ok(metadata) = ParquetMetaDataReader::decode_metadata(&footer[..footer.len() - 8]) else {
        return Ok(None);
    };
    let local_err = |e| super::Failed::Local(local.to_path_buf(), e);
    let file = std::fs::File::create(local).map_err(local_err)?;
    file.set_len(size).map_err(local_err)?;
    file.write_all_at(b"PAR1", 0).map_err(local_err)?;
    // everything fetched is kept: the tail often holds the last column chunks too
    let (kept, kept_start) = match footer_start >= tail_start {
        true => (tail.as_ref(), tail_start),
        false => (footer.as_slice(), footer_start),
    };
    file.write_all_at(kept, kept_start).map_err(local_err)?;
    let partial = Partial {
        store: store.clone(),
        meta: meta.clone(),
        uri: uri.to_string(),
        metadata,
        tail_start: kept_start,
        footer_sha256: identity(&footer, meta),
        fetched: Mutex::new(BTreeSet::new()),
    };
    let mut map = partials().lock().unwrap_or_else(|p| p.into_inner());
    map.insert(local.to_path_buf(), Arc::new(partial));
    Ok(Some(read))
}

/// What stands for the bytes of an object read by ranges: sha256 of its footer followed by its
/// ETag. The footer holds every chunk's offsets, sizes and statistics, so it changes with the
/// data; the ETag tells apart two objects whose footers happen to agree (no statistics, same
/// sizes), and is the same for two copies of one single-part upload.
fn identity(footer: &[u8], meta: &ObjectMeta) -> String {
    let mut h = Sha256::new();
    h.update(footer);
    h.update(meta.e_tag.as_deref().unwrap_or("").as_bytes());
    crate::config::hex(&h.finalize())
}

/// The hashes of a partial copy (`identity`), for the file and the content alike.
pub fn hashes(path: &Path) -> Option<crate::ingest::Hashes> {
    partial(path).map(|p| crate::ingest::Hashes {
        file: p.footer_sha256.clone(),
        content: p.footer_sha256.clone(),
    })
}

/// Fetches into the copy at `path` the column chunks of `columns` (top-level columns; `None`:
/// all of them) not fetched yet. Nothing to do for a file that is not a partial copy.
pub fn complete(path: &Path, columns: Option<&[String]>) -> Result<()> {
    let Some(p) = partial(path) else {
        return Ok(());
    };
    let schema = p.metadata.file_metadata().schema_descr();
    let wanted: BTreeSet<usize> = (0..schema.num_columns())
        .filter(|&i| {
            let root = schema
                .column(i)
                .path()
                .parts()
                .first()
                .cloned()
                .unwrap_or_default();
            columns.is_none_or(|cols| cols.contains(&root))
        })
        .collect();
    let missing: Vec<usize> = {
        let fetched = p.fetched.lock().unwrap_or_else(|e| e.into_inner());
        wanted.difference(&fetched).copied().collect()
    };
    if missing.is_empty() {
        return Ok(());
    }
    tracing::debug!(
        "`{}`: fetching the chunks of {} column(s) of {}: {:?}",
        p.uri,
        missing.len(),
        schema.num_columns(),
        columns
    );
    let ranges = chunk_ranges(&p.metadata, &missing, p.tail_start);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let quiet = indicatif::ProgressBar::hidden();
    let fetched = super::runtime().block_on(super::fetch_ranges(
        &p.store, &p.meta, ranges, &file, path, &quiet,
    ));
    let read = fetched.map_err(|e| e.named(&p.uri))?;
    crate::origin::add_bytes_read(path, read);
    let mut done = p.fetched.lock().unwrap_or_else(|e| e.into_inner());
    done.extend(missing);
    Ok(())
}

/// Where a column chunk's bytes are, as the readers find them (parquet-rs and Polars alike):
/// `compressed_size` bytes from the dictionary page when the footer gives one, else from the
/// first data page. A dictionary offset that is not before the data page is suspect, so the
/// data page's span is fetched too. The deprecated `index_page_offset` is not used by any
/// reader and is ignored. Spans end at `end` (the copy has the bytes after it).
fn chunk_spans(data: i64, dictionary: Option<i64>, size: i64, end: u64) -> Vec<Range<u64>> {
    let Ok(len) = u64::try_from(size) else {
        return Vec::new();
    };
    let starts = match dictionary {
        Some(d) if d > 0 && d < data => vec![d],
        Some(d) => vec![d, data],
        None => vec![data],
    };
    starts
        .into_iter()
        .filter_map(|start| u64::try_from(start).ok())
        .map(|start| start..start.saturating_add(len).min(end))
        .filter(|r| r.start < r.end)
        .collect()
}

/// The byte ranges of the chunks of `leaves` in every row group, merged where they are close
/// and cut to at most `RANGE_BYTES`, ending at `end` (the copy has the bytes after it).
fn chunk_ranges(metadata: &ParquetMetaData, leaves: &[usize], end: u64) -> Vec<Range<u64>> {
    let mut spans: Vec<Range<u64>> = Vec::new();
    for rg in metadata.row_groups() {
        for &i in leaves {
            let Some(c) = rg.columns().get(i) else {
                continue;
            };
            spans.extend(chunk_spans(
                c.data_page_offset(),
                c.dictionary_page_offset(),
                c.compressed_size(),
                end,
            ));
        }
    }
    spans.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::new();
    for r in spans {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(MERGE_GAP) => {
                last.end = last.end.max(r.end)
            }
            _ => merged.push(r),
        }
    }
    merged
        .into_iter()
        .flat_map(|r| {
            (r.start..r.end)
                .step_by(super::RANGE_BYTES as usize)
                .map(move |s| s..(s + super::RANGE_BYTES).min(r.end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_where_the_readers_look_whatever_index_page_offset_says() {
        // dictionary page first: the chunk starts there
        assert_eq!(chunk_spans(500, Some(100), 1000, u64::MAX), vec![100..1100]);
        // a dictionary offset at 0 or after the data page: both spans
        assert_eq!(chunk_spans(500, Some(0), 100, u64::MAX), [0..100, 500..600]);
        // no dictionary: the data page's span only
        assert_eq!(chunk_spans(4000, None, 300, u64::MAX), vec![4000..4300]);
        // the bytes already in the copy are not asked for again
        assert_eq!(chunk_spans(4000, None, 300, 4100), vec![4000..4100]);
        assert!(chunk_spans(4000, None, 300, 3000).is_empty());
        assert!(chunk_spans(-1, None, 300, u64::MAX).is_empty());
        assert!(chunk_spans(4000, None, -5, u64::MAX).is_empty());
    }
}
