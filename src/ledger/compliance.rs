//! Tag compliance: from the ledger, the `tag_compliance` rows (period x resource x problem
//! with the cost affected) and the per-key summary that `mlcost validate` prints: share of
//! spend and rows compliant, cost missing, top offending resources and accounts. Percentages
//! use absolute spend so credits cannot make a share exceed 100%; amounts stay signed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ledger::Ledger;
use crate::money::Money;

/// One row of `tag_compliance`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ComplianceRow {
    pub period: String,
    pub currency: String,
    pub resource_id: Option<String>,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub problem: String,
    pub cost: Money,
    pub rows: u64,
}

/// Compliance of one required key in one currency.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct KeyCompliance {
    pub key: String,
    pub currency: String,
    /// Share of absolute spend whose tag set has this key valid (0..1).
    pub spend_compliant: f64,
    /// Share of billing rows whose tag set has this key valid (0..1).
    pub rows_compliant: f64,
    /// Signed cost of the rows that miss or misuse this key.
    pub cost_noncompliant: Money,
    pub rows_noncompliant: u64,
}

/// A resource or account with non-compliant spend.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Offender {
    pub id: String,
    pub currency: String,
    pub cost_noncompliant: Money,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ComplianceSummary {
    pub required: Vec<String>,
    /// Share of absolute spend that carries every required key (all currencies, by amount).
    pub overall_spend_compliant: f64,
    pub overall_rows_compliant: f64,
    pub keys: Vec<KeyCompliance>,
    pub top_resources: Vec<Offender>,
    pub top_accounts: Vec<Offender>,
    /// Signed total spend per currency that was checked.
    pub spend: BTreeMap<String, Money>,
    pub rows: u64,
}

pub struct Compliance {
    pub rows: Vec<ComplianceRow>,
    pub summary: ComplianceSummary,
}

const TOP: usize = 5;

/// Per (key, currency): absolute spend in total and compliant, signed spend and rows not
/// compliant, rows in total.
#[derive(Default)]
struct KeyTally {
    abs_total: u128,
    abs_ok: u128,
    cost_bad: Money,
    rows_total: u64,
    rows_bad: u64,
}

pub fn assess(ledger: &Ledger, required: &[String]) -> Compliance {
    type RowKey = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let mut rows: BTreeMap<RowKey, (Money, u64)> = BTreeMap::new();
    let mut per_key: BTreeMap<(String, String), KeyTally> = BTreeMap::new();
    let mut abs_total: u128 = 0;
    let mut abs_ok: u128 = 0;
    let mut rows_total: u64 = 0;
    let mut rows_ok: u64 = 0;
    let mut spend: BTreeMap<String, Money> = BTreeMap::new();
    let mut by_resource: BTreeMap<(String, String), (Money, Vec<String>)> = BTreeMap::new();
    let mut by_account: BTreeMap<(String, String), (Money, Vec<String>)> = BTreeMap::new();

    for line in &ledger.lines {
        let (_, problems) = &ledger.tag_sets[line.tags];
        let abs = line.cost.0.unsigned_abs();
        abs_total += abs;
        rows_total += line.rows;
        *spend.entry(line.currency.clone()).or_default() += line.cost;
        if problems.is_empty() {
            abs_ok += abs;
            rows_ok += line.rows;
        }
        let codes: Vec<String> = problems.iter().map(|p| p.code()).collect();
        for key in required {
            let bad = problems
                .iter()
                .any(|p| p.key() == Some(key.as_str()) || p.key().is_none());
            let e = per_key
                .entry((key.clone(), line.currency.clone()))
                .or_default();
            e.abs_total += abs;
            e.rows_total += line.rows;
            if bad {
                e.cost_bad += line.cost;
                e.rows_bad += line.rows;
            } else {
                e.abs_ok += abs;
            }
        }
        for code in &codes {
            let k = (
                line.period.clone(),
                line.currency.clone(),
                line.resource_id.clone(),
                line.provider.clone(),
                line.account.clone(),
                code.clone(),
            );
            let e = rows.entry(k).or_default();
            e.0 += line.cost;
            e.1 += line.rows;
        }
        if !codes.is_empty() {
            let add = |map: &mut BTreeMap<(String, String), (Money, Vec<String>)>,
                       id: &Option<String>| {
                let id = id.clone().unwrap_or_else(|| "(none)".into());
                let e = map.entry((id, line.currency.clone())).or_default();
                e.0 += line.cost;
                for c in &codes {
                    if !e.1.contains(c) {
                        e.1.push(c.clone());
                    }
                }
            };
            add(&mut by_resource, &line.resource_id);
            add(&mut by_account, &line.account);
        }
    }
    let share = |ok: u128, total: u128| {
        if total == 0 {
            1.0
        } else {
            ok as f64 / total as f64
        }
    };
    let keys = per_key
        .into_iter()
        .map(|((key, currency), t)| KeyCompliance {
            key,
            currency,
            spend_compliant: share(t.abs_ok, t.abs_total),
            // rows_bad counts a subset of rows_total, so this cannot underflow
            rows_compliant: share(
                u128::from(t.rows_total - t.rows_bad),
                u128::from(t.rows_total),
            ),
            cost_noncompliant: t.cost_bad,
            rows_noncompliant: t.rows_bad,
        })
        .collect::<Vec<_>>();
    // keep the required-key order for display
    let mut keys = keys;
    keys.sort_by_key(|k| {
        (
            required.iter().position(|r| *r == k.key),
            k.currency.clone(),
        )
    });
    Compliance {
        rows: rows
            .into_iter()
            .map(
                |((period, currency, resource_id, provider, account, problem), (cost, rows))| {
                    ComplianceRow {
                        period,
                        currency,
                        resource_id,
                        provider,
                        account,
                        problem,
                        cost,
                        rows,
                    }
                },
            )
            .collect(),
        summary: ComplianceSummary {
            required: required.to_vec(),
            overall_spend_compliant: share(abs_ok, abs_total),
            overall_rows_compliant: share(u128::from(rows_ok), u128::from(rows_total)),
            keys,
            top_resources: top(by_resource),
            top_accounts: top(by_account),
            spend,
            rows: rows_total,
        },
    }
}

fn top(map: BTreeMap<(String, String), (Money, Vec<String>)>) -> Vec<Offender> {
    let mut v: Vec<Offender> = map
        .into_iter()
        .map(|((id, currency), (cost, mut problems))| {
            problems.sort();
            Offender {
                id,
                currency,
                cost_noncompliant: cost,
                problems,
            }
        })
        .collect();
    v.sort_by(|a, b| {
        b.cost_noncompliant
            .0
            .abs()
            .cmp(&a.cost_noncompliant.0.abs())
            .then_with(|| a.id.cmp(&b.id))
    });
    v.truncate(TOP);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TagsConfig;
    use crate::ledger::CostLine;
    use crate::tags::TagNormaliser;

    #[test]
    fn shares_and_rows_per_key() {
        let n = TagNormaliser::new(&TagsConfig {
            required: vec!["team".into(), "model_id".into()],
            ..TagsConfig::default()
        });
        let full = n.parse(Some(r#"{"team":"a","model_id":"m"}"#));
        let no_model = n.parse(Some(r#"{"team":"a"}"#));
        let mk = |tags, cost: &str, res: &str| CostLine {
            period: "2024-09".into(),
            currency: "USD".into(),
            day: None,
            tags,
            cost: Money::parse(cost).unwrap(),
            rows: 2,
            resource_id: Some(res.into()),
            provider: Some("AWS".into()),
            account: Some("111".into()),
            unused_commitment: false,
            group: 0,
        };
        let ledger = Ledger {
            tag_sets: vec![
                (full.clone(), n.problems(&full)),
                (no_model.clone(), n.problems(&no_model)),
            ],
            lines: vec![mk(0, "75", "r1"), mk(1, "25", "r2")],
            ..Ledger::default()
        };
        let c = assess(&ledger, n.required());
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.rows[0].problem, "missing:model_id");
        assert_eq!(c.rows[0].cost.to_string(), "25");
        let s = &c.summary;
        assert!((s.overall_spend_compliant - 0.75).abs() < 1e-12);
        let team = &s.keys[0];
        assert_eq!(team.key, "team");
        assert_eq!(team.spend_compliant, 1.0);
        let model = &s.keys[1];
        assert!((model.spend_compliant - 0.75).abs() < 1e-12);
        assert_eq!(model.rows_noncompliant, 2);
        assert_eq!(s.top_resources[0].id, "r2");
    }
}
