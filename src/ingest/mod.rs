//! Ingest: find the input files (file, directory or glob), open each as a Polars scan,
//! hand it to the adapter of its format (only FOCUS today, `focus.rs`), and aggregate the
//! normalised lines to one row per distinct dimension set in a single streaming pass.
//! Everything after this stage works on those few aggregated groups, never on raw rows.
//! CSV and CSV.gz are read by `csv` in bounded batches; ingest never writes a file.

pub mod aws;
pub mod azure;
pub mod columns;
pub mod cost_explorer;
pub mod csv;
pub mod focus;
pub mod gcp;
mod groups;
pub mod oci;
pub mod parquet_direct;
mod scan;

pub use groups::{aggregate, cost_column, quarantine_rows, QuarantinedRow, SourceGroup};
pub use scan::{bad_row_reason, bad_row_status, Frame, Frames, RawScan, ROW_NUMBER};

use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::{Money, PRECISION, SCALE};

/// How an input file is encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Csv,
    CsvGz,
    Parquet,
    /// Newline-delimited JSON (GCP BigQuery export) or Cost Explorer API responses.
    Json,
}

/// An input file with what the manifest needs to know about it.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub size: u64,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// sha256 of its content: the decompressed bytes of a `.csv.gz`, else the same as `sha256`.
    pub content_sha256: String,
}

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
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue; // hidden files and our own staging directories
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

fn is_supported(p: &Path) -> bool {
    let name = p.to_string_lossy().to_lowercase();
    [
        ".csv", ".csv.gz", ".parquet", ".pq", ".json", ".jsonl", ".ndjson",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

/// A JSON file that describes a delivery rather than holding billing rows: an AWS CUR
/// manifest (`assemblyId`, `reportKeys`), a Data Exports manifest (`dataFiles`) or an mlcost
/// `manifest.json`. Only the first 4 KiB are looked at.
fn is_delivery_manifest(p: &Path) -> bool {
    let name = p.to_string_lossy().to_lowercase();
    if !name.ends_with(".json") {
        return false;
    }
    let Ok(f) = std::fs::File::open(p) else {
        return false;
    };
    let mut head = Vec::with_capacity(4096);
    if f.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    [
        "\"assemblyId\"",
        "\"reportKeys\"",
        "\"dataFiles\"",
        "\"reconciliation\"",
    ]
    .iter()
    .any(|k| head.contains(k))
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

/// A scan mapped to the canonical line-item columns of `schema::line` (text dimensions plus
/// decimal(38,18) costs). Produced by a format adapter.
pub struct NormalisedLines {
    pub lf: LazyFrame,
    /// Format name and version for the manifest, e.g. `focus` / `1.2`.
    pub format: String,
    pub format_version: String,
    /// Source column used for each canonical column that was present.
    pub columns_used: Vec<(String, String)>,
    /// Facts about the source a user should see in the summary.
    pub notes: Vec<String>,
    /// Set when every canonical column is a source column as it is: such a Parquet file can
    /// be read by `parquet_direct`.
    pub direct: Option<parquet_direct::DirectColumns>,
    /// The source columns the mapping reads (the CSV projection); None when it needs them all.
    pub needed: Option<Vec<String>>,
}

/// The billing export formats mlcost reads; each has an adapter module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    Focus,
    AwsCur,
    Azure,
    Gcp,
    Oci,
    CostExplorer,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 6] = [
        SourceFormat::Focus,
        SourceFormat::AwsCur,
        SourceFormat::Azure,
        SourceFormat::Gcp,
        SourceFormat::Oci,
        SourceFormat::CostExplorer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Focus => "FOCUS",
            SourceFormat::AwsCur => "AWS CUR",
            SourceFormat::Azure => "Azure cost details",
            SourceFormat::Gcp => "GCP billing export",
            SourceFormat::Oci => "OCI cost report",
            SourceFormat::CostExplorer => "AWS Cost Explorer",
        }
    }

    /// What a file lacks to be read as this format (empty: it is one).
    fn missing(self, cols: &columns::Columns) -> Vec<String> {
        if self == SourceFormat::CostExplorer && cost_explorer::matches(cols) {
            return Vec::new();
        }
        cols.missing(self.required())
    }

    /// Columns a file must have to be read as this format (alternatives per entry).
    fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            SourceFormat::Focus => focus::REQUIRED,
            SourceFormat::AwsCur => aws::REQUIRED,
            SourceFormat::Azure => azure::REQUIRED,
            SourceFormat::Gcp => gcp::REQUIRED,
            SourceFormat::Oci => oci::REQUIRED,
            SourceFormat::CostExplorer => cost_explorer::REQUIRED,
        }
    }
}

/// Picks the format of a file: the forced one (checked), or the first whose required columns
/// are all present. Otherwise an error naming the closest format and what it lacks.
pub fn detect(scan: &RawScan, forced: Option<SourceFormat>) -> Result<SourceFormat> {
    let cols = columns::Columns::new(&scan.schema);
    let candidates: Vec<SourceFormat> = match forced {
        Some(f) => vec![f],
        None => SourceFormat::ALL.to_vec(),
    };
    let mut best: Option<(SourceFormat, Vec<String>)> = None;
    for f in candidates {
        let missing = f.missing(&cols);
        if missing.is_empty() {
            tracing::info!(
                "`{}`: detected {} (all of {} present)",
                scan.file.path.display(),
                f.name(),
                f.required()
                    .iter()
                    .map(|a| a[0])
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(f);
        }
        if best.as_ref().is_none_or(|(_, m)| missing.len() < m.len()) {
            best = Some((f, missing));
        }
    }
    // candidates is never empty, so best is set; fall back to FOCUS defensively
    let (format, missing) = best.unwrap_or((SourceFormat::Focus, Vec::new()));
    Err(Error::MissingColumns {
        path: scan.file.path.clone(),
        format: format.name().to_string(),
        missing,
    })
}

/// Maps a scan of `format` to canonical lines, checking the cost basis is available.
pub fn normalise(
    scan: &RawScan,
    format: SourceFormat,
    lf: LazyFrame,
    row_numbers: bool,
    basis: CostBasis,
) -> Result<NormalisedLines> {
    let cols = columns::Columns::new(&scan.schema);
    let (canonical, lf) = match format {
        SourceFormat::Focus => (focus::map(&cols), lf),
        SourceFormat::AwsCur => (aws::map(&cols), lf),
        SourceFormat::Azure => (azure::map(&cols), lf),
        SourceFormat::Gcp => (gcp::map(&cols), lf),
        SourceFormat::Oci => (oci::map(&cols), lf),
        SourceFormat::CostExplorer => cost_explorer::map(scan, &cols, lf)?,
    };
    if !canonical.supports(basis) {
        return Err(Error::Ingest {
            path: scan.file.path.clone(),
            message: format!(
                "cost basis `{}` is not available for {} exports",
                basis.name(),
                format.name()
            ),
            hint: Some("set `[cost] basis` to `effective` or `billed` in the config".into()),
        });
    }
    let mut lines = canonical.into_lines(lf, row_numbers);
    // A mapping over reshaped columns (Cost Explorer) reads the whole file.
    if let Some(needed) = &lines.needed {
        if format == SourceFormat::CostExplorer || !needed.iter().all(|n| scan.schema.contains(n)) {
            lines.needed = None;
        }
    }
    Ok(lines)
}

/// Tags column to JSON object text, whatever its physical type. `strip` removes a key prefix
/// (CUR 2.0 spells `user:team` as `user_team` in its map).
pub fn tags_expr(e: Expr, dtype: &DataType, strip: Option<&'static str>) -> Expr {
    match dtype {
        DataType::String => e,
        DataType::Struct(_) | DataType::List(_) => e.map(
            move |c: Column| {
                let s = c.as_materialized_series();
                let out: StringChunked = (0..s.len())
                    .map(|i| s.get(i).ok().and_then(|v| any_value_to_json(&v, strip)))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_series().into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
        ),
        _ => e.cast(DataType::String),
    }
}

/// A map (list of {key, value} structs) or struct as JSON object text; None when empty.
fn any_value_to_json(v: &AnyValue, strip: Option<&str>) -> Option<String> {
    let mut map = serde_json::Map::new();
    let key = |k: String| match strip {
        Some(p) => k.strip_prefix(p).map(str::to_string).unwrap_or(k),
        None => k,
    };
    match v {
        AnyValue::List(inner) => {
            for item in inner.iter() {
                let fields = struct_fields(&item);
                let k = fields
                    .iter()
                    .find(|(n, _)| n == "key")
                    .and_then(|(_, v)| v.clone());
                let val = fields
                    .iter()
                    .find(|(n, _)| n == "value")
                    .and_then(|(_, v)| v.clone());
                if let (Some(k), Some(val)) = (k, val) {
                    map.insert(key(k), serde_json::Value::String(val));
                }
            }
        }
        AnyValue::Struct(_, _, _) | AnyValue::StructOwned(_) => {
            for (k, val) in struct_fields(v) {
                if let Some(val) = val {
                    map.insert(key(k), serde_json::Value::String(val));
                }
            }
        }
        _ => return None,
    }
    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
}

/// The (field name, value as text) pairs of a struct value.
pub(crate) fn struct_fields(v: &AnyValue) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    if let AnyValue::Struct(_, _, fields) = v {
        for (field, value) in fields.iter().zip(v._iter_struct_av()) {
            out.push((field.name().to_string(), scalar_text(&value)));
        }
    } else if let AnyValue::StructOwned(payload) = v {
        for (value, field) in payload.0.iter().zip(payload.1.iter()) {
            out.push((field.name().to_string(), scalar_text(value)));
        }
    }
    out
}

fn scalar_text(v: &AnyValue) -> Option<String> {
    match v {
        AnyValue::Null => None,
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

/// Extra columns of the aggregated frame.
pub const ROWS: &str = "__rows";
/// 0 = basis cost parsed, 1 = basis cost missing, 2 = basis cost not a number; groups of CSV
/// rows that could not be read have `STATUS_WRONG_FIELD_COUNT` or `STATUS_CUT_ROW`.
pub const BASIS_STATUS: &str = "__basis_status";
/// Status of a group of CSV rows with another number of fields than the header.
pub const STATUS_WRONG_FIELD_COUNT: i32 = 3;
/// Status of the last CSV row when the file ends inside it.
pub const STATUS_CUT_ROW: i32 = 4;
/// BilledCost > 0 and EffectiveCost = 0: with ChargeCategory Purchase, a commitment purchase.
pub const PREPAID_SHAPE: &str = "__prepaid_shape";

/// Expression: parse any column to decimal(38,18) money. Text is parsed exactly; numbers and
/// other types go through their text form; unparsable values become null.
pub fn money_expr(e: Expr) -> Expr {
    e.map(
        |c: Column| {
            let name = c.name().clone();
            let s = c.as_materialized_series();
            let decimal = DataType::Decimal(PRECISION, SCALE as usize);
            if let DataType::Decimal(_, _) = s.dtype() {
                return Ok(s.cast(&decimal)?.into_column());
            }
            let text = if s.dtype() == &DataType::String {
                s.clone()
            } else {
                s.cast(&DataType::String)?
            };
            let parsed: Int128Chunked = text
                .str()?
                .iter()
                .map(|v| v.and_then(|t| Money::parse(t).ok().map(|m| m.0)))
                .collect();
            Ok(parsed
                .with_name(name)
                .into_decimal_unchecked(PRECISION, SCALE as usize)
                .into_series()
                .into_column())
        },
        |_, f| {
            Ok(Field::new(
                f.name().clone(),
                DataType::Decimal(PRECISION, SCALE as usize),
            ))
        },
    )
}

/// A column's values as text: strings as they are, datetimes as ISO 8601 (UTC), dates as
/// `YYYY-MM-DD`, anything else through Polars' cast to string.
pub fn text_values(c: &Column) -> PolarsResult<Vec<Option<String>>> {
    let s = c.as_materialized_series();
    match s.dtype() {
        DataType::String => Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect()),
        DataType::Datetime(unit, _) => {
            let unit = *unit;
            let phys = s.to_physical_repr();
            let phys = phys.i64()?;
            Ok(phys
                .iter()
                .map(|v| v.and_then(|v| datetime_text(v, unit)))
                .collect())
        }
        DataType::Date => {
            let phys = s.to_physical_repr();
            let phys = phys.i32()?;
            Ok(phys
                .iter()
                .map(|v| {
                    v.and_then(|d| {
                        chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                            .and_then(|e| {
                                e.checked_add_signed(chrono::Duration::days(i64::from(d)))
                            })
                            .map(|d| d.format("%Y-%m-%d").to_string())
                    })
                })
                .collect())
        }
        _ => {
            let t = s.cast(&DataType::String)?;
            Ok(t.str()?.iter().map(|v| v.map(str::to_string)).collect())
        }
    }
}

fn datetime_text(v: i64, unit: TimeUnit) -> Option<String> {
    let dt = match unit {
        TimeUnit::Nanoseconds => chrono::DateTime::from_timestamp_nanos(v),
        TimeUnit::Microseconds => chrono::DateTime::from_timestamp_micros(v)?,
        TimeUnit::Milliseconds => chrono::DateTime::from_timestamp_millis(v)?,
    };
    Some(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(df: DataFrame, column: &str) -> Vec<Option<String>> {
        let out = df
            .lazy()
            .select([money_expr(col(column))])
            .collect()
            .unwrap();
        out.column(column)
            .unwrap()
            .decimal()
            .unwrap()
            .physical()
            .iter()
            .map(|v| v.map(|v| Money(v).to_string()))
            .collect()
    }

    #[test]
    fn money_expr_parses_text_floats_and_decimals_exactly() {
        let df = df!("c" => [Some("1.81E-2"), Some("abc"), None, Some(" 0.000000000000000001 "), Some("NaN")]).unwrap();
        assert_eq!(
            parsed(df, "c"),
            vec![
                Some("0.0181".into()),
                None,
                None,
                Some("0.000000000000000001".into()),
                None
            ]
        );
        let df = df!("f" => [0.1f64, -2.6137, 1e-9]).unwrap();
        assert_eq!(
            parsed(df, "f"),
            vec![
                Some("0.1".into()),
                Some("-2.6137".into()),
                Some("0.000000001".into())
            ]
        );
        let df = df!("i" => [3i64, -4]).unwrap();
        assert_eq!(parsed(df, "i"), vec![Some("3".into()), Some("-4".into())]);
    }

    #[test]
    fn text_values_render_datetimes_as_utc_iso() {
        let ms = Int64Chunked::from_vec("t".into(), vec![1_790_812_800_000])
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series()
            .into_column();
        assert_eq!(
            text_values(&ms).unwrap(),
            vec![Some("2026-10-01T00:00:00Z".to_string())]
        );
        assert_eq!(
            crate::ledger::billing_period("2026-10-01T00:00:00Z").as_deref(),
            Some("2026-10")
        );
    }

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
