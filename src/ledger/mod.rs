//! The ledger: turns aggregated source groups into classified cost lines. It parses each
//! distinct billing-period text and each distinct tag text once, checks the currency, decides
//! per group whether it is counted, excluded (commitment purchase on the list/contracted
//! basis, or outside `--period`) or quarantined (with the reason), and keeps the totals read
//! per billing period and currency that the outputs must reconcile to. `datasets` checks the
//! bill against the FOCUS datasets besides Cost and Usage (invoices, billing status,
//! commitments). No I/O.

pub mod compliance;
pub mod datasets;

use std::collections::{BTreeMap, HashMap};

use crate::config::{Config, CostBasis};
use crate::error::{Error, Result};
use crate::ingest::{quarantine_reason, QuarantineReason, SourceGroup};
use crate::money::accumulate;
use crate::money::Money;
use crate::schema::line;
use crate::tags::{Problem, TagNormaliser, TagSet};

/// A counted group: where its money goes.
#[derive(Debug, Clone)]
pub struct CostLine {
    pub period: String,
    pub currency: String,
    /// The charge day `YYYY-MM-DD` (`--grain day` runs; None on monthly runs, and for a row
    /// whose charge period is missing or not a date).
    pub day: Option<String>,
    /// Index into `Ledger::tag_sets`.
    pub tags: usize,
    pub cost: Money,
    pub rows: u64,
    pub resource_id: Option<String>,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub unused_commitment: bool,
    /// Index of the source group (for rule matching on its dimensions).
    pub group: usize,
}

/// Totals read per (period, currency), on every basis, for the manifest and reconciliation.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PeriodTotals {
    pub rows: u64,
    /// The chosen basis, over counted rows: what the outputs must add up to.
    pub cost: Money,
    /// Every basis over the same counted rows, for the summary (None = column absent).
    pub by_basis: BTreeMap<&'static str, Money>,
    pub excluded_commitment_purchases: Money,
    pub excluded_commitment_rows: u64,
    /// Sum of |cost| on the chosen basis: kept within decimal(38,18), so no sum or split of
    /// this month's amounts downstream (allocation, compliance, read-back) can overflow.
    #[serde(skip)]
    pub magnitude: Money,
}

#[derive(Debug, Default)]
pub struct Ledger {
    pub basis: CostBasis,
    pub lines: Vec<CostLine>,
    /// Distinct tag sets with their compliance problems.
    pub tag_sets: Vec<(TagSet, Vec<Problem>)>,
    pub totals: BTreeMap<(String, String), PeriodTotals>,
    /// (file index, reason) -> rows; details come from the quarantine pass.
    pub quarantined: BTreeMap<(usize, QuarantineReason), u64>,
    /// Rows outside `--period`.
    pub outside_period_rows: u64,
    /// Raw period and currency texts that were rejected, per file (for the quarantine pass).
    pub bad_periods: BTreeMap<usize, Vec<String>>,
    pub bad_currencies: BTreeMap<usize, Vec<String>>,
}

impl Ledger {
    pub fn quarantined_rows(&self) -> u64 {
        self.quarantined.values().sum()
    }

    pub fn periods(&self) -> Vec<String> {
        let mut p: Vec<String> = self.totals.keys().map(|(p, _)| p.clone()).collect();
        p.dedup();
        p
    }
}

/// Builds the ledger from the groups of all files. Fails when a month's amounts leave the
/// range of decimal(38,18): sums are never wrapped.
pub fn build(
    groups: &[SourceGroup],
    config: &Config,
    period_filter: Option<&str>,
) -> Result<Ledger> {
    let basis = config.cost.basis;
    let tagger = TagNormaliser::new(&config.tags);
    let mut ledger = Ledger {
        basis,
        ..Ledger::default()
    };
    let mut values = crate::ingest::ValueCache::default();
    let mut tag_index: HashMap<Option<&str>, usize> = HashMap::new();

    for (group_index, g) in groups.iter().enumerate() {
        let period_raw = g.dim(line::BILLING_PERIOD_START);
        let currency_raw = g.dim(line::BILLING_CURRENCY);
        let period = period_raw.map(|p| values.period(p));
        let currency = currency_raw.and_then(|c| values.currency(c));
        // A row of another month is outside the run, whatever else is wrong with it.
        if let (Some(filter), Some(Some(p))) = (period_filter, &period) {
            if filter != p {
                ledger.outside_period_rows += g.rows;
                continue;
            }
        }
        let reason = quarantine_reason(
            basis,
            g.basis_status,
            period_raw,
            period.as_ref().and_then(|p| p.as_ref()),
            currency_raw,
            currency.as_deref(),
        );
        if let Some(reason) = reason {
            if reason == QuarantineReason::InvalidBillingPeriod {
                push_unique(&mut ledger.bad_periods, g.file, period_raw);
            }
            if reason == QuarantineReason::InvalidCurrency {
                push_unique(&mut ledger.bad_currencies, g.file, currency_raw);
            }
            *ledger.quarantined.entry((g.file, reason)).or_default() += g.rows;
            continue;
        }
        // Both are Some here: a None was quarantined above.
        let (Some(Some(period)), Some(currency)) = (period, currency) else {
            continue;
        };
        let cost = g.cost(basis).unwrap_or(Money::ZERO);
        let group_name = || {
            format!(
                "input file #{} group (period {period}, currency {currency}, resource {})",
                g.file + 1,
                crate::escape::terminal(g.dim(line::RESOURCE_ID).unwrap_or("-"), 60)
            )
        };
        if let Some(bad) = g.costs.iter().flatten().find(|c| !c.in_range()) {
            return Err(Error::Overflow {
                what: format!("the cost sum of {}", group_name()),
                detail: format!("{} leaves decimal(38,18)", bad.0),
            });
        }
        let totals = ledger
            .totals
            .entry((period.clone(), currency.clone()))
            .or_default();
        let month = || format!("the total of {period} {currency}");
        accumulate(&mut totals.magnitude, Money(cost.0.abs()), || {
            format!("{} (the sum of |cost|)", month())
        })?;
        let category = g
            .dim(line::CHARGE_CATEGORY)
            .unwrap_or("")
            .trim()
            .to_lowercase();
        if basis.excludes_commitment_purchases() && category == "purchase" && g.prepaid_shape {
            accumulate(&mut totals.excluded_commitment_purchases, cost, month)?;
            totals.excluded_commitment_rows += g.rows;
            continue;
        }
        totals.rows += g.rows;
        accumulate(&mut totals.cost, cost, month)?;
        for b in CostBasis::ALL {
            if let Some(c) = g.cost(b) {
                accumulate(totals.by_basis.entry(b.name()).or_default(), c, month)?;
            }
        }
        let tags_raw = g.dim(line::TAGS);
        let tags = *tag_index.entry(tags_raw).or_insert_with(|| {
            let set = tagger.parse(tags_raw);
            let problems = tagger.problems(&set);
            ledger.tag_sets.push((set, problems));
            ledger.tag_sets.len() - 1
        });
        let status = g
            .dim(line::COMMITMENT_DISCOUNT_STATUS)
            .map(|s| s.trim().eq_ignore_ascii_case("unused"))
            .unwrap_or(false);
        let day = g.dim(line::CHARGE_PERIOD_START).and_then(|d| values.day(d));
        ledger.lines.push(CostLine {
            period,
            currency,
            day,
            tags,
            cost,
            rows: g.rows,
            resource_id: g.dim(line::RESOURCE_ID).map(str::to_string),
            provider: g.dim(line::PROVIDER).map(str::to_string),
            account: g
                .dim(line::SUB_ACCOUNT_ID)
                .or(g.dim(line::BILLING_ACCOUNT_ID))
                .map(str::to_string),
            unused_commitment: status,
            group: group_index,
        });
    }
    Ok(ledger)
}

fn push_unique(map: &mut BTreeMap<usize, Vec<String>>, file: usize, value: Option<&str>) {
    if let Some(v) = value {
        let list = map.entry(file).or_default();
        if !list.iter().any(|x| x == v) {
            list.push(v.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        period: &str,
        currency: &str,
        category: &str,
        effective: &str,
        billed: &str,
        tags: Option<&str>,
    ) -> SourceGroup {
        let mut g = SourceGroup::default();
        let set = |g: &mut SourceGroup, name: &str, v: Option<&str>| {
            let i = line::DIMENSIONS.iter().position(|d| *d == name).unwrap();
            g.dims[i] = v.map(str::to_string);
        };
        set(&mut g, line::BILLING_PERIOD_START, Some(period));
        set(&mut g, line::BILLING_CURRENCY, Some(currency));
        set(&mut g, line::CHARGE_CATEGORY, Some(category));
        set(&mut g, line::TAGS, tags);
        let e = Money::parse(effective).unwrap();
        let b = Money::parse(billed).unwrap();
        g.costs = [Some(e), Some(b), Some(b), Some(b)];
        g.prepaid_shape = b.0 > 0 && e.0 == 0;
        g.rows = 1;
        g
    }

    #[test]
    fn commitment_purchases_counted_once_on_every_basis() {
        let groups = vec![
            group("2024-09-01", "USD", "Purchase", "0", "100", None),
            group("2024-09-01", "USD", "Usage", "100", "0", None),
        ];
        let mut config = Config::default();
        for (basis, want) in [
            (CostBasis::Effective, "100"),
            (CostBasis::Billed, "100"),
            (CostBasis::List, "0"),
        ] {
            config.cost.basis = basis;
            let l = build(&groups, &config, None).unwrap();
            let t = &l.totals[&("2024-09".to_string(), "USD".to_string())];
            assert_eq!(t.cost.to_string(), want, "{basis:?}");
        }
        config.cost.basis = CostBasis::List;
        let l = build(&groups, &config, None).unwrap();
        let t = &l.totals[&("2024-09".to_string(), "USD".to_string())];
        assert_eq!(t.excluded_commitment_rows, 1);
        assert_eq!(t.excluded_commitment_purchases.to_string(), "100");
    }

    #[test]
    fn bad_groups_are_quarantined_with_reasons_and_parsed_tags_are_shared() {
        let mut bad_cost = group("2024-09-01", "USD", "Usage", "1", "1", None);
        bad_cost.basis_status = 2;
        let groups = vec![
            bad_cost,
            group("2024-02-30", "USD", "Usage", "1", "1", None),
            group("2024-09-01", "US", "Usage", "1", "1", None),
            group(
                "2024-09-01",
                "USD",
                "Usage",
                "1",
                "1",
                Some(r#"{"model_id":"a"}"#),
            ),
            group(
                "2024-10-01",
                "USD",
                "Usage",
                "2",
                "2",
                Some(r#"{"model_id":"a"}"#),
            ),
        ];
        let l = build(&groups, &Config::default(), None).unwrap();
        assert_eq!(l.quarantined_rows(), 3);
        assert_eq!(l.lines.len(), 2);
        assert_eq!(l.tag_sets.len(), 1, "one distinct tag text is parsed once");
        assert_eq!(l.bad_periods[&0], vec!["2024-02-30".to_string()]);
        let l = build(&groups, &Config::default(), Some("2024-10")).unwrap();
        assert_eq!(l.lines.len(), 1);
        assert_eq!(
            l.outside_period_rows, 3,
            "September rows are outside, bad ones included"
        );
        assert_eq!(
            l.quarantined_rows(),
            1,
            "only the row without a usable period"
        );
    }

    mod limits {
        use arrow_buffer::i256;
        use proptest::prelude::*;

        use super::*;
        use crate::money::MAX_ABS;

        /// Amounts spread over the whole of decimal(38,18), many of them near its limits.
        fn amount() -> impl Strategy<Value = i128> {
            prop_oneof![
                -MAX_ABS..=MAX_ABS,
                (MAX_ABS / 3)..=MAX_ABS,
                -MAX_ABS..=(-MAX_ABS / 3),
                -1_000_000i128..1_000_000,
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
            /// Near the limits of decimal(38,18) the ledger either totals every month exactly
            /// (checked against 256-bit sums) or fails with an overflow error; it never wraps.
            #[test]
            fn totals_are_exact_or_an_overflow_error(values in proptest::collection::vec((amount(), 0usize..2), 1..8)) {
                let periods = ["2024-09-01", "2024-10-01"];
                let groups: Vec<SourceGroup> = values
                    .iter()
                    .enumerate()
                    .map(|(i, (v, p))| {
                        let mut g = group(periods[*p], "USD", "Usage", "0", "0", None);
                        g.costs = [Some(Money(*v)); 4];
                        g.prepaid_shape = false;
                        g.dims[8] = Some(format!("r{i}")); // RESOURCE_ID
                        g
                    })
                    .collect();
                let mut exact = [i256::ZERO; 2];
                let mut magnitude = [i256::ZERO; 2];
                for (v, p) in &values {
                    exact[*p] = exact[*p].wrapping_add(i256::from_i128(*v));
                    magnitude[*p] = magnitude[*p].wrapping_add(i256::from_i128(v.abs()));
                }
                let limit = i256::from_i128(MAX_ABS);
                match build(&groups, &Config::default(), None) {
                    Ok(l) => {
                        for (k, p) in ["2024-09", "2024-10"].iter().enumerate() {
                            let got = l.totals.get(&(p.to_string(), "USD".to_string()));
                            let got = got.map_or(i256::ZERO, |t| i256::from_i128(t.cost.0));
                            prop_assert_eq!(got, exact[k]);
                            prop_assert!(magnitude[k] <= limit);
                        }
                    }
                    Err(Error::Overflow { .. }) => {
                        prop_assert!(magnitude.iter().any(|m| *m > limit));
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e}"),
                }
            }

            /// Merging two groups is exact or refused, and a refused merge changes nothing.
            #[test]
            fn absorb_is_exact_or_refused(a in amount(), b in amount()) {
                let mut x = SourceGroup { costs: [Some(Money(a)); 4], rows: 1, ..SourceGroup::default() };
                let y = SourceGroup { costs: [Some(Money(b)); 4], rows: 1, ..SourceGroup::default() };
                let sum = i256::from_i128(a).wrapping_add(i256::from_i128(b));
                let before = x.clone();
                match x.absorb(&y) {
                    Ok(()) => {
                        prop_assert_eq!(i256::from_i128(x.costs[0].unwrap().0), sum);
                        prop_assert_eq!(x.rows, 2);
                    }
                    Err(_) => {
                        prop_assert!(sum > i256::from_i128(MAX_ABS) || sum < i256::from_i128(-MAX_ABS));
                        prop_assert_eq!(x, before);
                    }
                }
            }
        }
    }
}
