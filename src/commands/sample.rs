//! `mlcost sample`: writes a synthetic FOCUS export and request volumes.

use crate::cli::{SampleArgs, SampleFormat};
use crate::error::{Error, Result};
use crate::sample::{generate, Encoding, Requested, SampleSpec, Shape};

pub fn run(args: &SampleArgs) -> Result<String> {
    let end = super::parse_period(&args.end_period).map_err(|_| Error::Usage {
        message: format!("invalid `--end-period` value `{}`", args.end_period),
        hint: Some("use a billing month such as `2026-10`".into()),
    })?;
    let (y, m) = end.split_at(4);
    let end = (
        y.parse()
            .map_err(|_| Error::Internal("checked period".into()))?,
        m[1..]
            .parse()
            .map_err(|_| Error::Internal("checked period".into()))?,
    );
    if args.months == 0 || args.months > 120 {
        return Err(Error::Usage {
            message: format!("`--months` must be between 1 and 120, got {}", args.months),
            hint: None,
        });
    }
    let spec = SampleSpec {
        rows: args.rows,
        seed: args.seed,
        months: args.months,
        end,
        parts: args.parts,
        shape: Shape::resolve(
            match args.format {
                SampleFormat::Csv => Encoding::Csv,
                SampleFormat::CsvGz => Encoding::CsvGz,
                SampleFormat::Parquet => Encoding::Parquet,
            },
            &Requested::default(),
        )?,
    };
    if args.parts == 0 || u64::from(args.parts) > args.rows.max(1) {
        return Err(Error::Usage {
            message: format!(
                "`--parts` must be between 1 and the number of rows ({}), got {}",
                args.rows, args.parts
            ),
            hint: None,
        });
    }
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
