//! FOCUS datasets besides Cost and Usage (1.3: Contract Commitment; 1.4: Billing Period and
//! Invoice Detail), recognised by their columns and read whole: they hold a row per
//! commitment, month or invoice line, never spend. Also what the Cost and Usage files say
//! about them (`BilledCost` per invoice, commitment use from `ContractApplied`), gathered in
//! one extra pass over those files, made only when such a dataset was given.

use std::collections::{BTreeMap, HashMap};

use super::columns::Columns;
use super::{text_values, RawScan, ValueCache, ROW_NUMBER};
use crate::error::{Error, Result};
use crate::money::Money;

/// The FOCUS datasets mlcost tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    CostAndUsage,
    ContractCommitment,
    BillingPeriod,
    InvoiceDetail,
}

impl Dataset {
    pub fn name(self) -> &'static str {
        match self {
            Dataset::CostAndUsage => "cost_and_usage",
            Dataset::ContractCommitment => "contract_commitment",
            Dataset::BillingPeriod => "billing_period",
            Dataset::InvoiceDetail => "invoice_detail",
        }
    }

    /// The spec's name of the dataset, for messages.
    fn title(self) -> &'static str {
        match self {
            Dataset::CostAndUsage => "FOCUS Cost and Usage",
            Dataset::ContractCommitment => "FOCUS Contract Commitment",
            Dataset::BillingPeriod => "FOCUS Billing Period",
            Dataset::InvoiceDetail => "FOCUS Invoice Detail",
        }
    }

    /// The columns mlcost reads from the dataset (alternatives per entry); the spec has more.
    fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            Dataset::CostAndUsage => &[],
            Dataset::ContractCommitment => &[
                &["ContractCommitmentId"],
                &["ContractCommitmentPeriodStart"],
                &["ContractCommitmentPeriodEnd"],
            ],
            Dataset::BillingPeriod => &[&["BillingPeriodStart"], &["BillingPeriodStatus"]],
            Dataset::InvoiceDetail => &[
                &["InvoiceId"],
                &["BillingPeriodStart"],
                &["BillingCurrency"],
                &["BilledCost"],
            ],
        }
    }
}

/// The dataset a file is when it is one of the FOCUS datasets that are not spend, told by the
/// column only that dataset has (Cost and Usage has none of them).
pub fn companion(cols: &Columns) -> Option<Dataset> {
    if cols.has("ContractCommitmentId") {
        Some(Dataset::ContractCommitment)
    } else if cols.has("InvoiceDetailId") {
        Some(Dataset::InvoiceDetail)
    } else if cols.has("BillingPeriodStatus") {
        Some(Dataset::BillingPeriod)
    } else {
        None
    }
}

/// One commitment of the Contract Commitment dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Commitment {
    pub id: String,
    pub contract_id: Option<String>,
    pub category: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub cost: Option<Money>,
    pub quantity: Option<Money>,
    pub unit: Option<String>,
    pub start: chrono::NaiveDateTime,
    pub end: chrono::NaiveDateTime,
}

/// One row of the Billing Period dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodStatus {
    /// `YYYY-MM`.
    pub period: String,
    pub issuer: Option<String>,
    /// `Open` or `Closed`, as the spec spells them.
    pub status: PeriodState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodState {
    Open,
    Closed,
}

/// One line of the Invoice Detail dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLine {
    pub invoice_id: String,
    pub period: String,
    pub currency: String,
    pub billed: Money,
    /// `InvoiceIssueStatus` (`Open`, `Issued`, `Voided`), when given.
    pub status: Option<String>,
}

/// What the non-spend datasets of a run hold.
#[derive(Debug, Default)]
pub struct Companions {
    /// Each companion file with its dataset and rows read.
    pub files: Vec<(super::InputFile, Dataset, u64)>,
    pub commitments: Vec<Commitment>,
    pub statuses: Vec<PeriodStatus>,
    pub invoice_lines: Vec<InvoiceLine>,
}

impl Companions {
    pub fn has_invoices(&self) -> bool {
        self.files
            .iter()
            .any(|(_, d, _)| *d == Dataset::InvoiceDetail)
    }

    pub fn has_commitments(&self) -> bool {
        self.files
            .iter()
            .any(|(_, d, _)| *d == Dataset::ContractCommitment)
    }

    /// Reads a file of `dataset` whole and adds what it holds.
    pub fn read(&mut self, scan: &RawScan, dataset: Dataset) -> Result<()> {
        let cols = Columns::new(&scan.schema);
        let missing = cols.missing(dataset.required());
        if !missing.is_empty() {
            return Err(Error::MissingColumns {
                path: scan.file.path.clone(),
                format: dataset.title().to_string(),
                missing,
            });
        }
        let table = Table::read(scan, &cols)?;
        let rows = table.filled().count() as u64;
        match dataset {
            Dataset::ContractCommitment => self.commitments.extend(table.commitments()?),
            Dataset::BillingPeriod => self.statuses.extend(table.statuses()?),
            Dataset::InvoiceDetail => self.invoice_lines.extend(table.invoice_lines()?),
            Dataset::CostAndUsage => {}
        }
        self.files.push((scan.file.clone(), dataset, rows));
        Ok(())
    }
}

/// A small dataset read whole as text, by normalised column name.
struct Table<'a> {
    scan: &'a RawScan,
    rows: usize,
    /// FOCUS name -> (actual name, values).
    columns: HashMap<&'static str, (String, Vec<Option<String>>)>,
    row_numbers: Vec<u64>,
}

/// Every column the companion datasets are read for.
const READ: &[&str] = &[
    "ContractCommitmentId",
    "ContractId",
    "ContractCommitmentCategory",
    "ContractCommitmentType",
    "ContractCommitmentDescription",
    "BillingCurrency",
    "ContractCommitmentCost",
    "ContractCommitmentQuantity",
    "ContractCommitmentUnit",
    "ContractCommitmentPeriodStart",
    "ContractCommitmentPeriodEnd",
    "BillingPeriodStart",
    "BillingPeriodStatus",
    "InvoiceIssuerName",
    "InvoiceId",
    "BilledCost",
    "InvoiceIssueStatus",
];

impl<'a> Table<'a> {
    fn read(scan: &'a RawScan, cols: &Columns) -> Result<Table<'a>> {
        let present: Vec<(&'static str, String)> = READ
            .iter()
            .filter_map(|n| cols.find(&[n]).map(|a| (*n, a)))
            .collect();
        let actual: Vec<String> = present.iter().map(|(_, a)| a.clone()).collect();
        let mut columns: HashMap<&'static str, (String, Vec<Option<String>>)> = present
            .iter()
            .map(|(n, a)| (*n, (a.clone(), Vec::new())))
            .collect();
        let mut row_numbers = Vec::new();
        for frame in scan.frames(Some(&actual), true, true)? {
            let frame = frame?;
            if let Some(bad) = frame.bad.first() {
                return Err(Error::Ingest {
                    path: scan.file.path.clone(),
                    message: match bad.problem {
                        super::csv::RowProblem::WrongFieldCount { fields, header } => {
                            format!("row {} has {fields} field(s), the header {header}", bad.row)
                        }
                        super::csv::RowProblem::EndsInsideRow => {
                            format!("the file ends inside row {}", bad.row)
                        }
                    },
                    hint: Some("this dataset is read whole: fix or export the file again".into()),
                });
            }
            let df = frame.frame;
            let numbers = df
                .column(ROW_NUMBER)
                .map_err(|e| scan.read_error(e))
                .and_then(|c| text_values(c).map_err(|e| scan.read_error(e)))?;
            row_numbers.extend(
                numbers
                    .iter()
                    .map(|n| n.as_deref().and_then(|n| n.parse().ok()).unwrap_or(0)),
            );
            for (_, (actual, values)) in columns.iter_mut() {
                let c = df.column(actual).map_err(|e| scan.read_error(e))?;
                values.extend(text_values(c).map_err(|e| scan.read_error(e))?);
            }
        }
        Ok(Table {
            scan,
            rows: row_numbers.len(),
            columns,
            row_numbers,
        })
    }

    /// Row `i`'s value of FOCUS column `name`: trimmed, None when absent, null or blank.
    fn text(&self, name: &str, i: usize) -> Option<String> {
        let (_, values) = self.columns.get(name)?;
        values[i]
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn bad(&self, i: usize, name: &str, message: String, hint: &str) -> Error {
        let actual = self.columns.get(name).map_or(name, |(a, _)| a.as_str());
        Error::Ingest {
            path: self.scan.file.path.clone(),
            message: format!("row {}, column `{actual}`: {message}", self.row_numbers[i]),
            hint: Some(hint.to_string()),
        }
    }

    /// A row whose every column is empty: a blank line of a CSV file, skipped.
    fn blank(&self, i: usize) -> bool {
        self.columns.keys().all(|n| self.text(n, i).is_none())
    }

    /// The rows that are not blank.
    fn filled(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.rows).filter(|&i| !self.blank(i))
    }

    fn required(&self, name: &str, i: usize) -> Result<String> {
        self.text(name, i).ok_or_else(|| {
            self.bad(
                i,
                name,
                "is empty".into(),
                "the FOCUS specification makes this column not null",
            )
        })
    }

    fn money(&self, name: &str, i: usize) -> Result<Option<Money>> {
        self.text(name, i)
            .map(|t| {
                Money::parse(&t).map_err(|_| {
                    self.bad(
                        i,
                        name,
                        format!("`{t}` is not a decimal number"),
                        "write the amount as a plain decimal such as 1234.56",
                    )
                })
            })
            .transpose()
    }

    fn instant(&self, name: &str, i: usize) -> Result<chrono::NaiveDateTime> {
        let t = self.required(name, i)?;
        super::values::utc_timestamp(&t).ok_or_else(|| {
            self.bad(
                i,
                name,
                format!("`{t}` is not a date or timestamp"),
                "FOCUS writes date/times as ISO 8601 in UTC, e.g. 2026-10-01T00:00:00Z",
            )
        })
    }

    fn period(&self, name: &str, i: usize) -> Result<String> {
        let t = self.required(name, i)?;
        super::billing_period(&t).ok_or_else(|| {
            self.bad(
                i,
                name,
                format!("`{t}` is not a billing period start"),
                "FOCUS writes date/times as ISO 8601 in UTC, e.g. 2026-10-01T00:00:00Z",
            )
        })
    }

    fn commitments(&self) -> Result<Vec<Commitment>> {
        self.filled()
            .map(|i| {
                let (start, end) = (
                    self.instant("ContractCommitmentPeriodStart", i)?,
                    self.instant("ContractCommitmentPeriodEnd", i)?,
                );
                if end <= start {
                    return Err(self.bad(
                        i,
                        "ContractCommitmentPeriodEnd",
                        "is not after ContractCommitmentPeriodStart".into(),
                        "the end of a FOCUS period is exclusive and after its start",
                    ));
                }
                Ok(Commitment {
                    id: self.required("ContractCommitmentId", i)?,
                    contract_id: self.text("ContractId", i),
                    category: self.text("ContractCommitmentCategory", i),
                    kind: self.text("ContractCommitmentType", i),
                    description: self.text("ContractCommitmentDescription", i),
                    currency: self
                        .text("BillingCurrency", i)
                        .map(|c| super::currency_code(&c).unwrap_or(c)),
                    cost: self.money("ContractCommitmentCost", i)?,
                    quantity: self.money("ContractCommitmentQuantity", i)?,
                    unit: self.text("ContractCommitmentUnit", i),
                    start,
                    end,
                })
            })
            .collect()
    }

    fn statuses(&self) -> Result<Vec<PeriodStatus>> {
        self.filled()
            .map(|i| {
                let status = self.required("BillingPeriodStatus", i)?;
                let status = match status.to_ascii_lowercase().as_str() {
                    "open" => PeriodState::Open,
                    "closed" => PeriodState::Closed,
                    _ => {
                        return Err(self.bad(
                            i,
                            "BillingPeriodStatus",
                            format!("`{status}` is not a billing period status"),
                            "FOCUS allows `Open` or `Closed`",
                        ))
                    }
                };
                Ok(PeriodStatus {
                    period: self.period("BillingPeriodStart", i)?,
                    issuer: self.text("InvoiceIssuerName", i),
                    status,
                })
            })
            .collect()
    }

    fn invoice_lines(&self) -> Result<Vec<InvoiceLine>> {
        self.filled()
            .map(|i| {
                let currency = self.required("BillingCurrency", i)?;
                let currency = super::currency_code(&currency).ok_or_else(|| {
                    self.bad(
                        i,
                        "BillingCurrency",
                        format!("`{currency}` is not a currency code"),
                        "FOCUS writes ISO 4217 codes such as USD",
                    )
                })?;
                let billed = self.money("BilledCost", i)?.ok_or_else(|| {
                    self.bad(
                        i,
                        "BilledCost",
                        "is empty".into(),
                        "the FOCUS specification makes this column not null",
                    )
                })?;
                Ok(InvoiceLine {
                    invoice_id: self.required("InvoiceId", i)?,
                    period: self.period("BillingPeriodStart", i)?,
                    currency,
                    billed,
                    status: self.text("InvoiceIssueStatus", i),
                })
            })
            .collect()
    }
}

/// A (invoice id, billing period, currency) key.
pub type InvoiceKey = (String, String, String);

/// What the Cost and Usage files say about invoices and commitments.
#[derive(Debug, Default)]
pub struct CostAndUsageFacts {
    /// Σ BilledCost and rows per invoice (rows without an `InvoiceId` under an empty id).
    pub billed_by_invoice: BTreeMap<InvoiceKey, (Money, u64)>,
    /// Whether any Cost and Usage file has an `InvoiceId` column.
    pub has_invoice_ids: bool,
    /// (commitment id, billing period) -> applied cost, applied quantity (with its unit).
    pub applied: BTreeMap<(String, String), Applied>,
    /// Rows left out: no readable period, currency or BilledCost (quarantined by the main
    /// read), or a `ContractApplied` that is not the spec's JSON.
    pub rows_left_out: u64,
    pub unreadable_contract_applied: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    pub cost: Money,
    pub quantity: Money,
    pub unit: Option<String>,
    pub rows: u64,
}

/// The elements of one `ContractApplied` value: (commitment id, applied cost, applied
/// quantity, unit). None when the text is not the spec's object with `Elements`.
type Elements = Vec<(String, Option<Money>, Option<Money>, Option<String>)>;

/// Parses a `ContractApplied` value. An amount written as a JSON string is read exactly; a
/// JSON number goes through its shortest round-trip text as a double, the same rule as a
/// double cost column (so beyond 15 significant digits, write amounts as strings).
pub fn contract_applied(text: &str) -> Option<Elements> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let elements = v.get("Elements")?.as_array()?;
    let field = |e: &serde_json::Value, names: &[&str]| -> Option<serde_json::Value> {
        names.iter().find_map(|n| e.get(*n).cloned())
    };
    let money = |v: Option<serde_json::Value>| -> std::result::Result<Option<Money>, ()> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Number(n)) => {
                Money::parse(&n.to_string()).map(Some).map_err(|_| ())
            }
            Some(serde_json::Value::String(s)) => Money::parse(&s).map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    };
    let mut out = Vec::with_capacity(elements.len());
    for e in elements {
        // errata 3 of FOCUS 1.3: the text printed `...ID`; the spec's key is `...Id`
        let id = field(e, &["ContractCommitmentId", "ContractCommitmentID"])?;
        let id = id.as_str()?.trim().to_string();
        if id.is_empty() {
            return None;
        }
        let cost = money(field(e, &["ContractCommitmentAppliedCost"])).ok()?;
        let quantity = money(field(e, &["ContractCommitmentAppliedQuantity"])).ok()?;
        let unit = field(e, &["ContractCommitmentAppliedUnit"])
            .and_then(|u| u.as_str().map(str::to_string));
        out.push((id, cost, quantity, unit));
    }
    Some(out)
}

/// Reads `BilledCost` per invoice and `ContractApplied` from the FOCUS Cost and Usage files
/// `scans` (one pass each, only the columns needed), for the datasets `companions` holds.
pub fn cost_and_usage_facts(
    scans: &[&RawScan],
    companions: &Companions,
) -> Result<CostAndUsageFacts> {
    let mut facts = CostAndUsageFacts::default();
    let (want_invoices, want_applied) = (companions.has_invoices(), companions.has_commitments());
    if !want_invoices && !want_applied {
        return Ok(facts);
    }
    let mut values = ValueCache::default();
    let mut parsed: HashMap<String, Option<Elements>> = HashMap::new();
    for scan in scans {
        let cols = Columns::new(&scan.schema);
        let find = |n: &str| cols.find(&[n]);
        let (Some(period), Some(currency), Some(billed)) = (
            find("BillingPeriodStart"),
            find("BillingCurrency"),
            find("BilledCost"),
        ) else {
            continue;
        };
        let invoice = find("InvoiceId").filter(|_| want_invoices);
        let applied = find("ContractApplied").filter(|_| want_applied);
        facts.has_invoice_ids |= invoice.is_some();
        let mut read = vec![period.clone(), currency.clone(), billed.clone()];
        read.extend(invoice.iter().cloned());
        read.extend(applied.iter().cloned());
        for frame in scan.frames(Some(&read), false, false)? {
            // rows the reader could not read are quarantined by the main read
            let df = frame?.frame;
            let column = |n: &str| -> Result<Vec<Option<String>>> {
                df.column(n)
                    .map_err(|e| scan.read_error(e))
                    .and_then(|c| text_values(c).map_err(|e| scan.read_error(e)))
            };
            let periods = column(&period)?;
            let currencies = column(&currency)?;
            let costs = column(&billed)?;
            let invoices = invoice.as_deref().map(column).transpose()?;
            let applieds = applied.as_deref().map(column).transpose()?;
            for i in 0..df.height() {
                let p = periods[i].as_deref().and_then(|p| values.period(p));
                let c = currencies[i].as_deref().and_then(|c| values.currency(c));
                let cost = costs[i]
                    .as_deref()
                    .and_then(|t| Money::parse(t.trim()).ok());
                let (Some(p), Some(c), Some(cost)) = (p, c, cost) else {
                    facts.rows_left_out += 1;
                    continue;
                };
                if want_invoices {
                    let id = invoices
                        .as_ref()
                        .and_then(|v| v[i].as_deref())
                        .map(str::trim)
                        .unwrap_or("")
                        .to_string();
                    let entry = facts
                        .billed_by_invoice
                        .entry((id, p.clone(), c.clone()))
                        .or_default();
                    entry.0 = checked(entry.0, cost, "BilledCost per invoice")?;
                    entry.1 += 1;
                }
                let Some(text) = applieds
                    .as_ref()
                    .and_then(|v| v[i].as_deref())
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                else {
                    continue;
                };
                let elements = parsed
                    .entry(text.to_string())
                    .or_insert_with(|| contract_applied(text));
                let Some(elements) = elements else {
                    facts.unreadable_contract_applied += 1;
                    continue;
                };
                for (id, cost, quantity, unit) in elements.iter() {
                    let a = facts.applied.entry((id.clone(), p.clone())).or_default();
                    if let Some(cost) = cost {
                        a.cost = checked(a.cost, *cost, "ContractCommitmentAppliedCost")?;
                    }
                    if let Some(q) = quantity {
                        a.quantity = checked(a.quantity, *q, "ContractCommitmentAppliedQuantity")?;
                    }
                    if a.unit.is_none() {
                        a.unit.clone_from(unit);
                    }
                    a.rows += 1;
                }
            }
        }
    }
    Ok(facts)
}

fn checked(a: Money, b: Money, what: &str) -> Result<Money> {
    a.checked_add(b).ok_or_else(|| Error::Overflow {
        what: format!("the sum of {what}"),
        detail: format!("{a} + {b}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn schema(names: &[&str]) -> Schema {
        names
            .iter()
            .map(|n| Field::new((*n).into(), DataType::String))
            .collect()
    }

    #[test]
    fn tells_the_datasets_apart_by_their_columns() {
        let of = |names: &[&str]| companion(&Columns::new(&schema(names)));
        assert_eq!(
            of(&["ContractCommitmentId", "ContractCommitmentPeriodStart"]),
            Some(Dataset::ContractCommitment)
        );
        assert_eq!(
            of(&[
                "InvoiceDetailId",
                "InvoiceId",
                "BilledCost",
                "BillingCurrency"
            ]),
            Some(Dataset::InvoiceDetail)
        );
        assert_eq!(
            of(&["BillingPeriodStart", "BillingPeriodStatus"]),
            Some(Dataset::BillingPeriod)
        );
        // Cost and Usage (it has InvoiceId and ContractApplied, which are not markers)
        assert_eq!(
            of(&[
                "BillingPeriodStart",
                "BilledCost",
                "EffectiveCost",
                "InvoiceId",
                "ContractApplied"
            ]),
            None
        );
    }

    #[test]
    fn reads_contract_applied_in_both_spellings_and_exact_digits() {
        let e = contract_applied(
            r#"{"Elements":[{"ContractID":"c","ContractCommitmentID":"a","ContractCommitmentAppliedCost":0.1},
                {"ContractId":"c","ContractCommitmentId":"b","ContractCommitmentAppliedQuantity":"10.000000000000000001","ContractCommitmentAppliedUnit":"Hours"}]}"#,
        )
        .unwrap();
        assert_eq!(e[0].0, "a");
        assert_eq!(e[0].1, Some(Money::parse("0.1").unwrap()));
        assert_eq!(e[1].2, Some(Money::parse("10.000000000000000001").unwrap()));
        assert_eq!(e[1].3.as_deref(), Some("Hours"));
        // not the spec's shape: no Elements, an element without an id, a cost that is text
        assert!(contract_applied(r#"[{"ContractCommitmentId":"a"}]"#).is_none());
        assert!(
            contract_applied(r#"{"Elements":[{"ContractCommitmentAppliedCost":1}]}"#).is_none()
        );
        assert!(contract_applied(
            r#"{"Elements":[{"ContractCommitmentId":"a","ContractCommitmentAppliedCost":"ten"}]}"#
        )
        .is_none());
        assert!(contract_applied("not json").is_none());
    }
}
