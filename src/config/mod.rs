//! `mlcost.toml`: the serde types (unknown keys are rejected with line and column), their
//! defaults, validation of values, and the commented starter file written by `mlcost init`.
//! Loading never looks at billing data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod checks;
mod starter;

use checks::{
    amount, engineering_allocation, fraction, training_months, utilization, utilization_map,
};
pub use checks::{MAX_AMOUNT, MAX_TRAINING_MONTHS, MIN_UTILIZATION};
pub use starter::STARTER;

use crate::error::{Error, Result};

/// The required tag keys when the config does not name them.
pub const DEFAULT_REQUIRED_TAGS: [&str; 6] = [
    "team",
    "project",
    "model_id",
    "environment",
    "cost_center",
    "lifecycle_phase",
];

/// The whole configuration. Every section is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub tags: TagsConfig,
    #[serde(default)]
    pub validate: ValidateConfig,
    #[serde(default)]
    pub cost: CostConfig,
    /// Virtual-tag rules, applied in order; the first match wins.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Shared-cost pools, applied in order after the rules.
    #[serde(default)]
    pub shared: Vec<SharedConfig>,
    /// What happens to spend without a model (`__unallocated__`).
    #[serde(default)]
    pub unallocated: SpreadConfig,
    /// What happens to unused commitment (`__unused_commitment__`).
    #[serde(default)]
    pub unused_commitment: SpreadConfig,
    #[serde(default)]
    pub amortize: AmortizeConfig,
    /// Targets that give each model a verdict in `unit_costs`.
    #[serde(default)]
    pub targets: TargetsConfig,
    #[serde(default)]
    pub forecast: ForecastConfig,
    #[serde(default)]
    pub hidden: HiddenConfig,
    /// Left out of the config hash while empty, so configs written before it keep theirs.
    #[serde(default, skip_serializing_if = "OutputConfig::is_empty")]
    pub output: OutputConfig,
    /// Left out of the config hash while empty, as `[output]`.
    #[serde(default, skip_serializing_if = "AnomaliesConfig::is_empty")]
    pub anomalies: AnomaliesConfig,
}

/// `[anomalies]`: how `attribute --grain day` flags a model's day against its trailing
/// baseline (median and MAD; docs/allocation.md, "Daily grain and anomalies"). Unset keys
/// take the defaults of `daily::Method`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnomaliesConfig {
    /// Days before the day that make its baseline (2 to 90; default 14).
    #[serde(default, deserialize_with = "checks::window_days")]
    pub window_days: Option<f64>,
    /// Days of the window the model must have been billed on (2 to 90, at most
    /// `window_days`; default 7, or the window when it is shorter).
    #[serde(default, deserialize_with = "checks::window_days")]
    pub min_history_days: Option<f64>,
    /// Robust z-score |x - median| / (1.4826 x MAD) at or above which a day is flagged
    /// (above 0; default 3.5).
    #[serde(default, deserialize_with = "checks::positive")]
    pub threshold: Option<f64>,
    /// The least change in spend (in the bill's currency) worth flagging (default 10).
    #[serde(default, deserialize_with = "amount")]
    pub min_change: Option<f64>,
}

impl AnomaliesConfig {
    fn is_empty(&self) -> bool {
        *self == AnomaliesConfig::default()
    }
}

/// `[output]`: what the attribution writes besides its standard tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Billing columns (`service_name`, `region`, ...) or tag keys (`project`, ...) that
    /// break each model's cost down in `cost_by_dimension`.
    #[serde(default)]
    pub dimensions: Vec<String>,
}

impl OutputConfig {
    fn is_empty(&self) -> bool {
        self.dimensions.is_empty()
    }
}

/// `[forecast]`: which lifecycle phases scale with request volume (the rest is fixed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastConfig {
    #[serde(default = "default_variable_phases")]
    pub variable_phases: Vec<String>,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            variable_phases: default_variable_phases(),
        }
    }
}

fn default_variable_phases() -> Vec<String> {
    vec!["data_transfer".into()]
}

/// `[hidden]`: inputs of the hidden-cost estimates of `mlcost hidden`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenConfig {
    /// `typical`: fill what is not set with rule-of-thumb estimates (see
    /// `economics::hidden::Preset`), named as assumptions in every figure they enter.
    #[serde(default)]
    pub preset: Option<HiddenPreset>,
    /// Average utilisation of paid capacity (0-1] for every model without its own.
    #[serde(default, deserialize_with = "utilization")]
    pub default_utilization: Option<f64>,
    /// Per-model utilisation.
    #[serde(default, deserialize_with = "utilization_map")]
    pub utilization: BTreeMap<String, f64>,
    /// Share of a model's spend that is wasted on experiments, applied to its
    /// experimentation-phase spend (or to all spend when `experiment_share` is set).
    #[serde(default, deserialize_with = "fraction")]
    pub waste_fraction: Option<f64>,
    /// Share of every model's spend taken as experiments, in place of its experimentation-phase
    /// spend. (The preset's share, unlike this one, stands in only where that phase is zero.)
    #[serde(default, deserialize_with = "fraction")]
    pub experiment_share: Option<f64>,
    /// Engineering time: full-time equivalents and their fully loaded annual cost.
    #[serde(default, deserialize_with = "amount")]
    pub ftes: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub fte_annual_cost: Option<f64>,
    /// How engineering time is spread over models: even (default) | proportional.
    #[serde(default, deserialize_with = "engineering_allocation")]
    pub engineering_allocation: Option<String>,
}

/// `[hidden] preset`: a named set of rule-of-thumb inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenPreset {
    Typical,
}

/// `[targets]`: defaults for every model, and `[targets.models.<model_id>]` overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsConfig {
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1000_requests: Option<f64>,
    /// Percent, e.g. 5 for 5% of revenue.
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_pct_of_revenue: Option<f64>,
    /// (value - cost) / cost, e.g. 1.0 = value is twice the cost.
    #[serde(default, deserialize_with = "amount")]
    pub min_roi: Option<f64>,
    /// Most a model may cost per 1,000,000 of the volumes' `tokens` (short for
    /// `[targets.units.tokens] max_cost_per_1m`).
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1m_tokens: Option<f64>,
    /// Targets per unit of the volumes (`[targets.units.gpu_hours] max_cost_per_unit = 4`);
    /// keys are made unit names (`unit_name`) when the config is loaded.
    #[serde(default)]
    pub units: BTreeMap<String, UnitTarget>,
    /// Per-model overrides; keys are normalised like model ids when the config is loaded.
    #[serde(default)]
    pub models: BTreeMap<String, TargetSet>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSet {
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1000_requests: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_pct_of_revenue: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub min_roi: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1m_tokens: Option<f64>,
    #[serde(default)]
    pub units: BTreeMap<String, UnitTarget>,
}

/// The most a model may cost per unit of one unit of the volumes, at any of three scales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitTarget {
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_unit: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1000: Option<f64>,
    #[serde(default, deserialize_with = "amount")]
    pub max_cost_per_1m: Option<f64>,
}

impl UnitTarget {
    /// Each limit of `self`, else of `fallback`.
    fn or(self, fallback: UnitTarget) -> UnitTarget {
        UnitTarget {
            max_cost_per_unit: self.max_cost_per_unit.or(fallback.max_cost_per_unit),
            max_cost_per_1000: self.max_cost_per_1000.or(fallback.max_cost_per_1000),
            max_cost_per_1m: self.max_cost_per_1m.or(fallback.max_cost_per_1m),
        }
    }
}

/// The target of `unit` in a set of targets: its `[units]` entry, with
/// `max_cost_per_1m_tokens` as the per-1m limit of `tokens`.
fn unit_target(
    units: &BTreeMap<String, UnitTarget>,
    per_1m_tokens: Option<f64>,
    unit: &str,
) -> UnitTarget {
    // keys were made unit names when the config was loaded
    let own = units.get(unit).copied().unwrap_or_default();
    let tokens = UnitTarget {
        max_cost_per_1m: per_1m_tokens.filter(|_| unit == "tokens"),
        ..UnitTarget::default()
    };
    own.or(tokens)
}

impl TargetsConfig {
    /// The targets of one model: its own values, else the defaults.
    pub fn for_model(&self, model: &str) -> TargetSet {
        let own = self.models.get(model).cloned().unwrap_or_default();
        TargetSet {
            max_cost_per_1000_requests: own
                .max_cost_per_1000_requests
                .or(self.max_cost_per_1000_requests),
            max_cost_pct_of_revenue: own.max_cost_pct_of_revenue.or(self.max_cost_pct_of_revenue),
            min_roi: own.min_roi.or(self.min_roi),
            max_cost_per_1m_tokens: own.max_cost_per_1m_tokens.or(self.max_cost_per_1m_tokens),
            units: own.units,
        }
    }

    /// The target of one model for one unit of the volumes: the model's own limits, else the
    /// defaults, each limit on its own.
    pub fn for_unit(&self, model: &str, unit: &str) -> UnitTarget {
        let own = self
            .models
            .get(model)
            .map(|t| unit_target(&t.units, t.max_cost_per_1m_tokens, unit))
            .unwrap_or_default();
        own.or(unit_target(&self.units, self.max_cost_per_1m_tokens, unit))
    }
}

/// `[[rules]]`: set canonical tags on spend that matches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub id: toml::Spanned<String>,
    /// Field -> pattern (exact, glob with `*`/`?`, or `re:<regex>`); all must match. Fields:
    /// provider, billing_account_id, sub_account_id, sub_account_name, service_name,
    /// service_category, resource_id, resource_name, region, charge_category; any other key
    /// is a tag key.
    #[serde(rename = "match", default)]
    pub matches: BTreeMap<String, String>,
    /// Tag key -> value to set.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Replace tags the resource already has (default: only fill missing ones).
    #[serde(default, rename = "override")]
    pub overrides: bool,
}

/// `[[shared]]`: a pool of shared spend split over target models.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedConfig {
    pub id: toml::Spanned<String>,
    /// Same matchers as rules, evaluated after the rules (so `model_id = "__shared_x__"` works).
    #[serde(rename = "match", default)]
    pub matches: BTreeMap<String, String>,
    /// Tag key -> value or list of values a target model must carry; omitted: every model with
    /// direct spend in the period.
    #[serde(default)]
    pub targets: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub method: SplitMethod,
    /// With `proportional`: weigh by the targets' direct cost of this lifecycle phase only.
    pub phase: Option<String>,
    /// With `fixed`: model -> fraction; the fractions must sum to exactly 1.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// With `driver`: CSV or Parquet with period (YYYY-MM), model_id, quantity; relative paths
    /// are relative to the config file.
    pub driver: Option<PathBuf>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// How a shared pool is split.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    /// Equal shares per target model ("by model count").
    Even,
    /// In proportion to the targets' direct cost ("by raw compute").
    #[default]
    Proportional,
    /// Fixed fractions per model.
    Fixed,
    /// In proportion to request volume ("by usage").
    Requests,
    /// In proportion to a usage driver file (e.g. feature reads per model).
    Driver,
}

/// `[unallocated]` / `[unused_commitment]`: keep visible or spread over all models.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SpreadConfig {
    #[serde(default)]
    pub method: SpreadMethod,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SpreadMethod {
    #[default]
    Keep,
    Even,
    Proportional,
    Requests,
}

/// `[amortize]`: how training spend is charged over time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AmortizeConfig {
    /// 1 = charge training to the month it was incurred; at most 120. With `served`, the
    /// most months one training run is spread over.
    #[serde(default = "one", deserialize_with = "training_months")]
    pub training_months: u32,
    /// `months` (straight line) or `served` (as the model serves its volume). Left out of the
    /// rules hash while `months`, so configs written before it keep their hash.
    #[serde(default, skip_serializing_if = "AmortizeMethod::is_months")]
    pub method: AmortizeMethod,
    /// With `served`: the unit of the volumes that spreads the cost (default `requests`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Default for AmortizeConfig {
    fn default() -> Self {
        AmortizeConfig {
            training_months: 1,
            method: AmortizeMethod::Months,
            unit: None,
        }
    }
}

/// `[amortize] method`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AmortizeMethod {
    /// Equal shares over `training_months`.
    #[default]
    Months,
    /// Each unit served bears the same share, until the next training run or the window's end.
    Served,
}

impl AmortizeMethod {
    fn is_months(&self) -> bool {
        *self == AmortizeMethod::Months
    }
}

fn one() -> u32 {
    1
}

/// `[tags]`: which keys are required, how source keys map to canonical keys, allowed values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TagsConfig {
    /// Canonical keys every resource must carry.
    #[serde(default = "default_required")]
    pub required: Vec<String>,
    /// Source key -> canonical key, matched after trimming and lower-casing both sides.
    /// Writing this table replaces the built-in aliases (see `default_aliases`).
    #[serde(default = "default_aliases")]
    pub aliases: BTreeMap<String, String>,
    /// Optional allowed values per canonical key (compared after value normalisation).
    #[serde(default)]
    pub allowed: BTreeMap<String, Vec<String>>,
    /// Lower-case tag values so `RecSys` and `recsys ` are one team (default true).
    #[serde(default = "default_true")]
    pub lowercase_values: bool,
}

impl Default for TagsConfig {
    fn default() -> Self {
        TagsConfig {
            required: default_required(),
            aliases: default_aliases(),
            allowed: BTreeMap::new(),
            lowercase_values: true,
        }
    }
}

/// `[validate]`: thresholds for `mlcost validate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValidateConfig {
    /// Minimum share of spend (0.0 to 1.0) that must carry every required tag; below it
    /// `validate` exits 1. Unset: never fails on compliance.
    #[serde(default, deserialize_with = "fraction")]
    pub min_compliance: Option<f64>,
}

/// `[cost]`: which FOCUS cost column is allocated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    #[serde(default)]
    pub basis: CostBasis,
}

/// The cost basis: which of the four FOCUS cost columns is summed.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    Serialize,
    Deserialize,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum CostBasis {
    /// EffectiveCost: amortised (accrual). Commitment purchases carry 0 here, so nothing is
    /// counted twice.
    #[default]
    Effective,
    /// BilledCost: cash, matches the invoice; purchases are counted when bought.
    Billed,
    /// ListCost, excluding commitment purchase rows.
    List,
    /// ContractedCost, excluding commitment purchase rows.
    Contracted,
}

impl CostBasis {
    pub const ALL: [CostBasis; 4] = [
        CostBasis::Effective,
        CostBasis::Billed,
        CostBasis::List,
        CostBasis::Contracted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CostBasis::Effective => "effective",
            CostBasis::Billed => "billed",
            CostBasis::List => "list",
            CostBasis::Contracted => "contracted",
        }
    }

    /// The FOCUS column this basis sums.
    pub fn focus_column(self) -> &'static str {
        match self {
            CostBasis::Effective => "EffectiveCost",
            CostBasis::Billed => "BilledCost",
            CostBasis::List => "ListCost",
            CostBasis::Contracted => "ContractedCost",
        }
    }

    /// Whether commitment purchase rows (Purchase, BilledCost > 0, EffectiveCost = 0) must be
    /// left out of this basis to avoid counting the commitment twice (docs/billing-formats.md, "Cost bases and the commitment trap").
    pub fn excludes_commitment_purchases(self) -> bool {
        matches!(self, CostBasis::List | CostBasis::Contracted)
    }
}

fn default_required() -> Vec<String> {
    DEFAULT_REQUIRED_TAGS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Common spellings of the required keys, used when `[tags.aliases]` is not written.
pub fn default_aliases() -> BTreeMap<String, String> {
    [
        ("model-id", "model_id"),
        ("modelid", "model_id"),
        ("model id", "model_id"),
        ("env", "environment"),
        ("cost-center", "cost_center"),
        ("costcenter", "cost_center"),
        ("cost center", "cost_center"),
        ("phase", "lifecycle_phase"),
        ("lifecycle-phase", "lifecycle_phase"),
        ("lifecyclephase", "lifecycle_phase"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn default_true() -> bool {
    true
}

/// A loaded config with where it came from and its hash (for the manifest).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
    /// sha256 of the resolved config serialised as JSON (so defaults count too).
    pub hash: String,
    /// The config text, for line numbers in rule errors (empty for built-in defaults).
    pub text: String,
}

impl LoadedConfig {
    /// Reads `path`, or the built-in defaults when None.
    pub fn load(path: Option<&Path>) -> Result<LoadedConfig> {
        let (config, text) = match path {
            None => (Config::default(), String::new()),
            Some(p) => {
                // reading a FIFO would block until something writes to it
                if std::fs::metadata(p).is_ok_and(|m| !m.is_file()) {
                    return Err(Error::Config {
                        path: p.to_path_buf(),
                        message: "it is not a regular file".into(),
                        hint: Some("pass the config file itself".into()),
                    });
                }
                let text = std::fs::read_to_string(p).map_err(|e| Error::Config {
                    path: p.to_path_buf(),
                    message: e.to_string(),
                    hint: Some("create one with `mlcost init`".into()),
                })?;
                (parse(&text, p)?, text)
            }
        };
        let hash = config_hash(&config);
        Ok(LoadedConfig {
            config,
            path: path.map(Path::to_path_buf),
            hash,
            text,
        })
    }

    /// 1-based line of a byte offset in the config text.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(0, |t| t.matches('\n').count())
            + 1
    }

    /// sha256 of the allocation rules alone (rules, shared pools, spreading, amortisation).
    pub fn rules_hash(&self) -> String {
        let c = &self.config;
        let json = serde_json::to_vec(&(
            &c.rules,
            &c.shared,
            &c.unallocated,
            &c.unused_commitment,
            &c.amortize,
        ))
        .unwrap_or_default();
        hex(&Sha256::digest(&json))
    }
}

/// Parses and validates config text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config> {
    let mut config: Config = toml::from_str(text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        hint: Some("`mlcost init` writes a commented example of every key".into()),
    })?;
    validate(&config, path)?;
    normalise_target_keys(&mut config, path)?;
    Ok(config)
}

/// A tag value (and so a model id) as every stage compares it: trimmed, and lower-cased when
/// `[tags] lowercase_values` is on.
pub fn normalise_value(v: &str, lowercase: bool) -> String {
    let t = v.trim();
    if lowercase {
        t.to_lowercase()
    } else {
        t.to_string()
    }
}

/// `[targets.models.Search-Ranker-V2]` applies to model `search-ranker-v2`, and so does
/// `[hidden] utilization = { Search-Ranker-V2 = 0.5 }`: keys are normalised like model ids;
/// two keys that become one are an error.
fn normalise_target_keys(config: &mut Config, path: &Path) -> Result<()> {
    let lowercase = config.tags.lowercase_values;
    let mut utilization = BTreeMap::new();
    for (key, u) in std::mem::take(&mut config.hidden.utilization) {
        let id = normalise_value(&key, lowercase);
        if utilization.insert(id.clone(), u).is_some() {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!("`[hidden] utilization` names model `{id}` twice (as `{key}` and another spelling)"),
                hint: Some("model ids are compared trimmed and lower-cased (`[tags] lowercase_values`); keep one".into()),
            });
        }
    }
    config.hidden.utilization = utilization;
    let mut models = BTreeMap::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, targets) in std::mem::take(&mut config.targets.models) {
        let id = normalise_value(&key, lowercase);
        if id.is_empty() {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: "`[targets.models]` has an empty model id".into(),
                hint: None,
            });
        }
        if let Some(first) = seen.insert(id.clone(), key.clone()) {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "`[targets.models.{first}]` and `[targets.models.{key}]` are the same model `{id}`"
                ),
                hint: Some("model ids are compared trimmed and lower-cased (`[tags] lowercase_values`); keep one of the two".into()),
            });
        }
        models.insert(id, targets);
    }
    config.targets.models = models;
    let name = |section: String| format!("[{section}]");
    normalise_units(
        &mut config.targets.units,
        config.targets.max_cost_per_1m_tokens,
        config.targets.max_cost_per_1000_requests,
        &name("targets".into()),
        path,
    )?;
    for (id, t) in config.targets.models.iter_mut() {
        let section = name(format!("targets.models.{id}"));
        normalise_units(
            &mut t.units,
            t.max_cost_per_1m_tokens,
            t.max_cost_per_1000_requests,
            &section,
            path,
        )?;
    }
    Ok(())
}

/// A unit as the volumes and `[targets.units]` compare it, like a column name: trimmed,
/// lower-cased, runs of spaces, `-` and `_` made one `_` (`GPU Hours` is `gpu_hours`).
pub fn unit_name(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let parts: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|p| !p.is_empty())
        .collect();
    parts.join("_")
}

/// Keys of `[targets.units]` as units compare; two keys that become one unit, or a limit set
/// twice for one figure (`max_cost_per_1m_tokens` and `[targets.units.tokens]
/// max_cost_per_1m`, `max_cost_per_1000_requests` and `[targets.units.requests]
/// max_cost_per_1000`), are an error: the looser one would win silently in one table.
fn normalise_units(
    units: &mut BTreeMap<String, UnitTarget>,
    per_1m_tokens: Option<f64>,
    per_1000_requests: Option<f64>,
    section: &str,
    path: &Path,
) -> Result<()> {
    let err = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
        hint: Some(
            "units compare like column names (`GPU Hours` is `gpu_hours`); give each limit once"
                .into(),
        ),
    };
    let mut out = BTreeMap::new();
    for (key, t) in std::mem::take(units) {
        let unit = unit_name(&key);
        if unit.is_empty() {
            return Err(err(format!("`{section} units` has an empty unit")));
        }
        if out.insert(unit.clone(), t).is_some() {
            return Err(err(format!(
                "`{section} units` names unit `{unit}` twice (as `{key}` and another spelling)"
            )));
        }
    }
    let twice = |unit: &str, own: Option<f64>, short: Option<f64>, keys: (&str, &str)| match own
        .is_some()
        && short.is_some()
    {
        true => Err(err(format!(
            "`{section}` sets the limit of unit `{unit}` twice: `{}` and `units.{unit}.{}`",
            keys.0, keys.1
        ))),
        false => Ok(()),
    };
    if let Some(t) = out.get("tokens") {
        twice(
            "tokens",
            t.max_cost_per_1m,
            per_1m_tokens,
            ("max_cost_per_1m_tokens", "max_cost_per_1m"),
        )?;
    }
    if let Some(t) = out.get("requests") {
        twice(
            "requests",
            t.max_cost_per_1000,
            per_1000_requests,
            ("max_cost_per_1000_requests", "max_cost_per_1000"),
        )?;
    }
    *units = out;
    Ok(())
}

fn validate(config: &Config, path: &Path) -> Result<()> {
    let bad = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
        hint: None,
    };
    let a = &config.anomalies;
    // the default history (7 days) shortens to a shorter window; a set one must fit it
    let (window, history) = (
        a.window_days.unwrap_or(14.0),
        a.min_history_days.unwrap_or(0.0),
    );
    if history > window {
        return Err(Error::Config {
            path: path.to_path_buf(),
            message: format!(
                "`[anomalies] min_history_days = {history}` asks for more days than the window of {window} days holds"
            ),
            hint: Some("set `min_history_days` at most `window_days`".into()),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for key in &config.tags.required {
        let k = key.trim().to_lowercase();
        if k.is_empty() {
            return Err(bad("`tags.required` contains an empty key".into()));
        }
        if !seen.insert(k) {
            return Err(bad(format!("`tags.required` lists `{key}` twice")));
        }
    }
    for (from, to) in &config.tags.aliases {
        if from.trim().is_empty() || to.trim().is_empty() {
            return Err(bad("`tags.aliases` has an empty key or value".into()));
        }
    }
    Ok(())
}

fn config_hash(config: &Config) -> String {
    // serde_json of our own types cannot fail: all keys are strings and every float is
    // range-checked to a finite value while deserialising.
    let json = serde_json::to_vec(config).unwrap_or_default();
    hex(&Sha256::digest(&json))
}

/// Lower-case hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
