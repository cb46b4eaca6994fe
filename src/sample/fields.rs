//! Row to field values: what every sink asks of a `Row` (its texts, instants and costs),
//! with the strings that repeat (per resource, per month) built once. The sinks only choose
//! an encoding; the values come from here, so every shape carries the same rows.

use std::io::Write;

use super::cost::{Cost, Rounding};
use super::layout::CurTags;
use super::rng::mix;
use super::rows::{Kind, Row};
use super::world::{Instances, Resource, Tags, INSTANCE_KEY};

/// How instants are spelled as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeText {
    /// `2026-10-01T00:00:00Z` (the FOCUS sample).
    Seconds,
    /// `2026-10-01T00:00:00.000Z` (AWS CUR).
    Millis,
}

/// One of the four instants of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    BillingStart,
    BillingEnd,
    ChargeStart,
    ChargeEnd,
}

/// A field's value: absent, a string that lives as long as the context, or the text just
/// written into the caller's scratch buffer.
pub enum Val<'a> {
    Null,
    Str(&'a str),
    Scratch,
}

struct Month {
    year: i32,
    month: u32,
    /// Epoch seconds of the first instant of the month and of the next one.
    start: i64,
    end: i64,
    start_text: String,
    end_text: String,
    commitment_id: String,
}

/// The resource strings every row of it repeats.
struct ResourceText {
    description: String,
    /// The FOCUS tag text escaped for CSV (quoted when it has to be), or empty.
    tags_csv: String,
}

/// Everything a sink needs to spell rows.
pub struct Ctx<'a> {
    pub resources: &'a [Resource],
    months: Vec<Month>,
    text: Vec<ResourceText>,
    pub time_text: TimeText,
    pub rounding: Rounding,
    /// Set for the high-cardinality shape.
    pub instances: Option<Instances>,
    /// The tag columns of a CUR layout.
    pub cur_tags: CurTags,
    /// No resource, month or tag text needs CSV quoting (checked once, so CSV lines are not
    /// scanned byte by byte).
    pub csv_safe: bool,
    seed: u64,
}

fn epoch_seconds(y: i32, m: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0)
}

fn next_month(y: i32, m: u32) -> (i32, u32) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

/// CSV spelling of a text: quoted (quotes doubled) when it holds a comma, quote or line break.
pub fn csv_escape(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

impl<'a> Ctx<'a> {
    pub fn new(
        resources: &'a [Resource],
        periods: &[(i32, u32)],
        time_text: TimeText,
        rounding: Rounding,
        instances: Option<Instances>,
        cur_tags: CurTags,
        seed: u64,
    ) -> Ctx<'a> {
        let suffix = match time_text {
            TimeText::Seconds => "T00:00:00Z",
            TimeText::Millis => "T00:00:00.000Z",
        };
        let account = resources.first().map(|r| r.account.as_str()).unwrap_or("");
        let months: Vec<Month> = periods
            .iter()
            .map(|&(y, m)| {
                let (ny, nm) = next_month(y, m);
                Month {
                    year: y,
                    month: m,
                    start: epoch_seconds(y, m),
                    end: epoch_seconds(ny, nm),
                    start_text: format!("{y:04}-{m:02}-01{suffix}"),
                    end_text: format!("{ny:04}-{nm:02}-01{suffix}"),
                    commitment_id: format!(
                        "arn:aws:savingsplans::{account}:savingsplan/sp-{y}{m:02}"
                    ),
                }
            })
            .collect();
        let text: Vec<ResourceText> = resources
            .iter()
            .map(|r| ResourceText {
                description: format!("{} {}", r.phase.service().0, r.phase.name()),
                tags_csv: r.tags.text().map(csv_escape).unwrap_or_default(),
            })
            .collect();
        let plain = |t: &str| !t.contains([',', '"', '\n', '\r']);
        let csv_safe = resources.iter().zip(&text).all(|(r, t)| {
            plain(&r.id) && plain(&r.account) && plain(&r.account_name) && plain(&t.description)
        }) && months.iter().all(|m| plain(&m.commitment_id))
            && cur_tags.all_values(plain);
        Ctx {
            resources,
            months,
            text,
            time_text,
            rounding,
            instances,
            cur_tags,
            csv_safe,
            seed,
        }
    }

    /// Number of billing months.
    pub fn months(&self) -> usize {
        self.months.len()
    }

    pub fn resource(&self, row: &Row) -> &Resource {
        &self.resources[row.resource as usize]
    }

    /// Epoch seconds of one of the row's instants.
    pub fn seconds(&self, row: &Row, which: Instant) -> i64 {
        let m = &self.months[usize::from(row.period)];
        let whole = row.kind.is_commitment_row();
        let charge =
            m.start + (i64::from(row.day.max(1)) - 1) * 86_400 + i64::from(row.hour) * 3600;
        match which {
            Instant::BillingStart => m.start,
            Instant::BillingEnd => m.end,
            Instant::ChargeStart if whole => m.start,
            Instant::ChargeEnd if whole => m.end,
            Instant::ChargeStart => charge,
            // the hour 23 ends at 23:59:59, as in the FOCUS sample
            Instant::ChargeEnd if row.hour == 23 => charge + 3599,
            Instant::ChargeEnd => charge + 3600,
        }
    }

    /// Writes an instant as text.
    pub fn write_instant(&self, row: &Row, which: Instant, out: &mut Vec<u8>) {
        let m = &self.months[usize::from(row.period)];
        let whole = row.kind.is_commitment_row();
        match which {
            Instant::BillingStart => out.extend_from_slice(m.start_text.as_bytes()),
            Instant::BillingEnd => out.extend_from_slice(m.end_text.as_bytes()),
            Instant::ChargeStart if whole => out.extend_from_slice(m.start_text.as_bytes()),
            Instant::ChargeEnd if whole => out.extend_from_slice(m.end_text.as_bytes()),
            Instant::ChargeStart | Instant::ChargeEnd => {
                let (h, min_sec): (u8, &[u8]) = match (which, row.hour) {
                    (Instant::ChargeStart, h) => (h, b":00:00"),
                    (_, 23) => (23, b":59:59"),
                    (_, h) => (h + 1, b":00:00"),
                };
                let _ = write!(out, "{:04}-", m.year);
                push2(out, m.month as u8);
                out.push(b'-');
                push2(out, row.day);
                out.push(b'T');
                push2(out, h);
                out.extend_from_slice(min_sec);
                out.extend_from_slice(match self.time_text {
                    TimeText::Seconds => b"Z",
                    TimeText::Millis => b".000Z",
                });
            }
        }
    }

    pub fn category(&self, row: &Row) -> &'static str {
        match row.kind {
            Kind::Purchase => "Purchase",
            Kind::Credit => "Credit",
            Kind::Unused | Kind::Usage | Kind::Covered => "Usage",
        }
    }

    pub fn status(&self, row: &Row) -> Option<&'static str> {
        match row.kind {
            Kind::Unused => Some("Unused"),
            Kind::Covered => Some("Used"),
            _ => None,
        }
    }

    pub fn description(&self, row: &Row) -> &str {
        &self.text[row.resource as usize].description
    }

    pub fn commitment_id(&self, row: &Row) -> Option<&str> {
        row.kind
            .has_commitment()
            .then(|| self.months[usize::from(row.period)].commitment_id.as_str())
    }

    fn instance(&self, row: &Row) -> Option<[u8; 19]> {
        match (self.instances, row.kind.is_commitment_row()) {
            (Some(inst), false) => Some(inst.id(row.resource, row.index)),
            _ => None,
        }
    }

    /// The ResourceId: the commitment for commitment rows; with high cardinality the
    /// instance is appended (`.../<resource>/i-0...`).
    pub fn resource_id<'s>(&'s self, row: &Row, scratch: &mut Vec<u8>) -> Val<'s> {
        if row.kind.is_commitment_row() {
            return Val::Str(&self.months[usize::from(row.period)].commitment_id);
        }
        let id = &self.resource(row).id;
        match self.instance(row) {
            None => Val::Str(id),
            Some(inst) => {
                scratch.extend_from_slice(id.as_bytes());
                scratch.push(b'/');
                scratch.extend_from_slice(&inst);
                Val::Scratch
            }
        }
    }

    /// The tags of a row (none on commitment rows).
    pub fn tags(&self, row: &Row) -> &Tags {
        static NONE: Tags = Tags::None;
        if row.kind.is_commitment_row() {
            &NONE
        } else {
            &self.resource(row).tags
        }
    }

    /// The extra tag of the high-cardinality shape (only with key-value tags).
    pub fn instance_tag(&self, row: &Row) -> Option<[u8; 19]> {
        match self.tags(row) {
            Tags::Pairs { .. } => self.instance(row),
            _ => None,
        }
    }

    /// The FOCUS Tags text (JSON, or the non-JSON text of a few resources).
    pub fn tags_text<'s>(&'s self, row: &Row, scratch: &mut Vec<u8>) -> Val<'s> {
        match (self.tags(row), self.instance_tag(row)) {
            (Tags::None, _) => Val::Null,
            (Tags::Pairs { json, .. }, Some(inst)) => {
                scratch.extend_from_slice(&json.as_bytes()[..json.len() - 1]);
                write_instance_pair(scratch, &inst, b"\"");
                scratch.push(b'}');
                Val::Scratch
            }
            (t, _) => t.text().map_or(Val::Null, Val::Str),
        }
    }

    /// Appends the Tags field of a CSV line (quoted JSON).
    pub fn write_tags_csv(&self, row: &Row, out: &mut Vec<u8>) {
        let text = &self.text[row.resource as usize].tags_csv;
        if row.kind.is_commitment_row() || text.is_empty() {
            return;
        }
        match self.instance_tag(row) {
            // the quoted JSON ends with `}"`: insert before it, quotes doubled
            Some(inst) if text.ends_with("}\"") => {
                out.extend_from_slice(&text.as_bytes()[..text.len() - 2]);
                write_instance_pair(out, &inst, b"\"\"");
                out.extend_from_slice(b"}\"");
            }
            _ => out.extend_from_slice(text.as_bytes()),
        }
    }

    /// Appends a cost's text (rounded as the shape says).
    pub fn write_cost(&self, cost: &Cost, out: &mut Vec<u8>) {
        cost.write_rounded(self.rounding, out);
    }
}

impl Ctx<'_> {
    /// A CUR 1 tag column's value for a row.
    pub fn cur_tag<'s>(&'s self, row: &Row, column: u32, scratch: &mut Vec<u8>) -> Val<'s> {
        if !matches!(self.tags(row), Tags::Pairs { .. }) {
            return Val::Null;
        }
        if self.cur_tags.instance == Some(column) {
            return match self.instance_tag(row) {
                Some(inst) => {
                    scratch.extend_from_slice(&inst);
                    Val::Scratch
                }
                None => Val::Null,
            };
        }
        self.cur_tags
            .value(row.resource, column)
            .map_or(Val::Null, Val::Str)
    }

    /// `identity/LineItemId`: 26 base-32 characters, unique in the export (a bijection of
    /// the row's position).
    pub fn write_line_item_id(&self, row: &Row, out: &mut Vec<u8>) {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        for h in [mix(self.seed, row.index), mix(!self.seed, row.index)] {
            for i in 0..13 {
                out.push(ALPHABET[((h >> (5 * i)) & 31) as usize]);
            }
        }
    }

    /// `identity/TimeInterval`: `start/end` of the charge, in seconds.
    pub fn write_interval(&self, row: &Row, out: &mut Vec<u8>) {
        for (i, which) in [Instant::ChargeStart, Instant::ChargeEnd]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                out.push(b'/');
            }
            let secs = self.seconds(row, which);
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"));
        }
    }
}

/// `, "instance": "i-0..."` with the given quote.
fn write_instance_pair(out: &mut Vec<u8>, inst: &[u8], quote: &[u8]) {
    out.extend_from_slice(b", ");
    out.extend_from_slice(quote);
    out.extend_from_slice(INSTANCE_KEY.as_bytes());
    out.extend_from_slice(quote);
    out.extend_from_slice(b": ");
    out.extend_from_slice(quote);
    out.extend_from_slice(inst);
    out.extend_from_slice(quote);
}

fn push2(out: &mut Vec<u8>, v: u8) {
    out.push(b'0' + v / 10 % 10);
    out.push(b'0' + v % 10);
}
