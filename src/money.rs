//! Exact money: amounts are `i128` counts of 10^-18 of a currency unit (decimal128(38, 18)).
//! This module parses decimal text (plain or scientific notation) straight to that integer,
//! never through a float, formats it back, and splits an amount by weights with
//! largest-remainder rounding. It owns no I/O; an overflow is reported as `Error::Overflow`.

use std::fmt;

/// Digits after the decimal point that every amount carries.
pub const SCALE: u32 = 18;
/// 10^SCALE.
pub const ONE: i128 = 1_000_000_000_000_000_000;
/// Significant digits a number may have before it is out of range (38 plus room for
/// trailing digits that rounding removes).
const MAX_DIGITS: usize = 64;
/// Precision of the Parquet decimal columns we write.
pub const PRECISION: usize = 38;
/// The largest magnitude decimal(38,18) holds: 10^38 - 1 units of 10^-18.
pub const MAX_ABS: i128 = 10i128.pow(38) - 1;

/// An exact amount of money (or any decimal quantity) at scale 18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i128);

/// `total += x`, or an overflow error saying what was being summed (`what` is only built on
/// failure).
pub fn accumulate(
    total: &mut Money,
    x: Money,
    what: impl FnOnce() -> String,
) -> crate::error::Result<()> {
    *total = total
        .checked_add(x)
        .ok_or_else(|| crate::error::Error::Overflow {
            what: what(),
            detail: format!("{total} + {x} leaves decimal(38,18)"),
        })?;
    Ok(())
}

/// Why a text could not be read as a decimal amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMoneyError {
    Empty,
    NotANumber,
    OutOfRange,
}

impl fmt::Display for ParseMoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseMoneyError::Empty => "empty value",
            ParseMoneyError::NotANumber => "not a decimal number",
            ParseMoneyError::OutOfRange => "out of range for decimal(38,18)",
        })
    }
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// Parses decimal text such as `12.5`, `-0.000000000000000001`, `1.81E-8`, `+3e2`.
    /// Surrounding white space is ignored. Digits beyond 18 decimals are rounded half to even.
    /// `NaN`, `inf`, thousands separators and hex are rejected.
    pub fn parse(text: &str) -> Result<Money, ParseMoneyError> {
        parse_signed(text, |rest| match parse_exact(rest) {
            Some(m) => Ok(m),
            None => parse_magnitude(rest),
        })
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// Money from trimmed, signed text, the magnitude of what follows the sign by `magnitude`.
fn parse_signed(
    text: &str,
    magnitude: impl Fn(&[u8]) -> Result<i128, ParseMoneyError>,
) -> Result<Money, ParseMoneyError> {
    let s = text.trim().as_bytes();
    if s.is_empty() {
        return Err(ParseMoneyError::Empty);
    }
    let (negative, rest) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let m = magnitude(rest)?;
    Ok(Money(if negative { -m } else { m }))
}

/// The general path of `Money::parse`: the magnitude (scale 18) of an unsigned number.
fn parse_magnitude(rest: &[u8]) -> Result<i128, ParseMoneyError> {
    {
        // Split mantissa and exponent.
        let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => parse_exponent(e)?,
        };
        // Collect significant digits (on the stack: this runs once per cost cell) and the
        // position of the decimal point.
        let mut buf = [0u8; MAX_DIGITS];
        let mut n = 0usize;
        let mut frac_digits: i64 = 0;
        let mut seen_point = false;
        for &b in mantissa {
            match b {
                b'0'..=b'9' => {
                    if n == 0 && b == b'0' {
                        // leading zero: contributes nothing but its fractional position
                    } else if n < MAX_DIGITS {
                        buf[n] = b - b'0';
                        n += 1;
                    } else {
                        return Err(ParseMoneyError::OutOfRange);
                    }
                    if seen_point {
                        frac_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => return Err(ParseMoneyError::NotANumber),
            }
        }
        let had_digit = mantissa.iter().any(u8::is_ascii_digit);
        if !had_digit {
            return Err(ParseMoneyError::NotANumber);
        }
        // value = digits * 10^(exp - frac_digits); we want value * 10^SCALE.
        let shift = exp - frac_digits + SCALE as i64;
        scale_digits(&buf[..n], shift)
    }
}

impl Money {
    /// `is_zero` by reference (for serde's `skip_serializing_if`).
    pub fn is_zero_ref(&self) -> bool {
        self.0 == 0
    }

    /// Whether the amount fits decimal(38,18), the type every output column has.
    pub fn in_range(self) -> bool {
        self.0.unsigned_abs() <= MAX_ABS as u128
    }

    /// `self + other`, or None when the sum leaves decimal(38,18).
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .filter(|m| m.in_range())
    }

    /// `self - other`, or None when the difference leaves decimal(38,18).
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .filter(|m| m.in_range())
    }

    /// `self * other` at scale 18, or None when the product leaves decimal(38,18).
    pub fn checked_mul(self, other: Money) -> Option<Money> {
        mul_div(self.0, other.0, ONE)
            .map(|(q, _)| Money(q))
            .filter(|m| m.in_range())
    }

    /// The sum of `items`, or None as soon as a partial sum leaves decimal(38,18).
    pub fn checked_sum(items: impl IntoIterator<Item = Money>) -> Option<Money> {
        items
            .into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }

    /// `to_fixed(places)`, unless that would show a non-zero amount as zero: then the leading
    /// zeros and three significant digits (`0.0000412`), so a tiny unit cost never reads 0.
    pub fn to_fixed_nonzero(self, places: u32) -> String {
        let fixed = self.to_fixed(places);
        if self.is_zero() || fixed.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return fixed;
        }
        let text = Money(self.0.abs()).to_fixed(SCALE);
        let frac = text.split_once('.').map_or("", |(_, f)| f);
        let zeros = frac.bytes().take_while(|b| *b == b'0').count() as u32;
        let shown = self.to_fixed((zeros + 3).min(SCALE));
        shown.trim_end_matches('0').to_string()
    }

    /// Formats with exactly `places` decimals (rounded half away from zero), e.g. for reports.
    pub fn to_fixed(self, places: u32) -> String {
        let places = places.min(SCALE);
        let unit = 10i128.pow(SCALE - places);
        let rounded = div_round_half_away(self.0, unit);
        let sign = if rounded < 0 { "-" } else { "" };
        let abs = rounded.unsigned_abs();
        if places == 0 {
            return format!("{sign}{abs}");
        }
        let p = 10u128.pow(places);
        format!(
            "{sign}{}.{:0width$}",
            abs / p,
            abs % p,
            width = places as usize
        )
    }

    /// `self * mul / div` rounded half away from zero, formed in 256 bits (e.g. cost per 1,000
    /// requests); None when `div` is 0 or the result leaves decimal(38,18).
    pub fn mul_int_div(self, mul: i128, div: i128) -> Option<Money> {
        let (q, r) = mul_div(self.0, mul, div)?;
        // round half away from zero: |r| * 2 >= |div| moves q one step away from zero
        let away = r.unsigned_abs() * 2 >= div.unsigned_abs();
        let negative = ((self.0 < 0) != (mul < 0)) != (div < 0);
        let q = match (away, negative) {
            (false, _) => q,
            (true, true) => q.checked_sub(1)?,
            (true, false) => q.checked_add(1)?,
        };
        Some(Money(q)).filter(|m| m.in_range())
    }

    /// `self` per `scale` units of a decimal `quantity` (`self x scale / quantity`: cost per
    /// 1,000,000 tokens), rounded half away from zero; None for a zero quantity or a result
    /// out of range.
    pub fn per(self, scale: i64, quantity: Money) -> Option<Money> {
        self.mul_int_div(i128::from(scale).checked_mul(ONE)?, quantity.0)
    }

    /// `self / divisor` at scale 18, rounded half away from zero; None when divisor is 0.
    pub fn div_int(self, divisor: i128) -> Option<Money> {
        if divisor == 0 {
            return None;
        }
        Some(Money(div_round_half_away(self.0, divisor)))
    }

    /// `part / whole` as a decimal fraction at scale 18 (truncated), exact for any i128 inputs;
    /// None when `whole` is 0 or the fraction leaves decimal(38,18).
    pub fn fraction(part: i128, whole: i128) -> Option<Money> {
        mul_div(part, ONE, whole)
            .map(|(q, _)| Money(q))
            .filter(|m| m.in_range())
    }

    /// `part / whole` in percent (12.5 = 12.5%) at scale 18 (truncated), formed in 256 bits;
    /// None when `whole` is 0 or the result leaves decimal(38,18).
    pub fn percent(part: Money, whole: Money) -> Option<Money> {
        mul_div(part.0, 100 * ONE, whole.0)
            .map(|(q, _)| Money(q))
            .filter(|m| m.in_range())
    }

    /// An exact amount from a TOML/JSON number, through its shortest text form.
    pub fn from_f64(x: f64) -> Result<Money, ParseMoneyError> {
        if !x.is_finite() {
            return Err(ParseMoneyError::NotANumber);
        }
        Money::parse(&x.to_string())
    }

    /// Ratio `self / other` as an f64, for percentages in reports only (never for money).
    pub fn ratio(self, other: Money) -> Option<f64> {
        if other.0 == 0 {
            None
        } else {
            Some(self.0 as f64 / other.0 as f64)
        }
    }
}

impl fmt::Display for Money {
    /// Shortest exact decimal form: trailing zeros after the point are dropped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = abs / ONE as u128;
        let frac = abs % ONE as u128;
        if frac == 0 {
            return write!(f, "{sign}{int}");
        }
        let frac = format!("{frac:018}");
        write!(f, "{sign}{int}.{}", frac.trim_end_matches('0'))
    }
}

/// Money serialises as its exact decimal text (JSON numbers would go through floats).
impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From the exact decimal text it serialises to (partition manifests are read back).
impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let text = String::deserialize(d)?;
        Money::parse(&text)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a decimal amount")))
    }
}

/// In JSON Schemas: the exact decimal text money serialises to.
impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "an exact decimal amount (decimal(38,18)) as text, e.g. \"-12.5\"",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$"
        })
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

/// The common case of `Money::parse` (after the sign) without its digit buffer: at most 19
/// significant digits, an exponent of at most 4 digits, and a value that is exact at scale 18
/// and in range (every amount a provider writes, every shortest round-trip double but the
/// tiniest); None sends anything else to the general path, which also says why it fails.
fn parse_exact(s: &[u8]) -> Option<i128> {
    const POW10: [i128; 39] = {
        let mut t = [1i128; 39];
        let mut k = 1;
        while k < 39 {
            t[k] = t[k - 1] * 10;
            k += 1;
        }
        t
    };
    let (mut mantissa, mut significant, mut frac, mut point, mut digit) =
        (0u64, 0, 0i64, false, false);
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'0'..=b'9' => {
                digit = true;
                if significant == 0 && b == b'0' {
                    // a leading zero only moves the point
                } else if significant == 19 {
                    return None;
                } else {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    significant += 1;
                }
                frac += i64::from(point);
            }
            b'.' if !point => point = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        i += 1;
    }
    let exp = match s.get(i) {
        None => 0,
        Some(_) => parse_exponent(&s[i + 1..]).ok()?,
    };
    let shift = usize::try_from(exp - frac + SCALE as i64).ok()?;
    let value = i128::from(mantissa).checked_mul(*POW10.get(shift)?)?;
    (digit && value < POW10[38]).then_some(value)
}

fn parse_exponent(e: &[u8]) -> Result<i64, ParseMoneyError> {
    let (neg, digits) = match e.first() {
        Some(b'-') => (true, &e[1..]),
        Some(b'+') => (false, &e[1..]),
        _ => (false, e),
    };
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseMoneyError::NotANumber);
    }
    let v = digits
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Ok(if neg { -v } else { v })
}

/// digits (most significant first) * 10^shift as an integer, rounding half to even when
/// shift drops digits. Errors when the result does not fit 38 digits.
fn scale_digits(digits: &[u8], shift: i64) -> Result<i128, ParseMoneyError> {
    const MAX: i128 = 10i128.pow(38) - 1;
    if digits.is_empty() {
        // zero, however many decimals it is written with (`0.000...0`, `0e-20`)
        return Ok(0);
    }
    let keep = digits.len() as i64 + shift.min(0);
    let mut value: i128 = 0;
    for &d in digits.iter().take(keep.max(0) as usize) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(d)))
            .ok_or(ParseMoneyError::OutOfRange)?;
    }
    if shift > 0 {
        for _ in 0..shift {
            value = value.checked_mul(10).ok_or(ParseMoneyError::OutOfRange)?;
        }
    } else if keep < digits.len() as i64 {
        // Round the dropped tail half to even.
        let dropped = &digits[keep.max(0) as usize..];
        let first = dropped[0];
        let rest_nonzero = dropped[1..].iter().any(|&d| d != 0);
        let beyond = keep < 0; // the whole number sits below the first dropped position
        let round_up = if beyond {
            false
        } else {
            first > 5 || (first == 5 && (rest_nonzero || value % 2 == 1))
        };
        if round_up {
            value += 1;
        }
    }
    if value > MAX {
        return Err(ParseMoneyError::OutOfRange);
    }
    Ok(value)
}

fn div_round_half_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        if (n < 0) != (d < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

/// Splits `total` into `weights.len()` shares proportional to `weights` (non-negative),
/// rounding each share to `quantum` (a power of ten at scale 18, e.g. 10^16 for cents) with
/// largest-remainder rounding, so the shares add up exactly to `total`. The remainders go to
/// the largest fractional parts, ties to the earlier index. Returns None when all weights are 0
/// or their sum leaves i128.
pub fn split_largest_remainder(
    total: Money,
    weights: &[i128],
    quantum: i128,
) -> Option<Vec<Money>> {
    let sum = weights
        .iter()
        .try_fold(0i128, |a, w| a.checked_add(*w))
        .unwrap_or(0);
    if sum <= 0 || weights.iter().any(|w| *w < 0) || quantum <= 0 {
        return None;
    }
    let units_total = total.0 / quantum; // whole quanta to hand out
    let leftover = total.0 - units_total * quantum; // below one quantum: goes to share 0
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut handed = 0i128;
    for (i, &w) in weights.iter().enumerate() {
        // floor(units_total * w / sum) in 256 bits; w <= sum, so the quotient fits
        let (q, r) = mul_div(units_total, w, sum).unwrap_or((0, 0));
        shares.push(q);
        remainders.push((r, i));
        handed += q;
    }
    // Truncation left |missing| < len whole quanta: one each to the largest remainders.
    let mut missing = units_total - handed;
    if missing != 0 {
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let step = missing.signum();
        for &(_, i) in remainders
            .iter()
            .take(missing.unsigned_abs().min(remainders.len() as u128) as usize)
        {
            shares[i] += step;
            missing -= step;
        }
        // never reached with exact arithmetic; keeps the sum exact whatever happens
        shares[0] += missing;
    }
    let mut out: Vec<Money> = shares.into_iter().map(|s| Money(s * quantum)).collect();
    if let Some(first) = out.iter_mut().max_by_key(|m| m.0.abs()) {
        first.0 += leftover;
    }
    Some(out)
}

/// (a * b) / c as (quotient truncated toward zero, |remainder|), exact for every i128 input:
/// the product is formed in 256 bits (`arrow_buffer::i256`, already a dependency through the
/// Parquet reader). None when `c` is 0 or the quotient does not fit i128.
fn mul_div(a: i128, b: i128, c: i128) -> Option<(i128, i128)> {
    use arrow_buffer::i256;
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some((p / c, (p % c).abs()));
    }
    // |a * b| < 2^254: the product of two i128 always fits i256
    let p = i256::from_i128(a).wrapping_mul(i256::from_i128(b));
    let c = i256::from_i128(c);
    let q = p.checked_div(c)?.to_i128()?;
    let r = p.checked_rem(c)?.to_i128()?;
    Some((q, r.abs()))
}

#[cfg(test)]
mod exact_tests {
    use super::*;
    use proptest::prelude::*;

    /// The general path alone (the fast path turned off), for comparison.
    fn general(text: &str) -> Result<Money, ParseMoneyError> {
        parse_signed(text, parse_magnitude)
    }

    proptest! {
        /// Wherever the fast path answers, it is the general path's answer.
        #[test]
        fn the_exact_path_agrees_with_the_general_one(
            sign in prop::sample::select(vec!["", "-", "+"]),
            int in "[0-9]{0,22}",
            frac in prop::option::of("[0-9]{0,22}"),
            exp in prop::option::of((prop::sample::select(vec!["e", "E"]), prop::sample::select(vec!["", "-", "+"]), "[0-9]{1,5}")),
        ) {
            let mut t = format!("{sign}{int}");
            if let Some(f) = frac {
                t.push('.');
                t.push_str(&f);
            }
            if let Some((e, s, d)) = exp {
                t.push_str(&format!("{e}{s}{d}"));
            }
            let sign_less = t.trim_start_matches(['-', '+']);
            if let Some(v) = parse_exact(sign_less.as_bytes()) {
                let negative = t.starts_with('-');
                prop_assert_eq!(Ok(Money(if negative { -v } else { v })), general(&t), "{}", t);
            }
        }

        /// Every double's shortest round-trip text (how float costs are read).
        #[test]
        fn doubles_parse_alike_on_both_paths(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assume!(v.is_finite());
            let mut b = zmij::Buffer::new();
            let t = b.format(v);
            prop_assert_eq!(Money::parse(t), general(t), "{}", t);
        }
    }

    /// Review of issue 15 (helper-20): a zero written with more than 18 decimals (Spark's
    /// decimal(38,20) as text) panicked.
    #[test]
    fn zero_with_any_number_of_decimals_is_zero() {
        for t in [
            "0.00000000000000000000",
            "0e-20",
            "-0E-19",
            "+.0000000000000000000000",
        ] {
            assert_eq!(Money::parse(t), Ok(Money(0)), "{t}");
        }
    }

    #[test]
    fn the_exact_path_takes_the_common_amounts() {
        for t in [
            "0.1",
            "123.456",
            "1e-7",
            "1.5E3",
            "0",
            "000.000100",
            "12345678901234567890",
        ] {
            let s = t.as_bytes();
            assert_eq!(parse_exact(s).is_some(), t != "12345678901234567890", "{t}");
            assert_eq!(Money::parse(t), general(t), "{t}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i128 {
        Money::parse(s).unwrap().0
    }

    #[test]
    fn parses_plain_and_scientific() {
        assert_eq!(p("1"), ONE);
        assert_eq!(p("  -2.5 "), -5 * ONE / 2);
        assert_eq!(p("0.000000000000000001"), 1);
        assert_eq!(p("1.81E-8"), 18_100_000_000);
        assert_eq!(p("6.266090E-12"), 6_266_090);
        assert_eq!(p("+3e2"), 300 * ONE);
        assert_eq!(p(".5"), ONE / 2);
        assert_eq!(p("5."), 5 * ONE);
        assert_eq!(p("-0"), 0);
        assert_eq!(p("2.00000000000"), 2 * ONE);
        assert_eq!(
            p("123456789012345678.123456789012345678"),
            123456789012345678123456789012345678
        );
    }

    #[test]
    fn rounds_beyond_18_decimals_half_even() {
        assert_eq!(p("0.0000000000000000005"), 0);
        assert_eq!(p("0.0000000000000000015"), 2);
        assert_eq!(p("0.00000000000000000151"), 2);
        assert_eq!(p("1e-30"), 0);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", " ", "NaN", "inf", "-inf", "1,000", "1.2.3", "e5", "-", "0x10", "1e", "1e99999",
            "abc",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            Money::parse("1234567890123456789012345678901234567890"),
            Err(ParseMoneyError::OutOfRange)
        );
        assert_eq!(Money::parse("1e25"), Err(ParseMoneyError::OutOfRange));
    }

    #[test]
    fn formats() {
        assert_eq!(Money(p("-2.6137")).to_string(), "-2.6137");
        assert_eq!(Money(p("3")).to_string(), "3");
        assert_eq!(
            Money(p("0.000000000000000001")).to_string(),
            "0.000000000000000001"
        );
        assert_eq!(Money(p("2.345")).to_fixed(2), "2.35");
        assert_eq!(Money(p("-2.345")).to_fixed(2), "-2.35");
        assert_eq!(Money(p("0.004")).to_fixed(2), "0.00");
    }

    #[test]
    fn a_tiny_amount_is_never_shown_as_zero() {
        let m = |s: &str| Money::parse(s).unwrap();
        assert_eq!(m("0.1015").to_fixed_nonzero(4), "0.1015");
        assert_eq!(m("0.000000000001").to_fixed_nonzero(4), "0.000000000001");
        assert_eq!(m("-0.0000412345").to_fixed_nonzero(4), "-0.0000412");
        assert_eq!(m("0").to_fixed_nonzero(4), "0.0000");
    }

    #[test]
    fn mul_int_div_matches_div_int_and_never_wraps() {
        for (v, m, d) in [
            ("10", 1000, 3),
            ("-20", 1000, 3),
            ("0.000000000000000005", 1, 10),
            ("7", 1, 2),
            ("-7", 1, 2),
        ] {
            let x = Money(p(v));
            assert_eq!(
                x.mul_int_div(m, d),
                Money(x.0 * m).div_int(d),
                "{v} * {m} / {d}"
            );
        }
        let big = Money(p("90000000000000000000"));
        assert_eq!(big.mul_int_div(1000, 1), None, "out of range, not wrapped");
        assert_eq!(
            big.mul_int_div(1000, 2000).unwrap().to_string(),
            "45000000000000000000"
        );
        assert_eq!(big.mul_int_div(1, 0), None);
    }

    #[test]
    fn percent_of_twenty_digit_amounts_is_exact() {
        let r = Money(p("90000000000000000000"));
        let c = Money(p("45000000000000000000"));
        assert_eq!(Money::percent(c, r).unwrap().to_string(), "50");
        assert_eq!(Money::percent(r, Money(p("0.000000000000000001"))), None);
        assert_eq!(r.checked_add(r), None);
        assert_eq!(r.checked_mul(Money(p("2"))), None);
        assert_eq!(
            Money(p("2.5"))
                .checked_mul(Money(p("4")))
                .unwrap()
                .to_string(),
            "10"
        );
    }

    #[test]
    fn divides_with_rounding() {
        assert_eq!(
            Money(p("10")).div_int(3).unwrap().to_string(),
            "3.333333333333333333"
        );
        assert_eq!(
            Money(p("20")).div_int(3).unwrap().to_string(),
            "6.666666666666666667"
        );
        assert!(Money(p("1")).div_int(0).is_none());
    }

    #[test]
    fn split_adds_up_and_gives_remainder_to_largest_fraction() {
        let cent = 10i128.pow(16);
        let shares = split_largest_remainder(Money(p("100")), &[1, 1, 1], cent).unwrap();
        assert_eq!(shares.iter().copied().sum::<Money>(), Money(p("100")));
        assert_eq!(shares[0], Money(p("33.34")));
        assert_eq!(shares[1], Money(p("33.33")));
        let shares = split_largest_remainder(Money(p("-10")), &[1, 2], cent).unwrap();
        assert_eq!(shares.iter().copied().sum::<Money>(), Money(p("-10")));
        assert_eq!(shares[1], Money(p("-6.67")));
        assert!(split_largest_remainder(Money(p("1")), &[0, 0], cent).is_none());
    }

    #[test]
    fn multiplies_exactly() {
        assert_eq!(
            Money(p("24.48"))
                .checked_mul(Money(p("0.3")))
                .unwrap()
                .to_string(),
            "7.344"
        );
        assert_eq!(
            Money(p("2.3472"))
                .checked_mul(Money(p("2920")))
                .unwrap()
                .to_string(),
            "6853.824"
        );
        assert_eq!(Money::from_f64(0.023).unwrap().to_string(), "0.023");
        assert!(Money::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn wide_mul_div_is_exact() {
        let big = 10i128.pow(30);
        assert_eq!(mul_div(big, big, 10i128.pow(25)), Some((10i128.pow(35), 0)));
        assert_eq!(mul_div(-big, 3 * big, big), Some((-3 * big, 0)));
        assert_eq!(mul_div(big + 7, big, big), Some((big + 7, 0)));
        assert_eq!(mul_div(i128::MAX, 2, 4), Some((i128::MAX / 2, 2)));
        assert_eq!(
            mul_div(i128::MAX, i128::MAX, 1),
            None,
            "quotient beyond i128"
        );
        assert_eq!(mul_div(1, 1, 0), None);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            /// Shares add up to the pool exactly, have the pool's sign, and each is within one
            /// quantum of its exact proportional value.
            #[test]
            fn split_is_exact(total in -10i128.pow(30)..10i128.pow(30),
                              weights in proptest::collection::vec(prop_oneof![0i128..1_000_000, 0i128..10i128.pow(30)], 1..20),
                              q in 0u32..19) {
                let quantum = 10i128.pow(q);
                prop_assume!(weights.iter().any(|w| *w > 0));
                let shares = split_largest_remainder(Money(total), &weights, quantum).unwrap();
                prop_assert_eq!(shares.iter().map(|m| m.0).sum::<i128>(), total);
                let sum: i128 = weights.iter().sum();
                for (s, w) in shares.iter().zip(&weights) {
                    if total >= 0 { prop_assert!(s.0 >= 0); } else { prop_assert!(s.0 <= 0); }
                    let exact = total as f64 * *w as f64 / sum as f64;
                    prop_assert!((s.0 as f64 - exact).abs() <= 2.0 * quantum as f64 + exact.abs() * 1e-9,
                        "share {} exact {} quantum {}", s.0, exact, quantum);
                }
            }

            /// Whatever the text, parsing never panics, and formatting then parsing round-trips.
            #[test]
            fn parse_never_panics_and_round_trips(text in ".{0,40}", v in any::<i64>(), frac in 0u64..1_000_000_000_000_000_000) {
                let _ = Money::parse(&text);
                let m = Money(i128::from(v) * ONE + i128::from(frac));
                prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            }
        }
    }
}
