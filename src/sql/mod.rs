//! The attribution as SQL (`mlcost sql`), for when the bill lives in a warehouse engine
//! (DuckDB, Spark, Trino, BigQuery) and is too big for one machine. A query reads a
//! FOCUS-shaped billing table (Tags as JSON text, a map or a struct) and produces the rows of
//! `cost_by_model` exactly as `allocate` does (`driver` pools from a table per pool, training
//! amortised in straight line, and its `training_amortization` schedules), of `unit_costs` as
//! `economics` does (without revenue), or of `tag_compliance` as `ledger::compliance` does: the
//! same rows counted (cost parsed; the period's month that of its instant in UTC; commitment
//! purchases left out on the list and contracted bases), the same white space trimmed, the
//! same tag normalisation, the first matching virtual-tag rule, shared pools and spreading
//! with largest-remainder rounding at the input's precision (done in integers with window functions, never in floating point). A config the
//! SQL cannot express is refused with the config item and its line. This module only writes
//! text: it never reads billing data and never runs a query.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::allocate::rules::{self, Field, Matcher, Pattern, RuleSet};
use crate::config::{AmortizeMethod, CostBasis, LoadedConfig, SplitMethod, SpreadMethod};
use crate::error::{Error, Result};
use crate::money::{Money, SCALE};
use crate::schema::{line, UNALLOCATED, UNTAGGED, UNUSED_COMMITMENT};
use crate::tags::{TagNormaliser, LIFECYCLE_PHASE, MODEL_ID, TEAM};

mod amortize;
mod compliance;
mod dialect;
mod query;
mod split;
mod text;
mod unit;

pub use dialect::Dialect;
use query::Query;
use text::{comment_text, glob_to_like, glob_to_regex};

/// What to emit: for which engine, over which tables, on which cost basis.
#[derive(Debug, Clone)]
pub struct SqlSettings {
    pub dialect: Dialect,
    /// The FOCUS billing table (may be qualified, e.g. `billing.focus`).
    pub billing_table: String,
    /// A table of request volumes (`date`, `model_id`, `requests`), for `requests` splits.
    pub requests_table: Option<String>,
    pub basis: CostBasis,
    /// Only this billing month (YYYY-MM).
    pub period: Option<String>,
    /// How the table holds Tags.
    pub tags: TagsColumn,
    /// For `unit_costs`: read cost_by_model from this table (filled by the cost_by_model
    /// query) instead of computing it again.
    pub cost_by_model_table: Option<String>,
    /// (pool id, table) for each `driver` pool: the table of its driver rows (`period`,
    /// `model_id`, `quantity`).
    pub driver_tables: Vec<(String, String)>,
}

/// The output tables `mlcost sql` writes a query for (`--table`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlTable {
    #[value(name = "cost_by_model")]
    CostByModel,
    #[value(name = "unit_costs")]
    UnitCosts,
    #[value(name = "tag_compliance")]
    TagCompliance,
    /// the schedules of `[amortize] training_months > 1`
    #[value(name = "training_amortization")]
    TrainingAmortization,
    /// every table above (training_amortization when the config amortises), one query each
    All,
}

/// One table's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputTable {
    CostByModel,
    UnitCosts,
    TagCompliance,
    TrainingAmortization,
}

impl SqlSettings {
    /// The table of a `driver` pool's rows (`--driver-table POOL=NAME`).
    fn driver_table(&self, pool: &str) -> Option<&str> {
        self.driver_tables
            .iter()
            .find(|(p, _)| p == pool)
            .map(|(_, t)| t.as_str())
    }
}

impl OutputTable {
    fn name(self) -> &'static str {
        match self {
            OutputTable::CostByModel => "cost_by_model",
            OutputTable::UnitCosts => "unit_costs",
            OutputTable::TagCompliance => "tag_compliance",
            OutputTable::TrainingAmortization => "training_amortization",
        }
    }
}

/// The type of the billing table's Tags column (`mlcost sql --tags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TagsColumn {
    /// JSON object text (FOCUS; Azure's text without braces too)
    #[default]
    Json,
    /// A map of text to text (Spark, DuckDB and Trino maps)
    Map,
    /// A struct (row) with a field per tag key
    Struct,
}

/// The FOCUS column read for each canonical dimension (FOCUS 1.0-1.2 names).
pub const FOCUS_COLUMNS: [(&str, &str); 15] = [
    (line::BILLING_PERIOD_START, "BillingPeriodStart"),
    (line::BILLING_CURRENCY, "BillingCurrency"),
    (line::PROVIDER, "ProviderName"),
    (line::BILLING_ACCOUNT_ID, "BillingAccountId"),
    (line::SUB_ACCOUNT_ID, "SubAccountId"),
    (line::SUB_ACCOUNT_NAME, "SubAccountName"),
    (line::SERVICE_NAME, "ServiceName"),
    (line::SERVICE_CATEGORY, "ServiceCategory"),
    (line::RESOURCE_ID, "ResourceId"),
    (line::RESOURCE_NAME, "ResourceName"),
    (line::REGION, "RegionId"),
    (line::CHARGE_CATEGORY, "ChargeCategory"),
    (line::CHARGE_CLASS, "ChargeClass"),
    (line::COMMITMENT_DISCOUNT_STATUS, "CommitmentDiscountStatus"),
    (line::TAGS, "Tags"),
];

/// Bucket numbers of the two implicit pools (configured pools are 1, 2, ...).
const UNUSED_BUCKET: i64 = -1;
const UNALLOCATED_BUCKET: i64 = -2;

/// Refuses what the SQL cannot express, naming the config item and its line.
fn check_expressible(loaded: &LoadedConfig, settings: &SqlSettings, table: SqlTable) -> Result<()> {
    let c = &loaded.config;
    let path = loaded
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("mlcost.toml"));
    let refuse = |what: String, line: usize, message: &str, hint: &str| {
        Error::Config {
        path: path.clone(),
        message: format!(
            "{what} (line {line}) cannot be expressed in SQL for `mlcost sql --dialect {}`: {message}",
            settings.dialect.name()
        ),
        hint: Some(hint.to_string()),
    }
    };
    let section_line = |name: &str| {
        loaded
            .text
            .find(&format!("[{name}]"))
            .map_or(0, |at| loaded.line_of(at))
    };
    for (i, (pool, _)) in settings.driver_tables.iter().enumerate() {
        let known = c
            .shared
            .iter()
            .any(|p| p.id.get_ref() == pool && p.method == SplitMethod::Driver);
        if !known {
            return Err(Error::Usage {
                message: format!(
                    "--driver-table {pool}=...: the config has no shared pool `{pool}` with method `driver`"
                ),
                hint: Some("name a `[[shared]]` pool whose `method = \"driver\"`".into()),
            });
        }
        if settings.driver_tables[..i].iter().any(|(p, _)| p == pool) {
            return Err(Error::Usage {
                message: format!("--driver-table {pool}=... is given twice"),
                hint: Some("give each driver pool one table".into()),
            });
        }
    }
    // compliance reads the raw tags only: nothing of the allocation matters to it
    if table == SqlTable::TagCompliance {
        return Ok(());
    }
    if table == SqlTable::TrainingAmortization && c.amortize.training_months <= 1 {
        return Err(refuse(
            "`[amortize] training_months`".into(),
            section_line("amortize"),
            "it is 1 (the default): training is not amortised, and `attribute` writes no training_amortization",
            "set `training_months` to the months one training run is charged over",
        ));
    }
    for p in &c.shared {
        let line = loaded.line_of(p.id.span().start);
        let id = p.id.get_ref();
        let what = format!("pool `{id}`");
        match p.method {
            SplitMethod::Driver if settings.driver_table(id).is_none() => {
                return Err(refuse(
                    what,
                    line,
                    "method `driver` reads its driver file on this machine",
                    &format!("load the driver file (period, model_id, quantity) into a table and pass `--driver-table {id}=NAME`, or run `mlcost attribute`"),
                ))
            }
            SplitMethod::Requests if settings.requests_table.is_none() => {
                return Err(refuse(
                    what,
                    line,
                    "method `requests` needs request volumes",
                    "pass `--requests-table NAME` (columns date, model_id, requests)",
                ))
            }
            _ => {}
        }
    }
    for (name, spread) in [
        ("unallocated", c.unallocated.method),
        ("unused_commitment", c.unused_commitment.method),
    ] {
        if spread == SpreadMethod::Requests && settings.requests_table.is_none() {
            return Err(refuse(
                format!("`[{name}] method = \"requests\"`"),
                section_line(name),
                "spreading by requests needs request volumes",
                "pass `--requests-table NAME` (columns date, model_id, requests)",
            ));
        }
    }
    // unit targets judge the volumes' other units, which a requests table does not have
    let t = &c.targets;
    let judged = |m: Option<f64>, p: Option<f64>, r: Option<f64>| m.or(p).or(r).is_some();
    let targets = judged(
        t.max_cost_per_1000_requests,
        t.max_cost_pct_of_revenue,
        t.min_roi,
    ) || t.models.values().any(|m| {
        judged(
            m.max_cost_per_1000_requests,
            m.max_cost_pct_of_revenue,
            m.min_roi,
        )
    });
    if table != SqlTable::CostByModel && targets {
        return Err(refuse(
            "`[targets]`".into(),
            // `[targets]`, else its first sub-table (`[targets.models.ranker]`)
            loaded
                .text
                .find("[targets")
                .map_or(0, |at| loaded.line_of(at)),
            "the unit_costs query writes no verdicts against request, revenue or ROI targets",
            "leave those targets out of the config for the SQL (the verdict is then `no_target`), or run `mlcost attribute`",
        ));
    }
    if c.amortize.training_months > 1 && c.amortize.method == AmortizeMethod::Served {
        // the line of `"served"` in the [amortize] table (or an inline `amortize = {...}`)
        let served = loaded.text.find("[amortize]").unwrap_or(0);
        let line = loaded.text[served..]
            .find("\"served\"")
            .map(|at| served + at)
            .or_else(|| loaded.text.find("\"served\""))
            .map_or(0, |at| loaded.line_of(at));
        return Err(refuse(
            "`[amortize] method = \"served\"`".into(),
            line,
            "a served schedule carries the volume served from month to month, which one query cannot keep",
            "use `method = \"months\"` (straight line) for the SQL, or run `mlcost attribute`, which keeps the schedules",
        ));
    }
    Ok(())
}

/// Emits the attribution query (or, for `SqlTable::All`, one query per table, each ended by
/// `;`) for a loaded config.
pub fn attribution_query(
    loaded: &LoadedConfig,
    settings: &SqlSettings,
    table: SqlTable,
) -> Result<String> {
    check_expressible(loaded, settings, table)?;
    let tagger = TagNormaliser::new(&loaded.config.tags);
    // compliance reads the raw tags: rules and pools play no part
    let rules = if table == SqlTable::TagCompliance {
        RuleSet::default()
    } else {
        // volumes are checked above: a `requests` split here always has a requests table, a
        // `driver` split a driver table, which the query reads; no file is read here
        rules::compile(loaded, &tagger, true, &|_: &std::path::Path| {
            Ok(std::collections::BTreeMap::new())
        })?
    };
    let q = Query::new(settings, &tagger, &rules);
    let no_rules = RuleSet::default();
    let raw_tags = Query::new(settings, &tagger, &no_rules);
    let render = |t: OutputTable| match t {
        OutputTable::TagCompliance => raw_tags.render(t),
        _ => q.render(t),
    };
    Ok(match table {
        SqlTable::CostByModel => render(OutputTable::CostByModel),
        SqlTable::UnitCosts => render(OutputTable::UnitCosts),
        SqlTable::TagCompliance => render(OutputTable::TagCompliance),
        SqlTable::TrainingAmortization => render(OutputTable::TrainingAmortization),
        SqlTable::All => {
            let mut tables = vec![
                OutputTable::CostByModel,
                OutputTable::UnitCosts,
                OutputTable::TagCompliance,
            ];
            // `attribute` writes the schedules only when it amortises
            if rules.training_months > 1 {
                tables.push(OutputTable::TrainingAmortization);
            }
            tables
                .into_iter()
                .map(|t| format!("{};\n", render(t).trim_end()))
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}

#[cfg(test)]
mod tests;
