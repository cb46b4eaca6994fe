//! Input files: expanding `--billing` paths (files, directories, globs) into the files to read,
//! refusing what must not be opened (FIFOs, devices, the output directory), telling their
//! encoding from their first bytes, and hashing their bytes and their decompressed content.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{FileKind, InputFile};
use crate::error::{Error, Result};

/// The two hashes of an input file.
#[derive(Debug, Clone)]
pub struct Hashes {
    pub file: String,
    pub content: String,
}

/// Expands `--billing` arguments into a sorted, de-duplicated list of files.
///
/// A directory is searched recursively for `.csv`, `.csv.gz`, `.parquet`, `.json` and
/// `.jsonl` files; hidden entries (our own working files among them) are skipped. In
/// directories and globs, FIFOs, sockets and devices are skipped with a warning (opening one
/// would block), symbolic links are followed once (a loop is reported and not walked again),
/// delivery manifests (AWS CUR and Data Exports) are skipped, and nothing under `exclude`
/// (the output directory) is ever read. A file named explicitly must be a regular file.
pub fn resolve_paths(patterns: &[String], exclude: &[&Path]) -> Result<Vec<PathBuf>> {
    let excluded: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut walk = Walk {
        out: Vec::new(),
        excluded,
        visited: std::collections::HashSet::new(),
    };
    for pattern in patterns {
        let path = Path::new(pattern);
        let before = walk.out.len();
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                if walk.is_excluded(path) {
                    return Err(Error::Usage {
                        message: format!("`{}` is inside the output directory", path.display()),
                        hint: Some("mlcost never reads its own outputs as billing input; pass the export itself".into()),
                    });
                }
                walk.out.push(path.to_path_buf());
            }
            Ok(m) if m.is_dir() => walk.dir(path)?,
            Ok(_) => {
                return Err(Error::Ingest {
                    path: path.to_path_buf(),
                    message: "it is not a regular file (a FIFO, socket or device)".into(),
                    hint: Some(
                        "pass the export file itself; mlcost does not read from pipes".into(),
                    ),
                })
            }
            Err(_) if pattern.contains(['*', '?', '[']) => {
                let entries = glob::glob(pattern).map_err(|e| Error::Usage {
                    message: format!("invalid glob `{pattern}`: {e}"),
                    hint: None,
                })?;
                for entry in entries.flatten() {
                    walk.entry(&entry);
                }
            }
            Err(source) => {
                let source = match source.kind() {
                    std::io::ErrorKind::NotFound => std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or directory",
                    ),
                    _ => source,
                };
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        if walk.out.len() == before {
            return Err(Error::NoInput {
                pattern: pattern.clone(),
            });
        }
    }
    let mut out = walk.out;
    out.sort();
    out.dedup();
    Ok(out)
}

/// The state of one expansion of input paths.
struct Walk {
    out: Vec<PathBuf>,
    /// Canonical paths never read (the output directory).
    excluded: Vec<PathBuf>,
    /// Directories already walked, by device and inode, so a symlink loop ends.
    visited: std::collections::HashSet<(u64, u64)>,
}

impl Walk {
    fn is_excluded(&self, p: &Path) -> bool {
        std::fs::canonicalize(p).is_ok_and(|c| self.excluded.iter().any(|e| c.starts_with(e)))
    }

    fn dir(&mut self, dir: &Path) -> Result<()> {
        if self.is_excluded(dir) {
            tracing::warn!(
                "`{}` is the output directory or inside it: not read",
                dir.display()
            );
            return Ok(());
        }
        if let Some(id) = file_id(dir) {
            if !self.visited.insert(id) {
                tracing::warn!(
                    "`{}` was already walked (a symbolic link loop?): not read again",
                    dir.display()
                );
                return Ok(());
            }
        }
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // hidden files and our own staging directories; `_` marks the files a writer
            // keeps beside its data (`_SUCCESS`, `_manifest.json`, `_committed_*`)
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            paths.push(entry.path());
        }
        paths.sort();
        for p in paths {
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() => self.dir(&p)?,
                _ => self.entry(&p),
            }
        }
        Ok(())
    }

    /// A path found in a directory or by a glob: kept when it is a regular input file.
    fn entry(&mut self, p: &Path) {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("`{}` skipped: {e}", p.display());
                return;
            }
        };
        if meta.is_dir() || !is_supported(p) {
            return;
        }
        if !meta.is_file() {
            tracing::warn!(
                "`{}` skipped: not a regular file (a FIFO, socket or device)",
                p.display()
            );
        } else if self.is_excluded(p) {
            tracing::warn!(
                "`{}` skipped: it is inside the output directory",
                p.display()
            );
        } else if is_cur_status(p) {
            tracing::info!(
                "`{}` skipped: the status table of an Athena CUR, not billing data",
                p.display()
            );
        } else if is_delivery_manifest(p) {
            tracing::info!(
                "`{}` skipped: a delivery manifest, not billing data",
                p.display()
            );
        } else {
            self.out.push(p.to_path_buf());
        }
    }
}

#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    // no inode numbers: canonical paths stand in (a loop resolves to a path seen before)
    use std::hash::{Hash, Hasher};
    let c = std::fs::canonicalize(p).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    c.hash(&mut h);
    Some((0, h.finish()))
}

/// Whether a file's name says it is Parquet.
pub(super) fn is_parquet_name(p: &Path) -> bool {
    let name = p.to_string_lossy().to_lowercase();
    name.ends_with(".parquet") || name.ends_with(".pq")
}

/// Whether a file is the status table an Athena-integrated CUR keeps beside its data
/// (`cost_and_usage_data_status/`, one `status` column): not billing data.
pub(super) fn is_cur_status(p: &Path) -> bool {
    p.components()
        .any(|c| c.as_os_str() == "cost_and_usage_data_status")
}

/// Whether a file's name says it is an input mlcost reads.
pub(super) fn is_supported(p: &Path) -> bool {
    let name = p.to_string_lossy().to_lowercase();
    [
        ".csv", ".csv.gz", ".parquet", ".pq", ".json", ".jsonl", ".ndjson",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

/// A JSON file that describes a delivery rather than holding billing rows: one JSON object
/// (not rows) whose top-level keys name an AWS CUR manifest (`assemblyId`, `reportKeys`), a
/// Data Exports manifest (`dataFiles`) or an mlcost `manifest.json` (`reconciliation`). Only
/// files up to 16 MiB are parsed: manifests are small, billing data is not.
fn is_delivery_manifest(p: &Path) -> bool {
    const MANIFEST_KEYS: [&str; 4] = ["assemblyId", "reportKeys", "dataFiles", "reconciliation"];
    const MAX_MANIFEST_BYTES: u64 = 16 << 20;
    let name = p.to_string_lossy().to_lowercase();
    if !name.ends_with(".json") {
        return false;
    }
    let Ok(f) = std::fs::File::open(p) else {
        return false;
    };
    let mut bytes = Vec::new();
    let read = f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes);
    if read.is_err() || bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return false;
    }
    // values are skipped, not built: only the top-level keys matter
    let top: std::result::Result<BTreeMap<String, serde::de::IgnoredAny>, _> =
        serde_json::from_slice(&bytes);
    top.is_ok_and(|keys| MANIFEST_KEYS.iter().any(|k| keys.contains_key(*k)))
}

/// Hashes and sniffs a file (for small inputs: volumes, drivers).
pub fn inspect(path: &Path) -> Result<InputFile> {
    let mut f = sniff(path)?;
    let h = hash_content(path)?;
    f.sha256 = h.file;
    f.content_sha256 = h.content;
    Ok(f)
}

/// The encoding (magic bytes win over the name) and size of a file, without reading it all;
/// `sha256` is left empty for `hash_file` to fill.
pub fn sniff(path: &Path) -> Result<InputFile> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // Opening a FIFO blocks until a writer appears: look before opening.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::Ingest {
            path: path.to_path_buf(),
            message: "it is not a regular file (a FIFO, socket or device)".into(),
            hint: Some("pass the file itself; mlcost does not read from pipes".into()),
        });
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(64);
    file.by_ref().take(64).read_to_end(&mut head).map_err(io)?;
    let kind = if head.starts_with(b"PAR1") {
        FileKind::Parquet
    } else if head.starts_with(&[0x1f, 0x8b]) {
        FileKind::CsvGz
    } else if head
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(&head)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
    {
        FileKind::Json
    } else {
        FileKind::Csv
    };
    Ok(InputFile {
        path: path.to_path_buf(),
        kind,
        size,
        sha256: String::new(),
        content_sha256: String::new(),
    })
}

/// sha256 of a file's bytes and of its content (gzip decompressed), in one read of the file.
pub fn hash_content(path: &Path) -> Result<Hashes> {
    // a Parquet object read by ranges is not all here: its footer stands for it
    if let Some(h) = super::objects::hashes(path) {
        return Ok(h);
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 2];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    if n < 2 || head != [0x1f, 0x8b] {
        let h = hash_file(path)?;
        return Ok(Hashes {
            file: h.clone(),
            content: h,
        });
    }
    // Tee the compressed bytes into one hasher while the decoder feeds the other.
    struct Tee<R> {
        inner: R,
        hasher: Sha256,
    }
    impl<R: Read> Read for Tee<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.hasher.update(&buf[..n]);
            Ok(n)
        }
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let tee = Tee {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let mut decoder = flate2::read::MultiGzDecoder::new(tee);
    let mut content = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = decoder.read(&mut buf).map_err(|e| Error::Ingest {
            path: path.to_path_buf(),
            message: format!("cannot decompress: {e}"),
            hint: Some("the gzip file may be truncated; download it again".into()),
        })?;
        if n == 0 {
            break;
        }
        content.update(&buf[..n]);
    }
    let mut tee = decoder.into_inner();
    // the decoder may stop before the end of the file (trailing bytes): hash those too
    std::io::copy(&mut tee, &mut std::io::sink()).map_err(io)?;
    Ok(Hashes {
        file: crate::config::hex(&tee.hasher.finalize()),
        content: crate::config::hex(&content.finalize()),
    })
}

/// sha256 of a file's bytes, as lower-case hex.
pub fn hash_file(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::config::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_paths_rejects_missing_and_empty_globs() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv").display().to_string();
        assert!(matches!(
            resolve_paths(&[missing], &[]),
            Err(Error::Io { .. })
        ));
        let glob = dir.path().join("*.csv").display().to_string();
        assert!(matches!(
            resolve_paths(&[glob], &[]),
            Err(Error::NoInput { .. })
        ));
        std::fs::write(dir.path().join("b.csv"), "x").unwrap();
        std::fs::write(dir.path().join("a.parquet"), "x").unwrap();
        std::fs::write(dir.path().join("c.txt"), "x").unwrap();
        let found = resolve_paths(&[dir.path().display().to_string()], &[]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["a.parquet", "b.csv"]);
    }
}
