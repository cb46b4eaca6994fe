//! Where an input came from. An object fetched from a bucket (`s3://`, `gs://`, `az://`) is
//! read from a private local copy; `register` records that copy's object, and `shown` gives
//! the name every message, manifest field and quarantine row uses: the URI, never the
//! temporary path. Local files are shown as they were given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

/// The object a local copy was fetched from, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ObjectOrigin {
    /// `s3://bucket/key`, `gs://bucket/key`, `az://container/key` or `abfss://...`.
    pub uri: String,
    /// The object's size in bytes when it was listed.
    pub size: u64,
    /// The store's entity tag (S3, Azure) of the version read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The object's version id or generation, when the store reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the store last modified the object (RFC 3339, UTC).
    pub last_modified: String,
    /// Whether it was read whole or by range requests (a Parquet object: its footer and the
    /// column chunks the run used).
    pub read: ObjectRead,
    /// The bytes fetched from the store.
    pub bytes_read: u64,
}

/// How an object was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectRead {
    /// Every byte, in one stream or in ranges: `sha256` is the object's.
    Whole,
    /// The footer and the column chunks used (Parquet): `sha256` is the footer's.
    Ranges,
}

fn registry() -> &'static RwLock<HashMap<PathBuf, ObjectOrigin>> {
    static REGISTRY: OnceLock<RwLock<HashMap<PathBuf, ObjectOrigin>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Records that `local` is a copy of `origin`.
pub fn register(local: &Path, origin: ObjectOrigin) {
    // a poisoned lock only means another thread panicked while inserting: the map is whole
    let mut map = registry().write().unwrap_or_else(|p| p.into_inner());
    map.insert(local.to_path_buf(), origin);
}

/// Counts `n` more bytes fetched for the copy at `local`.
pub fn add_bytes_read(local: &Path, n: u64) {
    let mut map = registry().write().unwrap_or_else(|p| p.into_inner());
    if let Some(o) = map.get_mut(local) {
        o.bytes_read += n;
    }
}

/// The object `path` is a copy of, if it is one.
pub fn object(path: &Path) -> Option<ObjectOrigin> {
    let map = registry().read().unwrap_or_else(|p| p.into_inner());
    map.get(path).cloned()
}

/// The name of `path` for people: the URI of the object it copies, else the path itself.
pub fn shown(path: &Path) -> String {
    match object(path) {
        Some(o) => o.uri,
        None => path.display().to_string(),
    }
}

/// `shown` as a path, for errors that carry one.
pub fn shown_path(path: &Path) -> PathBuf {
    PathBuf::from(shown(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_shown_by_its_uri_and_a_local_file_by_its_path() {
        let local = Path::new("/tmp/mlcost-objects-test/00001/cur.csv.gz");
        assert_eq!(shown(local), local.display().to_string());
        register(
            local,
            ObjectOrigin {
                uri: "s3://bucket/cur/cur.csv.gz".into(),
                size: 3,
                etag: Some("\"abc\"".into()),
                version: None,
                last_modified: "2026-12-01T00:00:00Z".into(),
                read: ObjectRead::Whole,
                bytes_read: 3,
            },
        );
        assert_eq!(shown(local), "s3://bucket/cur/cur.csv.gz");
        assert_eq!(shown(Path::new("local.csv")), "local.csv");
    }
}
