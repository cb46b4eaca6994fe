//! `cost_by_dimension`: each model's cost (x team x lifecycle phase) broken down by the value
//! of every `[output] dimensions` entry, from the breakdown `allocate` carries on each
//! `cost_by_model` row. Each dimension's rows add up exactly to the rows they break down, so
//! to `cost_by_model` per model and to the bill per month. Pure: writing is `output`'s job.

use std::collections::BTreeMap;

use crate::allocate::{Allocation, CostByModelRow};
use crate::money::Money;

/// The value of the rows amortisation adds (training cost moved between months): they have
/// no billing line of their own in the month.
pub const AMORTIZED: &str = "__amortized_training__";

/// One row of `cost_by_dimension`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionRow {
    pub period: String,
    pub currency: String,
    pub dimension: String,
    pub model_id: String,
    pub team: String,
    pub lifecycle_phase: String,
    /// None: the billing line had no value for the dimension.
    pub value: Option<String>,
    pub cost: Money,
}

/// The breakdown of every row of `alloc` by each of `dimensions` (names in config order),
/// summed per (period, currency, dimension, model, team, phase, value) and sorted so; values
/// that add up to zero are left out (they carry no cost).
pub fn cost_by_dimension(alloc: &Allocation, dimensions: &[String]) -> Vec<DimensionRow> {
    type Key<'a> = (
        &'a str,
        &'a str,
        usize,
        &'a str,
        &'a str,
        &'a str,
        Option<String>,
    );
    let mut sums: BTreeMap<Key, Money> = BTreeMap::new();
    for r in &alloc.rows {
        for i in 0..dimensions.len() {
            for (value, cost) in parts_of(r, i) {
                let key = (
                    r.period.as_str(),
                    r.currency.as_str(),
                    i,
                    r.model_id.as_str(),
                    r.team.as_str(),
                    r.lifecycle_phase.as_str(),
                    value,
                );
                *sums.entry(key).or_default() += cost;
            }
        }
    }
    let mut rows: Vec<DimensionRow> = sums
        .into_iter()
        .filter(|(_, cost)| !cost.is_zero())
        .map(
            |((period, currency, i, model, team, phase, value), cost)| DimensionRow {
                period: period.to_string(),
                currency: currency.to_string(),
                dimension: dimensions[i].clone(),
                model_id: model.to_string(),
                team: team.to_string(),
                lifecycle_phase: phase.to_string(),
                value,
                cost,
            },
        )
        .collect();
    // by the dimension's name, not its place in the config
    rows.sort_by(|a, b| {
        (
            &a.period,
            &a.currency,
            &a.dimension,
            &a.model_id,
            &a.team,
            &a.lifecycle_phase,
            &a.value,
        )
            .cmp(&(
                &b.period,
                &b.currency,
                &b.dimension,
                &b.model_id,
                &b.team,
                &b.lifecycle_phase,
                &b.value,
            ))
    });
    rows
}

/// A row's cost by the values of dimension `i`; the rows amortisation adds have none and
/// count under [`AMORTIZED`].
fn parts_of(r: &CostByModelRow, i: usize) -> Vec<(Option<String>, Money)> {
    match r.dimensions.get(i) {
        Some(part) => part.iter().map(|(v, c)| (v.clone(), *c)).collect(),
        None => vec![(Some(AMORTIZED.to_string()), r.cost)],
    }
}

/// The dimensions of `names` that no row gives a value from the bill (only null or the
/// values mlcost sets): a misspelt column or a tag key the bill does not carry.
pub fn never_valued<'a>(rows: &[DimensionRow], names: &'a [String]) -> Vec<&'a str> {
    names
        .iter()
        .filter(|n| {
            !rows.iter().any(|r| {
                &r.dimension == *n
                    && r.value
                        .as_deref()
                        .is_some_and(|v| v != AMORTIZED && v != crate::allocate::MIXED)
            })
        })
        .map(String::as_str)
        .collect()
}

/// Per (period, currency, dimension), the total of `rows`: the reconciliation compares each
/// with what was read.
pub fn totals(rows: &[DimensionRow]) -> BTreeMap<(String, String, String), Money> {
    let mut out: BTreeMap<(String, String, String), Money> = BTreeMap::new();
    for r in rows {
        *out.entry((r.period.clone(), r.currency.clone(), r.dimension.clone()))
            .or_default() += r.cost;
    }
    out
}
