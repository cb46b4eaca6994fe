//! `mlcost sample` shapes: every layout, type and encoding of the same rows attributes to the
//! same cost_by_model (and, by charge day, the same daily tables and anomalies) through the
//! binary, is the type it says, and is deterministic.

use std::collections::BTreeMap;

use crate::sample::sample;
use crate::util::*;

/// Every file of a table, with its bytes.
type Tree = BTreeMap<String, Vec<u8>>;

/// The rows every shape test uses: small, two months, and enough resources for every tag mess.
const BASE: [&str; 6] = ["--rows", "2500", "--months", "2", "--seed", "3"];

/// Samples `args` (on top of `BASE`), attributes the file by day through the binary and returns
/// the bytes of its cost_by_model table and of the daily tables.
fn cost_by_model(env: &TestEnv, name: &str, args: &[&str]) -> Tree {
    sample(env, name, &[&BASE[..], args].concat());
    let file = std::fs::read_dir(env.path(name))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != "requests.csv")
        .expect("a billing export");
    let out = format!("{name}_out");
    let r = env.run(&[
        "attribute",
        "--billing",
        &format!("{name}/{file}"),
        "--out",
        &out,
        "--grain",
        "day",
        "-q",
    ]);
    assert_eq!(r.code, 0, "attribute {args:?}: {}", r.stderr);
    let m = manifest(&env.path(&out));
    assert_eq!(m["rows"]["read"], 2500, "{args:?}");
    assert_eq!(m["rows"]["counted"], 2500, "{args:?}");
    assert_eq!(m["reconciliation"]["ok"], true, "{args:?}");
    assert!(
        m["reconciliation"]["days_checked"].as_u64() > Some(2),
        "{args:?}"
    );
    // the data; each partition's `_manifest.json` names its run and input file
    let mut tree = Tree::new();
    for table in [
        "cost_by_model",
        "cost_by_model_daily",
        "unit_costs_daily",
        "anomalies",
    ] {
        for (name, bytes) in tree_bytes(&env.path(&out).join(table), &["_manifest.json"]) {
            tree.insert(format!("{table}/{name}"), bytes);
        }
    }
    tree
}

/// Every shape of the same rows attributes to exactly the cost_by_model of the default CSV.
/// Types that hold fewer digits than generated round every cost the same way, so they are
/// compared with a CSV rounded alike (`--cost-decimals`, `--cost-digits`).
fn same_as_csv(shapes: &[(&[&str], &[&str])]) {
    let env = TestEnv::new();
    let mut references: Vec<(Vec<&str>, Tree)> = Vec::new();
    for (i, (shape, reference)) in shapes.iter().enumerate() {
        let want = match references.iter().find(|(r, _)| r.as_slice() == *reference) {
            Some((_, t)) => t.clone(),
            None => {
                let t = cost_by_model(&env, &format!("ref{}", references.len()), reference);
                references.push((reference.to_vec(), t.clone()));
                t
            }
        };
        assert!(!want.is_empty());
        let got = cost_by_model(&env, &format!("shape{i}"), shape);
        assert!(
            got == want,
            "{shape:?} attributes unlike the CSV {reference:?}"
        );
    }
}

#[test]
fn parquet_period_and_cost_types_attribute_like_the_csv() {
    same_as_csv(&[
        (&["--format", "parquet"], &[]),
        (
            &["--format", "parquet", "--period-type", "timestamp-ms"],
            &[],
        ),
        (
            &[
                "--format",
                "parquet",
                "--period-type",
                "timestamp-us",
                "--time-zone",
                "+02:00",
            ],
            &[],
        ),
        (
            &[
                "--format",
                "parquet",
                "--period-type",
                "timestamp-ns",
                "--time-zone",
                "Europe/Berlin",
            ],
            &[],
        ),
        (
            &[
                "--format",
                "parquet",
                "--period-type",
                "timestamp-ms",
                "--time-zone",
                "none",
            ],
            &[],
        ),
        (&["--format", "parquet", "--period-type", "date32"], &[]),
        (&["--format", "parquet", "--cost-type", "text"], &[]),
        (&["--format", "parquet", "--cost-type", "double"], &[]),
        (&["--format", "parquet", "--cost-type", "decimal38-18"], &[]),
        (
            &["--format", "parquet", "--cost-type", "decimal38-9"],
            &["--cost-decimals", "9"],
        ),
        (
            &["--format", "parquet", "--cost-type", "float"],
            &["--cost-digits", "6"],
        ),
    ]);
}

#[test]
fn parquet_tags_cardinality_and_encodings_attribute_like_the_csv() {
    same_as_csv(&[
        (&["--format", "parquet", "--tags", "map"], &[]),
        (&["--format", "parquet", "--tags", "struct"], &[]),
        (&["--format", "parquet", "--cardinality", "high"], &[]),
        (&["--cardinality", "high"], &[]),
        (
            &[
                "--format",
                "parquet",
                "--dictionary",
                "off",
                "--row-group-rows",
                "1000",
            ],
            &[],
        ),
        (
            &["--format", "parquet", "--parts", "3", "--tags", "struct"],
            &[],
        ),
    ]);
}

#[test]
fn csv_variants_and_aws_layouts_attribute_like_the_csv() {
    same_as_csv(&[
        (&["--line-ending", "crlf", "--bom"], &[]),
        (
            &["--format", "csv-gz", "--line-ending", "crlf", "--bom"],
            &[],
        ),
        (&["--layout", "aws-cur"], &[]),
        (
            &[
                "--layout",
                "aws-cur",
                "--format",
                "csv-gz",
                "--cardinality",
                "high",
            ],
            &[],
        ),
        (&["--layout", "aws-cur", "--format", "parquet"], &[]),
        (&["--layout", "aws-cur2", "--format", "parquet"], &[]),
        (
            &[
                "--layout",
                "aws-cur2",
                "--format",
                "parquet",
                "--cost-type",
                "decimal38-18",
                "--period-type",
                "text",
            ],
            &[],
        ),
    ]);
}

/// The Arrow schema and Parquet metadata of a written file.
fn parquet_meta(
    path: &std::path::Path,
) -> (
    arrow_schema::SchemaRef,
    std::sync::Arc<parquet::file::metadata::ParquetMetaData>,
) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    (b.schema().clone(), b.metadata().clone())
}

#[test]
fn shapes_are_what_they_say() {
    use arrow_schema::{DataType, TimeUnit};
    use parquet::basic::Encoding;
    let env = TestEnv::new();
    let typed = |name: &str, args: &[&str], column: &str| {
        sample(
            &env,
            name,
            &[&["--rows", "3000", "--format", "parquet"], args].concat(),
        );
        let (schema, _) = parquet_meta(&env.path(name).join("focus_sample.parquet"));
        schema.field_with_name(column).unwrap().data_type().clone()
    };
    assert_eq!(
        typed(
            "ms",
            &["--period-type", "timestamp-ms"],
            "BillingPeriodStart"
        ),
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(
        typed(
            "us",
            &["--period-type", "timestamp-us", "--time-zone", "+02:00"],
            "ChargePeriodEnd"
        ),
        DataType::Timestamp(TimeUnit::Microsecond, Some("+02:00".into()))
    );
    assert_eq!(
        typed(
            "ns",
            &[
                "--period-type",
                "timestamp-ns",
                "--time-zone",
                "Europe/Berlin"
            ],
            "BillingPeriodEnd"
        ),
        DataType::Timestamp(TimeUnit::Nanosecond, Some("Europe/Berlin".into()))
    );
    assert_eq!(
        typed("d32", &["--period-type", "date32"], "ChargePeriodStart"),
        DataType::Date32
    );
    assert_eq!(
        typed("f32", &["--cost-type", "float"], "BilledCost"),
        DataType::Float32
    );
    assert_eq!(
        typed("f64", &["--cost-type", "double"], "ListCost"),
        DataType::Float64
    );
    assert_eq!(
        typed("d9", &["--cost-type", "decimal38-9"], "EffectiveCost"),
        DataType::Decimal128(38, 9)
    );
    assert_eq!(
        typed("d18", &["--cost-type", "decimal38-18"], "ContractedCost"),
        DataType::Decimal128(38, 18)
    );
    assert!(matches!(
        typed("map", &["--tags", "map"], "Tags"),
        DataType::Map(_, _)
    ));
    assert!(matches!(
        typed("struct", &["--tags", "struct"], "Tags"),
        DataType::Struct(f) if f.iter().any(|f| f.name() == "model_id")
    ));

    // row groups of the size asked for; no dictionary at all when it is off
    sample(
        &env,
        "plain",
        &[
            "--rows",
            "3000",
            "--format",
            "parquet",
            "--row-group-rows",
            "1000",
            "--dictionary",
            "off",
        ],
    );
    let (_, meta) = parquet_meta(&env.path("plain/focus_sample.parquet"));
    assert_eq!(meta.num_row_groups(), 3);
    for rg in meta.row_groups() {
        assert_eq!(rg.num_rows(), 1000);
        assert!(rg
            .columns()
            .iter()
            .all(|c| c.dictionary_page_offset().is_none()));
    }
    // high cardinality: ResourceId outgrows the default dictionary page (1 MiB) and falls
    // back to plain pages; at normal cardinality it stays dictionary-encoded. (arrow-rs checks
    // the dictionary every 20,000 rows of a column without nulls, hence 50,000 rows.)
    let resource_id_pages = |name: &str, args: &[&str]| {
        sample(
            &env,
            name,
            &[&["--rows", "50000", "--format", "parquet"], args].concat(),
        );
        let (schema, meta) = parquet_meta(&env.path(name).join("focus_sample.parquet"));
        let i = schema.index_of("ResourceId").unwrap();
        let c = meta.row_group(0).column(i);
        assert!(c.dictionary_page_offset().is_some(), "{name}");
        *c.page_encoding_stats_mask().unwrap()
    };
    let high = resource_id_pages("high", &["--cardinality", "high"]);
    assert!(high.is_set(Encoding::PLAIN), "{high:?}");
    let normal = resource_id_pages("normal", &["--period-type", "timestamp-ms"]);
    assert!(normal.is_only(Encoding::RLE_DICTIONARY), "{normal:?}");

    // CUR 1 in Parquet: Athena spelling, hundreds of tag columns; CUR 2.0: one map
    sample(
        &env,
        "cur",
        &[
            "--rows", "3000", "--layout", "aws-cur", "--format", "parquet",
        ],
    );
    let (schema, _) = parquet_meta(&env.path("cur/aws_cur_sample.parquet"));
    let tag_columns = schema
        .fields()
        .iter()
        .filter(|f| f.name().starts_with("resource_tags_user_"))
        .count();
    assert!(tag_columns >= 200, "{tag_columns}");
    for c in [
        "line_item_unblended_cost",
        "bill_billing_period_start_date",
        "resource_tags_user_model_id",
        "savings_plan_savings_plan_a_r_n",
    ] {
        assert!(schema.field_with_name(c).is_ok(), "{c}");
    }
    sample(
        &env,
        "cur2",
        &[
            "--rows", "3000", "--layout", "aws-cur2", "--format", "parquet",
        ],
    );
    let (schema, _) = parquet_meta(&env.path("cur2/aws_cur2_sample.parquet"));
    assert!(matches!(
        schema.field_with_name("resource_tags").unwrap().data_type(),
        DataType::Map(_, _)
    ));
    assert!(schema.field_with_name("bill_payer_account_name").is_ok());

    // CSV: BOM and CRLF
    sample(
        &env,
        "crlf",
        &["--rows", "100", "--line-ending", "crlf", "--bom"],
    );
    let bytes = std::fs::read(env.path("crlf/focus_sample.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}BillingAccountId,".as_bytes()));
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(lines, 101);
    assert!(bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .all(|l| l.ends_with(b"\r")));
    sample(&env, "cur_csv", &["--rows", "100", "--layout", "aws-cur"]);
    let text = std::fs::read_to_string(env.path("cur_csv/aws_cur_sample.csv")).unwrap();
    assert!(text.starts_with("identity/LineItemId,identity/TimeInterval,"));
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains(",resourceTags/user:model_id,"));
}

#[test]
fn every_shape_is_deterministic() {
    let env = TestEnv::new();
    let shapes: [&[&str]; 4] = [
        &[
            "--format",
            "parquet",
            "--cardinality",
            "high",
            "--tags",
            "map",
            "--period-type",
            "timestamp-us",
            "--row-group-rows",
            "1500",
        ],
        &[
            "--layout", "aws-cur2", "--format", "parquet", "--parts", "3",
        ],
        &["--layout", "aws-cur", "--format", "csv-gz"],
        &["--format", "csv", "--cardinality", "high", "--bom"],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let args = [&["--rows", "5000", "--months", "2"], *shape].concat();
        sample(&env, &format!("a{i}"), &args);
        sample(&env, &format!("b{i}"), &args);
        assert!(
            tree_bytes(&env.path(&format!("a{i}")), &[])
                == tree_bytes(&env.path(&format!("b{i}")), &[]),
            "{shape:?}"
        );
    }
}
