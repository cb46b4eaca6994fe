//! The quarantine files: one CSV line per source row that was not counted, with its file,
//! row, column, reason and value. They are partitioned by month like the tables
//! (`quarantine/billing_period=YYYY-MM/quarantine.csv`), so re-running one month replaces
//! only that month's list; rows that belong to no published month go to
//! `quarantine/other_rows.csv`, which every published run replaces. Cells are defused for
//! spreadsheets (`escape::spreadsheet_cell`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{partition_dir, NO_PERIOD_QUARANTINE, QUARANTINE_DIR, QUARANTINE_FILE};
use crate::error::{Error, Result};
use crate::ingest::QuarantinedRow;

const HEADER: [&str; 5] = ["source_file", "source_row", "column", "reason", "value"];

/// One quarantine file's bytes: a header and one line per row.
pub fn quarantine_csv(rows: &[&QuarantinedRow]) -> Result<Vec<u8>> {
    let fail = |e: csv::Error| Error::Internal(format!("cannot write the quarantine CSV: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(HEADER).map_err(fail)?;
    for r in rows {
        let file = crate::origin::shown(&r.file);
        let row = r.row.to_string();
        let cells = [&file, &row, &r.column, &r.reason, &r.value];
        w.write_record(
            cells
                .iter()
                .map(|c| crate::escape::spreadsheet_cell(c).into_owned()),
        )
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("cannot write the quarantine CSV: {e}")))
}

/// The quarantine files of a run that publishes `periods`: one per published month (with
/// only a header when nothing of that month was quarantined, so an old list is replaced) and
/// `other_rows.csv`. Paths are relative to the output directory.
pub fn quarantine_files(
    rows: &[QuarantinedRow],
    periods: &BTreeSet<String>,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut by_period: BTreeMap<&str, Vec<&QuarantinedRow>> =
        periods.iter().map(|p| (p.as_str(), Vec::new())).collect();
    let mut other = Vec::new();
    for r in rows {
        match r.period.as_deref().and_then(|p| by_period.get_mut(p)) {
            Some(list) => list.push(r),
            None => other.push(r),
        }
    }
    let mut out = Vec::with_capacity(by_period.len() + 1);
    for (p, list) in by_period {
        let path = partition_dir(QUARANTINE_DIR, p).join(QUARANTINE_FILE);
        out.push((path, quarantine_csv(&list)?));
    }
    let path = PathBuf::from(QUARANTINE_DIR).join(NO_PERIOD_QUARANTINE);
    out.push((path, quarantine_csv(&other)?));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: Option<&str>, value: &str) -> QuarantinedRow {
        QuarantinedRow {
            file: "a,b.csv".into(),
            row: 3,
            column: "EffectiveCost".into(),
            reason: "EffectiveCost is not a decimal number".into(),
            value: value.into(),
            period: period.map(str::to_string),
        }
    }

    #[test]
    fn quotes_and_defuses_formulas() {
        let text =
            quarantine_csv(&[&row(None, "1\"2"), &row(None, "=1+2"), &row(None, "-5")]).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "source_file,source_row,column,reason,value\n\
             \"a,b.csv\",3,EffectiveCost,EffectiveCost is not a decimal number,\"1\"\"2\"\n\
             \"a,b.csv\",3,EffectiveCost,EffectiveCost is not a decimal number,'=1+2\n\
             \"a,b.csv\",3,EffectiveCost,EffectiveCost is not a decimal number,-5\n"
        );
    }

    #[test]
    fn rows_go_to_their_published_month_or_to_other_rows() {
        let periods: BTreeSet<String> = ["2026-09".to_string(), "2026-10".to_string()].into();
        let rows = [
            row(Some("2026-10"), "x"),
            row(Some("2026-08"), "y"),
            row(None, "z"),
        ];
        let files = quarantine_files(&rows, &periods).unwrap();
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "quarantine/billing_period=2026-09/quarantine.csv",
                "quarantine/billing_period=2026-10/quarantine.csv",
                "quarantine/other_rows.csv"
            ]
        );
        let lines = |i: usize| {
            String::from_utf8(files[i].1.clone())
                .unwrap()
                .lines()
                .count()
        };
        assert_eq!((lines(0), lines(1), lines(2)), (1, 2, 3));
    }
}
