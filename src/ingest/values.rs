//! The values every billing row is classified by, parsed from text the same way whatever
//! the format or reader: the billing month of a period-start text and the currency code.

/// The billing period `YYYY-MM` of a period-start text: ISO dates and timestamps, `YYYY-MM`,
/// `YYYYMM` and US `M/D/YYYY`. None for anything else, or an impossible date.
///
/// One rule for every input: **the month of the instant in UTC**. A timestamp with an offset
/// (`2026-10-01T00:00:00+02:00`, `+0200`, `+02`, `+02:00:00`) is converted to UTC first
/// (here: 2026-09-30T22:00Z, so September), exactly as a Parquet timestamp with a time zone
/// is; a text without an offset, or with `Z`, `UTC` or `GMT`, is read as UTC. So one instant
/// has one month whether it comes from CSV or Parquet. A named zone (`CEST`,
/// `[Europe/Paris]`) or anything else after the clock is not guessed at: the text has no
/// period, and its row is quarantined. FOCUS requires UTC; an export that writes local month
/// starts should be converted before it is read.
pub fn billing_period(raw: &str) -> Option<String> {
    if let Some(day) = utc_day(raw) {
        return Some(day.format("%Y-%m").to_string());
    }
    let t = raw.trim();
    let b = t.as_bytes();
    let ym = |y: i32, m: u32| (1..=12).contains(&m).then(|| format!("{y:04}-{m:02}"));
    if b.len() == 7 && b[4] == b'-' {
        return ym(t[..4].parse().ok()?, t[5..].parse().ok()?);
    }
    if b.len() == 6 && b.iter().all(u8::is_ascii_digit) {
        return ym(t[..4].parse().ok()?, t[4..].parse().ok()?);
    }
    None
}

/// The charge day `YYYY-MM-DD` of a charge-period-start text, by the rule of
/// `billing_period`: the UTC date of the instant of an ISO date or timestamp (offsets
/// converted) or a US `M/D/YYYY` date. None for anything else: a month alone has no day.
pub fn charge_day(raw: &str) -> Option<String> {
    utc_day(raw).map(|d| d.format("%Y-%m-%d").to_string())
}

/// The UTC date of an ISO or US date or timestamp text (see `billing_period`).
fn utc_day(raw: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    // a four-digit year, as every reader of the tables parses a date
    utc_day_any_year(raw).filter(|d| (0..=9999).contains(&d.year()))
}

fn utc_day_any_year(raw: &str) -> Option<chrono::NaiveDate> {
    use chrono::NaiveDate;
    let t = raw.trim();
    let b = t.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let d = NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
        return utc_date(d, &t[10..]);
    }
    if t.contains('/') {
        let (date, rest) = t.split_at(t.find([' ', 'T']).unwrap_or(t.len()));
        let d = NaiveDate::parse_from_str(date, "%m/%d/%Y").ok()?;
        return utc_date(d, rest);
    }
    None
}

/// The UTC date of local date `d` at the time part `rest` (`T08:30:00.5+02:00`, ` 07:00 UTC`,
/// or nothing), or None when `rest` is not a clock with an optional UTC offset.
fn utc_date(d: chrono::NaiveDate, rest: &str) -> Option<chrono::NaiveDate> {
    Some(utc_instant(d, rest)?.date())
}

/// The UTC instant of an ISO date or timestamp text (`2026-10-05T00:00:00.000Z`,
/// `2026-10-05 02:00:00+02:00`, `2026-10-05`), by the rule of `billing_period`; None for
/// anything else. Two spellings of one instant (a CSV's and a Parquet timestamp's) give one
/// value.
pub fn utc_timestamp(raw: &str) -> Option<chrono::NaiveDateTime> {
    let t = raw.trim();
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = chrono::NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
    utc_instant(d, &t[10..])
}

/// `utc_date`'s instant: local date `d` at `rest`, in UTC.
fn utc_instant(d: chrono::NaiveDate, rest: &str) -> Option<chrono::NaiveDateTime> {
    let Some(time) = rest.strip_prefix(['T', 't', ' ']) else {
        return rest.is_empty().then(|| d.and_time(chrono::NaiveTime::MIN));
    };
    let clock_end = time
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(time.len());
    let (clock, suffix) = time.split_at(clock_end);
    let clock = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveTime::parse_from_str(clock, f).ok())?;
    let offset = match suffix.trim_start() {
        "" | "Z" | "z" | "UTC" | "GMT" => 0,
        zone => utc_offset_seconds(zone)?,
    };
    d.and_time(clock)
        .checked_sub_signed(chrono::Duration::seconds(offset))
}

/// Seconds east of UTC of an offset `+HH`, `+HHMM`, `+HH:MM`, `+HHMMSS` or `+HH:MM:SS` (or
/// `-`), or None for anything else.
fn utc_offset_seconds(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &zone[1..];
    let shape: String = body
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    if !matches!(
        shape.as_str(),
        "99" | "9999" | "99:99" | "999999" | "99:99:99"
    ) {
        return None;
    }
    let digits = body.replace(':', "");
    let field = |at: usize| {
        digits
            .get(at..at + 2)
            .map_or(Some(0), |f| f.parse::<i64>().ok())
    };
    let (h, m, s) = (field(0)?, field(2)?, field(4)?);
    (h <= 23 && m <= 59 && s <= 59).then_some(sign * (h * 3600 + m * 60 + s))
}

/// An upper-case ISO 4217-shaped code, or None.
pub fn currency_code(raw: &str) -> Option<String> {
    let t = raw.trim();
    (t.len() == 3 && t.bytes().all(|c| c.is_ascii_alphabetic())).then(|| t.to_ascii_uppercase())
}

/// Each distinct period and currency text parsed once (a month has millions of rows but a
/// handful of distinct texts); shared by the ledger and the merge across files.
#[derive(Debug, Default)]
pub struct ValueCache {
    periods: std::collections::HashMap<String, Option<String>>,
    currencies: std::collections::HashMap<String, Option<String>>,
    days: std::collections::HashMap<String, Option<String>>,
}

impl ValueCache {
    /// `billing_period` of `raw`, parsed the first time it is seen.
    pub fn period(&mut self, raw: &str) -> Option<String> {
        if let Some(p) = self.periods.get(raw) {
            return p.clone();
        }
        let p = billing_period(raw);
        self.periods.insert(raw.to_string(), p.clone());
        p
    }

    /// `charge_day` of `raw`, parsed the first time it is seen.
    pub fn day(&mut self, raw: &str) -> Option<String> {
        if let Some(d) = self.days.get(raw) {
            return d.clone();
        }
        let d = charge_day(raw);
        self.days.insert(raw.to_string(), d.clone());
        d
    }

    /// `currency_code` of `raw`, parsed the first time it is seen.
    pub fn currency(&mut self, raw: &str) -> Option<String> {
        if let Some(c) = self.currencies.get(raw) {
            return c.clone();
        }
        let c = currency_code(raw);
        self.currencies.insert(raw.to_string(), c.clone());
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instant_however_it_is_spelled() {
        let want = utc_timestamp("2026-10-05T00:00:00Z").unwrap();
        for t in [
            "2026-10-05T00:00:00.000Z",
            "2026-10-05 00:00:00",
            "2026-10-05",
            "2026-10-05T02:00:00+02:00",
            "2026-10-04 19:00:00-0500",
            " 2026-10-05t00:00 UTC ",
        ] {
            assert_eq!(utc_timestamp(t), Some(want), "{t}");
        }
        assert_eq!(utc_timestamp("10/5/2026"), None);
        assert_eq!(utc_timestamp("2026-10-05T00:00:00 PST"), None);
    }

    #[test]
    fn billing_periods_from_real_world_timestamps() {
        for (raw, want) in [
            ("2024-09-01T00:00:00Z", "2024-09"),
            ("2024-09-01 00:00:00", "2024-09"),
            ("2024-09-01T00:00:00.000Z", "2024-09"),
            ("2024-09-01", "2024-09"),
            ("2024-09", "2024-09"),
            ("202409", "2024-09"),
            ("9/1/2024", "2024-09"),
            ("09/01/2024 00:00", "2024-09"),
            ("2024-09-01 07:00:00 UTC", "2024-09"),
            // offsets: the month of the instant in UTC
            ("2026-10-01T00:00:00+02:00", "2026-09"),
            ("2026-10-01T00:00:00+0200", "2026-09"),
            ("2026-10-01T01:59:59.999+02", "2026-09"),
            ("2026-10-01T02:00:00+02:00", "2026-10"),
            ("2026-09-30T23:00:00-05:00", "2026-10"),
            ("2026-10-01T00:00:00Z", "2026-10"),
            ("2026-10-01T00:00:00+00:00", "2026-10"),
            ("2026-12-31T22:00:00-03:00", "2027-01"),
            ("2026-10-01T00:30:00+00:30:01", "2026-09"),
            ("2026-10-01T00:30:00+003001", "2026-09"),
            ("2026-10-01T00:30:00+00:30:00", "2026-10"),
            ("2026-10-01 00:00:00 +0200", "2026-09"),
            ("2026-10-01 00:00:00 GMT", "2026-10"),
            ("10/1/2026 00:00:00+02:00", "2026-09"),
        ] {
            assert_eq!(billing_period(raw).as_deref(), Some(want), "{raw}");
        }
        for bad in [
            "2024-02-30",
            "2024-13",
            "yesterday",
            "",
            "2024-09-01X",
            "13/1/2024",
            // named zones and anything else after the clock are not guessed at
            "2026-10-01T00:00:00+02:00[Europe/Paris]",
            "2026-10-01 00:00:00 CEST",
            "2026-10-01T00:00:00+2",
            "2026-10-01T00:00:00+02:0",
            "2026-10-01T00:00:00+24:00",
            "2026-10-01T00:00:00+02:00:60",
            "2026-10-01T25:00:00",
            "10/1/2026 noon",
            "01/01/-262143 00:00 +05:00",
            "01/01/-0005",
        ] {
            assert_eq!(billing_period(bad), None, "{bad}");
        }
    }

    #[test]
    fn charge_days_are_utc_dates() {
        for (raw, want) in [
            ("2026-10-05T00:00:00Z", Some("2026-10-05")),
            ("2026-10-05", Some("2026-10-05")),
            ("2026-10-05T23:30:00-02:00", Some("2026-10-06")),
            ("2026-10-06T01:00:00+02:00", Some("2026-10-05")),
            ("10/5/2026", Some("2026-10-05")),
            ("10/05/2026 00:00", Some("2026-10-05")),
            ("2026-10", None),
            ("202610", None),
            ("2026-02-30", None),
            ("9999-12-31T23:59:59-14:00", None),
            ("01/01/-262143 00:00 +05:00", None),
            ("01/01/-5", None),
            ("", None),
        ] {
            assert_eq!(charge_day(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn currencies() {
        assert_eq!(currency_code(" usd").as_deref(), Some("USD"));
        assert_eq!(currency_code("US$"), None);
        assert_eq!(currency_code(""), None);
    }
}
