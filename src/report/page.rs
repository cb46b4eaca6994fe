//! The report people read: one self-contained HTML page (inline SVG charts, inline CSS and a
//! few lines of inline JavaScript to sort tables; nothing loaded from the network) or the same
//! content as Markdown for a review doc. Built from the tables `attribute` (and `hidden`)
//! wrote; pure text generation, no I/O. The markup is written with `format!` on purpose: the
//! page is mostly computed SVG geometry, every value goes through `escape::html` (one place to
//! review), and a template engine would add a proc-macro build for little markup.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::allocate::CostByModelRow;
use crate::economics::{HiddenRow, UnitCostRow};
use crate::money::Money;
use crate::schema::PHASE_COLUMNS;

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct ReportData {
    pub title: String,
    /// Periods with unit costs, sorted.
    pub periods: Vec<String>,
    pub unit_costs: Vec<UnitCostRow>,
    /// cost_by_model rows of the latest period.
    pub allocation: Vec<CostByModelRow>,
    /// (problem, currency) -> cost, latest period.
    pub compliance: BTreeMap<(String, String), Money>,
    /// hidden_costs rows of the latest period, if `mlcost hidden` ran.
    pub hidden: Vec<HiddenRow>,
    /// The latest period's partition manifest: billing status, invoices, commitments.
    pub bill: Option<crate::output::PartitionManifest>,
}

impl ReportData {
    fn latest(&self) -> Option<&str> {
        self.periods.last().map(String::as_str)
    }

    fn latest_units(&self) -> Vec<&UnitCostRow> {
        let l = self.latest().unwrap_or_default();
        self.unit_costs.iter().filter(|r| r.period == l).collect()
    }
}

fn esc(s: &str) -> String {
    crate::escape::html(s)
}

fn num(m: Money) -> f64 {
    m.to_fixed(6).parse().unwrap_or(0.0)
}

const COLORS: [&str; 7] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
];

/// Horizontal bars: (label, value, shown text).
fn bar_chart(items: &[(String, f64, String)]) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0f64, f64::max).max(1e-12);
    let (label_w, bar_w, row_h) = (240.0, 520.0, 22.0);
    let h = row_h * items.len() as f64 + 10.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{h}" role="img">"#,
        label_w + bar_w + 140.0
    );
    for (i, (label, v, text)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (v.max(0.0) / max * bar_w).max(1.0);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{}" fill="{}"/><text x="{}" y="{}" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 14.0,
            esc(label),
            row_h - 6.0,
            COLORS[0],
            label_w + w + 6.0,
            y + 14.0,
            esc(text)
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked horizontal bars: (label, [(part, value)]), with a legend.
fn stacked_chart(items: &[(String, Vec<(String, f64)>)], parts: &[String]) -> String {
    let max = items
        .iter()
        .map(|i| i.1.iter().map(|p| p.1.max(0.0)).sum::<f64>())
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let (label_w, bar_w, row_h) = (240.0, 600.0, 22.0);
    let h = row_h * items.len() as f64 + 34.0;
    let width = (label_w + bar_w + 20.0f64).max(label_w + parts.len() as f64 * 115.0);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img">"#
    );
    for (k, p) in parts.iter().enumerate() {
        let x = label_w + k as f64 * 115.0;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11" font-size="11">{}</text>"#,
            COLORS[k % COLORS.len()],
            x + 14.0,
            esc(p)
        );
    }
    for (i, (label, values)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 24.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 14.0,
            esc(label)
        );
        let mut x = label_w;
        for (part, v) in values {
            let k = parts.iter().position(|p| p == part).unwrap_or(0);
            let w = v.max(0.0) / max * bar_w;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{}"><title>{}: {v:.2}</title></rect>"#,
                row_h - 6.0,
                COLORS[k % COLORS.len()],
                esc(part)
            );
            x += w;
        }
    }
    s.push_str("</svg>");
    s
}

/// A line over months: (month, value).
fn line_chart(points: &[(String, f64)]) -> String {
    let (w, h, pad) = (760.0, 220.0, 50.0);
    let max = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-12);
    let n = points.len().max(2) as f64 - 1.0;
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                pad + i as f64 / n * (w - 2.0 * pad),
                h - pad - p.1 / max * (h - 2.0 * pad),
            )
        })
        .collect();
    let mut s =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">"#);
    let _ = write!(
        s,
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/>"##,
        h - pad,
        w - pad,
        h - pad
    );
    let path: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        s,
        r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
        COLORS[0],
        path.join(" ")
    );
    for ((x, y), (label, v)) in xy.iter().zip(points) {
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{}"/><text x="{x:.1}" y="{}" text-anchor="middle" font-size="11">{}</text><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{v:.0}</text>"#,
            COLORS[0],
            h - pad + 16.0,
            esc(label),
            y - 8.0
        );
    }
    s.push_str("</svg>");
    s
}

/// A table: header and rows of cells (already text). Sortable in HTML by clicking a header.
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn html(&self) -> String {
        let mut s = String::from("<table class=\"sortable\"><thead><tr>");
        for h in &self.head {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead><tbody>");
        for r in &self.rows {
            s.push_str("<tr>");
            for c in r {
                let _ = write!(s, "<td>{}</td>", esc(c));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
        s
    }

    fn markdown(&self) -> String {
        let head: Vec<String> = self
            .head
            .iter()
            .map(|h| crate::escape::markdown_cell(h))
            .collect();
        let mut s = format!(
            "| {} |\n|{}|\n",
            head.join(" | "),
            self.head
                .iter()
                .map(|_| "---")
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|c| crate::escape::markdown_cell(c)).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s
    }
}

/// The sections of the report, shared by HTML and Markdown.
struct Section {
    title: String,
    note: Option<String>,
    chart: Option<String>,
    table: Table,
}

fn sections(d: &ReportData) -> Vec<Section> {
    let latest = d.latest().unwrap_or("-").to_string();
    let units = d.latest_units();
    let mut out = Vec::new();

    // 1. cost per 1,000 requests
    let mut per_k: Vec<&&UnitCostRow> = units
        .iter()
        .filter(|r| r.cost_per_1000_requests.is_some())
        .collect();
    per_k.sort_by(|a, b| {
        b.cost_per_1000_requests
            .cmp(&a.cost_per_1000_requests)
            .then(a.model_id.cmp(&b.model_id))
    });
    out.push(Section {
        title: format!("Cost per 1,000 requests, {latest}"),
        note: Some(
            "Models without request volumes are listed in the verdict table with their reason."
                .into(),
        ),
        chart: Some(bar_chart(
            &per_k
                .iter()
                .take(20)
                .map(|r| {
                    let v = r.cost_per_1000_requests.unwrap_or_default();
                    (
                        r.model_id.clone(),
                        num(v),
                        format!("{} {}", v.to_fixed(4), r.currency),
                    )
                })
                .collect::<Vec<_>>(),
        )),
        table: Table {
            head: vec![
                "model".into(),
                "team".into(),
                "total cost".into(),
                "requests".into(),
                "cost per 1,000".into(),
            ],
            rows: per_k
                .iter()
                .map(|r| {
                    vec![
                        r.model_id.clone(),
                        r.team.clone(),
                        format!("{} {}", r.total_cost.to_fixed(2), r.currency),
                        r.requests.map_or("-".into(), |v| v.to_string()),
                        r.cost_per_1000_requests
                            .map_or("-".into(), |v| v.to_fixed(4)),
                    ]
                })
                .collect(),
        },
    });

    // 2. spend by lifecycle phase per model
    let mut models: Vec<&&UnitCostRow> = units
        .iter()
        .filter(|r| crate::schema::is_model(&r.model_id))
        .collect();
    models.sort_by(|a, b| {
        b.total_cost
            .cmp(&a.total_cost)
            .then(a.model_id.cmp(&b.model_id))
    });
    let phases: Vec<String> = PHASE_COLUMNS
        .iter()
        .map(|c| c.trim_start_matches("cost_").to_string())
        .collect();
    out.push(Section {
        title: format!("Spend by lifecycle phase, {latest} (top 15 models)"),
        note: None,
        chart: Some(stacked_chart(
            &models
                .iter()
                .take(15)
                .map(|r| {
                    (
                        r.model_id.clone(),
                        phases
                            .iter()
                            .cloned()
                            .zip(r.phase_costs.iter().map(|m| num(*m)))
                            .collect(),
                    )
                })
                .collect::<Vec<_>>(),
            &phases,
        )),
        table: Table {
            head: std::iter::once("model".to_string())
                .chain(phases.iter().cloned())
                .chain(["total".to_string()])
                .collect(),
            rows: models
                .iter()
                .map(|r| {
                    std::iter::once(r.model_id.clone())
                        .chain(r.phase_costs.iter().map(|m| m.to_fixed(2)))
                        .chain([r.total_cost.to_fixed(2)])
                        .collect()
                })
                .collect(),
        },
    });

    // 3. spend trend, per currency; the chart follows the currency with the most spend
    let mut by_period: BTreeMap<(String, String), Money> = BTreeMap::new();
    let mut by_currency: BTreeMap<String, Money> = BTreeMap::new();
    for r in &d.unit_costs {
        *by_period
            .entry((r.currency.clone(), r.period.clone()))
            .or_default() += r.total_cost;
        *by_currency.entry(r.currency.clone()).or_default() += r.total_cost;
    }
    let main = by_currency
        .iter()
        .max_by(|a, b| a.1.cmp(b.1))
        .map(|(c, _)| c.clone())
        .unwrap_or_default();
    out.push(Section {
        title: format!("Spend by month ({main})"),
        note: None,
        chart: Some(line_chart(
            &by_period
                .iter()
                .filter(|((c, _), _)| *c == main)
                .map(|((_, p), m)| (p.clone(), num(*m)))
                .collect::<Vec<_>>(),
        )),
        table: Table {
            head: vec!["month".into(), "spend".into(), "currency".into()],
            rows: by_period
                .iter()
                .map(|((c, p), m)| vec![p.clone(), m.to_fixed(2), c.clone()])
                .collect(),
        },
    });

    // 4. tag compliance in dollars
    let mut problems: Vec<(&(String, String), &Money)> = d.compliance.iter().collect();
    problems.sort_by(|a, b| b.1 .0.abs().cmp(&a.1 .0.abs()).then(a.0.cmp(b.0)));
    out.push(Section {
        title: format!("Tag compliance: spend per problem, {latest}"),
        note: Some("A row's spend counts once per problem it has.".into()),
        chart: Some(bar_chart(
            &problems
                .iter()
                .take(12)
                .map(|((p, c), m)| (p.clone(), num(**m), format!("{} {c}", m.to_fixed(2))))
                .collect::<Vec<_>>(),
        )),
        table: Table {
            head: vec!["problem".into(), "spend".into(), "currency".into()],
            rows: problems
                .iter()
                .map(|((p, c), m)| vec![p.clone(), m.to_fixed(2), c.clone()])
                .collect(),
        },
    });

    // 5. unallocated and shared pools
    let mut pools: BTreeMap<(String, String), Money> = BTreeMap::new();
    for r in d
        .allocation
        .iter()
        .filter(|r| r.allocation_method != "direct" && !r.allocation_method.starts_with("rule:"))
    {
        let what = match (&r.source_pool, r.model_id.as_str()) {
            (Some(p), _) => format!("{} ({})", p, r.allocation_method),
            (None, m) => format!("{m} ({})", r.allocation_method),
        };
        *pools.entry((what, r.currency.clone())).or_default() += r.cost;
    }
    out.push(Section {
        title: format!("Unallocated spend and shared pools, {latest}"),
        note: None,
        chart: (!pools.is_empty()).then(|| {
            bar_chart(
                &pools
                    .iter()
                    .map(|((p, c), m)| (p.clone(), num(*m), format!("{} {c}", m.to_fixed(2))))
                    .collect::<Vec<_>>(),
            )
        }),
        table: Table {
            head: vec!["pool".into(), "cost".into(), "currency".into()],
            rows: pools
                .iter()
                .map(|((p, c), m)| vec![p.clone(), m.to_fixed(2), c.clone()])
                .collect(),
        },
    });

    // 6. hidden costs
    if !d.hidden.is_empty() {
        let mut hidden: Vec<&HiddenRow> = d.hidden.iter().collect();
        hidden.sort_by(|a, b| {
            b.costs
                .hidden_total
                .cmp(&a.costs.hidden_total)
                .then(a.model_id.cmp(&b.model_id))
        });
        out.push(Section {
            title: format!("Hidden costs (estimates), {latest} (top 20 in the chart)"),
            note: Some("Idle capacity, experiment waste and engineering time are estimates from the [hidden] config; they are not on the bill.".into()),
            chart: Some(bar_chart(
                &hidden
                    .iter()
                    .take(20)
                    .map(|h| (h.model_id.clone(), num(h.costs.hidden_total), format!("{} hidden", h.costs.hidden_total.to_fixed(2))))
                    .collect::<Vec<_>>(),
            )),
            table: Table {
                head: vec!["model".into(), "visible".into(), "idle".into(), "experiments".into(), "engineering".into(), "true total".into()],
                rows: hidden
                    .iter()
                    .map(|h| {
                        let f = |m: Option<Money>| m.map_or("-".into(), |m| m.to_fixed(2));
                        vec![
                            h.model_id.clone(),
                            h.costs.visible.to_fixed(2),
                            f(h.costs.idle_capacity),
                            f(h.costs.experiment_waste),
                            f(h.costs.engineering_time),
                            h.costs.true_total.to_fixed(2),
                        ]
                    })
                    .collect(),
            },
        });
    }

    out.extend(bill_sections(d, &latest));

    // 7. verdicts
    out.push(Section {
        title: format!("Verdicts against targets, {latest}"),
        note: None,
        chart: Some(bar_chart(
            &["over_target", "within_target", "no_target"]
                .iter()
                .map(|v| {
                    let n = models.iter().filter(|r| r.verdict == *v).count();
                    (v.to_string(), n as f64, format!("{n} model(s)"))
                })
                .collect::<Vec<_>>(),
        )),
        table: Table {
            head: vec![
                "model".into(),
                "verdict".into(),
                "why".into(),
                "unit cost".into(),
            ],
            rows: models
                .iter()
                .map(|r| {
                    vec![
                        r.model_id.clone(),
                        r.verdict.clone(),
                        r.verdict_reason.clone().unwrap_or_default(),
                        r.cost_per_1000_requests
                            .map_or(r.reason.clone().unwrap_or_default(), |v| {
                                format!("{} per 1,000", v.to_fixed(4))
                            }),
                    ]
                })
                .collect(),
        },
    });
    out
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
        out.push(Section {
            title: format!("Invoices reconciled, {latest}"),
            note: Some(format!("{status} Σ BilledCost per invoice of the charges other than tax in Cost and Usage against FOCUS Invoice Detail, exact; a difference within the spec's rounding tolerance (MAX(100 subunits, √rows × 0.5 subunit)) or on an invoice still Open is not a mismatch.").trim().to_string()),
            chart: None,
            table: Table {
                head: ["invoice", "currency", "invoiced", "cost and usage", "difference", "result"].map(String::from).to_vec(),
                rows: bill
                    .invoices
                    .iter()
                    .map(|i| {
                        vec![
                            i.invoice_id.clone(),
                            i.currency.clone(),
                            i.invoiced.to_string(),
                            i.cost_and_usage.to_string(),
                            i.difference.to_string(),
                            match &i.reason {
                                Some(r) => format!("{}: {r}", i.result.name()),
                                None => i.result.name().to_string(),
                            },
                        ]
                    })
                    .collect(),
            },
        });
    }
    if !bill.commitments.is_empty() {
        let f = |m: Option<Money>| m.map_or("-".to_string(), |m| m.to_fixed(2));
        out.push(Section {
            title: format!("Commitments, {latest}"),
            note: Some(format!("{} The month's share is the commitment's cost (Spend) or quantity (Usage) times the part of its period inside the month; applied is the sum of ContractApplied on the month's rows.", if bill.invoices.is_empty() { status.as_str() } else { "" }).trim().to_string()),
            chart: None,
            table: Table {
                head: ["commitment", "category", "period", "month's share", "applied", "used"].map(String::from).to_vec(),
                rows: bill
                    .commitments
                    .iter()
                    .map(|c| {
                        let usage = c.category.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("usage"));
                        let (share, applied) = match usage {
                            true => (f(c.month_quantity), c.applied_quantity.to_fixed(2)),
                            false => (f(c.month_cost), c.applied_cost.to_fixed(2)),
                        };
                        vec![
                            c.commitment_id.clone(),
                            c.category.clone().unwrap_or_default(),
                            format!("{} to {}", c.period_start.as_deref().unwrap_or("?"), c.period_end.as_deref().unwrap_or("?")),
                            share,
                            applied,
                            c.used_pct.map_or("-".into(), |p| format!("{}%", p.to_fixed(1))),
                        ]
                    })
                    .collect(),
            },
        });
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222}\
h1{font-size:24px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;font-size:13px;margin-top:8px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}\
th{background:#f4f4f4;cursor:pointer}td:first-child,th:first-child{text-align:left}p.note{color:#666;font-size:13px}\
svg{display:block;margin:8px 0}";

const SORT_SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){\
var t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
rows.sort(function(x,y){var a=x.cells[i].textContent,c=y.cells[i].textContent,n=parseFloat(a),m=parseFloat(c);\
var r=(!isNaN(n)&&!isNaN(m))?n-m:a.localeCompare(c);return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});";

/// The self-contained HTML page.
pub fn html(d: &ReportData) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p class=\"note\">Months: {}. Generated by mlcost {} from the tables under the output directory; costs are exact decimals rounded for display.</p>\n",
        esc(&d.title),
        esc(&d.title),
        esc(&d.periods.join(", ")),
        env!("CARGO_PKG_VERSION")
    );
    for sec in sections(d) {
        let _ = writeln!(s, "<h2>{}</h2>", esc(&sec.title));
        if let Some(n) = &sec.note {
            let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(n));
        }
        if let Some(c) = &sec.chart {
            s.push_str(c);
            s.push('\n');
        }
        s.push_str(&sec.table.html());
        s.push('\n');
    }
    let _ = write!(s, "<script>{SORT_SCRIPT}</script>\n</body></html>\n");
    s
}

/// The same content as Markdown (tables only).
pub fn markdown(d: &ReportData) -> String {
    let md = crate::escape::markdown_text;
    let mut s = format!("# {}\n\nMonths: {}.\n", md(&d.title), d.periods.join(", "));
    for sec in sections(d) {
        let _ = write!(s, "\n## {}\n\n", md(&sec.title));
        if let Some(n) = &sec.note {
            let _ = write!(s, "{}\n\n", md(n));
        }
        s.push_str(&sec.table.markdown());
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
        assert!(md.contains("| missing:&lt;team&gt; | 5.00 | USD |"), "{md}");
        assert!(md.starts_with("# &lt;script&gt;x&lt;/script&gt;"), "{md}");
        // a model id with a pipe, a line break and HTML cannot break the table or inject
        d.compliance.insert(
            ("a|b\n<img src=x onerror=alert(1)>".into(), "USD".into()),
            Money::parse("1").unwrap(),
        );
        let md = markdown(&d);
        assert!(
            md.contains("| a\\|b &lt;img src=x onerror=alert(1)&gt; | 1.00 | USD |"),
            "{md}"
        );
    }
}
