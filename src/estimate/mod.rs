//! The planning cost model behind `mlcost estimate`: a price catalog (on-demand hourly rates
//! and the discounts available, each a fraction off on-demand) times a usage profile (training,
//! inference, feature pipeline, storage, data transfer) gives each planned model's monthly
//! cost, exactly, per category and per request. Also: what-if overrides of a profile, plan vs
//! actual against `attribute`'s unit costs, and the cost-accuracy frontier. Reads only the
//! catalog and profile text it is given; no other I/O.

mod actual;
mod catalog;
mod frontier;

pub use actual::{plan_vs_actual, PlanVsActual};
pub use catalog::*;
pub use frontier::{frontier, Candidate};

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::money::{Money, ONE};

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
    /// Tokens served a month (input and output), for the cost per million tokens.
    tokens_per_month: Option<Spanned<f64>>,
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
    pub tokens_per_month: Option<Money>,
    /// monthly x 1,000,000 / tokens, rounded half away from zero.
    pub cost_per_1m_tokens: Option<Money>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub provider: String,
    pub region: String,
    pub currency: String,
    pub prices_as_of: String,
    pub models: Vec<ModelEstimate>,
    /// Prices older than [`STALE_AFTER_DAYS`] on the day of the estimate (see
    /// [`Estimate::age_prices`]); empty until then.
    pub stale_prices: Vec<StalePrice>,
    /// The instance types the profile priced.
    #[serde(skip)]
    pub instances: std::collections::BTreeSet<String>,
}

impl Estimate {
    /// Flags the catalog's date, and the own date of each instance type the profile priced,
    /// when older than [`STALE_AFTER_DAYS`] on `today`.
    pub fn age_prices(&mut self, catalog: &Catalog, today: chrono::NaiveDate) {
        self.stale_prices = catalog.stale_prices(&self.instances, today);
    }
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
    let mut instances = std::collections::BTreeSet::new();
    for m in &profile.model {
        let mut cats = Vec::new();
        if let Some(t) = &m.training {
            let pricing = t.pricing.unwrap_or(Pricing::Spot);
            let (r, d) = rate(&t.instance, pricing)?;
            instances.insert(t.instance.get_ref().clone());
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
        let mut tokens = None;
        if let Some(i) = &m.inference {
            let pricing = i.pricing.unwrap_or(Pricing::Reserved1y);
            let (r, d) = rate(&i.instance, pricing)?;
            instances.insert(i.instance.get_ref().clone());
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
            tokens = i
                .tokens_per_month
                .as_ref()
                .map(|v| qty(v, "inference.tokens_per_month"))
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
            instances.insert(f.instance.get_ref().clone());
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
            tokens_per_month: tokens,
            cost_per_1m_tokens: tokens.and_then(|t| monthly.per(1_000_000, t)),
        });
    }
    Ok(Estimate {
        provider: catalog.provider.clone(),
        region: catalog.region.clone(),
        currency: catalog.currency.clone(),
        prices_as_of: catalog.prices_as_of.clone(),
        models,
        stale_prices: Vec::new(),
        instances,
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

#[cfg(test)]
mod tests;
