//! FOCUS datasets besides Cost and Usage (1.3: Contract Commitment; 1.4: Billing Period and
//! Invoice Detail), recognised by their columns and read whole: they hold a row per
//! commitment, month or invoice line, never spend. Also what the Cost and Usage files say
//! about them (`BilledCost` per invoice, commitment use from `ContractApplied`), gathered in
//! one extra pass over those files, made only when such a dataset was given.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::StringChunked;

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

/// The dataset a file is when it is one of the FOCUS datasets that are not spend, told by a
/// column only that dataset has. A file with `EffectiveCost` (mandatory in Cost and Usage, in
/// none of the others) is always Cost and Usage: 1.4 adds `InvoiceDetailId` to it.
pub fn companion(cols: &Columns) -> Option<Dataset> {
    if cols.has("EffectiveCost") || cols.has("AmortizedCost") {
        None
    } else if cols.has("ContractCommitmentId") {
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
    /// `BillingPeriodLastUpdated`: of two rows for one month and issuer, the later wins.
    pub updated: Option<chrono::NaiveDateTime>,
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
    /// `InvoiceDetailId`: a line given in two files is one line.
    pub detail_id: Option<String>,
    pub period: String,
    pub currency: String,
    pub billed: Money,
    /// `InvoiceIssueStatus` (`Open`, `Issued`, `Voided`), when given.
    pub status: Option<String>,
    /// `ChargeCategory` (tax lines are compared apart).
    pub charge_category: Option<String>,
}

/// A file of a dataset that is not spend.
#[derive(Debug, Clone)]
pub struct CompanionFile {
    pub file: super::InputFile,
    pub dataset: Dataset,
    pub rows: u64,
    /// What a person should know about it (rows it replaced from an earlier file).
    pub notes: Vec<String>,
}

/// What the non-spend datasets of a run hold. Files are read in path order; a commitment, an
/// invoice line or a month's status given again in a later file (monthly delivery folders
/// repeat them) replaces the earlier one, so nothing is counted twice.
#[derive(Debug, Default)]
pub struct Companions {
    pub files: Vec<CompanionFile>,
    pub commitments: Vec<Commitment>,
    pub statuses: Vec<PeriodStatus>,
    pub invoice_lines: Vec<InvoiceLine>,
}

/// Adds `new` to `list`, each replacing the items of `list` with the same key (an item without
/// a key replaces nothing); returns how many it replaced.
fn replace_by<T, K: PartialEq>(
    list: &mut Vec<T>,
    new: Vec<T>,
    key: impl Fn(&T) -> Option<K>,
) -> usize {
    let before = list.len();
    let keys: Vec<K> = new.iter().filter_map(&key).collect();
    list.retain(|t| key(t).is_none_or(|k| !keys.contains(&k)));
    let replaced = before - list.len();
    list.extend(new);
    replaced
}

impl Companions {
    pub fn has_invoices(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.dataset == Dataset::InvoiceDetail)
    }

    pub fn has_commitments(&self) -> bool {
        self.files
            .iter()
            .any(|f| f.dataset == Dataset::ContractCommitment)
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
        let (replaced, what) = match dataset {
            Dataset::ContractCommitment => (
                replace_by(&mut self.commitments, table.commitments()?, |c| {
                    Some(c.id.clone())
                }),
                "commitment(s) (same ContractCommitmentId)",
            ),
            Dataset::BillingPeriod => {
                // of two rows for one month and issuer, the later BillingPeriodLastUpdated
                // wins (without it, the later file)
                let mut new = table.statuses()?;
                let key = |s: &PeriodStatus| (s.period.clone(), s.issuer.clone());
                new.retain(|s| {
                    !self.statuses.iter().any(|o| {
                        key(o) == key(s) && o.updated.zip(s.updated).is_some_and(|(a, b)| a > b)
                    })
                });
                (
                    replace_by(&mut self.statuses, new, |s| Some(key(s))),
                    "month status row(s) (same BillingPeriodStart and InvoiceIssuerName)",
                )
            }
            Dataset::InvoiceDetail => (
                replace_by(&mut self.invoice_lines, table.invoice_lines()?, |l| {
                    l.detail_id.clone().map(|d| (l.invoice_id.clone(), d))
                }),
                "invoice line(s) (same InvoiceId and InvoiceDetailId)",
            ),
            Dataset::CostAndUsage => (0, ""),
        };
        let notes = match replaced {
            0 => Vec::new(),
            n => vec![format!("replaces {n} {what} of an earlier file")],
        };
        self.files.push(CompanionFile {
            file: scan.file.clone(),
            dataset,
            rows,
            notes,
        });
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
    "ChargeCategory",
    "InvoiceDetailId",
    "BillingPeriodLastUpdated",
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
                    updated: self
                        .text("BillingPeriodLastUpdated", i)
                        .and_then(|t| super::values::utc_timestamp(&t)),
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
                    detail_id: self.text("InvoiceDetailId", i),
                    period: self.period("BillingPeriodStart", i)?,
                    currency,
                    billed,
                    status: self.text("InvoiceIssueStatus", i),
                    charge_category: self.text("ChargeCategory", i),
                })
            })
            .collect()
    }
}

/// A (invoice id, billing period, currency) key.
pub type InvoiceKey = (String, String, String);

/// Σ `BilledCost` of the Cost and Usage rows of one invoice, tax apart (the spec compares the
/// other charges with a tolerance, tax not at all), with the rows the main read quarantines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct InvoiceSums {
    pub billed: Money,
    pub rows: u64,
    pub tax: Money,
    pub tax_rows: u64,
    /// Rows whose cost-basis column is unreadable: in this sum (their `BilledCost` is on the
    /// invoice) but quarantined, so not in the published tables.
    pub quarantined_billed: Money,
    pub quarantined_rows: u64,
    /// A sum left decimal(38,18): the invoice cannot be compared.
    pub overflow: bool,
}

/// What the Cost and Usage files say about invoices and commitments.
#[derive(Debug, Default)]
pub struct CostAndUsageFacts {
    /// Per invoice (rows with an empty `InvoiceId` under the empty id: not invoiced yet).
    pub billed_by_invoice: BTreeMap<InvoiceKey, InvoiceSums>,
    /// Cost and Usage files without an `InvoiceId` column (their rows cannot be compared).
    pub files_without_invoice_column: Vec<std::path::PathBuf>,
    /// (commitment id, billing period, currency) -> what `ContractApplied` says of it.
    pub applied: BTreeMap<(String, String, String), Applied>,
    /// Rows left out of the invoice sums: no readable period, currency or `BilledCost`.
    pub rows_left_out: u64,
    /// Rows whose `ContractApplied` is not the spec's JSON.
    pub unreadable_contract_applied: u64,
}

/// `ContractApplied` of one commitment in one month, by what the row is: usage the commitment
/// covered (used), its unused portion (`CommitmentDiscountStatus = Unused`) or its purchase.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    pub cost: Money,
    pub quantity: Money,
    pub unit: Option<String>,
    pub rows: u64,
    pub unused_cost: Money,
    pub unused_quantity: Money,
    pub purchase_cost: Money,
    /// A sum left decimal(38,18).
    pub overflow: bool,
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

/// The FOCUS column of a cost basis.
fn basis_column(cols: &Columns, basis: crate::config::CostBasis) -> Option<String> {
    use crate::config::CostBasis;
    cols.find(match basis {
        CostBasis::Effective => &["EffectiveCost", "AmortizedCost"][..],
        CostBasis::Billed => &["BilledCost"],
        CostBasis::List => &["ListCost"],
        CostBasis::Contracted => &["ContractedCost"],
    })
}

/// Adds `b` to `a`, or marks `overflow` (and leaves `a`) when the sum leaves decimal(38,18).
fn add(a: &mut Money, b: Money, overflow: &mut bool) {
    match a.checked_add(b).filter(|m| m.in_range()) {
        Some(sum) => *a = sum,
        None => *overflow = true,
    }
}

/// Whether a text equals `want`, ignoring case and surrounding blanks.
fn is(text: Option<&str>, want: &str) -> bool {
    text.is_some_and(|t| t.trim().eq_ignore_ascii_case(want))
}

/// Reads `BilledCost` per invoice and `ContractApplied` from the FOCUS Cost and Usage files
/// `scans`, for the datasets `companions` holds: one pass over each file that has something to
/// give (an `InvoiceId` column when Invoice Detail was given, a `ContractApplied` column when
/// Contract Commitment was), reading only the columns needed, each value borrowed, never
/// copied per row.
pub fn cost_and_usage_facts(
    scans: &[&RawScan],
    companions: &Companions,
    basis: crate::config::CostBasis,
) -> Result<CostAndUsageFacts> {
    let mut facts = CostAndUsageFacts::default();
    let (want_invoices, want_applied) = (companions.has_invoices(), companions.has_commitments());
    let mut values = ValueCache::default();
    // parsed ContractApplied texts; bounded, so a file of all-distinct values cannot grow it
    // without end (a value seen again after a reset is parsed again)
    let mut parsed: HashMap<String, Option<Elements>> = HashMap::new();
    for scan in scans {
        let cols = Columns::new(&scan.schema);
        let find = |n: &str| cols.find(&[n]);
        let invoice = find("InvoiceId").filter(|_| want_invoices);
        let applied = find("ContractApplied").filter(|_| want_applied);
        if want_invoices && invoice.is_none() {
            facts
                .files_without_invoice_column
                .push(scan.file.path.clone());
        }
        let (Some(period), Some(currency), Some(billed)) = (
            find("BillingPeriodStart"),
            find("BillingCurrency"),
            find("BilledCost"),
        ) else {
            continue;
        };
        if invoice.is_none() && applied.is_none() {
            continue;
        }
        let optional = [
            invoice,
            applied,
            find("ChargeCategory"),
            find("CommitmentDiscountStatus"),
            basis_column(&cols, basis).filter(|_| want_invoices),
        ];
        let mut read = vec![period.clone(), currency.clone(), billed.clone()];
        read.extend(optional.iter().flatten().cloned());
        read.dedup();
        for frame in scan.frames(Some(&read), false, false)? {
            // rows the reader could not read are quarantined by the main read
            let df = frame?.frame;
            let column = |n: &str| -> Result<StringChunked> {
                df.column(n)
                    .map_err(|e| scan.read_error(e))
                    .and_then(|c| as_text(c).map_err(|e| scan.read_error(e)))
            };
            let periods = column(&period)?;
            let currencies = column(&currency)?;
            let costs = column(&billed)?;
            let [invoices, applieds, categories, statuses, basis_costs] = optional
                .clone()
                .map(|c| c.as_deref().map(column).transpose());
            let (invoices, applieds, categories, statuses, basis_costs) =
                (invoices?, applieds?, categories?, statuses?, basis_costs?);
            fn at(v: &Option<StringChunked>, i: usize) -> Option<&str> {
                v.as_ref().and_then(|v| v.get(i))
            }
            for i in 0..df.height() {
                let p = periods.get(i).and_then(|p| values.period(p));
                let c = currencies.get(i).and_then(|c| values.currency(c));
                let cost = costs.get(i).and_then(|t| Money::parse(t.trim()).ok());
                let (Some(p), Some(c), Some(cost)) = (p, c, cost) else {
                    facts.rows_left_out += 1;
                    continue;
                };
                let category = at(&categories, i);
                if let Some(ids) = &invoices {
                    let id = ids.get(i).map(str::trim).unwrap_or("");
                    let key = (id.to_string(), p.clone(), c.clone());
                    let sums = facts.billed_by_invoice.entry(key).or_default();
                    if is(category, "tax") {
                        add(&mut sums.tax, cost, &mut sums.overflow);
                        sums.tax_rows += 1;
                    } else {
                        add(&mut sums.billed, cost, &mut sums.overflow);
                        sums.rows += 1;
                    }
                    let readable = at(&basis_costs, i)
                        .and_then(|t| Money::parse(t.trim()).ok())
                        .is_some_and(|m| m.in_range());
                    if basis_costs.is_some() && !readable {
                        add(&mut sums.quarantined_billed, cost, &mut sums.overflow);
                        sums.quarantined_rows += 1;
                    }
                }
                let Some(text) = at(&applieds, i)
                    .map(str::trim)
                    .filter(|t| !t.is_empty() && *t != "null")
                else {
                    continue;
                };
                if parsed.len() >= 100_000 && !parsed.contains_key(text) {
                    parsed.clear();
                }
                let elements = parsed
                    .entry(text.to_string())
                    .or_insert_with(|| contract_applied(text));
                let Some(elements) = elements else {
                    facts.unreadable_contract_applied += 1;
                    continue;
                };
                let purchase = is(category, "purchase");
                let unused = is(at(&statuses, i), "unused");
                for (id, cost, quantity, unit) in elements.iter() {
                    let a = facts
                        .applied
                        .entry((id.clone(), p.clone(), c.clone()))
                        .or_default();
                    let (cost, quantity) = (cost.unwrap_or_default(), quantity.unwrap_or_default());
                    let mut overflow = a.overflow;
                    if purchase {
                        add(&mut a.purchase_cost, cost, &mut overflow);
                    } else if unused {
                        add(&mut a.unused_cost, cost, &mut overflow);
                        add(&mut a.unused_quantity, quantity, &mut overflow);
                    } else {
                        add(&mut a.cost, cost, &mut overflow);
                        add(&mut a.quantity, quantity, &mut overflow);
                        a.rows += 1;
                    }
                    a.overflow = overflow;
                    if a.unit.is_none() {
                        a.unit.clone_from(unit);
                    }
                }
            }
        }
    }
    Ok(facts)
}

/// A column as text to borrow row by row: strings as they are, a struct or list (a
/// `ContractApplied` written as a Parquet struct) as JSON text, anything else through
/// `text_values`.
fn as_text(c: &polars::prelude::Column) -> polars::prelude::PolarsResult<StringChunked> {
    match c.dtype() {
        polars::prelude::DataType::String => Ok(c.as_materialized_series().str()?.clone()),
        _ => Ok(json_texts(c)?.into_iter().collect()),
    }
}

/// A column's values as text; a struct or list (a `ContractApplied` written as a Parquet
/// struct) as JSON text.
fn json_texts(c: &polars::prelude::Column) -> polars::prelude::PolarsResult<Vec<Option<String>>> {
    use polars::prelude::DataType;
    match c.dtype() {
        DataType::Struct(_) | DataType::List(_) => {
            let s = c.as_materialized_series();
            Ok((0..s.len())
                .map(|i| {
                    s.get(i)
                        .ok()
                        .filter(|v| !v.is_null())
                        .map(|v| super::any_value_json(&v).to_string())
                })
                .collect())
        }
        _ => text_values(c),
    }
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
        // FOCUS 1.4 Cost and Usage has InvoiceDetailId too: EffectiveCost says it is spend
        assert_eq!(
            of(&[
                "InvoiceDetailId",
                "InvoiceId",
                "BilledCost",
                "EffectiveCost"
            ]),
            None
        );
    }

    #[test]
    fn contract_applied_written_as_a_parquet_struct_reads_like_its_json() {
        let id = Series::new("ContractCommitmentId".into(), ["CC-1"]);
        let cost = Series::new("ContractCommitmentAppliedCost".into(), [60.5f64]);
        let element = StructChunked::from_series("e".into(), 1, [id, cost].iter())
            .unwrap()
            .into_series();
        let elements = element
            .implode()
            .unwrap()
            .into_series()
            .with_name("Elements".into());
        let applied = StructChunked::from_series("ContractApplied".into(), 1, [elements].iter())
            .unwrap()
            .into_series()
            .into_column();
        let texts = json_texts(&applied).unwrap();
        let e = contract_applied(texts[0].as_deref().unwrap()).unwrap();
        assert_eq!(e[0].0, "CC-1");
        assert_eq!(e[0].1, Some(Money::parse("60.5").unwrap()));
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
