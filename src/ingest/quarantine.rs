//! Why a source row is not counted: the reasons, the order in which they are checked (shared by
//! the aggregation, the ledger and the listing of rows), and the listing itself.

use std::path::PathBuf;

use polars::prelude::*;
use polars_core::query_result::QueryResult;

use super::{
    bad_row_reason, billing_period, cost_column, currency_code, normalise, text_values, RawScan,
    SourceFormat, ROW_NUMBER,
};
use crate::config::CostBasis;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::schema::line;

/// Why a group of rows was not counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum QuarantineReason {
    /// The basis cost column is empty or null.
    MissingCost(String),
    /// The basis cost column is not a decimal number (or is NaN or inf).
    InvalidCost(String),
    /// The basis cost column is a number too large for decimal(38,18) (found when the row is
    /// listed: the aggregation only knows it did not parse).
    CostOutOfRange(String),
    MissingBillingPeriod,
    InvalidBillingPeriod,
    MissingCurrency,
    InvalidCurrency,
    /// A CSV row with another number of fields than the header: its values cannot be put in
    /// their columns with any confidence.
    WrongFieldCount,
    /// The CSV file ends inside its last row (no line break after it, or an open quote): the
    /// download may be cut, and so may the row's values.
    FileEndsInsideRow,
}

impl QuarantineReason {
    pub fn column(&self) -> &'static str {
        match self {
            QuarantineReason::MissingCost(c)
            | QuarantineReason::InvalidCost(c)
            | QuarantineReason::CostOutOfRange(c) => match c.as_str() {
                "BilledCost" => "BilledCost",
                "ListCost" => "ListCost",
                "ContractedCost" => "ContractedCost",
                _ => "EffectiveCost",
            },
            QuarantineReason::MissingBillingPeriod | QuarantineReason::InvalidBillingPeriod => {
                "BillingPeriodStart"
            }
            QuarantineReason::MissingCurrency | QuarantineReason::InvalidCurrency => {
                "BillingCurrency"
            }
            QuarantineReason::WrongFieldCount | QuarantineReason::FileEndsInsideRow => "(row)",
        }
    }

    pub fn message(&self) -> String {
        match self {
            QuarantineReason::MissingCost(c) => format!("{c} is empty"),
            QuarantineReason::InvalidCost(c) => format!("{c} is not a decimal number"),
            QuarantineReason::CostOutOfRange(c) => {
                format!("{c} is out of range for decimal(38,18)")
            }
            QuarantineReason::MissingBillingPeriod => "BillingPeriodStart is empty".into(),
            QuarantineReason::InvalidBillingPeriod => "BillingPeriodStart is not a date".into(),
            QuarantineReason::MissingCurrency => "BillingCurrency is empty".into(),
            QuarantineReason::InvalidCurrency => "BillingCurrency is not a 3-letter code".into(),
            QuarantineReason::WrongFieldCount => "wrong field count".into(),
            QuarantineReason::FileEndsInsideRow => "file ends inside a row".into(),
        }
    }
}

/// Whether a row (or group) is counted: its basis cost parsed (status 0), its period and
/// currency read. The one rule the ledger (through `quarantine_reason`), the merge across
/// files, the per-file totals and the dictionary reader share.
pub fn is_counted(basis_status: i32, period_ok: bool, currency_ok: bool) -> bool {
    basis_status == super::STATUS_PARSED && period_ok && currency_ok
}

/// Why a row (or group) is quarantined, if it is; checked in this order: a CSV row that could
/// not be read, basis cost, period, currency. `period` and `currency` are the parsed forms of the raw texts.
pub fn quarantine_reason(
    basis: CostBasis,
    basis_status: i32,
    period_raw: Option<&str>,
    period: Option<&String>,
    currency_raw: Option<&str>,
    currency: Option<&str>,
) -> Option<QuarantineReason> {
    if basis_status == super::STATUS_WRONG_FIELD_COUNT {
        Some(QuarantineReason::WrongFieldCount)
    } else if basis_status == super::STATUS_CUT_ROW {
        Some(QuarantineReason::FileEndsInsideRow)
    } else if basis_status == super::STATUS_MISSING {
        Some(QuarantineReason::MissingCost(basis.focus_column().into()))
    } else if basis_status == super::STATUS_NOT_A_NUMBER {
        Some(QuarantineReason::InvalidCost(basis.focus_column().into()))
    } else if period_raw.is_none() {
        Some(QuarantineReason::MissingBillingPeriod)
    } else if period.is_none() {
        Some(QuarantineReason::InvalidBillingPeriod)
    } else if currency_raw.is_none() {
        Some(QuarantineReason::MissingCurrency)
    } else if currency.is_none() {
        Some(QuarantineReason::InvalidCurrency)
    } else {
        None
    }
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
    /// The billing month of the row, when it could be read.
    pub period: Option<String>,
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
        let lines = normalise(scan, format, scan.lazy(true)?, true, basis, false)?;
        super::objects::complete(&scan.file.path, lines.needed.as_deref())?;
        return filter.rows(scan, lines.lf);
    }
    let plan = normalise(scan, format, scan.plan_frame()?, true, basis, false)?;
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
                period: None,
            });
        }
        if frame.frame.height() > 0 {
            let lines = normalise(scan, format, frame.frame.lazy(), true, basis, false)?;
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
        let df = scan.guard(|| {
            lf.filter(pred)
                .select([
                    col(ROW_NUMBER),
                    col(line::BILLING_PERIOD_START),
                    col(line::BILLING_CURRENCY),
                    col(cost),
                    col(raw.as_str()).cast(DataType::String),
                ])
                .collect_with_engine(Engine::Streaming)
                .map_err(|e| scan.read_error(e))
        })?;
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
                (Some(_), _) => super::STATUS_PARSED,
                (None, None) => super::STATUS_MISSING,
                (None, Some(_)) => super::STATUS_NOT_A_NUMBER,
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
            let Some(mut reason) = quarantine_reason(
                basis,
                status,
                p,
                parsed_period.as_ref(),
                c,
                parsed_currency.as_deref(),
            ) else {
                continue;
            };
            // a number too large is not "not a number": say which
            if let QuarantineReason::InvalidCost(col) = &reason {
                let raw = raws[i].as_deref().unwrap_or_default();
                if Money::parse(raw) == Err(crate::money::ParseMoneyError::OutOfRange) {
                    reason = QuarantineReason::CostOutOfRange(col.clone());
                }
            }
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
                period: parsed_period,
            });
        }
        Ok(out)
    }
}
