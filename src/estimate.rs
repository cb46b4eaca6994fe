//! The planning cost model behind `mlcost estimate`: a price catalog (on-demand hourly rates
//! and the discounts available, each a fraction off on-demand) times a usage profile (training,
//! inference, feature pipeline, storage, data transfer) gives each planned model's monthly
//! cost, exactly, per category and per request. Also: what-if overrides of a profile, plan vs
//! actual against `attribute`'s unit costs, and the cost-accuracy frontier. Reads only the
//! catalog and profile text it is given; no other I/O.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::money::{Money, ONE};

/// The catalog shipped with mlcost (AWS us-east-1).
pub const DEFAULT_CATALOG: &str = include_str!("../catalogs/aws-us-east-1.toml");

/// How compute is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pricing {
    #[serde(rename = "on_demand")]
    OnDemand,
    #[serde(rename = "spot")]
    Spot,
    #[serde(rename = "reserved_1y")]
    Reserved1y,
    #[serde(rename = "reserved_3y")]
    Reserved3y,
    #[serde(rename = "savings_plan")]
    SavingsPlan,
}

impl Pricing {
    pub fn name(self) -> &'static str {
        match self {
            Pricing::OnDemand => "on_demand",
            Pricing::Spot => "spot",
            Pricing::Reserved1y => "reserved_1y",
            Pricing::Reserved3y => "reserved_3y",
            Pricing::SavingsPlan => "savings_plan",
        }
    }
}

/// Discounts, each a fraction off the on-demand price (0.7 = pay 30%).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discounts {
    pub spot_discount: Option<f64>,
    pub reserved_1y_discount: Option<f64>,
    pub reserved_3y_discount: Option<f64>,
    pub savings_plan_discount: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePrice {
    /// On-demand price per hour.
    pub hourly: f64,
    pub description: Option<String>,
    /// Date this price was taken, when it differs from the catalog's.
    pub as_of: Option<String>,
    pub spot_discount: Option<f64>,
    pub reserved_1y_discount: Option<f64>,
    pub reserved_3y_discount: Option<f64>,
    pub savings_plan_discount: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePrice {
    pub gb_month: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferPrice {
    pub out_gb: f64,
}

/// A price catalog: where and when its prices were taken, and the prices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub provider: String,
    pub region: String,
    pub currency: String,
    pub prices_as_of: String,
    pub source: Option<String>,
    #[serde(default)]
    pub defaults: Discounts,
    pub instances: BTreeMap<String, InstancePrice>,
    pub storage: StoragePrice,
    pub transfer: TransferPrice,
}

impl Catalog {
    /// Parses catalog text; `name` is used in messages.
    pub fn parse(text: &str, name: &Path) -> Result<Catalog> {
        let c: Catalog = toml::from_str(text).map_err(|e| Error::Config {
            path: name.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
            hint: Some("see catalogs/aws-us-east-1.toml for the shape of a catalog".into()),
        })?;
        for (id, i) in &c.instances {
            let bad = |what: String| Error::Config {
                path: name.to_path_buf(),
                message: format!("instance `{id}`: {what}"),
                hint: Some("discounts are fractions off on-demand between 0 and 1".into()),
            };
            if !(i.hourly.is_finite() && i.hourly >= 0.0) {
                return Err(bad("`hourly` must be a non-negative number".into()));
            }
            for d in [
                i.spot_discount,
                i.reserved_1y_discount,
                i.reserved_3y_discount,
                i.savings_plan_discount,
            ]
            .into_iter()
            .flatten()
            {
                if !(0.0..1.0).contains(&d) {
                    return Err(bad(format!("discount {d} is not in [0, 1)")));
                }
            }
        }
        Ok(c)
    }

    /// The shipped AWS us-east-1 catalog.
    pub fn default_catalog() -> Result<Catalog> {
        Catalog::parse(DEFAULT_CATALOG, Path::new("catalogs/aws-us-east-1.toml"))
    }

    fn discount(&self, instance: &InstancePrice, pricing: Pricing) -> Option<f64> {
        let (own, default) = match pricing {
            Pricing::OnDemand => return Some(0.0),
            Pricing::Spot => (instance.spot_discount, self.defaults.spot_discount),
            Pricing::Reserved1y => (
                instance.reserved_1y_discount,
                self.defaults.reserved_1y_discount,
            ),
            Pricing::Reserved3y => (
                instance.reserved_3y_discount,
                self.defaults.reserved_3y_discount,
            ),
            Pricing::SavingsPlan => (
                instance.savings_plan_discount,
                self.defaults.savings_plan_discount,
            ),
        };
        own.or(default)
    }
}

// ---- profile ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    model: Vec<ModelProfile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelProfile {
    name: String,
    training: Option<Training>,
    inference: Option<Inference>,
    feature_pipeline: Option<FeaturePipeline>,
    storage: Option<Storage>,
    data_transfer: Option<DataTransfer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Training {
    instance: Spanned<String>,
    count: Option<Spanned<f64>>,
    hours_per_run: Spanned<f64>,
    runs_per_month: Spanned<f64>,
    pricing: Option<Pricing>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inference {
    instance: Spanned<String>,
    replicas: Spanned<f64>,
    hours_per_month: Option<Spanned<f64>>,
    pricing: Option<Pricing>,
    requests_per_month: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeaturePipeline {
    instance: Spanned<String>,
    count: Option<Spanned<f64>>,
    hours_per_day: Spanned<f64>,
    days_per_month: Option<Spanned<f64>>,
    pricing: Option<Pricing>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Storage {
    training_data: Option<Spanned<f64>>,
    model_artifacts: Option<Spanned<f64>>,
    feature_store: Option<Spanned<f64>>,
    experiment_artifacts: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTransfer {
    gb_per_month: Spanned<f64>,
}

// ---- result ----------------------------------------------------------------------------

/// The cost of one category of one planned model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCost {
    /// training | inference | feature_pipeline | storage | data_transfer
    pub category: &'static str,
    /// e.g. `1 x p3.16xlarge`, `870 GB`
    pub resource: String,
    pub pricing: Option<Pricing>,
    /// Fraction off on-demand that was applied.
    pub discount: Option<Money>,
    /// Price per unit after the discount (per hour, per GB-month, per GB).
    pub rate: Money,
    pub unit: &'static str,
    /// Units per month (instance-hours, GB-months, GB).
    pub quantity: Money,
    pub monthly: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEstimate {
    pub name: String,
    pub categories: Vec<CategoryCost>,
    pub monthly: Money,
    pub annual: Money,
    pub requests_per_month: Option<Money>,
    pub cost_per_request: Option<Money>,
    pub cost_per_1000_requests: Option<Money>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub provider: String,
    pub region: String,
    pub currency: String,
    pub prices_as_of: String,
    pub models: Vec<ModelEstimate>,
}

/// An estimate figure that left decimal(38,18).
fn overflow(what: &str) -> Error {
    Error::Overflow {
        what: format!("{what} of the estimate"),
        detail: "the profile's quantities times the catalog's prices leave decimal(38,18)".into(),
    }
}

/// `a * b`, or an overflow error naming the figure.
fn mul(a: Money, b: Money, what: &str) -> Result<Money> {
    a.checked_mul(b).ok_or_else(|| overflow(what))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

/// Estimates every model of a profile against a catalog. `name` is the profile path for
/// messages; `text` its content (line numbers in errors come from it).
pub fn estimate(text: &str, name: &Path, catalog: &Catalog) -> Result<Estimate> {
    let profile: ProfileFile = toml::from_str(text).map_err(|e| Error::Config {
        path: name.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        hint: Some("see sample_data/profile_recommendation.toml for a complete profile".into()),
    })?;
    let err = |line: usize, message: String, hint: Option<String>| Error::Config {
        path: name.to_path_buf(),
        message: format!("line {line}: {message}"),
        hint,
    };
    // a non-negative quantity, exactly
    let qty = |v: &Spanned<f64>, field: &str| -> Result<Money> {
        let line = line_of(text, v.span().start);
        let x = *v.get_ref();
        if x < 0.0 {
            return Err(err(line, format!("`{field}` is negative ({x})"), None));
        }
        Money::from_f64(x).map_err(|e| err(line, format!("`{field}`: {e}"), None))
    };
    let opt = |v: &Option<Spanned<f64>>, field: &str, default: f64| -> Result<Money> {
        match v {
            Some(v) => qty(v, field),
            None => Money::from_f64(default).map_err(|e| Error::Internal(e.to_string())),
        }
    };
    let rate = |instance: &Spanned<String>, pricing: Pricing| -> Result<(Money, Money)> {
        let id = instance.get_ref();
        let line = line_of(text, instance.span().start);
        let Some(price) = catalog.instances.get(id) else {
            let known: Vec<&str> = catalog.instances.keys().map(String::as_str).collect();
            return Err(err(
                line,
                format!(
                    "unknown instance type `{id}` in the {} {} catalog",
                    catalog.provider, catalog.region
                ),
                Some(format!(
                    "known types: {}; or pass `--catalog FILE` with it",
                    known.join(", ")
                )),
            ));
        };
        let discount = catalog.discount(price, pricing).ok_or_else(|| {
            err(
                line,
                format!(
                    "the catalog has no `{}` discount for `{id}`",
                    pricing.name()
                ),
                None,
            )
        })?;
        let hourly = Money::from_f64(price.hourly).map_err(|e| Error::Internal(e.to_string()))?;
        let discount = Money::from_f64(discount).map_err(|e| Error::Internal(e.to_string()))?;
        Ok((
            mul(hourly, Money(ONE) - discount, "the discounted hourly rate")?,
            discount,
        ))
    };
    let mut models = Vec::new();
    for m in &profile.model {
        let mut cats = Vec::new();
        if let Some(t) = &m.training {
            let pricing = t.pricing.unwrap_or(Pricing::Spot);
            let (r, d) = rate(&t.instance, pricing)?;
            let count = opt(&t.count, "training.count", 1.0)?;
            let hours = mul(
                mul(
                    qty(&t.hours_per_run, "training.hours_per_run")?,
                    qty(&t.runs_per_month, "training.runs_per_month")?,
                    "training hours",
                )?,
                count,
                "training hours",
            )?;
            cats.push(CategoryCost {
                category: "training",
                resource: format!("{count} x {}", t.instance.get_ref()),
                pricing: Some(pricing),
                discount: Some(d),
                rate: r,
                unit: "hour",
                quantity: hours,
                monthly: mul(r, hours, "a monthly cost")?,
            });
        }
        let mut requests = None;
        if let Some(i) = &m.inference {
            let pricing = i.pricing.unwrap_or(Pricing::Reserved1y);
            let (r, d) = rate(&i.instance, pricing)?;
            let replicas = qty(&i.replicas, "inference.replicas")?;
            let hours = mul(
                opt(&i.hours_per_month, "inference.hours_per_month", 730.0)?,
                replicas,
                "inference hours",
            )?;
            requests = i
                .requests_per_month
                .as_ref()
                .map(|v| qty(v, "inference.requests_per_month"))
                .transpose()?;
            cats.push(CategoryCost {
                category: "inference",
                resource: format!("{replicas} x {}", i.instance.get_ref()),
                pricing: Some(pricing),
                discount: Some(d),
                rate: r,
                unit: "hour",
                quantity: hours,
                monthly: mul(r, hours, "a monthly cost")?,
            });
        }
        if let Some(f) = &m.feature_pipeline {
            let pricing = f.pricing.unwrap_or(Pricing::Spot);
            let (r, d) = rate(&f.instance, pricing)?;
            let count = opt(&f.count, "feature_pipeline.count", 1.0)?;
            let hours = mul(
                mul(
                    qty(&f.hours_per_day, "feature_pipeline.hours_per_day")?,
                    opt(&f.days_per_month, "feature_pipeline.days_per_month", 30.0)?,
                    "feature pipeline hours",
                )?,
                count,
                "feature pipeline hours",
            )?;
            cats.push(CategoryCost {
                category: "feature_pipeline",
                resource: format!("{count} x {}", f.instance.get_ref()),
                pricing: Some(pricing),
                discount: Some(d),
                rate: r,
                unit: "hour",
                quantity: hours,
                monthly: mul(r, hours, "a monthly cost")?,
            });
        }
        if let Some(s) = &m.storage {
            let mut gb = Money::ZERO;
            for (v, f) in [
                (&s.training_data, "storage.training_data"),
                (&s.model_artifacts, "storage.model_artifacts"),
                (&s.feature_store, "storage.feature_store"),
                (&s.experiment_artifacts, "storage.experiment_artifacts"),
            ] {
                gb = gb
                    .checked_add(opt(v, f, 0.0)?)
                    .ok_or_else(|| overflow("storage GB"))?;
            }
            let r = Money::from_f64(catalog.storage.gb_month)
                .map_err(|e| Error::Internal(e.to_string()))?;
            cats.push(CategoryCost {
                category: "storage",
                resource: format!("{gb} GB"),
                pricing: None,
                discount: None,
                rate: r,
                unit: "GB-month",
                quantity: gb,
                monthly: mul(r, gb, "a monthly cost")?,
            });
        }
        if let Some(t) = &m.data_transfer {
            let gb = qty(&t.gb_per_month, "data_transfer.gb_per_month")?;
            let r = Money::from_f64(catalog.transfer.out_gb)
                .map_err(|e| Error::Internal(e.to_string()))?;
            cats.push(CategoryCost {
                category: "data_transfer",
                resource: format!("{gb} GB out"),
                pricing: None,
                discount: None,
                rate: r,
                unit: "GB",
                quantity: gb,
                monthly: mul(r, gb, "a monthly cost")?,
            });
        }
        let monthly = Money::checked_sum(cats.iter().map(|c| c.monthly))
            .ok_or_else(|| overflow("the monthly total"))?;
        // requests are a count: a fractional part is dropped
        let n = requests.map_or(0, |r| r.0 / ONE);
        models.push(ModelEstimate {
            name: m.name.clone(),
            categories: cats,
            monthly,
            annual: monthly
                .mul_int_div(12, 1)
                .ok_or_else(|| overflow("the annual cost"))?,
            requests_per_month: requests,
            cost_per_request: monthly.div_int(n),
            cost_per_1000_requests: monthly.mul_int_div(1000, n),
        });
    }
    Ok(Estimate {
        provider: catalog.provider.clone(),
        region: catalog.region.clone(),
        currency: catalog.currency.clone(),
        prices_as_of: catalog.prices_as_of.clone(),
        models,
    })
}

/// Applies `key=value` overrides to a profile's text: `pricing=on_demand` sets the pricing of
/// every section that has one; `inference.instance=g4dn.xlarge` sets one field in every model.
pub fn apply_overrides(text: &str, name: &Path, overrides: &[String]) -> Result<String> {
    let mut doc: toml::Value = toml::from_str(text).map_err(|e| Error::Config {
        path: name.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        hint: None,
    })?;
    let usage = |o: &str| Error::Usage {
        message: format!("invalid `--compare` value `{o}`"),
        hint: Some("use FIELD=VALUE, e.g. `pricing=on_demand` or `inference.replicas=12`".into()),
    };
    for o in overrides {
        let (key, raw) = o.split_once('=').ok_or_else(|| usage(o))?;
        let value = match raw.trim() {
            v if v.parse::<i64>().is_ok() => toml::Value::Integer(v.parse().unwrap_or_default()),
            v if v.parse::<f64>().is_ok() => toml::Value::Float(v.parse().unwrap_or_default()),
            v => toml::Value::String(v.to_string()),
        };
        let models = doc
            .get_mut("model")
            .and_then(|m| m.as_array_mut())
            .ok_or_else(|| usage(o))?;
        for m in models.iter_mut() {
            let Some(table) = m.as_table_mut() else {
                continue;
            };
            match key.trim().split_once('.') {
                None => {
                    for section in ["training", "inference", "feature_pipeline"] {
                        if let Some(s) = table.get_mut(section).and_then(|s| s.as_table_mut()) {
                            s.insert(key.trim().to_string(), value.clone());
                        }
                    }
                }
                Some((section, field)) => {
                    let s = table
                        .entry(section.to_string())
                        .or_insert_with(|| toml::Value::Table(Default::default()));
                    if let Some(s) = s.as_table_mut() {
                        s.insert(field.to_string(), value.clone());
                    }
                }
            }
        }
    }
    toml::to_string(&doc)
        .map_err(|e| Error::Internal(format!("cannot write the compared profile: {e}")))
}

/// One category of one model: planned against actual.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanVsActual {
    pub model: String,
    pub category: &'static str,
    pub planned: Money,
    pub actual: Option<Money>,
    pub gap: Option<Money>,
    /// Why the gap may be there, when a pricing mix-up explains it.
    pub note: Option<String>,
}

/// Compares an estimate with the unit costs `attribute` wrote for the same month.
pub fn plan_vs_actual(
    est: &Estimate,
    actual: &[crate::economics::UnitCostRow],
) -> Vec<PlanVsActual> {
    let mut out = Vec::new();
    for m in &est.models {
        let rows: Vec<_> = actual
            .iter()
            .filter(|r| r.model_id == m.name.to_lowercase() || r.model_id == m.name)
            .collect();
        for c in &m.categories {
            let col = crate::schema::phase_column(c.category);
            let idx = crate::schema::PHASE_COLUMNS.iter().position(|p| *p == col);
            let value = idx.and_then(|i| {
                (!rows.is_empty()).then(|| rows.iter().map(|r| r.phase_costs[i]).sum::<Money>())
            });
            let gap = value.map(|a| a - c.monthly);
            // billed at on-demand rates while the plan assumed a discount?
            let note = match (value, c.pricing, c.discount) {
                (Some(a), Some(p), Some(d)) if p != Pricing::OnDemand && d.0 > 0 && d.0 < ONE => {
                    let on_demand = Money::fraction(c.monthly.0, ONE - d.0).unwrap_or_default();
                    a.ratio(on_demand).filter(|r| (0.9..=1.1).contains(r)).map(|_| {
                        format!(
                            "actual is close to the on-demand cost ({}): the plan assumed {} at {} off",
                            on_demand.to_fixed(2),
                            p.name(),
                            d
                        )
                    })
                }
                _ => None,
            };
            out.push(PlanVsActual {
                model: m.name.clone(),
                category: c.category,
                planned: c.monthly,
                actual: value,
                gap,
                note,
            });
        }
    }
    // biggest absolute gaps first
    out.sort_by(|a, b| {
        b.gap
            .map_or(0, |g| g.0.abs())
            .cmp(&a.gap.map_or(0, |g| g.0.abs()))
            .then(a.model.cmp(&b.model))
    });
    out
}

// ---- frontier --------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidatesFile {
    candidate: Vec<CandidateSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateSpec {
    name: String,
    accuracy: f64,
    monthly_cost: Option<f64>,
    /// A profile to estimate instead of a fixed cost (relative to the candidates file).
    profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub accuracy: f64,
    pub monthly_cost: Money,
    /// On the Pareto frontier (no other candidate is at least as accurate and as cheap).
    pub optimal: bool,
    pub dominated_by: Option<String>,
    /// From the previous frontier point: extra monthly cost per accuracy point (a point is 1
    /// unit of the metric, or 0.01 when the metric is a fraction <= 1).
    pub marginal_cost_per_point: Option<Money>,
}

/// Reads candidates (TOML `[[candidate]]` with name, accuracy, and monthly_cost or profile).
pub fn frontier(text: &str, name: &Path, catalog: &Catalog) -> Result<Vec<Candidate>> {
    let file: CandidatesFile = toml::from_str(text).map_err(|e| Error::Config {
        path: name.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        hint: Some("each [[candidate]] needs name, accuracy and monthly_cost or profile".into()),
    })?;
    let base = name.parent().unwrap_or(Path::new("."));
    let mut cands = Vec::new();
    for c in &file.candidate {
        let cost = match (&c.monthly_cost, &c.profile) {
            (Some(x), None) => Money::from_f64(*x).map_err(|e| Error::Config {
                path: name.to_path_buf(),
                message: format!("candidate `{}`: {e}", c.name),
                hint: None,
            })?,
            (None, Some(p)) => {
                let path = base.join(p);
                let t = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                estimate(&t, &path, catalog)?
                    .models
                    .iter()
                    .map(|m| m.monthly)
                    .sum()
            }
            _ => {
                return Err(Error::Config {
                    path: name.to_path_buf(),
                    message: format!(
                        "candidate `{}` needs exactly one of `monthly_cost` and `profile`",
                        c.name
                    ),
                    hint: None,
                })
            }
        };
        cands.push(Candidate {
            name: c.name.clone(),
            accuracy: c.accuracy,
            monthly_cost: cost,
            optimal: true,
            dominated_by: None,
            marginal_cost_per_point: None,
        });
    }
    let snapshot = cands.clone();
    for c in cands.iter_mut() {
        // the cheapest candidate that dominates it
        let dom = snapshot
            .iter()
            .filter(|o| {
                o.name != c.name
                    && o.accuracy >= c.accuracy
                    && o.monthly_cost <= c.monthly_cost
                    && (o.accuracy > c.accuracy || o.monthly_cost < c.monthly_cost)
            })
            .min_by(|a, b| {
                a.monthly_cost
                    .cmp(&b.monthly_cost)
                    .then(a.name.cmp(&b.name))
            });
        if let Some(d) = dom {
            c.optimal = false;
            c.dominated_by = Some(d.name.clone());
        }
    }
    cands.sort_by(|a, b| {
        a.monthly_cost
            .cmp(&b.monthly_cost)
            .then(a.name.cmp(&b.name))
    });
    let point = if cands.iter().all(|c| c.accuracy <= 1.0) {
        0.01
    } else {
        1.0
    };
    let mut prev: Option<(f64, Money)> = None;
    for c in cands.iter_mut().filter(|c| c.optimal) {
        if let Some((acc, cost)) = prev {
            let points = (c.accuracy - acc) / point;
            if points > 0.0 {
                // money divided by a float count of points: through the points' decimal text
                let p = Money::from_f64((points * 1e9).round() / 1e9).unwrap_or_default();
                c.marginal_cost_per_point = Money::fraction((c.monthly_cost - cost).0, p.0);
            }
        }
        prev = Some((c.accuracy, c.monthly_cost));
    }
    Ok(cands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recommendation() -> Estimate {
        let text = include_str!("../sample_data/profile_recommendation.toml");
        estimate(
            text,
            Path::new("profile.toml"),
            &Catalog::default_catalog().unwrap(),
        )
        .unwrap()
    }

    fn cat<'a>(m: &'a ModelEstimate, c: &str) -> &'a CategoryCost {
        m.categories.iter().find(|x| x.category == c).unwrap()
    }

    /// The worked example, by hand:
    /// training: 24.48/h x (1 - 0.7) = 7.344/h; 1 x 3 h x 30 runs = 90 h -> 660.96
    /// inference: 3.912/h x (1 - 0.4) = 2.3472/h; 4 x 730 h = 2920 h -> 6853.824
    /// feature pipeline: 0.768/h x 0.3 = 0.2304/h; 2 h x 30 days = 60 h -> 13.824
    /// storage: (500 + 20 + 200 + 150) GB x 0.023 = 20.01
    /// transfer: 100 GB x 0.09 = 9
    /// total 7557.618 a month, 90691.416 a year; / 72,000,000 requests = 0.000104966916666667
    #[test]
    fn worked_example_by_category() {
        let e = recommendation();
        let m = &e.models[0];
        assert_eq!(cat(m, "training").rate.to_string(), "7.344");
        assert_eq!(cat(m, "training").quantity.to_string(), "90");
        assert_eq!(cat(m, "training").monthly.to_string(), "660.96");
        assert_eq!(cat(m, "inference").rate.to_string(), "2.3472");
        assert_eq!(cat(m, "inference").monthly.to_string(), "6853.824");
        assert_eq!(cat(m, "feature_pipeline").monthly.to_string(), "13.824");
        assert_eq!(cat(m, "storage").monthly.to_string(), "20.01");
        assert_eq!(cat(m, "data_transfer").monthly.to_string(), "9");
        assert_eq!(m.monthly.to_string(), "7557.618");
        assert_eq!(m.annual.to_string(), "90691.416");
        assert_eq!(
            m.cost_per_request.unwrap().to_string(),
            "0.000104966916666667"
        );
        assert_eq!(
            m.cost_per_1000_requests.unwrap().to_string(),
            "0.104966916666666667"
        );
    }

    #[test]
    fn every_pricing_model() {
        let catalog = Catalog::default_catalog().unwrap();
        let base = "[[model]]\nname = \"m\"\n[model.inference]\ninstance = \"g4dn.xlarge\"\nreplicas = 1\nhours_per_month = 100\npricing = \"PRICING\"\n";
        for (pricing, want) in [
            ("on_demand", "52.6"),
            ("spot", "15.78"),
            ("reserved_1y", "31.56"),
            ("reserved_3y", "21.04"),
            ("savings_plan", "36.82"),
        ] {
            let e = estimate(
                &base.replace("PRICING", pricing),
                Path::new("p.toml"),
                &catalog,
            )
            .unwrap();
            assert_eq!(e.models[0].monthly.to_string(), want, "{pricing}");
        }
    }

    #[test]
    fn errors_name_the_profile_line() {
        let catalog = Catalog::default_catalog().unwrap();
        let e = estimate(
            "[[model]]\nname = \"m\"\n[model.inference]\ninstance = \"p9.huge\"\nreplicas = 1\n",
            Path::new("p.toml"),
            &catalog,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("line 4: unknown instance type `p9.huge`"),
            "{e}"
        );
        let e = estimate("[[model]]\nname = \"m\"\n[model.training]\ninstance = \"p3.16xlarge\"\nhours_per_run = -3\nruns_per_month = 1\n", Path::new("p.toml"), &catalog)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("line 5: `training.hours_per_run` is negative"),
            "{e}"
        );
        let e = estimate("[[model]]\nname = \"m\"\n[model.training]\ninstance = \"p3.16xlarge\"\nruns_per_month = 1\n", Path::new("p.toml"), &catalog)
            .unwrap_err();
        assert!(
            e.to_string().contains("missing field `hours_per_run`"),
            "{e}"
        );
    }

    #[test]
    fn what_if_stop_using_spot_and_move_inference() {
        let text = include_str!("../sample_data/profile_recommendation.toml");
        let catalog = Catalog::default_catalog().unwrap();
        let alt =
            apply_overrides(text, Path::new("p.toml"), &["pricing=on_demand".into()]).unwrap();
        let e = estimate(&alt, Path::new("p.toml"), &catalog).unwrap();
        // 24.48 x 90 + 3.912 x 2920 + 0.768 x 60 + 20.01 + 9 = 2203.2 + 11423.04 + 46.08 + 29.01
        assert_eq!(e.models[0].monthly.to_string(), "13701.33");
        let alt = apply_overrides(
            text,
            Path::new("p.toml"),
            &[
                "inference.instance=g4dn.xlarge".into(),
                "inference.replicas=12".into(),
            ],
        )
        .unwrap();
        let e = estimate(&alt, Path::new("p.toml"), &catalog).unwrap();
        // inference: 0.526 x 0.6 = 0.3156/h x 12 x 730 = 2764.656
        assert_eq!(
            cat(&e.models[0], "inference").monthly.to_string(),
            "2764.656"
        );
        assert!(apply_overrides(text, Path::new("p.toml"), &["nonsense".into()]).is_err());
    }

    #[test]
    fn frontier_of_a_hand_made_set() {
        let text = "[[candidate]]\nname = \"small\"\naccuracy = 0.90\nmonthly_cost = 1000\n\n[[candidate]]\nname = \"medium\"\naccuracy = 0.92\nmonthly_cost = 1400\n\n[[candidate]]\nname = \"wasteful\"\naccuracy = 0.91\nmonthly_cost = 2000\n\n[[candidate]]\nname = \"large\"\naccuracy = 0.93\nmonthly_cost = 3000\n";
        let c = frontier(
            text,
            Path::new("c.toml"),
            &Catalog::default_catalog().unwrap(),
        )
        .unwrap();
        let names: Vec<(&str, bool)> = c.iter().map(|c| (c.name.as_str(), c.optimal)).collect();
        assert_eq!(
            names,
            [
                ("small", true),
                ("medium", true),
                ("wasteful", false),
                ("large", true)
            ]
        );
        let w = c.iter().find(|c| c.name == "wasteful").unwrap();
        assert_eq!(w.dominated_by.as_deref(), Some("medium"));
        // medium: +400 for 2 points = 200 a point; large: +1600 for 1 point
        assert_eq!(c[1].marginal_cost_per_point.unwrap().to_string(), "200");
        assert_eq!(c[3].marginal_cost_per_point.unwrap().to_string(), "1600");
    }

    #[test]
    fn plan_vs_actual_flags_on_demand_billing() {
        let e = recommendation();
        let mut actual = crate::economics::UnitCostRow {
            period: "2026-10".into(),
            model_id: "recommendation".into(),
            team: "recsys".into(),
            currency: "USD".into(),
            phase_costs: [Money::ZERO; 7],
            total_cost: Money::ZERO,
            requests: None,
            cost_per_request: None,
            cost_per_1000_requests: None,
            reason: None,
            revenue: None,
            value_preserved: None,
            economics: Default::default(),
            verdict: String::new(),
            verdict_reason: None,
        };
        // inference billed at on-demand: 3.912 x 2920 = 11423.04; training as planned
        actual.phase_costs[1] = Money::parse("11423.04").unwrap();
        actual.phase_costs[0] = Money::parse("660.96").unwrap();
        let rows = plan_vs_actual(&e, &[actual]);
        assert_eq!(rows[0].category, "inference", "the biggest gap comes first");
        assert_eq!(rows[0].gap.unwrap().to_string(), "4569.216");
        assert!(
            rows[0].note.as_deref().unwrap().contains("reserved_1y"),
            "{:?}",
            rows[0].note
        );
        let training = rows.iter().find(|r| r.category == "training").unwrap();
        assert_eq!(training.gap.unwrap().to_string(), "0");
        assert!(training.note.is_none());
    }

    #[test]
    fn catalog_rejects_discounts_outside_0_1() {
        let bad = DEFAULT_CATALOG.replace("hourly = 0.526", "hourly = 0.526\nspot_discount = 1.5");
        assert!(Catalog::parse(&bad, Path::new("c.toml")).is_err());
    }
}
