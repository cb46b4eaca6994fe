//! Tests of the parent module.

use super::*;
use crate::ingest::{self, RawScan};
use crate::schema::line;
use arrow_array::{Decimal128Array, Float64Array, Int64Array, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

/// Changes the columns of a fixture before it is written (`retype`).
type Variant<'a> = &'a dyn Fn(&mut Vec<ArrowField>, &mut Vec<ArrayRef>);

/// A FOCUS-shaped Parquet file with nulls, zero costs, commitment purchases, several
/// row groups, costs at different scales (and one integer), and one text column written
/// without a dictionary; `variant` may change column types before it is written.
fn write_fixture(path: &Path, seed: u64, rows: usize, variant: Variant) {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    fn pick<'a>(r: u64, options: &[Option<&'a str>]) -> Option<&'a str> {
        options[r as usize % options.len()]
    }
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); 9];
    let mut effective = Vec::new();
    let mut billed = Vec::new();
    let mut list = Vec::new();
    for _ in 0..rows {
        let purchase = next(10) == 0;
        let texts = [
            pick(
                next(2),
                &[Some("2026-10-01T00:00:00Z"), Some("2026-11-01T00:00:00Z")],
            ),
            pick(next(40), &[Some("USD"), Some("USD"), Some("EUR"), None]),
            Some("AWS"),
            Some("acct-1"),
            pick(next(3), &[Some("sub-a"), Some("sub-b"), None]),
            pick(
                next(4),
                &[Some("Amazon EC2"), Some("Amazon S3"), Some(""), None],
            ),
            None, // ResourceId, below
            Some(if purchase { "Purchase" } else { "Usage" }),
            pick(
                next(3),
                &[Some("{\"model_id\":\"a\"}"), Some("{\"team\":\"x\"}"), None],
            ),
        ];
        for (c, t) in cols.iter_mut().zip(texts) {
            c.push(t.map(str::to_string));
        }
        let r = next(60);
        if let Some(last) = cols[6].last_mut() {
            *last = (r < 55).then(|| format!("i-{r:03}"));
        }
        let cost = next(1_000_000_000) as i128 - 100_000_000;
        effective.push(match next(50) {
            0 => None,
            1 => Some(0),
            _ if purchase => Some(0),
            _ => Some(cost),
        });
        billed.push((next(30) != 0).then_some(cost / 1_000_000 + i128::from(purchase) * 7));
        list.push((next(20) != 0).then_some(cost as i64 / 10_000_000));
    }
    let names = [
        "BillingPeriodStart",
        "BillingCurrency",
        "ProviderName",
        "BillingAccountId",
        "SubAccountId",
        "ServiceName",
        "ResourceId",
        "ChargeCategory",
        "Tags",
    ];
    let mut fields: Vec<ArrowField> = names
        .iter()
        .map(|n| ArrowField::new(*n, ArrowType::Utf8, true))
        .collect();
    let mut arrays: Vec<ArrayRef> = cols
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
        .collect();
    fields.push(ArrowField::new(
        "EffectiveCost",
        ArrowType::Decimal128(38, 10),
        true,
    ));
    arrays.push(Arc::new(
        Decimal128Array::from(effective)
            .with_precision_and_scale(38, 10)
            .unwrap(),
    ));
    fields.push(ArrowField::new(
        "BilledCost",
        ArrowType::Decimal128(20, 4),
        true,
    ));
    arrays.push(Arc::new(
        Decimal128Array::from(billed)
            .with_precision_and_scale(20, 4)
            .unwrap(),
    ));
    fields.push(ArrowField::new("ListCost", ArrowType::Int64, true));
    arrays.push(Arc::new(Int64Array::from(list)));
    variant(&mut fields, &mut arrays);
    write_parquet(path, fields, arrays, 700, Some("ResourceId"));
}

/// Writes the columns as one Parquet file in row groups of `group_rows`, the column `plain`
/// (if any) without a dictionary.
fn write_parquet(
    path: &Path,
    fields: Vec<ArrowField>,
    arrays: Vec<ArrayRef>,
    group_rows: usize,
    plain: Option<&str>,
) {
    let schema = Arc::new(ArrowSchema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let mut props = WriterProperties::builder().set_max_row_group_row_count(Some(group_rows));
    if let Some(plain) = plain {
        props = props.set_column_dictionary_enabled(ColumnPath::from(plain), false);
    }
    let props = props.build();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn sorted(mut g: Vec<SourceGroup>) -> Vec<SourceGroup> {
    g.sort_by_key(|g| format!("{g:?}"));
    g
}

fn both_paths(
    path: &Path,
    basis: CostBasis,
) -> (Result<Vec<SourceGroup>, String>, Vec<SourceGroup>) {
    let scan = RawScan::open(ingest::sniff(path).unwrap()).unwrap();
    let format = ingest::detect(&scan, None).unwrap();
    let lines = ingest::normalise(
        &scan,
        format,
        scan.lazy(false).unwrap(),
        false,
        basis,
        false,
    )
    .unwrap();
    let direct = lines.direct.clone().expect("a FOCUS file maps directly");
    let polars = ingest::aggregate(lines, basis, 3, &scan, format).unwrap();
    let fast = DirectPlan::new(path, 3, &direct, basis).and_then(|plan| {
        let read = aggregate(&[plan]);
        let summary = read.files[0].clone()?;
        let mut expected = crate::ingest::file_totals(&polars, &[]).unwrap();
        assert_eq!(summary.totals, expected.remove(&3).unwrap_or_default());
        assert_eq!(summary.rows, polars.iter().map(|g| g.rows).sum::<u64>());
        Ok(read.groups)
    });
    (fast.map(sorted), sorted(polars))
}

#[test]
fn dictionary_path_gives_exactly_the_polars_groups() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, basis) in [
        (1, CostBasis::Effective),
        (2, CostBasis::Billed),
        (3, CostBasis::List),
    ] {
        let path = dir.path().join(format!("f{seed}.parquet"));
        write_fixture(&path, seed, 5_000, &|_, _| {});
        let (fast, polars) = both_paths(&path, basis);
        let fast = fast.expect("the direct path reads this file");
        assert!(polars.len() > 100, "the fixture has many groups");
        assert!(
            polars.iter().any(|g| g.prepaid_shape),
            "and commitment purchases"
        );
        assert!(
            polars.iter().any(|g| g.basis_status == 1),
            "and missing costs"
        );
        assert_eq!(fast, polars, "seed {seed}");
    }
}

/// Replaces column `name` of a fixture by `array` (its type with it).
fn retype(fields: &mut [ArrowField], arrays: &mut [ArrayRef], name: &str, array: ArrayRef) {
    let i = fields.iter().position(|f| f.name() == name).unwrap();
    fields[i] = ArrowField::new(name, array.data_type().clone(), true);
    arrays[i] = array;
}

/// The fixture's decimal column `name` as f64 values (its text read as a double).
fn as_f64(arrays: &[ArrayRef], fields: &[ArrowField], name: &str) -> Vec<Option<f64>> {
    let i = fields.iter().position(|f| f.name() == name).unwrap();
    let d = arrays[i].as_primitive::<Decimal128Type>();
    let scale = d.scale();
    d.iter()
        .map(|v| v.map(|v| v as f64 / 10f64.powi(i32::from(scale))))
        .collect()
}

/// Periods as the engines write them: every row of the fixture's period column as a
/// timestamp or date (with some nulls and a value no calendar has).
fn periods(unit: Option<arrow_schema::TimeUnit>, zone: Option<&str>, rows: usize) -> ArrayRef {
    use arrow_array::{
        Date32Array, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    };
    use arrow_schema::TimeUnit as U;
    // 2026-10-01 and 2026-11-01 at midnight UTC, and 2026-10-31T23:30:00 (still October in
    // UTC, November at +02:00: the text is UTC on both paths)
    let seconds = [1_790_812_800i64, 1_793_491_200, 1_793_489_400];
    let pick = |r: usize| match r % 97 {
        0 => None,
        1 => Some(i64::MAX),
        _ => Some(seconds[r % 3]),
    };
    let zone = zone.map(Arc::<str>::from);
    let scaled = |f: i64| -> Vec<Option<i64>> {
        (0..rows)
            .map(|r| pick(r).map(|s| if s == i64::MAX { s } else { s * f }))
            .collect()
    };
    match unit {
        Some(U::Millisecond) => {
            Arc::new(TimestampMillisecondArray::from(scaled(1_000)).with_timezone_opt(zone))
        }
        Some(U::Microsecond) => {
            Arc::new(TimestampMicrosecondArray::from(scaled(1_000_000)).with_timezone_opt(zone))
        }
        Some(_) => {
            // nanoseconds: i64::MAX is still a date (2262), use a plain one
            let v: Vec<Option<i64>> = scaled(1_000_000_000)
                .into_iter()
                .map(|v| v.map(|v| if v == i64::MAX { 1 } else { v }))
                .collect();
            Arc::new(TimestampNanosecondArray::from(v).with_timezone_opt(zone))
        }
        None => Arc::new(Date32Array::from(
            (0..rows)
                .map(|r| {
                    pick(r).map(|s| {
                        if s == i64::MAX {
                            i32::MAX
                        } else {
                            (s / 86_400) as i32
                        }
                    })
                })
                .collect::<Vec<_>>(),
        )),
    }
}

#[test]
fn timestamps_dates_integers_floats_and_text_costs_give_exactly_the_polars_groups() {
    use arrow_array::{Float32Array, Int32Array};
    use arrow_schema::TimeUnit as U;
    let dir = tempfile::tempdir().unwrap();
    let rows = 3_000;
    let variants: Vec<(&str, Box<dyn Fn(&mut Vec<ArrowField>, &mut Vec<ArrayRef>)>)> = vec![
        (
            "timestamp ms UTC, double costs",
            Box::new(move |f, a| {
                let billed = as_f64(a, f, "BilledCost");
                let effective = as_f64(a, f, "EffectiveCost");
                retype(
                    f,
                    a,
                    "BillingPeriodStart",
                    periods(Some(U::Millisecond), Some("UTC"), rows),
                );
                retype(f, a, "BilledCost", Arc::new(Float64Array::from(billed)));
                retype(
                    f,
                    a,
                    "EffectiveCost",
                    Arc::new(Float64Array::from(effective)),
                );
            }),
        ),
        (
            "timestamp us +02:00, float costs, integer account",
            Box::new(move |f, a| {
                let billed: Vec<Option<f32>> = as_f64(a, f, "BilledCost")
                    .iter()
                    .map(|v| v.map(|v| v as f32))
                    .collect();
                retype(
                    f,
                    a,
                    "BillingPeriodStart",
                    periods(Some(U::Microsecond), Some("+02:00"), rows),
                );
                retype(f, a, "BilledCost", Arc::new(Float32Array::from(billed)));
                let accounts: Vec<Option<i32>> = (0..rows)
                    .map(|r| (r % 5 != 0).then_some((r % 3) as i32 - 1))
                    .collect();
                retype(
                    f,
                    a,
                    "BillingAccountId",
                    Arc::new(Int32Array::from(accounts)),
                );
            }),
        ),
        (
            "timestamp ns without zone, text costs",
            Box::new(move |f, a| {
                let billed: Vec<Option<String>> = as_f64(a, f, "BilledCost")
                    .iter()
                    .enumerate()
                    .map(|(r, v)| {
                        v.map(|v| match r % 4 {
                            0 => format!("{v}"),
                            1 => format!(" {v:e} "),
                            2 => format!("{v:+.6}"),
                            _ => format!("{v:E}"),
                        })
                    })
                    .collect();
                retype(
                    f,
                    a,
                    "BillingPeriodStart",
                    periods(Some(U::Nanosecond), None, rows),
                );
                retype(f, a, "BilledCost", Arc::new(StringArray::from(billed)));
            }),
        ),
        (
            "date32, 64-bit integer account",
            Box::new(move |f, a| {
                retype(f, a, "BillingPeriodStart", periods(None, None, rows));
                let accounts: Vec<Option<i64>> = (0..rows)
                    .map(|r| Some(123_456_789_012 + (r % 4) as i64))
                    .collect();
                retype(
                    f,
                    a,
                    "BillingAccountId",
                    Arc::new(Int64Array::from(accounts)),
                );
            }),
        ),
    ];
    for (seed, (name, variant)) in variants.iter().enumerate() {
        for basis in [CostBasis::Effective, CostBasis::Billed] {
            let path = dir.path().join(format!("v{seed}.parquet"));
            write_fixture(&path, seed as u64 + 10, rows, variant.as_ref());
            let (fast, polars) = both_paths(&path, basis);
            let fast = fast.unwrap_or_else(|e| panic!("{name}: left to Polars: {e}"));
            assert!(polars.len() > 100, "{name}: the fixture has many groups");
            assert!(
                polars
                    .iter()
                    .any(|g| g.dim(line::BILLING_PERIOD_START).is_none()),
                "{name}: and null periods"
            );
            assert_eq!(fast, polars, "{name}, {basis:?}");
        }
    }
}

/// The fixture's Tags as a map: the JSON text's pairs in another order, with repeated keys,
/// entries without a value, empty maps and null rows.
fn tags_map(a: &[ArrayRef], f: &[ArrowField], names: (&str, &str)) -> ArrayRef {
    use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
    let i = f.iter().position(|f| f.name() == "Tags").unwrap();
    let tags = a[i].as_string::<i32>();
    let field_names = MapFieldNames {
        entry: "key_value".into(),
        key: names.0.into(),
        value: names.1.into(),
    };
    let mut b = MapBuilder::new(
        Some(field_names),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for r in 0..tags.len() {
        match (tags.is_valid(r), r % 7) {
            (false, _) | (_, 0) => b.append(false).unwrap(),
            (_, 1) => b.append(true).unwrap(), // an empty map
            (_, k) => {
                let pairs: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(tags.value(r)).unwrap();
                if k == 2 {
                    b.keys().append_value("env");
                    b.values().append_null();
                }
                if k == 3 {
                    b.keys().append_value("zz");
                    b.values().append_value("first");
                }
                for (key, v) in pairs.iter().rev() {
                    b.keys().append_value(key);
                    b.values().append_value(v.as_str().unwrap());
                }
                if k == 3 {
                    b.keys().append_value("zz");
                    b.values().append_value("second");
                }
                b.append(true).unwrap();
            }
        }
    }
    Arc::new(b.finish())
}

/// The fixture's Tags as a struct of `model_id` and `team` texts.
fn tags_struct(a: &[ArrayRef], f: &[ArrowField]) -> ArrayRef {
    use arrow_array::StructArray;
    let i = f.iter().position(|f| f.name() == "Tags").unwrap();
    let tags = a[i].as_string::<i32>();
    let field = |k: &str| -> Vec<Option<String>> {
        (0..tags.len())
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(tags.value(r)).ok()?;
                v.get(k)?.as_str().map(str::to_string)
            })
            .collect()
    };
    let valid: Vec<bool> = (0..tags.len()).map(|r| r % 5 != 0).collect();
    let fields = vec![
        ArrowField::new("team", ArrowType::Utf8, true),
        ArrowField::new("model_id", ArrowType::Utf8, true),
    ];
    Arc::new(StructArray::new(
        fields.into(),
        vec![
            Arc::new(StringArray::from(field("team"))),
            Arc::new(StringArray::from(field("model_id"))),
        ],
        Some(valid.into()),
    ))
}

#[test]
fn tags_as_a_map_or_struct_give_exactly_the_polars_groups() {
    let dir = tempfile::tempdir().unwrap();
    let variants: Vec<(&str, Box<dyn Fn(&mut Vec<ArrowField>, &mut Vec<ArrayRef>)>)> = vec![
        (
            "map",
            Box::new(|f, a| {
                let map = tags_map(a, f, ("key", "value"));
                retype(f, a, "Tags", map);
            }),
        ),
        (
            "struct",
            Box::new(|f, a| {
                let st = tags_struct(a, f);
                retype(f, a, "Tags", st);
            }),
        ),
        (
            // an unused nested column first (its two leaves shift every other column's) and
            // an all-null column, whose statistics let the reader skip it
            "map after a nested column, with an all-null column",
            Box::new(|f, a| {
                let map = tags_map(a, f, ("key", "value"));
                retype(f, a, "Tags", map.clone());
                let rows = a[0].len();
                retype(
                    f,
                    a,
                    "SubAccountId",
                    Arc::new(StringArray::from(vec![None::<&str>; rows])),
                );
                f.insert(0, ArrowField::new("Labels", map.data_type().clone(), true));
                a.insert(0, map);
            }),
        ),
    ];
    for (seed, (name, variant)) in variants.iter().enumerate() {
        let path = dir.path().join(format!("t{seed}.parquet"));
        write_fixture(&path, seed as u64 + 20, 3_000, variant.as_ref());
        let (fast, polars) = both_paths(&path, CostBasis::Effective);
        let fast = fast.unwrap_or_else(|e| panic!("{name}: left to Polars: {e}"));
        assert!(
            polars
                .iter()
                .any(|g| g.dim(line::TAGS).is_some_and(|t| t.contains("zz")))
                || *name == "struct",
            "{name}: repeated keys"
        );
        assert!(polars.iter().any(|g| g.dim(line::TAGS).is_none()), "{name}");
        assert_eq!(fast, polars, "{name}");
    }
    // entries named otherwise are key then value, on both paths (reviews of issue 15: pyarrow
    // stores its own entry names in the Arrow schema, which Polars reads, even `value`, `key`)
    for (k, names) in [("k", "v"), ("value", "key")].into_iter().enumerate() {
        let path = dir.path().join(format!("names{k}.parquet"));
        write_fixture(&path, 30, 300, &|f, a| {
            let map = tags_map(a, f, names);
            retype(f, a, "Tags", map);
        });
        let (fast, polars) = both_paths(&path, CostBasis::Effective);
        let tagged: Vec<&str> = polars.iter().filter_map(|g| g.dim(line::TAGS)).collect();
        let expected = "\"model_id\":\"a\"";
        assert!(
            tagged.iter().any(|t| t.contains(expected)),
            "{names:?}: {tagged:?}"
        );
        assert_eq!(fast.unwrap(), polars, "{names:?}");
    }
}

#[test]
fn a_float_or_text_cost_that_does_not_parse_is_left_to_polars() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bad) in [
        (
            "nan",
            Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])) as ArrayRef,
        ),
        (
            "inf",
            Arc::new(Float64Array::from(vec![Some(f64::INFINITY), None])),
        ),
        (
            "huge",
            Arc::new(Float64Array::from(vec![Some(1e30), Some(1.0)])),
        ),
        (
            "text",
            Arc::new(StringArray::from(vec![Some("1.5"), Some("n/a")])),
        ),
        (
            "empty",
            Arc::new(StringArray::from(vec![Some(""), Some("2")])),
        ),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        let fields = vec![
            ArrowField::new("BillingPeriodStart", ArrowType::Utf8, true),
            ArrowField::new("BillingCurrency", ArrowType::Utf8, true),
            ArrowField::new("EffectiveCost", bad.data_type().clone(), true),
            ArrowField::new("BilledCost", bad.data_type().clone(), true),
        ];
        let schema = Arc::new(ArrowSchema::new(fields));
        let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v, v])) };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![text("2026-10-01"), text("USD"), bad.clone(), bad],
        )
        .unwrap();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let (fast, polars) = both_paths(&path, CostBasis::Effective);
        assert!(fast.unwrap_err().contains("does not parse"), "{name}");
        assert!(
            polars.iter().any(|g| g.basis_status == 2),
            "{name}: Polars quarantines it"
        );
    }
}

#[test]
fn files_merge_and_failures_stay_with_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    write_fixture(&a, 5, 2_000, &|_, _| {});
    write_fixture(&b, 6, 2_000, &|_, _| {});
    let direct = DirectColumns {
        dims: std::array::from_fn(|d| {
            let name = line::DIMENSIONS[d];
            [
                (line::BILLING_PERIOD_START, "BillingPeriodStart"),
                (line::BILLING_CURRENCY, "BillingCurrency"),
                (line::RESOURCE_ID, "ResourceId"),
                (line::TAGS, "Tags"),
            ]
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, s)| s.to_string())
        }),
        costs: [
            Some("EffectiveCost".into()),
            Some("BilledCost".into()),
            None,
            None,
        ],
        cur: None,
    };
    let plans = vec![
        DirectPlan::new(&a, 0, &direct, CostBasis::Effective).unwrap(),
        DirectPlan::new(&b, 1, &direct, CostBasis::Effective).unwrap(),
    ];
    // both files: counted groups merge across files, quarantined ones keep their file
    let both = aggregate(&plans);
    let rows = |g: &[SourceGroup]| g.iter().map(|g| g.rows).sum::<u64>();
    assert_eq!(rows(&both.groups), 4_000);
    assert_eq!(both.files[0].as_ref().unwrap().rows, 2_000);
    assert_eq!(both.files[1].as_ref().unwrap().rows, 2_000);
    let one = |plan| aggregate(&[plan]).groups;
    let (only_a, only_b) = (
        one(DirectPlan::new(&a, 0, &direct, CostBasis::Effective).unwrap()),
        one(DirectPlan::new(&b, 1, &direct, CostBasis::Effective).unwrap()),
    );
    assert!(
        both.groups.len() < only_a.len() + only_b.len(),
        "groups merge"
    );
    let quarantined = |g: &[SourceGroup], file| {
        g.iter()
            .filter(|g| g.basis_status != 0 && g.file == file)
            .map(|g| g.rows)
            .sum::<u64>()
    };
    assert!(quarantined(&only_b, 1) > 0);
    assert_eq!(quarantined(&both.groups, 1), quarantined(&only_b, 1));
    // a damaged file falls back alone; the other is read again without it
    std::fs::write(&b, b"PAR1 truncated").unwrap();
    let out = aggregate(&plans);
    assert!(out.groups.iter().all(|g| g.file == 0));
    assert_eq!(rows(&out.groups), 2_000);
    assert!(out.files[0].is_ok());
    assert!(out.files[1].is_err(), "the damaged file falls back");
}

#[test]
fn period_currency_and_tags_positions_match_the_schema() {
    assert_eq!(line::DIMENSIONS[PERIOD], line::BILLING_PERIOD_START);
    assert_eq!(line::DIMENSIONS[CURRENCY], line::BILLING_CURRENCY);
    assert_eq!(line::DIMENSIONS[TAGS], line::TAGS);
    assert_eq!(line::DIMENSIONS[CHARGE_PERIOD], line::CHARGE_PERIOD_START);
}

#[test]
fn a_cost_too_large_for_scale_18_is_left_to_polars() {
    // 1.5e20 fits decimal(38, 0) but not decimal(38, 18), where Polars makes it null
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.parquet");
    let fields = vec![
        ArrowField::new("BillingPeriodStart", ArrowType::Utf8, true),
        ArrowField::new("BillingCurrency", ArrowType::Utf8, true),
        ArrowField::new("EffectiveCost", ArrowType::Decimal128(38, 0), true),
        ArrowField::new("BilledCost", ArrowType::Decimal128(38, 0), true),
    ];
    let schema = Arc::new(ArrowSchema::new(fields));
    let cost = || -> ArrayRef {
        Arc::new(
            Decimal128Array::from(vec![Some(150_000_000_000_000_000_000i128), Some(1)])
                .with_precision_and_scale(38, 0)
                .unwrap(),
        )
    };
    let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v, v])) };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![text("2026-10-01"), text("USD"), cost(), cost()],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let (fast, polars) = both_paths(&path, CostBasis::Effective);
    assert!(fast.unwrap_err().contains("does not fit"));
    assert!(
        polars.iter().any(|g| g.basis_status == 2),
        "Polars quarantines it"
    );
}

#[test]
fn tags_stored_as_categoricals_are_left_to_polars_which_reads_their_text() {
    use arrow_array::{DictionaryArray, StructArray};
    // what Polars writes for a struct of Categorical fields (and pyarrow for dictionary
    // fields): the stored Arrow type is a dictionary, the Parquet type plain text
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("categorical.parquet");
    let dict = |v: Vec<&str>| -> ArrayRef {
        Arc::new(v.into_iter().collect::<DictionaryArray<Int32Type>>())
    };
    let tags = StructArray::from(vec![
        (
            Arc::new(ArrowField::new(
                "model_id",
                dict(vec!["m1"]).data_type().clone(),
                true,
            )),
            dict(vec!["m1", "m2"]),
        ),
        (
            Arc::new(ArrowField::new(
                "team",
                dict(vec!["t1"]).data_type().clone(),
                true,
            )),
            dict(vec!["t1", "t1"]),
        ),
    ]);
    let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v, v])) };
    let cost = || -> ArrayRef {
        Arc::new(
            Decimal128Array::from(vec![Some(1), Some(2)])
                .with_precision_and_scale(38, 0)
                .unwrap(),
        )
    };
    let batch = RecordBatch::try_from_iter([
        ("BillingPeriodStart", text("2026-10-01")),
        ("BillingCurrency", text("USD")),
        ("Tags", Arc::new(tags) as ArrayRef),
        ("EffectiveCost", cost()),
        ("BilledCost", cost()),
    ])
    .unwrap();
    let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let (fast, polars) = both_paths(&path, CostBasis::Effective);
    assert!(fast.unwrap_err().contains("stored as"));
    let tags: Vec<Option<&str>> = polars.iter().map(|g| g.dim(line::TAGS)).collect();
    assert!(
        tags.contains(&Some(r#"{"model_id":"m1","team":"t1"}"#)),
        "the text, not its quoted display: {tags:?}"
    );
}

#[test]
fn tags_read_as_dictionaries_or_as_plain_texts_give_the_same_json() {
    // the reader gives tags with dictionary-encoded texts (the plan asks it to); plain texts
    // (a reader that does not) must give the same JSON row for row
    let dir = tempfile::tempdir().unwrap();
    for (k, name) in ["map", "struct"].iter().enumerate() {
        let path = dir.path().join(format!("{name}.parquet"));
        write_fixture(&path, 40 + k as u64, 2_000, &|f, a| {
            let tags = match k {
                0 => tags_map(a, f, ("key", "value")),
                _ => tags_struct(a, f),
            };
            retype(f, a, "Tags", tags);
        });
        let read = |dictionary: bool| -> Vec<Option<String>> {
            let file = File::open(&path).unwrap();
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
            let schema = builder.schema().clone();
            let i = schema.index_of("Tags").unwrap();
            let mut fields: Vec<ArrowField> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            if dictionary {
                let t = with_dictionary_texts(fields[i].data_type());
                fields[i] = fields[i].clone().with_data_type(t);
            }
            let options = ArrowReaderOptions::new().with_schema(Arc::new(ArrowSchema::new(fields)));
            let file = File::open(&path).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
                .unwrap()
                .with_batch_size(700)
                .build()
                .unwrap();
            let mut w = Worker::default();
            let mut out = Vec::new();
            for batch in reader {
                let tags = batch.unwrap().column(i).clone();
                let dictionary_texts = match tags.as_map_opt() {
                    Some(m) => m.keys().as_dictionary_opt::<Int32Type>().is_some(),
                    None => tags
                        .as_struct()
                        .column(0)
                        .as_dictionary_opt::<Int32Type>()
                        .is_some(),
                };
                assert_eq!(dictionary_texts, dictionary, "{name}");
                for id in tag_object_ids(&tags, None, &mut w).unwrap() {
                    out.push((id > 0).then(|| w.texts[id as usize - 1].to_string()));
                }
            }
            out
        };
        let (coded, plain) = (read(true), read(false));
        assert_eq!(coded.len(), 2_000);
        assert!(coded.iter().any(Option::is_none) && coded.iter().any(Option::is_some));
        assert_eq!(coded, plain, "{name}");
    }
}

/// An AWS CUR export as Athena writes it (CUR 1: one column per tag; CUR 2.0: a
/// `resource_tags` map), with every line item type the mapping knows and some it does not,
/// null types, RI fees with and without a reservation ARN, the formula's parts null or not,
/// tag values empty or padded, costs as doubles or decimals, several row groups.
fn write_cur(path: &Path, seed: u64, rows: usize, cur2: bool, decimal: bool) {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let types = [
        Some("Usage"),
        Some("DiscountedUsage"),
        Some("SavingsPlanCoveredUsage"),
        Some("RIFee"),
        Some("SavingsPlanRecurringFee"),
        Some("Fee"),
        Some("SavingsPlanUpfrontFee"),
        Some("Tax"),
        Some("Credit"),
        Some("Refund"),
        Some("SavingsPlanNegation"),
        Some("EdpDiscount"),
        Some("BundledDiscount"),
        Some("SomethingNew"),
        None,
    ];
    let tag_values = [
        Some("a"),
        Some(" b "),
        Some(""),
        Some("  "),
        None,
        None,
        None,
    ];
    let mut texts: Vec<Vec<Option<String>>> = vec![Vec::new(); 6];
    let mut tags: Vec<Vec<Option<String>>> = vec![Vec::new(); 3];
    // unblended, list, then the six parts of the amortised formula
    let mut costs: Vec<Vec<Option<i64>>> = vec![Vec::new(); 8];
    for _ in 0..rows {
        let kind = types[next(types.len() as u64) as usize];
        let row_texts = [
            Some("2026-10-01T00:00:00.000Z".to_string()),
            Some(if next(30) == 0 { "EUR" } else { "USD" }.to_string()),
            kind.map(str::to_string),
            [None, Some(""), Some(" "), Some("arn:aws:ec2:ri/1")][next(4) as usize]
                .map(str::to_string),
            Some(format!("i-{:02}", next(40))),
            Some(format!("id-{}", next(1 << 40))),
        ];
        for (c, t) in texts.iter_mut().zip(row_texts) {
            c.push(t);
        }
        for t in tags.iter_mut() {
            t.push(tag_values[next(tag_values.len() as u64) as usize].map(str::to_string));
        }
        for (k, c) in costs.iter_mut().enumerate() {
            let value = next(2_000_000) as i64 - 300_000;
            let null = match k {
                0 => next(25) == 0,
                _ => next(3) == 0,
            };
            c.push((!null).then_some(value));
        }
    }
    let text_names = [
        "bill_billing_period_start_date",
        "line_item_currency_code",
        "line_item_line_item_type",
        "reservation_reservation_a_r_n",
        "line_item_resource_id",
        "identity_line_item_id",
    ];
    let cost_names = [
        "line_item_unblended_cost",
        "pricing_public_on_demand_cost",
        "savings_plan_savings_plan_effective_cost",
        "savings_plan_total_commitment_to_date",
        "savings_plan_used_commitment",
        "reservation_effective_cost",
        "reservation_unused_amortized_upfront_fee_for_billing_period",
        "reservation_unused_recurring_fee",
    ];
    let mut fields: Vec<ArrowField> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, c) in text_names.iter().zip(texts) {
        fields.push(ArrowField::new(*name, ArrowType::Utf8, true));
        arrays.push(Arc::new(StringArray::from(c)));
    }
    for (name, c) in cost_names.iter().zip(costs) {
        if decimal {
            let c: Vec<Option<i128>> = c.into_iter().map(|v| v.map(i128::from)).collect();
            fields.push(ArrowField::new(*name, ArrowType::Decimal128(38, 9), true));
            arrays.push(Arc::new(
                Decimal128Array::from(c)
                    .with_precision_and_scale(38, 9)
                    .unwrap(),
            ));
        } else {
            let c: Vec<Option<f64>> = c.into_iter().map(|v| v.map(|v| v as f64 / 1e4)).collect();
            fields.push(ArrowField::new(*name, ArrowType::Float64, true));
            arrays.push(Arc::new(Float64Array::from(c)));
        }
    }
    let keys = ["team", "model_id", "env"];
    if cur2 {
        use arrow_array::builder::{MapBuilder, StringBuilder};
        let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for r in 0..rows {
            if r % 11 == 0 {
                b.append(false).unwrap();
                continue;
            }
            for (k, t) in keys.iter().zip(&tags) {
                // user tags carry `user_`; AWS's own (`aws_created_by`) keep their key
                let key = if *k == "env" {
                    "aws_created_by".to_string()
                } else {
                    format!("user_{k}")
                };
                b.keys().append_value(key);
                b.values().append_option(t[r].as_deref());
            }
            b.append(true).unwrap();
        }
        let map = b.finish();
        fields.push(ArrowField::new(
            "resource_tags",
            map.data_type().clone(),
            true,
        ));
        arrays.push(Arc::new(map));
    } else {
        for (k, t) in keys.iter().zip(tags) {
            fields.push(ArrowField::new(
                format!("resource_tags_user_{k}"),
                ArrowType::Utf8,
                true,
            ));
            arrays.push(Arc::new(StringArray::from(t)));
        }
        // a tag column empty in every row: its statistics let the reader skip it
        fields.push(ArrowField::new(
            "resource_tags_user_unused",
            ArrowType::Utf8,
            true,
        ));
        arrays.push(Arc::new(StringArray::from(vec![None::<&str>; rows])));
    }
    write_parquet(path, fields, arrays, 900, Some("line_item_resource_id"));
}

#[test]
fn the_cur_mapping_on_the_fast_path_gives_exactly_the_polars_groups() {
    let dir = tempfile::tempdir().unwrap();
    for (k, (cur2, decimal)) in [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("cur{k}.parquet"));
        write_cur(&path, 50 + k as u64, 4_000, cur2, decimal);
        for basis in [CostBasis::Effective, CostBasis::Billed, CostBasis::List] {
            let (fast, polars) = both_paths(&path, basis);
            let name = format!("cur2 {cur2}, decimal {decimal}, {basis:?}");
            let fast = fast.unwrap_or_else(|e| panic!("{name}: left to Polars: {e}"));
            for (what, dim) in [
                ("adjustments", line::CHARGE_CATEGORY),
                ("unused commitment", line::COMMITMENT_DISCOUNT_STATUS),
                ("tags", line::TAGS),
            ] {
                let seen: std::collections::BTreeSet<Option<&str>> =
                    polars.iter().map(|g| g.dim(dim)).collect();
                assert!(seen.len() > 1, "{name}: {what}: {seen:?}");
            }
            assert!(
                polars
                    .iter()
                    .any(|g| g.dim(line::CHARGE_CATEGORY) == Some("Adjustment")),
                "{name}"
            );
            let tagged: Vec<&str> = polars.iter().filter_map(|g| g.dim(line::TAGS)).collect();
            // CUR 1's tag columns are trimmed, a map's values kept as they are
            let b = if cur2 { "\" b \"" } else { "\"b\"" };
            assert!(tagged.iter().any(|t| t.contains(b)), "{name}: {b}");
            assert_eq!(fast, polars, "{name}");
        }
    }
}

/// Review of issue 15 (helper-20): a part of the amortised formula too large to add, in rows
/// whose type does not use it, made the Polars path refuse the file (its sum was computed for
/// every row) while the fast path read it. Both read it now, alike.
#[test]
fn a_huge_part_a_row_does_not_use_is_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.parquet");
    let huge = 10i128.pow(38) - 1;
    let texts = |v: [&str; 3]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    let money = |v: [i128; 3]| {
        Arc::new(
            Decimal128Array::from(v.to_vec())
                .with_precision_and_scale(38, 18)
                .unwrap(),
        ) as ArrayRef
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("bill_billing_period_start_date", texts(["2026-10-01"; 3])),
        ("line_item_currency_code", texts(["USD"; 3])),
        (
            "line_item_line_item_type",
            texts(["Usage", "Usage", "RIFee"]),
        ),
        ("line_item_unblended_cost", money([125, 200, 300])),
        (
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            money([huge, huge, 7]),
        ),
        ("reservation_unused_recurring_fee", money([huge, huge, 8])),
    ];
    let fields: Vec<ArrowField> = columns
        .iter()
        .map(|(n, a)| ArrowField::new(*n, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    write_parquet(&path, fields, arrays, 1024, None);
    let (fast, polars) = both_paths(&path, CostBasis::Effective);
    assert_eq!(fast.unwrap(), polars);
    let effective: i128 = polars.iter().map(|g| g.costs[0].map_or(0, |m| m.0)).sum();
    assert_eq!(effective, 125 + 200 + 15);
}
