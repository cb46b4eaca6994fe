//! AWS Cost Explorer adapter: aggregates, not line items, in three shapes, all reshaped here to
//! one long frame (`ce_period`, `ce_service`, `ce_tags`, `ce_cost`, `ce_currency`):
//! (a) the long table `date, service, <tag columns> | tag_key + tag_value, cost` that cost
//!     models start from (cost column `cost`, `cost_usd`, `UnblendedCost`, `AmortizedCost`, ...);
//! (b) the console's wide "Download CSV" (group columns suffixed `($)`, a `Service total` row,
//!     either orientation);
//! (c) `GetCostAndUsage` JSON responses grouped by tag (`team$web`, `team$` for untagged),
//!     read by `read_api_json`.
//! The one metric in the file is used as both billed and effective cost; the summary says the
//! rows carry no resource ids. A file grouped by several tag keys at once is refused: each
//! grouping repeats the same spend, so summing them would count it several times.

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;

use super::columns::{norm_key, Canonical, Columns};
use super::{text_values, RawScan, ROW_NUMBER};
use crate::error::{Error, Result};
use crate::schema::line;

/// Marker column of frames this module built (API JSON), and the reshaped columns.
pub const MARKER: &str = "ce_period";
const COLUMNS: [&str; 6] = [
    "ce_period",
    "ce_service",
    "ce_tags",
    "ce_cost",
    "ce_currency",
    "ce_metric",
];

/// Cost Explorer has no fixed header; `detect` uses `missing` below instead.
pub const REQUIRED: &[&[&str]] = &[
    &["date", "TimePeriod.Start", "ce_period"],
    &["cost", "UnblendedCost", "AmortizedCost"],
];

const DATE_NAMES: [&str; 7] = [
    "date",
    "start",
    "time_period",
    "TimePeriod.Start",
    "usage_date",
    "month",
    "period",
];
const COST_NAMES: [&str; 9] = [
    "AmortizedCost",
    "NetAmortizedCost",
    "UnblendedCost",
    "NetUnblendedCost",
    "BlendedCost",
    "cost_usd",
    "cost",
    "amount",
    "total_cost",
];
const SERVICE_NAMES: [&str; 2] = ["service", "SERVICE"];
const KNOWN: [&str; 8] = [
    "currency",
    "unit",
    "linked_account",
    "account",
    "region",
    "usage_type",
    "record_type",
    "estimated",
];

/// Whether the columns look like one of the Cost Explorer shapes.
pub fn matches(cols: &Columns) -> bool {
    cols.has(MARKER)
        || is_console(cols)
        || (cols.find(&DATE_NAMES).is_some() && cols.find(&COST_NAMES).is_some())
}

fn is_console(cols: &Columns) -> bool {
    cols.schema.iter_names().any(|n| n.trim().ends_with("($)"))
}

/// One reshaped line.
#[derive(Debug, Default)]
struct Line {
    row: u64,
    period: Option<String>,
    service: Option<String>,
    tags: Option<String>,
    cost: Option<String>,
    currency: String,
    metric: String,
}

fn frame(lines: Vec<Line>, with_rows: bool) -> PolarsResult<DataFrame> {
    let text = |f: fn(&Line) -> Option<&str>| -> StringChunked { lines.iter().map(f).collect() };
    let mut cols = vec![
        text(|l| l.period.as_deref())
            .with_name(COLUMNS[0].into())
            .into_series()
            .into_column(),
        text(|l| l.service.as_deref())
            .with_name(COLUMNS[1].into())
            .into_series()
            .into_column(),
        text(|l| l.tags.as_deref())
            .with_name(COLUMNS[2].into())
            .into_series()
            .into_column(),
        text(|l| l.cost.as_deref())
            .with_name(COLUMNS[3].into())
            .into_series()
            .into_column(),
        text(|l| Some(l.currency.as_str()))
            .with_name(COLUMNS[4].into())
            .into_series()
            .into_column(),
        text(|l| Some(l.metric.as_str()))
            .with_name(COLUMNS[5].into())
            .into_series()
            .into_column(),
    ];
    if with_rows {
        let rows: Vec<IdxSize> = lines.iter().map(|l| l.row as IdxSize).collect();
        cols.insert(0, Column::new(ROW_NUMBER.into(), rows));
    }
    DataFrame::new_infer_height(cols)
}

/// `key$value` -> (key, value); `key$` is the untagged bucket of `key`.
fn split_tag(v: &str) -> Option<(&str, &str)> {
    v.split_once('$')
}

fn tags_json(key: &str, value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| {
        let mut m = serde_json::Map::new();
        m.insert(
            key.to_string(),
            serde_json::Value::String(value.to_string()),
        );
        serde_json::Value::Object(m).to_string()
    })
}

/// `Jul 2026`, `2026-07`, `2026-07-01`, `7/1/2026` -> a period text `billing_period` accepts.
fn period_text(raw: &str) -> Option<String> {
    let t = raw.trim().trim_end_matches("($)").trim();
    if let Some(p) = crate::ingest::billing_period(t) {
        return Some(p);
    }
    chrono::NaiveDate::parse_from_str(&format!("1 {t}"), "%d %b %Y")
        .ok()
        .map(|d| d.format("%Y-%m").to_string())
}

/// Reshapes a Cost Explorer CSV (long or console) to canonical lines.
pub fn map(scan: &RawScan, cols: &Columns, lf: LazyFrame) -> Result<(Canonical, LazyFrame)> {
    let read = |e: PolarsError| scan.read_error(e);
    let (lines_lf, shape) = if cols.has(MARKER) {
        (lf, "api json")
    } else {
        let df = lf.collect().map_err(read)?;
        let with_rows = df.column(ROW_NUMBER).is_ok();
        let lines = if is_console(cols) {
            console_lines(scan, &df)?
        } else {
            long_lines(scan, cols, &df)?
        };
        let shape = if is_console(cols) {
            "console csv"
        } else {
            "long table"
        };
        (frame(lines, with_rows).map_err(read)?.lazy(), shape)
    };
    let mut c = Canonical::new("cost-explorer", shape);
    c.dim(line::BILLING_PERIOD_START, col("ce_period"))
        .dim(line::BILLING_CURRENCY, col("ce_currency"))
        .dim(line::PROVIDER, lit("AWS"))
        .dim(line::SERVICE_NAME, col("ce_service"))
        .dim(line::CHARGE_CATEGORY, lit("Usage"))
        .dim(line::TAGS, col("ce_tags"));
    let cost = super::money_expr(col("ce_cost"));
    c.cost(line::EFFECTIVE_COST, cost.clone(), col("ce_cost"));
    c.cost(line::BILLED_COST, cost, col("ce_cost"));
    c.notes.push(
        "Cost Explorer data are aggregates: they carry no resource ids, so tag compliance is per tag value, not per resource"
            .into(),
    );
    Ok((c, lines_lf))
}

fn strings(scan: &RawScan, df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    df.column(name)
        .and_then(text_values)
        .map_err(|e| scan.read_error(e))
}

fn row_numbers(scan: &RawScan, df: &DataFrame) -> Result<Vec<u64>> {
    Ok(match df.column(ROW_NUMBER) {
        Ok(_) => strings(scan, df, ROW_NUMBER)?
            .into_iter()
            .map(|v| v.and_then(|v| v.parse().ok()).unwrap_or(0))
            .collect(),
        Err(_) => (1..=df.height() as u64).collect(),
    })
}

fn long_lines(scan: &RawScan, cols: &Columns, df: &DataFrame) -> Result<Vec<Line>> {
    let date = cols.find(&DATE_NAMES).unwrap_or_default();
    let cost = cols.find(&COST_NAMES).unwrap_or_default();
    let metric = cost.clone();
    let service = cols.find(&SERVICE_NAMES);
    let currency = cols.find(&["currency", "unit"]);
    let tag_key = cols.find(&["tag_key"]);
    let tag_value = cols.find(&["tag_value"]);
    let used: BTreeSet<String> = [
        Some(&date),
        Some(&cost),
        service.as_ref(),
        currency.as_ref(),
        tag_key.as_ref(),
        tag_value.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|s| norm_key(s))
    .chain(KNOWN.iter().map(|k| norm_key(k)))
    .chain([norm_key(ROW_NUMBER)])
    .collect();
    let tag_columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| !used.contains(&norm_key(n)))
        .collect();
    let rows = row_numbers(scan, df)?;
    let dates = strings(scan, df, &date)?;
    let costs = strings(scan, df, &cost)?;
    let services = match &service {
        Some(s) => strings(scan, df, s)?,
        None => vec![None; df.height()],
    };
    let currencies = match &currency {
        Some(s) => strings(scan, df, s)?,
        None => vec![None; df.height()],
    };
    let pair = match (&tag_key, &tag_value) {
        (Some(k), Some(v)) => Some((strings(scan, df, k)?, strings(scan, df, v)?)),
        _ => None,
    };
    if let Some((keys, _)) = &pair {
        let distinct: BTreeSet<&str> = keys.iter().flatten().map(|k| k.trim()).collect();
        if distinct.len() > 1 {
            return Err(several_keys(
                scan,
                distinct.into_iter().map(str::to_string).collect(),
            ));
        }
    }
    let mut tag_values = Vec::new();
    for t in &tag_columns {
        tag_values.push((t.clone(), strings(scan, df, t)?));
    }
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let tags = if let Some((keys, values)) = &pair {
            match (&keys[i], &values[i]) {
                (Some(k), Some(v)) => {
                    tags_json(k.trim(), split_tag(v).map_or(v.as_str(), |(_, v)| v))
                }
                _ => None,
            }
        } else {
            let mut m = serde_json::Map::new();
            for (key, values) in &tag_values {
                if let Some(v) = values[i].as_deref() {
                    let v = split_tag(v).map_or(v, |(_, v)| v).trim();
                    if !v.is_empty() {
                        m.insert(key.clone(), serde_json::Value::String(v.to_string()));
                    }
                }
            }
            (!m.is_empty()).then(|| serde_json::Value::Object(m).to_string())
        };
        out.push(Line {
            row: rows[i],
            period: dates[i]
                .as_deref()
                .and_then(period_text)
                .or_else(|| dates[i].clone()),
            service: services[i].clone(),
            tags,
            cost: costs[i].clone(),
            currency: currencies[i].clone().unwrap_or_else(|| "USD".into()),
            metric: metric.clone(),
        });
    }
    Ok(out)
}

fn several_keys(scan: &RawScan, keys: Vec<String>) -> Error {
    Error::Ingest {
        path: scan.file.path.clone(),
        message: format!(
            "the file groups the same spend by several tag keys ({}); summing them would count it once per key",
            keys.join(", ")
        ),
        hint: Some("export one tag key per file, or group by all keys at once".into()),
    }
}

fn is_total(s: &str) -> bool {
    let t = s.trim().trim_end_matches("($)").trim().to_lowercase();
    t == "service total" || t == "total costs" || t == "total cost" || t == "total"
}

fn console_lines(scan: &RawScan, df: &DataFrame) -> Result<Vec<Line>> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n != ROW_NUMBER)
        .collect();
    let Some(label) = names.first().cloned() else {
        return Ok(Vec::new());
    };
    let label_key = label.trim_start_matches('\u{feff}').trim().to_string();
    let rows = row_numbers(scan, df)?;
    let first = strings(scan, df, &label)?;
    // orientation: are the header cells periods (rows = groups) or the first cells dates?
    let headers_are_periods = names[1..]
        .iter()
        .filter(|n| !is_total(n))
        .all(|n| period_text(n).is_some());
    let group_meaning = |group: &str| -> (Option<String>, Option<String>) {
        let g = group.trim().trim_end_matches("($)").trim();
        if let Some((k, v)) = split_tag(g) {
            return (None, tags_json(k, v));
        }
        let l = label_key.to_lowercase();
        if l.starts_with("service")
            || l.contains("account")
            || l.contains("region")
            || l.contains("type")
        {
            (Some(g.to_string()), None)
        } else {
            (
                None,
                tags_json(
                    &label_key,
                    if g.eq_ignore_ascii_case("no tag") {
                        ""
                    } else {
                        g
                    },
                ),
            )
        }
    };
    let mut out = Vec::new();
    for name in &names[1..] {
        if is_total(name) {
            continue;
        }
        let values = strings(scan, df, name)?;
        for i in 0..df.height() {
            let Some(head) = first[i].as_deref() else {
                continue;
            };
            if is_total(head) {
                continue;
            }
            let Some(v) = values[i]
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            let (period, group) = if headers_are_periods {
                (name.as_str(), head)
            } else {
                (head, name.as_str())
            };
            let (service, tags) = group_meaning(group);
            out.push(Line {
                row: rows[i],
                period: period_text(period).or_else(|| Some(period.to_string())),
                service,
                tags,
                cost: Some(v.replace([',', '$'], "")),
                currency: "USD".into(),
                metric: "console".into(),
            });
        }
    }
    Ok(out)
}

/// Reads `GetCostAndUsage` responses (one JSON object, an array of them, or one per line).
pub fn read_api_json(path: &Path, text: &str) -> Result<DataFrame> {
    let bad = |message: String| Error::Ingest {
        path: path.to_path_buf(),
        message,
        hint: Some("expected GetCostAndUsage responses with ResultsByTime".into()),
    };
    let mut responses: Vec<serde_json::Value> = Vec::new();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => responses.extend(items),
        Ok(v) => responses.push(v),
        Err(_) => {
            for (i, l) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                responses.push(
                    serde_json::from_str(l).map_err(|e| bad(format!("line {}: {e}", i + 1)))?,
                );
            }
        }
    }
    let mut lines = Vec::new();
    let mut tag_keys: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut row = 0u64;
    for r in &responses {
        let results = r
            .get("ResultsByTime")
            .and_then(|v| v.as_array())
            .ok_or_else(|| bad("no `ResultsByTime` array".into()))?;
        for period in results {
            let start = period
                .pointer("/TimePeriod/Start")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let groups = period
                .get("Groups")
                .and_then(|g| g.as_array())
                .cloned()
                .unwrap_or_default();
            let entries: Vec<(Vec<String>, &serde_json::Value)> = if groups.is_empty() {
                period
                    .get("Total")
                    .map(|t| vec![(Vec::new(), t)])
                    .unwrap_or_default()
            } else {
                groups
                    .iter()
                    .filter_map(|g| {
                        let keys = g
                            .get("Keys")?
                            .as_array()?
                            .iter()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect();
                        Some((keys, g.get("Metrics")?))
                    })
                    .collect()
            };
            for (keys, metrics) in entries {
                row += 1;
                let Some((metric, amount, unit)) = pick_metric(metrics) else {
                    continue;
                };
                let mut tags = serde_json::Map::new();
                let mut service = None;
                let mut these_keys = Vec::new();
                for k in &keys {
                    match split_tag(k) {
                        Some((key, value)) => {
                            these_keys.push(key.to_string());
                            if !value.trim().is_empty() {
                                tags.insert(
                                    key.to_string(),
                                    serde_json::Value::String(value.to_string()),
                                );
                            }
                        }
                        None => service = Some(k.clone()),
                    }
                }
                tag_keys.insert(these_keys);
                lines.push(Line {
                    row,
                    period: start.clone(),
                    service,
                    tags: (!tags.is_empty()).then(|| serde_json::Value::Object(tags).to_string()),
                    cost: Some(amount),
                    currency: unit,
                    metric,
                });
            }
        }
    }
    if tag_keys.len() > 1 {
        let keys: Vec<String> = tag_keys.into_iter().map(|k| k.join("+")).collect();
        return Err(Error::Ingest {
            path: path.to_path_buf(),
            message: format!(
                "the responses group the same spend by different tag keys ({}); summing them would count it once per grouping",
                keys.join(", ")
            ),
            hint: Some("save the responses of one GroupBy per file".into()),
        });
    }
    frame(lines, false).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The preferred cost metric of a group: amortised first.
fn pick_metric(metrics: &serde_json::Value) -> Option<(String, String, String)> {
    for m in [
        "AmortizedCost",
        "NetAmortizedCost",
        "UnblendedCost",
        "NetUnblendedCost",
        "BlendedCost",
    ] {
        if let Some(v) = metrics.get(m) {
            let amount = v.get("Amount")?.as_str()?.to_string();
            let unit = v
                .get("Unit")
                .and_then(|u| u.as_str())
                .unwrap_or("USD")
                .to_string();
            return Some((m.to_string(), amount, unit));
        }
    }
    None
}
