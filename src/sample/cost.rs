//! How the generator spells a cost. A `Cost` is drawn as an f64 plus its spelling (plain with
//! up to 10 decimals, scientific as AWS and OCI write tiny amounts, or fixed decimals); `Dec`
//! is its exact decimal value, optionally rounded (`Rounding`) to what the output type holds,
//! and every encoding (text, decimal128, double, float) is derived from that one value, so the
//! same rows give the same amounts in every shape.

use std::io::Write;

/// A generated cost before it is spelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cost {
    /// The literal `0`.
    Zero,
    /// `format!("{x:.10}")` without trailing zeros (`-0` as `0`).
    Plain(f64),
    /// `format!("{x:.6E}")`.
    Sci(f64),
    /// `format!("{x:.N$}")`, trailing zeros kept.
    Fixed(f64, u8),
}

/// Limits on the written value: at most `decimals` decimal places and `digits` significant
/// digits, rounded half to even. `None` leaves the value as generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rounding {
    pub decimals: Option<u32>,
    pub digits: Option<u32>,
}

impl Rounding {
    pub fn is_none(&self) -> bool {
        self.decimals.is_none() && self.digits.is_none()
    }
}

/// How a decimal value is spelled as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Trimmed,
    Sci,
    Fixed,
}

/// An exact decimal: `units / 10^scale`, with the spelling of the cost it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec {
    pub units: i128,
    pub scale: u32,
    style: Style,
}

/// 10^n as i128 for n <= 38.
fn pow10(n: u32) -> i128 {
    10i128.pow(n.min(38))
}

/// The number of decimal digits of |v| (1 for 0).
fn digit_count(v: i128) -> u32 {
    let mut v = v.unsigned_abs();
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// `v / 10^n` rounded half to even; 0 when 10^n exceeds every i128.
fn div_round(v: i128, n: u32) -> i128 {
    if n == 0 {
        return v;
    }
    if n > 38 {
        return 0;
    }
    let d = pow10(n);
    let (q, r) = (v / d, v % d);
    let twice = r.unsigned_abs() * 2;
    let up = match twice.cmp(&d.unsigned_abs()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 != 0,
        std::cmp::Ordering::Less => false,
    };
    if up {
        q + v.signum()
    } else {
        q
    }
}

/// `x` rounded to 10 decimals exactly as `format!("{x:.10}")` does (half to even on the
/// exact binary value), as units of 1e-10; None when the fast path does not apply (|x| above
/// 2^52, not finite), and the caller formats with `std` instead.
fn fixed10_units(x: f64) -> Option<i128> {
    if !x.is_finite() || x.abs() >= (1u64 << 52) as f64 {
        return None;
    }
    if x == 0.0 {
        return Some(0);
    }
    let bits = x.abs().to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // |x| = m * 2^e
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    let n = u128::from(m) * 10_000_000_000u128; // < 2^87
    let units = if e >= 0 {
        // |x| < 2^52 keeps e < 0 for normal numbers with a fraction; integers land here
        n.checked_shl(e as u32)?
    } else {
        let s = (-e) as u32;
        if s >= 100 {
            0 // below 2^-12 * 1e-10: rounds to 0 (n < 2^87 < half of 2^s)
        } else {
            let q = n >> s;
            let r = n & ((1u128 << s) - 1);
            let half = 1u128 << (s - 1);
            if r > half || (r == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        }
    };
    let units = i128::try_from(units).ok()?;
    Some(if x < 0.0 { -units } else { units })
}

/// Parses the text `std` wrote for a cost (plain, fixed or `d.ddddddE±x`) into units.
fn parse_text(text: &str, style: Style) -> Option<Dec> {
    let (mantissa, exp) = match text.split_once(['E', 'e']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut units: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        units = units.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let mut scale = frac.len() as i32 - exp;
    while scale < 0 {
        units = units.checked_mul(10)?;
        scale += 1;
    }
    Some(Dec {
        units: if neg { -units } else { units },
        scale: scale as u32,
        style,
    })
}

impl Cost {
    /// The text today's generator writes (no rounding).
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match *self {
            Cost::Zero => out.push(b'0'),
            Cost::Plain(x) => match fixed10_units(x) {
                Some(units) => write_trimmed(out, units, 10),
                None => {
                    let s = format!("{x:.10}");
                    let s = s.trim_end_matches('0').trim_end_matches('.');
                    out.extend_from_slice(if s == "-0" { b"0" } else { s.as_bytes() });
                }
            },
            Cost::Sci(x) => {
                // cannot fail: writing to a Vec
                let _ = write!(out, "{x:.6E}");
            }
            Cost::Fixed(x, d) => {
                let _ = write!(out, "{x:.*}", usize::from(d));
            }
        }
    }

    /// The exact value of the text `write_text` writes.
    pub fn dec(&self) -> Dec {
        let fallback = |style| {
            let mut buf = Vec::new();
            self.write_text(&mut buf);
            std::str::from_utf8(&buf)
                .ok()
                .and_then(|t| parse_text(t, style))
                .unwrap_or(Dec {
                    units: 0,
                    scale: 0,
                    style,
                })
        };
        match *self {
            Cost::Zero => Dec {
                units: 0,
                scale: 0,
                style: Style::Trimmed,
            },
            Cost::Plain(x) => match fixed10_units(x) {
                Some(units) => Dec {
                    units,
                    scale: 10,
                    style: Style::Trimmed,
                },
                None => fallback(Style::Trimmed),
            },
            Cost::Sci(_) => fallback(Style::Sci),
            Cost::Fixed(_, _) => fallback(Style::Fixed),
        }
    }

    /// The text of the value after `rounding` (today's text when nothing is rounded).
    pub fn write_rounded(&self, rounding: Rounding, out: &mut Vec<u8>) {
        if rounding.is_none() {
            self.write_text(out);
        } else {
            self.dec().round(rounding).write_text(out);
        }
    }
}

impl Dec {
    /// Rounds to at most `decimals` decimal places and `digits` significant digits.
    pub fn round(mut self, rounding: Rounding) -> Dec {
        if let Some(d) = rounding.decimals {
            if self.scale > d {
                self.units = div_round(self.units, self.scale - d);
                self.scale = d;
            }
        }
        if let Some(n) = rounding.digits {
            let have = digit_count(self.units);
            if self.units != 0 && have > n {
                let drop = have - n;
                self.units = div_round(self.units, drop);
                if drop <= self.scale {
                    self.scale -= drop;
                } else {
                    // rounded into the integer part: put the zeros back
                    self.units *= pow10(drop - self.scale);
                    self.scale = 0;
                }
            }
        }
        self
    }

    /// The value as units of 10^-scale (exact when `scale` >= this value's scale, otherwise
    /// rounded half to even).
    pub fn units_at(&self, scale: u32) -> i128 {
        if scale >= self.scale {
            self.units.saturating_mul(pow10(scale - self.scale))
        } else {
            div_round(self.units, self.scale - scale)
        }
    }

    /// Writes the value in its cost's spelling.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match self.style {
            Style::Trimmed => write_trimmed(out, self.units, self.scale),
            Style::Fixed => write_fixed(out, self.units, self.scale),
            Style::Sci => write_sci(out, self.units, self.scale),
        }
    }

    /// The nearest f64 (correctly rounded, through the decimal text).
    pub fn to_f64(self) -> f64 {
        let mut buf = Vec::with_capacity(32);
        write_fixed(&mut buf, self.units, self.scale);
        // cannot fail: write_fixed writes ASCII digits, '-' and '.'
        std::str::from_utf8(&buf)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0)
    }

    /// The nearest f32 (correctly rounded, through the decimal text).
    pub fn to_f32(self) -> f32 {
        let mut buf = Vec::with_capacity(32);
        write_fixed(&mut buf, self.units, self.scale);
        std::str::from_utf8(&buf)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0)
    }
}

/// `units / 10^scale` with all `scale` decimals.
fn write_fixed(out: &mut Vec<u8>, units: i128, scale: u32) {
    if units < 0 {
        out.push(b'-');
    }
    let abs = units.unsigned_abs();
    // the common case in u64 arithmetic (u128 division is slow)
    if let (Ok(abs), true) = (u64::try_from(abs), scale <= 19) {
        let d = 10u64.pow(scale);
        write_u64(out, abs / d);
        if scale > 0 {
            out.push(b'.');
            write_padded(out, abs % d, scale as usize);
        }
        return;
    }
    let d = 10u128.pow(scale.min(38));
    write_u128(out, abs / d);
    if scale > 0 {
        out.push(b'.');
        let frac = abs % d;
        let start = out.len();
        write_u128(out, frac);
        pad_left(out, start, scale as usize);
    }
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Exactly `width` digits of `v` (< 10^width), zeros in front.
fn write_padded(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = width;
    while v > 0 && i > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// `units / 10^scale` without trailing zeros, and `0` for zero.
fn write_trimmed(out: &mut Vec<u8>, units: i128, scale: u32) {
    if units == 0 {
        out.push(b'0');
        return;
    }
    let start = out.len();
    write_fixed(out, units, scale);
    if scale > 0 {
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
    }
    debug_assert!(out.len() > start);
}

/// `d.ddddddE±x`: seven significant digits, as `{:.6E}` writes them.
fn write_sci(out: &mut Vec<u8>, units: i128, scale: u32) {
    if units == 0 {
        out.extend_from_slice(b"0.000000E0");
        return;
    }
    let digits = digit_count(units);
    // value = units * 10^-scale = m * 10^(digits - 1 - scale), 1 <= |m| < 10
    let exp = digits as i64 - 1 - i64::from(scale);
    let seven = if digits > 7 {
        div_round(units, digits - 7)
    } else {
        units * pow10(7 - digits)
    };
    // rounding 9999999.5 up gives 8 digits: one more in the exponent
    let (seven, exp) = if digit_count(seven) > 7 {
        (seven / 10, exp + 1)
    } else {
        (seven, exp)
    };
    if seven < 0 {
        out.push(b'-');
    }
    let abs = seven.unsigned_abs();
    write_u128(out, abs / 1_000_000);
    out.push(b'.');
    let start = out.len();
    write_u128(out, abs % 1_000_000);
    pad_left(out, start, 6);
    let _ = write!(out, "E{exp}");
}

fn write_u128(out: &mut Vec<u8>, mut v: u128) {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Left-pads the digits written since `start` with zeros to `width`.
fn pad_left(out: &mut Vec<u8>, start: usize, width: usize) {
    let len = out.len() - start;
    if len < width {
        let pad = width - len;
        out.splice(start..start, std::iter::repeat_n(b'0', pad));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::rng::Rng;

    fn text(c: Cost) -> String {
        let mut v = Vec::new();
        c.write_text(&mut v);
        String::from_utf8(v).unwrap()
    }

    fn std_plain(x: f64) -> String {
        let s = format!("{x:.10}");
        let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        if s == "-0" {
            "0".into()
        } else {
            s
        }
    }

    #[test]
    fn plain_text_is_what_std_writes() {
        let mut r = Rng::new(11);
        for i in 0..200_000 {
            let x = match i % 4 {
                0 => r.lognormal(3.0, 2.0),
                1 => -r.lognormal(0.01, 3.0),
                2 => (r.below(1 << 20) as f64) / 2048.0, // exact ties at the 10th decimal
                _ => r.f64() * 1e6,
            };
            assert_eq!(text(Cost::Plain(x)), std_plain(x), "{x:e}");
        }
        for x in [
            0.0,
            -0.0,
            1e-12,
            -1e-12,
            5.0,
            100.0,
            4.5e15,
            1.0 / 2048.0,
            3.0 / 2048.0,
        ] {
            assert_eq!(text(Cost::Plain(x)), std_plain(x), "{x:e}");
        }
    }

    #[test]
    fn dec_is_the_value_of_the_text() {
        for c in [
            Cost::Plain(12.3456789012345),
            Cost::Sci(-1.2345678e-6),
            Cost::Fixed(5776.2, 2),
            Cost::Fixed(169.38, 4),
            Cost::Zero,
        ] {
            let mut t = Vec::new();
            c.dec().write_text(&mut t);
            assert_eq!(String::from_utf8(t).unwrap(), text(c), "{c:?}");
        }
        assert_eq!(
            Cost::Sci(1.234567e-5).dec().units_at(18),
            12_345_670_000_000
        );
        assert_eq!(Cost::Fixed(5776.2, 2).dec().units_at(2), 577_620);
    }

    #[test]
    fn rounding_limits_decimals_and_digits() {
        let r = |c: Cost, decimals, digits| {
            let mut v = Vec::new();
            c.write_rounded(Rounding { decimals, digits }, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(r(Cost::Plain(1.23456789015), Some(9), None), "1.23456789");
        assert_eq!(r(Cost::Plain(1234.56789), None, Some(6)), "1234.57");
        assert_eq!(r(Cost::Plain(1234567.8), None, Some(6)), "1234570");
        assert_eq!(r(Cost::Plain(-0.0000001234), None, Some(2)), "-0.00000012");
        assert_eq!(r(Cost::Sci(1.234567e-8), Some(10), None), "1.230000E-8");
        assert_eq!(r(Cost::Sci(9.999999e-5), None, Some(1)), "1.000000E-4");
        assert_eq!(r(Cost::Fixed(169.38, 4), Some(2), None), "169.38");
        assert_eq!(r(Cost::Plain(0.00000000004), Some(9), None), "0");
    }

    #[test]
    fn floats_read_back_as_the_rounded_decimal() {
        let mut rng = Rng::new(3);
        for _ in 0..50_000 {
            let c = Cost::Plain(rng.lognormal(5.0, 2.5));
            let d6 = c.dec().round(Rounding {
                decimals: None,
                digits: Some(6),
            });
            let f = d6.to_f32();
            let mut t = Vec::new();
            d6.write_text(&mut t);
            let t = String::from_utf8(t).unwrap();
            assert_eq!(t.parse::<f32>().unwrap(), f);
            assert_eq!(
                f.to_string().parse::<f64>().unwrap(),
                t.parse::<f64>().unwrap()
            );
            let d15 = c.dec().round(Rounding {
                decimals: None,
                digits: Some(15),
            });
            let mut t = Vec::new();
            d15.write_text(&mut t);
            let t = String::from_utf8(t).unwrap();
            assert_eq!(d15.to_f64().to_string(), t);
        }
    }
}
