//! The report's charts as inline SVG: horizontal bars, stacked bars, lines over months and a
//! log-log scatter, each with axes that say their unit, a legend where there are series, labels
//! cut to fit (the full text in a tooltip) and colours whose grey levels differ, so a page
//! printed in black and white still tells the series apart. Every SVG scales down with the
//! page (`viewBox`, `max-width: 100%`). Pure text generation.

use std::fmt::Write;

/// Fill colours in series order, with grey levels 0.13, 0.65, 0.38, 0.94, 0.53, 0.26 and 0.80:
/// every two of them differ by at least 0.12 in grey, so a black-and-white print tells them
/// apart; every shape also has a dark outline, and lines differ in dash.
pub const COLORS: [&str; 7] = [
    "#1a1a4e", "#f39c12", "#2e6da4", "#fdf2c4", "#e8605a", "#5b2c6f", "#a9dfbf",
];

/// Line colours: the palette's colours dark enough to see as a 2 px line on white (lines
/// also differ in dash).
const LINE_COLORS: [&str; 5] = ["#1a1a4e", "#f39c12", "#2e6da4", "#e8605a", "#5b2c6f"];

/// Width of the charts' drawing, in px (they shrink with the page).
const WIDTH: f64 = 900.0;
/// Approximate width of one character of the 12 px font, for cutting labels to fit.
const CHAR_W: f64 = 7.6;

fn esc(s: &str) -> String {
    crate::escape::html(s)
}

/// The width of one character of the 12 px font, generously (a label estimated too wide is
/// cut a little early; one estimated too narrow would be clipped).
fn char_w(c: char) -> f64 {
    match c {
        'i' | 'l' | 'j' | 'I' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' | ' ' => 4.0,
        'm' | 'w' => 11.0,
        'M' | 'W' | '@' | '%' => 12.5,
        'A'..='Z' => 9.0,
        c if c.is_ascii() => CHAR_W,
        // CJK, full-width and emoji take about a square each
        _ => 13.0,
    }
}

/// The estimated width of a text, in px at 12 px.
pub fn text_width(s: &str) -> f64 {
    s.chars().map(char_w).sum()
}

/// A label cut to `width` px with an ellipsis; the full text goes in a tooltip.
fn fit(label: &str, width: f64) -> String {
    let shown: String = match text_width(label) > width {
        true => {
            let mut w = char_w('…');
            let kept: String = label
                .chars()
                .take_while(|c| {
                    w += char_w(*c);
                    w <= width
                })
                .collect();
            kept + "…"
        }
        false => label.to_string(),
    };
    format!("{}<title>{}</title>", esc(&shown), esc(label))
}

fn open(h: f64, label: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" style="max-width:100%;height:auto" role="img" aria-label="{}" font-family="system-ui,sans-serif">"#,
        esc(label)
    )
}

/// A short number for an axis tick: `1.2k`, `35`, `0.004`, `10M`, `1B`.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let short = |x: f64, unit: &str| {
        let t = format!("{x:.1}");
        format!("{}{unit}", t.strip_suffix(".0").unwrap_or(&t))
    };
    if a == 0.0 {
        "0".into()
    } else if a >= 1e12 {
        short(v / 1e12, "T")
    } else if a >= 1e9 {
        short(v / 1e9, "B")
    } else if a >= 1e6 {
        short(v / 1e6, "M")
    } else if a >= 1e3 {
        short(v / 1e3, "k")
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        short(v, "")
    } else {
        let digits = (-a.log10()).ceil() as usize + 1;
        let t = format!("{v:.digits$}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A round step (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) of at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let nice = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .find(|n| n * magnitude >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0);
    nice * magnitude
}

/// A value axis covering `low..=high` and zero: (min, max, step), min and max multiples of a
/// round step, about four steps in all, so zero is always a tick.
fn axis(low: f64, high: f64) -> (f64, f64, f64) {
    let (low, high) = (low.min(0.0), high.max(0.0));
    if high - low <= 0.0 || !(high - low).is_finite() {
        return (0.0, 1.0, 0.25);
    }
    let step = nice_step((high - low) / 4.0);
    let min = (low / step + 1e-9).floor() * step;
    let max = (high / step - 1e-9).ceil() * step;
    (min, max, step)
}

/// The ticks of an axis: min, min + step, ... max.
fn ticks((min, max, step): (f64, f64, f64)) -> impl Iterator<Item = f64> {
    let n = ((max - min) / step).round() as i32;
    (0..=n).map(move |k| min + step * f64::from(k))
}

/// A legend of `names` from (x, y), wrapped to the chart's width; returns the markup and the
/// height it took.
fn legend(names: &[String], x0: f64, y0: f64, colors: &[&str]) -> (String, f64) {
    let mut s = String::new();
    let (mut x, mut y) = (x0, y0);
    for (k, name) in names.iter().enumerate() {
        let w = 20.0 + text_width(name).min(28.0 * CHAR_W) + 14.0;
        if x + w > WIDTH - 10.0 && x > x0 {
            x = x0;
            y += 18.0;
        }
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{}" width="12" height="12" fill="{}" stroke="#333" stroke-width="0.5"/><text x="{}" y="{}" font-size="12">{}</text>"##,
            y - 10.0,
            colors[k % colors.len()],
            x + 16.0,
            y,
            fit(name, 28.0 * CHAR_W)
        );
        x += w;
    }
    (s, y - y0 + 18.0)
}

/// An x axis under a bar area from `x0` to `x0 + w` at `y`, on `scale` (see `axis`), with its
/// unit.
fn value_axis(x0: f64, w: f64, y: f64, scale: (f64, f64, f64), unit: &str) -> String {
    let (min, max, _) = scale;
    let mut s = format!(
        r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#666"/>"##,
        x0 + w
    );
    for v in ticks(scale) {
        let x = x0 + w * (v - min) / (max - min);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{y}" x2="{x:.1}" y2="{}" stroke="#666"/><text x="{x:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
            y + 4.0,
            y + 16.0,
            tick(v)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="11" text-anchor="end" font-style="italic">{}</text>"#,
        x0 + w,
        y + 32.0,
        esc(unit)
    );
    s
}

/// One horizontal bar.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The figure written at the end of the bar.
    pub text: String,
}

/// Horizontal bars with a value axis in `unit`.
pub fn bars(items: &[Bar], unit: &str) -> String {
    let (label_w, value_w, row_h) = (260.0, 150.0, 22.0);
    let bar_w = WIDTH - label_w - value_w - 20.0;
    let scale_of = axis(
        items.iter().map(|i| i.value).fold(0.0f64, f64::min),
        items.iter().map(|i| i.value).fold(0.0f64, f64::max),
    );
    let (min, max, _) = scale_of;
    // px per unit, and where zero is (negative bars grow left of it)
    let scale = bar_w / (max - min);
    let zero = label_w - min * scale;
    let h = row_h * items.len() as f64 + 50.0;
    let mut s = open(h, unit);
    for (i, b) in items.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (b.value.abs() * scale).max(if b.value != 0.0 { 1.0 } else { 0.0 });
        let x = if b.value < 0.0 { zero - w } else { zero };
        let text_x = if b.value < 0.0 {
            zero + 4.0
        } else {
            zero + w + 4.0
        };
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text><rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{}" stroke="#333" stroke-width="0.5"><title>{}: {}</title></rect><text x="{:.1}" y="{}" font-size="11">{}</text>"##,
            label_w - 6.0,
            y + 13.0,
            fit(&b.label, label_w - 10.0),
            row_h - 6.0,
            COLORS[0],
            esc(&b.label),
            esc(&b.text),
            text_x,
            y + 13.0,
            esc(&b.text)
        );
    }
    s.push_str(&value_axis(
        label_w,
        bar_w,
        row_h * items.len() as f64 + 6.0,
        scale_of,
        unit,
    ));
    s.push_str("</svg>");
    s
}

/// Stacked horizontal bars: (label, value per part), parts in `parts` order, with a legend.
pub fn stacked(items: &[(String, Vec<f64>)], parts: &[String], unit: &str) -> String {
    let (label_w, row_h) = (260.0, 22.0);
    let bar_w = WIDTH - label_w - 30.0;
    let (legend_svg, legend_h) = legend(parts, 10.0, 16.0, &COLORS);
    let top = legend_h + 8.0;
    // positive parts stack right of zero, negative ones (credits) left of it
    let sums = |sign: f64| {
        items
            .iter()
            .map(move |(_, v)| v.iter().map(|x| (x * sign).max(0.0)).sum::<f64>())
            .fold(0.0f64, f64::max)
    };
    let scale_of = axis(-sums(-1.0), sums(1.0));
    let (min, max, _) = scale_of;
    let per = bar_w / (max - min);
    let zero = label_w - min * per;
    let h = top + row_h * items.len() as f64 + 50.0;
    let mut s = open(h, unit);
    s.push_str(&legend_svg);
    for (i, (label, values)) in items.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 13.0,
            fit(label, label_w - 10.0)
        );
        let (mut right, mut left) = (zero, zero);
        for (k, v) in values.iter().enumerate() {
            let w = v.abs() * per;
            if w <= 0.0 {
                continue;
            }
            let x = match *v > 0.0 {
                true => {
                    right += w;
                    right - w
                }
                false => {
                    left -= w;
                    left
                }
            };
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{}" stroke="#333" stroke-width="0.5"><title>{}, {}: {}</title></rect>"##,
                row_h - 6.0,
                COLORS[k % COLORS.len()],
                esc(label),
                esc(parts.get(k).map_or("", String::as_str)),
                tick(*v)
            );
        }
    }
    s.push_str(&value_axis(
        label_w,
        bar_w,
        top + row_h * items.len() as f64 + 6.0,
        scale_of,
        unit,
    ));
    s.push_str("</svg>");
    s
}

/// Lines over `months`, one per series (None where a series has no value), with a legend and a
/// y axis in `unit`.
pub fn lines(series: &[(String, Vec<Option<f64>>)], months: &[String], unit: &str) -> String {
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    let (legend_svg, legend_h) = legend(&names, 70.0, 16.0, &LINE_COLORS);
    let (left, right, top) = (70.0, 30.0, legend_h + 26.0);
    let plot_h = 220.0;
    let h = top + plot_h + 60.0;
    let plot_w = WIDTH - left - right;
    let values = || series.iter().flat_map(|(_, v)| v.iter().flatten());
    // the axis reaches below zero when a series does (a month of credits)
    let scale_of = axis(
        values().fold(0.0f64, |a, b| a.min(*b)),
        values().fold(0.0f64, |a, b| a.max(*b)),
    );
    let (min, max, _) = scale_of;
    let n = months.len().max(2) as f64 - 1.0;
    let x_of = |i: usize| left + i as f64 / n * plot_w;
    let y_of = |v: f64| top + plot_h - (v - min) / (max - min) * plot_h;
    let mut s = open(h, unit);
    s.push_str(&legend_svg);
    // y axis with ticks and grid lines
    for v in ticks(scale_of) {
        let y = y_of(v);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0,
            tick(v)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#666"/><line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#666"/><text x="{left}" y="{}" font-size="11" font-style="italic">{}</text>"##,
        top + plot_h,
        top + plot_h,
        left + plot_w,
        top + plot_h,
        top - 8.0,
        esc(unit)
    );
    // month labels, thinned so they never overlap (a label is about 55 px wide)
    let step = ((months.len() as f64 * 60.0 / plot_w).ceil() as usize).max(1);
    for (i, m) in months.iter().enumerate() {
        if i % step != 0 && i != months.len() - 1 {
            continue;
        }
        if i != months.len() - 1 && months.len() - 1 - i < step && i % step == 0 && i != 0 {
            continue;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
            x_of(i),
            top + plot_h + 18.0,
            esc(m)
        );
    }
    for (k, (name, values)) in series.iter().enumerate() {
        let color = LINE_COLORS[k % LINE_COLORS.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x_of(i), y_of(v))))
            .collect();
        let dash = match k % 3 {
            0 => "",
            1 => r#" stroke-dasharray="6,3""#,
            _ => r#" stroke-dasharray="2,3""#,
        };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            points.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}" stroke="#333" stroke-width="0.5"><title>{} {}: {}</title></circle>"##,
                    x_of(i),
                    y_of(*v),
                    esc(name),
                    esc(&months[i]),
                    tick(*v)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// A log-log scatter of (label, x, y) for positive x and y, with decade ticks.
pub fn scatter(points: &[(String, f64, f64)], x_unit: &str, y_unit: &str) -> String {
    let pts: Vec<&(String, f64, f64)> = points.iter().filter(|p| p.1 > 0.0 && p.2 > 0.0).collect();
    let (left, right, top, plot_h) = (70.0, 30.0, 24.0, 300.0);
    let plot_w = WIDTH - left - right;
    let h = top + plot_h + 56.0;
    let range = |f: &dyn Fn(&&(String, f64, f64)) -> f64| {
        let lo = pts
            .iter()
            .map(f)
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor();
        let hi = pts
            .iter()
            .map(f)
            .fold(f64::NEG_INFINITY, f64::max)
            .log10()
            .ceil();
        match (lo.is_finite(), hi.is_finite()) {
            (true, true) if hi > lo => (lo, hi),
            // every point on one value: a decade either side, so they sit in the middle
            (true, true) => (lo - 1.0, lo + 1.0),
            _ => (0.0, 1.0),
        }
    };
    let (x_lo, x_hi) = range(&|p| p.1);
    let (y_lo, y_hi) = range(&|p| p.2);
    let x_of = |v: f64| left + (v.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let y_of = |v: f64| top + plot_h - (v.log10() - y_lo) / (y_hi - y_lo) * plot_h;
    let mut s = open(h, y_unit);
    // decade ticks, at most 8 per axis
    let decades = |lo: f64, hi: f64| {
        let n = (hi - lo) as usize;
        let step = n.div_ceil(8).max(1);
        (0..=n).step_by(step).map(move |k| lo + k as f64)
    };
    for d in decades(x_lo, x_hi) {
        let x = left + (d - x_lo) / (x_hi - x_lo) * plot_w;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
            top + plot_h,
            top + plot_h + 22.0,
            tick(10f64.powf(d))
        );
    }
    for d in decades(y_lo, y_hi) {
        let y = top + plot_h - (d - y_lo) / (y_hi - y_lo) * plot_h;
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0,
            tick(10f64.powf(d))
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#666"/><text x="{}" y="{}" font-size="11" text-anchor="end" font-style="italic">{} (log scale)</text><text x="{left}" y="{}" font-size="11" font-style="italic">{} (log scale)</text>"##,
        left + plot_w,
        top + plot_h + 40.0,
        esc(x_unit),
        top - 8.0,
        esc(y_unit)
    );
    for (label, x, y) in pts {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{}" fill-opacity="0.75" stroke="#333" stroke-width="0.5"><title>{}: {} {}, {} {}</title></circle>"##,
            x_of(*x),
            y_of(*y),
            COLORS[2],
            esc(label),
            tick(*x),
            esc(x_unit),
            tick(*y),
            esc(y_unit)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_labels_fit() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(1234.0), "1.2k");
        assert_eq!(tick(1e9), "1B");
        assert_eq!(tick(10e6), "10M");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(axis(0.0, 0.101), (0.0, 0.12, 0.03));
        assert_eq!(axis(0.0, 7012.1), (0.0, 8000.0, 2000.0));
        // credits below zero: zero stays a tick, the steps are round
        let (min, max, step) = axis(-120.0, 100.0);
        assert_eq!((min, max, step), (-120.0, 120.0, 60.0));
        assert!(ticks((min, max, step)).any(|t| t == 0.0));
        assert_eq!(tick(2_500_000.0), "2.5M");
        assert_eq!(tick(0.004), "0.004");
        assert_eq!(tick(35.0), "35");
        let cut = fit("a-very-long-model-name-that-will-not-fit-anywhere", 150.0);
        assert!(cut.starts_with("a-very-long-m") && cut.contains('…'));
        assert!(cut.contains("<title>a-very-long-model-name-that-will-not-fit-anywhere</title>"));
    }

    #[test]
    fn the_colours_differ_in_grey() {
        let grey = |hex: &str| {
            let c = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
            (0.299 * c(1) + 0.587 * c(3) + 0.114 * c(5)) / 255.0
        };
        for (i, a) in COLORS.iter().enumerate() {
            for b in &COLORS[..i] {
                assert!(
                    (grey(a) - grey(b)).abs() >= 0.115,
                    "{a} and {b} print alike"
                );
            }
        }
    }

    #[test]
    fn negative_values_stay_inside_the_chart() {
        let b = bars(
            &[
                Bar {
                    label: "credit".into(),
                    value: -3.0,
                    text: "-$3.00".into(),
                },
                Bar {
                    label: "spend".into(),
                    value: 9.0,
                    text: "$9.00".into(),
                },
            ],
            "USD",
        );
        assert!(!b.contains("width=\"0.0\""), "{b}");
        let l = lines(
            &[("a".into(), vec![Some(-5.0), Some(10.0)])],
            &["2026-09".into(), "2026-10".into()],
            "USD",
        );
        // every point's y is inside the drawing
        for part in l.split("cy=\"").skip(1) {
            let y: f64 = part[..part.find('"').unwrap()].parse().unwrap();
            assert!(y > 0.0 && y < 400.0, "{y}");
        }
    }

    #[test]
    fn every_chart_is_one_svg_that_scales() {
        let b = bars(
            &[Bar {
                label: "<m>".into(),
                value: 2.0,
                text: "$2.00".into(),
            }],
            "USD",
        );
        assert!(b.starts_with("<svg") && b.ends_with("</svg>"));
        assert!(b.contains("max-width:100%") && b.contains("&lt;m&gt;"));
        let l = lines(
            &[("a".into(), vec![Some(1.0), None, Some(3.0)])],
            &["2026-08".into(), "2026-09".into(), "2026-10".into()],
            "USD",
        );
        assert_eq!(l.matches("<circle").count(), 2);
        let s = scatter(
            &[("a".into(), 10.0, 0.5), ("b".into(), 0.0, 1.0)],
            "requests",
            "USD",
        );
        assert_eq!(
            s.matches("<circle").count(),
            1,
            "non-positive points are left out"
        );
    }
}
