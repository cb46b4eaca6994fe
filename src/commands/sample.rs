//! `mlcost sample`: checks the options (bounds, and shapes a format cannot hold) and writes a
//! synthetic billing export and request volumes.

use crate::cli::{LineEnding, OnOff, SampleArgs, SampleCardinality};
use crate::error::{Error, Result};
use crate::sample::{generate, minimum_rows, PeriodType, Requested, SampleSpec, Shape, TimeUnit};

/// Years every generated month must lie in (the month after the last one too, which is the
/// last BillingPeriodEnd): four-digit years from 1900 on.
const FIRST: (i32, u32) = (1900, 1);
const LAST: (i32, u32) = (9999, 11);
/// What nanosecond timestamps (i64 from 1970) can hold.
const FIRST_NS: (i32, u32) = (1678, 1);
const LAST_NS: (i32, u32) = (2262, 3);

fn usage(message: String, hint: Option<String>) -> Error {
    Error::Usage { message, hint }
}

/// `(y, m)` minus `n` months.
fn months_back((y, m): (i32, u32), n: u32) -> (i32, u32) {
    let total = i64::from(y) * 12 + i64::from(m) - 1 - i64::from(n);
    (
        total.div_euclid(12) as i32,
        (total.rem_euclid(12) + 1) as u32,
    )
}

fn ym((y, m): (i32, u32)) -> String {
    format!("{y:04}-{m:02}")
}

/// The last month as (year, month), with every month of the export in range.
fn end_period(args: &SampleArgs, shape: &Shape) -> Result<(i32, u32)> {
    let bad = || {
        usage(
            format!("invalid `--end-period` value `{}`", args.end_period),
            Some("use a billing month such as `2026-10`".into()),
        )
    };
    let p = super::parse_period(&args.end_period).map_err(|_| bad())?;
    let (y, m) = p.split_at(4);
    let end: (i32, u32) = (
        y.parse().map_err(|_| bad())?,
        m[1..].parse().map_err(|_| bad())?,
    );
    let first = months_back(end, args.months - 1);
    let ns = shape.period == PeriodType::Timestamp(TimeUnit::Nanos);
    let (lo, hi, why) = if ns {
        (
            FIRST_NS,
            LAST_NS,
            " (what `--period-type timestamp-ns` can hold)",
        )
    } else {
        (FIRST, LAST, "")
    };
    if first < lo || end > hi {
        return Err(usage(
            format!(
                "`--end-period {}` with `--months {}` covers {} to {}: every month must lie between {} and {}{why}",
                args.end_period,
                args.months,
                ym(first),
                ym(end),
                ym(lo),
                ym(hi),
            ),
            None,
        ));
    }
    Ok(end)
}

/// The shape the options ask for.
fn requested(args: &SampleArgs) -> Requested {
    Requested {
        layout: Some(args.layout),
        period: args.period_type,
        time_zone: args.time_zone.clone(),
        cost: args.cost_type,
        cost_decimals: args.cost_decimals,
        cost_digits: args.cost_digits,
        tags: args.tags,
        high_cardinality: args.cardinality == SampleCardinality::High,
        dictionary: args.dictionary.map(|d| d == OnOff::On),
        row_group_rows: args.row_group_rows,
        crlf: args.line_ending.map(|l| l == LineEnding::Crlf),
        bom: args.bom,
    }
}

fn generate_files(args: &SampleArgs) -> Result<String> {
    if args.months == 0 || args.months > 120 {
        return Err(usage(
            format!("`--months` must be between 1 and 120, got {}", args.months),
            None,
        ));
    }
    let min = minimum_rows(args.months);
    if args.rows < min {
        return Err(usage(
            format!(
                "`--rows` must be at least {min} for {} month(s), got {}",
                args.months, args.rows
            ),
            Some("every month has two commitment rows (the purchase and the unused part)".into()),
        ));
    }
    // Each part gets at least one row, so N parts are always N files.
    if args.parts == 0 || u64::from(args.parts) > args.rows {
        return Err(usage(
            format!(
                "`--parts` must be between 1 and the number of rows ({}), got {}",
                args.rows, args.parts
            ),
            None,
        ));
    }
    let encoding = args.format;
    let shape = Shape::resolve(encoding, &requested(args))?;
    let spec = SampleSpec {
        rows: args.rows,
        seed: args.seed,
        months: args.months,
        end: end_period(args, &shape)?,
        parts: args.parts,
        shape,
    };
    let files = generate(&args.out, &spec)?;
    Ok(format!(
        "wrote {} ({} rows, {} resources, {} models) and {}",
        files.billing.display(),
        files.rows,
        files.resources,
        files.models,
        files.requests.display()
    ))
}

pub fn run(args: &SampleArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    generate_files(args).map(|text| Outcome::stderr(ctx.say(text + "\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_back_crosses_years() {
        assert_eq!(months_back((2026, 2), 2), (2025, 12));
        assert_eq!(months_back((1900, 1), 0), (1900, 1));
        assert_eq!(months_back((0, 1), 1), (-1, 12));
    }
}
