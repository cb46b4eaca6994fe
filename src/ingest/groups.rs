//! Aggregation of normalised lines to `SourceGroup`s (one per distinct dimension set), and the
//! second pass that lists the rows of a file the ledger quarantined.

use std::collections::HashMap;

use polars::prelude::*;
use polars_core::query_result::QueryResult;

use super::{
    bad_row_status, normalise, text_values, FileKind, NormalisedLines, RawScan, SourceFormat,
    BASIS_STATUS, PREPAID_SHAPE, ROWS, STATUS_MISSING, STATUS_NOT_A_NUMBER, STATUS_PARSED,
};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::schema::line;

/// One aggregated group of source rows with identical dimensions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceGroup {
    pub file: usize,
    /// Raw text of each entry of `line::DIMENSIONS`, in that order.
    pub dims: [Option<String>; line::DIMENSION_COUNT],
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
    /// stays None only when it was None on both sides. Fails (changing nothing) when a sum
    /// would leave decimal(38,18).
    pub fn absorb(&mut self, other: &SourceGroup) -> std::result::Result<(), String> {
        let mut costs = self.costs;
        for (a, b) in costs.iter_mut().zip(other.costs) {
            *a = match (*a, b) {
                (Some(x), Some(y)) => Some(
                    x.checked_add(y)
                        .ok_or_else(|| format!("{x} + {y} leaves decimal(38,18)"))?,
                ),
                (x, y) => x.or(y),
            };
        }
        self.costs = costs;
        self.file = self.file.min(other.file);
        self.rows += other.rows;
        Ok(())
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
    // Polars sums i128 without an overflow check; the largest |value| times the count bounds
    // the sum, so a group whose sum could leave decimal(38,18) is an error, never a wrapped
    // number (see `check_sum_bounds`).
    for c in line::COSTS {
        aggs.push(col(c).max().alias(format!("{c}__max")));
        aggs.push(col(c).min().alias(format!("{c}__min")));
    }
    aggs.push(len().alias(ROWS));
    let run = |lf: LazyFrame| -> Result<Vec<SourceGroup>> {
        let df = scan.guard(|| {
            with_status(lf, basis)
                .group_by(keys.clone())
                .agg(aggs.clone())
                .collect_with_engine(Engine::Streaming)
                .map_err(|source| scan.read_error(source))
        })?;
        let QueryResult::Single(df) = df else {
            return Err(Error::Internal("multiple results from one query".into()));
        };
        check_sum_bounds(&df, scan)?;
        groups_from_frame(&df, file).map_err(|source| scan.read_error(source))
    };
    // The groups merged so far, their dimensions kept in the key only (put back at the end).
    let mut merged: HashMap<GroupKey, SourceGroup, foldhash::fast::RandomState> =
        HashMap::default();
    let mut merge = |part: Vec<SourceGroup>| -> Result<()> {
        for mut g in part {
            let key = (std::mem::take(&mut g.dims), g.basis_status, g.prepaid_shape);
            match merged.get_mut(&key) {
                Some(m) => m.absorb(&g).map_err(|detail| Error::Overflow {
                    what: format!("a cost sum of `{}`", crate::origin::shown(&scan.file.path)),
                    detail,
                })?,
                None => {
                    merged.insert(key, g);
                }
            }
        }
        Ok(())
    };
    let into_groups = |merged: HashMap<GroupKey, SourceGroup, _>| -> Vec<SourceGroup> {
        merged
            .into_iter()
            .map(|((dims, _, _), mut g)| {
                g.dims = dims;
                g
            })
            .collect()
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
                }])?;
            }
            if frame.frame.height() > 0 {
                let batch = normalise(
                    scan,
                    format,
                    frame.frame.lazy(),
                    false,
                    basis,
                    lines.charge_days,
                )?;
                merge(run(batch.lf)?)?;
            }
        }
        return Ok(into_groups(merged));
    }
    if scan.file.kind != FileKind::Parquet {
        return run(lines.lf);
    }
    // an object read by ranges: the chunks of the mapped columns, before Polars reads them
    super::objects::complete(&scan.file.path, lines.needed.as_deref())?;
    // Parquet is aggregated a slice of rows at a time (the slice is pushed down to the row
    // groups) and the partial groups merged here: Polars' streaming group-by keeps partial
    // states per morsel, so one query over a whole large file grows with its rows.
    // a nested column (a map of tags) holds several values a row and their offsets: counted
    // as 32 columns (a CUR 2.0 month: 10M rows in 1.18 GiB at 8, 0.57 GiB at 131k-row slices)
    let weight = |dtype: &DataType| if dtype.is_nested() { 32 } else { 1 };
    let columns = match &lines.needed {
        Some(names) => names
            .iter()
            .map(|n| scan.schema.get(n).map_or(1, weight))
            .sum(),
        None => scan.schema.iter_values().map(weight).sum(),
    };
    let slice_rows = scan
        .options
        .parquet_slice_rows
        .unwrap_or_else(|| slice_rows(columns))
        .max(1);
    let mut offset: i64 = 0;
    loop {
        let part = run(lines.lf.clone().slice(offset, slice_rows as IdxSize))?;
        let rows: u64 = part.iter().map(|g| g.rows).sum();
        merge(part)?;
        if rows < slice_rows as u64 {
            break;
        }
        offset += slice_rows as i64;
    }
    Ok(into_groups(merged))
}

/// Adds the basis status and the prepaid shape of each line.
fn with_status(lf: LazyFrame, basis: CostBasis) -> LazyFrame {
    let basis_col = cost_column(basis);
    let raw_basis = format!("{basis_col}__raw");
    lf.with_column(
        when(col(basis_col).is_not_null())
            .then(lit(STATUS_PARSED))
            .when(col(raw_basis.as_str()).is_null())
            .then(lit(STATUS_MISSING))
            .otherwise(lit(STATUS_NOT_A_NUMBER))
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

/// Cells (rows x columns read) of a Parquet slice the Polars path aggregates at a time, unless
/// `MLCOST_PARQUET_SLICE_ROWS` sets the rows: Polars holds 16 bytes per text cell even when it
/// is null, so a CUR with hundreds of tag columns needs short slices (1M rows of 232 columns
/// took 3.7 GiB; 65,536 rows 0.5 GiB in the same time).
const PARQUET_SLICE_CELLS: usize = 16_000_000;

/// Rows per Parquet slice when `columns` columns (weighted) are read: 65,536 to 1,000,000.
pub(super) fn slice_rows(columns: usize) -> usize {
    (PARQUET_SLICE_CELLS / columns.max(1)).clamp(65_536, 1_000_000)
}

type GroupKey = ([Option<String>; line::DIMENSION_COUNT], i32, bool);

/// The canonical cost column summed for `basis`.
pub fn cost_column(basis: CostBasis) -> &'static str {
    match basis {
        CostBasis::Effective => line::EFFECTIVE_COST,
        CostBasis::Billed => line::BILLED_COST,
        CostBasis::List => line::LIST_COST,
        CostBasis::Contracted => line::CONTRACTED_COST,
    }
}

/// Fails when a group's cost sum may have left decimal(38,18): `max |value| x count` above
/// the range (no real bill comes near it: 10^20 per line item).
fn check_sum_bounds(df: &DataFrame, scan: &RawScan) -> Result<()> {
    for c in line::COSTS {
        let get = |name: String| -> Result<Series> {
            df.column(&name)
                .map(|c| c.as_materialized_series().clone())
                .map_err(|e| scan.read_error(e))
        };
        let physical = |name: String| -> Result<Int128Chunked> {
            let s = get(name)?;
            Ok(s.decimal()
                .map_err(|e| scan.read_error(e))?
                .physical()
                .clone())
        };
        let maxes = physical(format!("{c}__max"))?;
        let mins = physical(format!("{c}__min"))?;
        let counts = get(format!("{c}__n"))?
            .cast(&DataType::UInt64)
            .map_err(|e| scan.read_error(e))?;
        let counts = counts.u64().map_err(|e| scan.read_error(e))?;
        for (i, ((hi, lo), n)) in maxes.iter().zip(mins.iter()).zip(counts.iter()).enumerate() {
            let (Some(hi), Some(lo), Some(n)) = (hi, lo, n) else {
                continue;
            };
            let m = hi.unsigned_abs().max(lo.unsigned_abs());
            let bound = m.checked_mul(u128::from(n));
            if bound.is_none_or(|b| b > crate::money::MAX_ABS as u128) {
                return Err(Error::Overflow {
                    what: format!("a sum of {c} in `{}`", crate::origin::shown(&scan.file.path)),
                    detail: format!(
                        "group {} has {n} values up to {} in magnitude; their sum may leave decimal(38,18)",
                        i + 1,
                        Money(m.min(i128::MAX as u128) as i128)
                    ),
                });
            }
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{detect, sniff};

    /// A CSV is read with only the columns its adapter reads, and grouped the same at any
    /// batch size.
    #[test]
    fn csv_projection_is_what_the_adapter_reads() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws/cur1.csv");
        let scan = RawScan::open(sniff(&path).unwrap()).unwrap();
        let format = detect(&scan, None).unwrap();
        let lines = normalise(
            &scan,
            format,
            scan.plan_frame().unwrap(),
            false,
            CostBasis::Effective,
            false,
        )
        .unwrap();
        let needed = lines.needed.clone().unwrap();
        assert!(
            needed.contains(&"lineItem/UnblendedCost".to_string()),
            "{needed:?}"
        );
        assert!(
            needed.contains(&"resourceTags/user:team".to_string()),
            "{needed:?}"
        );
        assert!(
            !needed.contains(&"identity/LineItemId".to_string()),
            "{needed:?}"
        );
        assert!(needed.len() < scan.schema.len());
        let mut groups = aggregate(lines, CostBasis::Effective, 0, &scan, format).unwrap();
        groups.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert!(groups.iter().map(|g| g.rows).sum::<u64>() > 0);
        std::env::set_var("MLCOST_CSV_BATCH_ROWS", "1");
        let lines = normalise(
            &scan,
            format,
            scan.plan_frame().unwrap(),
            false,
            CostBasis::Effective,
            false,
        )
        .unwrap();
        let mut one_by_one = aggregate(lines, CostBasis::Effective, 0, &scan, format).unwrap();
        std::env::remove_var("MLCOST_CSV_BATCH_ROWS");
        one_by_one.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(groups, one_by_one);
    }
}
