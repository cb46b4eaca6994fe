//! Allocation: decides which model, team and lifecycle phase each counted cost line belongs
//! to and sums them to the `cost_by_model` grain. Today: `direct` (the line carries a
//! `model_id` tag) and `unallocated` (no `model_id`, or unused commitment, kept visible under
//! a reserved model id). Works on the small aggregated ledger only; never touches files.

use std::collections::BTreeMap;

use crate::ledger::Ledger;
use crate::money::Money;
use crate::schema::{UNALLOCATED, UNTAGGED, UNUSED_COMMITMENT};
use crate::tags::{LIFECYCLE_PHASE, MODEL_ID, TEAM};

/// One row of `cost_by_model`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostByModelRow {
    pub period: String,
    pub currency: String,
    pub model_id: String,
    pub team: String,
    pub lifecycle_phase: String,
    pub allocation_method: String,
    pub cost: Money,
    pub rows: u64,
}

/// The allocated ledger, sorted by (period, currency, model, team, phase, method).
#[derive(Debug, Default)]
pub struct Allocation {
    pub basis: &'static str,
    pub rows: Vec<CostByModelRow>,
}

impl Allocation {
    /// Total cost per (period, currency).
    pub fn totals(&self) -> BTreeMap<(String, String), Money> {
        let mut t: BTreeMap<(String, String), Money> = BTreeMap::new();
        for r in &self.rows {
            *t.entry((r.period.clone(), r.currency.clone())).or_default() += r.cost;
        }
        t
    }
}

pub fn allocate(ledger: &Ledger) -> Allocation {
    type Key = (String, String, String, String, String, String);
    let mut sums: BTreeMap<Key, (Money, u64)> = BTreeMap::new();
    for line in &ledger.lines {
        let (tags, _) = &ledger.tag_sets[line.tags];
        let team = tags.get(TEAM).unwrap_or(UNTAGGED).to_string();
        let phase = tags.get(LIFECYCLE_PHASE).unwrap_or(UNTAGGED).to_string();
        let (model, method) = if line.unused_commitment {
            (UNUSED_COMMITMENT.to_string(), "unallocated")
        } else {
            match tags.get(MODEL_ID) {
                Some(m) => (m.to_string(), "direct"),
                None => (UNALLOCATED.to_string(), "unallocated"),
            }
        };
        let key = (
            line.period.clone(),
            line.currency.clone(),
            model,
            team,
            phase,
            method.to_string(),
        );
        let e = sums.entry(key).or_default();
        e.0 += line.cost;
        e.1 += line.rows;
    }
    Allocation {
        basis: ledger.basis.name(),
        rows: sums
            .into_iter()
            .map(
                |(
                    (period, currency, model_id, team, lifecycle_phase, allocation_method),
                    (cost, rows),
                )| CostByModelRow {
                    period,
                    currency,
                    model_id,
                    team,
                    lifecycle_phase,
                    allocation_method,
                    cost,
                    rows,
                },
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::CostLine;
    use crate::tags::TagSet;

    fn line(tags: usize, cost: &str, unused: bool) -> CostLine {
        CostLine {
            period: "2024-09".into(),
            currency: "USD".into(),
            tags,
            cost: Money::parse(cost).unwrap(),
            rows: 1,
            resource_id: None,
            provider: None,
            account: None,
            unused_commitment: unused,
        }
    }

    #[test]
    fn direct_unallocated_and_unused_commitment_stay_separate_and_sum_exactly() {
        let mut tagged = TagSet::default();
        tagged.values.insert("model_id".into(), "ranker".into());
        tagged.values.insert("team".into(), "recsys".into());
        tagged
            .values
            .insert("lifecycle_phase".into(), "inference".into());
        let ledger = Ledger {
            tag_sets: vec![(tagged, vec![]), (TagSet::default(), vec![])],
            lines: vec![
                line(0, "1.25", false),
                line(0, "0.000000000000000001", false),
                line(1, "-0.5", false),
                line(0, "7", true),
            ],
            ..Ledger::default()
        };
        let a = allocate(&ledger);
        let got: Vec<(&str, &str, &str, String)> = a
            .rows
            .iter()
            .map(|r| {
                (
                    r.model_id.as_str(),
                    r.team.as_str(),
                    r.allocation_method.as_str(),
                    r.cost.to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "__unallocated__",
                    "__untagged__",
                    "unallocated",
                    "-0.5".to_string()
                ),
                (
                    "__unused_commitment__",
                    "recsys",
                    "unallocated",
                    "7".to_string()
                ),
                (
                    "ranker",
                    "recsys",
                    "direct",
                    "1.250000000000000001".to_string()
                ),
            ]
        );
        let total = a.totals()[&("2024-09".to_string(), "USD".to_string())];
        assert_eq!(total.to_string(), "7.750000000000000001");
    }

    mod properties {
        use proptest::prelude::*;

        use crate::config::Config;
        use crate::ingest::SourceGroup;
        use crate::money::Money;
        use crate::schema::line;

        const TAGS: [Option<&str>; 6] = [
            None,
            Some(r#"{"model_id": "a", "team": "x", "lifecycle_phase": "training"}"#),
            Some(r#"{"Model-Id": "B", "team": "y"}"#),
            Some(r#"{"model_id": "a", "model-id": "b"}"#),
            Some("not json"),
            Some(r#"{"model_id": "c", "lifecycle_phase": "inference"}"#),
        ];

        fn group() -> impl Strategy<Value = SourceGroup> {
            (
                0usize..2,
                0usize..2,
                0usize..TAGS.len(),
                -10i128.pow(24)..10i128.pow(24),
                0i32..3,
                any::<bool>(),
                1u64..1000,
            )
                .prop_map(|(p, c, t, cost, status, unused, rows)| {
                    let mut g = SourceGroup::default();
                    let mut set = |name: &str, v: Option<&str>| {
                        let i = line::DIMENSIONS.iter().position(|d| *d == name).unwrap();
                        g.dims[i] = v.map(str::to_string);
                    };
                    set(
                        line::BILLING_PERIOD_START,
                        Some(["2026-09-01", "2026-10-01 00:00:00"][p]),
                    );
                    set(line::BILLING_CURRENCY, Some(["USD", "eur"][c]));
                    set(line::TAGS, TAGS[t]);
                    set(line::COMMITMENT_DISCOUNT_STATUS, unused.then_some("Unused"));
                    g.costs = [Some(Money(cost)); 4];
                    g.basis_status = status;
                    g.rows = rows;
                    g
                })
        }

        proptest! {
            /// Allocated cost per period and currency equals the cost read, exactly; unit
            /// costs carry the same totals; every counted row lands in exactly one row.
            #[test]
            fn allocation_conserves_money(groups in proptest::collection::vec(group(), 0..60)) {
                let ledger = crate::ledger::build(&groups, &Config::default(), None);
                let alloc = super::super::allocate(&ledger);
                let read: std::collections::BTreeMap<_, _> =
                    ledger.totals.iter().map(|(k, t)| (k.clone(), t.cost)).collect();
                let written = alloc.totals();
                prop_assert_eq!(&read.iter().filter(|(_, v)| !v.is_zero()).collect::<Vec<_>>(),
                                &written.iter().filter(|(_, v)| !v.is_zero()).collect::<Vec<_>>());
                let rows_in: u64 = ledger.totals.values().map(|t| t.rows).sum();
                let rows_out: u64 = alloc.rows.iter().map(|r| r.rows).sum();
                prop_assert_eq!(rows_in, rows_out);
                let quarantined: u64 = groups.iter().filter(|g| g.basis_status != 0).map(|g| g.rows).sum();
                prop_assert_eq!(ledger.quarantined_rows(), quarantined);
                let (units, _) = crate::economics::unit_costs(&alloc, None);
                let mut unit_totals = std::collections::BTreeMap::new();
                for u in &units {
                    *unit_totals.entry((u.period.clone(), u.currency.clone())).or_insert(Money::ZERO) += u.total_cost;
                }
                prop_assert_eq!(unit_totals, written);
            }
        }
    }
}
