//! Range checks of config numbers, run while the TOML is deserialised so that `toml` reports
//! the key, line and column of a value out of range (NaN and infinity included).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The largest number a config amount may hold: far above any real price, volume or target,
/// and small enough that products of two of them stay inside decimal(38,18).
pub const MAX_AMOUNT: f64 = 1e15;

/// Range checks run while deserialising, so `toml` reports the key, line and column.
pub(super) fn checked<'de, D, F>(
    d: D,
    ok: F,
    want: &str,
) -> std::result::Result<Option<f64>, D::Error>
where
    D: serde::Deserializer<'de>,
    F: Fn(f64) -> bool,
{
    let v = f64::deserialize(d)?;
    if v.is_finite() && ok(v) {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!("must be {want}, got {v}")))
    }
}

pub(super) fn fraction<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(
        d,
        |v| (0.0..=1.0).contains(&v),
        "a fraction between 0 and 1",
    )
}

/// The lowest utilisation accepted (one part in a million): below it the idle-capacity
/// estimate (cost x (1 - u) / u) is a million times the bill, a typo rather than a measure.
pub const MIN_UTILIZATION: f64 = 1e-6;

pub(super) fn utilization<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(
        d,
        |v| (MIN_UTILIZATION..=1.0).contains(&v),
        "a utilisation from 0.000001 to 1",
    )
}

/// A whole number of days for `[anomalies]`.
pub(super) fn window_days<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(
        d,
        |v| v.fract() == 0.0 && (2.0..=90.0).contains(&v),
        "a whole number of days from 2 to 90",
    )
}

pub(super) fn positive<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(
        d,
        |v| v > 0.0 && v <= 1000.0,
        "a number above 0, at most 1000",
    )
}

pub(super) fn amount<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(
        d,
        |v| (0.0..=MAX_AMOUNT).contains(&v),
        "a number from 0 to 10^15",
    )
}

pub(super) fn utilization_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    let map = BTreeMap::<String, f64>::deserialize(d)?;
    for (model, v) in &map {
        if !(v.is_finite() && (MIN_UTILIZATION..=1.0).contains(v)) {
            return Err(serde::de::Error::custom(format!(
                "the utilisation of `{model}` must be from 0.000001 to 1, got {v}"
            )));
        }
    }
    Ok(map)
}

pub(super) fn engineering_allocation<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    match v.as_str() {
        "even" | "proportional" => Ok(Some(v)),
        _ => Err(serde::de::Error::custom(format!(
            "must be `even` or `proportional`, got `{v}`"
        ))),
    }
}

pub(super) fn training_months<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if (1..=MAX_TRAINING_MONTHS).contains(&v) {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be between 1 and {MAX_TRAINING_MONTHS} months, got {v}"
        )))
    }
}

/// Ten years: the longest training amortisation accepted.
pub const MAX_TRAINING_MONTHS: u32 = 120;
