//! The AWS CUR mapping (`aws::map`) evaluated on the fast path: the charge category and
//! commitment status of each distinct line item type, the amortised effective cost per row
//! from the formula's parts (`aws::amortised`, the same table the Polars expression is built
//! from), list cost 0 where empty, and CUR 1's tag columns folded over their valid cells into
//! one entry list per row (JSON text once per distinct list, as `tag_columns_expr` gives it).

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef};

use super::{cost_column, through_keys, CostColumn, CostKind, Keep, Texts, Worker};
use crate::ingest::aws::{self, Amortised};
use crate::money::SCALE;

/// What the fast path needs to evaluate the CUR mapping (source column names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurColumns {
    /// `lineItem/LineItemType`: the charge category, the commitment status and the case of
    /// the amortised formula.
    pub item_type: String,
    /// `lineItem/UnblendedCost`: the billed cost, and the effective cost of most rows.
    pub unblended: String,
    /// `pricing/publicOnDemandCost`: the list cost, 0 where empty.
    pub list: Option<String>,
    /// The amortised formula's parts (`aws::PARTS`), each 0 where absent or empty.
    pub parts: [Option<String>; 6],
    /// `reservation/ReservationARN`: a `Fee` row with one is an RI's upfront fee.
    pub reservation_arn: Option<String>,
    /// CUR 2.0's `resource_tags` map (its keys lose `aws::TAG_PREFIX`).
    pub tag_map: Option<String>,
    /// CUR 1's tag columns: (source column, tag key).
    pub tag_columns: Vec<(String, String)>,
}

/// How the text of a dimension is derived from its source column's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Derive {
    AsIs,
    /// The CUR charge category of a line item type (a null type included).
    Category,
    /// The CUR commitment status of a line item type.
    Status,
    /// The charge day of a charge period (`ingest::charge_day`; a timestamp is cut to its
    /// UTC midnight): the hours of a day are one group.
    Day,
}

impl Derive {
    /// The text a source text (None: null) gives.
    pub(super) fn apply(self, text: Option<&str>) -> Option<&str> {
        match self {
            // `Worker::day_id` derives the day: a new text, not a part of this one
            Derive::AsIs | Derive::Day => text,
            Derive::Category => Some(aws::charge_category(text)),
            Derive::Status => aws::commitment_status(text),
        }
    }
}

/// Column and kind of the CUR costs in a file (roots of its schema).
#[derive(Debug, Clone)]
pub(super) struct CurPlan {
    pub item_type: usize,
    pub unblended: (usize, CostKind),
    pub list: Option<(usize, CostKind)>,
    pub parts: [Option<(usize, CostKind)>; 6],
    pub reservation_arn: Option<usize>,
    /// Tag columns and their keys.
    pub tag_columns: Vec<(usize, String)>,
}

/// Where the CUR columns are in a batch (None: not mapped, or all null in the row group).
pub(super) struct CurPositions {
    pub item_type: Option<usize>,
    pub unblended: Option<usize>,
    pub list: Option<usize>,
    pub parts: [Option<usize>; 6],
    pub reservation_arn: Option<usize>,
    /// Position and index into `CurPlan::tag_columns` of each tag column read.
    pub tag_columns: Vec<(usize, usize)>,
}

/// A cost column of the batch at scale 18, or None when it is not in the batch.
fn at_scale_18(
    batch: &arrow_array::RecordBatch,
    at: Option<usize>,
    kind: CostKind,
) -> Result<Option<CostColumn<'static>>, String> {
    let Some(at) = at else { return Ok(None) };
    let c = cost_column(batch.column(at), kind)?;
    let factor = 10i128.pow(SCALE - kind.scale());
    let values = c
        .values
        .iter()
        .map(|v| v.checked_mul(factor).ok_or("a cost overflows at scale 18"))
        .collect::<Result<Vec<i128>, _>>()?;
    Ok(Some(CostColumn {
        values: Cow::Owned(values),
        nulls: c.nulls,
    }))
}

/// `f` of each row's text (None: null; `f(None)` for every row when the column is not read),
/// computed once per dictionary value.
fn per_row<T: Copy>(
    a: Option<&ArrayRef>,
    rows: usize,
    f: impl Fn(Option<&str>) -> T,
) -> Result<Vec<T>, String> {
    let Some(a) = a else {
        return Ok(vec![f(None); rows]);
    };
    if let Some(dict) = a.as_dictionary_opt::<Int32Type>() {
        let values = Texts::of(dict.values())?;
        let by_key: Vec<T> = (0..dict.values().len()).map(|k| f(values.get(k))).collect();
        return Ok(through_keys(dict, &by_key, f(None)));
    }
    let texts = Texts::of(a)?;
    Ok((0..rows).map(|i| f(texts.get(i))).collect())
}

/// The four costs of a batch in `line::COSTS` order (effective, billed, list, contracted),
/// at scale 18, as the CUR mapping computes them. An overflow is an error: the Polars path
/// reads the file instead.
pub(super) fn costs(
    plan: &CurPlan,
    at: &CurPositions,
    batch: &arrow_array::RecordBatch,
) -> Result<[Option<CostColumn<'static>>; 4], String> {
    let rows = batch.num_rows();
    let Some(unblended) = at_scale_18(batch, at.unblended, plan.unblended.1)? else {
        // (the unblended cost is read in every row group: not reached)
        return Ok([None, None, None, None]);
    };
    let parts: Vec<Option<CostColumn>> = (0..6)
        .map(|k| {
            let kind = plan.parts[k].map_or(CostKind::Exact(SCALE), |(_, kind)| kind);
            at_scale_18(batch, at.parts[k], kind)
        })
        .collect::<Result<_, _>>()?;
    let part = |k: usize, i: usize| -> i128 {
        parts[k]
            .as_ref()
            .filter(|c| c.is_valid(i))
            .map_or(0, |c| c.values[i])
    };
    let cases = per_row(at.item_type.map(|p| batch.column(p)), rows, aws::amortised)?;
    // a reservation ARN is a non-empty text, as the Polars path tests it
    let reserved = per_row(at.reservation_arn.map(|p| batch.column(p)), rows, |t| {
        t.is_some_and(|t| !t.is_empty())
    })?;
    // |v| < 10^38: what decimal(38, 18) holds
    let bound = 10i128.pow(38);
    let mut effective = Vec::with_capacity(rows);
    for (i, case) in cases.iter().enumerate() {
        if !unblended.is_valid(i) {
            effective.push(0);
            continue;
        }
        let v = match *case {
            Amortised::Part(k) => Some(part(k, i)),
            Amortised::Difference(a, b) => part(a, i).checked_sub(part(b, i)),
            Amortised::Sum(a, b) => part(a, i).checked_add(part(b, i)),
            Amortised::Zero => Some(0),
            Amortised::ZeroWithReservation if reserved[i] => Some(0),
            Amortised::ZeroWithReservation | Amortised::Unblended => Some(unblended.values[i]),
        }
        .filter(|v| v.unsigned_abs() < bound.unsigned_abs())
        .ok_or("an amortised cost does not fit decimal(38, 18)")?;
        effective.push(v);
    }
    let list = match at.list {
        Some(p) => {
            let kind = plan.list.map_or(CostKind::Exact(SCALE), |(_, kind)| kind);
            at_scale_18(batch, Some(p), kind)?.map(|c| CostColumn {
                values: Cow::Owned(
                    (0..rows)
                        .map(|i| if c.is_valid(i) { c.values[i] } else { 0 })
                        .collect(),
                ),
                nulls: None,
            })
        }
        // (a cost column is read in every row group, all null or not)
        None => None,
    };
    let effective = CostColumn {
        values: Cow::Owned(effective),
        nulls: unblended.nulls.clone(),
    };
    Ok([Some(effective), Some(unblended), list, None])
}

/// Each row's CUR 1 tag columns as a run of entries (`key id << 32 | value id`, interned
/// ids, in column order, a value that is empty once trimmed left out; `at[row]..at[row + 1]`
/// are a row's entries), for `entry_ids`. Only valid cells are visited: most of a CUR's
/// hundreds of tag columns are empty in most rows.
pub(super) fn tag_column_entries(
    columns: &[(&ArrayRef, &str)],
    rows: usize,
    w: &mut Worker,
) -> Result<(Vec<u64>, Vec<usize>), String> {
    let keep = |t| Keep::Trimmed.apply(t);
    // per column: (row, entry) of each valued cell
    let mut cells: Vec<Vec<(u32, u64)>> = Vec::with_capacity(columns.len());
    for (a, key) in columns {
        let key = u64::from(w.intern(key)) << 32;
        let mut column = Vec::new();
        if let Some(dict) = a.as_dictionary_opt::<Int32Type>() {
            let by_key = w.dictionary_ids(dict.values(), Keep::Trimmed.tag(), |w, t| {
                t.and_then(|t| Keep::Trimmed.apply(t))
                    .map_or(0, |t| w.intern(t))
            })?;
            let keys = dict.keys().values();
            let mut visit = |i: usize| {
                let id = usize::try_from(keys[i])
                    .ok()
                    .and_then(|k| by_key.get(k))
                    .copied()
                    .unwrap_or(0);
                if id > 0 {
                    column.push((i as u32, key | u64::from(id)));
                }
            };
            match dict.keys().nulls() {
                Some(n) => n.valid_indices().for_each(&mut visit),
                None => (0..rows).for_each(&mut visit),
            }
        } else {
            let values = Texts::of(a)?;
            for i in 0..rows {
                if let Some(t) = values.get(i).and_then(keep) {
                    column.push((i as u32, key | u64::from(w.intern(t))));
                }
            }
        }
        cells.push(column);
    }
    let mut at = vec![0usize; rows + 1];
    for column in &cells {
        for (i, _) in column {
            at[*i as usize + 1] += 1;
        }
    }
    for i in 0..rows {
        at[i + 1] += at[i];
    }
    let mut entries = vec![0u64; at[rows]];
    let mut next = at.clone();
    for column in &cells {
        for &(i, entry) in column {
            let slot = &mut next[i as usize];
            entries[*slot] = entry;
            *slot += 1;
        }
    }
    Ok((entries, at))
}
