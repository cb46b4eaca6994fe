//! Price catalogs: on-demand hourly rates per instance type, the discounts of each pricing
//! model (a fraction off on-demand), storage and transfer prices, and when they were taken.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The catalog shipped with mlcost (AWS us-east-1).
pub const DEFAULT_CATALOG: &str = include_str!("../../catalogs/aws-us-east-1.toml");

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
