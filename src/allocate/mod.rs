//! Allocation: decides which model, team and lifecycle phase each counted cost line belongs
//! to, in a documented order: (1) virtual-tag rules fill missing tags (first match wins);
//! (2) shared pools take the spend they match and split it over target models; (3) spend
//! without a model (`__unallocated__`) and unused commitment are kept visible or spread, as
//! configured. Every split is exact: largest-remainder rounding at the pool's own decimal
//! precision, so shares add up to the pool. Each row carries its cost's breakdown by the
//! `[output] dimensions` values of its lines (`dimensions` turns it into a table). Works on the
//! small aggregated ledger only; never touches files.

pub mod amortize;
pub mod dimensions;
pub mod rules;

/// Requests per (period, model), for splits by request volume (read by `volumes`).
pub type Requests = std::collections::BTreeMap<(String, String), i64>;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::allocate::rules::{Pool, RuleSet};
use crate::config::{SplitMethod, SpreadMethod};
use crate::ingest::SourceGroup;
use crate::ledger::Ledger;
use crate::money::{split_largest_remainder, Money, SCALE};
use crate::schema::{UNALLOCATED, UNTAGGED, UNUSED_COMMITMENT};
use crate::tags::{TagSet, LIFECYCLE_PHASE, MODEL_ID, TEAM};

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
    /// The virtual-tag rule that matched the spend, if any.
    pub rule_id: Option<String>,
    /// The shared pool the cost came from, if any.
    pub source_pool: Option<String>,
    /// The fraction of the pool this row received (for split rows).
    pub share: Option<Money>,
    /// The row's cost by the value of each `[output] dimensions` entry, in config order
    /// (empty without dimensions, and for the rows amortisation adds).
    pub dimensions: Breakdown,
}

/// Cost by value of each configured dimension (a missing value is None); each map adds up
/// exactly to the cost it breaks down.
pub type Breakdown = Vec<BTreeMap<Option<String>, Money>>;

/// The value a split gives a dimension whose values mix credits and charges (or are all
/// zero), where a proportional split would mean nothing.
pub const MIXED: &str = "__mixed__";

/// Cost, billing rows and the cost's breakdown by dimension value, as they accumulate.
#[derive(Debug, Clone, Default)]
struct Amount {
    cost: Money,
    rows: u64,
    parts: Breakdown,
}

impl Amount {
    /// Adds `cost` of `rows` billing rows whose dimensions have `values`.
    fn add_line(&mut self, cost: Money, rows: u64, values: &[Option<String>]) {
        self.cost += cost;
        self.rows += rows;
        self.parts.resize_with(values.len(), BTreeMap::new);
        for (part, v) in self.parts.iter_mut().zip(values) {
            *part.entry(v.clone()).or_default() += cost;
        }
    }

    /// Adds `cost` of `rows` billing rows broken down as `parts`.
    fn add(&mut self, cost: Money, rows: u64, parts: &Breakdown) {
        self.cost += cost;
        self.rows += rows;
        self.parts.resize_with(parts.len(), BTreeMap::new);
        for (mine, theirs) in self.parts.iter_mut().zip(parts) {
            for (v, c) in theirs {
                *mine.entry(v.clone()).or_default() += *c;
            }
        }
    }
}

/// `share` of an amount broken down as `parts`, broken down in the same proportions
/// (largest remainder at `quantum`, so each dimension adds up exactly to `share`).
fn split_parts(parts: &Breakdown, share: Money, quantum: i128) -> Breakdown {
    parts
        .iter()
        .map(|part| {
            // values that are all credits split by their size, like values all charges
            let sign = match part.values().all(|c| c.0 <= 0) {
                true => -1,
                false => 1,
            };
            let weights: Vec<i128> = part.values().map(|c| sign * c.0).collect();
            match split_largest_remainder(share, &weights, quantum) {
                Some(shares) => part.keys().cloned().zip(shares).collect(),
                // credits and charges among the values, or nothing to weigh by
                None => BTreeMap::from([(Some(MIXED.to_string()), share)]),
            }
        })
        .collect()
}

/// The allocated ledger, sorted by its key.
#[derive(Debug, Default)]
pub struct Allocation {
    pub basis: &'static str,
    pub rows: Vec<CostByModelRow>,
    /// Rule id -> billing rows it matched.
    pub rule_matches: BTreeMap<String, u64>,
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

type PeriodKey = (String, String);

/// The grain of `cost_by_model`, in its sort order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    period: String,
    currency: String,
    model_id: String,
    team: String,
    lifecycle_phase: String,
    allocation_method: String,
    rule_id: Option<String>,
    source_pool: Option<String>,
    share: Option<Money>,
}

/// Unallocated spend of one period: (team, phase, rule) -> amount.
type UnallocatedBucket = BTreeMap<(String, String, Option<String>), Amount>;

/// A bucket of spend waiting to be split: (team, phase) -> amount.
type Bucket = BTreeMap<(String, String), Amount>;

/// What direct spend tells us about the models of one (period, currency).
#[derive(Default)]
struct Models {
    /// model -> (team -> cost)
    teams: BTreeMap<String, BTreeMap<String, Money>>,
    /// model -> (phase -> cost)
    phases: BTreeMap<String, BTreeMap<String, Money>>,
    /// model -> tag (key, value) pairs seen on its direct spend (only keys pools target)
    tags: BTreeMap<String, BTreeSet<(String, String)>>,
}

impl Models {
    fn team_of(&self, model: &str) -> String {
        self.teams
            .get(model)
            .and_then(|t| {
                t.iter()
                    .fold(None::<(&String, Money)>, |best, (team, c)| match best {
                        Some((_, bc)) if bc.0.abs() >= c.0.abs() => best,
                        _ => Some((team, *c)),
                    })
                    .map(|(t, _)| t.clone())
            })
            .unwrap_or_else(|| UNTAGGED.to_string())
    }

    fn direct_cost(&self, model: &str, phase: Option<&str>) -> Money {
        self.phases.get(model).map_or(Money::ZERO, |p| match phase {
            Some(ph) => p.get(ph).copied().unwrap_or_default(),
            None => p.values().copied().sum(),
        })
    }
}

/// Decimal places actually used by an amount (0 to 18).
fn places(m: Money) -> u32 {
    let mut v = m.0.unsigned_abs();
    if v == 0 {
        return 0;
    }
    let mut p = SCALE;
    while p > 0 && v.is_multiple_of(10) {
        v /= 10;
        p -= 1;
    }
    p
}

pub fn allocate(
    ledger: &Ledger,
    groups: &[SourceGroup],
    rules: &RuleSet,
    volumes: Option<&Requests>,
) -> Allocation {
    let mut out: BTreeMap<RowKey, Amount> = BTreeMap::new();
    let target_keys: BTreeSet<String> = rules
        .pools
        .iter()
        .flat_map(|p| p.targets.iter().map(|(k, _)| k.clone()))
        .collect();
    let mut rule_matches: BTreeMap<String, u64> =
        rules.rules.iter().map(|r| (r.id.clone(), 0)).collect();
    let mut after_rule: HashMap<(usize, usize), TagSet> = HashMap::new();
    let mut models: BTreeMap<PeriodKey, Models> = BTreeMap::new();
    // (pool index, period key) -> bucket; and the two implicit pools
    let mut pooled: BTreeMap<(usize, PeriodKey), Bucket> = BTreeMap::new();
    let mut unallocated: BTreeMap<PeriodKey, UnallocatedBucket> = BTreeMap::new();
    let mut unused: BTreeMap<PeriodKey, Bucket> = BTreeMap::new();
    // The input's precision per currency: shares are rounded to the last decimal it uses.
    let mut precision: BTreeMap<String, u32> = BTreeMap::new();
    for line in &ledger.lines {
        let p = precision.entry(line.currency.clone()).or_default();
        *p = (*p).max(places(line.cost));
    }

    // (1) rules and (2) pool selection, line by line
    let no_group = SourceGroup::default();
    for line in &ledger.lines {
        let source = &ledger.tag_sets[line.tags].0;
        // ledger::build sets `group` to the index of the group it came from
        let g = groups.get(line.group).unwrap_or(&no_group);
        let rule = rules
            .rules
            .iter()
            .position(|r| r.matcher.matches(g, source));
        let tags: &TagSet = match rule {
            Some(i) => {
                *rule_matches.entry(rules.rules[i].id.clone()).or_default() += line.rows;
                after_rule
                    .entry((line.tags, i))
                    .or_insert_with(|| rules.rules[i].apply(source))
            }
            None => source,
        };
        let rule_id = rule.map(|i| rules.rules[i].id.clone());
        // the line's value of each configured dimension (none configured: nothing to do)
        let values: Vec<Option<String>> = rules
            .dimensions
            .iter()
            .map(|(_, field)| field.value(g, tags).map(str::to_string))
            .collect();
        let team = tags.get(TEAM).unwrap_or(UNTAGGED).to_string();
        let phase = tags.get(LIFECYCLE_PHASE).unwrap_or(UNTAGGED).to_string();
        let pk = (line.period.clone(), line.currency.clone());
        if line.unused_commitment {
            unused
                .entry(pk)
                .or_default()
                .entry((team, phase))
                .or_default()
                .add_line(line.cost, line.rows, &values);
            continue;
        }
        if let Some(pool) = rules
            .pools
            .iter()
            .position(|pool| pool.matcher.matches(g, tags))
        {
            pooled
                .entry((pool, pk))
                .or_default()
                .entry((team, phase))
                .or_default()
                .add_line(line.cost, line.rows, &values);
            continue;
        }
        match tags.get(MODEL_ID) {
            Some(model) => {
                let rule_gave_model = rule.is_some_and(|i| {
                    source.get(MODEL_ID).is_none()
                        && rules.rules[i].set.iter().any(|(k, _)| k == MODEL_ID)
                });
                let method = match (&rule_id, rule_gave_model) {
                    (Some(id), true) => format!("rule:{id}"),
                    _ => "direct".to_string(),
                };
                let m = models.entry(pk.clone()).or_default();
                *m.teams
                    .entry(model.to_string())
                    .or_default()
                    .entry(team.clone())
                    .or_default() += line.cost;
                *m.phases
                    .entry(model.to_string())
                    .or_default()
                    .entry(phase.clone())
                    .or_default() += line.cost;
                let seen = m.tags.entry(model.to_string()).or_default();
                for k in &target_keys {
                    if let Some(v) = tags.get(k) {
                        seen.insert((k.clone(), v.to_string()));
                    }
                }
                out.entry(RowKey {
                    period: pk.0,
                    currency: pk.1,
                    model_id: model.to_string(),
                    team,
                    lifecycle_phase: phase,
                    allocation_method: method,
                    rule_id,
                    source_pool: None,
                    share: None,
                })
                .or_default()
                .add_line(line.cost, line.rows, &values);
            }
            None => {
                unallocated
                    .entry(pk)
                    .or_default()
                    .entry((team, phase, rule_id))
                    .or_default()
                    .add_line(line.cost, line.rows, &values);
            }
        }
    }

    let mut add = |k: RowKey, cost: Money, rows: u64, parts: &Breakdown| {
        out.entry(k).or_default().add(cost, rows, parts);
    };
    // (2) split the pools
    let empty = Models::default();
    for ((pool_index, pk), bucket) in &pooled {
        let pool = &rules.pools[*pool_index];
        let m = models.get(pk).unwrap_or(&empty);
        let weights = pool_weights(pool, m, &pk.0, volumes);
        let method = format!("shared:{}", pool.id);
        let places = precision.get(&pk.1).copied().unwrap_or(SCALE);
        split_bucket(
            bucket, &weights, places, m, pk, &method, &pool.id, &method, &mut add,
        );
    }
    // (3) unallocated spend and unused commitment
    for (pk, entries) in &unallocated {
        let m = models.get(pk).unwrap_or(&empty);
        let weights = spread_weights(rules.unallocated, m, &pk.0, volumes);
        let places = precision.get(&pk.1).copied().unwrap_or(SCALE);
        for ((team, phase, rule_id), amount) in entries {
            if weights.is_empty() {
                add(
                    RowKey {
                        period: pk.0.clone(),
                        currency: pk.1.clone(),
                        model_id: UNALLOCATED.into(),
                        team: team.clone(),
                        lifecycle_phase: phase.clone(),
                        allocation_method: "unallocated".into(),
                        rule_id: rule_id.clone(),
                        source_pool: None,
                        share: None,
                    },
                    amount.cost,
                    amount.rows,
                    &amount.parts,
                );
                continue;
            }
            let mut one: Bucket = BTreeMap::new();
            one.insert((team.clone(), phase.clone()), amount.clone());
            split_bucket(
                &one,
                &weights,
                places,
                m,
                pk,
                "shared:unallocated",
                "unallocated",
                UNALLOCATED,
                &mut add,
            );
        }
    }
    for (pk, bucket) in &unused {
        let m = models.get(pk).unwrap_or(&empty);
        let weights = spread_weights(rules.unused_commitment, m, &pk.0, volumes);
        if weights.is_empty() {
            for ((team, phase), amount) in bucket {
                add(
                    RowKey {
                        period: pk.0.clone(),
                        currency: pk.1.clone(),
                        model_id: UNUSED_COMMITMENT.into(),
                        team: team.clone(),
                        lifecycle_phase: phase.clone(),
                        allocation_method: "unallocated".into(),
                        rule_id: None,
                        source_pool: None,
                        share: None,
                    },
                    amount.cost,
                    amount.rows,
                    &amount.parts,
                );
            }
            continue;
        }
        let places = precision.get(&pk.1).copied().unwrap_or(SCALE);
        split_bucket(
            bucket,
            &weights,
            places,
            m,
            pk,
            "shared:unused_commitment",
            "unused_commitment",
            UNUSED_COMMITMENT,
            &mut add,
        );
    }

    Allocation {
        basis: ledger.basis.name(),
        rows: out
            .into_iter()
            .map(|(k, a)| CostByModelRow {
                period: k.period,
                currency: k.currency,
                model_id: k.model_id,
                team: k.team,
                lifecycle_phase: k.lifecycle_phase,
                allocation_method: k.allocation_method,
                cost: a.cost,
                rows: a.rows,
                rule_id: k.rule_id,
                source_pool: k.source_pool,
                share: k.share,
                dimensions: a.parts,
            })
            .collect(),
        rule_matches,
    }
}

/// Target model -> weight (non-negative; models with weight 0 are dropped). Empty: no target.
fn pool_weights(
    pool: &Pool,
    m: &Models,
    period: &str,
    volumes: Option<&Requests>,
) -> Vec<(String, i128)> {
    if pool.method == SplitMethod::Fixed {
        return pool
            .weights
            .iter()
            .filter(|(_, w)| w.0 > 0)
            .map(|(model, w)| (model.clone(), w.0))
            .collect();
    }
    let eligible: Vec<&String> = m
        .phases
        .keys()
        .filter(|model| {
            pool.targets.iter().all(|(k, values)| {
                if k == MODEL_ID {
                    values.contains(model)
                } else {
                    m.tags.get(*model).is_some_and(|seen| {
                        values
                            .iter()
                            .any(|v| seen.contains(&(k.clone(), v.clone())))
                    })
                }
            })
        })
        .collect();
    let weight = |model: &String| -> i128 {
        match pool.method {
            SplitMethod::Even => 1,
            SplitMethod::Proportional => m.direct_cost(model, pool.phase.as_deref()).0.max(0),
            SplitMethod::Requests => volumes
                .and_then(|v| v.get(&(period.to_string(), model.clone())))
                .map_or(0, |n| i128::from(*n)),
            SplitMethod::Driver => pool
                .driver
                .get(&(period.to_string(), model.clone()))
                .map_or(0, |q| q.0),
            SplitMethod::Fixed => 0,
        }
    };
    eligible
        .into_iter()
        .map(|model| (model.clone(), weight(model)))
        .filter(|(_, w)| *w > 0)
        .collect()
}

/// Weights for spreading unallocated spend or unused commitment over every direct model.
fn spread_weights(
    method: SpreadMethod,
    m: &Models,
    period: &str,
    volumes: Option<&Requests>,
) -> Vec<(String, i128)> {
    let split = match method {
        SpreadMethod::Keep => return Vec::new(),
        SpreadMethod::Even => SplitMethod::Even,
        SpreadMethod::Proportional => SplitMethod::Proportional,
        SpreadMethod::Requests => SplitMethod::Requests,
    };
    let pool = Pool {
        id: String::new(),
        line: 0,
        matcher: Default::default(),
        targets: Vec::new(),
        method: split,
        phase: None,
        weights: Vec::new(),
        driver: BTreeMap::new(),
    };
    pool_weights(&pool, m, period, volumes)
}

/// Splits every (team, phase) entry of a bucket over the weights, exactly; with no weights,
/// the bucket stays visible under `unassigned_model`.
#[allow(clippy::too_many_arguments)]
fn split_bucket(
    bucket: &Bucket,
    weights: &[(String, i128)],
    places: u32,
    m: &Models,
    pk: &PeriodKey,
    method: &str,
    pool_id: &str,
    unassigned_model: &str,
    add: &mut impl FnMut(RowKey, Money, u64, &Breakdown),
) {
    // weights past i128 together find no split (split_largest_remainder checks the same sum)
    let total_weight = weights
        .iter()
        .try_fold(0i128, |a, w| a.checked_add(w.1))
        .unwrap_or(0);
    let w: Vec<i128> = weights.iter().map(|w| w.1).collect();
    let quantum = 10i128.pow(SCALE - places.min(SCALE));
    for ((team, phase), amount) in bucket {
        let (cost, rows) = (&amount.cost, &amount.rows);
        match split_largest_remainder(*cost, &w, quantum) {
            Some(shares) => {
                for ((model, wt), share) in weights.iter().zip(shares) {
                    let fraction = Money::fraction(*wt, total_weight).unwrap_or_default();
                    add(
                        RowKey {
                            period: pk.0.clone(),
                            currency: pk.1.clone(),
                            model_id: model.clone(),
                            team: m.team_of(model),
                            lifecycle_phase: phase.clone(),
                            allocation_method: method.to_string(),
                            rule_id: None,
                            source_pool: Some(pool_id.to_string()),
                            share: Some(fraction),
                        },
                        share,
                        *rows,
                        &split_parts(&amount.parts, share, quantum),
                    );
                }
            }
            None => add(
                RowKey {
                    period: pk.0.clone(),
                    currency: pk.1.clone(),
                    model_id: unassigned_model.to_string(),
                    team: team.clone(),
                    lifecycle_phase: phase.clone(),
                    allocation_method: "unallocated".into(),
                    rule_id: None,
                    source_pool: Some(pool_id.to_string()),
                    share: None,
                },
                *cost,
                *rows,
                &amount.parts,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
