//! The side files of a run, read with one rule: request volumes (`--requests`), revenue
//! (`--revenue`), driver files of shared pools and utilisation files (`mlcost hidden`). Columns
//! are found by a normalised name (case, separators and BOM do not matter, as for billing
//! files); every row is read (CSV through the streaming reader, so a ragged or cut row is a
//! bad row too); a row that cannot be used becomes a `BadRow` with its 1-based number, column,
//! reason and value, never a silent skip. What happens to bad rows is the caller's policy:
//! volumes and revenue quarantine them, drivers and utilisation (which weigh whole pools)
//! refuse the file at the first one, in file order.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::ingest::{self, billing_period, columns::Columns, text_values, InputFile, RawScan};
use crate::money::Money;
use crate::tags::TagNormaliser;

/// A side-file row that could not be used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRow {
    pub row: u64,
    pub column: &'static str,
    pub reason: String,
    pub value: String,
    /// The row's month, when it could be read (its quarantine file is that month's).
    pub period: Option<String>,
}

impl BadRow {
    fn new(row: u64, column: &'static str, reason: &str, value: &Option<String>) -> BadRow {
        BadRow {
            row,
            column,
            reason: reason.to_string(),
            value: value.clone().unwrap_or_default(),
            period: None,
        }
    }

    fn in_period(mut self, period: &str) -> BadRow {
        self.period = Some(period.to_string());
        self
    }
}

/// Volumes summed per (period, model): requests, and the quantity of every unit.
#[derive(Debug, Default)]
pub struct Volumes {
    pub file: Option<InputFile>,
    pub requests: BTreeMap<(String, String), i64>,
    /// (period, model) -> unit -> quantity; `requests` is a unit too.
    pub units: BTreeMap<(String, String), BTreeMap<String, Money>>,
    /// (day `YYYY-MM-DD`, model) -> unit -> quantity, from the rows dated to a day (a row
    /// that gives a month only is in `units` alone): the volumes of `--grain day`.
    pub days: BTreeMap<(String, String), BTreeMap<String, Money>>,
    /// Usable rows that give a month, not a day (in `units` only).
    pub monthly_rows: u64,
    pub rows: u64,
    pub bad_rows: Vec<BadRow>,
}

/// Revenue and value preserved per (period, model), from `--revenue`.
#[derive(Debug, Default)]
pub struct Revenue {
    pub file: Option<InputFile>,
    /// (period, model) -> (revenue, value preserved)
    pub values: BTreeMap<(String, String), (Option<Money>, Option<Money>)>,
    pub rows: u64,
    pub bad_rows: Vec<BadRow>,
}

const MODEL: &[&str] = &["model_id", "model"];
const REQUESTS: &[&str] = &["requests", "request_count", "requests_count", "count"];
/// The long form of a volumes file: one row per unit.
const UNIT: &[&str] = &["unit"];
const QUANTITY: &[&str] = &["quantity"];
/// The units a wide volumes file may give as columns (others: use the long form).
pub const WIDE_UNITS: &[&str] = &[
    "requests",
    "tokens",
    "input_tokens",
    "output_tokens",
    "predictions",
    "gpu_hours",
    "images",
];
/// The day or month of a row: a date column wins over a month column, in every side file.
/// The first `DATED` of them give a day (`--grain day`); the others a month, whatever they hold.
const DATED: usize = 3;
const WHEN: &[&str] = &[
    "date",
    "day",
    "timestamp",
    "billing_period",
    "period",
    "month",
];

/// Reads side files with one rule: the run's tag normaliser (model ids compare as everywhere
/// else) and its read options (batch sizes, as for billing files).
#[derive(Clone, Copy)]
pub struct SideReader<'a> {
    pub tagger: &'a TagNormaliser,
    pub options: ingest::ReadOptions,
}

impl<'a> SideReader<'a> {
    /// A reader with the default read options.
    pub fn new(tagger: &'a TagNormaliser) -> SideReader<'a> {
        SideReader {
            tagger,
            options: ingest::ReadOptions::default(),
        }
    }

    pub fn volumes(&self, path: &Path) -> Result<Volumes> {
        read_volumes(path, self)
    }

    pub fn revenue(&self, path: &Path) -> Result<Revenue> {
        read_revenue(path, self)
    }

    pub fn driver(&self, path: &Path) -> Result<BTreeMap<(String, String), Money>> {
        read_driver(path, self)
    }

    pub fn utilization(&self, path: &Path) -> Result<BTreeMap<String, Money>> {
        read_utilization(path, self)
    }
}

/// An opened side file and the columns it was asked for, found by normalised name.
struct SideFile {
    file: InputFile,
    scan: RawScan,
    /// The actual name of each wanted column (None: absent and optional).
    columns: Vec<Option<String>>,
}

impl SideFile {
    /// Opens `path` and finds each of `wanted` (alternative names, first found wins).
    fn open(path: &Path, wanted: &[&[&str]], reader: &SideReader) -> Result<SideFile> {
        let file = ingest::inspect(path)?;
        let mut scan = RawScan::open(file.clone())?;
        scan.options = reader.options;
        let columns = {
            let cols = Columns::new(&scan.schema);
            wanted.iter().map(|names| cols.find(names)).collect()
        };
        Ok(SideFile {
            file,
            scan,
            columns,
        })
    }

    fn has(&self, i: usize) -> bool {
        self.columns[i].is_some()
    }

    /// Calls `row` with each data row's number and the values of the wanted columns (None
    /// for an absent column); collects the rows the reader could not read and those `row`
    /// refuses, in file order. Returns how many rows the file has.
    fn rows(
        &self,
        mut row: impl FnMut(u64, &[Option<String>]) -> std::result::Result<(), BadRow>,
        bad: &mut Vec<BadRow>,
    ) -> Result<u64> {
        let present: Vec<String> = self.columns.iter().flatten().cloned().collect();
        let mut count = 0u64;
        for frame in self.scan.frames(Some(&present), true, false)? {
            let frame = frame?;
            count += frame.bad.len() as u64 + frame.frame.height() as u64;
            bad.extend(frame.bad.iter().map(|b| BadRow {
                row: b.row,
                column: "(row)",
                reason: ingest::bad_row_reason(&b.problem).message(),
                value: b.problem.value(),
                period: None,
            }));
            let df = frame.frame;
            let read = |name: &str| {
                df.column(name)
                    .and_then(text_values)
                    .map_err(|e| self.scan.read_error(e))
            };
            let numbers = read(ingest::ROW_NUMBER)?;
            let values: Vec<Vec<Option<String>>> = self
                .columns
                .iter()
                .map(|c| match c {
                    Some(name) => read(name),
                    None => Ok(vec![None; df.height()]),
                })
                .collect::<Result<_>>()?;
            let mut cells = Vec::with_capacity(values.len());
            for i in 0..df.height() {
                cells.clear();
                cells.extend(values.iter().map(|v| v[i].clone()));
                let n = numbers[i]
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0);
                if let Err(b) = row(n, &cells) {
                    bad.push(b);
                }
            }
        }
        bad.sort_by_key(|b| b.row);
        Ok(count)
    }
}

/// The (period, model) key of a volumes or revenue row, or why the row is unusable.
fn row_key(
    row: u64,
    when: &Option<String>,
    model: &Option<String>,
    tagger: &TagNormaliser,
) -> std::result::Result<(String, String), BadRow> {
    let Some(period) = when.as_deref().and_then(billing_period) else {
        return Err(BadRow::new(row, "date", "not a date or YYYY-MM", when));
    };
    let Some(model_id) = model
        .as_deref()
        .map(|m| tagger.value(m))
        .filter(|m| !m.is_empty())
    else {
        return Err(BadRow::new(row, "model_id", "empty model_id", model).in_period(&period));
    };
    Ok((period, model_id))
}

/// Reads a volumes file: `model_id`, `date` or `billing_period`, and the volumes in one of two
/// forms. Long: a `unit` and a `quantity` column, one row per unit. Wide: one column per unit
/// of [`WIDE_UNITS`] (`requests`, `tokens`, ...). A `requests` quantity must be a whole number
/// and also fills `requests`; every unit's quantity is a non-negative decimal. Bad rows are
/// collected, not fatal; a missing column is.
fn read_volumes(path: &Path, r: &SideReader) -> Result<Volumes> {
    let tagger = r.tagger;
    let mut wanted: Vec<&[&str]> = vec![WHEN, MODEL, REQUESTS, UNIT, QUANTITY];
    wanted.extend(WIDE_UNITS.iter().skip(1).map(std::slice::from_ref));
    let f = SideFile::open(path, &wanted, r)?;
    let long = f.has(3) && f.has(4);
    let wide: Vec<usize> = (5..wanted.len()).filter(|i| f.has(*i)).collect();
    // one form per file: a volume in two forms would be read in one and lost in the other
    let both = long && (f.has(2) || !wide.is_empty());
    if both || (f.has(3) && !f.has(4)) {
        let names: Vec<&str> = f.columns.iter().flatten().map(String::as_str).collect();
        return Err(Error::Ingest {
            path: path.to_path_buf(),
            message: match both {
                true => format!(
                    "request volumes in two forms: `unit` and `quantity` (long) and a column per unit (wide), among {}",
                    names.join(", ")
                ),
                false => "a `unit` column without a `quantity` column".into(),
            },
            hint: Some(
                "give either `unit` and `quantity` (one row per unit) or one column per unit \
                 (`requests`, `tokens`, ...), not both"
                    .into(),
            ),
        });
    }
    let mut missing = Vec::new();
    if !f.has(1) {
        missing.push("model_id".to_string());
    }
    if !long && !f.has(2) && wide.is_empty() {
        missing.push("requests (or a column per unit, or `unit` and `quantity`)".to_string());
    }
    if !f.has(0) {
        missing.push("date or billing_period".to_string());
    }
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "request volumes".into(),
            missing,
        });
    }
    let mut v = Volumes {
        file: Some(f.file.clone()),
        ..Volumes::default()
    };
    // a `billing_period` column gives the month even when it holds a date (`2026-10-01`)
    let dated = f.columns[0].as_deref().is_some_and(|name| {
        let name = crate::ingest::columns::norm_key(name);
        WHEN[..DATED]
            .iter()
            .any(|w| crate::ingest::columns::norm_key(w) == name)
    });
    let mut overflow = None;
    let mut bad = Vec::new();
    v.rows = f.rows(
        |row, c| {
            let (period, model_id) = row_key(row, &c[0], &c[1], tagger)?;
            // (unit, its column, the cell) of each quantity the row gives
            let mut cells: Vec<(String, &'static str, &Option<String>)> = Vec::new();
            if long {
                let unit = crate::config::unit_name(c[3].as_deref().unwrap_or_default());
                if unit.is_empty() {
                    return Err(BadRow::new(row, "unit", "empty unit", &c[3]).in_period(&period));
                }
                cells.push((unit, "quantity", &c[4]));
            } else {
                // in a file of several units an empty cell is a unit the row does not give
                let several = usize::from(f.has(2)) + wide.len() > 1;
                if f.has(2) && !(several && is_blank(&c[2])) {
                    cells.push(("requests".into(), "requests", &c[2]));
                }
                for &i in &wide {
                    if !is_blank(&c[i]) {
                        cells.push((wanted[i][0].into(), wanted[i][0], &c[i]));
                    }
                }
                if cells.is_empty() {
                    // named after the file's first volume column
                    let first = match (f.has(2), wide.first()) {
                        (false, Some(&i)) => wanted[i][0],
                        _ => "requests",
                    };
                    return Err(
                        BadRow::new(row, first, "no volume in any unit column", &None)
                            .in_period(&period),
                    );
                }
            }
            // check every cell before counting any, so a bad row adds nothing
            let mut parsed = Vec::with_capacity(cells.len());
            for (unit, column, cell) in cells {
                let bad = |reason: &str| BadRow::new(row, column, reason, cell).in_period(&period);
                let is_requests = unit == "requests";
                let [negative, too_large, not_a_number] = match is_requests {
                    true => [
                        "negative request count",
                        "request count too large",
                        "not a whole number",
                    ],
                    false => ["negative quantity", "quantity too large", "not a number"],
                };
                let x = match cell.as_deref().map(Money::parse) {
                    Some(Ok(x)) if x.0 < 0 => return Err(bad(negative)),
                    Some(Ok(x)) => x,
                    Some(Err(crate::money::ParseMoneyError::OutOfRange)) => {
                        return Err(bad(too_large))
                    }
                    _ => return Err(bad(not_a_number)),
                };
                let requests = match is_requests {
                    true if x.0 % crate::money::ONE != 0 => return Err(bad(not_a_number)),
                    true => match i64::try_from(x.0 / crate::money::ONE) {
                        Ok(n) => Some(n),
                        Err(_) => return Err(bad(too_large)),
                    },
                    false => None,
                };
                parsed.push((unit, x, requests));
            }
            let key = (period.clone(), model_id.clone());
            let day = c[0]
                .as_deref()
                .filter(|_| dated)
                .and_then(crate::ingest::charge_day);
            if day.is_none() {
                v.monthly_rows += 1;
            }
            for (unit, x, _) in &parsed {
                if let Some(day) = &day {
                    let q = v
                        .days
                        .entry((day.clone(), model_id.clone()))
                        .or_default()
                        .entry(unit.clone())
                        .or_default();
                    // a day's sum is part of its month's, checked below: it cannot leave the range
                    *q = q.checked_add(*x).unwrap_or(*q);
                }
            }
            for (unit, x, requests) in parsed {
                let q = v
                    .units
                    .entry(key.clone())
                    .or_default()
                    .entry(unit.clone())
                    .or_default();
                let sum_q = q.checked_add(x);
                let sum_n = requests.map(|n| {
                    v.requests
                        .get(&key)
                        .copied()
                        .unwrap_or_default()
                        .checked_add(n)
                });
                match (sum_q, sum_n) {
                    (Some(sum), None) => *q = sum,
                    (Some(sum), Some(Some(n))) => {
                        *q = sum;
                        v.requests.insert(key.clone(), n);
                    }
                    (_, sum_n) => {
                        let what = match sum_n {
                            Some(_) => "request count".to_string(),
                            None => format!("`{}` quantity", crate::escape::terminal(&unit, 40)),
                        };
                        overflow.get_or_insert((period.clone(), model_id.clone(), what));
                    }
                }
            }
            Ok(())
        },
        &mut bad,
    )?;
    v.bad_rows = bad;
    if let Some((period, model, what)) = overflow {
        return Err(Error::Overflow {
            what: format!(
                "the {what} of `{}` in {period} in `{}`",
                crate::escape::terminal(&model, 80),
                crate::origin::shown(path)
            ),
            detail: "the sum of its rows leaves a 64-bit count (requests) or decimal(38,18)".into(),
        });
    }
    Ok(v)
}

fn is_blank(cell: &Option<String>) -> bool {
    cell.as_deref().is_none_or(|t| t.trim().is_empty())
}

/// Reads a revenue file: billing_period or date, model_id, and `revenue` and/or
/// `value_preserved` (decimal amounts; negative allowed for refunds).
fn read_revenue(path: &Path, r: &SideReader) -> Result<Revenue> {
    let tagger = r.tagger;
    let f = SideFile::open(
        path,
        &[
            WHEN,
            MODEL,
            &["revenue", "attributed_revenue"],
            &["value_preserved", "value"],
        ],
        r,
    )?;
    if !f.has(0) || !f.has(1) {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "revenue".into(),
            missing: vec!["billing_period or date, model_id".into()],
        });
    }
    if !f.has(2) && !f.has(3) {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "revenue".into(),
            missing: vec!["revenue or value_preserved".into()],
        });
    }
    let mut out = Revenue {
        file: Some(f.file.clone()),
        ..Revenue::default()
    };
    let mut overflow = None;
    let mut bad = Vec::new();
    out.rows = f.rows(
        |row, c| {
            let (period, model_id) = row_key(row, &c[0], &c[1], tagger)?;
            let parse = |column: &'static str, v: &Option<String>| {
                v.as_deref()
                    .map(Money::parse)
                    .transpose()
                    .map_err(|e| BadRow::new(row, column, &e.to_string(), v).in_period(&period))
            };
            let r = parse("revenue", &c[2])?;
            let p = parse("value_preserved", &c[3])?;
            let e = out
                .values
                .entry((period.clone(), model_id.clone()))
                .or_default();
            let add = |sum: Option<Money>, x: Option<Money>| match x {
                Some(x) => sum.unwrap_or_default().checked_add(x).map(Some).ok_or(()),
                None => Ok(sum),
            };
            match (add(e.0, r), add(e.1, p)) {
                (Ok(a), Ok(b)) => *e = (a, b),
                _ => {
                    overflow.get_or_insert((period, model_id));
                }
            }
            Ok(())
        },
        &mut bad,
    )?;
    out.bad_rows = bad;
    if let Some((period, model)) = overflow {
        return Err(Error::Overflow {
            what: format!(
                "the revenue of `{}` in {period} in `{}`",
                crate::escape::terminal(&model, 80),
                crate::origin::shown(path)
            ),
            detail: "the sum of its rows leaves decimal(38,18)".into(),
        });
    }
    Ok(out)
}

/// The first bad row of a file that must be whole (drivers, utilisation), as an error.
fn refuse(path: &Path, bad: &[BadRow], hint: &str) -> Result<()> {
    match bad.first() {
        None => Ok(()),
        Some(b) => Err(Error::Ingest {
            path: path.to_path_buf(),
            message: match b.column {
                "(row)" => format!("row {}: {} ({})", b.row, b.reason, b.value),
                _ => format!("row {}: {}", b.row, b.reason),
            },
            hint: Some(hint.into()),
        }),
    }
}

/// Reads a driver file of a shared pool: period (YYYY-MM or a date), model_id, quantity.
/// The first bad row, in file order, is an error.
fn read_driver(path: &Path, r: &SideReader) -> Result<BTreeMap<(String, String), Money>> {
    let tagger = r.tagger;
    let f = SideFile::open(path, &[WHEN, MODEL, &["quantity", "value", "amount"]], r)?;
    if f.columns.iter().any(Option::is_none) {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "a driver file".into(),
            missing: vec!["period, model_id, quantity".into()],
        });
    }
    let mut out: BTreeMap<(String, String), Money> = BTreeMap::new();
    let mut month_totals: BTreeMap<String, Money> = BTreeMap::new();
    let mut bad = Vec::new();
    f.rows(
        |row, c| {
            let period = c[0]
                .as_deref()
                .and_then(billing_period)
                .ok_or_else(|| BadRow::new(row, "period", "period is not a month", &c[0]))?;
            let model = c[1]
                .as_deref()
                .map(|m| tagger.value(m))
                .filter(|m| !m.is_empty())
                .ok_or_else(|| BadRow::new(row, "model_id", "empty model_id", &c[1]))?;
            let qty = c[2]
                .as_deref()
                .and_then(|q| Money::parse(q).ok())
                .filter(|q| q.0 >= 0)
                .ok_or_else(|| {
                    BadRow::new(
                        row,
                        "quantity",
                        "quantity is not a non-negative number",
                        &c[2],
                    )
                })?;
            // a month's quantities are the weights of one split: their sum must fit too
            let month = month_totals.entry(period.clone()).or_default();
            *month = month.checked_add(qty).ok_or_else(|| {
                BadRow::new(
                    row,
                    "quantity",
                    "the sum of the month's quantities is out of range",
                    &c[2],
                )
            })?;
            let e = out.entry((period, model)).or_default();
            *e = e.checked_add(qty).ok_or_else(|| {
                BadRow::new(
                    row,
                    "quantity",
                    "the sum of quantities is out of range",
                    &c[2],
                )
            })?;
            Ok(())
        },
        &mut bad,
    )?;
    refuse(
        path,
        &bad,
        "a driver file has period (YYYY-MM), model_id and a non-negative quantity",
    )?;
    Ok(out)
}

/// Reads a utilisation file (`mlcost hidden --utilization`): model_id, utilization in (0, 1].
/// The first bad row, in file order, is an error.
fn read_utilization(path: &Path, r: &SideReader) -> Result<BTreeMap<String, Money>> {
    let tagger = r.tagger;
    let f = SideFile::open(path, &[MODEL, &["utilization", "utilisation"]], r)?;
    if f.columns.iter().any(Option::is_none) {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            format: "a utilisation file".into(),
            missing: vec!["model_id, utilization".into()],
        });
    }
    let mut out = BTreeMap::new();
    let mut bad = Vec::new();
    // exact: 10^-6 is a short decimal
    let min = Money::from_f64(crate::config::MIN_UTILIZATION).unwrap_or_default();
    f.rows(
        |row, c| {
            let value = c[1]
                .as_deref()
                .and_then(|x| Money::parse(x).ok())
                .filter(|x| *x >= min && x.0 <= crate::money::ONE);
            let model = c[0]
                .as_deref()
                .map(|m| tagger.value(m))
                .filter(|m| !m.is_empty())
                .ok_or_else(|| BadRow::new(row, "model_id", "empty model_id", &c[0]))?;
            let v = value.ok_or_else(|| {
                BadRow::new(
                    row,
                    "utilization",
                    "utilization must be from 0.000001 to 1",
                    &c[1],
                )
            })?;
            // one utilisation per model: a second row is a mistake, not a sum or an override
            match out.insert(model, v) {
                None => Ok(()),
                Some(_) => Err(BadRow::new(
                    row,
                    "model_id",
                    "the model already has a utilisation",
                    &c[0],
                )),
            }
        },
        &mut bad,
    )?;
    refuse(path, &bad, "45% utilisation is 0.45")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TagsConfig;

    fn with_file(text: &str, f: impl FnOnce(&Path, &SideReader)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("side.csv");
        std::fs::write(&path, text).unwrap();
        let tagger = TagNormaliser::new(&TagsConfig::default());
        f(&path, &SideReader::new(&tagger));
    }

    #[test]
    fn one_rule_for_names_and_bad_rows() {
        // header spellings normalise like billing headers; a date column wins over a month one
        with_file("Model-ID,Billing Period,DATE,Requests\nRanker,2026-09,2026-10-02,5\n,2026-10,2026-10-03,1\n", |p, r| {
            let v = r.volumes(p).unwrap();
            assert_eq!(v.requests[&("2026-10".to_string(), "ranker".to_string())], 5);
            assert_eq!(v.bad_rows.len(), 1);
            assert_eq!((v.bad_rows[0].column, v.bad_rows[0].period.as_deref()), ("model_id", Some("2026-10")));
        });
        // a bad value_preserved is reported as that column, with its own value
        with_file(
            "billing_period,model_id,revenue,value_preserved\n2026-10,m,10,abc\n",
            |p, r| {
                let v = r.revenue(p).unwrap();
                assert_eq!(
                    (v.bad_rows[0].column, v.bad_rows[0].value.as_str()),
                    ("value_preserved", "abc")
                );
            },
        );
        // utilisation: an empty model is not a bad utilisation; a second row for a model is refused
        with_file("model_id,utilization\n,0.5\n", |p, r| {
            let e = r.utilization(p).unwrap_err().to_string();
            assert!(e.contains("row 1: empty model_id"), "{e}");
        });
        with_file("model_id,utilization\nRanker,0.5\nranker,0.6\n", |p, r| {
            let e = r.utilization(p).unwrap_err().to_string();
            assert!(
                e.contains("row 2: the model already has a utilisation"),
                "{e}"
            );
        });
        // wide: an empty cell is a unit the row does not give; a row with none is bad
        with_file(
            "date,model_id,requests,tokens,gpu_hours\n2026-10-01,a,10,1000,\n2026-10-02,a,,500,0.5\n2026-10-03,b,,,\n2026-10-04,b,3,-1,\n",
            |p, r| {
                let v = r.volumes(p).unwrap();
                let a = &v.units[&("2026-10".to_string(), "a".to_string())];
                let shown: Vec<String> = a.iter().map(|(u, q)| format!("{u}={q}")).collect();
                assert_eq!(shown, ["gpu_hours=0.5", "requests=10", "tokens=1500"]);
                assert_eq!(v.requests[&("2026-10".to_string(), "a".to_string())], 10);
                let bad: Vec<(u64, &str, &str)> = v
                    .bad_rows
                    .iter()
                    .map(|b| (b.row, b.column, b.reason.as_str()))
                    .collect();
                // a bad row counts nothing, not even its good cells
                assert_eq!(
                    bad,
                    [
                        (3, "requests", "no volume in any unit column"),
                        (4, "tokens", "negative quantity")
                    ]
                );
                assert!(!v.requests.contains_key(&("2026-10".to_string(), "b".to_string())));
            },
        );
        // long: units are lower-cased and summed; `requests` is whole and fills requests
        with_file(
            "billing_period,model_id,unit,quantity\n2026-10,a,GPU_Hours,1.25\n2026-10,a,gpu_hours,2\n2026-10,a,requests,7\n2026-10,a,requests,1.5\n2026-10,a,,3\n",
            |p, r| {
                let v = r.volumes(p).unwrap();
                let a = &v.units[&("2026-10".to_string(), "a".to_string())];
                assert_eq!(a["gpu_hours"].to_string(), "3.25");
                assert_eq!(v.requests[&("2026-10".to_string(), "a".to_string())], 7);
                let bad: Vec<(&str, &str)> =
                    v.bad_rows.iter().map(|b| (b.column, b.reason.as_str())).collect();
                assert_eq!(
                    bad,
                    [("quantity", "not a whole number"), ("unit", "empty unit")]
                );
            },
        );
        // units compare like column names; a unit of separators only is empty
        with_file(
            "billing_period,model_id,unit,quantity\n2026-10,a,GPU Hours,1\n2026-10,a,gpu-hours,2\n2026-10,a,-,3\n",
            |p, r| {
                let v = r.volumes(p).unwrap();
                let a = &v.units[&("2026-10".to_string(), "a".to_string())];
                assert_eq!(a.keys().collect::<Vec<_>>(), ["gpu_hours"]);
                assert_eq!(a["gpu_hours"].to_string(), "3");
                assert_eq!(v.bad_rows[0].reason, "empty unit");
            },
        );
        // one form per file: both forms, or a unit without a quantity, is refused, not guessed
        for header in [
            "date,model_id,requests,unit,quantity",
            "date,model_id,tokens,unit,quantity",
            "date,model_id,unit,count",
        ] {
            with_file(&format!("{header}\n2026-10-01,a,1,x,2\n"), |p, r| {
                let e = r.volumes(p).unwrap_err();
                let hint = format!("{e:?}");
                assert!(hint.contains("not both"), "{header}: {hint}");
            });
        }
        // neither requests, nor a unit column, nor unit and quantity
        with_file("date,model_id,calls\n2026-10-01,a,1\n", |p, r| {
            let e = r.volumes(p).unwrap_err().to_string();
            assert!(
                e.contains("requests (or a column per unit, or `unit` and `quantity`)"),
                "{e}"
            );
        });
        // drivers sum the rows of a model and month
        with_file(
            "month,model_id,quantity\n2026-10,a,1\n2026-10,A,2\n",
            |p, r| {
                let d = r.driver(p).unwrap();
                assert_eq!(
                    d[&("2026-10".to_string(), "a".to_string())].to_string(),
                    "3"
                );
            },
        );
        // a month's quantities are one split's weights: their sum must fit (it panicked in
        // the split before); the same quantities in two months are fine
        let big = "90000000000000000000";
        with_file(
            &format!("month,model_id,quantity\n2026-10,a,{big}\n2026-10,b,{big}\n"),
            |p, r| {
                let e = format!("{:?}", r.driver(p).unwrap_err());
                assert!(
                    e.contains("the sum of the month's quantities is out of range"),
                    "{e}"
                );
            },
        );
        with_file(
            &format!("month,model_id,quantity\n2026-10,a,{big}\n2026-11,b,{big}\n"),
            |p, r| assert_eq!(r.driver(p).unwrap().len(), 2),
        );
    }
}
