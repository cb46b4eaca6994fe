//! What the FOCUS datasets besides Cost and Usage say about the months of a run: each
//! invoice reconciled (Σ `BilledCost` per invoice in Cost and Usage against the Invoice
//! Detail lines), each month's billing status (provisional while its Billing Period is open,
//! final once closed) and each commitment's use per month (Contract Commitment against the
//! `ContractApplied` amounts of Cost and Usage). No I/O; exact decimals throughout.

use std::collections::{BTreeMap, BTreeSet};

use crate::ingest::focus_datasets::{Commitment, PeriodState};
use crate::ingest::{Companions, CostAndUsageFacts};
use crate::money::Money;

/// The outcome of one invoice's reconciliation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceResult {
    /// Cost and Usage adds up to the invoice, to the last decimal.
    Match,
    /// It does not (`difference` says by how much).
    Mismatch,
    /// It could not be compared (`reason` says why).
    NotChecked,
}

/// One invoice (per billing period and currency) reconciled.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct InvoiceCheck {
    pub invoice_id: String,
    pub billing_period: String,
    pub currency: String,
    /// Σ `BilledCost` of the invoice's lines in Invoice Detail (voided invoices left out).
    pub invoiced: Money,
    /// Σ `BilledCost` of the Cost and Usage rows with this `InvoiceId`.
    pub cost_and_usage: Money,
    pub cost_and_usage_rows: u64,
    /// `cost_and_usage - invoiced`.
    pub difference: Money,
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
    /// Σ of `ContractApplied` elements naming the commitment, on the month's rows.
    pub applied_cost: Money,
    pub applied_quantity: Money,
    pub applied_rows: u64,
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
}

impl DatasetFacts {
    pub fn mismatched(&self) -> impl Iterator<Item = &InvoiceCheck> {
        self.invoices
            .iter()
            .filter(|i| i.result != InvoiceResult::Match)
    }
}

/// One invoice that did not reconcile, in a sentence.
pub fn finding(i: &InvoiceCheck) -> String {
    let id = match i.invoice_id.is_empty() {
        true => "(no InvoiceId)".to_string(),
        false => format!("`{}`", i.invoice_id),
    };
    match i.result {
        InvoiceResult::Mismatch => format!(
            "invoice {id} {} {}: invoiced {}, Cost and Usage {} (difference {})",
            i.billing_period, i.currency, i.invoiced, i.cost_and_usage, i.difference
        ),
        _ => format!(
            "invoice {id} {} {} not checked: {}",
            i.billing_period,
            i.currency,
            i.reason.as_deref().unwrap_or("?")
        ),
    }
}

/// What the non-spend datasets say about `periods` (the months of the run).
pub fn assess(
    companions: &Companions,
    cu: &CostAndUsageFacts,
    periods: &BTreeSet<String>,
) -> DatasetFacts {
    DatasetFacts {
        invoices: match companions.has_invoices() {
            true => invoices(companions, cu, periods),
            false => Vec::new(),
        },
        statuses: statuses(companions, periods),
        commitments: commitments(&companions.commitments, cu, periods),
        unreadable_contract_applied: cu.unreadable_contract_applied,
    }
}

fn invoices(
    companions: &Companions,
    cu: &CostAndUsageFacts,
    periods: &BTreeSet<String>,
) -> Vec<InvoiceCheck> {
    type Key = (String, String, String);
    let voided = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("voided"))
    };
    let mut invoiced: BTreeMap<Key, Money> = BTreeMap::new();
    // months Invoice Detail speaks of (voided lines included: the month was invoiced)
    let mut detailed: BTreeSet<&str> = BTreeSet::new();
    for l in &companions.invoice_lines {
        if !periods.contains(&l.period) {
            continue;
        }
        detailed.insert(&l.period);
        if voided(&l.status) {
            continue;
        }
        let key = (l.period.clone(), l.currency.clone(), l.invoice_id.clone());
        let sum = invoiced.entry(key).or_default();
        // an invoice's lines cannot overflow 38 digits in any real bill; saturate to a
        // mismatch rather than wrap if one does
        *sum = sum.checked_add(l.billed).unwrap_or(Money(i128::MAX));
    }
    let mut billed: BTreeMap<Key, (Money, u64)> = BTreeMap::new();
    for ((id, period, currency), v) in &cu.billed_by_invoice {
        if periods.contains(period) {
            billed.insert((period.clone(), currency.clone(), id.clone()), *v);
        }
    }
    let keys: BTreeSet<&Key> = invoiced.keys().chain(billed.keys()).collect();
    keys.into_iter()
        .map(|key| {
            let (period, currency, id) = key;
            let inv = invoiced.get(key).copied().unwrap_or_default();
            let (cost, rows) = billed.get(key).copied().unwrap_or_default();
            let reason = if !cu.has_invoice_ids {
                Some("Cost and Usage has no InvoiceId column".to_string())
            } else if id.is_empty() {
                Some("Cost and Usage rows without an InvoiceId (not invoiced yet)".to_string())
            } else if !detailed.contains(period.as_str()) {
                Some("Invoice Detail has no lines for this billing period".to_string())
            } else if !invoiced.contains_key(key) {
                Some("Invoice Detail does not list this invoice".to_string())
            } else if !billed.contains_key(key) {
                Some("no Cost and Usage row names this invoice".to_string())
            } else {
                None
            };
            let comparable =
                cu.has_invoice_ids && !id.is_empty() && detailed.contains(period.as_str());
            let result = match (comparable, cost == inv) {
                (false, _) => InvoiceResult::NotChecked,
                (true, true) => InvoiceResult::Match,
                (true, false) => InvoiceResult::Mismatch,
            };
            InvoiceCheck {
                invoice_id: id.clone(),
                billing_period: period.clone(),
                currency: currency.clone(),
                invoiced: inv,
                cost_and_usage: cost,
                cost_and_usage_rows: rows,
                difference: cost.checked_sub(inv).unwrap_or(Money(i128::MAX)),
                result,
                reason,
            }
        })
        .collect()
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
    let mut listed: BTreeSet<(&str, &str)> = BTreeSet::new();
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
            listed.insert((c.id.as_str(), period.as_str()));
            let term = (c.end - c.start).num_seconds();
            let inside = (to - from).num_seconds();
            let share = |m: Option<Money>| {
                m.and_then(|m| match term > 0 {
                    true => m.mul_int_div(i128::from(inside), i128::from(term)),
                    false => None,
                })
            };
            let applied = cu
                .applied
                .get(&(c.id.clone(), period.clone()))
                .cloned()
                .unwrap_or_default();
            let (month_cost, month_quantity) = (share(c.cost), share(c.quantity));
            let usage = c
                .category
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("usage"));
            let used_pct = match usage {
                true => month_quantity.and_then(|q| pct(applied.quantity, q)),
                false => month_cost.and_then(|m| pct(applied.cost, m)),
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
                used_pct,
                in_contract_commitment: true,
            });
        }
    }
    // commitments Cost and Usage applies that Contract Commitment does not list
    for ((id, period), a) in &cu.applied {
        if !periods.contains(period) || listed.contains(&(id.as_str(), period.as_str())) {
            continue;
        }
        out.push(CommitmentUse {
            billing_period: period.clone(),
            commitment_id: id.clone(),
            contract_id: None,
            category: None,
            kind: None,
            description: None,
            currency: None,
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
            used_pct: None,
            in_contract_commitment: false,
        });
    }
    out.sort_by(|a, b| {
        (&a.billing_period, &a.commitment_id).cmp(&(&b.billing_period, &b.commitment_id))
    });
    out
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
            period: period.into(),
            currency: "USD".into(),
            billed: m(billed),
            status: status.map(str::to_string),
        }
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
            files: vec![(file, crate::ingest::Dataset::InvoiceDetail, 1)],
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
        let mut cu = CostAndUsageFacts {
            has_invoice_ids: true,
            ..Default::default()
        };
        let key = |id: &str| (id.to_string(), "2026-10".to_string(), "USD".to_string());
        cu.billed_by_invoice
            .insert(key("INV-1"), (m("100.100000000000000001"), 3));
        cu.billed_by_invoice.insert(key("INV-2"), (m("49.99"), 2));
        cu.billed_by_invoice.insert(key(""), (m("5"), 1));
        let f = assess(&companions, &cu, &periods(&["2026-10"]));
        let by_id = |id: &str| f.invoices.iter().find(|i| i.invoice_id == id).unwrap();
        assert_eq!(by_id("INV-1").result, InvoiceResult::Match);
        assert_eq!(by_id("INV-2").result, InvoiceResult::Mismatch);
        assert_eq!(by_id("INV-2").difference, m("-0.01"));
        assert_eq!(by_id("").result, InvoiceResult::NotChecked);
        // a voided invoice is not expected; September is not a month of the run
        assert!(f.invoices.iter().all(|i| i.invoice_id != "INV-3"));
        assert!(f.invoices.iter().all(|i| i.invoice_id != "INV-9"));
        assert_eq!(f.mismatched().count(), 2);
    }

    #[test]
    fn an_invoice_without_cost_and_usage_rows_is_a_mismatch_and_without_ids_not_checked() {
        let companions = with_invoices(vec![line("INV-1", "2026-10", "10", None)]);
        let mut cu = CostAndUsageFacts {
            has_invoice_ids: true,
            ..Default::default()
        };
        let f = assess(&companions, &cu, &periods(&["2026-10"]));
        assert_eq!(f.invoices[0].result, InvoiceResult::Mismatch);
        assert_eq!(f.invoices[0].difference, m("-10"));
        cu.has_invoice_ids = false;
        let f = assess(&companions, &cu, &periods(&["2026-10"]));
        assert_eq!(f.invoices[0].result, InvoiceResult::NotChecked);
    }

    #[test]
    fn a_month_is_provisional_while_any_issuer_has_it_open() {
        let status = |period: &str, status| PeriodStatus {
            period: period.into(),
            issuer: None,
            status,
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
            ("CC-1".into(), "2026-10".into()),
            crate::ingest::focus_datasets::Applied {
                cost: m("155"),
                quantity: Money::default(),
                unit: None,
                rows: 4,
            },
        );
        cu.applied.insert(
            ("CC-X".into(), "2026-10".into()),
            crate::ingest::focus_datasets::Applied {
                cost: m("1"),
                ..Default::default()
            },
        );
        let out = commitments(&[c], &cu, &periods(&["2026-10"]));
        assert_eq!(out.len(), 2);
        // 31 of 365 days of 3650 = 310; 155 applied = 50 %
        assert_eq!(out[0].month_cost, Some(m("310")));
        assert_eq!(out[0].used_pct, Some(m("50")));
        assert!(!out[1].in_contract_commitment);
        assert_eq!(out[1].commitment_id, "CC-X");
    }
}
