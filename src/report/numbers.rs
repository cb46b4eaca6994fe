//! Numbers as a person reads them in the report: thousands separators, a currency symbol or
//! code, and significant digits that never show a non-zero amount as zero (0.0000412, not
//! 0.0000). Display only: every figure stays an exact decimal in the tables.

use crate::money::Money;

/// Groups the digits of a whole number by thousands: `1234567` -> `1,234,567`. Hand-written:
/// a dozen lines for the one separator style mlcost prints; a formatting crate would bring
/// locales we do not want in a log.
pub fn grouped(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// A count with thousands separators.
pub fn count(n: i64) -> String {
    grouped(&n.to_string())
}

/// An amount with thousands separators: two decimals from 1 up; below 1, three significant
/// digits (so a non-zero amount never shows as zero); exactly `0` for zero.
pub fn amount(m: Money) -> String {
    if m.is_zero() {
        return "0".to_string();
    }
    let abs = Money(m.0.abs());
    let sign = if m.0 < 0 { "-" } else { "" };
    if abs >= Money::parse("1").unwrap_or_default() {
        let fixed = abs.to_fixed(2);
        let (whole, frac) = fixed.split_once('.').unwrap_or((&fixed, "00"));
        return format!("{sign}{}.{frac}", grouped(whole));
    }
    // below 1: the leading zeros, then three significant digits (18 decimals at most)
    let text = abs.to_fixed(18);
    let frac = text.split_once('.').map_or("", |(_, f)| f);
    let zeros = frac.chars().take_while(|c| *c == '0').count();
    let places = (zeros + 3).min(18) as u32;
    let shown = abs.to_fixed(places);
    let shown = shown.trim_end_matches('0').trim_end_matches('.');
    format!("{sign}{shown}")
}

/// The symbol of a currency when it is unambiguous, else its code and a space.
fn prefix(currency: &str) -> String {
    match currency {
        "USD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" => "¥".into(),
        "INR" => "₹".into(),
        other => format!("{other} "),
    }
}

/// An amount of money: `$1,234.56`, `€0.0412`, `CHF 12.00`.
pub fn money(m: Money, currency: &str) -> String {
    let text = amount(m);
    match text.strip_prefix('-') {
        Some(abs) => format!("-{}{abs}", prefix(currency)),
        None => format!("{}{text}", prefix(currency)),
    }
}

/// A share as a percentage with one decimal (`12.3%`), more where one decimal would round a
/// part that is not the whole to 100% or a non-zero part to 0%; `-` when unknown.
pub fn percent(part: Money, whole: Money) -> String {
    let Some(r) = part.ratio(whole) else {
        return "-".to_string();
    };
    let pct = r * 100.0;
    let misleading = |t: &str| {
        let v: f64 = t.parse().unwrap_or(0.0);
        (v.abs() == 100.0 && part != whole) || (v == 0.0 && !part.is_zero())
    };
    let mut places = 1;
    let mut text = format!("{pct:.places$}");
    while misleading(&text) && places < 6 {
        places += 1;
        text = format!("{pct:.places$}");
    }
    match (misleading(&text), pct > 0.0) {
        (false, _) => format!("{text}%"),
        // closer than a millionth of a percent, and still not all (or not none)
        (true, true) if pct.abs() > 50.0 => "just under 100%".to_string(),
        (true, _) if pct.abs() > 50.0 => "just under -100%".replace("under", "above"),
        (true, true) => "just over 0%".to_string(),
        (true, false) => "just under 0%".to_string(),
    }
}

/// A signed change: `+$12.00` / `-$3.10`.
pub fn change(m: Money, currency: &str) -> String {
    match m.0 >= 0 {
        true => format!("+{}", money(m, currency)),
        false => money(m, currency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn thousands_and_significant_digits() {
        assert_eq!(amount(m("1234567.891")), "1,234,567.89");
        assert_eq!(amount(m("-1234.5")), "-1,234.50");
        assert_eq!(amount(m("0.000041234")), "0.0000412");
        assert_eq!(amount(m("0.5")), "0.5");
        assert_eq!(amount(m("0.000000000000000001")), "0.000000000000000001");
        assert_eq!(amount(m("0")), "0");
        assert_eq!(money(m("7012.1"), "USD"), "$7,012.10");
        assert_eq!(money(m("-3.1"), "CHF"), "-CHF 3.10");
        assert_eq!(change(m("3.1"), "EUR"), "+€3.10");
        assert_eq!(count(178_502_214), "178,502,214");
        assert_eq!(count(-12), "-12");
        assert_eq!(percent(m("1"), m("3")), "33.3%");
        assert_eq!(percent(m("1"), m("0")), "-");
        assert_eq!(percent(m("99.9996"), m("100")), "99.9996%");
        assert_eq!(percent(m("0.0003"), m("100")), "0.0003%");
    }
}
