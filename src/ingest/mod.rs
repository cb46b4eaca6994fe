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
pub mod oci;
pub mod parquet_direct;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_core::query_result::QueryResult;
use sha2::{Digest, Sha256};

use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::line;

/// How an input file is encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
    pub sha256: String,
}

/// Expands `--billing` arguments into a sorted, de-duplicated list of files.
/// A directory is searched recursively for `.csv`, `.csv.gz` and `.parquet` files.
pub fn resolve_paths(patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for pattern in patterns {
        let path = Path::new(pattern);
        let before = out.len();
        if path.is_file() {
            out.push(path.to_path_buf());
        } else if path.is_dir() {
            walk_dir(path, &mut out)?;
        } else if pattern.contains(['*', '?', '[']) {
            let entries = glob::glob(pattern).map_err(|e| Error::Usage {
                message: format!("invalid glob `{pattern}`: {e}"),
                hint: None,
            })?;
            for entry in entries.flatten() {
                if entry.is_file() && is_supported(&entry) {
                    out.push(entry);
                }
            }
        } else {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
        if out.len() == before {
            return Err(Error::NoInput {
                pattern: pattern.clone(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue; // hidden files and our own staging directories
        }
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else if is_supported(&p) {
            out.push(p);
        }
    }
    Ok(())
}

fn is_supported(p: &Path) -> bool {
    let name = p.to_string_lossy().to_lowercase();
    name.ends_with(".csv")
        || name.ends_with(".csv.gz")
        || name.ends_with(".parquet")
        || name.ends_with(".pq")
}

/// Hashes and sniffs a file (for small inputs: volumes, drivers).
pub fn inspect(path: &Path) -> Result<InputFile> {
    let mut f = sniff(path)?;
    f.sha256 = hash_file(path)?;
    Ok(f)
}

/// The encoding (magic bytes win over the name) and size of a file, without reading it all;
/// `sha256` is left empty for `hash_file` to fill.
pub fn sniff(path: &Path) -> Result<InputFile> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
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

/// An opened input: a lazy scan of the raw source columns (Parquet, JSON), or the header of a
/// CSV file whose rows `frames` reads in batches.
pub struct RawScan {
    pub file: InputFile,
    /// Set for JSON inputs, which are read whole into a frame of text columns.
    materialised: Option<DataFrame>,
    pub schema: SchemaRef,
    /// Whether the warning about a cut last row was given (once per file, not once per pass).
    warned: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Name of the row-number column added for the quarantine pass (1-based data rows).
pub const ROW_NUMBER: &str = "__mlcost_row";

/// Rows of a file as frames of raw columns, with the rows that could not be read.
pub type Frame = csv::Batch;

impl RawScan {
    /// Opens `file` and reads its schema. CSV columns are all read as text, so ids keep their
    /// leading zeros and money is never parsed through a float.
    pub fn open(file: InputFile) -> Result<RawScan> {
        if file.size == 0 {
            return Err(Error::Ingest {
                path: file.path.clone(),
                message: "the file is empty".into(),
                hint: Some(
                    "the export may still be being written; run again when it is complete".into(),
                ),
            });
        }
        let materialised = match file.kind {
            FileKind::Json => Some(read_json(&file.path)?),
            _ => None,
        };
        let mut scan = RawScan {
            file,
            materialised,
            schema: Arc::new(Schema::default()),
            warned: Default::default(),
        };
        let schema = if scan.is_csv() {
            csv::read_header(&scan.file.path, scan.file.kind)?
                .into_iter()
                .map(|n| Field::new(n.into(), DataType::String))
                .collect()
        } else {
            scan.lazy(false)?
                .collect_schema()
                .map_err(|source| scan.read_error(source))?
                .as_ref()
                .clone()
        };
        if schema.is_empty() {
            return Err(Error::Ingest {
                path: scan.file.path.clone(),
                message: "the file has no columns".into(),
                hint: Some("is the file empty?".into()),
            });
        }
        scan.schema = Arc::new(schema);
        Ok(scan)
    }

    /// CSV and CSV.gz: read in batches by `frames`, never as one lazy scan.
    pub fn is_csv(&self) -> bool {
        matches!(self.file.kind, FileKind::Csv | FileKind::CsvGz)
    }

    /// A fresh lazy scan of a Parquet or JSON input; with `row_numbers`, a 1-based data-row
    /// column is added. CSV inputs are read with `frames`.
    pub fn lazy(&self, row_numbers: bool) -> Result<LazyFrame> {
        let row_index = row_numbers.then(|| RowIndex {
            name: ROW_NUMBER.into(),
            offset: 1,
        });
        if let Some(df) = &self.materialised {
            let lf = df.clone().lazy();
            return Ok(match row_numbers {
                true => lf.with_row_index(ROW_NUMBER, Some(1)),
                false => lf,
            });
        }
        let path = PlRefPath::new(self.file.path.to_string_lossy().as_ref());
        let lf = match self.file.kind {
            FileKind::Json => {
                return Err(Error::Internal("JSON input was not materialised".into()))
            }
            FileKind::Csv | FileKind::CsvGz => {
                return Err(Error::Internal("CSV input is read in batches".into()))
            }
            FileKind::Parquet => LazyFrame::scan_parquet(
                path,
                ScanArgsParquet {
                    row_index,
                    low_memory: true,
                    ..Default::default()
                },
            ),
        };
        lf.map_err(|source| self.read_error(source))
    }

    /// A frame with the file's columns and no rows, for what depends only on the columns
    /// (format detection, the adapter's mapping, its notes and projection).
    pub fn plan_frame(&self) -> Result<LazyFrame> {
        if self.is_csv() {
            return Ok(DataFrame::empty_with_schema(&self.schema).lazy());
        }
        self.lazy(false)
    }

    /// The rows of the file as frames of its raw columns (`columns`, or all of them), with
    /// `ROW_NUMBER` when asked. CSV comes a batch at a time (one batch when `whole`), its
    /// unreadable rows in each frame's `bad`; Parquet and JSON as one collected frame.
    pub fn frames(
        &self,
        columns: Option<&[String]>,
        row_numbers: bool,
        whole: bool,
    ) -> Result<Frames> {
        if !self.is_csv() {
            let lf = self.lazy(row_numbers)?;
            let lf = match columns {
                Some(cols) => {
                    let mut sel: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
                    if row_numbers {
                        sel.insert(0, col(ROW_NUMBER));
                    }
                    lf.select(sel)
                }
                None => lf,
            };
            let frame = lf.collect().map_err(|e| self.read_error(e))?;
            return Ok(Frames::One(Some(Frame {
                frame,
                bad: Vec::new(),
            })));
        }
        let names: Vec<String> = self.schema.iter_names().map(|n| n.to_string()).collect();
        let projected: Vec<(usize, String)> = match columns {
            None => names.iter().cloned().enumerate().collect(),
            Some(cols) => {
                let mut out: Vec<(usize, String)> = Vec::with_capacity(cols.len());
                for c in cols {
                    if out.iter().any(|(_, n)| n == c) {
                        continue;
                    }
                    let i = names.iter().position(|n| n == c).ok_or_else(|| {
                        Error::Internal(format!("column `{c}` is not in the header"))
                    })?;
                    out.push((i, c.clone()));
                }
                out
            }
        };
        let batch_rows = match whole {
            true => usize::MAX,
            false => std::env::var("MLCOST_CSV_BATCH_ROWS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(csv::BATCH_ROWS),
        };
        let p = csv::Projection {
            columns: projected,
            row_number: row_numbers.then(|| ROW_NUMBER.to_string()),
            batch_rows,
            batch_bytes: if whole { usize::MAX } else { csv::BATCH_BYTES },
            warned: self.warned.clone(),
        };
        Ok(Frames::Csv(csv::batches(
            &self.file.path,
            self.file.kind,
            names.len(),
            p,
        )?))
    }

    pub fn read_error(&self, source: PolarsError) -> Error {
        Error::Read {
            path: self.file.path.clone(),
            source,
        }
    }
}

/// The frames of one read of a file (`RawScan::frames`).
pub enum Frames {
    One(Option<Frame>),
    Csv(csv::Batches),
}

impl Iterator for Frames {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        match self {
            Frames::One(f) => f.take().map(Ok),
            Frames::Csv(b) => b.next(),
        }
    }
}

/// Quarantine status of the rows `csv` could not read (see `BASIS_STATUS`).
pub fn bad_row_status(problem: &csv::RowProblem) -> i32 {
    match problem {
        csv::RowProblem::WrongFieldCount { .. } => STATUS_WRONG_FIELD_COUNT,
        csv::RowProblem::EndsInsideRow => STATUS_CUT_ROW,
    }
}

/// Why a row `csv` could not read is quarantined.
pub fn bad_row_reason(problem: &csv::RowProblem) -> crate::ledger::QuarantineReason {
    match problem {
        csv::RowProblem::WrongFieldCount { .. } => crate::ledger::QuarantineReason::WrongFieldCount,
        csv::RowProblem::EndsInsideRow => crate::ledger::QuarantineReason::FileEndsInsideRow,
    }
}

/// Reads a JSON input: Cost Explorer API responses, or GCP's newline-delimited export.
fn read_json(path: &Path) -> Result<DataFrame> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let head: String = text.chars().take(4096).collect();
    if head.contains("\"ResultsByTime\"") {
        cost_explorer::read_api_json(path, &text)
    } else {
        gcp::read_ndjson(path)
    }
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

/// One aggregated group of source rows with identical dimensions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceGroup {
    pub file: usize,
    /// Raw text of each entry of `line::DIMENSIONS`, in that order.
    pub dims: [Option<String>; 15],
    pub basis_status: i32,
    pub prepaid_shape: bool,
    /// Sums in `CostBasis::ALL` order; None when every row of the group was null there.
    pub costs: [Option<Money>; 4],
    pub rows: u64,
}

impl SourceGroup {
    pub fn dim(&self, name: &str) -> Option<&str> {
        let i = line::DIMENSIONS.iter().position(|d| *d == name)?;
        self.dims[i].as_deref()
    }

    pub fn cost(&self, basis: CostBasis) -> Option<Money> {
        let i = CostBasis::ALL.iter().position(|b| *b == basis)?;
        self.costs[i]
    }

    /// Adds the rows and costs of `other` (a group with the same dimensions, from another
    /// slice or file) to this one; the group stays filed under the lower file index. A cost
    /// stays None only when it was None on both sides.
    pub fn absorb(&mut self, other: &SourceGroup) {
        self.file = self.file.min(other.file);
        self.rows += other.rows;
        for (a, b) in self.costs.iter_mut().zip(other.costs) {
            *a = match (*a, b) {
                (Some(x), Some(y)) => Some(x + y),
                (x, y) => x.or(y),
            };
        }
    }
}

/// Aggregates normalised lines to `SourceGroup`s in one streaming pass over the file. A CSV
/// file is read in batches (`lines` only gives the plan: format and projection), each batch
/// normalised and grouped, the partial groups merged; its unreadable rows become groups of
/// their own status, quarantined by the ledger.
pub fn aggregate(
    lines: NormalisedLines,
    basis: CostBasis,
    file: usize,
    scan: &RawScan,
    format: SourceFormat,
) -> Result<Vec<SourceGroup>> {
    let mut keys: Vec<Expr> = line::DIMENSIONS.iter().map(|d| col(*d)).collect();
    keys.push(col(BASIS_STATUS));
    keys.push(col(PREPAID_SHAPE));
    let mut aggs: Vec<Expr> = line::COSTS
        .iter()
        .map(|c| col(*c).sum().alias(*c))
        .collect();
    // A sum over only nulls is 0 in Polars; keep "all null" visible as null.
    for c in line::COSTS {
        aggs.push(col(c).count().alias(format!("{c}__n")));
    }
    aggs.push(len().alias(ROWS));
    let run = |lf: LazyFrame| -> Result<Vec<SourceGroup>> {
        let df = with_status(lf, basis)
            .group_by(keys.clone())
            .agg(aggs.clone())
            .collect_with_engine(Engine::Streaming)
            .map_err(|source| scan.read_error(source))?;
        let QueryResult::Single(df) = df else {
            return Err(Error::Internal("multiple results from one query".into()));
        };
        groups_from_frame(&df, file).map_err(|source| scan.read_error(source))
    };
    let mut merged: HashMap<GroupKey, SourceGroup> = HashMap::new();
    let mut merge = |part: Vec<SourceGroup>| {
        for g in part {
            let key = (g.dims.clone(), g.basis_status, g.prepaid_shape);
            match merged.get_mut(&key) {
                Some(m) => m.absorb(&g),
                None => {
                    merged.insert(key, g);
                }
            }
        }
    };
    if scan.is_csv() {
        // Cost Explorer reshapes a whole (small, console-sized) file: one batch.
        let whole = format == SourceFormat::CostExplorer;
        for frame in scan.frames(lines.needed.as_deref(), false, whole)? {
            let frame = frame?;
            for bad in &frame.bad {
                merge(vec![SourceGroup {
                    file,
                    basis_status: bad_row_status(&bad.problem),
                    rows: 1,
                    ..SourceGroup::default()
                }]);
            }
            if frame.frame.height() > 0 {
                let batch = normalise(scan, format, frame.frame.lazy(), false, basis)?;
                merge(run(batch.lf)?);
            }
        }
        return Ok(merged.into_values().collect());
    }
    if scan.file.kind != FileKind::Parquet {
        return run(lines.lf);
    }
    // Parquet is aggregated a slice of rows at a time (the slice is pushed down to the row
    // groups) and the partial groups merged here: Polars' streaming group-by keeps partial
    // states per morsel, so one query over a whole large file grows with its rows.
    let slice_rows = std::env::var("MLCOST_PARQUET_SLICE_ROWS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(PARQUET_SLICE_ROWS);
    let mut offset: i64 = 0;
    loop {
        let part = run(lines.lf.clone().slice(offset, slice_rows as IdxSize))?;
        let rows: u64 = part.iter().map(|g| g.rows).sum();
        merge(part);
        if rows < slice_rows as u64 {
            break;
        }
        offset += slice_rows as i64;
    }
    Ok(merged.into_values().collect())
}

/// Adds the basis status and the prepaid shape of each line.
fn with_status(lf: LazyFrame, basis: CostBasis) -> LazyFrame {
    let basis_col = cost_column(basis);
    let raw_basis = format!("{basis_col}__raw");
    lf.with_column(
        when(col(basis_col).is_not_null())
            .then(lit(0i32))
            .when(col(raw_basis.as_str()).is_null())
            .then(lit(1i32))
            .otherwise(lit(2i32))
            .alias(BASIS_STATUS),
    )
    .with_column(
        (col(line::BILLED_COST)
            .gt(lit(0i32))
            .and(col(line::EFFECTIVE_COST).eq(lit(0i32))))
        .fill_null(lit(false))
        .alias(PREPAID_SHAPE),
    )
}

/// Rows aggregated per query when a Parquet file is read in slices (`MLCOST_PARQUET_SLICE_ROWS`
/// overrides it): smaller slices use less memory and take a little longer.
const PARQUET_SLICE_ROWS: usize = 1_000_000;

type GroupKey = ([Option<String>; 15], i32, bool);

/// The canonical cost column summed for `basis`.
pub fn cost_column(basis: CostBasis) -> &'static str {
    match basis {
        CostBasis::Effective => line::EFFECTIVE_COST,
        CostBasis::Billed => line::BILLED_COST,
        CostBasis::List => line::LIST_COST,
        CostBasis::Contracted => line::CONTRACTED_COST,
    }
}

fn groups_from_frame(df: &DataFrame, file: usize) -> PolarsResult<Vec<SourceGroup>> {
    let n = df.height();
    let mut groups = vec![
        SourceGroup {
            file,
            ..SourceGroup::default()
        };
        n
    ];
    for (d, name) in line::DIMENSIONS.iter().enumerate() {
        let values = text_values(df.column(name)?)?;
        for (g, v) in groups.iter_mut().zip(values) {
            g.dims[d] = v;
        }
    }
    let status = df
        .column(BASIS_STATUS)?
        .as_materialized_series()
        .i32()?
        .clone();
    let prepaid = df
        .column(PREPAID_SHAPE)?
        .as_materialized_series()
        .bool()?
        .clone();
    let rows = df
        .column(ROWS)?
        .as_materialized_series()
        .cast(&DataType::UInt64)?;
    let rows = rows.u64()?;
    for (i, g) in groups.iter_mut().enumerate() {
        g.basis_status = status.get(i).unwrap_or(0);
        g.prepaid_shape = prepaid.get(i).unwrap_or(false);
        g.rows = rows.get(i).unwrap_or(0);
    }
    for (k, c) in line::COSTS.iter().enumerate() {
        let sums = df
            .column(c)?
            .as_materialized_series()
            .decimal()?
            .physical()
            .clone();
        let counts = df
            .column(&format!("{c}__n"))?
            .as_materialized_series()
            .cast(&DataType::UInt64)?;
        let counts = counts.u64()?;
        for (i, g) in groups.iter_mut().enumerate() {
            g.costs[k] = match counts.get(i) {
                Some(n) if n > 0 => Some(Money(sums.get(i).unwrap_or(0))),
                _ => None,
            };
        }
    }
    Ok(groups)
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

/// A source row that was not counted, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QuarantinedRow {
    pub file: PathBuf,
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub column: String,
    pub reason: String,
    pub value: String,
}

/// Second, filtered pass over a file whose aggregation found bad groups: lists each bad row.
/// Only runs when something was quarantined, so clean files are read once.
pub fn quarantine_rows(
    scan: &RawScan,
    basis: CostBasis,
    bad_periods: &[String],
    bad_currencies: &[String],
    period_filter: Option<&str>,
    format: SourceFormat,
) -> Result<Vec<QuarantinedRow>> {
    let filter = RowFilter {
        basis,
        bad_periods,
        bad_currencies,
        period_filter,
    };
    if !scan.is_csv() {
        let lines = normalise(scan, format, scan.lazy(true)?, true, basis)?;
        return filter.rows(scan, lines.lf);
    }
    let plan = normalise(scan, format, scan.plan_frame()?, true, basis)?;
    let whole = format == SourceFormat::CostExplorer;
    let mut out = Vec::new();
    for frame in scan.frames(plan.needed.as_deref(), true, whole)? {
        let frame = frame?;
        for bad in &frame.bad {
            let reason = bad_row_reason(&bad.problem);
            out.push(QuarantinedRow {
                file: scan.file.path.clone(),
                row: bad.row,
                column: reason.column().to_string(),
                reason: reason.message(),
                value: bad.problem.value(),
            });
        }
        if frame.frame.height() > 0 {
            let lines = normalise(scan, format, frame.frame.lazy(), true, basis)?;
            out.extend(filter.rows(scan, lines.lf)?);
        }
    }
    out.sort_by_key(|r| r.row);
    Ok(out)
}

/// Which normalised lines `quarantine_rows` lists.
struct RowFilter<'a> {
    basis: CostBasis,
    bad_periods: &'a [String],
    bad_currencies: &'a [String],
    period_filter: Option<&'a str>,
}

impl RowFilter<'_> {
    /// The quarantined rows among normalised lines that carry `ROW_NUMBER`.
    fn rows(&self, scan: &RawScan, lf: LazyFrame) -> Result<Vec<QuarantinedRow>> {
        use crate::ledger::{billing_period, currency_code, quarantine_reason};
        let basis = self.basis;
        let cost = cost_column(basis);
        let raw = format!("{cost}__raw");
        let period = col(line::BILLING_PERIOD_START);
        let currency = col(line::BILLING_CURRENCY);
        let mut pred = col(cost)
            .is_null()
            .or(period.clone().is_null())
            .or(currency.clone().is_null());
        for p in self.bad_periods {
            pred = pred.or(period.clone().cast(DataType::String).eq(lit(p.as_str())));
        }
        for c in self.bad_currencies {
            pred = pred.or(currency.clone().cast(DataType::String).eq(lit(c.as_str())));
        }
        let df = lf
            .filter(pred)
            .select([
                col(ROW_NUMBER),
                col(line::BILLING_PERIOD_START),
                col(line::BILLING_CURRENCY),
                col(cost),
                col(raw.as_str()).cast(DataType::String),
            ])
            .collect_with_engine(Engine::Streaming)
            .map_err(|e| scan.read_error(e))?;
        let QueryResult::Single(df) = df else {
            return Err(Error::Internal("multiple results from one query".into()));
        };
        let get = |name: &str| {
            df.column(name)
                .and_then(text_values)
                .map_err(|e| scan.read_error(e))
        };
        let rows = get(ROW_NUMBER)?;
        let periods = get(line::BILLING_PERIOD_START)?;
        let currencies = get(line::BILLING_CURRENCY)?;
        let parsed = get(cost)?;
        let raws = get(&raw)?;
        let mut out = Vec::new();
        for i in 0..df.height() {
            let status = match (&parsed[i], &raws[i]) {
                (Some(_), _) => 0,
                (None, None) => 1,
                (None, Some(_)) => 2,
            };
            let p = periods[i].as_deref();
            let c = currencies[i].as_deref();
            let parsed_period = p.and_then(billing_period);
            if self
                .period_filter
                .is_some_and(|f| parsed_period.as_deref().is_some_and(|pp| pp != f))
            {
                continue; // another month: outside this run, as in the ledger
            }
            let parsed_currency = c.and_then(currency_code);
            let Some(reason) = quarantine_reason(
                basis,
                status,
                p,
                parsed_period.as_ref(),
                c,
                parsed_currency.as_deref(),
            ) else {
                continue;
            };
            let value = match reason.column() {
                "BillingPeriodStart" => p,
                "BillingCurrency" => c,
                _ => raws[i].as_deref(),
            };
            out.push(QuarantinedRow {
                file: scan.file.path.clone(),
                row: rows[i].as_deref().and_then(|r| r.parse().ok()).unwrap_or(0),
                column: reason.column().to_string(),
                reason: reason.message(),
                value: value.unwrap_or("").chars().take(200).collect(),
            });
        }
        Ok(out)
    }
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
        assert!(matches!(resolve_paths(&[missing]), Err(Error::Io { .. })));
        let glob = dir.path().join("*.csv").display().to_string();
        assert!(matches!(resolve_paths(&[glob]), Err(Error::NoInput { .. })));
        std::fs::write(dir.path().join("b.csv"), "x").unwrap();
        std::fs::write(dir.path().join("a.parquet"), "x").unwrap();
        std::fs::write(dir.path().join("c.txt"), "x").unwrap();
        let found = resolve_paths(&[dir.path().display().to_string()]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["a.parquet", "b.csv"]);
    }
}
