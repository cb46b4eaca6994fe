//! Human-readable output. This module: the one-screen summary after `attribute`, the
//! compliance report of `validate`, the texts of `explain`, `estimate` (with what-if and plan
//! vs actual) and `frontier`, and errors as they are printed (`error_text`, `error_json`);
//! `page`: the report of `mlcost report`, with its SVG `charts` and the `numbers` formatting
//! it shares with the summaries. Pure functions from results to text; money is shown
//! with 2 decimals here only (the tables keep every decimal). Columns are aligned with
//! `format!` widths, kept hand-written because these are a few short terminal texts: a value
//! longer than its column pushes the rest of its line right instead of being cut (it stays
//! whole and readable), and control characters are escaped for every line by the binary.

mod charts;
mod numbers;
pub mod page;

use std::fmt::Write;
use std::path::PathBuf;

use crate::ledger::compliance::ComplianceSummary;
use crate::money::Money;
use crate::output::Manifest;

/// Everything the end-of-run summary shows.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct RunSummary {
    #[serde(flatten)]
    pub manifest: Manifest,
    pub out_dir: PathBuf,
    pub compliance: ComplianceSummary,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `12345678` as `12,345,678`.
fn thousands(n: u64) -> String {
    numbers::grouped(&n.to_string())
}

/// A value from an input, safe and short enough for a summary line.
fn shown(s: &str) -> String {
    crate::escape::terminal(s, crate::escape::SUMMARY_WIDTH)
}

/// The summary's account of `--grain day`: days, undated spend, anomalies and the largest.
fn daily_summary(o: &mut String, d: &crate::output::DailyInfo) {
    let undated = match d.undated_rows {
        0 => String::new(),
        n => format!(
            ", {} row(s) without a charge day ({})",
            thousands(n),
            d.undated_cost
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let volumes = match d.volumes.as_str() {
        "day" => "; volumes by day",
        "month" => "; volumes by month only (no daily unit costs)",
        _ => "",
    };
    let _ = writeln!(o, "  daily: {} charge day(s){undated}{volumes}", d.days);
    let _ = writeln!(
        o,
        "  anomalies: {} model-day(s) flagged ({} row(s)): cost or cost per request at least {} x 1.4826 MAD from the median of the model's last {} days, and a change of at least {}",
        d.flagged_days, d.anomalies, d.threshold, d.window_days, d.min_change
    );
    for a in &d.largest {
        let volume = a
            .volume_effect
            .map_or(String::new(), |v| format!(", volume {}", signed(v)));
        let _ = writeln!(
            o,
            "    {} {} {}: {} vs {} {} (cost {}: spend {}{volume})",
            a.charge_date,
            shown(&a.model_id),
            a.metric.replace('_', " "),
            a.value.to_fixed_nonzero(2),
            a.baseline.to_fixed_nonzero(2),
            a.currency,
            signed(a.cost_change),
            signed(a.spend_effect),
        );
    }
}

/// An amount with its sign, two decimals.
fn signed(m: crate::money::Money) -> String {
    match m.0 >= 0 {
        true => format!("+{}", m.to_fixed(2)),
        false => m.to_fixed(2),
    }
}

pub fn attribute_summary(s: &RunSummary) -> String {
    let m = &s.manifest;
    let mut o = String::new();
    let Some(d) = &m.detail else {
        return o;
    };
    let _ = writeln!(
        o,
        "mlcost attribute: {} rows from {} file(s), {} period(s), basis {}",
        thousands(d.rows.read),
        d.inputs.len(),
        d.periods.len(),
        d.cost_basis
    );
    let mut formats: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let mut notes: Vec<&str> = Vec::new();
    for i in &d.inputs {
        let dataset = i
            .dataset
            .map(|d| format!(" {}", d.name()))
            .unwrap_or_default();
        *formats
            .entry(format!("{} {}{dataset}", i.format, i.format_version))
            .or_default() += 1;
        for n in &i.notes {
            if !notes.contains(&n.as_str()) {
                notes.push(n);
            }
        }
    }
    let formats: Vec<String> = formats
        .iter()
        .map(|(f, n)| format!("{f} ({n} file(s))"))
        .collect();
    let _ = writeln!(o, "  formats: {}", formats.join(", "));
    for n in notes {
        let _ = writeln!(o, "  note: {}", crate::escape::terminal(n, 400));
    }
    let _ = writeln!(
        o,
        "  rows: {} counted, {} commitment purchases excluded, {} outside --period, {} quarantined",
        thousands(d.rows.counted),
        thousands(d.rows.excluded_commitment_purchases),
        thousands(d.rows.outside_period),
        thousands(d.rows.quarantined)
    );
    for p in &d.periods {
        let allocated = p
            .allocated_direct
            .ratio(p.cost_read)
            .map(pct)
            .unwrap_or_else(|| "-".into());
        let bases: Vec<String> = p
            .by_basis
            .iter()
            .map(|(b, v)| format!("{b} {}", v.to_fixed(2)))
            .collect();
        let status = d
            .billing_status
            .get(&p.billing_period)
            .map(|s| format!(" [{}]", s.name()))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {} {}{status}: {} {} ({} allocated to models, {} unallocated); by basis: {}",
            p.billing_period,
            p.currency,
            d.cost_basis,
            p.cost_read.to_fixed(2),
            allocated,
            p.unallocated.to_fixed(2),
            bases.join(", ")
        );
    }
    datasets_summary(&mut o, d);
    let _ = writeln!(
        o,
        "  tags: {} of spend carries every required tag ({} of rows)",
        pct(s.compliance.overall_spend_compliant),
        pct(s.compliance.overall_rows_compliant)
    );
    let vr = &d.volume_report;
    if !vr.volumes_given {
        let _ = writeln!(
            o,
            "  volumes: none given; unit costs are null with reason `no volumes`"
        );
    } else {
        let list = |v: Vec<String>| {
            if v.len() > 5 {
                format!("{} and {} more", v[..5].join(", "), v.len() - 5)
            } else {
                v.join(", ")
            }
        };
        if !vr.models_without_volumes.is_empty() {
            let names = vr
                .models_without_volumes
                .iter()
                .map(|(p, m)| format!("{} ({p})", shown(m)))
                .collect();
            let _ = writeln!(
                o,
                "  models with spend but no requests: {} ({})",
                vr.models_without_volumes.len(),
                list(names)
            );
        }
        if !vr.unknown_models.is_empty() {
            let names = vr
                .unknown_models
                .iter()
                .map(|(p, m, _)| format!("{} ({p})", shown(m)))
                .collect();
            let _ = writeln!(
                o,
                "  requests for models without spend: {} ({})",
                vr.unknown_models.len(),
                list(names)
            );
        }
        if !vr.periods_without_billing.is_empty() {
            let _ = writeln!(
                o,
                "  request periods without billing data: {}",
                vr.periods_without_billing.join(", ")
            );
        }
    }
    if let Some(daily) = &d.daily {
        daily_summary(&mut o, daily);
    }
    match &d.reconciliation {
        Some(r) => {
            let days = match r.days_checked {
                0 => String::new(),
                n => format!(", and {n} day/currency total(s) of the daily tables"),
            };
            let _ = writeln!(
                o,
                "  reconciliation: {} ({} period/currency total(s){days} match exactly)",
                if r.ok { "ok" } else { "FAILED" },
                r.checked
            );
        }
        None => {
            let _ = writeln!(o, "  reconciliation: not run (nothing was written)");
        }
    }
    let out = shown(&s.out_dir.display().to_string());
    let unusable = d.volumes.as_ref().map_or(0, |v| v.unusable_rows);
    if m.status == crate::output::RunStatus::Published {
        let partitions = d
            .outputs
            .iter()
            .filter(|f| f.ends_with(crate::output::PART_FILE))
            .count();
        let _ = writeln!(
            o,
            "  wrote {out} ({partitions} table partition(s) with _manifest.json and _SUCCESS, quarantine/, manifest.json); run {}",
            m.run_id
        );
        if d.rows.quarantined > 0 || unusable > 0 {
            let _ = writeln!(
                o,
                "  warning: {} billing row(s) quarantined, {} request or revenue row(s) unusable; see {out}/quarantine/",
                thousands(d.rows.quarantined),
                thousands(unusable)
            );
        }
    } else {
        let _ = writeln!(
            o,
            "  nothing was published under {out}; manifest.json records run {} as {}",
            m.run_id,
            serde_json::to_value(m.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
    }
    o
}

/// The lines of the FOCUS datasets besides Cost and Usage: invoices reconciled, commitments used.
fn datasets_summary(o: &mut String, d: &crate::output::RunDetail) {
    use crate::ledger::datasets::InvoiceResult;
    if !d.invoices.is_empty() {
        let count = |r: InvoiceResult| d.invoices.iter().filter(|i| i.result == r).count();
        let others: Vec<String> = [
            InvoiceResult::WithinTolerance,
            InvoiceResult::Mismatch,
            InvoiceResult::Open,
            InvoiceResult::NotChecked,
        ]
        .into_iter()
        .filter(|r| count(*r) > 0)
        .map(|r| format!("{} {}", count(r), r.name().replace('_', " ")))
        .collect();
        let others = match others.is_empty() {
            true => String::new(),
            false => format!(" ({})", others.join(", ")),
        };
        let _ = writeln!(
            o,
            "  invoices: {} of {} match FOCUS Invoice Detail exactly{others}; compared: BilledCost of the export's rows other than tax",
            count(InvoiceResult::Match),
            d.invoices.len()
        );
        for i in d
            .invoices
            .iter()
            .filter(|i| i.result != InvoiceResult::Match)
        {
            let level = match i.result {
                InvoiceResult::Mismatch => "warning",
                _ => "note",
            };
            let _ = writeln!(
                o,
                "  {level}: {}",
                crate::escape::terminal(&crate::ledger::datasets::finding(i), 400)
            );
        }
        for i in d.invoices.iter().filter(|i| i.quarantined_rows > 0) {
            let _ = writeln!(
                o,
                "  note: invoice `{}` {}: {} of its row(s), billed {}, are quarantined: in the invoice sum, not in the published tables",
                crate::escape::terminal(&i.invoice_id, 80),
                i.billing_period,
                thousands(i.quarantined_rows),
                i.quarantined_billed
            );
        }
        if d.invoice_rows_left_out > 0 {
            let _ = writeln!(
                o,
                "  warning: {} Cost and Usage row(s) have no readable BilledCost, period or currency: left out of the invoice sums",
                thousands(d.invoice_rows_left_out)
            );
        }
    }
    for c in &d.commitments {
        let amount = |m: Option<crate::money::Money>| m.map_or("-".to_string(), |m| m.to_fixed(2));
        let usage = crate::ledger::datasets::is_usage(c.category.as_deref());
        let (applied, share) = match usage {
            true => (c.applied_quantity.to_fixed(2), amount(c.month_quantity)),
            false => (c.applied_cost.to_fixed(2), amount(c.month_cost)),
        };
        let unit = match usage {
            true => format!(" {}", c.unit.as_deref().unwrap_or("units")),
            false => String::new(),
        };
        let used = c
            .used_pct
            .map_or_else(|| "-".to_string(), |p| format!("{}%", p.to_fixed(1)));
        let mut listed = match c.in_contract_commitment {
            true => String::new(),
            false => format!(
                " (in {}: not a commitment of the Contract Commitment dataset in that currency)",
                c.currency.as_deref().unwrap_or("?")
            ),
        };
        for (what, m) in [
            ("unused portion", c.unused_cost),
            ("purchase", c.purchase_cost),
        ] {
            if !m.is_zero() {
                listed.push_str(&format!("; {what} {}", m.to_fixed(2)));
            }
        }
        let _ = writeln!(
            o,
            "  commitment {} {} ({}): applied {applied}{unit} of the month's {share}{unit} ({used} used){listed}",
            crate::escape::terminal(&c.commitment_id, 80),
            c.billing_period,
            c.category.as_deref().unwrap_or("?"),
        );
    }
    if d.unreadable_contract_applied > 0 {
        let _ = writeln!(
            o,
            "  warning: {} Cost and Usage row(s) have a ContractApplied that is not the FOCUS JSON ({{\"Elements\":[...]}}): their commitment use is not counted",
            thousands(d.unreadable_contract_applied)
        );
    }
    for r in &d.restatements {
        let given = d
            .inputs
            .iter()
            .any(|i| i.dataset == Some(crate::ingest::Dataset::BillingPeriod));
        let name =
            |s: Option<crate::ledger::datasets::BillingStatus>, now: bool| match (s, now, given) {
                (Some(s), _, _) => s.name(),
                (None, false, _) => "status unknown",
                (None, true, true) => "status unknown (no Billing Period row for the month)",
                (None, true, false) => "status unknown (no Billing Period dataset)",
            };
        let status = match (r.status_before, r.status_after) {
            (b, a) if b != a => format!("; {} -> {}", name(b, false), name(a, true)),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "  restated {} {}: {} -> {}{status}{}",
            r.billing_period,
            r.currency,
            r.cost_before,
            r.cost_after,
            if r.final_restatement {
                " (the final restatement)"
            } else {
                ""
            }
        );
        if r.reopened {
            let _ = writeln!(
                o,
                "  warning: {} was final and is open again: the provider reopened the billing period",
                r.billing_period
            );
        }
    }
    if !d.commitments.is_empty() {
        for p in &d.periods {
            let _ = writeln!(
                o,
                "  {} {}: unused commitment bucket {}",
                p.billing_period,
                p.currency,
                p.unused_commitment.to_fixed(2)
            );
        }
    }
}

pub fn validate_text(c: &ComplianceSummary, threshold: Option<f64>) -> String {
    let mut o = String::new();
    let spend: Vec<String> = c
        .spend
        .iter()
        .map(|(cur, m)| format!("{} {cur}", m.to_fixed(2)))
        .collect();
    let _ = writeln!(
        o,
        "Tag compliance: {} rows, spend {}",
        thousands(c.rows),
        spend.join(", ")
    );
    let _ = writeln!(
        o,
        "  all required tags: {} of spend, {} of rows{}",
        pct(c.overall_spend_compliant),
        pct(c.overall_rows_compliant),
        threshold
            .map(|t| format!(" (threshold {})", pct(t)))
            .unwrap_or_default()
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  {:<20} {:>8} {:>8} {:>18} {:>10}",
        "key", "spend", "rows", "cost missing", "currency"
    );
    for k in &c.keys {
        let _ = writeln!(
            o,
            "  {:<20} {:>8} {:>8} {:>18} {:>10}",
            k.key,
            pct(k.spend_compliant),
            pct(k.rows_compliant),
            k.cost_noncompliant.to_fixed(2),
            k.currency
        );
    }
    let offenders = |o: &mut String, title: &str, list: &[crate::ledger::compliance::Offender]| {
        if list.is_empty() {
            return;
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "  {title}");
        for x in list {
            let _ = writeln!(
                o,
                "    {:<48} {:>14} {}  {}",
                truncate(&x.id, 48),
                x.cost_noncompliant.to_fixed(2),
                x.currency,
                x.problems.join(", ")
            );
        }
    };
    offenders(&mut o, "top non-compliant resources", &c.top_resources);
    offenders(&mut o, "top non-compliant accounts", &c.top_accounts);
    o
}

/// Phase -> (cost, share of the pool it came from).
type PhaseCosts = std::collections::BTreeMap<String, (Money, Option<Money>)>;

/// How one model's cost in one period was built, from its `cost_by_model` rows.
/// Sorts (key, item) pairs by the size of the item's amount, largest first, ties by key: the
/// order of every "largest values" list the report and `explain` print.
pub(crate) fn largest_first<K: Ord, T>(list: &mut [(K, T)], amount: impl Fn(&T) -> Money) {
    list.sort_by(|a, b| {
        amount(&b.1)
            .0
            .abs()
            .cmp(&amount(&a.1).0.abs())
            .then(a.0.cmp(&b.0))
    });
}

/// What drives a model's cost, per dimension of `cost_by_dimension` and currency: its `top`
/// values by cost (largest magnitude first), the rest summed, and the total.
pub fn explain_dimensions_text(
    rows: &[crate::allocate::dimensions::DimensionRow],
    top: u32,
) -> String {
    use std::collections::BTreeMap;
    let mut o = String::new();
    // (currency, dimension) -> value -> cost
    let mut by: BTreeMap<(&str, &str), BTreeMap<Option<&str>, Money>> = BTreeMap::new();
    for r in rows {
        *by.entry((r.currency.as_str(), r.dimension.as_str()))
            .or_default()
            .entry(r.value.as_deref())
            .or_default() += r.cost;
    }
    for ((currency, dimension), values) in by {
        let _ = writeln!(o, "by {} ({})", shown(dimension), shown(currency));
        let total: Money = values.values().copied().sum();
        let mut sorted: Vec<(Option<&str>, Money)> = values.into_iter().collect();
        largest_first(&mut sorted, |c| *c);
        let rest = sorted.split_off(sorted.len().min(top as usize));
        let mut lines: Vec<(String, String)> = sorted
            .into_iter()
            .map(|(v, c)| {
                (
                    format!("  {}", v.map_or("(no value)".to_string(), shown)),
                    c.to_string(),
                )
            })
            .collect();
        if !rest.is_empty() {
            let sum: Money = rest.iter().map(|(_, c)| *c).sum();
            let n = rest.len();
            let noun = if n == 1 { "value" } else { "values" };
            lines.push((format!("  {n} more {noun}"), sum.to_string()));
        }
        lines.push(("  total".to_string(), total.to_string()));
        let width = lines.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
        let amount_width = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);
        for (label, amount) in lines {
            let _ = writeln!(o, "{label:<width$}  {amount:>amount_width$}");
        }
    }
    o
}

pub fn explain_text(
    model: &str,
    period: &str,
    basis: &str,
    rows: &[crate::allocate::CostByModelRow],
) -> String {
    use std::collections::BTreeMap;
    let mut o = String::new();
    let mut currencies: Vec<&str> = rows.iter().map(|r| r.currency.as_str()).collect();
    currencies.dedup();
    for currency in currencies {
        let _ = writeln!(
            o,
            "{} in {period} ({}), cost basis {basis}",
            shown(model),
            shown(currency)
        );
        // (method, rule, pool) -> phase -> (cost, share)
        let mut parts: BTreeMap<(String, Option<String>, Option<String>), PhaseCosts> =
            BTreeMap::new();
        let mut total = Money::ZERO;
        for r in rows.iter().filter(|r| r.currency == currency) {
            let e = parts
                .entry((
                    r.allocation_method.clone(),
                    r.rule_id.clone(),
                    r.source_pool.clone(),
                ))
                .or_default()
                .entry(r.lifecycle_phase.clone())
                .or_default();
            e.0 += r.cost;
            e.1 = r.share;
            total += r.cost;
        }
        let mut lines: Vec<(String, String)> = Vec::new();
        for ((method, rule, pool), phases) in &parts {
            let sum: Money = phases.values().map(|p| p.0).sum();
            let mut label = shown(method);
            if let (Some(rule), false) = (rule, method.starts_with("rule:")) {
                label.push_str(&format!(" (tags completed by rule:{})", shown(rule)));
            }
            if let Some(pool) = pool {
                if let Some(share) = phases.values().find_map(|p| p.1) {
                    let share = share.to_fixed(6);
                    label.push_str(&format!(" (share {share} of pool {})", shown(pool)));
                }
            }
            lines.push((format!("  {label}"), sum.to_string()));
            for (phase, (cost, _)) in phases {
                lines.push((format!("    {}", shown(phase)), cost.to_string()));
            }
        }
        lines.push(("  total".to_string(), total.to_string()));
        let width = lines.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
        let amount_width = lines.iter().map(|l| l.1.len()).max().unwrap_or(0);
        for (label, amount) in lines {
            let _ = writeln!(o, "{label:<width$}  {amount:>amount_width$}");
        }
    }
    o
}

/// The estimate as a table per model.
pub fn estimate_text(e: &crate::estimate::Estimate) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Estimate: catalog {} {}, prices as of {}, {}",
        e.provider, e.region, e.prices_as_of, e.currency
    );
    for s in &e.stale_prices {
        let _ = writeln!(o, "Stale prices: {s}.");
    }
    for m in &e.models {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", shown(&m.name));
        let _ = writeln!(
            o,
            "  {:<17} {:<22} {:<13} {:>8} {:>16} {:>14} {:>14}",
            "category", "resource", "pricing", "discount", "rate", "quantity", "monthly"
        );
        for c in &m.categories {
            let _ = writeln!(
                o,
                "  {:<17} {:<22} {:<13} {:>8} {:>16} {:>14} {:>14}",
                c.category,
                c.resource,
                c.pricing.map_or("-", |p| p.name()),
                c.discount.map_or("-".to_string(), |d| format!(
                    "{}%",
                    Money(d.0 * 100).to_fixed(0)
                )),
                format!("{}/{}", c.rate, c.unit),
                c.quantity.to_string(),
                c.monthly.to_fixed(2)
            );
        }
        let _ = writeln!(o, "  {:<17} {:>92}", "total monthly", m.monthly.to_fixed(2));
        let _ = writeln!(o, "  {:<17} {:>92}", "annual", m.annual.to_fixed(2));
        if let (Some(r), Some(per), Some(per_k)) = (
            m.requests_per_month,
            m.cost_per_request,
            m.cost_per_1000_requests,
        ) {
            let _ = writeln!(
                o,
                "  {} requests a month: {} per request, {} per 1,000 requests",
                thousands((r.0 / crate::money::ONE) as u64),
                per.to_fixed(9),
                per_k.to_fixed(6)
            );
        }
        if let (Some(t), Some(per_m)) = (m.tokens_per_month, m.cost_per_1m_tokens) {
            let _ = writeln!(
                o,
                "  {} tokens a month: {} per 1M tokens",
                t,
                per_m.to_fixed(6)
            );
        }
    }
    o
}

/// The difference an override makes, per model and category.
pub fn compare_text(
    base: &crate::estimate::Estimate,
    alt: &crate::estimate::Estimate,
    overrides: &[String],
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "What if {}:", overrides.join(", "));
    for s in alt
        .stale_prices
        .iter()
        .filter(|s| !base.stale_prices.contains(s))
    {
        let _ = writeln!(o, "  Stale prices: {s}.");
    }
    for (b, a) in base.models.iter().zip(&alt.models) {
        let _ = writeln!(o, "  {}", shown(&b.name));
        let _ = writeln!(
            o,
            "    {:<17} {:>14} {:>14} {:>14} {:>8}",
            "category", "base", "what-if", "change", "change"
        );
        let mut cats: Vec<&str> = b.categories.iter().map(|c| c.category).collect();
        for c in &a.categories {
            if !cats.contains(&c.category) {
                cats.push(c.category);
            }
        }
        let cost = |m: &crate::estimate::ModelEstimate, c: &str| {
            m.categories
                .iter()
                .find(|x| x.category == c)
                .map_or(Money::ZERO, |x| x.monthly)
        };
        let row = |o: &mut String, name: &str, x: Money, y: Money| {
            let pct = (y - x)
                .ratio(x)
                .map_or("-".to_string(), |r| format!("{:+.1}%", r * 100.0));
            let _ = writeln!(
                o,
                "    {:<17} {:>14} {:>14} {:>14} {:>8}",
                name,
                x.to_fixed(2),
                y.to_fixed(2),
                (y - x).to_fixed(2),
                pct
            );
        };
        for c in cats {
            row(&mut o, c, cost(b, c), cost(a, c));
        }
        row(&mut o, "total monthly", b.monthly, a.monthly);
        if let (Some(x), Some(y)) = (b.cost_per_1000_requests, a.cost_per_1000_requests) {
            let _ = writeln!(
                o,
                "    cost per 1,000 requests: {} -> {}",
                x.to_fixed(6),
                y.to_fixed(6)
            );
        }
        if let (Some(x), Some(y)) = (b.cost_per_1m_tokens, a.cost_per_1m_tokens) {
            let _ = writeln!(
                o,
                "    cost per 1M tokens: {} -> {}",
                x.to_fixed(6),
                y.to_fixed(6)
            );
        }
    }
    o
}

/// Plan against actual, biggest gaps first.
pub fn plan_vs_actual_text(
    period: &str,
    rows: &[crate::estimate::PlanVsActual],
    currency: &str,
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Plan vs actual, {period} ({currency}), biggest gaps first:"
    );
    let _ = writeln!(
        o,
        "  {:<20} {:<17} {:>14} {:>14} {:>14}",
        "model", "category", "planned", "actual", "gap"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "  {:<20} {:<17} {:>14} {:>14} {:>14}",
            shown(&r.model),
            r.category,
            r.planned.to_fixed(2),
            r.actual.map_or("no data".to_string(), |a| a.to_fixed(2)),
            r.gap.map_or("-".to_string(), |g| g.to_fixed(2))
        );
        if let Some(n) = &r.note {
            let _ = writeln!(o, "    note: {}", crate::escape::terminal(n, 400));
        }
    }
    o
}

/// The frontier table, cheapest first.
pub fn frontier_text(cands: &[crate::estimate::Candidate]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  {:<20} {:>9} {:>14} {:<10} {:>18}",
        "candidate", "accuracy", "monthly cost", "frontier", "cost per point"
    );
    for c in cands {
        let _ = writeln!(
            o,
            "  {:<20} {:>9} {:>14} {:<10} {:>18}",
            shown(&c.name),
            c.accuracy,
            c.monthly_cost.to_fixed(2),
            if c.optimal {
                "yes".to_string()
            } else {
                format!("no: {}", shown(c.dominated_by.as_deref().unwrap_or("-")))
            },
            c.marginal_cost_per_point
                .map_or("-".to_string(), |m| m.to_fixed(2))
        );
    }
    o
}

/// The one JSON object `--json` prints when a command fails (exit 1 or 2); documented by
/// `schemas/error.schema.json`.
pub fn error_json(err: &crate::error::Error) -> String {
    let report = ErrorReport {
        status: err.status().into(),
        exit_code: err.status().code(),
        error: crate::output::ErrorInfo::from_error(err),
    };
    // a struct of strings and integers always serialises
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// What `--json` prints when a command fails.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorReport {
    pub status: crate::output::RunStatus,
    pub exit_code: u8,
    pub error: crate::output::ErrorInfo,
}

/// The JSON Schemas of what mlcost prints and writes as JSON: (file name under `schemas/`,
/// schema text). A test keeps `schemas/` equal to them.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    let text = |s: schemars::Schema| serde_json::to_string_pretty(&s).unwrap_or_default() + "\n";
    vec![
        (
            "attribute-json.schema.json",
            text(schemars::schema_for!(RunSummary)),
        ),
        (
            "manifest.schema.json",
            text(schemars::schema_for!(crate::output::Manifest)),
        ),
        (
            "partition-manifest.schema.json",
            text(schemars::schema_for!(crate::output::PartitionManifest)),
        ),
        (
            "error.schema.json",
            text(schemars::schema_for!(ErrorReport)),
        ),
    ]
}

/// An error as the user sees it: `error: ...`, one `Caused by:` line per source, a hint.
pub fn error_text(err: &crate::error::Error) -> String {
    let mut o = format!("error: {err}\n");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let _ = writeln!(o, "  Caused by: {s}");
        source = s.source();
    }
    if let Some(h) = err.hint() {
        let _ = writeln!(o, "\nhint: {h}");
    }
    o
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12345678), "12,345,678");
    }
}
