//! The shape of an export: layout, file format and how each kind of column is typed and
//! encoded. `Requested` is what the command line asked for (None = not given); `resolve`
//! fills in the defaults (today's output) and refuses combinations a format cannot hold,
//! naming the flags.

use super::cost::Rounding;
use super::layout::Layout;
use crate::error::{Error, Result};

/// File format of the billing export (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    Csv,
    CsvGz,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millis,
    Micros,
    Nanos,
}

/// How the four period columns are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodType {
    Text,
    Timestamp(TimeUnit),
    Date32,
}

/// How the cost columns are typed. Decimals have precision 38.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostType {
    Text,
    Double,
    Float,
    Decimal(u8),
}

impl CostType {
    /// The rounding a type needs so that it holds the written value exactly: its scale for
    /// a decimal, 15 significant digits for a double, 6 for a float.
    fn limits(self) -> Rounding {
        match self {
            CostType::Text => Rounding::default(),
            CostType::Double => Rounding {
                decimals: None,
                digits: Some(15),
            },
            CostType::Float => Rounding {
                decimals: None,
                digits: Some(6),
            },
            CostType::Decimal(scale) => Rounding {
                decimals: Some(u32::from(scale)),
                digits: None,
            },
        }
    }

    fn flag(self) -> String {
        match self {
            CostType::Text => "text".into(),
            CostType::Double => "double".into(),
            CostType::Float => "float".into(),
            CostType::Decimal(s) => format!("decimal38-{s}"),
        }
    }
}

/// How FOCUS Tags are written in Parquet (`--tags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TagsType {
    /// JSON object text
    Json,
    /// map<string,string>
    Map,
    /// A struct with a field per tag key
    Struct,
}

/// `--period-type`: written by hand because a timestamp carries its unit (clap's derive takes
/// only unit variants).
impl clap::ValueEnum for PeriodType {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            PeriodType::Text,
            PeriodType::Timestamp(TimeUnit::Millis),
            PeriodType::Timestamp(TimeUnit::Micros),
            PeriodType::Timestamp(TimeUnit::Nanos),
            PeriodType::Date32,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            PeriodType::Text => {
                PossibleValue::new("text").help("ISO 8601 text (`2026-10-01T00:00:00Z`)")
            }
            PeriodType::Timestamp(TimeUnit::Millis) => PossibleValue::new("timestamp-ms"),
            PeriodType::Timestamp(TimeUnit::Micros) => PossibleValue::new("timestamp-us"),
            PeriodType::Timestamp(TimeUnit::Nanos) => PossibleValue::new("timestamp-ns")
                .help("Nanoseconds: months between 1678-01 and 2262-03 only"),
            PeriodType::Date32 => {
                PossibleValue::new("date32").help("Days (the charge hour is dropped)")
            }
        })
    }
}

/// `--cost-type`: written by hand because a decimal carries its scale.
impl clap::ValueEnum for CostType {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            CostType::Text,
            CostType::Double,
            CostType::Float,
            CostType::Decimal(9),
            CostType::Decimal(10),
            CostType::Decimal(18),
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            CostType::Text => None,
            CostType::Double => Some("f64 (rounds to 15 significant digits)"),
            CostType::Float => Some("f32 (rounds to 6 significant digits)"),
            CostType::Decimal(9) => Some("decimal(38,9) (rounds to 9 decimals)"),
            CostType::Decimal(10) => Some("decimal(38,10), the original Parquet"),
            CostType::Decimal(_) => None,
        };
        let name = match self {
            CostType::Text => "text",
            CostType::Double => "double",
            CostType::Float => "float",
            CostType::Decimal(9) => "decimal38-9",
            CostType::Decimal(10) => "decimal38-10",
            CostType::Decimal(_) => "decimal38-18",
        };
        let value = clap::builder::PossibleValue::new(name);
        Some(match help {
            Some(h) => value.help(h),
            None => value,
        })
    }
}

/// Which time zone typed instants carry (the instants are the same in every zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// No zone: a local timestamp (`isAdjustedToUTC = false`), read as UTC.
    Naive,
    /// A zone name as Arrow writes it: `UTC`, `+02:00`, `Europe/Berlin`.
    Named(String),
}

/// Everything about the export besides its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub layout: Layout,
    pub encoding: Encoding,
    pub period: PeriodType,
    pub zone: Zone,
    pub cost: CostType,
    pub rounding: Rounding,
    pub tags: TagsType,
    pub high_cardinality: bool,
    pub dictionary: bool,
    pub row_group_rows: Option<usize>,
    pub crlf: bool,
    pub bom: bool,
}

/// What the command line asked for; None for a flag not given.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    pub layout: Option<Layout>,
    pub period: Option<PeriodType>,
    pub time_zone: Option<String>,
    pub cost: Option<CostType>,
    pub cost_decimals: Option<u32>,
    pub cost_digits: Option<u32>,
    pub tags: Option<TagsType>,
    pub high_cardinality: bool,
    pub dictionary: Option<bool>,
    pub row_group_rows: Option<usize>,
    /// `--line-ending`: Some(true) for CRLF.
    pub crlf: Option<bool>,
    pub bom: bool,
}

/// Row group sizes `--row-group-rows` accepts.
pub const ROW_GROUP_ROWS: std::ops::RangeInclusive<usize> = 1_000..=16_777_216;

fn usage(message: String, hint: Option<&str>) -> Error {
    Error::Usage {
        message,
        hint: hint.map(str::to_string),
    }
}

impl Shape {
    /// Today's output for an encoding: FOCUS, text periods, text (CSV) or decimal(38,10)
    /// (Parquet) costs, JSON tags.
    pub fn default_for(encoding: Encoding) -> Shape {
        Shape {
            layout: Layout::Focus,
            encoding,
            period: PeriodType::Text,
            zone: Zone::Named("UTC".into()),
            cost: if encoding == Encoding::Parquet {
                CostType::Decimal(10)
            } else {
                CostType::Text
            },
            rounding: Rounding::default(),
            tags: TagsType::Json,
            high_cardinality: false,
            dictionary: true,
            row_group_rows: None,
            crlf: false,
            bom: false,
        }
    }

    /// Whether this is the Parquet shape Polars has always written (same bytes as before):
    /// the default Parquet and nothing else.
    pub fn is_legacy_parquet(&self) -> bool {
        Shape::resolve(Encoding::Parquet, &Requested::default()).is_ok_and(|d| *self == d)
    }

    /// Resolves the defaults and checks the combination.
    pub fn resolve(encoding: Encoding, req: &Requested) -> Result<Shape> {
        let parquet = encoding == Encoding::Parquet;
        let layout = req.layout.unwrap_or(Layout::Focus);
        let mut shape = Shape::default_for(encoding);
        shape.layout = layout;
        if !parquet {
            let parquet_only = [
                (
                    "--period-type",
                    req.period.is_some_and(|p| p != PeriodType::Text),
                ),
                ("--time-zone", req.time_zone.is_some()),
                ("--cost-type", req.cost.is_some_and(|c| c != CostType::Text)),
                ("--tags", req.tags.is_some_and(|t| t != TagsType::Json)),
                ("--dictionary", req.dictionary.is_some()),
                ("--row-group-rows", req.row_group_rows.is_some()),
            ];
            if let Some((flag, _)) = parquet_only.iter().find(|(_, set)| *set) {
                return Err(usage(
                    format!("`{flag}` only applies to `--format parquet`"),
                    Some("CSV holds text: periods, costs and tags are written as text"),
                ));
            }
            if layout == Layout::AwsCur2 {
                return Err(usage(
                    "`--layout aws-cur2` needs `--format parquet`".into(),
                    Some("CUR 2.0 keeps its tags in a map column, which CSV cannot hold; `--layout aws-cur` writes CSV"),
                ));
            }
        } else {
            for (flag, set) in [("--line-ending", req.crlf.is_some()), ("--bom", req.bom)] {
                if set {
                    return Err(usage(
                        format!("`{flag}` only applies to `--format csv` and `csv-gz`"),
                        None,
                    ));
                }
            }
        }
        if layout != Layout::Focus && req.tags.is_some() {
            return Err(usage(
                "`--tags` only applies to `--layout focus`".into(),
                Some("AWS layouts keep tags as CUR does: one column per key (aws-cur) or a map (aws-cur2)"),
            ));
        }
        shape.crlf = req.crlf.unwrap_or(false);
        shape.bom = req.bom;
        shape.high_cardinality = req.high_cardinality;
        if parquet {
            // AWS layouts default to what AWS writes in Parquet: timestamps and doubles
            let aws = layout != Layout::Focus;
            shape.period = req.period.unwrap_or(if aws {
                PeriodType::Timestamp(TimeUnit::Millis)
            } else {
                PeriodType::Text
            });
            shape.cost = req.cost.unwrap_or(if aws {
                CostType::Double
            } else {
                CostType::Decimal(10)
            });
            shape.tags = req.tags.unwrap_or(TagsType::Json);
            shape.dictionary = req.dictionary.unwrap_or(true);
            if let Some(n) = req.row_group_rows {
                if !ROW_GROUP_ROWS.contains(&n) {
                    return Err(usage(
                        format!(
                            "`--row-group-rows` must be between {} and {}, got {n}",
                            ROW_GROUP_ROWS.start(),
                            ROW_GROUP_ROWS.end()
                        ),
                        Some("providers write row groups of about 64k to 1M rows"),
                    ));
                }
            }
            shape.row_group_rows = req.row_group_rows;
        }
        if let Some(zone) = &req.time_zone {
            if !matches!(shape.period, PeriodType::Timestamp(_)) {
                return Err(usage(
                    "`--time-zone` only applies to `--period-type timestamp-ms`, `timestamp-us` or `timestamp-ns`".into(),
                    None,
                ));
            }
            shape.zone = parse_zone(zone)?;
        }
        shape.rounding = rounding(shape.cost, req)?;
        Ok(shape)
    }
}

/// The explicit rounding, or the one the cost type needs; refuses more than it holds.
fn rounding(cost: CostType, req: &Requested) -> Result<Rounding> {
    let limits = cost.limits();
    let check =
        |flag: &str, asked: Option<u32>, limit: Option<u32>, max: u32| -> Result<Option<u32>> {
            match (asked, limit) {
                (Some(n), _) if n > max => Err(usage(
                    format!("`{flag}` must be at most {max}, got {n}"),
                    None,
                )),
                (Some(n), Some(l)) if n > l => Err(usage(
                    format!(
                        "`{flag} {n}` is more than `--cost-type {}` holds exactly ({l})",
                        cost.flag()
                    ),
                    Some("leave it out: the cost type rounds to what it holds"),
                )),
                (Some(n), _) => Ok(Some(n)),
                (None, l) => Ok(l),
            }
        };
    let decimals = check("--cost-decimals", req.cost_decimals, limits.decimals, 18)?;
    let digits = check("--cost-digits", req.cost_digits, limits.digits, 38)?;
    if req.cost_digits == Some(0) {
        return Err(usage("`--cost-digits` must be at least 1".into(), None));
    }
    Ok(Rounding { decimals, digits })
}

/// `UTC`, `none`, `+02:00`/`-05:30`, or an IANA name such as `Europe/Berlin`.
fn parse_zone(z: &str) -> Result<Zone> {
    let bad = || {
        usage(
            format!("invalid `--time-zone` value `{z}`"),
            Some("use `UTC`, an offset such as `+02:00`, a zone name such as `Europe/Berlin`, or `none` for local timestamps"),
        )
    };
    if z.eq_ignore_ascii_case("none") {
        return Ok(Zone::Naive);
    }
    if z.eq_ignore_ascii_case("utc") {
        return Ok(Zone::Named("UTC".into()));
    }
    let b = z.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        let ok = b.len() == 6
            && b[3] == b':'
            && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit())
            && z[1..3].parse::<u32>().is_ok_and(|h| h <= 23)
            && z[4..6].parse::<u32>().is_ok_and(|m| m <= 59);
        return if ok {
            Ok(Zone::Named(z.into()))
        } else {
            Err(bad())
        };
    }
    match z.parse::<chrono_tz::Tz>() {
        Ok(tz) => Ok(Zone::Named(tz.name().to_string())),
        Err(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_todays_output() {
        let s = Shape::resolve(Encoding::Parquet, &Requested::default()).unwrap();
        assert!(s.is_legacy_parquet());
        assert_eq!(s.rounding.decimals, Some(10));
        let s = Shape::resolve(Encoding::Csv, &Requested::default()).unwrap();
        assert_eq!(s, Shape::default_for(Encoding::Csv));
        let high = Requested {
            high_cardinality: true,
            ..Requested::default()
        };
        assert!(!Shape::resolve(Encoding::Parquet, &high)
            .unwrap()
            .is_legacy_parquet());
    }

    #[test]
    fn refuses_what_a_format_cannot_hold() {
        let err = |e: Encoding, r: Requested| Shape::resolve(e, &r).unwrap_err().to_string();
        assert!(err(
            Encoding::Csv,
            Requested {
                cost: Some(CostType::Double),
                ..Requested::default()
            }
        )
        .contains("`--cost-type`"));
        assert!(err(
            Encoding::Parquet,
            Requested {
                bom: true,
                ..Requested::default()
            }
        )
        .contains("`--bom`"));
        assert!(err(
            Encoding::Parquet,
            Requested {
                cost: Some(CostType::Float),
                cost_digits: Some(9),
                ..Requested::default()
            }
        )
        .contains("`--cost-digits 9`"));
        assert!(err(
            Encoding::Parquet,
            Requested {
                time_zone: Some("+02:00".into()),
                ..Requested::default()
            }
        )
        .contains("`--time-zone`"));
        assert!(err(
            Encoding::Parquet,
            Requested {
                period: Some(PeriodType::Timestamp(TimeUnit::Millis)),
                time_zone: Some("Mars/Olympus".into()),
                ..Requested::default()
            }
        )
        .contains("invalid `--time-zone`"));
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("utc").unwrap(), Zone::Named("UTC".into()));
        assert_eq!(parse_zone("+02:00").unwrap(), Zone::Named("+02:00".into()));
        assert_eq!(
            parse_zone("Europe/Berlin").unwrap(),
            Zone::Named("Europe/Berlin".into())
        );
        assert_eq!(parse_zone("none").unwrap(), Zone::Naive);
        assert!(parse_zone("+2:00").is_err());
        assert!(parse_zone("+24:00").is_err());
    }
}
