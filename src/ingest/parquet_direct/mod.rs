//! The fast path for Parquet inputs whose canonical columns are plain source columns (FOCUS
//! exports as they are usually delivered) or the AWS CUR mapping, which `cur` evaluates:
//! aggregates on the Parquet dictionary keys of each row group, so each distinct text is looked
//! at once per row group instead of once per row, and sums decimal costs as `i128` at the
//! column's own scale. Timestamp, date and integer dimensions are folded on their numbers (each
//! distinct value rendered once, as the Polars path renders it); Tags given as a map or struct
//! of texts are read on the dictionary keys of their entries (each distinct set of entries
//! turned into JSON text once per worker); float and text costs become the decimal of their
//! text, by the same rule as the Polars path (`zmij`'s shortest round trip, then
//! `Money::parse`). Row groups of all such files are read in parallel. It gives exactly the
//! groups `aggregate` gives (tests compare the two on Parquet files they write, with every
//! column type and CUR case it reads); a file it cannot read this way (another computed column,
//! an unusual column type, a cost that does not parse, a read error) goes through the Polars
//! path, which also produces the error message and the quarantine reasons when the file is bad.
//! One concern (reading Parquet on its dictionary keys) in one file, CUR's mapping aside: the
//! plan, the per-row-group fold and the merge share their key layout.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Decimal32Type, Decimal64Type, Float32Type, Float64Type, Int32Type,
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{
    DataType as ArrowType, Field as ArrowField, Schema as ArrowSchema, TimeUnit as ArrowUnit,
};
use foldhash::fast::FixedState;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;

use super::SourceGroup;
use crate::config::CostBasis;
use crate::money::{Money, SCALE};
use crate::schema::line;
pub use cur::CurColumns;
use cur::{CurPlan, CurPositions, Derive};
use polars::prelude::TimeUnit;

/// Positions of the billing period, currency and tags in `schema::line::DIMENSIONS`.
const PERIOD: usize = 0;
const CURRENCY: usize = 1;
const PROVIDER: usize = 2;
const CHARGE_CATEGORY: usize = 11;
const COMMITMENT_STATUS: usize = 13;
const TAGS: usize = 14;
const CHARGE_PERIOD: usize = 15;

/// Canonical columns that are a source column as it is (see `Canonical::direct`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectColumns {
    /// Source column of each entry of `line::DIMENSIONS`, if mapped.
    pub dims: [Option<String>; line::DIMENSION_COUNT],
    /// Source column of each entry of `line::COSTS`, if mapped.
    pub costs: [Option<String>; 4],
    /// AWS CUR: the mapping the fast path evaluates itself (`cur`); its costs, provider,
    /// charge category, commitment status and tags come from here.
    pub cur: Option<CurColumns>,
}

/// How a cost column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CostKind {
    /// Decimal or integer, summed at this scale.
    Exact(u32),
    /// float or double: the decimal of its shortest round-trip text.
    Float,
    /// Text, parsed by `Money::parse`.
    Text,
}

impl CostKind {
    /// The scale of the column's `i128` values.
    fn scale(self) -> u32 {
        match self {
            CostKind::Exact(s) => s,
            CostKind::Float | CostKind::Text => SCALE,
        }
    }
}

/// Rows decoded at a time: bounds memory whatever the writer's row-group size.
const BATCH_ROWS: usize = 262_144;
/// Cells (rows x columns read) decoded at a time: a CUR with hundreds of tag columns is read
/// in shorter batches (72,315 rows of 232 columns), so its memory stays that of a narrow file.
const BATCH_CELLS: usize = 1 << 24;

/// A Parquet file that the fast path can read: its metadata with the dimension columns asked
/// for as dictionaries, and where each canonical column is in the projection.
pub struct DirectPlan {
    path: PathBuf,
    /// Index given to the file's groups (`SourceGroup::file`).
    file: usize,
    metadata: ArrowReaderMetadata,
    /// Column (a root of the file's schema) of each dimension, if mapped.
    dim_col: [Option<usize>; line::DIMENSION_COUNT],
    /// How each dimension's text comes from its column's.
    derive: [Derive; line::DIMENSION_COUNT],
    /// Dimensions with the same text in every row.
    constant: [Option<&'static str>; line::DIMENSION_COUNT],
    /// Prefix taken off the keys of map or struct tags.
    tag_strip: Option<&'static str>,
    /// AWS CUR: the columns of the mapping's costs and tags.
    cur: Option<CurPlan>,
    /// The Parquet leaf column of each root that is one flat column (for its statistics).
    leaf: Vec<Option<usize>>,
    /// Column and kind of each cost, if mapped.
    cost_col: [Option<(usize, CostKind)>; 4],
    basis: usize,
    row_groups: usize,
}

impl DirectPlan {
    /// Checks the file's column types; `Err` says why the Polars path must read it instead.
    pub fn new(
        path: &Path,
        file: usize,
        direct: &DirectColumns,
        basis: CostBasis,
    ) -> Result<DirectPlan, String> {
        let reader = File::open(path).map_err(|e| e.to_string())?;
        // the reader's panics on a corrupted footer are a reason to leave the file to Polars
        let plain = crate::error::catch_panic(|| {
            ArrowReaderMetadata::load(
                &reader,
                ArrowReaderOptions::new().with_skip_arrow_metadata(true),
            )
        })?
        .map_err(|e| e.to_string())?;
        let schema = plain.schema().clone();
        // the Arrow types a writer stored (pyarrow, Polars), which Polars reads by: a column
        // stored as another type than its Parquet type gives (a categorical, a duration) is
        // left to Polars, so both paths read it alike
        let stored = crate::error::catch_panic(|| {
            ArrowReaderMetadata::load(&reader, ArrowReaderOptions::new())
        })?
        .map_err(|e| e.to_string())?
        .schema()
        .clone();
        let index = |name: &str| -> Result<usize, String> {
            schema
                .index_of(name)
                .map_err(|_| format!("`{name}` is not a top-level column"))
        };
        let mut fields: Vec<ArrowField> =
            schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut dim_cols = [None; line::DIMENSION_COUNT];
        let parquet_schema = plain.parquet_schema();
        let same_as_stored = |name: &str, i: usize| -> Result<(), String> {
            let derived = schema.field(i).data_type();
            let kept = stored
                .field_with_name(name)
                .map(|f| f.data_type().clone())
                .unwrap_or_else(|_| derived.clone());
            let text = |t: &ArrowType| match t {
                ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => true,
                ArrowType::Dictionary(_, v) => {
                    matches!(
                        **v,
                        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
                    )
                }
                _ => false,
            };
            let alike = kept == *derived
                || (text(&kept) && text(derived))
                || matches!(
                    (&kept, derived),
                    (ArrowType::Timestamp(_, _), ArrowType::Timestamp(_, _))
                )
                || (tag_pairs(&kept) && tag_pairs(derived));
            // INT96 (Spark's legacy timestamps): the readers differ outside 1677-2262
            let int96 = (0..parquet_schema.num_columns()).any(|leaf| {
                parquet_schema.get_column_root_idx(leaf) == i
                    && parquet_schema.column(leaf).physical_type() == parquet::basic::Type::INT96
            });
            match (alike, int96) {
                (true, false) => Ok(()),
                (_, true) => Err(format!("`{name}` is an INT96 timestamp")),
                (false, _) => Err(format!("`{name}` is stored as {kept}, not {derived}")),
            }
        };
        for (d, name) in direct.dims.iter().enumerate() {
            let Some(name) = name else { continue };
            let i = index(name)?;
            same_as_stored(name, i)?;
            match fields[i].data_type() {
                ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
                    let f = fields[i].clone().with_data_type(ArrowType::Dictionary(
                        Box::new(ArrowType::Int32),
                        Box::new(ArrowType::Utf8),
                    ));
                    fields[i] = f;
                }
                ArrowType::Dictionary(_, v) if **v == ArrowType::Utf8 => {}
                // folded on their numbers, rendered as text once per distinct value
                ArrowType::Timestamp(_, _)
                | ArrowType::Date32
                | ArrowType::Int32
                | ArrowType::Int64 => {}
                // tags as a map or struct of texts: JSON text per distinct set of entries
                t if d == TAGS && tag_pairs(t) => {
                    fields[i] = fields[i].clone().with_data_type(with_dictionary_texts(t));
                }
                other => return Err(format!("`{name}` is {other}, not text")),
            }
            dim_cols[d] = Some(i);
        }
        let mut cost_cols = [None; 4];
        for (k, name) in direct.costs.iter().enumerate() {
            let Some(name) = name else { continue };
            let i = index(name)?;
            same_as_stored(name, i)?;
            cost_cols[k] = Some((i, cost_kind(name, fields[i].data_type())?));
        }
        let (mut derive, mut constant, mut tag_strip) = (
            [Derive::AsIs; line::DIMENSION_COUNT],
            [None; line::DIMENSION_COUNT],
            None,
        );
        derive[CHARGE_PERIOD] = Derive::Day;
        let mut cur = None;
        if let Some(c) = &direct.cur {
            // every column of the mapping must be one the fast path reads as text or as money
            let mut text_column = |name: &str| -> Result<usize, String> {
                let i = index(name)?;
                same_as_stored(name, i)?;
                match fields[i].data_type() {
                    ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
                        fields[i] = fields[i].clone().with_data_type(ArrowType::Dictionary(
                            Box::new(ArrowType::Int32),
                            Box::new(ArrowType::Utf8),
                        ));
                        Ok(i)
                    }
                    ArrowType::Dictionary(_, v) if **v == ArrowType::Utf8 => Ok(i),
                    other => Err(format!("`{name}` is {other}, not text")),
                }
            };
            let item_type = text_column(&c.item_type)?;
            let reservation_arn = c
                .reservation_arn
                .as_deref()
                .map(&mut text_column)
                .transpose()?;
            let tag_columns = c
                .tag_columns
                .iter()
                .map(|(name, key)| Ok((text_column(name)?, key.clone())))
                .collect::<Result<Vec<_>, String>>()?;
            if let Some(map) = &c.tag_map {
                let i = index(map)?;
                same_as_stored(map, i)?;
                let t = fields[i].data_type().clone();
                if !tag_pairs(&t) {
                    return Err(format!("`{map}` is {t}, not a map of texts"));
                }
                fields[i] = fields[i].clone().with_data_type(with_dictionary_texts(&t));
                dim_cols[TAGS] = Some(i);
                tag_strip = Some(crate::ingest::aws::TAG_PREFIX);
            }
            let money = |name: &str| -> Result<(usize, CostKind), String> {
                let i = index(name)?;
                same_as_stored(name, i)?;
                Ok((i, cost_kind(name, fields[i].data_type())?))
            };
            let parts = c.parts.clone().map(|p| p.map(|p| money(&p)));
            let mut parts_read = [None; 6];
            for (k, part) in parts.into_iter().enumerate() {
                parts_read[k] = part.transpose()?;
            }
            for (d, how) in [
                (CHARGE_CATEGORY, Derive::Category),
                (COMMITMENT_STATUS, Derive::Status),
            ] {
                dim_cols[d] = Some(item_type);
                derive[d] = how;
            }
            constant[PROVIDER] = Some(crate::ingest::aws::PROVIDER);
            cur = Some(CurPlan {
                item_type,
                unblended: money(&c.unblended)?,
                list: c.list.as_deref().map(money).transpose()?,
                parts: parts_read,
                reservation_arn,
                tag_columns,
            });
        }
        let mut leaves: Vec<Vec<usize>> = vec![Vec::new(); schema.fields().len()];
        for leaf in 0..parquet_schema.num_columns() {
            if let Some(l) = leaves.get_mut(parquet_schema.get_column_root_idx(leaf)) {
                l.push(leaf);
            }
        }
        let leaf = leaves
            .iter()
            .zip(schema.fields())
            .map(|(l, f)| match l[..] {
                [one] if !f.data_type().is_nested() => Some(one),
                _ => None,
            })
            .collect();
        let options = ArrowReaderOptions::new().with_schema(Arc::new(ArrowSchema::new(fields)));
        let metadata = ArrowReaderMetadata::try_new(plain.metadata().clone(), options)
            .map_err(|e| e.to_string())?;
        let row_groups = metadata.metadata().num_row_groups();
        Ok(DirectPlan {
            path: path.to_path_buf(),
            file,
            metadata,
            dim_col: dim_cols,
            derive,
            constant,
            tag_strip,
            cur,
            leaf,
            cost_col: cost_cols,
            basis: CostBasis::ALL.iter().position(|b| *b == basis).unwrap_or(0),
            row_groups,
        })
    }

    pub fn file(&self) -> usize {
        self.file
    }
}

/// How a cost column of type `t` is read; `Err` when it is not a number or text.
fn cost_kind(name: &str, t: &ArrowType) -> Result<CostKind, String> {
    let kind = match t {
        ArrowType::Decimal32(_, s) | ArrowType::Decimal64(_, s) | ArrowType::Decimal128(_, s) => {
            u32::try_from(*s)
                .ok()
                .filter(|s| *s <= SCALE)
                .map(CostKind::Exact)
        }
        ArrowType::Int32 | ArrowType::Int64 => Some(CostKind::Exact(0)),
        ArrowType::Float32 | ArrowType::Float64 => Some(CostKind::Float),
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => Some(CostKind::Text),
        _ => None,
    };
    kind.ok_or_else(|| format!("`{name}` is {t}, not a number or text"))
}

/// Sums of one group, as money (scale 18) once out of a batch.
#[derive(Debug, Clone, Copy)]
struct Acc {
    sums: [i128; 4],
    non_null: [u64; 4],
    rows: u64,
    /// The lowest file index that contributed (the file a merged group is filed under).
    file: usize,
}

impl Default for Acc {
    fn default() -> Acc {
        Acc {
            sums: [0; 4],
            non_null: [0; 4],
            rows: 0,
            file: usize::MAX,
        }
    }
}

impl Acc {
    fn merge(&mut self, o: &Acc) -> Result<(), String> {
        self.file = self.file.min(o.file);
        for k in 0..4 {
            self.sums[k] = self.sums[k]
                .checked_add(o.sums[k])
                .ok_or_else(|| "a cost sum overflows".to_string())?;
            self.non_null[k] += o.non_null[k];
        }
        self.rows += o.rows;
        Ok(())
    }
}

/// Key of a group across row groups and files: the plan index only for a group that will be
/// quarantined (its file is named in the quarantine report; counted groups of all files
/// merge), interned text of each dimension (0 = null), basis status and prepaid shape.
type GlobalKey = (Option<usize>, [u32; line::DIMENSION_COUNT], u8, bool);

/// How a timestamp, date or integer dimension becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Number {
    Datetime(TimeUnit),
    Date,
    Integer,
}

/// A dictionary's values array and the interned id of each value.
type InternedDictionary = (ArrayRef, Arc<Vec<u32>>);

/// What one worker has read: its interned texts and groups.
#[derive(Default)]
struct Worker {
    ids: HashMap<Arc<str>, u32, FixedState>,
    texts: Vec<Arc<str>>,
    groups: HashMap<GlobalKey, Acc, FixedState>,
    /// Per plan and interned currency: the sums of the counted rows (basis cost present,
    /// currency a code), for the per-file reconciliation totals.
    totals: HashMap<(usize, u32), Acc, FixedState>,
    /// Rows read per plan.
    rows: HashMap<usize, u64, FixedState>,
    /// Whether an interned billing period (0) or currency (1) text parses.
    parses: HashMap<(u8, u32), bool, FixedState>,
    /// Interned id (0 = null) of each timestamp, date or integer dimension value, rendered once.
    numbers: HashMap<(Number, i64), u32, FixedState>,
    /// Interned id (0 = none) of the charge day of each charge-period text, parsed once.
    days: HashMap<Box<str>, u32, FixedState>,
    /// Interned JSON text (0: none) of each distinct run of tag entries (interned key and
    /// value ids) seen: one entry per distinct tag set, whichever batch or file it is in.
    tag_sets: HashMap<Box<[u64]>, u32, FixedState>,
    /// Interned ids of the values of each live dictionary of the row group being read, by the
    /// values array (held, so its address is not reused) and what was derived from them: the
    /// reader gives every batch of a column chunk the same dictionary, interned once.
    dictionaries: HashMap<(usize, u8), InternedDictionary, FixedState>,
    /// Buffers reused from batch to batch: row keys and group index of each row.
    keys: Vec<u128>,
    index: Vec<u32>,
}

impl Worker {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let t: Arc<str> = Arc::from(text);
        self.texts.push(t.clone());
        // ids start at 1: 0 is null
        let id = self.texts.len() as u32;
        self.ids.insert(t, id);
        id
    }

    /// The interned id (`id_of`) of each value of a dictionary's `values`, computed once per
    /// values array; `how` tells what `id_of` derives (two derivations of one dictionary differ).
    fn dictionary_ids(
        &mut self,
        values: &ArrayRef,
        how: u8,
        id_of: impl Fn(&mut Worker, Option<&str>) -> u32,
    ) -> Result<Arc<Vec<u32>>, String> {
        let key = (Arc::as_ptr(values) as *const u8 as usize, how);
        if let Some((_, ids)) = self.dictionaries.get(&key) {
            return Ok(ids.clone());
        }
        let texts = Texts::of(values)?;
        let ids: Vec<u32> = (0..values.len())
            .map(|k| id_of(self, texts.get(k)))
            .collect();
        let ids = Arc::new(ids);
        // a dictionary only this cache still holds is gone from the reader (a batch's own,
        // packed from plain pages): dropped, so the cache holds the live ones only
        self.dictionaries
            .retain(|_, (values, _)| Arc::strong_count(values) > 1);
        self.dictionaries.insert(key, (values.clone(), ids.clone()));
        Ok(ids)
    }

    /// The interned id of a number dimension's text, as the Polars path renders it (0 when
    /// it has none: a datetime or date out of range is null there too).
    fn number(&mut self, kind: Number, v: i64) -> u32 {
        if let Some(id) = self.numbers.get(&(kind, v)) {
            return *id;
        }
        let text = match kind {
            Number::Datetime(unit) => crate::ingest::datetime_text(v, unit),
            Number::Date => i32::try_from(v).ok().and_then(crate::ingest::date_text),
            Number::Integer => Some(v.to_string()),
        };
        let id = text.map_or(0, |t| self.intern(&t));
        self.numbers.insert((kind, v), id);
        id
    }

    /// The interned id of the charge day (`ingest::charge_day`) of a charge-period text; 0 for
    /// none.
    fn day_id(&mut self, text: Option<&str>) -> u32 {
        let Some(text) = text else { return 0 };
        if let Some(id) = self.days.get(text) {
            return *id;
        }
        let id = crate::ingest::charge_day(text).map_or(0, |d| self.intern(&d));
        self.days.insert(text.into(), id);
        id
    }

    /// Whether the interned text `id` (0 = null) is a billing period (`what` 0) or a
    /// currency code (1), as the ledger will parse it.
    fn parses(&mut self, what: u8, id: u32) -> bool {
        if id == 0 {
            return false;
        }
        if let Some(ok) = self.parses.get(&(what, id)) {
            return *ok;
        }
        let text = &self.texts[id as usize - 1];
        let ok = match what {
            0 => crate::ingest::billing_period(text).is_some(),
            _ => crate::ingest::currency_code(text).is_some(),
        };
        self.parses.insert((what, id), ok);
        ok
    }
}

/// What the fast path read of one file: its rows and the totals per currency and basis of
/// its counted rows (`ingest::file_totals` for that file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSummary {
    pub rows: u64,
    pub totals: BTreeMap<String, BTreeMap<&'static str, Money>>,
}

/// The result of `aggregate`: per plan its summary, or why the Polars path must read it;
/// and the groups of all the plans that were read, merged across files.
#[derive(Debug, Default)]
pub struct DirectRead {
    pub files: Vec<Result<FileSummary, String>>,
    pub groups: Vec<SourceGroup>,
}

/// Aggregates every planned file, row groups in parallel. A plan that fails (a read error, an
/// overflow) is left to the Polars path and the others are read again without it, so nothing
/// of a failed file is kept.
pub fn aggregate(plans: &[DirectPlan]) -> DirectRead {
    let mut files: Vec<Result<FileSummary, String>> = vec![Ok(FileSummary::default()); plans.len()];
    loop {
        let active: Vec<usize> = (0..plans.len()).filter(|p| files[*p].is_ok()).collect();
        if active.is_empty() {
            return DirectRead {
                files,
                groups: Vec::new(),
            };
        }
        match read_plans(plans, &active) {
            Ok(read) => {
                for (p, summary) in read.files.into_iter().enumerate() {
                    if files[p].is_ok() {
                        files[p] = summary;
                    }
                }
                return DirectRead {
                    files,
                    groups: read.groups,
                };
            }
            Err(failed) => {
                for (p, why) in failed {
                    files[p] = Err(why);
                }
            }
        }
    }
}

/// One pass over the row groups of the `active` plans; `Err` lists the plans that failed.
fn read_plans(plans: &[DirectPlan], active: &[usize]) -> Result<DirectRead, Vec<(usize, String)>> {
    let units: Vec<(usize, usize)> = active
        .iter()
        .flat_map(|&p| (0..plans[p].row_groups).map(move |rg| (p, rg)))
        .collect();
    // One worker per thread, taking the next row group from a shared counter: a few large
    // workers merge faster than one per rayon split, and a slow row group does not hold up
    // the others.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = rayon::current_num_threads().clamp(1, units.len().max(1));
    let results: Vec<(Worker, Vec<(usize, String)>)> = (0..threads)
        .into_par_iter()
        .map(|_| {
            let (mut w, mut failed) = (Worker::default(), Vec::<(usize, String)>::new());
            loop {
                let u = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(p, rg)) = units.get(u) else { break };
                if failed.iter().any(|(f, _)| *f == p) {
                    continue;
                }
                // a panic in the reader (a corrupted page) fails the file like an error: the
                // pass is read again without it, so what it added to `w` is dropped
                let read = crate::error::catch_panic(|| read_row_group(plans, p, rg, &mut w));
                if let Err(e) = read.and_then(|r| r) {
                    failed.push((p, e));
                }
            }
            (w, failed)
        })
        .collect();
    let mut failed: Vec<(usize, String)> = results.iter().flat_map(|(_, f)| f.clone()).collect();
    // Merge the workers on the texts themselves.
    type TextKey = (
        Option<usize>,
        [Option<Arc<str>>; line::DIMENSION_COUNT],
        u8,
        bool,
    );
    let mut merged: HashMap<TextKey, Acc, FixedState> = HashMap::default();
    let mut files = vec![FileSummary::default(); plans.len()];
    for (w, _) in &results {
        for ((p, ids, status, prepaid), acc) in &w.groups {
            let dims = ids.map(|id| (id > 0).then(|| w.texts[id as usize - 1].clone()));
            if let Err(e) = merged
                .entry((*p, dims, *status, *prepaid))
                .or_default()
                .merge(acc)
            {
                failed.push((p.unwrap_or(active[0]), e));
            }
        }
        for ((p, currency), acc) in &w.totals {
            // counted rows have a currency that parses
            let Some(code) = crate::ingest::currency_code(&w.texts[*currency as usize - 1]) else {
                continue;
            };
            let per = files[*p].totals.entry(code).or_default();
            for (k, basis) in CostBasis::ALL.iter().enumerate() {
                if acc.non_null[k] > 0 {
                    *per.entry(basis.name()).or_default() += Money(acc.sums[k]);
                }
            }
        }
        for (p, rows) in &w.rows {
            files[*p].rows += rows;
        }
    }
    if !failed.is_empty() {
        return Err(failed);
    }
    let groups = merged
        .into_iter()
        .map(|((_, dims, status, prepaid), acc)| SourceGroup {
            file: acc.file,
            dims: dims.map(|d| d.map(|t| t.to_string())),
            basis_status: status_of(status),
            prepaid_shape: prepaid,
            costs: std::array::from_fn(|k| (acc.non_null[k] > 0).then_some(Money(acc.sums[k]))),
            rows: acc.rows,
        })
        .collect();
    Ok(DirectRead {
        files: files.into_iter().map(Ok).collect(),
        groups,
    })
}

/// Where each canonical column is in the batches of one row group.
struct Positions {
    dims: [Option<usize>; line::DIMENSION_COUNT],
    costs: [Option<usize>; 4],
    cur: Option<CurPositions>,
}

/// Reads one row group in batches and adds its groups to the worker's. A text column that
/// the row group's statistics say is all null is not read at all.
fn read_row_group(plans: &[DirectPlan], p: usize, rg: usize, w: &mut Worker) -> Result<(), String> {
    let plan = &plans[p];
    let meta = plan.metadata.metadata().row_group(rg);
    // dictionaries are a row group's own
    w.dictionaries.clear();
    let all_null = |c: usize| {
        plan.leaf[c].is_some_and(|leaf| {
            meta.column(leaf)
                .statistics()
                .and_then(|s| s.null_count_opt())
                .is_some_and(|n| i64::try_from(n).ok() == Some(meta.num_rows()))
        })
    };
    // (a derived dimension has a text for null too: it is read)
    let mut dims = plan.dim_col;
    for (d, c) in dims.iter_mut().enumerate() {
        if matches!(plan.derive[d], Derive::AsIs | Derive::Day) && c.is_some_and(all_null) {
            *c = None;
        }
    }
    let cur_columns = plan.cur.iter().flat_map(|c| {
        let costs = [Some(c.unblended), c.list].into_iter().chain(c.parts);
        costs
            .flatten()
            .map(|(i, _)| i)
            .chain([c.item_type])
            .chain(c.reservation_arn)
            .chain(
                c.tag_columns
                    .iter()
                    .map(|(i, _)| *i)
                    .filter(|i| !all_null(*i)),
            )
    });
    let mut projected: Vec<usize> = dims
        .iter()
        .flatten()
        .copied()
        .chain(plan.cost_col.iter().flatten().map(|(c, _)| *c))
        .chain(cur_columns)
        .collect();
    projected.sort_unstable();
    projected.dedup();
    let pos = |c: usize| projected.iter().position(|x| *x == c);
    let positions = Positions {
        dims: dims.map(|c| c.and_then(pos)),
        costs: plan.cost_col.map(|c| c.and_then(|(c, _)| pos(c))),
        cur: plan.cur.as_ref().map(|c| CurPositions {
            item_type: pos(c.item_type),
            unblended: pos(c.unblended.0),
            list: c.list.and_then(|(i, _)| pos(i)),
            parts: c.parts.map(|p| p.and_then(|(i, _)| pos(i))),
            reservation_arn: c.reservation_arn.and_then(pos),
            tag_columns: c
                .tag_columns
                .iter()
                .enumerate()
                .filter_map(|(k, (i, _))| Some((pos(*i)?, k)))
                .collect(),
        }),
    };
    let mask = ProjectionMask::roots(plan.metadata.parquet_schema(), projected.iter().copied());
    let leaves = (0..plan.metadata.parquet_schema().num_columns())
        .filter(|leaf| mask.leaf_included(*leaf))
        .count();
    let batch_rows = (BATCH_CELLS / leaves.max(1)).clamp(4_096, BATCH_ROWS);
    let file = File::open(&plan.path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, plan.metadata.clone())
        .with_projection(mask)
        .with_row_groups(vec![rg])
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| e.to_string())?;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        add_batch(plan, p, &positions, &batch, w)?;
    }
    Ok(())
}

/// Folds one text column of a batch into the row keys (`key = key * radix + code`, code 0
/// for null and k + 1 for the k-th distinct text) and returns the interned id of each code;
/// its length is the radix. Dictionary-encoded columns are folded from their keys, so each
/// distinct text is interned once per batch. A column with the same text in every row is not
/// folded: it returns that one id (radix 1).
fn fold_dimension(
    a: &ArrayRef,
    derive: Derive,
    tag_strip: Option<&str>,
    keys: &mut [u128],
    radix_product: &mut u128,
    w: &mut Worker,
) -> Result<Vec<u32>, String> {
    // the interned id of a source text's derived text (0: null)
    let id_of = |w: &mut Worker, text: Option<&str>| match derive {
        Derive::Day => w.day_id(text),
        _ => derive.apply(text).map_or(0, |t| w.intern(t)),
    };
    // The product of the radices bounds every key: checked before folding, so no key wraps.
    let mut widen = |radix: usize| -> Result<(), String> {
        *radix_product = radix_product
            .checked_mul(radix as u128)
            .ok_or("too many distinct dimension sets in one batch")?;
        Ok(())
    };
    if let Some(dict) = a.as_dictionary_opt::<Int32Type>() {
        let values = w.dictionary_ids(dict.values(), derive as u8, id_of)?;
        let mut ids = Vec::with_capacity(values.len() + 1);
        ids.push(id_of(w, None));
        ids.extend(values.iter());
        let radix = ids.len() as u128;
        let limit = values.len() as i32;
        let raw = dict.keys().values();
        if limit == 1 && dict.keys().null_count() == 0 {
            // One text in every row (the billing month, the currency): nothing to fold.
            return Ok(vec![ids[1]]);
        }
        widen(ids.len())?;
        match dict.keys().nulls() {
            None => {
                for (key, &k) in keys.iter_mut().zip(raw.iter()) {
                    let code = if (0..limit).contains(&k) {
                        k as u128 + 1
                    } else {
                        0
                    };
                    *key = *key * radix + code;
                }
            }
            Some(nulls) => {
                for (i, (key, &k)) in keys.iter_mut().zip(raw.iter()).enumerate() {
                    let valid = nulls.is_valid(i) && (0..limit).contains(&k);
                    *key = *key * radix + if valid { k as u128 + 1 } else { 0 };
                }
            }
        }
        return Ok(ids);
    }
    // Not dictionary-encoded: the interned id of each row, folded by `fold_ids`.
    let mut row_ids: Vec<u32> = Vec::with_capacity(a.len());
    if matches!(a.data_type(), ArrowType::Map(..) | ArrowType::Struct(_)) {
        row_ids = tag_object_ids(a, tag_strip, w)?;
    } else if let Ok(texts) = Texts::of(a) {
        for i in 0..a.len() {
            row_ids.push(id_of(w, texts.get(i)));
        }
    } else {
        fn each<T: arrow_array::ArrowPrimitiveType>(
            a: &ArrayRef,
        ) -> impl Iterator<Item = Option<i64>> + '_
        where
            T::Native: Into<i64>,
        {
            a.as_primitive::<T>().iter().map(|v| v.map(Into::into))
        }
        let (kind, values): (Number, Box<dyn Iterator<Item = Option<i64>>>) = match a.data_type() {
            ArrowType::Timestamp(ArrowUnit::Millisecond, _) => (
                Number::Datetime(TimeUnit::Milliseconds),
                Box::new(each::<TimestampMillisecondType>(a)),
            ),
            ArrowType::Timestamp(ArrowUnit::Microsecond, _) => (
                Number::Datetime(TimeUnit::Microseconds),
                Box::new(each::<TimestampMicrosecondType>(a)),
            ),
            ArrowType::Timestamp(ArrowUnit::Nanosecond, _) => (
                Number::Datetime(TimeUnit::Nanoseconds),
                Box::new(each::<TimestampNanosecondType>(a)),
            ),
            ArrowType::Date32 => (Number::Date, Box::new(each::<Date32Type>(a))),
            ArrowType::Int32 => (Number::Integer, Box::new(each::<Int32Type>(a))),
            ArrowType::Int64 => (Number::Integer, Box::new(each::<Int64Type>(a))),
            other => return Err(format!("unexpected column type {other}")),
        };
        // a charge period counts by its day: a timestamp is cut to its UTC midnight
        let per_day: i64 = match (derive, kind) {
            (Derive::Day, Number::Datetime(TimeUnit::Milliseconds)) => 86_400_000,
            (Derive::Day, Number::Datetime(TimeUnit::Microseconds)) => 86_400_000_000,
            (Derive::Day, Number::Datetime(TimeUnit::Nanoseconds)) => 86_400_000_000_000,
            _ => 1,
        };
        // consecutive rows mostly repeat a period: the last value is checked before the map
        let mut last: Option<(i64, u32)> = None;
        // (a value within a day of i64::MIN has no day: it stays, and renders as no text)
        for v in values.map(|v| v.map(|v| v.checked_sub(v.rem_euclid(per_day)).unwrap_or(v))) {
            let id = match (v, last) {
                (None, _) => 0,
                (Some(v), Some((l, id))) if l == v => id,
                (Some(v), _) => {
                    let id = w.number(kind, v);
                    last = Some((v, id));
                    id
                }
            };
            row_ids.push(id);
        }
    }
    fold_ids(&row_ids, keys, radix_product)
}

/// Folds the interned id of each row into the row keys, numbering the distinct ids here (code
/// 0 for null); returns the id of each code, as `fold_dimension`.
fn fold_ids(
    row_ids: &[u32],
    keys: &mut [u128],
    radix_product: &mut u128,
) -> Result<Vec<u32>, String> {
    let mut local: HashMap<u32, u32, FixedState> = HashMap::default();
    let mut ids = vec![0u32];
    let codes: Vec<u32> = row_ids
        .iter()
        .map(|&id| match id {
            0 => 0,
            _ => *local.entry(id).or_insert_with(|| {
                ids.push(id);
                ids.len() as u32 - 1
            }),
        })
        .collect();
    *radix_product = radix_product
        .checked_mul(ids.len() as u128)
        .ok_or("too many distinct dimension sets in one batch")?;
    let radix = ids.len() as u128;
    for (key, code) in keys.iter_mut().zip(codes) {
        *key = *key * radix + u128::from(code);
    }
    Ok(ids)
}

/// Whether `t` is a map of text to text (whose first entry field the Polars path also reads as
/// the key: `ingest::entry_positions`) or a struct of text fields: tags the fast path turns
/// into JSON text.
fn tag_pairs(t: &ArrowType) -> bool {
    let text = |t: &ArrowType| {
        matches!(
            t,
            ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
        )
    };
    match t {
        ArrowType::Map(entries, _) => match entries.data_type() {
            // the key is the first field, as the Polars path reads the entry
            ArrowType::Struct(f) => {
                let names: Vec<&str> = f.iter().map(|f| f.name().as_str()).collect();
                f.len() == 2
                    && crate::ingest::entry_positions(&names) == Some((0, 1))
                    && text(f[0].data_type())
                    && text(f[1].data_type())
            }
            _ => false,
        },
        ArrowType::Struct(f) => !f.is_empty() && f.iter().all(|f| text(f.data_type())),
        _ => false,
    }
}

/// A text column, whatever its offsets.
enum Texts<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Texts<'a> {
    fn of(a: &'a ArrayRef) -> Result<Texts<'a>, String> {
        if let Some(s) = a.as_string_opt::<i32>() {
            Ok(Texts::Utf8(s))
        } else if let Some(s) = a.as_string_opt::<i64>() {
            Ok(Texts::Large(s))
        } else if let Some(s) = a.as_string_view_opt() {
            Ok(Texts::View(s))
        } else {
            Err(format!("{} is not text", a.data_type()))
        }
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Texts::Utf8(s) => s.is_valid(i).then(|| s.value(i)),
            Texts::Large(s) => s.is_valid(i).then(|| s.value(i)),
            Texts::View(s) => s.is_valid(i).then(|| s.value(i)),
        }
    }
}

/// Tags as a map or struct of texts, asked of the reader with dictionary-encoded texts
/// (`Dictionary(Int32, Utf8)` keys, values and fields), so each row's entries are integers.
fn with_dictionary_texts(t: &ArrowType) -> ArrowType {
    let dictionary = |f: &ArrowField| {
        f.clone().with_data_type(ArrowType::Dictionary(
            Box::new(ArrowType::Int32),
            Box::new(ArrowType::Utf8),
        ))
    };
    match t {
        ArrowType::Map(entries, sorted) => match entries.data_type() {
            ArrowType::Struct(f) => {
                let fields: Vec<ArrowField> = f.iter().map(|f| dictionary(f)).collect();
                let entries = entries
                    .as_ref()
                    .clone()
                    .with_data_type(ArrowType::Struct(fields.into()));
                ArrowType::Map(Arc::new(entries), *sorted)
            }
            _ => t.clone(),
        },
        ArrowType::Struct(f) => ArrowType::Struct(f.iter().map(|f| dictionary(f)).collect()),
        _ => t.clone(),
    }
}

/// What of a tag text is kept.
#[derive(Debug, Clone, Copy)]
enum Keep<'p> {
    /// The text as it is.
    All,
    /// The text without this prefix (a map key's `user_`).
    Unprefixed(Option<&'p str>),
    /// The trimmed text, none when that is empty (a CUR 1 tag column's value).
    Trimmed,
}

impl Keep<'_> {
    /// Tells the variants apart in `Worker::dictionary_ids` (after `Derive`'s).
    fn tag(self) -> u8 {
        match self {
            Keep::All | Keep::Unprefixed(None) => 8,
            Keep::Unprefixed(Some(_)) => 9,
            Keep::Trimmed => 10,
        }
    }

    fn apply(self, t: &str) -> Option<&str> {
        match self {
            Keep::All => Some(t),
            Keep::Unprefixed(p) => Some(p.and_then(|p| t.strip_prefix(p)).unwrap_or(t)),
            Keep::Trimmed => Some(t.trim()).filter(|t| !t.is_empty()),
        }
    }
}

/// Each row's value of a dictionary column, from the value of each dictionary entry
/// (`by_key`); `none` for a null row or a key out of range.
fn through_keys<T: Copy>(
    dict: &arrow_array::DictionaryArray<Int32Type>,
    by_key: &[T],
    none: T,
) -> Vec<T> {
    dict.keys()
        .iter()
        .map(|k| {
            k.and_then(|k| by_key.get(usize::try_from(k).ok()?).copied())
                .unwrap_or(none)
        })
        .collect()
}

/// The interned id of each row's text (0: null, or a text `keep` turns away), each distinct
/// text of a dictionary interned once per batch.
fn text_ids(a: &ArrayRef, keep: Keep, w: &mut Worker) -> Result<Vec<u32>, String> {
    if let Some(dict) = a.as_dictionary_opt::<Int32Type>() {
        let by_key = w.dictionary_ids(dict.values(), keep.tag(), |w, t| {
            t.and_then(|t| keep.apply(t)).map_or(0, |t| w.intern(t))
        })?;
        return Ok(through_keys(dict, &by_key, 0));
    }
    let values = Texts::of(a)?;
    Ok((0..a.len())
        .map(|i| {
            values
                .get(i)
                .and_then(|t| keep.apply(t))
                .map_or(0, |t| w.intern(t))
        })
        .collect())
}

/// Interned id of each row's tags, a map or struct of texts, as the JSON object text the
/// Polars path gives it (`tags_expr`; 0 for a null row or one without a valued entry). Each
/// row's entries are a run of integers (the interned ids of key and value), so rows are
/// hashed and compared as integers, and each distinct run becomes text once per worker.
fn tag_object_ids(a: &ArrayRef, strip: Option<&str>, w: &mut Worker) -> Result<Vec<u32>, String> {
    // per row: its entries as `key id << 32 | value id`
    let (entries, at): (Vec<u64>, Vec<usize>);
    let stripped = Keep::Unprefixed(strip);
    if let Some(m) = a.as_map_opt() {
        let keys = text_ids(m.keys(), stripped, w)?;
        let values = text_ids(m.values(), Keep::All, w)?;
        let offsets = m.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[a.len()] as usize);
        entries = (first..last)
            .map(|j| u64::from(keys[j]) << 32 | u64::from(values[j]))
            .collect();
        at = offsets.iter().map(|o| *o as usize - first).collect();
    } else if let Some(st) = a.as_struct_opt() {
        let fields = st.num_columns();
        let mut grid = vec![0u64; a.len() * fields];
        for (f, c) in st.columns().iter().enumerate() {
            let name = stripped.apply(st.fields()[f].name()).unwrap_or_default();
            let key = u64::from(w.intern(name)) << 32;
            for (r, value) in text_ids(c, Keep::All, w)?.into_iter().enumerate() {
                grid[r * fields + f] = key | u64::from(value);
            }
        }
        entries = grid;
        at = (0..=a.len()).map(|r| r * fields).collect();
    } else {
        return Err(format!("unexpected tag type {}", a.data_type()));
    }
    Ok(entry_ids(&|i| a.is_null(i), &entries, &at, w))
}

/// The interned id of each row's JSON tags, from its run of entries
/// (`entries[at[row]..at[row + 1]]`, each `key id << 32 | value id`, interned ids); 0 for a
/// null row or one without a valued entry (an entry without a key or value is left out, as
/// the Polars path leaves it out). Each distinct run becomes text once per worker.
fn entry_ids(
    null_row: &dyn Fn(usize) -> bool,
    entries: &[u64],
    at: &[usize],
    w: &mut Worker,
) -> Vec<u32> {
    let rows = at.len().saturating_sub(1);
    let mut ids = Vec::with_capacity(rows);
    let mut last: Option<(&[u64], u32)> = None;
    for i in 0..rows {
        if null_row(i) {
            ids.push(0);
            continue;
        }
        let row = &entries[at[i]..at[i + 1]];
        if let Some((_, id)) = last.filter(|(l, _)| *l == row) {
            ids.push(id);
            continue;
        }
        let id = match w.tag_sets.get(row) {
            Some(id) => *id,
            None => {
                let text = |id: u64| -> Option<String> {
                    let id = usize::try_from(id).ok()?.checked_sub(1)?;
                    Some(w.texts.get(id)?.to_string())
                };
                let json = crate::ingest::tags_object(
                    row.iter()
                        .filter_map(|e| Some((text(e >> 32)?, text(e & u64::from(u32::MAX))?))),
                );
                let id = json.map_or(0, |t| w.intern(&t));
                w.tag_sets.insert(row.into(), id);
                id
            }
        };
        last = Some((row, id));
        ids.push(id);
    }
    ids
}

/// A cost column of a batch: its values as `i128` at the column's own scale (borrowed when
/// the column is already `Decimal128`) and its nulls.
struct CostColumn<'a> {
    values: std::borrow::Cow<'a, [i128]>,
    nulls: Option<arrow_buffer::NullBuffer>,
}

impl CostColumn<'_> {
    fn is_valid(&self, i: usize) -> bool {
        self.nulls.as_ref().is_none_or(|n| n.is_valid(i))
    }
}

/// The money of each valid value of a float or text cost column (0 where null), by the Polars
/// path's rule: a float's shortest round-trip text (`zmij`, as Polars' cast to text), then
/// `Money::parse`. A value that does not parse (NaN, infinity, text that is not a number, too
/// large) is an error: the Polars path quarantines it with its reason.
fn parsed_costs(a: &ArrayRef) -> Result<Vec<i128>, String> {
    let parse = |t: &str| {
        Money::parse(t)
            .map(|m| m.0)
            .map_err(|e| format!("the cost `{t}` does not parse ({e})"))
    };
    let mut out = Vec::with_capacity(a.len());
    let mut buffer = zmij::Buffer::new();
    if let Some(f) = a.as_primitive_opt::<Float64Type>() {
        for v in f.iter() {
            out.push(v.map_or(Ok(0), |v| parse(buffer.format(v)))?);
        }
    } else if let Some(f) = a.as_primitive_opt::<Float32Type>() {
        for v in f.iter() {
            out.push(v.map_or(Ok(0), |v| parse(buffer.format(v)))?);
        }
    } else {
        let texts = Texts::of(a)?;
        for i in 0..a.len() {
            out.push(texts.get(i).map_or(Ok(0), parse)?);
        }
    }
    Ok(out)
}

/// A cost column of a batch. A value too large for decimal(38, 18) once at scale 18 is
/// refused (Polars makes it null, which quarantines the row): the file then goes through the
/// Polars path.
fn cost_column(a: &ArrayRef, kind: CostKind) -> Result<CostColumn<'_>, String> {
    use std::borrow::Cow;
    let scale = kind.scale();
    let widen = |v: &[i64]| -> Vec<i128> { v.iter().map(|x| i128::from(*x)).collect() };
    let values: Cow<'_, [i128]> = if kind != CostKind::Exact(scale) {
        Cow::Owned(parsed_costs(a)?)
    } else if let Some(d) = a.as_primitive_opt::<Decimal128Type>() {
        Cow::Borrowed(d.values().as_ref())
    } else if let Some(d) = a.as_primitive_opt::<Decimal64Type>() {
        Cow::Owned(widen(d.values()))
    } else if let Some(d) = a.as_primitive_opt::<Int64Type>() {
        Cow::Owned(widen(d.values()))
    } else if let Some(d) = a.as_primitive_opt::<Decimal32Type>() {
        Cow::Owned(d.values().iter().map(|x| i128::from(*x)).collect())
    } else if let Some(d) = a.as_primitive_opt::<Int32Type>() {
        Cow::Owned(d.values().iter().map(|x| i128::from(*x)).collect())
    } else {
        return Err(format!("unexpected cost type {}", a.data_type()));
    };
    // |v| * 10^(18 - scale) must stay below 10^38
    let bound = 10i128.pow(38 - (SCALE - scale));
    if values
        .iter()
        .any(|v| v.unsigned_abs() >= bound.unsigned_abs())
    {
        return Err("a cost does not fit decimal(38, 18)".into());
    }
    Ok(CostColumn {
        values,
        nulls: a.logical_nulls(),
    })
}

fn add_batch(
    plan: &DirectPlan,
    p: usize,
    at: &Positions,
    batch: &RecordBatch,
    w: &mut Worker,
) -> Result<(), String> {
    let n = batch.num_rows();
    if n == 0 {
        return Ok(());
    }
    // Row key: a mixed-radix number of the dimension codes, then basis status and prepaid
    // shape (two bits).
    let mut keys = std::mem::take(&mut w.keys);
    keys.clear();
    keys.resize(n, 0);
    let mut dims: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut radix_product: u128 = 4;
    for (d, pos) in at.dims.iter().enumerate() {
        if let Some(text) = plan.constant[d] {
            dims.push((d, vec![w.intern(text)]));
            continue;
        }
        let Some(pos) = pos else { continue };
        let (a, strip) = (batch.column(*pos), plan.tag_strip);
        let ids = fold_dimension(a, plan.derive[d], strip, &mut keys, &mut radix_product, w)?;
        dims.push((d, ids));
    }
    // CUR 1's tag columns: one JSON text per distinct run of valued columns
    if let (Some(cur), Some(cur_at)) = (&plan.cur, &at.cur) {
        if !cur.tag_columns.is_empty() {
            let columns: Vec<(&ArrayRef, &str)> = cur_at
                .tag_columns
                .iter()
                .map(|(pos, k)| (batch.column(*pos), cur.tag_columns[*k].1.as_str()))
                .collect();
            let (entries, starts) = cur::tag_column_entries(&columns, n, w)?;
            let row_ids = entry_ids(&|_| false, &entries, &starts, w);
            dims.push((TAGS, fold_ids(&row_ids, &mut keys, &mut radix_product)?));
        }
    }
    let mut costs: [Option<CostColumn>; 4] = Default::default();
    for (k, pos) in at.costs.iter().enumerate() {
        if let Some(pos) = pos {
            let kind = plan.cost_col[k].map_or(CostKind::Exact(SCALE), |(_, kind)| kind);
            costs[k] = Some(cost_column(batch.column(*pos), kind)?);
        }
    }
    if let (Some(cur), Some(cur_at)) = (&plan.cur, &at.cur) {
        costs = cur::costs(cur, cur_at, batch)?;
    }
    let position = |b: CostBasis| CostBasis::ALL.iter().position(|x| *x == b);
    let column = |b: Option<usize>| b.and_then(|k| costs[k].as_ref());
    let (effective, billed) = (
        column(position(CostBasis::Effective)),
        column(position(CostBasis::Billed)),
    );
    let basis = costs[plan.basis].as_ref();
    for (i, key) in keys.iter_mut().enumerate() {
        let status = basis.is_none_or(|c| !c.is_valid(i));
        let prepaid = match (billed, effective) {
            (Some(b), Some(e)) => {
                b.is_valid(i) && e.is_valid(i) && b.values[i] > 0 && e.values[i] == 0
            }
            _ => false,
        };
        *key = *key * 4 + u128::from(status) * 2 + u128::from(prepaid);
    }
    // Group index of each row, then the sums column by column.
    let mut local: HashMap<u128, u32, FixedState> = HashMap::default();
    let mut rows: Vec<u64> = Vec::new();
    let mut index = std::mem::take(&mut w.index);
    index.clear();
    let (mut last_key, mut last_idx) = (u128::MAX, 0u32);
    for &key in &keys {
        if key != last_key {
            let next = rows.len() as u32;
            last_idx = *local.entry(key).or_insert(next);
            if last_idx == next {
                rows.push(0);
            }
            last_key = key;
        }
        rows[last_idx as usize] += 1;
        index.push(last_idx);
    }
    let mut sums = vec![[0i128; 4]; rows.len()];
    let mut non_null = vec![[0u64; 4]; rows.len()];
    for (k, c) in costs.iter().enumerate() {
        let Some(c) = c else { continue };
        for (i, (&g, &v)) in index.iter().zip(c.values.iter()).enumerate() {
            if c.is_valid(i) {
                let s = &mut sums[g as usize][k];
                *s = s.checked_add(v).ok_or("a cost sum overflows")?;
                non_null[g as usize][k] += 1;
            }
        }
    }
    // Decode each local key back to interned ids and merge into the worker's groups.
    for (key, idx) in local {
        let prepaid = key % 2 == 1;
        let status = ((key / 2) % 2) as u8;
        let mut rest = key / 4;
        let mut ids = [0u32; line::DIMENSION_COUNT];
        for (d, dim_ids) in dims.iter().rev() {
            if let [constant] = dim_ids[..] {
                ids[*d] = constant;
                continue;
            }
            let radix = dim_ids.len() as u128;
            ids[*d] = dim_ids[(rest % radix) as usize];
            rest /= radix;
        }
        let g = idx as usize;
        // to money: scale 18
        let mut acc = Acc {
            sums: sums[g],
            non_null: non_null[g],
            rows: rows[g],
            file: plan.file,
        };
        for (k, sum) in acc.sums.iter_mut().enumerate() {
            let scale = plan.cost_col[k].map_or(SCALE, |(_, kind)| kind.scale());
            *sum = 10i128
                .checked_pow(SCALE - scale)
                .and_then(|f| sum.checked_mul(f))
                .ok_or("a cost sum overflows")?;
        }
        let counted = crate::ingest::is_counted(
            status_of(status),
            w.parses(0, ids[PERIOD]),
            w.parses(1, ids[CURRENCY]),
        );
        w.groups
            .entry(((!counted).then_some(p), ids, status, prepaid))
            .or_default()
            .merge(&acc)?;
        if counted {
            w.totals
                .entry((p, ids[CURRENCY]))
                .or_default()
                .merge(&acc)?;
        }
    }
    *w.rows.entry(p).or_default() += n as u64;
    w.keys = keys;
    w.index = index;
    Ok(())
}

/// The basis status of the key's status bit: a decimal cost is parsed or missing (it cannot be
/// "not a number").
fn status_of(bit: u8) -> i32 {
    match bit {
        0 => crate::ingest::STATUS_PARSED,
        _ => crate::ingest::STATUS_MISSING,
    }
}

mod cur;
#[cfg(test)]
mod tests;
