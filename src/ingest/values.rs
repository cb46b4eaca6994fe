//! The values every billing row is classified by, parsed from text the same way whatever
//! the format or reader: the billing month of a period-start text and the currency code.

/// The billing period `YYYY-MM` of a period-start text: ISO dates and timestamps, `YYYY-MM`,
/// `YYYYMM` and US `M/D/YYYY`. None for anything else, or an impossible date.
///
/// One rule for every input: **the month of the instant in UTC**. A timestamp with an offset
/// (`2026-10-01T00:00:00+02:00`) is converted to UTC first (here: 2026-09-30T22:00Z, so
/// September), exactly as a Parquet timestamp with a time zone is; a text without an offset,
/// or with `Z` or ` UTC`, is read as UTC. So one instant has one month whether it comes from
/// CSV or Parquet. FOCUS requires UTC; an export that writes local month starts with an
/// offset should be converted before it is read.
pub fn billing_period(raw: &str) -> Option<String> {
    use chrono::NaiveDate;
    let t = raw.trim();
    let b = t.as_bytes();
    let ym = |y: i32, m: u32| (1..=12).contains(&m).then(|| format!("{y:04}-{m:02}"));
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let d = NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
        let rest = &t[10..];
        if !(rest.is_empty() || rest.starts_with(['T', 't', ' '])) {
            return None;
        }
        let d = match utc_offset_minutes(rest) {
            Some(offset) if offset != 0 => {
                let local = d.and_time(time_of_day(rest)?);
                (local - chrono::Duration::minutes(offset)).date()
            }
            _ => d,
        };
        return Some(d.format("%Y-%m").to_string());
    }
    if b.len() == 7 && b[4] == b'-' {
        return ym(t[..4].parse().ok()?, t[5..].parse().ok()?);
    }
    if b.len() == 6 && b.iter().all(u8::is_ascii_digit) {
        return ym(t[..4].parse().ok()?, t[4..].parse().ok()?);
    }
    if t.contains('/') {
        let date = t.split([' ', 'T']).next()?;
        let d = NaiveDate::parse_from_str(date, "%m/%d/%Y").ok()?;
        return Some(d.format("%Y-%m").to_string());
    }
    None
}

/// The UTC offset in minutes at the end of the time part of a timestamp (`+02:00`, `-0530`,
/// `+02`), or None when it has none (`Z`, ` UTC` and no suffix are UTC).
fn utc_offset_minutes(rest: &str) -> Option<i64> {
    let time = rest.get(1..)?.trim_end();
    // the offset sign comes after the clock (HH:MM...), never inside it
    let at = time.rfind(['+', '-']).filter(|i| *i >= 5)?;
    let (sign, digits) = (&time[at..at + 1], time[at + 1..].replace(':', ""));
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let total = hours * 60 + minutes;
    Some(if sign == "-" { -total } else { total })
}

/// The clock time of a timestamp's time part (`T08:30:00.5+02:00` -> 08:30:00.5).
fn time_of_day(rest: &str) -> Option<chrono::NaiveTime> {
    let time = rest.get(1..)?.trim();
    let end = time.find(['+', '-', 'Z', 'z', ' ']).unwrap_or(time.len());
    let clock = &time[..end];
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveTime::parse_from_str(clock, f).ok())
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
        ] {
            assert_eq!(billing_period(bad), None, "{bad}");
        }
    }

    #[test]
    fn currencies() {
        assert_eq!(currency_code(" usd").as_deref(), Some("USD"));
        assert_eq!(currency_code("US$"), None);
        assert_eq!(currency_code(""), None);
    }
}
