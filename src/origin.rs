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
            },
        );
        assert_eq!(shown(local), "s3://bucket/cur/cur.csv.gz");
        assert_eq!(shown(Path::new("local.csv")), "local.csv");
    }
}
