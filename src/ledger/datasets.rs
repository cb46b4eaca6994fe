//! What the FOCUS datasets besides Cost and Usage say about the months of a run: each
//! invoice reconciled (Σ `BilledCost` per invoice in Cost and Usage against the Invoice
//! Detail lines), each month's billing status (provisional while its Billing Period is open,
//! final once closed) and each commitment's use per month (Contract Commitment against the
//! `ContractApplied` amounts of Cost and Usage). No I/O; exact decimals throughout.

use std::collections::{BTreeMap, BTreeSet};

use crate::ingest::focus_datasets::{Commitment, InvoiceSums, PeriodState};
use crate::ingest::{Companions, CostAndUsageFacts};
use crate::money::Money;

/// The outcome of one invoice's reconciliation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceResult {
    /// Cost and Usage adds up to the invoice's charges other than tax, to the last decimal.
    Match,
    /// It differs by no more than the spec's rounding variance tolerance
    /// (`MAX(100 x subunit, SQRT(rows) x 0.5 x subunit)`): invoices are rounded to the
    /// currency's subunit, cost rows are not.
    WithinTolerance,
    /// It differs by more (`difference` says by how much), or names a voided invoice.
    Mismatch,
    /// The invoice is still `Open`: the spec lets it differ (the difference is shown).
    Open,
    /// It could not be compared (`reason` says why).
    NotChecked,
}

impl InvoiceResult {
    pub fn name(self) -> &'static str {
        match self {
            InvoiceResult::Match => "match",
            InvoiceResult::WithinTolerance => "within_tolerance",
            InvoiceResult::Mismatch => "mismatch",
            InvoiceResult::Open => "open",
            InvoiceResult::NotChecked => "not_checked",
        }
    }
}

/// One invoice (per billing period and currency) reconciled: its charges other than tax are
/// compared (the spec's rule); tax is shown beside them, since many Cost and Usage exports
/// carry none.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct InvoiceCheck {
    pub invoice_id: String,
    pub billing_period: String,
    pub currency: String,
    /// `InvoiceIssueStatus` of its lines (`Issued`, `Open`, `Voided`), when given.
    pub invoice_status: Option<String>,
    /// Σ `BilledCost` of the invoice's lines other than tax in Invoice Detail (voided lines
    /// left out).
    pub invoiced: Money,
    /// Σ `BilledCost` of the Cost and Usage rows other than tax with this `InvoiceId`.
    pub cost_and_usage: Money,
    pub cost_and_usage_rows: u64,
    /// `cost_and_usage - invoiced`.
    pub difference: Money,
    /// The spec's rounding variance tolerance for this invoice.
    pub tolerance: Option<Money>,
    pub invoiced_tax: Money,
    pub cost_and_usage_tax: Money,
    /// Rows of the invoice the run quarantined (their cost basis is unreadable): in
    /// `cost_and_usage`, not in the published tables.
    pub quarantined_rows: u64,
    pub quarantined_billed: Money,
    pub result: InvoiceResult,
    pub reason: Option<String>,
}

/// Whether a month's bill can still change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BillingStatus {
    /// Some Billing Period row of the month is `Open`: the provider may still restate it.
    Provisional,
    /// Every Billing Period row of the month is `Closed`.
    Final,
}

impl BillingStatus {
    pub fn name(self) -> &'static str {
        match self {
            BillingStatus::Provisional => "provisional",
            BillingStatus::Final => "final",
        }
    }
}

/// One commitment in one month of the run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CommitmentUse {
    pub billing_period: String,
    pub commitment_id: String,
    pub contract_id: Option<String>,
    /// `Spend` or `Usage`.
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
    pub currency: Option<String>,
    /// The commitment's period, as Contract Commitment gives it (end exclusive); null for a
    /// commitment Cost and Usage applies but Contract Commitment does not list.
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    /// Over the whole commitment period.
    pub commitment_cost: Option<Money>,
    pub commitment_quantity: Option<Money>,
    pub unit: Option<String>,
    /// The month's share of the commitment: its cost and quantity times the part of the
    /// commitment period inside the month (by the second), rounded at 18 decimals.
    pub month_cost: Option<Money>,
    pub month_quantity: Option<Money>,
    /// Σ of `ContractApplied` elements naming the commitment on the month's usage rows: what
    /// was used of it (its unused-portion and purchase rows are apart).
    pub applied_cost: Money,
    pub applied_quantity: Money,
    pub applied_rows: u64,
    /// `ContractApplied` on the commitment's unused-portion rows
    /// (`CommitmentDiscountStatus = Unused`) and on its purchase rows.
    pub unused_cost: Money,
    pub unused_quantity: Money,
    pub purchase_cost: Money,
    /// Applied over the month's share, x 100: cost for a `Spend` commitment, quantity for a
    /// `Usage` one (truncated at 18 decimals); null when there is no share to compare with.
    pub used_pct: Option<Money>,
    pub in_contract_commitment: bool,
}

/// Everything the non-spend datasets add to a run.
#[derive(Debug, Clone, Default)]
pub struct DatasetFacts {
    pub invoices: Vec<InvoiceCheck>,
    /// Months with a Billing Period row, and their status.
    pub statuses: BTreeMap<String, BillingStatus>,
    pub commitments: Vec<CommitmentUse>,
    /// Cost and Usage rows whose `ContractApplied` is not the spec's JSON.
    pub unreadable_contract_applied: u64,
    /// Cost and Usage rows left out of the invoice sums (no readable period, currency or
    /// `BilledCost`).
    pub invoice_rows_left_out: u64,
}

/// One invoice that did not match exactly, in a sentence.
pub fn finding(i: &InvoiceCheck) -> String {
    let id = match i.invoice_id.is_empty() {
        true => "(no InvoiceId)".to_string(),
        false => format!("`{}`", i.invoice_id),
    };
    let amounts = format!(
        "invoiced {}, Cost and Usage {} (difference {}",
        i.invoiced, i.cost_and_usage, i.difference
    );
    let tolerance = i
        .tolerance
        .map(|t| format!(", tolerance {t}"))
        .unwrap_or_default();
    let reason = i
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let head = format!("invoice {id} {} {}", i.billing_period, i.currency);
    match i.result {
        InvoiceResult::Match => format!("{head} matches"),
        InvoiceResult::WithinTolerance => {
            format!("{head} within the rounding tolerance: {amounts}{tolerance})")
        }
        InvoiceResult::Mismatch => {
            format!("{head} does not reconcile: {amounts}{tolerance}){reason}")
        }
        InvoiceResult::Open => format!("{head} is still Open, so it may differ: {amounts})"),
        InvoiceResult::NotChecked => format!("{head} not checked{reason}"),
    }
}

/// What the non-spend datasets say about `periods` (the months of the run); `months` are
/// the (month, currency) pairs the run counted spend in.
pub fn assess(
    companions: &Companions,
    cu: &CostAndUsageFacts,
    periods: &BTreeSet<String>,
    months: &BTreeSet<(String, String)>,
) -> DatasetFacts {
    DatasetFacts {
        invoices: match companions.has_invoices() {
            true => invoices(companions, cu, periods, months),
            false => Vec::new(),
        },
        statuses: statuses(companions, periods),
        commitments: commitments(&companions.commitments, cu, periods),
        unreadable_contract_applied: cu.unreadable_contract_applied,
        invoice_rows_left_out: match companions.has_invoices() {
            true => cu.rows_left_out,
            false => 0,
        },
    }
}

/// What Invoice Detail says of one invoice.
#[derive(Default)]
struct Invoiced {
    billed: Money,
    tax: Money,
    statuses: BTreeSet<String>,
    /// Every line is voided.
    voided: bool,
    overflow: bool,
}

fn invoices(
    companions: &Companions,
    cu: &CostAndUsageFacts,
    periods: &BTreeSet<String>,
    months: &BTreeSet<(String, String)>,
) -> Vec<InvoiceCheck> {
    type Key = (String, String, String);
    let mut invoiced: BTreeMap<Key, Invoiced> = BTreeMap::new();
    // months Invoice Detail speaks of (voided lines included: the month was invoiced)
    let mut detailed: BTreeSet<&str> = BTreeSet::new();
    for l in companions
        .invoice_lines
        .iter()
        .filter(|l| periods.contains(&l.period))
    {
        detailed.insert(&l.period);
        let key = (l.period.clone(), l.currency.clone(), l.invoice_id.clone());
        let fresh = !invoiced.contains_key(&key);
        let inv = invoiced.entry(key).or_default();
        let status = l.status.as_deref().map(str::trim).unwrap_or("");
        let voided = status.eq_ignore_ascii_case("voided");
        inv.voided = (fresh || inv.voided) && voided;
        if !status.is_empty() {
            inv.statuses.insert(status.to_string());
        }
        if voided {
            continue;
        }
        let tax = l
            .charge_category
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("tax"));
        let sum = if tax { &mut inv.tax } else { &mut inv.billed };
        match sum.checked_add(l.billed).filter(|m| m.in_range()) {
            Some(m) => *sum = m,
            None => inv.overflow = true,
        }
    }
    let mut billed: BTreeMap<Key, &InvoiceSums> = BTreeMap::new();
    for ((id, period, currency), v) in &cu.billed_by_invoice {
        if periods.contains(period) {
            billed.insert((period.clone(), currency.clone(), id.clone()), v);
        }
    }
    let none = InvoiceSums::default();
    let keys: BTreeSet<&Key> = invoiced.keys().chain(billed.keys()).collect();
    let mut out: Vec<InvoiceCheck> = keys
        .into_iter()
        .map(|key| {
            let (period, currency, id) = key;
            let inv = invoiced.get(key);
            let sums = billed.get(key).copied().unwrap_or(&none);
            let open =
                inv.is_some_and(|i| i.statuses.iter().any(|s| s.eq_ignore_ascii_case("open")));
            let zero = Money::default();
            let invoiced_billed = inv.map_or(zero, |i| i.billed);
            let difference = sums
                .billed
                .checked_sub(invoiced_billed)
                .filter(|m| m.in_range());
            let tolerance = tolerance(currency, sums.rows);
            let (result, reason) = if !cu.files_without_invoice_column.is_empty() {
                (
                    InvoiceResult::NotChecked,
                    Some("a Cost and Usage file has no InvoiceId column: its rows may belong to this invoice".to_string()),
                )
            } else if id.is_empty() {
                (
                    InvoiceResult::NotChecked,
                    Some("Cost and Usage rows without an InvoiceId (not invoiced yet)".to_string()),
                )
            } else if !detailed.contains(period.as_str()) {
                (
                    InvoiceResult::NotChecked,
                    Some("Invoice Detail has no lines for this billing period".to_string()),
                )
            } else if sums.overflow || inv.is_some_and(|i| i.overflow) || difference.is_none() {
                (
                    InvoiceResult::NotChecked,
                    Some("a sum leaves decimal(38,18)".to_string()),
                )
            } else if inv.is_some_and(|i| i.voided) && sums.rows + sums.tax_rows == 0 {
                (
                    InvoiceResult::NotChecked,
                    Some("voided in Invoice Detail, and no Cost and Usage row names it".to_string()),
                )
            } else if inv.is_some_and(|i| i.voided) {
                (
                    InvoiceResult::Mismatch,
                    Some("Invoice Detail lists this invoice as Voided, yet Cost and Usage rows name it".to_string()),
                )
            } else if open {
                (InvoiceResult::Open, None)
            } else {
                let d = difference.unwrap_or_default();
                let reason = match (inv.is_some(), sums.rows + sums.tax_rows > 0) {
                    (false, _) => Some("Invoice Detail does not list this invoice".to_string()),
                    (_, false) => Some("no Cost and Usage row names this invoice".to_string()),
                    _ => None,
                };
                let within = tolerance.is_some_and(|t| d.0.unsigned_abs() <= t.0.unsigned_abs());
                match (d.is_zero(), within && reason.is_none()) {
                    (true, _) => (InvoiceResult::Match, None),
                    (false, true) => (InvoiceResult::WithinTolerance, None),
                    (false, false) => (InvoiceResult::Mismatch, reason),
                }
            };
            InvoiceCheck {
                invoice_id: id.clone(),
                billing_period: period.clone(),
                currency: currency.clone(),
                invoice_status: inv.and_then(|i| {
                    (!i.statuses.is_empty())
                        .then(|| i.statuses.iter().cloned().collect::<Vec<_>>().join(", "))
                }),
                invoiced: invoiced_billed,
                cost_and_usage: sums.billed,
                cost_and_usage_rows: sums.rows,
                difference: difference.unwrap_or_default(),
                tolerance,
                invoiced_tax: inv.map_or(zero, |i| i.tax),
                cost_and_usage_tax: sums.tax,
                quarantined_rows: sums.quarantined_rows,
                quarantined_billed: sums.quarantined_billed,
                result,
                reason,
            }
        })
        .collect();
    // files without an InvoiceId column cannot be compared at all: one line per month and
    // currency of the run says so
    if !cu.files_without_invoice_column.is_empty() {
        let n = cu.files_without_invoice_column.len();
        for (period, currency) in months {
            out.push(InvoiceCheck {
                invoice_id: String::new(),
                billing_period: period.clone(),
                currency: currency.clone(),
                invoice_status: None,
                invoiced: Money::default(),
                cost_and_usage: Money::default(),
                cost_and_usage_rows: 0,
                difference: Money::default(),
                tolerance: None,
                invoiced_tax: Money::default(),
                cost_and_usage_tax: Money::default(),
                quarantined_rows: 0,
                quarantined_billed: Money::default(),
                result: InvoiceResult::NotChecked,
                reason: Some(format!(
                    "{n} Cost and Usage file(s) have no InvoiceId column: their rows cannot be compared"
                )),
            });
        }
    }
    out
}

/// The spec's rounding variance tolerance of an invoice in `currency` over `rows` cost rows:
/// `MAX(100 x subunit, SQRT(rows) x 0.5 x subunit)` (FOCUS 1.4, Rounding Variance Tolerance),
/// rounded to 6 decimals.
fn tolerance(currency: &str, rows: u64) -> Option<Money> {
    // ISO 4217 minor units; 2 for every currency not listed
    let places: i32 = match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    };
    let subunit = 10f64.powi(-places);
    let factor = (0.5 * (rows as f64).sqrt()).max(100.0);
    Money::parse(&format!("{:.6}", factor * subunit)).ok()
}

fn statuses(
    companions: &Companions,
    periods: &BTreeSet<String>,
) -> BTreeMap<String, BillingStatus> {
    let mut out: BTreeMap<String, BillingStatus> = BTreeMap::new();
    for s in &companions.statuses {
        if !periods.contains(&s.period) {
            continue;
        }
        let status = match s.status {
            PeriodState::Open => BillingStatus::Provisional,
            PeriodState::Closed => BillingStatus::Final,
        };
        // one issuer's open period keeps the month provisional (Provisional < Final)
        let e = out.entry(s.period.clone()).or_insert(status);
        *e = (*e).min(status);
    }
    out
}

/// The first instant of month `period` (`YYYY-MM`) and of the month after it.
fn month_bounds(period: &str) -> Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)> {
    let start = chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
    let next = start.checked_add_months(chrono::Months::new(1))?;
    Some((start.and_hms_opt(0, 0, 0)?, next.and_hms_opt(0, 0, 0)?))
}

fn commitments(
    list: &[Commitment],
    cu: &CostAndUsageFacts,
    periods: &BTreeSet<String>,
) -> Vec<CommitmentUse> {
    let mut out = Vec::new();
    // (commitment, month, currency) whose use is shown with the commitment
    let mut listed: BTreeSet<(String, String, String)> = BTreeSet::new();
    let stamp = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for period in periods {
        let Some((m_start, m_end)) = month_bounds(period) else {
            continue;
        };
        for c in list {
            let (from, to) = (c.start.max(m_start), c.end.min(m_end));
            if from >= to {
                continue;
            }
            // use in the commitment's currency (without one, in the first currency used)
            let currency = c.currency.clone().or_else(|| {
                cu.applied
                    .keys()
                    .find(|(id, p, _)| id == &c.id && p == period)
                    .map(|(_, _, cur)| cur.clone())
            });
            let key = (c.id.clone(), period.clone(), currency.unwrap_or_default());
            let term = (c.end - c.start).num_seconds();
            let inside = (to - from).num_seconds();
            let share = |m: Option<Money>| {
                m.and_then(|m| match term > 0 {
                    true => m.mul_int_div(i128::from(inside), i128::from(term)),
                    false => None,
                })
            };
            let applied = cu.applied.get(&key).cloned().unwrap_or_default();
            listed.insert(key);
            let (month_cost, month_quantity) = (share(c.cost), share(c.quantity));
            let usage = is_usage(c.category.as_deref());
            let used_pct = match (usage, applied.overflow) {
                (_, true) => None,
                (true, false) => month_quantity.and_then(|q| pct(applied.quantity, q)),
                (false, false) => month_cost.and_then(|m| pct(applied.cost, m)),
            };
            out.push(CommitmentUse {
                billing_period: period.clone(),
                commitment_id: c.id.clone(),
                contract_id: c.contract_id.clone(),
                category: c.category.clone(),
                kind: c.kind.clone(),
                description: c.description.clone(),
                currency: c.currency.clone(),
                period_start: Some(stamp(c.start)),
                period_end: Some(stamp(c.end)),
                commitment_cost: c.cost,
                commitment_quantity: c.quantity,
                unit: c.unit.clone(),
                month_cost,
                month_quantity,
                applied_cost: applied.cost,
                applied_quantity: applied.quantity,
                applied_rows: applied.rows,
                unused_cost: applied.unused_cost,
                unused_quantity: applied.unused_quantity,
                purchase_cost: applied.purchase_cost,
                used_pct,
                in_contract_commitment: true,
            });
        }
    }
    // commitments Cost and Usage applies that Contract Commitment does not list (or applies in
    // another currency than the commitment's: never added to it)
    for ((id, period, currency), a) in &cu.applied {
        if !periods.contains(period)
            || listed.contains(&(id.clone(), period.clone(), currency.clone()))
        {
            continue;
        }
        out.push(CommitmentUse {
            billing_period: period.clone(),
            commitment_id: id.clone(),
            contract_id: None,
            category: None,
            kind: None,
            description: None,
            currency: Some(currency.clone()),
            period_start: None,
            period_end: None,
            commitment_cost: None,
            commitment_quantity: None,
            unit: a.unit.clone(),
            month_cost: None,
            month_quantity: None,
            applied_cost: a.cost,
            applied_quantity: a.quantity,
            applied_rows: a.rows,
            unused_cost: a.unused_cost,
            unused_quantity: a.unused_quantity,
            purchase_cost: a.purchase_cost,
            used_pct: None,
            in_contract_commitment: false,
        });
    }
    out.sort_by(|a, b| {
        (&a.billing_period, &a.commitment_id).cmp(&(&b.billing_period, &b.commitment_id))
    });
    out
}

/// Whether a commitment category is `Usage` (a quantity is committed, not an amount).
pub fn is_usage(category: Option<&str>) -> bool {
    category.is_some_and(|k| k.eq_ignore_ascii_case("usage"))
}

fn pct(part: Money, whole: Money) -> Option<Money> {
    (!whole.is_zero())
        .then(|| Money::percent(part, whole))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::focus_datasets::{InvoiceLine, PeriodStatus};

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn line(id: &str, period: &str, billed: &str, status: Option<&str>) -> InvoiceLine {
        InvoiceLine {
            invoice_id: id.into(),
            detail_id: None,
            period: period.into(),
            currency: "USD".into(),
            billed: m(billed),
            status: status.map(str::to_string),
            charge_category: None,
        }
    }

    /// The key of invoice `id` in October, in USD.
    fn key(id: &str) -> (String, String, String) {
        (id.to_string(), "2026-10".to_string(), "USD".to_string())
    }

    /// Cost and Usage sums of an invoice: `billed` over `rows` rows other than tax.
    fn sums(billed: &str, rows: u64) -> InvoiceSums {
        InvoiceSums {
            billed: m(billed),
            rows,
            ..Default::default()
        }
    }

    fn usd_october() -> BTreeSet<(String, String)> {
        [("2026-10".to_string(), "USD".to_string())].into()
    }

    fn periods(p: &[&str]) -> BTreeSet<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    fn with_invoices(lines: Vec<InvoiceLine>) -> Companions {
        let file = crate::ingest::InputFile {
            path: "invoice_detail.csv".into(),
            kind: crate::ingest::FileKind::Csv,
            size: 1,
            sha256: String::new(),
            content_sha256: String::new(),
        };
        Companions {
            files: vec![crate::ingest::focus_datasets::CompanionFile {
                file,
                dataset: crate::ingest::Dataset::InvoiceDetail,
                rows: 1,
                notes: Vec::new(),
            }],
            invoice_lines: lines,
            ..Companions::default()
        }
    }

    #[test]
    fn an_invoice_matches_to_the_last_decimal_or_is_a_mismatch_with_its_difference() {
        let companions = with_invoices(vec![
            line("INV-1", "2026-10", "100.10", Some("Issued")),
            line("INV-1", "2026-10", "0.000000000000000001", None),
            line("INV-2", "2026-10", "50", None),
            line("INV-3", "2026-10", "7", Some("Voided")),
            line("INV-9", "2026-09", "1", None),
        ]);
        let mut cu = CostAndUsageFacts::default();
        cu.billed_by_invoice
            .insert(key("INV-1"), sums("100.100000000000000001", 3));
        cu.billed_by_invoice.insert(key("INV-2"), sums("48.99", 2));
        cu.billed_by_invoice.insert(key("INV-3"), sums("7", 1));
        cu.billed_by_invoice.insert(key(""), sums("5", 1));
        let f = assess(&companions, &cu, &periods(&["2026-10"]), &usd_october());
        let by_id = |id: &str| f.invoices.iter().find(|i| i.invoice_id == id).unwrap();
        assert_eq!(by_id("INV-1").result, InvoiceResult::Match);
        // 1.01 off: beyond the tolerance of 100 cents
        assert_eq!(by_id("INV-2").result, InvoiceResult::Mismatch);
        assert_eq!(by_id("INV-2").difference, m("-1.01"));
        assert_eq!(by_id("INV-2").tolerance, Some(m("1")));
        assert_eq!(by_id("").result, InvoiceResult::NotChecked);
        // Cost and Usage still names a voided invoice; September is not a month of the run
        assert_eq!(by_id("INV-3").result, InvoiceResult::Mismatch);
        // a voided invoice no row names is not a mismatch (void and reissue)
        let companions = with_invoices(vec![line("INV-V", "2026-10", "3", Some("Voided"))]);
        let f = assess(
            &companions,
            &CostAndUsageFacts::default(),
            &periods(&["2026-10"]),
            &usd_october(),
        );
        assert_eq!(f.invoices[0].result, InvoiceResult::NotChecked);
        assert!(f.invoices.iter().all(|i| i.invoice_id != "INV-9"));
    }

    #[test]
    fn an_invoice_without_cost_and_usage_rows_is_a_mismatch_and_without_ids_not_checked() {
        let companions = with_invoices(vec![line("INV-1", "2026-10", "10", None)]);
        let mut cu = CostAndUsageFacts::default();
        let f = assess(&companions, &cu, &periods(&["2026-10"]), &usd_october());
        assert_eq!(f.invoices[0].result, InvoiceResult::Mismatch);
        assert_eq!(f.invoices[0].difference, m("-10"));
        cu.files_without_invoice_column.push("old.csv".into());
        let f = assess(&companions, &cu, &periods(&["2026-10"]), &usd_october());
        assert_eq!(f.invoices[1].result, InvoiceResult::NotChecked);
    }

    #[test]
    fn rounding_within_the_spec_tolerance_tax_apart_and_open_invoices_are_not_mismatches() {
        let mut tax = line("INV-1", "2026-10", "8", None);
        tax.charge_category = Some("Tax".into());
        let companions = with_invoices(vec![
            line("INV-1", "2026-10", "2.00", Some("Issued")),
            tax,
            line("INV-2", "2026-10", "100", Some("Open")),
            line("JP-1", "2026-10", "100", None),
        ]);
        let mut cu = CostAndUsageFacts::default();
        // 2.004 against 2.00, no tax rows in Cost and Usage
        cu.billed_by_invoice.insert(key("INV-1"), sums("2.004", 3));
        cu.billed_by_invoice.insert(key("INV-2"), sums("90", 3));
        cu.billed_by_invoice.insert(key("JP-1"), sums("101.5", 3));
        let f = assess(&companions, &cu, &periods(&["2026-10"]), &usd_october());
        let by_id = |id: &str| f.invoices.iter().find(|i| i.invoice_id == id).unwrap();
        assert_eq!(by_id("INV-1").result, InvoiceResult::WithinTolerance);
        assert_eq!(by_id("INV-1").invoiced_tax, m("8"));
        assert_eq!(by_id("INV-2").result, InvoiceResult::Open);
        // tolerance is 100 subunits: 1.00 USD; 1.5 off is a mismatch
        assert_eq!(by_id("JP-1").result, InvoiceResult::Mismatch);
        assert_eq!(tolerance("JPY", 4), Some(m("100")));
        assert_eq!(tolerance("KWD", 4), Some(m("0.1")));
        // beyond 40,000 rows the square root wins: sqrt(250,000) x 0.5 x 0.01 = 2.5
        assert_eq!(tolerance("USD", 250_000), Some(m("2.5")));
    }

    #[test]
    fn a_month_is_provisional_while_any_issuer_has_it_open() {
        let status = |period: &str, status| PeriodStatus {
            period: period.into(),
            issuer: None,
            status,
            updated: None,
        };
        let companions = Companions {
            statuses: vec![
                status("2026-09", PeriodState::Closed),
                status("2026-10", PeriodState::Closed),
                status("2026-10", PeriodState::Open),
            ],
            ..Companions::default()
        };
        let s = statuses(&companions, &periods(&["2026-09", "2026-10", "2026-11"]));
        assert_eq!(s.get("2026-09"), Some(&BillingStatus::Final));
        assert_eq!(s.get("2026-10"), Some(&BillingStatus::Provisional));
        assert_eq!(s.get("2026-11"), None);
    }

    #[test]
    fn a_commitment_month_is_its_share_by_the_second_and_use_is_applied_over_it() {
        let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").unwrap();
        let c = Commitment {
            id: "CC-1".into(),
            contract_id: Some("K-1".into()),
            category: Some("Spend".into()),
            kind: None,
            description: None,
            currency: Some("USD".into()),
            cost: Some(m("3650")),
            quantity: None,
            unit: None,
            start: t("2026-01-01T00:00:00Z"),
            end: t("2027-01-01T00:00:00Z"),
        };
        let mut cu = CostAndUsageFacts::default();
        cu.applied.insert(
            ("CC-1".into(), "2026-10".into(), "USD".into()),
            crate::ingest::focus_datasets::Applied {
                cost: m("155"),
                rows: 4,
                purchase_cost: m("500"),
                unused_cost: m("1"),
                ..Default::default()
            },
        );
        cu.applied.insert(
            ("CC-X".into(), "2026-10".into(), "USD".into()),
            crate::ingest::focus_datasets::Applied {
                cost: m("1"),
                ..Default::default()
            },
        );
        let out = commitments(&[c], &cu, &periods(&["2026-10"]));
        assert_eq!(out.len(), 2);
        // 31 of 365 days of 3650 = 310; 155 applied = 50 %
        assert_eq!(out[0].month_cost, Some(m("310")));
        // the purchase and unused-portion rows are not use
        assert_eq!(out[0].used_pct, Some(m("50")));
        assert_eq!(out[0].purchase_cost, m("500"));
        assert!(!out[1].in_contract_commitment);
        assert_eq!(out[1].commitment_id, "CC-X");
    }
}
