//! Price catalogs: on-demand hourly rates per instance type, the discounts of each pricing
//! model (a fraction off on-demand), storage and transfer prices, and when they were taken.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The catalog shipped with mlcost (AWS us-east-1).
pub const DEFAULT_CATALOG: &str = include_str!("../../catalogs/aws-us-east-1.toml");

/// Prices taken more than this many days before the estimate are flagged as stale.
pub const STALE_AFTER_DAYS: i64 = 180;

/// A price older than [`STALE_AFTER_DAYS`] on the day of an estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StalePrice {
    /// `the catalog` or ``instance `g5.xlarge` ``
    pub what: String,
    /// YYYY-MM-DD, as written in the catalog.
    pub as_of: String,
    pub age_days: i64,
}

impl std::fmt::Display for StalePrice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the prices of {} are {} days old (taken {}, more than {STALE_AFTER_DAYS} days ago)",
            self.what, self.age_days, self.as_of
        )
    }
}

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
            hint: Some(
                "see catalogs/aws-us-east-1.toml for the shape of a catalog; dates are quoted \
                 text, e.g. prices_as_of = \"2026-11-01\""
                    .into(),
            ),
        })?;
        let date = |what: &str, text: &str| {
            // chrono takes `2026-1-1` too: the length keeps the form YYYY-MM-DD
            let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            parsed
                .filter(|_| text.len() == 10)
                .ok_or_else(|| Error::Config {
                    path: name.to_path_buf(),
                    message: format!("{what} `{text}` is not a date"),
                    hint: Some("write the date the prices were taken as YYYY-MM-DD".into()),
                })
        };
        date("`prices_as_of`", &c.prices_as_of)?;
        for (id, i) in &c.instances {
            if let Some(as_of) = &i.as_of {
                date(&format!("instance `{id}`: `as_of`"), as_of)?;
            }
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

    /// The catalog's date, and the own date of each of `instances` that has one, where older
    /// than [`STALE_AFTER_DAYS`] on `today`. Dates were checked by `parse`; a date that does
    /// not parse (a catalog built in code) is never called stale.
    pub fn stale_prices(&self, instances: &BTreeSet<String>, today: NaiveDate) -> Vec<StalePrice> {
        let aged = |what: String, as_of: &str| {
            let taken = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").ok()?;
            let age_days = (today - taken).num_days();
            (age_days > STALE_AFTER_DAYS).then(|| StalePrice {
                what,
                as_of: as_of.to_string(),
                age_days,
            })
        };
        let catalog = aged("the catalog".into(), &self.prices_as_of);
        let own = instances.iter().filter_map(|id| {
            let as_of = self.instances.get(id)?.as_of.as_deref()?;
            // an instance dated like the catalog is covered by the catalog's entry
            (as_of != self.prices_as_of)
                .then(|| aged(format!("instance `{id}`"), as_of))
                .flatten()
        });
        catalog.into_iter().chain(own).collect()
    }

    /// The shipped AWS us-east-1 catalog.
    pub fn default_catalog() -> Result<Catalog> {
        Catalog::parse(DEFAULT_CATALOG, Path::new("catalogs/aws-us-east-1.toml"))
    }

    pub(super) fn discount(&self, instance: &InstancePrice, pricing: Pricing) -> Option<f64> {
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
