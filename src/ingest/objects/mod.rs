//! Inputs in buckets: `--billing`, `--requests` and `--revenue` may name `s3://`, `gs://`,
//! `az://` or `abfss://` URIs (an object, a prefix, or a glob). Each is listed through
//! `object_store` (`store`), a delivery folder's manifest picks the month's current files
//! (`delivery`), and every object is fetched into a private local copy, which the readers then
//! read like any local file: Parquet by parallel range requests, CSV and CSV.gz as one stream.
//! `crate::origin` remembers the URI, size, ETag and version of each copy, so messages and the
//! manifest name the object, never the copy. Credentials are never printed nor recorded.

mod delivery;
mod partial;
mod profile;
mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use crate::origin::{self, ObjectOrigin, ObjectRead};
pub use partial::{complete, hashes};
pub use store::is_uri;
use store::Uri;

/// Bytes per range request of a Parquet object.
const RANGE_BYTES: u64 = 8 << 20;
/// Range requests in flight per object, and objects fetched at once.
const IN_FLIGHT: usize = 4;
/// The largest JSON object read to see whether it is a delivery manifest.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// The runtime the requests run on, started at the first URI of a run.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            // building a runtime fails only when the OS refuses threads or a timer
            .expect("cannot start the runtime that fetches objects")
    })
}

/// The local copies of the objects a run reads, kept until the run ends.
pub struct Staging {
    dir: Option<tempfile::TempDir>,
    stores: BTreeMap<String, Arc<dyn ObjectStore>>,
    /// URI of each fetched object -> its local copy.
    copies: BTreeMap<String, PathBuf>,
    /// Copies made so far (each in a folder of its own, numbered).
    next: usize,
    progress: bool,
}

impl Staging {
    pub fn new(progress: bool) -> Staging {
        Staging {
            dir: None,
            stores: BTreeMap::new(),
            copies: BTreeMap::new(),
            next: 0,
            progress,
        }
    }

    /// `--billing` arguments with every bucket URI replaced by the local copies of the objects
    /// it names (in key order); local paths pass through untouched.
    pub fn billing(&mut self, args: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(args.len());
        for arg in args {
            if !is_uri(arg) {
                out.push(arg.clone());
                continue;
            }
            let uri = store::parse(arg)?;
            let objects = self.list(&uri, arg)?;
            for p in self.fetch(&uri, objects)? {
                out.push(p.display().to_string());
            }
        }
        Ok(out)
    }

    /// One side file (`--requests`, `--revenue`): a URI must name a single object.
    pub fn file(&mut self, arg: &Path) -> Result<PathBuf> {
        let text = arg.to_string_lossy();
        if !is_uri(&text) {
            return Ok(arg.to_path_buf());
        }
        let uri = store::parse(&text)?;
        let store = self.store(&uri)?;
        let meta = runtime()
            .block_on(async { store.head(&key(&uri.key)).await })
            .map_err(|e| remote_error(&text, e))?;
        let copies = self.fetch(&uri, vec![meta])?;
        copies
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal(format!("`{text}` was fetched but has no copy")))
    }

    /// `--prefer` as a path the billing reader knows: a URI becomes the copy of that object,
    /// which must be one of the billing inputs fetched.
    pub fn prefer(&self, arg: &Path) -> Result<PathBuf> {
        let text = arg.to_string_lossy();
        if !is_uri(&text) {
            return Ok(arg.to_path_buf());
        }
        // the scheme as every copy is keyed (`S3://` is `s3://`)
        let uri = store::parse(&text)?;
        self.copies
            .get(&uri.child(&uri.key))
            .cloned()
            .ok_or_else(|| Error::Usage {
                message: format!("`--prefer {text}` is not one of the billing inputs"),
                hint: Some("name one of the objects `--billing` reads, by its full URI".into()),
            })
    }

    fn store(&mut self, uri: &Uri) -> Result<Arc<dyn ObjectStore>> {
        if let Some(s) = self.stores.get(&uri.root) {
            return Ok(s.clone());
        }
        let s = store::open(uri)?;
        self.stores.insert(uri.root.clone(), s.clone());
        Ok(s)
    }

    /// The objects `arg` names: the object itself when its key exists, else every readable
    /// object under the prefix (or matching the glob), with the delivery manifests applied.
    fn list(&mut self, uri: &Uri, arg: &str) -> Result<Vec<ObjectMeta>> {
        let store = self.store(uri)?;
        let glob_at = uri.key.find(['*', '?', '[']);
        let pattern = match glob_at {
            Some(_) => Some(glob::Pattern::new(&uri.key).map_err(|e| Error::Usage {
                message: format!("invalid glob `{arg}`: {e}"),
                hint: None,
            })?),
            None => None,
        };
        let prefix = match glob_at {
            Some(i) => uri.key[..i]
                .rfind('/')
                .map_or("", |j| &uri.key[..j])
                .to_string(),
            None => uri.key.trim_end_matches('/').to_string(),
        };
        let single = pattern.is_none() && !uri.key.is_empty() && !uri.key.ends_with('/');
        let listed = runtime().block_on(async {
            if single {
                match store.head(&key(&uri.key)).await {
                    Ok(meta) => return Ok(vec![meta]),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            let prefix = (!prefix.is_empty()).then(|| key(&prefix));
            store.list(prefix.as_ref()).try_collect::<Vec<_>>().await
        });
        let mut listed = listed.map_err(|e| remote_error(arg, e))?;
        if single && listed.len() == 1 && listed[0].location.as_ref() == uri.key {
            return Ok(listed);
        }
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        let everything: std::collections::BTreeSet<String> =
            listed.iter().map(|m| m.location.to_string()).collect();
        // every folder some object is in: a 0-byte object of that name is a folder marker (Spark,
        // Hadoop and the S3 console write them), not a file
        let folders: std::collections::BTreeSet<&str> = everything
            .iter()
            .flat_map(|k| k.match_indices('/').map(move |(i, _)| &k[..i]))
            .collect();
        listed.retain(|m| {
            let k = m.location.as_ref();
            if m.size == 0 && folders.contains(k) {
                return false;
            }
            let below = k
                .strip_prefix(prefix.as_str())
                .unwrap_or(k)
                .trim_start_matches('/');
            pattern.as_ref().is_none_or(|p| p.matches_with(k, options))
                && !below.split('/').any(|s| s.starts_with(['.', '_']))
                && super::files::is_supported(Path::new(k))
                && !super::files::is_cur_status(Path::new(k))
        });
        listed.sort_by(|a, b| a.location.cmp(&b.location));
        let listed = self.apply_manifests(uri, &store, listed, &everything)?;
        if listed.is_empty() {
            return Err(Error::NoInput {
                pattern: arg.to_string(),
            });
        }
        Ok(listed)
    }

    /// Reads the delivery manifests among `listed` and keeps the data objects of the current
    /// deliveries (see `delivery`).
    fn apply_manifests(
        &mut self,
        uri: &Uri,
        store: &Arc<dyn ObjectStore>,
        listed: Vec<ObjectMeta>,
        everything: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<ObjectMeta>> {
        let (candidates, mut data): (Vec<ObjectMeta>, Vec<ObjectMeta>) =
            listed.into_iter().partition(|m| {
                delivery::may_be_manifest(m.location.as_ref()) && m.size <= MAX_MANIFEST_BYTES
            });
        let mut manifests = Vec::new();
        for m in candidates {
            let bytes = runtime()
                .block_on(async { store.get(&m.location).await?.bytes().await })
                .map_err(|e| remote_error(&uri.child(m.location.as_ref()), e))?;
            match delivery::parse(&bytes, m.location.as_ref()) {
                Some(manifest) => {
                    let ours = uri.root.split_once("://").map_or("", |(_, b)| b);
                    if let Some(other) = manifest.buckets.iter().find(|b| b.as_str() != ours) {
                        tracing::warn!(
                            "`{}` names files in bucket `{other}`: the files of the same keys in `{}` are read instead (a copied delivery?)",
                            uri.child(m.location.as_ref()),
                            uri.root
                        );
                    }
                    manifests.push(manifest)
                }
                None => data.push(m),
            }
        }
        if manifests.is_empty() {
            return Ok(data);
        }
        data.sort_by(|a, b| a.location.cmp(&b.location));
        let keys: Vec<String> = data.iter().map(|m| m.location.to_string()).collect();
        let current = delivery::current(&keys, &manifests);
        if let Some((file, manifest)) = current.missing.first() {
            if everything.contains(file) {
                return Err(Error::Remote {
                    uri: uri.child(manifest),
                    message: format!(
                        "the delivery manifest names `{}`, which this run does not read (a glob leaves it out, or mlcost does not read its format)",
                        uri.child(file)
                    ),
                    hint: Some("give the report's folder rather than a glob; mlcost reads .csv, .csv.gz and .parquet deliveries, not .zip".into()),
                });
            }
            return Err(Error::Remote {
                uri: uri.child(manifest),
                message: format!(
                    "the delivery manifest names `{}`, which is not there{}",
                    uri.child(file),
                    match current.missing.len() {
                        1 => String::new(),
                        n => format!(" (nor {} other file(s))", n - 1),
                    }
                ),
                hint: Some("the delivery may still be being written: run again when it is complete, or name the files to read instead of the folder".into()),
            });
        }
        for (file, manifest) in &current.left_out {
            tracing::warn!(
                "`{}` left out: `{}` names the current delivery of its month, which replaces it",
                uri.child(file),
                uri.child(manifest)
            );
        }
        let keep: std::collections::BTreeSet<&str> =
            current.keep.iter().map(String::as_str).collect();
        data.retain(|m| keep.contains(m.location.as_ref()));
        Ok(data)
    }

    /// Fetches `objects` into the staging directory (a few at a time), registering each copy's
    /// origin; returns the copies in the order given.
    fn fetch(&mut self, uri: &Uri, objects: Vec<ObjectMeta>) -> Result<Vec<PathBuf>> {
        let store = self.store(uri)?;
        let dir = match &self.dir {
            Some(d) => d.path().to_path_buf(),
            None => {
                use std::os::unix::fs::PermissionsExt;
                // billing data: readable by this user only
                let d = tempfile::Builder::new()
                    .prefix("mlcost-objects-")
                    .permissions(std::fs::Permissions::from_mode(0o700))
                    .tempdir()
                    .map_err(|source| Error::Write {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let p = d.path().to_path_buf();
                remove_on_signal(p.clone());
                self.dir = Some(d);
                p
            }
        };
        // an object two arguments name (a prefix and a glob over it) is fetched once; its copy
        // is named again, and the reader drops the repeat as it does a path given twice
        let mut known = Vec::new();
        let mut jobs = Vec::with_capacity(objects.len());
        for meta in objects {
            let u = uri.child(meta.location.as_ref());
            if let Some(copy) = self.copies.get(&u) {
                known.push(copy.clone());
                continue;
            }
            if jobs.iter().any(|(j, _, _)| *j == u) {
                continue;
            }
            self.next += 1;
            let folder = dir.join(format!("{:06}", self.next));
            std::fs::create_dir(&folder).map_err(|source| Error::Write {
                path: folder.clone(),
                source,
            })?;
            jobs.push((u, meta.clone(), folder.join(local_name(&meta))));
        }
        let total: u64 = jobs.iter().map(|j| j.1.size).sum();
        let bar = match self.progress {
            true => indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template(
                    "fetching {msg} {bytes}/{total_bytes} ({bytes_per_sec})",
                )
                // a constant template: it parses
                .expect("constant progress template"),
            ),
            false => indicatif::ProgressBar::hidden(),
        };
        bar.set_message(format!("{} object(s) from {}", jobs.len(), uri.root));
        // `buffered` keeps the order of `jobs`, so each result meets its object below
        let fetched = runtime().block_on(async {
            futures::stream::iter(jobs.iter())
                .map(|(u, meta, local)| {
                    let (store, bar) = (store.clone(), bar.clone());
                    async move {
                        copy(&store, meta, local, u, &bar)
                            .await
                            .map_err(|e| e.named(u))
                    }
                })
                .buffered(IN_FLIGHT)
                .try_collect::<Vec<(ObjectRead, u64)>>()
                .await
        });
        bar.finish_and_clear();
        let reads = fetched?;
        let mut out = Vec::with_capacity(jobs.len());
        for ((u, meta, local), (read, bytes_read)) in jobs.into_iter().zip(reads) {
            origin::register(
                &local,
                ObjectOrigin {
                    uri: u.clone(),
                    size: meta.size,
                    etag: meta.e_tag.clone(),
                    version: meta.version.clone(),
                    last_modified: meta.last_modified.to_rfc3339(),
                    read,
                    bytes_read,
                },
            );
            self.copies.insert(u, local.clone());
            out.push(local);
        }
        out.extend(known);
        Ok(out)
    }
}

/// The file name of an object's copy: the key's last part, its end kept (the extension tells
/// the format) within what every filesystem takes.
fn local_name(meta: &ObjectMeta) -> String {
    const MAX: usize = 120;
    let name = meta.location.filename().unwrap_or("object");
    let mut start = name.len().saturating_sub(MAX);
    while !name.is_char_boundary(start) {
        start += 1;
    }
    name[start..].to_string()
}

/// Removes the private copies when the run is stopped by SIGINT, SIGTERM or SIGHUP (a
/// scheduler's stop), then ends the process as that signal would have. The outputs need
/// nothing: a stopped run leaves the last good ones, as on SIGKILL.
fn remove_on_signal(dir: PathBuf) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(
                "the copies in `{}` will stay if the run is stopped: {e}",
                dir.display()
            );
            return;
        }
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
}

/// A failed fetch, before it knows which URI it was for.
pub(super) enum Failed {
    Store(object_store::Error),
    Local(PathBuf, std::io::Error),
    Changed(String),
}

impl Failed {
    pub(super) fn named(self, uri: &str) -> Error {
        match self {
            Failed::Store(e) => remote_error(uri, e),
            Failed::Local(path, source) => Error::Write { path, source },
            Failed::Changed(message) => Error::Remote {
                uri: uri.to_string(),
                message,
                hint: Some("the object was replaced while mlcost read it: run again once the delivery is complete".into()),
            },
        }
    }
}

/// Copies one object to `local`: of a Parquet object only its footer (`partial`: the readers
/// fetch the column chunks they read); anything else (and a Parquet object whose footer does
/// not decode) whole, by range requests a few at a time. Every request asks for the version listed (`If-Match`
/// its ETag), so a copy never mixes two versions of an object. Returns how it was read and the
/// bytes read so far.
async fn copy(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    local: &Path,
    uri: &str,
    bar: &indicatif::ProgressBar,
) -> std::result::Result<(ObjectRead, u64), Failed> {
    let local_err = |e| Failed::Local(local.to_path_buf(), e);
    let parquet = super::files::is_parquet_name(Path::new(meta.location.as_ref()));
    if parquet {
        if let Some(read) = partial::start(store, meta, local, uri).await? {
            bar.inc(meta.size);
            return Ok((ObjectRead::Ranges, read));
        }
    }
    let file = std::fs::File::create(local).map_err(local_err)?;
    // ranges of at most 8 MiB, so MLCOST_OBJECT_STORE_TIMEOUT bounds each request, not the
    // whole download of a large CSV; an empty object stays an empty file (the reader says so)
    let ranges = (0..meta.size)
        .step_by(RANGE_BYTES as usize)
        .map(|start| start..(start + RANGE_BYTES).min(meta.size))
        .collect();
    let written = fetch_ranges(store, meta, ranges, &file, local, bar).await?;
    if written != meta.size {
        return Err(Failed::Changed(format!(
            "{written} bytes were read but the object was listed with {}",
            meta.size
        )));
    }
    Ok((ObjectRead::Whole, written))
}

/// Fetches `ranges` of an object (`IN_FLIGHT` at a time, each asking for the version listed)
/// and writes each at its offset in `file` (the copy at `local`); returns the bytes fetched.
async fn fetch_ranges(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    ranges: Vec<std::ops::Range<u64>>,
    file: &std::fs::File,
    local: &Path,
    bar: &indicatif::ProgressBar,
) -> std::result::Result<u64, Failed> {
    use std::os::unix::fs::FileExt;
    let mut parts = futures::stream::iter(ranges)
        .map(|r| async move {
            partial::get(store, meta, r.clone())
                .await
                .map(|b| (r.start, b))
        })
        .buffer_unordered(IN_FLIGHT);
    let mut written = 0u64;
    while let Some(part) = parts.next().await {
        let (start, bytes) = part.map_err(Failed::Store)?;
        file.write_all_at(&bytes, start)
            .map_err(|e| Failed::Local(local.to_path_buf(), e))?;
        written += bytes.len() as u64;
        bar.inc(bytes.len() as u64);
    }
    Ok(written)
}

/// An object-store key from a key or prefix as the user wrote it.
fn key(k: &str) -> Key {
    Key::parse(k).unwrap_or_else(|_| Key::from_iter(k.split('/').filter(|s| !s.is_empty())))
}

/// An `object_store` error as ours, naming the URI, with a hint for what usually causes it on
/// that cloud.
fn remote_error(uri: &str, e: object_store::Error) -> Error {
    use object_store::Error as E;
    // what an S3 or Azure server said, when it answered with its XML error document (Azure
    // adds request id and time lines to the message: the first line says it)
    static ANSWER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let answer = ANSWER.get_or_init(|| {
        // a constant pattern: it compiles
        regex::Regex::new(r"<Code>([^<]*)</Code>\s*<Message>([^<]*)</Message>")
            .expect("constant regex")
    });
    let text = chain(&e);
    let said = answer.captures(&text).map(|c| {
        let first = c[2].lines().next().unwrap_or("").trim().to_string();
        format!("{}: {first}", &c[1])
    });
    let cloud = store::parse(uri).map(|u| u.cloud).ok();
    let (credentials, endpoint) = match cloud {
        Some(store::Cloud::Gcs) => (
            "check GOOGLE_APPLICATION_CREDENTIALS (or the workload identity) and the bucket's IAM",
            "check the bucket's name and the network",
        ),
        Some(store::Cloud::Azure) => (
            "check the account key, service principal or managed identity, and its role on the container",
            "check the container and account names (AZURE_STORAGE_ACCOUNT_NAME) and the network",
        ),
        _ => (
            "check AWS_PROFILE, AWS_ACCESS_KEY_ID or the role, the bucket policy, and the region",
            "check the bucket's name, and AWS_ENDPOINT_URL for an S3-compatible server (plain http needs AWS_ALLOW_HTTP=true)",
        ),
    };
    // object_store's own refusals, and what S3 and Azure answer a signature or key they do not
    // accept (403), which object_store leaves generic
    const REFUSALS: [&str; 6] = [
        "AccessDenied",
        "AuthorizationFailure",
        "AuthenticationFailed",
        "AuthorizationPermissionMismatch",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ];
    let refused = matches!(e, E::PermissionDenied { .. } | E::Unauthenticated { .. })
        || said
            .as_deref()
            .is_some_and(|s| REFUSALS.iter().any(|r| s.starts_with(&format!("{r}:"))));
    let (message, hint) = match &e {
        E::NotFound { .. } => (
            "no such object".to_string(),
            "check the bucket and key (a prefix lists every .csv, .csv.gz, .parquet and .json below it)".to_string(),
        ),
        _ if refused => (
            format!("access denied ({})", said.unwrap_or(text)),
            format!("the credentials in use may not read this bucket: {credentials}"),
        ),
        E::Precondition { .. } | E::NotModified { .. } => (
            "the object changed while it was read".to_string(),
            "the delivery is being rewritten: run again when it is complete".to_string(),
        ),
        _ => {
            let text = said.unwrap_or(text);
            let slow = text.contains("timed out") || text.contains("deadline") || text.contains("Timeout");
            let no_credentials = text.contains("169.254.169.254") || text.contains("credential");
            let hint = match slow {
                _ if no_credentials => format!("no credentials were found: {credentials}"),
                true => "the server did not answer in time: check the endpoint, or raise MLCOST_OBJECT_STORE_TIMEOUT (seconds per request)".to_string(),
                false => endpoint.to_string(),
            };
            (text, hint)
        }
    };
    Error::Remote {
        uri: uri.to_string(),
        message: redact(&message),
        hint: Some(hint),
    }
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Secrets read from files (an AWS profile's keys), which `redact` removes with those of the
/// environment.
fn secrets() -> &'static std::sync::Mutex<Vec<String>> {
    static SECRETS: std::sync::OnceLock<std::sync::Mutex<Vec<String>>> = std::sync::OnceLock::new();
    SECRETS.get_or_init(Default::default)
}

/// Remembers a secret `redact` must never let through.
pub(super) fn keep_secret(secret: &str) {
    if secret.len() >= 4 {
        secrets()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(secret.to_string());
    }
}

/// `text` without any secret of the environment or of a profile in it, nor the signature of a
/// signed URL, nor the password of a URL.
pub(crate) fn redact(text: &str) -> String {
    const SECRETS: [&str; 6] = [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_STORAGE_ACCESS_KEY",
        "AZURE_CLIENT_SECRET",
        "AZURE_STORAGE_SAS_KEY",
    ];
    let mut out = text.to_string();
    for name in SECRETS {
        if let Some(v) = std::env::var(name).ok().filter(|v| v.len() >= 4) {
            out = out.replace(&v, "***");
        }
    }
    for secret in secrets().lock().unwrap_or_else(|p| p.into_inner()).iter() {
        out = out.replace(secret.as_str(), "***");
    }
    static USERINFO: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let userinfo = USERINFO.get_or_init(|| {
        // a constant pattern: it compiles
        regex::Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@").expect("constant regex")
    });
    let out = userinfo.replace_all(&out, "${1}***@").into_owned();
    static SIGNED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let signed = SIGNED.get_or_init(|| {
        // a constant pattern: it compiles
        regex::Regex::new(r"(?i)\b(x-amz-signature|x-amz-credential|x-amz-security-token|sig|signature)=[^&\s'\x22]+")
            .expect("constant regex")
    });
    signed.replace_all(&out, "$1=***").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_never_shown() {
        let t = redact("GET https://b.s3.amazonaws.com/k?X-Amz-Signature=abcd&x=1 sig=zz");
        assert_eq!(
            t,
            "GET https://b.s3.amazonaws.com/k?X-Amz-Signature=***&x=1 sig=***"
        );
        assert_eq!(
            redact("at http://minio:pa55word@host:9000/b"),
            "at http://***@host:9000/b"
        );
        keep_secret("profile-session-token-value");
        assert_eq!(redact("echo: profile-session-token-value."), "echo: ***.");
    }
}
