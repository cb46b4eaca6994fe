//! The report people read: one self-contained HTML page (inline SVG charts from `charts`,
//! inline CSS with a print stylesheet, and two small inline scripts: one sorts tables, one
//! records layout checks in the page for the browser test; nothing loaded from the network),
//! or the same story and tables as Markdown for a review doc. It opens with the story of the
//! latest month (totals, allocation, change against the month before, top models, models over
//! target), then one section per question; sections without data collapse to one line saying
//! how to turn them on. Built from the tables `attribute` (and `hidden`) wrote; pure text
//! generation, no I/O. The markup is written with `format!` on purpose: every value goes
//! through `escape::html` (one place to review), and a template engine would add a proc-macro
//! build for little markup.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::charts::{self, Bar};
use super::numbers::{amount, change, count, money, percent};
use crate::allocate::CostByModelRow;
use crate::economics::{HiddenRow, UnitCostRow};
use crate::money::Money;
use crate::schema::{is_model, PHASE_COLUMNS, UNALLOCATED, UNUSED_COMMITMENT};
use crate::trend::TrendRow;

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct ReportData {
    pub title: String,
    /// The months the report covers, oldest first (all of the output, or `--period`).
    pub periods: Vec<String>,
    /// `unit_costs` rows of those months.
    pub unit_costs: Vec<UnitCostRow>,
    /// `cost_by_model` rows of those months.
    pub allocation: Vec<CostByModelRow>,
    /// The cost basis the output was written on.
    pub cost_basis: String,
    /// (problem, currency) -> cost, latest month.
    pub compliance: BTreeMap<(String, String), Money>,
    /// hidden_costs rows of the latest month, if `mlcost hidden` ran.
    pub hidden: Vec<HiddenRow>,
    /// unit_costs_by_unit rows of the latest month, when the volumes gave units.
    pub by_unit: Vec<crate::economics::UnitVolumeCost>,
    /// cost_by_dimension rows of the latest month, when `[output] dimensions` listed any.
    pub by_dimension: Vec<crate::allocate::dimensions::DimensionRow>,
    /// anomalies rows of the latest month, when it was attributed with `--grain day`.
    pub anomalies: Vec<crate::daily::anomalies::Anomaly>,
    /// training_amortization rows of the latest month, when `[amortize]` spreads training.
    pub amortization: Vec<crate::allocate::amortize::AmortizationRow>,
    /// The latest month's partition manifest: billing status, invoices, commitments.
    pub bill: Option<crate::output::PartitionManifest>,
    /// Month-over-month change per model, over the months of the report.
    pub trend: Vec<TrendRow>,
}

impl ReportData {
    fn latest(&self) -> &str {
        self.periods.last().map_or("-", String::as_str)
    }

    fn previous(&self) -> Option<&str> {
        self.periods.iter().rev().nth(1).map(String::as_str)
    }

    fn units_of(&self, period: &str) -> Vec<&UnitCostRow> {
        self.unit_costs
            .iter()
            .filter(|r| r.period == period)
            .collect()
    }
}

/// Rows shown before "show all".
const TOP: usize = 15;

fn esc(s: &str) -> String {
    crate::escape::html(s)
}

fn num(m: Money) -> f64 {
    m.to_fixed(9).parse().unwrap_or(0.0)
}

/// What one month adds up to in one currency.
#[derive(Default, Clone, Copy)]
struct MonthTotal {
    spend: Money,
    models: Money,
    unallocated: Money,
    unused: Money,
    /// Training deferred by `[amortize]` (negative: earlier training charged this month).
    deferred: Money,
    /// Spend and requests of the models with requests (for an overall cost per 1,000).
    served_spend: Money,
    requests: i64,
}

impl MonthTotal {
    fn per_1000(&self) -> Option<Money> {
        (self.requests > 0)
            .then(|| {
                self.served_spend
                    .mul_int_div(1000, i128::from(self.requests))
            })
            .flatten()
    }
}

fn month_totals(d: &ReportData) -> BTreeMap<(String, String), MonthTotal> {
    let mut out: BTreeMap<(String, String), MonthTotal> = BTreeMap::new();
    for r in &d.allocation {
        let t = out
            .entry((r.period.clone(), r.currency.clone()))
            .or_default();
        t.spend += r.cost;
        match r.model_id.as_str() {
            UNALLOCATED => t.unallocated += r.cost,
            UNUSED_COMMITMENT => t.unused += r.cost,
            crate::allocate::amortize::DEFERRED_TRAINING => t.deferred += r.cost,
            m if is_model(m) => t.models += r.cost,
            _ => {}
        }
    }
    for r in d.unit_costs.iter().filter(|r| is_model(&r.model_id)) {
        if let Some(v) = r.requests.filter(|v| *v > 0) {
            let t = out
                .entry((r.period.clone(), r.currency.clone()))
                .or_default();
            t.served_spend += r.total_cost;
            t.requests += v;
        }
    }
    out
}

/// The story of the latest month: one sentence per finding, generated from the numbers.
fn story(d: &ReportData) -> Vec<String> {
    let (latest, previous) = (d.latest(), d.previous());
    let totals = month_totals(d);
    let mut out = Vec::new();
    let currencies: BTreeSet<&String> = totals
        .keys()
        .filter(|(p, _)| p == latest)
        .map(|(_, c)| c)
        .collect();
    if currencies.is_empty() {
        out.push(format!("No spend was published for {latest}."));
    }
    for c in currencies {
        let t = totals[&(latest.to_string(), c.clone())];
        out.push(format!(
            "In {latest}, {} was spent ({} cost basis); {} of it ({}) is attributed to models.",
            money(t.spend, c),
            d.cost_basis,
            money(t.models, c),
            percent(t.models, t.spend)
        ));
        let mut rest = vec![format!(
            "{} is unallocated (no model_id after the rules)",
            money(t.unallocated, c)
        )];
        if !t.unused.is_zero() {
            rest.push(format!("{} is unused commitment", money(t.unused, c)));
        }
        // why models can take more (or less) than the month's spend
        match t.deferred.0.signum() {
            1 => rest.push(format!(
                "{} of this month's training is deferred to later months ([amortize])",
                money(t.deferred, c)
            )),
            -1 => rest.push(format!(
                "{} of earlier months' training is charged to models this month ([amortize])",
                money(Money(-t.deferred.0), c)
            )),
            _ => {}
        }
        let idle: Money = d
            .hidden
            .iter()
            .filter(|h| &h.currency == c)
            .filter_map(|h| h.costs.idle_capacity)
            .sum();
        if !idle.is_zero() {
            let assumed = d.hidden.iter().any(|h| {
                &h.currency == c
                    && h.costs.idle_capacity.is_some()
                    && h.assumed
                        .as_deref()
                        .is_some_and(|a| a.contains("utilization"))
            });
            rest.push(format!(
                "idle capacity is estimated at {} more (mlcost hidden{})",
                money(idle, c),
                if assumed {
                    ", partly from an assumed utilisation"
                } else {
                    ""
                }
            ));
        }
        out.push(format!("{}.", capitalise(&rest.join("; "))));
        if let Some(p) = previous {
            if let Some(before) = totals.get(&(p.to_string(), c.clone())) {
                out.push(change_sentence(p, before, &t, c));
                // a month with a tenth of the spend of the one before is probably partial
                if before.spend.0 > 0 && t.spend.0.abs() * 10 < before.spend.0 {
                    out.push(format!(
                        "{latest} holds less than a tenth of {p}'s spend: it may be incomplete (a partial export or a few late rows); `mlcost report --period {p}` tells {p}'s story."
                    ));
                }
            }
        }
        let units: Vec<&UnitCostRow> = d
            .units_of(latest)
            .into_iter()
            .filter(|r| &r.currency == c && is_model(&r.model_id))
            .collect();
        let mut by_spend: Vec<&UnitCostRow> = units
            .iter()
            .copied()
            .filter(|r| r.total_cost.0 > 0)
            .collect();
        by_spend.sort_by(|a, b| {
            b.total_cost
                .cmp(&a.total_cost)
                .then(a.model_id.cmp(&b.model_id))
        });
        if !by_spend.is_empty() {
            let top: Vec<String> = by_spend
                .iter()
                .take(5)
                .map(|r| format!("{} ({})", name(&r.model_id), money(r.total_cost, c)))
                .collect();
            let share: Money = by_spend.iter().take(5).map(|r| r.total_cost).sum();
            let of_month = match t.spend.0 > 0 {
                true => format!(": {} of the month", percent(share, t.spend)),
                false => String::new(),
            };
            out.push(match top.len() {
                1 => format!("The model with the most spend is {}{of_month}.", top[0]),
                n => format!(
                    "The top {n} models by spend are {}{of_month}.",
                    top.join(", ")
                ),
            });
        }
        let mut by_unit: Vec<&&UnitCostRow> = units
            .iter()
            .filter(|r| r.cost_per_1000_requests.is_some_and(|v| v.0 > 0))
            .collect();
        by_unit.sort_by(|a, b| {
            b.cost_per_1000_requests
                .cmp(&a.cost_per_1000_requests)
                .then(a.model_id.cmp(&b.model_id))
        });
        if by_unit.is_empty() {
            out.push("No model has request volumes, so there is no cost per request (give `--requests` to `mlcost attribute`).".into());
        } else {
            let top: Vec<String> = by_unit
                .iter()
                .take(5)
                .map(|r| {
                    format!(
                        "{} ({})",
                        name(&r.model_id),
                        money(r.cost_per_1000_requests.unwrap_or_default(), c)
                    )
                })
                .collect();
            out.push(match top.len() {
                1 => format!(
                    "The only model with requests costs {} per 1,000 requests.",
                    top[0]
                ),
                _ => format!(
                    "The most expensive per 1,000 requests are {}.",
                    top.join(", ")
                ),
            });
        }
        let over: Vec<&str> = units
            .iter()
            .filter(|r| r.verdict == "over_target")
            .map(|r| r.model_id.as_str())
            .collect();
        let with_target = units.iter().filter(|r| r.verdict != "no_target").count();
        out.push(match (with_target, over.len()) {
            (0, _) => {
                "No model has a target ([targets] in the config), so none is judged good or bad."
                    .into()
            }
            (n, 0) => format!("All {n} models with a target are within it."),
            (1, 1) => format!(
                "The one model with a target is over it: {}.",
                list(&over, 8)
            ),
            (n, k) => format!(
                "{k} of the {n} models with a target are over it: {}.",
                list(&over, 8)
            ),
        });
    }
    if let Some(s) = d.bill.as_ref().and_then(|b| b.billing_status) {
        out.push(match s {
            crate::ledger::datasets::BillingStatus::Provisional => format!("{latest} is provisional: the provider's billing period is still open, so these figures may change."),
            crate::ledger::datasets::BillingStatus::Final => format!("{latest} is final: the provider closed the billing period."),
        });
    }
    out
}

/// What a chart says when the models are in several currencies: it shows one of them.
fn one_currency(models: &[&UnitCostRow], shown: &str) -> String {
    match models.iter().any(|r| r.currency != shown) {
        true => format!(" The chart shows {shown} only (amounts in other currencies are not comparable); the table lists every currency."),
        false => String::new(),
    }
}

/// A percentage with its sign: `+3.2%`, `-1.0%`.
fn signed(p: String) -> String {
    match p.starts_with(['-', 'j']) || p == "-" {
        true => p,
        false => format!("+{p}"),
    }
}

/// `1 model`, `15 models`.
fn models_count(n: usize) -> String {
    match n {
        1 => "1 model".to_string(),
        n => format!("{n} models"),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn list(items: &[&str], max: usize) -> String {
    let names: Vec<String> = items.iter().take(max).map(|i| name(i)).collect();
    match items.len() > max {
        true => format!("{} and {} more", names.join(", "), items.len() - max),
        false => names.join(", "),
    }
}

/// A name from the data inside a sentence, isolated (Unicode FSI ... PDI) so a right-to-left
/// name cannot reorder the text around it; the Markdown export also escapes it.
fn name(s: &str) -> String {
    // bidi controls inside the name could still reach past the isolate once a renderer
    // decodes them: dropped
    let clean: String = s
        .chars()
        .filter(|c| !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}'))
        .collect();
    format!("\u{2068}{clean}\u{2069}")
}

/// Markdown text with the names `name` isolated escaped, so a model id cannot become a link or
/// emphasis in the review doc.
fn md_sentence(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('\u{2068}') {
        out.push_str(&crate::escape::markdown_text(&rest[..start]));
        let after = &rest[start + '\u{2068}'.len_utf8()..];
        let end = after.find('\u{2069}').unwrap_or(after.len());
        out.push('\u{2068}');
        out.push_str(&md_literal(&after[..end]));
        out.push('\u{2069}');
        rest = after.get(end + '\u{2069}'.len_utf8()..).unwrap_or("");
    }
    out.push_str(&crate::escape::markdown_text(rest));
    out
}

/// Text from the data as literal Markdown: emphasis, code and link characters escaped.
fn md_literal(s: &str) -> String {
    crate::escape::markdown_cell(s)
}

/// Spend against the month before, and cost per 1,000 requests split exactly into a spend
/// effect ((S1 - S0) / V0) and a volume effect (S1 / V1 - S1 / V0).
fn change_sentence(previous: &str, before: &MonthTotal, now: &MonthTotal, c: &str) -> String {
    let delta = now.spend - before.spend;
    let mut s = format!(
        "Against {previous}, spend changed by {} ({}).",
        change(delta, c),
        match before.spend.is_zero() {
            true => "new".to_string(),
            // against the size of the month before (a month of credits is negative)
            false => signed(percent(delta, Money(before.spend.0.abs()))),
        }
    );
    if let (Some(k0), Some(k1)) = (before.per_1000(), now.per_1000()) {
        let spend_effect =
            (now.served_spend - before.served_spend).mul_int_div(1000, i128::from(before.requests));
        let volume_effect = spend_effect.map(|e| k1 - k0 - e);
        if let (Some(se), Some(ve)) = (spend_effect, volume_effect) {
            let volume = signed(percent(
                Money(i128::from(now.requests - before.requests)),
                Money(i128::from(before.requests)),
            ));
            let _ = write!(
                s,
                " Cost per 1,000 requests went from {} to {}: {} from spend and {} from volume (requests {volume}).",
                money(k0, c),
                money(k1, c),
                change(se, c),
                change(ve, c)
            );
        }
    }
    s
}

/// A table: (header shown, column name) and rows of cells (already text). Long tables show the
/// first `TOP` rows and the rest behind "show all".
struct Table {
    head: Vec<(String, String)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[(&str, &str)], rows: Vec<Vec<String>>) -> Table {
        Table {
            head: head
                .iter()
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect(),
            rows,
        }
    }

    /// The table with every row; rows past `TOP` carry `extra` (hidden until "show all").
    fn html_rows(&self) -> String {
        let rows = &self.rows;
        let top = match rows.len() > TOP {
            true => format!(" data-top=\"{TOP}\""),
            false => String::new(),
        };
        let mut s = format!("<div class=\"scroll\"><table class=\"sortable\"{top}><thead><tr>");
        // a column of figures is right-aligned, header included
        let numeric: Vec<bool> = (0..self.head.len())
            .map(|i| {
                rows.first()
                    .and_then(|r| r.get(i))
                    .is_some_and(|c| figure(c))
            })
            .collect();
        let class = |i: usize| match numeric.get(i) {
            Some(true) => " class=\"n\"",
            _ => "",
        };
        for (i, (h, c)) in self.head.iter().enumerate() {
            let _ = write!(s, "<th title=\"{}\"{}>{}</th>", esc(c), class(i), esc(h));
        }
        s.push_str("</tr></thead><tbody>");
        for (k, r) in rows.iter().enumerate() {
            s.push_str(if k >= TOP {
                "<tr class=\"extra\">"
            } else {
                "<tr>"
            });
            for (i, c) in r.iter().enumerate() {
                let _ = write!(s, "<td{}>{}</td>", class(i), esc(c));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
        s
    }

    /// One table; past `TOP` rows, a "show all" switch (a checkbox and CSS, no script) and,
    /// in print, how many rows are left out. Sorting sorts every row, then shows the first
    /// `TOP` of the new order.
    fn html(&self, id: &str) -> String {
        if self.rows.len() <= TOP {
            return self.html_rows();
        }
        format!(
            "<input type=\"checkbox\" id=\"all-{id}\" class=\"toggle\"><label for=\"all-{id}\">Show all {} rows</label>{}<p class=\"more\">… and {} more rows in the HTML page (show all).</p>",
            self.rows.len(),
            self.html_rows(),
            self.rows.len() - TOP
        )
    }

    fn markdown(&self) -> String {
        let cell = |c: &str| crate::escape::markdown_cell(c);
        let head: Vec<String> = self.head.iter().map(|(h, _)| cell(h)).collect();
        let mut s = format!(
            "| {} |\n|{}|\n",
            head.join(" | "),
            self.head
                .iter()
                .map(|_| "---")
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in self.rows.iter().take(TOP) {
            let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        if self.rows.len() > TOP {
            let _ = writeln!(
                s,
                "\n… and {} more rows (the HTML report shows all).",
                self.rows.len() - TOP
            );
        }
        let names: Vec<String> = self
            .head
            .iter()
            .map(|(_, c)| format!("`{}`", crate::escape::markdown_text(c)))
            .collect();
        let _ = writeln!(s, "\nColumns: {}.", names.join(", "));
        s
    }
}

/// Whether a cell is a figure (a number, an amount, a change or a dash for none).
fn figure(cell: &str) -> bool {
    let t = cell.trim_start_matches(['+', '-']);
    let month = t.len() == 7 && t.as_bytes()[4] == b'-';
    !month
        && (t.is_empty()
            || t.starts_with(|c: char| c.is_ascii_digit() || "$€£¥₹".contains(c))
            || (t.len() > 4
                && t.as_bytes()[3] == b' '
                && t[..3].chars().all(|c| c.is_ascii_uppercase())
                && t[4..].starts_with(|c: char| c.is_ascii_digit())))
}

/// One section of the report, shared by HTML and Markdown.
struct Section {
    id: &'static str,
    title: String,
    note: Option<String>,
    chart: Option<String>,
    table: Option<Table>,
    /// Set when the section has no data: the one line shown instead, saying how to turn it on.
    off: Option<String>,
}

impl Section {
    fn new(id: &'static str, title: String) -> Section {
        Section {
            id,
            title,
            note: None,
            chart: None,
            table: None,
            off: None,
        }
    }

    fn off(id: &'static str, title: String, why: String) -> Section {
        Section {
            off: Some(why),
            ..Section::new(id, title)
        }
    }
}

fn sections(d: &ReportData) -> Vec<Section> {
    let latest = d.latest().to_string();
    let units = d.units_of(&latest);
    let models: Vec<&UnitCostRow> = {
        let mut m: Vec<&UnitCostRow> = units
            .iter()
            .copied()
            .filter(|r| is_model(&r.model_id))
            .collect();
        m.sort_by(|a, b| {
            b.total_cost
                .cmp(&a.total_cost)
                .then(a.model_id.cmp(&b.model_id))
        });
        m
    };
    // the per-unit section only when the volumes gave units: request-only reports unchanged
    let per_unit = (!d.by_unit.is_empty()).then(|| per_unit_section(d, &latest));
    // likewise the drivers, only with [output] dimensions
    let drivers = (!d.by_dimension.is_empty()).then(|| drivers_section(d, &latest));
    // the days flagged, only for a month attributed with --grain day
    let anomalies = (!d.anomalies.is_empty()).then(|| anomalies_section(d, &latest));
    // and the training schedules, only with [amortize] training_months > 1
    let amortization = (!d.amortization.is_empty()).then(|| amortization_section(d, &latest));
    [months_section(d), per_1000_section(&latest, &models)]
        .into_iter()
        .chain(per_unit)
        .chain([
            frontier_section(&latest, &models),
            phase_section(&latest, &models),
        ])
        .chain(drivers)
        .chain(anomalies)
        .chain(amortization)
        .chain([
            change_section(d),
            pools_section(d, &latest),
            compliance_section(d, &latest),
            hidden_section(d, &latest),
            revenue_section(&latest, &models),
            verdict_section(&latest, &models),
        ])
        .chain(bill_sections(d, &latest))
        .collect()
}

/// The training schedules of the month: what each run of training charged, what is left, and
/// for `served` schedules how much of the planned volume has been served.
fn amortization_section(d: &ReportData, latest: &str) -> Section {
    let mut rows: Vec<&crate::allocate::amortize::AmortizationRow> =
        d.amortization.iter().collect();
    rows.sort_by(|a, b| {
        b.charged
            .0
            .abs()
            .cmp(&a.charged.0.abs())
            .then(a.schedule.model_id.cmp(&b.schedule.model_id))
            .then(a.schedule.incurred_period.cmp(&b.schedule.incurred_period))
    });
    let mut s = Section::new(
        "amortization",
        format!("Training spread over time, {latest}"),
    );
    s.note = Some("Each training run [amortize] spreads: charged to the model this month, still deferred (under `__deferred_training__`), and months left. Served schedules charge as the model serves its volume: Served is the volume served so far against the plan (the first month's volume x the months then left); the window's last month, or the next training run, charges the rest.".into());
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Trained", "incurred_period"),
            ("Cost", "incurred_cost"),
            ("Charged", "charged"),
            ("Deferred", "balance_after"),
            ("Months left", "months_remaining"),
            ("Method", "method"),
            ("Served", "served_quantity / planned_quantity"),
        ],
        rows.iter()
            .map(|r| {
                let (sc, c) = (&r.schedule, &r.schedule.currency);
                vec![
                    sc.model_id.clone(),
                    sc.incurred_period.clone(),
                    money(sc.incurred_cost, c),
                    money(r.charged, c),
                    money(sc.balance, c),
                    sc.months_remaining.to_string(),
                    match &sc.served {
                        Some(b) => format!("served ({})", b.unit),
                        None => "months".into(),
                    },
                    match sc.served.as_ref() {
                        Some(b) => match b.planned {
                            Some(p) => format!("{} of {}", b.served, p),
                            None => "none yet".into(),
                        },
                        None => "-".into(),
                    },
                ]
            })
            .collect(),
    ));
    s
}

/// The days of the month whose cost or cost per request departed from the model's baseline
/// (table `anomalies`), the largest change of cost first.
fn anomalies_section(d: &ReportData, latest: &str) -> Section {
    let mut rows: Vec<_> = d
        .anomalies
        .iter()
        .map(|a| ((a.day, a.model_id.as_str(), a.metric), a))
        .collect();
    super::largest_first(&mut rows, |a| a.change());
    let mut s = Section::new(
        "anomalies",
        format!("Days that departed from their baseline, {latest}"),
    );
    s.note = Some("From `attribute --grain day`: a model's day is flagged when its cost (or cost per request) is at least [anomalies] threshold x 1.4826 MAD from the median of the days it was billed on in the window before, and the change is worth at least min_change (the defaults: 3.5, 14 days, 10; the run's own settings are in manifest.json, `daily`). The change of cost splits into a volume effect (the baseline cost per request x the change of requests) and a spend effect (the rest). A training run or a monthly fee charged on one day stands out: amortisation is monthly, and a charge is dated by its charge period's start.".into());
    let f = |m: Option<Money>, c: &str| m.map_or("-".into(), |m| money(m, c));
    s.table = Some(Table::new(
        &[
            ("Day", "charge_date"),
            ("Model", "model_id"),
            ("Metric", "metric"),
            ("Value", "value"),
            ("Baseline", "baseline (median)"),
            ("Score", "|value - baseline| / (1.4826 x MAD)"),
            ("Cost change", "cost - baseline_cost"),
            ("Spend effect", "spend_effect"),
            ("Volume effect", "volume_effect"),
        ],
        rows.iter()
            .map(|(_, a)| {
                let c = &a.currency;
                vec![
                    a.day.format("%Y-%m-%d").to_string(),
                    a.model_id.clone(),
                    a.metric.replace('_', " "),
                    match a.metric {
                        "cost" => money(a.value, c),
                        _ => format!("{} {c}", a.value.to_fixed_nonzero(6)),
                    },
                    match a.metric {
                        "cost" => money(a.baseline, c),
                        _ => format!("{} {c}", a.baseline.to_fixed_nonzero(6)),
                    },
                    a.score.map_or("- (MAD 0)".into(), |s| s.to_fixed(2)),
                    money(a.change(), c),
                    money(a.spend_effect, c),
                    f(a.volume_effect, c),
                ]
            })
            .collect(),
    ));
    s
}

/// Values shown per dimension in the drivers section; the rest are summed on one line.
const DRIVERS_PER_DIMENSION: usize = 8;

/// What drives the month's cost, per `[output] dimensions` entry: its largest values over
/// every model (share of the month's spend), each with the model that spends most on it.
fn drivers_section(d: &ReportData, latest: &str) -> Section {
    // (dimension, currency) -> value -> (cost, model -> cost)
    type Values<'a> = BTreeMap<Option<&'a str>, (Money, BTreeMap<&'a str, Money>)>;
    let mut by: BTreeMap<(&str, &str), Values> = BTreeMap::new();
    for r in &d.by_dimension {
        let e = by
            .entry((r.dimension.as_str(), r.currency.as_str()))
            .or_default()
            .entry(r.value.as_deref())
            .or_default();
        e.0 += r.cost;
        *e.1.entry(r.model_id.as_str()).or_default() += r.cost;
    }
    let totals = month_totals(d);
    let mut rows = Vec::new();
    for ((dimension, currency), values) in by {
        let spend = totals
            .get(&(latest.to_string(), currency.to_string()))
            .map_or(Money::ZERO, |t| t.spend);
        let mut list: Vec<_> = values.into_iter().collect();
        super::largest_first(&mut list, |(cost, _)| *cost);
        let rest = list.split_off(list.len().min(DRIVERS_PER_DIMENSION));
        for (value, (cost, models)) in list {
            let top = models
                .iter()
                .max_by(|a, b| a.1 .0.abs().cmp(&b.1 .0.abs()).then(b.0.cmp(a.0)));
            rows.push(vec![
                dimension.to_string(),
                value.unwrap_or("(no value)").to_string(),
                money(cost, currency),
                percent(cost, spend),
                top.map_or("-".into(), |(m, c)| {
                    format!("{m} ({})", money(*c, currency))
                }),
            ]);
        }
        if !rest.is_empty() {
            let cost: Money = rest.iter().map(|(_, (c, _))| *c).sum();
            rows.push(vec![
                dimension.to_string(),
                format!("{} more values", rest.len()),
                money(cost, currency),
                percent(cost, spend),
                "-".into(),
            ]);
        }
    }
    let mut s = Section::new("drivers", format!("What drives cost, {latest}"));
    s.note = Some("Each [output] dimensions entry (billing columns or tag keys): its largest values over every model, their share of the month's spend, and the model that spends most on each (table cost_by_dimension; `mlcost explain --model M` shows one model). Per dimension the values add up to the month's spend.".into());
    s.table = Some(Table::new(
        &[
            ("Dimension", "dimension"),
            ("Value", "value"),
            ("Cost", "cost"),
            ("Share", "cost / month's spend"),
            ("Largest model", "model_id with the most cost on the value"),
        ],
        rows,
    ));
    s
}

/// Cost per unit of every unit the volumes gave (tokens, GPU-hours, ...), cheapest unit
/// scale first: per 1M for tokens-like units is where LLM prices are quoted.
fn per_unit_section(d: &ReportData, latest: &str) -> Section {
    let mut rows: Vec<&crate::economics::UnitVolumeCost> =
        d.by_unit.iter().filter(|r| is_model(&r.model_id)).collect();
    rows.sort_by(|a, b| {
        a.unit
            .cmp(&b.unit)
            .then(b.cost_per_1m_units.cmp(&a.cost_per_1m_units))
            .then(a.model_id.cmp(&b.model_id))
    });
    let mut s = Section::new("per-unit", format!("Cost per unit, {latest}"));
    s.note = Some("Each model's total cost over each unit its volumes gave (requests, tokens, GPU-hours, ...), most expensive first within a unit; a model's cost is the same for each of its units, so these never add up across units. Verdicts are against [targets] max_cost_per_1m_tokens and [targets.units].".into());
    let f = |m: Option<Money>, c: &str| m.map_or("-".into(), |m| money(m, c));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Unit", "unit"),
            ("Quantity", "quantity"),
            ("Per unit", "cost_per_unit"),
            ("Per 1,000", "cost_per_1000_units"),
            ("Per 1M", "cost_per_1m_units"),
            ("Verdict", "verdict"),
        ],
        rows.iter()
            .map(|r| {
                let c = &r.currency;
                vec![
                    r.model_id.clone(),
                    r.unit.clone(),
                    // whole quantities grouped by thousands; fractional ones exact
                    match r.quantity.to_string() {
                        q if q.contains('.') => q,
                        q => super::numbers::grouped(&q),
                    },
                    f(r.cost_per_unit, c),
                    f(r.cost_per_1000_units, c),
                    f(r.cost_per_1m_units, c),
                    r.verdict.replace('_', " "),
                ]
            })
            .collect(),
    ));
    s
}

fn months_section(d: &ReportData) -> Section {
    let totals = month_totals(d);
    let mut s = Section::new("months", "Spend by month".to_string());
    let mut rows = Vec::new();
    let mut previous: BTreeMap<&str, Money> = BTreeMap::new();
    let mut lines = Vec::new();
    for ((p, c), t) in &totals {
        let delta = previous
            .get(c.as_str())
            .map_or("-".to_string(), |b| change(t.spend - *b, c));
        previous.insert(c, t.spend);
        lines.push(vec![
            p.clone(),
            c.clone(),
            money(t.spend, c),
            delta,
            percent(t.models, t.spend),
            money(t.unallocated, c),
            match t.requests {
                0 => "-".to_string(),
                n => count(n),
            },
            t.per_1000().map_or("-".to_string(), |v| money(v, c)),
        ]);
    }
    lines.reverse(); // latest first
    rows.extend(lines);
    s.table = Some(Table::new(
        &[
            ("Month", "billing_period"),
            ("Currency", "currency"),
            ("Spend", "cost"),
            ("Change", "cost - previous month"),
            ("To models", "share of cost with a model_id"),
            ("Unallocated", "__unallocated__"),
            ("Requests", "requests"),
            (
                "Per 1,000 requests",
                "total_cost * 1000 / requests (models with requests)",
            ),
        ],
        rows,
    ));
    if d.periods.len() < 2 {
        s.note = Some(
            "One month in this report: run `mlcost attribute` on more months (or leave out --period) to see the trend."
                .into(),
        );
        return s;
    }
    // the main currency's top 5 models of the latest month, over every month
    let main = totals
        .iter()
        .filter(|((p, _), _)| p == d.latest())
        .max_by(|a, b| a.1.spend.cmp(&b.1.spend))
        .map(|((_, c), _)| c.clone())
        .unwrap_or_default();
    let mut top: Vec<&UnitCostRow> = d
        .units_of(d.latest())
        .into_iter()
        .filter(|r| r.currency == main && is_model(&r.model_id))
        .collect();
    top.sort_by(|a, b| {
        b.total_cost
            .cmp(&a.total_cost)
            .then(a.model_id.cmp(&b.model_id))
    });
    let series: Vec<(String, Vec<Option<f64>>)> = top
        .iter()
        .take(5)
        .map(|m| {
            let values = d
                .periods
                .iter()
                .map(|p| {
                    d.unit_costs
                        .iter()
                        .find(|r| &r.period == p && r.model_id == m.model_id && r.currency == main)
                        .map(|r| num(r.total_cost))
                })
                .collect();
            (m.model_id.clone(), values)
        })
        .collect();
    s.note = Some(format!(
        "The lines follow the five models with the most spend in {} ({main}).",
        d.latest()
    ));
    s.chart = Some(charts::lines(
        &series,
        &d.periods,
        &format!("{main} per month"),
    ));
    s
}

fn per_1000_section(latest: &str, models: &[&UnitCostRow]) -> Section {
    let title = format!("Cost per 1,000 requests, {latest}");
    let mut per_k: Vec<&&UnitCostRow> = models
        .iter()
        .filter(|r| r.cost_per_1000_requests.is_some())
        .collect();
    if per_k.is_empty() {
        return Section::off("per-1000", title, "No request volumes: give `--requests FILE` to `mlcost attribute` (columns model_id, requests, date).".into());
    }
    per_k.sort_by(|a, b| {
        b.cost_per_1000_requests
            .cmp(&a.cost_per_1000_requests)
            .then(a.model_id.cmp(&b.model_id))
    });
    let currency = models.first().map_or(String::new(), |r| r.currency.clone());
    let mut s = Section::new("per-1000", title);
    s.note = Some(format!(
        "{} with requests, most expensive first; models without volumes are in the verdict table with their reason.{}",
        models_count(per_k.len()),
        one_currency(models, &currency)
    ));
    s.chart = Some(charts::bars(
        &per_k
            .iter()
            .filter(|r| r.currency == currency)
            .take(TOP)
            .map(|r| {
                let v = r.cost_per_1000_requests.unwrap_or_default();
                Bar {
                    label: r.model_id.clone(),
                    value: num(v),
                    text: money(v, &r.currency),
                }
            })
            .collect::<Vec<_>>(),
        &format!("{currency} per 1,000 requests"),
    ));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Team", "team"),
            ("Spend", "total_cost"),
            ("Requests", "requests"),
            ("Per 1,000 requests", "cost_per_1000_requests"),
        ],
        per_k
            .iter()
            .map(|r| {
                vec![
                    r.model_id.clone(),
                    r.team.clone(),
                    money(r.total_cost, &r.currency),
                    r.requests.map_or("-".into(), count),
                    r.cost_per_1000_requests
                        .map_or("-".into(), |v| money(v, &r.currency)),
                ]
            })
            .collect(),
    ));
    s
}

fn frontier_section(latest: &str, models: &[&UnitCostRow]) -> Section {
    let title = format!("Unit cost against volume, {latest}");
    let currency = models.first().map_or("", |r| r.currency.as_str());
    let points: Vec<(String, f64, f64)> = models
        .iter()
        .filter(|r| r.currency == currency)
        .filter_map(|r| {
            let v = r.cost_per_1000_requests?;
            Some((r.model_id.clone(), r.requests? as f64, num(v)))
        })
        .collect();
    // a log scale has no place for zero or a credit
    let dropped = points
        .iter()
        .filter(|(_, x, y)| *x <= 0.0 || *y <= 0.0)
        .count();
    let points: Vec<(String, f64, f64)> = points
        .into_iter()
        .filter(|(_, x, y)| *x > 0.0 && *y > 0.0)
        .collect();
    if points.len() < 2 {
        return Section::off(
            "frontier",
            title,
            format!("Needs at least two models with requests in {latest} (`--requests`)."),
        );
    }
    let mut s = Section::new("frontier", title);
    let dropped = match dropped {
        0 => String::new(),
        n => format!(" {} with a zero or negative unit cost cannot be drawn on a log scale (they are in the table above).", models_count(n)),
    };
    s.note = Some(format!("Each point is a model (hover for its name). Down and to the right is cheap at scale; up and to the left, expensive and little used.{}{dropped}", one_currency(models, currency)));
    s.chart = Some(charts::scatter(
        &points,
        "requests per month",
        &format!("{currency} per 1,000 requests"),
    ));
    s
}

fn phase_section(latest: &str, models: &[&UnitCostRow]) -> Section {
    let title = format!("Spend by lifecycle phase, {latest}");
    if models.is_empty() {
        return Section::off("phases", title, "No spend is attributed to a model: tag resources with model_id, or add rules ([[rules]] in the config).".into());
    }
    let phases: Vec<String> = PHASE_COLUMNS
        .iter()
        .map(|c| c.trim_start_matches("cost_").replace('_', " "))
        .collect();
    let currency = models[0].currency.clone();
    let mut s = Section::new("phases", title);
    s.note = Some(format!(
        "The chart shows the {} with the most spend; the table every model.{}",
        models_count(models.len().min(TOP)),
        one_currency(models, &currency)
    ));
    s.chart = Some(charts::stacked(
        &models
            .iter()
            .filter(|r| r.currency == currency)
            .take(TOP)
            .map(|r| {
                (
                    r.model_id.clone(),
                    r.phase_costs.iter().map(|m| num(*m)).collect(),
                )
            })
            .collect::<Vec<_>>(),
        &phases,
        &format!("{currency} per month"),
    ));
    let mut head: Vec<(String, String)> = vec![("Model".into(), "model_id".into())];
    head.extend(
        phases
            .iter()
            .zip(PHASE_COLUMNS)
            .map(|(p, c)| (capitalise(p), c.to_string())),
    );
    head.push(("Total".into(), "total_cost".into()));
    s.table = Some(Table {
        head,
        rows: models
            .iter()
            .map(|r| {
                std::iter::once(r.model_id.clone())
                    .chain(r.phase_costs.iter().map(|m| money(*m, &r.currency)))
                    .chain(std::iter::once(money(r.total_cost, &r.currency)))
                    .collect()
            })
            .collect(),
    });
    s
}

fn change_section(d: &ReportData) -> Section {
    let latest = d.latest();
    let Some(previous) = d.previous() else {
        return Section::off(
            "change",
            "Change against the month before".into(),
            "Needs two months in the output.".into(),
        );
    };
    let title = format!("Change per model, {previous} to {latest}");
    let mut rows: Vec<&TrendRow> = d
        .trend
        .iter()
        .filter(|t| t.to == latest && t.from == previous)
        .collect();
    if rows.is_empty() {
        return Section::off("change", title, "No model has spend in both months.".into());
    }
    rows.sort_by(|a, b| {
        let da = (a.spend_to - a.spend_from).0.abs();
        let db = (b.spend_to - b.spend_from).0.abs();
        db.cmp(&da).then(a.model_id.cmp(&b.model_id))
    });
    let mut s = Section::new("change", title);
    s.note = Some("Largest changes first. The change of cost per 1,000 requests is split exactly into a spend effect ((S1 - S0) / V0) and a volume effect (S1 / V1 - S1 / V0).".into());
    let opt = |m: Option<Money>, c: &str| m.map_or("-".to_string(), |m| change(m, c));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Spend before", "spend_from"),
            ("Spend now", "spend_to"),
            ("Per 1,000 before", "cost_per_1000_from"),
            ("Per 1,000 now", "cost_per_1000_to"),
            ("Spend effect", "spend_effect"),
            ("Volume effect", "volume_effect"),
            ("Why", "explanation"),
        ],
        rows.iter()
            .map(|t| {
                let c = &t.currency;
                vec![
                    t.model_id.clone(),
                    money(t.spend_from, c),
                    money(t.spend_to, c),
                    t.cost_per_1000_from.map_or("-".into(), |m| money(m, c)),
                    t.cost_per_1000_to.map_or("-".into(), |m| money(m, c)),
                    opt(t.spend_effect, c),
                    opt(t.volume_effect, c),
                    t.explanation.clone(),
                ]
            })
            .collect(),
    ));
    s
}

fn pools_section(d: &ReportData, latest: &str) -> Section {
    let title = format!("Unallocated spend and shared pools, {latest}");
    let mut pools: BTreeMap<(String, String), Money> = BTreeMap::new();
    for r in d.allocation.iter().filter(|r| {
        r.period == latest
            && r.allocation_method != "direct"
            && !r.allocation_method.starts_with("rule:")
    }) {
        let what = match (&r.source_pool, r.model_id.as_str()) {
            (Some(p), _) => format!("{} ({})", p, r.allocation_method),
            (None, m) => format!("{m} ({})", r.allocation_method),
        };
        *pools.entry((what, r.currency.clone())).or_default() += r.cost;
    }
    if pools.is_empty() {
        return Section::off(
            "pools",
            title,
            "Every cost went to a model directly or by a rule.".into(),
        );
    }
    amounts_section(
        Section::new("pools", title),
        "Spend with no model (unallocated), unused commitment and the shared pools the rules split ([[shared]] in the config).",
        &pools,
        ("Pool", "source_pool / model_id (allocation_method)"),
        ("Cost", "cost"),
    )
}

/// A section of amounts per (label, currency), largest first: bars of the first currency and
/// a table of all.
fn amounts_section(
    mut s: Section,
    note: &str,
    amounts: &BTreeMap<(String, String), Money>,
    label: (&str, &str),
    amount: (&str, &str),
) -> Section {
    let mut list: Vec<(&(String, String), &Money)> = amounts.iter().collect();
    super::largest_first(&mut list, |m| **m);
    let currency = list.first().map_or(String::new(), |((_, c), _)| c.clone());
    s.note = Some(note.into());
    s.chart = Some(charts::bars(
        &list
            .iter()
            .filter(|((_, c), _)| *c == currency)
            .take(TOP)
            .map(|((p, c), m)| Bar {
                label: p.clone(),
                value: num(**m),
                text: money(**m, c),
            })
            .collect::<Vec<_>>(),
        &currency,
    ));
    s.table = Some(Table::new(
        &[label, amount, ("Currency", "currency")],
        list.iter()
            .map(|((p, c), m)| vec![p.clone(), money(**m, c), c.clone()])
            .collect(),
    ));
    s
}

fn compliance_section(d: &ReportData, latest: &str) -> Section {
    let title = format!("Tag compliance: spend per problem, {latest}");
    if d.compliance.is_empty() {
        return Section::off(
            "tags",
            title,
            "Every row carries every required tag with an allowed value.".into(),
        );
    }
    amounts_section(
        Section::new("tags", title),
        "A row's spend counts once per problem it has; `mlcost tags` lists the resources.",
        &d.compliance,
        ("Problem", "problem"),
        ("Spend affected", "cost_affected"),
    )
}

fn hidden_section(d: &ReportData, latest: &str) -> Section {
    let title = format!("Hidden costs (estimates), {latest}");
    if d.hidden.is_empty() {
        return Section::off("hidden", title, "Not computed: add a [hidden] section to the config and run `mlcost hidden --input OUT --config mlcost.toml` (idle capacity, experiment waste, engineering time).".into());
    }
    let mut hidden: Vec<&HiddenRow> = d.hidden.iter().collect();
    hidden.sort_by(|a, b| {
        b.costs
            .hidden_total
            .cmp(&a.costs.hidden_total)
            .then(a.model_id.cmp(&b.model_id))
    });
    let currency = hidden[0].currency.clone();
    let mut s = Section::new("hidden", title);
    let mut note = "Idle capacity (bought on top of what was used: cost x (1 - u) / u), experiment waste and engineering time are estimates from the [hidden] config; they are not on the bill. Idle in bill is the part of the bill that paid for idle capacity (cost x (1 - u)), already in On the bill.".to_string();
    let assumed: std::collections::BTreeSet<&str> =
        hidden.iter().filter_map(|h| h.assumed.as_deref()).collect();
    for a in assumed {
        note.push_str(&format!(
            " Assumed ({a}): rule-of-thumb estimates, not measured."
        ));
    }
    s.note = Some(note);
    let shown: Vec<&&HiddenRow> = hidden
        .iter()
        .filter(|h| !h.costs.hidden_total.is_zero() && h.currency == currency)
        .take(TOP)
        .collect();
    if !shown.is_empty() {
        s.chart = Some(charts::bars(
            &shown
                .iter()
                .map(|h| Bar {
                    label: h.model_id.clone(),
                    value: num(h.costs.hidden_total),
                    text: money(h.costs.hidden_total, &h.currency),
                })
                .collect::<Vec<_>>(),
            &format!("{currency} hidden per month"),
        ));
    }
    let f = |m: Option<Money>, c: &str| m.map_or("-".into(), |m| money(m, c));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("On the bill", "visible"),
            ("Idle", "idle_capacity"),
            ("Experiments", "experiment_waste"),
            ("Engineering", "engineering_time"),
            ("True total", "true_total"),
            ("Idle in bill", "idle_share_of_bill"),
        ],
        hidden
            .iter()
            .map(|h| {
                let c = &h.currency;
                vec![
                    h.model_id.clone(),
                    money(h.costs.visible, c),
                    f(h.costs.idle_capacity, c),
                    f(h.costs.experiment_waste, c),
                    f(h.costs.engineering_time, c),
                    money(h.costs.true_total, c),
                    f(h.costs.idle_share_of_bill, c),
                ]
            })
            .collect(),
    ));
    s
}

fn revenue_section(latest: &str, models: &[&UnitCostRow]) -> Section {
    let title = format!("Revenue and margin, {latest}");
    let with: Vec<&&UnitCostRow> = models
        .iter()
        .filter(|r| r.revenue.is_some() || r.value_preserved.is_some())
        .collect();
    if with.is_empty() {
        return Section::off("revenue", title, "No revenue: give `--revenue FILE` to `mlcost attribute` (columns model_id, revenue, value_preserved, billing_period) to see margins and ROI.".into());
    }
    let mut s = Section::new("revenue", title);
    let opt = |m: Option<Money>, c: &str| m.map_or("-".into(), |m| money(m, c));
    let pct = |m: Option<Money>| m.map_or("-".into(), |m| format!("{}%", amount(m)));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Spend", "total_cost"),
            ("Revenue", "revenue"),
            ("Value preserved", "value_preserved"),
            ("Gross margin", "gross_margin_pct"),
            ("ROI", "roi"),
        ],
        with.iter()
            .map(|r| {
                let c = &r.currency;
                vec![
                    r.model_id.clone(),
                    money(r.total_cost, c),
                    opt(r.revenue, c),
                    opt(r.value_preserved, c),
                    pct(r.economics.gross_margin_pct),
                    r.economics.roi.map_or("-".into(), amount),
                ]
            })
            .collect(),
    ));
    s
}

fn verdict_section(latest: &str, models: &[&UnitCostRow]) -> Section {
    let title = format!("Verdicts against targets, {latest}");
    if models.iter().all(|r| r.verdict == "no_target") {
        return Section::off("verdicts", title, "No targets: add [targets] to the config (for example max_cost_per_1000_requests = 0.05) to see which models are over.".into());
    }
    let mut list: Vec<&&UnitCostRow> = models.iter().collect();
    let rank = |v: &str| match v {
        "over_target" => 0,
        "within_target" => 1,
        _ => 2,
    };
    list.sort_by(|a, b| {
        rank(&a.verdict)
            .cmp(&rank(&b.verdict))
            .then(b.total_cost.cmp(&a.total_cost))
    });
    let mut s = Section::new("verdicts", title);
    let over = list.iter().filter(|r| r.verdict == "over_target").count();
    s.note = Some(format!("{over} over target, listed first."));
    s.table = Some(Table::new(
        &[
            ("Model", "model_id"),
            ("Verdict", "verdict"),
            ("Why", "verdict_reason"),
            ("Per 1,000 requests", "cost_per_1000_requests"),
        ],
        list.iter()
            .map(|r| {
                vec![
                    r.model_id.clone(),
                    r.verdict.replace('_', " "),
                    r.verdict_reason.clone().unwrap_or_default(),
                    r.cost_per_1000_requests.map_or_else(
                        || r.reason.clone().unwrap_or_default(),
                        |v| money(v, &r.currency),
                    ),
                ]
            })
            .collect(),
    ));
    s
}

/// What the FOCUS datasets besides Cost and Usage said about the latest month: its invoices
/// reconciled and its commitments' use (nothing when none was given).
fn bill_sections(d: &ReportData, latest: &str) -> Vec<Section> {
    let Some(bill) = &d.bill else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let status = match bill.billing_status {
        Some(s) => format!(
            "Billing period status: {} ({}).",
            s.name(),
            match s {
                crate::ledger::datasets::BillingStatus::Provisional =>
                    "the provider may still restate this month; the figures are not final",
                crate::ledger::datasets::BillingStatus::Final => "the provider closed the month",
            }
        ),
        None => String::new(),
    };
    if !bill.invoices.is_empty() {
        let mut s = Section::new("invoices", format!("Invoices reconciled, {latest}"));
        s.note = Some(format!("{status} Σ BilledCost per invoice of the charges other than tax in Cost and Usage against FOCUS Invoice Detail, exact; a difference within the spec's rounding tolerance (MAX(100 subunits, √rows × 0.5 subunit)) or on an invoice still Open is not a mismatch.").trim().to_string());
        s.table = Some(Table::new(
            &[
                ("Invoice", "invoice_id"),
                ("Currency", "currency"),
                ("Invoiced", "invoiced"),
                ("Cost and Usage", "cost_and_usage"),
                ("Difference", "difference"),
                ("Result", "result"),
            ],
            bill.invoices
                .iter()
                .map(|i| {
                    vec![
                        i.invoice_id.clone(),
                        i.currency.clone(),
                        money(i.invoiced, &i.currency),
                        money(i.cost_and_usage, &i.currency),
                        change(i.difference, &i.currency),
                        match &i.reason {
                            Some(r) => format!("{}: {r}", i.result.name()),
                            None => i.result.name().to_string(),
                        },
                    ]
                })
                .collect(),
        ));
        out.push(s);
    }
    if !bill.commitments.is_empty() {
        let f = |m: Option<Money>, c: &str| m.map_or("-".to_string(), |m| money(m, c));
        let mut s = Section::new("commitments", format!("Commitments, {latest}"));
        s.note = Some(format!("{} The month's share is the commitment's cost (Spend) or quantity (Usage) times the part of its period inside the month; used is the sum of ContractApplied on the month's usage rows, its unused-portion and purchase rows shown apart.", if bill.invoices.is_empty() { status.as_str() } else { "" }).trim().to_string());
        s.table = Some(Table::new(
            &[
                ("Commitment", "commitment_id"),
                ("Category", "category"),
                ("Period", "period_start, period_end"),
                ("Month's share", "month_cost | month_quantity"),
                ("Used", "applied_cost | applied_quantity"),
                ("Used %", "used_pct"),
                ("Unused portion", "unused_cost | unused_quantity"),
                ("Purchase", "purchase_cost"),
            ],
            bill.commitments
                .iter()
                .map(|c| {
                    let usage = crate::ledger::datasets::is_usage(c.category.as_deref());
                    let currency = c.currency.as_deref().unwrap_or("");
                    let unit = c.unit.as_deref().unwrap_or("units");
                    let (share, applied, unused) = match usage {
                        true => (
                            c.month_quantity
                                .map_or("-".into(), |q| format!("{} {unit}", amount(q))),
                            format!("{} {unit}", amount(c.applied_quantity)),
                            format!("{} {unit}", amount(c.unused_quantity)),
                        ),
                        false => (
                            f(c.month_cost, currency),
                            money(c.applied_cost, currency),
                            money(c.unused_cost, currency),
                        ),
                    };
                    vec![
                        c.commitment_id.clone(),
                        c.category.clone().unwrap_or_default(),
                        format!(
                            "{} to {}",
                            c.period_start.as_deref().unwrap_or("?"),
                            c.period_end.as_deref().unwrap_or("?")
                        ),
                        share,
                        applied,
                        c.used_pct
                            .map_or("-".into(), |p| format!("{}%", p.to_fixed(1))),
                        unused,
                        money(c.purchase_cost, currency),
                    ]
                })
                .collect(),
        ));
        out.push(s);
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;line-height:1.4}\
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}\
.story{background:#f6f6f2;border:1px solid #ddd;padding:12px 20px;border-radius:4px}.story li{margin:4px 0}\
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.kpi{border:1px solid #ccc;padding:8px 12px;min-width:150px;border-radius:4px;background:#fff}\
.kpi b{display:block;font-size:20px}.kpi span{font-size:12px;color:#555}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:13px;margin-top:8px}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0;cursor:pointer}\
td.n,th.n{text-align:right;white-space:nowrap}td:first-child{min-width:10em;max-width:24em;overflow-wrap:anywhere}p.note,p.off{color:#555;font-size:13px}p.off{font-style:italic}\
p.more{display:none}.story li{overflow-wrap:anywhere}\
.toggle{position:absolute;opacity:0}.toggle+label{display:inline-block;margin-top:6px;cursor:pointer;color:#1a1a4e;font-size:13px;text-decoration:underline}\
.toggle:checked+label::after{content:' (showing all)'}.toggle:not(:checked)~.scroll tr.extra{display:none}\
svg{display:block;margin:8px 0}\
@media print{body{max-width:none;margin:0;padding:0;font-size:11px}@page{margin:12mm}\
h2{break-before:page;margin-top:0}.story h2,section.off h2{break-before:auto}\
tr.extra,.toggle,.toggle+label{display:none}p.more{display:block;color:#555}.scroll{overflow:visible}th{cursor:auto}svg{break-inside:avoid}tr{break-inside:avoid}}";

const SORT_SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){\
var i=th.cellIndex,t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
var v=function(s){s=s.trim();if(!/^[-+]?([A-Z]{3} )?[$€£¥₹]?[-+]?[0-9][0-9,]*([.][0-9]+)?%?$/.test(s))return null;return parseFloat(s.replace(/[^0-9.+-]/g,''));};\
rows.sort(function(x,y){var a=x.cells[i].textContent,c=y.cells[i].textContent,n=v(a),m=v(c);\
var r=(n!==null&&m!==null)?n-m:(n!==null?-1:(m!==null?1:a.localeCompare(c)));return asc?r:-r;});\
rows.forEach(function(r,k){b.appendChild(r);if(t.dataset.top)r.classList.toggle('extra',k>=+t.dataset.top);});});});";

/// Records what a person would see go wrong, for the browser test: horizontal overflow, text
/// outside its chart or over other text, and the page height (as JSON in `data-layout`).
const LAYOUT_SCRIPT: &str = "window.addEventListener('load',function(){var e=document.documentElement,r={overflow:e.scrollWidth-e.clientWidth,height:e.scrollHeight,problems:[]};\
document.querySelectorAll('svg').forEach(function(svg,i){var vb=svg.viewBox.baseVal,bs=Array.from(svg.querySelectorAll('text')).map(function(t){return [t.getBBox(),(t.firstChild&&t.firstChild.nodeValue)||''];});\
bs.forEach(function(p,j){var b=p[0];if(b.x<-0.5||b.y<-0.5||b.x+b.width>vb.width+0.5||b.y+b.height>vb.height+0.5)r.problems.push('chart '+i+': \"'+p[1]+'\" is clipped');\
for(var k=0;k<j;k++){var c=bs[k][0];if(b.x<c.x+c.width-0.5&&c.x<b.x+b.width-0.5&&b.y<c.y+c.height-0.5&&c.y<b.y+b.height-0.5)r.problems.push('chart '+i+': \"'+bs[k][1]+'\" overlaps \"'+p[1]+'\"');}});\
svg.querySelectorAll('circle,rect,polyline').forEach(function(g){var b=g.getBBox();if(b.x<-0.5||b.y<-0.5||b.x+b.width>vb.width+0.5||b.y+b.height>vb.height+0.5)r.problems.push('chart '+i+': a '+g.tagName+' is outside the chart');});});\
document.body.setAttribute('data-layout',JSON.stringify(r));});";

/// The headline figures of the latest month, one box each (first currency).
fn kpis(d: &ReportData) -> String {
    let totals = month_totals(d);
    let latest = d.latest();
    let Some(((_, c), t)) = totals
        .iter()
        .filter(|((p, _), _)| p == latest)
        .max_by(|a, b| a.1.spend.cmp(&b.1.spend))
    else {
        return String::new();
    };
    let mut boxes = vec![
        (
            match totals.keys().filter(|(p, _)| p == latest).count() {
                1 => "Spend".to_string(),
                _ => format!("Spend in {c} (other currencies in the story)"),
            },
            money(t.spend, c),
        ),
        (
            "Attributed to models".to_string(),
            percent(t.models, t.spend),
        ),
        ("Unallocated".to_string(), money(t.unallocated, c)),
    ];
    if !t.unused.is_zero() {
        boxes.push(("Unused commitment".into(), money(t.unused, c)));
    }
    if let Some(k) = t.per_1000() {
        boxes.push(("Per 1,000 requests".into(), money(k, c)));
    }
    if let Some(before) = d
        .previous()
        .and_then(|p| totals.get(&(p.to_string(), c.clone())))
    {
        boxes.push((
            format!("Change vs {}", d.previous().unwrap_or("previous month")),
            change(t.spend - before.spend, c),
        ));
    }
    let mut s = String::from("<div class=\"kpis\">");
    for (label, value) in boxes {
        let _ = write!(
            s,
            "<div class=\"kpi\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(&label)
        );
    }
    s.push_str("</div>");
    s
}

fn scope(d: &ReportData) -> String {
    let months = match d.periods.len() {
        0 => "no month".to_string(),
        1 => d.periods[0].clone(),
        n => format!("{} months, {} to {}", n, d.periods[0], d.latest()),
    };
    let currencies: BTreeSet<&str> = d.allocation.iter().map(|r| r.currency.as_str()).collect();
    format!(
        "{months}; currency {}; cost basis {}. Generated by mlcost {} from the tables under the output directory; costs are exact decimals, rounded here for reading.",
        currencies.into_iter().collect::<Vec<_>>().join(", "),
        d.cost_basis,
        env!("CARGO_PKG_VERSION")
    )
}

/// The self-contained HTML page.
pub fn html(d: &ReportData) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p class=\"note\">{}</p>\n",
        esc(&d.title),
        esc(&d.title),
        esc(&scope(d))
    );
    let _ = write!(
        s,
        "<div class=\"story\"><h2 style=\"margin-top:8px;border:0\">{} at a glance</h2>{}<ul>",
        esc(d.latest()),
        kpis(d)
    );
    for sentence in story(d) {
        let _ = write!(s, "<li>{}</li>", esc(&sentence));
    }
    s.push_str("</ul></div>\n");
    for sec in sections(d) {
        match &sec.off {
            Some(why) => {
                let _ = writeln!(
                    s,
                    "<section id=\"{}\" class=\"off\"><h2>{}</h2><p class=\"off\">{}</p></section>",
                    sec.id,
                    esc(&sec.title),
                    esc(why)
                );
            }
            None => {
                let _ = write!(s, "<section id=\"{}\"><h2>{}</h2>", sec.id, esc(&sec.title));
                if let Some(n) = &sec.note {
                    let _ = write!(s, "<p class=\"note\">{}</p>", esc(n));
                }
                if let Some(c) = &sec.chart {
                    s.push_str(c);
                }
                if let Some(t) = &sec.table {
                    s.push_str(&t.html(sec.id));
                }
                s.push_str("</section>\n");
            }
        }
    }
    let _ = write!(
        s,
        "<script>{SORT_SCRIPT}{LAYOUT_SCRIPT}</script>\n</body></html>\n"
    );
    s
}

/// The same story and tables as Markdown (charts left out; long tables cut at 15 rows).
pub fn markdown(d: &ReportData) -> String {
    let md = crate::escape::markdown_text;
    let mut s = format!(
        "# {}\n\n{}\n\n## {} at a glance\n\n",
        md(&d.title),
        md(&scope(d)),
        md(d.latest())
    );
    for sentence in story(d) {
        let _ = writeln!(s, "- {}", md_sentence(&sentence));
    }
    for sec in sections(d) {
        let _ = write!(s, "\n## {}\n\n", md(&sec.title));
        if let Some(why) = &sec.off {
            let _ = writeln!(s, "_{}_", md(why));
            continue;
        }
        if let Some(n) = &sec.note {
            let _ = write!(s, "{}\n\n", md(n));
        }
        if let Some(t) = &sec.table {
            s.push_str(&t.markdown());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_user_text_and_loads_nothing() {
        let mut d = ReportData {
            title: "<script>x</script>".into(),
            periods: vec!["2026-10".into()],
            ..Default::default()
        };
        d.compliance.insert(
            ("missing:<team>".into(), "USD".into()),
            Money::parse("5").unwrap(),
        );
        let page = html(&d);
        assert!(!page.contains("<script>x"));
        assert!(page.contains("missing:&lt;team&gt;"));
        for external in ["http://", "https://", "src=", "@import", "url("] {
            let found = page
                .match_indices(external)
                .filter(|(i, _)| !page[..*i].ends_with("xmlns=\""))
                .count();
            assert_eq!(found, 0, "the page must load nothing: found {external}");
        }
        let md = markdown(&d);
        assert!(
            md.contains("| missing:&lt;team&gt; | $5.00 | USD |"),
            "{md}"
        );
        assert!(md.starts_with("# &lt;script&gt;x&lt;/script&gt;"), "{md}");
        // a model id with a pipe, a line break and HTML cannot break the table or inject
        d.compliance.insert(
            ("a|b\n<img src=x onerror=alert(1)>".into(), "USD".into()),
            Money::parse("1").unwrap(),
        );
        let md = markdown(&d);
        assert!(
            md.contains("| a\\|b &lt;img src=x onerror=alert(1)&gt; | $1.00 | USD |"),
            "{md}"
        );
    }

    #[test]
    fn sections_without_data_collapse_to_one_line_saying_how_to_turn_them_on() {
        let d = ReportData {
            title: "t".into(),
            periods: vec!["2026-10".into()],
            ..Default::default()
        };
        let md = markdown(&d);
        for hint in [
            "`mlcost hidden",
            "`--revenue FILE`",
            "add [targets]",
            "`--requests FILE`",
        ] {
            assert!(md.contains(hint), "{hint} in {md}");
        }
    }

    #[test]
    fn long_tables_show_fifteen_rows_and_the_rest_behind_show_all() {
        let t = Table::new(
            &[("Model", "model_id")],
            (0..20).map(|i| vec![format!("m{i}")]).collect(),
        );
        let html = t.html("x");
        assert!(html.contains("<label for=\"all-x\">Show all 20 rows</label>"));
        // one table with every row, the ones past 15 hidden until "show all"
        assert_eq!(html.matches("<td>m3</td>").count(), 1);
        assert_eq!(html.matches("<tr class=\"extra\"><td>m").count(), 5);
        assert!(html.contains("<tr class=\"extra\"><td>m15</td>"));
        assert!(html.contains("<th title=\"model_id\">Model</th>"));
        let md = t.markdown();
        assert!(md.contains("… and 5 more rows") && md.contains("Columns: `model_id`."));
    }
}
