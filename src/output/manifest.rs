//! The manifests. `manifest.json` records every run that took the output lock, whatever its
//! outcome (`status`: published, rejected or failed), and lists every partition currently
//! published with the run that wrote it. Each published partition carries its own
//! `_manifest.json` (run id, inputs with hashes, the month's totals, and its restatement
//! history), so the history of a month survives any order of `--period` and full runs.
//! Everything in them is deterministic except run ids, times and durations.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{partition_dir, PARTITION_MANIFEST, TABLES};
use crate::error::{Error, Result};
use crate::money::Money;

impl From<crate::error::ExitStatus> for RunStatus {
    fn from(s: crate::error::ExitStatus) -> RunStatus {
        match s {
            crate::error::ExitStatus::Success => RunStatus::Published,
            crate::error::ExitStatus::Rejected => RunStatus::Rejected,
            crate::error::ExitStatus::Failed => RunStatus::Failed,
        }
    }
}

/// How a run ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Its partitions were published (exit 0).
    Published,
    /// The data was rejected and nothing was published (exit 1).
    Rejected,
    /// It could not run; nothing was published (exit 2).
    Failed,
}

/// `manifest.json`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Manifest {
    pub status: RunStatus,
    pub run_id: String,
    pub exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    pub tool: ToolInfo,
    pub schema_version: &'static str,
    pub run: RunInfo,
    /// What the run read, checked and wrote; absent when it failed before reading.
    #[serde(flatten)]
    pub detail: Option<RunDetail>,
    /// Every partition published under the output directory after this run, with the run
    /// that wrote it (this run's and those of earlier runs).
    pub partitions: Vec<PublishedPartition>,
}

/// Why a run was not published.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorInfo {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ErrorInfo {
    pub fn from_error(e: &crate::error::Error) -> ErrorInfo {
        ErrorInfo {
            message: e.chain(),
            hint: e.hint(),
        }
    }
}

/// The part of the manifest a run knows once it has read its inputs.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct RunDetail {
    pub config: ConfigInfo,
    pub cost_basis: &'static str,
    pub period_filter: Option<String>,
    /// `--allow-empty`: months with no counted row may be published (as empty tables).
    pub allow_empty: bool,
    pub inputs: Vec<InputInfo>,
    pub volumes: Option<VolumesInfo>,
    pub rows: RowCounts,
    pub periods: Vec<PeriodInfo>,
    /// Null when the run was refused before anything was written.
    pub reconciliation: Option<Reconciliation>,
    pub volume_report: crate::economics::VolumeReport,
    pub amortization: AmortizationInfo,
    /// Files this run wrote (empty when it was not published).
    pub outputs: Vec<String>,
    /// Months this run restated (their full history is in each partition's `_manifest.json`).
    pub restatements: Vec<Restatement>,
    /// Per month, `provisional` or `final`, when a FOCUS Billing Period dataset was given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub billing_status: BTreeMap<String, crate::ledger::datasets::BillingStatus>,
    /// Each invoice of the run's months reconciled against FOCUS Invoice Detail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<crate::ledger::datasets::InvoiceCheck>,
    /// Each commitment's use per month (FOCUS Contract Commitment and `ContractApplied`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<crate::ledger::datasets::CommitmentUse>,
    /// Cost and Usage rows whose `ContractApplied` is not the FOCUS JSON: their commitment
    /// use is not counted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unreadable_contract_applied: u64,
    /// Cost and Usage rows left out of the invoice sums: no readable period, currency or
    /// `BilledCost` (the main read quarantines them too, or counts them on another basis).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub invoice_rows_left_out: u64,
    /// `--grain day`: what the daily tables hold and the days flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<DailyInfo>,
    /// Partitions of a republished month that this run removed because it does not write
    /// their table (`training_amortization` when amortisation is off, `hidden_costs`, which
    /// `mlcost hidden` derives from the replaced unit costs), as `<table>/billing_period=P`.
    pub removed: Vec<String>,
}

/// A table partition currently published.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema)]
pub struct PublishedPartition {
    pub table: String,
    pub billing_period: String,
    /// None for a partition written by an mlcost too old to write `_manifest.json`.
    pub run_id: Option<String>,
    pub published_at: Option<String>,
}

/// `<table>/billing_period=YYYY-MM/_manifest.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PartitionManifest {
    pub table: String,
    pub billing_period: String,
    pub run_id: String,
    pub published_at: String,
    pub tool_version: String,
    pub schema_version: String,
    #[serde(default)]
    pub cost_basis: String,
    #[serde(default)]
    pub config_sha256: String,
    #[serde(default)]
    pub allow_empty: bool,
    /// Every input of the run that wrote the partition.
    #[serde(default)]
    pub inputs: Vec<PartitionInput>,
    /// The month's totals per currency, as read (what the table adds up to).
    #[serde(default)]
    pub totals: Vec<PartitionTotal>,
    #[serde(default)]
    pub quarantined_rows: u64,
    /// Every restatement of this month, oldest first.
    #[serde(default)]
    pub history: Vec<Restatement>,
    /// `provisional` or `final` when a FOCUS Billing Period dataset said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_status: Option<crate::ledger::datasets::BillingStatus>,
    /// The month's invoices reconciled against FOCUS Invoice Detail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<crate::ledger::datasets::InvoiceCheck>,
    /// The month's commitments and their use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<crate::ledger::datasets::CommitmentUse>,
}

#[derive(
    Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
pub struct PartitionInput {
    pub path: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// sha256 of its content (decompressed): what decides whether a month was restated.
    #[serde(default)]
    pub content_sha256: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PartitionTotal {
    pub currency: String,
    pub rows: u64,
    pub cost_read: String,
}

/// A month whose totals or inputs changed since the run that published it before.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Restatement {
    pub billing_period: String,
    pub currency: String,
    pub restated_at: String,
    pub run_id: String,
    pub previous_run_id: Option<String>,
    pub cost_before: String,
    pub cost_after: String,
    pub inputs_before: Vec<String>,
    pub inputs_after: Vec<String>,
    /// The month's billing status before and after, when a Billing Period dataset said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before: Option<crate::ledger::datasets::BillingStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_after: Option<crate::ledger::datasets::BillingStatus>,
    /// Set on the restatement that publishes the month as final after it was published
    /// before while provisional (or without a status).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_restatement: bool,
    /// Set when the month was last published as final and is provisional again (the
    /// provider reopened the billing period).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reopened: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A new run id: the start time and a hash of the process and the clock, unique per output
/// directory (runs on one directory are serialised by its lock).
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    use sha2::{Digest, Sha256};
    let nanos = started.timestamp_nanos_opt().unwrap_or_default();
    let seed = format!(
        "{}-{nanos}-{:?}",
        std::process::id(),
        std::thread::current().id()
    );
    let digest = crate::config::hex(&Sha256::digest(seed.as_bytes()));
    format!("{}-{}", started.format("%Y%m%dT%H%M%SZ"), &digest[..8])
}

/// What to do about a manifest that is not a regular file.
const MANIFEST_HINT: &str =
    "mlcost writes its manifests as regular files: find out who replaced it, then remove it (a partition's `_manifest.json` holds the month's restatement history: removing it starts that history again)";

/// The manifest of one published partition; `None` when it has none (a partition written by
/// an mlcost before 0.2). One that cannot be read or parsed is an error naming it: it holds
/// the month's restatement history, which the next run would otherwise start again silently.
/// A symbolic link or a FIFO is refused without being opened.
pub fn read_partition_manifest(
    out: &Path,
    table: &str,
    period: &str,
) -> Result<Option<PartitionManifest>> {
    let path = out
        .join(partition_dir(table, period))
        .join(PARTITION_MANIFEST);
    let Some(bytes) = super::regular::read_existing(&path, MANIFEST_HINT)? else {
        return Ok(None);
    };
    let bad = |message: String| Error::PartitionManifest {
        path: path.clone(),
        message,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| bad(format!("it is not a partition manifest ({e})")))
}

/// The bytes of `manifest.json`, when there is one (a regular file only: a symbolic link or
/// a FIFO is refused without being opened).
pub fn read_run_manifest(out: &Path) -> Result<Option<Vec<u8>>> {
    super::regular::read_existing(&out.join(super::MANIFEST), MANIFEST_HINT)
}

/// The history of `period` after this run publishes `totals` from `inputs`: the history the
/// partition had, plus one entry per currency whose total or whose inputs changed. Partitions
/// written before partition manifests existed fall back on the old top-level manifest. A
/// partition manifest that cannot be read is an error: its history must not be lost.
pub fn history_after(
    out: &Path,
    period: &str,
    totals: &[PartitionTotal],
    inputs: &[PartitionInput],
    run_id: &str,
    at: &str,
    status: Option<crate::ledger::datasets::BillingStatus>,
) -> Result<(Vec<Restatement>, Vec<Restatement>)> {
    let before = match read_partition_manifest(out, super::COST_BY_MODEL, period)? {
        Some(m) => Some(m),
        None => legacy_partition(out, period)?,
    };
    let Some(before) = before else {
        return Ok((Vec::new(), Vec::new()));
    };
    let sorted = |inputs: &[PartitionInput]| -> Vec<String> {
        let mut v: Vec<String> = inputs
            .iter()
            .map(|i| match i.content_sha256.is_empty() {
                true => i.sha256.clone(),
                false => i.content_sha256.clone(),
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (inputs_before, inputs_after) = (sorted(&before.inputs), sorted(inputs));
    let currencies: BTreeSet<&str> = before
        .totals
        .iter()
        .chain(totals)
        .map(|t| t.currency.as_str())
        .collect();
    let cost = |list: &[PartitionTotal], c: &str| {
        list.iter()
            .find(|t| t.currency == c)
            .map_or_else(|| "0".to_string(), |t| t.cost_read.clone())
    };
    let mut new = Vec::new();
    let status_changed = status != before.billing_status;
    // the last status the month was published with (a run without a Billing Period dataset
    // leaves it unknown, not changed): closing it again after that is not a new final
    let last_known = before.billing_status.or_else(|| {
        // the latest entry that knew one: its status after, or before when it lost it
        before
            .history
            .iter()
            .rev()
            .find_map(|h| h.status_after.or(h.status_before))
    });
    let final_restatement = status == Some(crate::ledger::datasets::BillingStatus::Final)
        && last_known != Some(crate::ledger::datasets::BillingStatus::Final);
    let reopened = status == Some(crate::ledger::datasets::BillingStatus::Provisional)
        && last_known == Some(crate::ledger::datasets::BillingStatus::Final);
    for c in currencies {
        let (cost_before, cost_after) = (cost(&before.totals, c), cost(totals, c));
        if cost_before != cost_after || inputs_before != inputs_after || status_changed {
            new.push(Restatement {
                billing_period: period.to_string(),
                currency: c.to_string(),
                restated_at: at.to_string(),
                run_id: run_id.to_string(),
                previous_run_id: (!before.run_id.is_empty()).then(|| before.run_id.clone()),
                cost_before,
                cost_after,
                inputs_before: inputs_before.clone(),
                inputs_after: inputs_after.clone(),
                status_before: before.billing_status,
                status_after: status,
                final_restatement,
                reopened,
            });
        }
    }
    let mut history = before.history;
    history.extend(new.iter().cloned());
    Ok((history, new))
}

/// A partition's totals and inputs as the top-level manifest of an mlcost before 0.2 recorded
/// them (it only knew the last run). `manifest.json` is opened only when it is a regular file;
/// one that does not parse, or lists nothing for the month, gives nothing.
fn legacy_partition(out: &Path, period: &str) -> Result<Option<PartitionManifest>> {
    let bytes = super::regular::read_existing(&out.join(super::MANIFEST), MANIFEST_HINT)?;
    Ok(bytes.and_then(|bytes| legacy_from(&bytes, period)))
}

fn legacy_from(bytes: &[u8], period: &str) -> Option<PartitionManifest> {
    let prev: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let periods = prev.get("periods")?.as_array()?;
    let totals: Vec<PartitionTotal> = periods
        .iter()
        .filter(|p| p.get("billing_period").and_then(|v| v.as_str()) == Some(period))
        .filter_map(|p| {
            Some(PartitionTotal {
                currency: p.get("currency")?.as_str()?.to_string(),
                rows: p.get("rows").and_then(|v| v.as_u64()).unwrap_or(0),
                cost_read: p.get("cost_read")?.as_str()?.to_string(),
            })
        })
        .collect();
    if totals.is_empty() {
        return None;
    }
    let inputs = prev
        .get("inputs")
        .and_then(|i| i.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    Some(PartitionInput {
                        path: i.get("path")?.as_str()?.to_string(),
                        sha256: i.get("sha256")?.as_str()?.to_string(),
                        content_sha256: String::new(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let history = prev
        .get("history")
        .and_then(|h| serde_json::from_value::<Vec<serde_json::Value>>(h.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.get("billing_period").and_then(|v| v.as_str()) == Some(period))
        .map(|h| {
            let s = |k: &str| {
                h.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let list = |k: &str| -> Vec<String> {
                h.get(k)
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default()
            };
            Restatement {
                billing_period: s("billing_period"),
                currency: s("currency"),
                restated_at: s("restated_at"),
                run_id: String::new(),
                previous_run_id: None,
                cost_before: s("cost_before"),
                cost_after: s("cost_after"),
                inputs_before: list("inputs_before"),
                inputs_after: list("inputs_after"),
                status_before: None,
                status_after: None,
                final_restatement: false,
                reopened: false,
            }
        })
        .collect();
    Some(PartitionManifest {
        table: super::COST_BY_MODEL.into(),
        billing_period: period.into(),
        run_id: String::new(),
        published_at: String::new(),
        tool_version: String::new(),
        schema_version: String::new(),
        cost_basis: String::new(),
        config_sha256: String::new(),
        allow_empty: false,
        inputs,
        totals,
        quarantined_rows: 0,
        history,
        billing_status: None,
        invoices: Vec::new(),
        commitments: Vec::new(),
    })
}

/// Every partition published under `out` once `replacing` (this run's partitions, with its
/// run id and time) are in place and `removing` are gone.
pub fn published_partitions(
    out: &Path,
    replacing: &[(String, String)],
    removing: &[(String, String)],
    run_id: &str,
    at: &str,
) -> Vec<PublishedPartition> {
    let mut all: BTreeMap<(String, String), PublishedPartition> = BTreeMap::new();
    for table in TABLES.iter().filter(|t| **t != super::QUARANTINE_DIR) {
        for period in super::list_periods(out, table).unwrap_or_default() {
            // informational (the history stays in the file): one that cannot be read is shown
            // without a run, with a warning; `history_after` refuses it where it matters
            let m = read_partition_manifest(out, table, &period).unwrap_or_else(|e| {
                tracing::warn!("{}", e.chain());
                None
            });
            all.insert(
                (table.to_string(), period.clone()),
                PublishedPartition {
                    table: table.to_string(),
                    billing_period: period,
                    run_id: m.as_ref().map(|m| m.run_id.clone()),
                    published_at: m.map(|m| m.published_at),
                },
            );
        }
    }
    for (table, period) in replacing {
        all.insert(
            (table.clone(), period.clone()),
            PublishedPartition {
                table: table.clone(),
                billing_period: period.clone(),
                run_id: Some(run_id.to_string()),
                published_at: Some(at.to_string()),
            },
        );
    }
    for key in removing {
        all.remove(key);
    }
    all.into_values().collect()
}

/// `--grain day` in the manifest.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct DailyInfo {
    /// Distinct charge days of the run.
    pub days: usize,
    /// `day` when the volumes give days, `month` when they give months only (the daily unit
    /// costs then have no volume), `none` without volumes.
    pub volumes: String,
    /// Counted billing rows without a charge day (in the daily tables with an empty
    /// `charge_date`), and their cost per "period currency".
    pub undated_rows: u64,
    pub undated_cost: BTreeMap<String, Money>,
    /// The anomaly method's settings (`[anomalies]` or the defaults).
    pub window_days: i64,
    pub min_history_days: usize,
    pub threshold: f64,
    pub min_change: Money,
    /// Rows of `anomalies`, the model-days they flag, and the model-days with the largest
    /// change of cost first (at most 5, one row each: the cost's when both metrics flag it).
    pub anomalies: usize,
    pub flagged_days: usize,
    /// Published months whose anomalies looked back into the days this run replaced (warned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale_anomalies: Vec<String>,
    pub largest: Vec<AnomalyInfo>,
}

/// One flagged day, as the summary shows it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct AnomalyInfo {
    pub charge_date: String,
    pub model_id: String,
    pub currency: String,
    pub metric: String,
    pub value: Money,
    pub baseline: Money,
    pub cost_change: Money,
    pub spend_effect: Money,
    pub volume_effect: Option<Money>,
}

#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct AmortizationInfo {
    pub training_months: u32,
    /// `[amortize] method = "served"`: the unit of the volumes new schedules are spread over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_unit: Option<String>,
    /// Schedules carried in from the output of an earlier month.
    pub opening_schedules: usize,
    /// (period, currency) -> training cost incurred but not yet charged at the period's end.
    pub closing_balance: BTreeMap<String, Money>,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct RunInfo {
    pub started_at: String,
    pub duration_seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ConfigInfo {
    pub path: Option<String>,
    pub sha256: String,
    /// sha256 of the allocation rules alone (rules, pools, spreading, amortisation).
    pub rules_sha256: String,
    /// Rule id -> billing rows it matched.
    pub rule_matches: BTreeMap<String, u64>,
    /// `[output] dimensions`, as named in `cost_by_dimension` (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct InputInfo {
    /// The file as given, or the URI of the object read (`s3://...`).
    pub path: String,
    /// The object the file was fetched from (URI, ETag, version), for inputs in buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<crate::origin::ObjectOrigin>,
    pub size: u64,
    pub sha256: String,
    /// sha256 of the decompressed content (equal to `sha256` for uncompressed files).
    pub content_sha256: String,
    pub kind: crate::ingest::FileKind,
    pub format: String,
    pub format_version: String,
    /// The FOCUS dataset of the file (FOCUS inputs only): cost_and_usage is spend; the
    /// others are read for what they add and never counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<crate::ingest::Dataset>,
    pub rows: u64,
    pub quarantined_rows: u64,
    /// Per currency, the sum of every cost column the file has (counted rows only).
    pub totals: BTreeMap<String, BTreeMap<&'static str, Money>>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct VolumesInfo {
    pub path: String,
    /// The object the file was fetched from, for volumes in a bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<crate::origin::ObjectOrigin>,
    pub size: u64,
    pub sha256: String,
    pub rows: u64,
    pub unusable_rows: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct RowCounts {
    pub read: u64,
    pub counted: u64,
    pub excluded_commitment_purchases: u64,
    pub outside_period: u64,
    pub quarantined: u64,
    pub quarantined_by_reason: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PeriodInfo {
    pub billing_period: String,
    pub currency: String,
    pub rows: u64,
    /// Chosen basis, counted rows: what the outputs must add up to.
    pub cost_read: Money,
    /// What the staged tables were read back to hold; null when the run stopped before.
    pub cost_written: Option<Money>,
    pub unit_costs_written: Option<Money>,
    pub allocated_direct: Money,
    pub unallocated: Money,
    pub by_basis: BTreeMap<&'static str, Money>,
    pub excluded_commitment_purchases: Money,
    /// The `__unused_commitment__` bucket of the month (in the cost basis).
    #[serde(default, skip_serializing_if = "Money::is_zero_ref")]
    pub unused_commitment: Money,
}

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Reconciliation {
    pub ok: bool,
    /// (period, currency) totals checked.
    pub checked: usize,
    /// `--grain day`: (period, currency, charge day) totals checked in the daily tables.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days_checked: u64,
    pub mismatches: Vec<String>,
}
