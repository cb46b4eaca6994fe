//! Every adapter on its hand-made fixture (tests/fixtures/<format>/, expected numbers in
//! tests/fixtures/FORMATS.md), format detection, and the real samples of ../shared/data.

use mlcost::money::Money;
use polars::prelude::*;

use crate::util::*;

fn attribute_ok(env: &TestEnv, billing: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["attribute", "--billing"];
    args.extend_from_slice(billing);
    args.extend_from_slice(&["--out", "out"]);
    args.extend_from_slice(extra);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

/// `attribute` on `billing` with each Parquet reader (the dictionary fast path, then Polars),
/// each to its own output directory (`{out}-{reader}`), which it returns with the reader.
fn attribute_with_each_reader(
    env: &TestEnv,
    billing: &str,
    out: &str,
) -> Vec<(&'static str, String)> {
    ["direct", "polars"]
        .into_iter()
        .map(|reader| {
            let out = format!("{out}-{reader}");
            let r = env.run_env(
                &["attribute", "--billing", billing, "--out", &out],
                &[("MLCOST_PARQUET_READER", reader)],
            );
            assert_eq!(r.code, 0, "{reader}: {}", r.stderr);
            (reader, out)
        })
        .collect()
}

fn totals(env: &TestEnv) -> std::collections::BTreeMap<(String, String), String> {
    sums(&read_table(&env.path("out"), "cost_by_model"), "cost")
}

fn key(p: &str, c: &str) -> (String, String) {
    (p.to_string(), c.to_string())
}

fn model_cost(env: &TestEnv, model: &str) -> String {
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    cost.iter()
        .filter(|r| r["model_id"] == model)
        .map(|r| Money::parse(&r["cost"]).unwrap())
        .sum::<Money>()
        .to_string()
}

#[test]
fn aws_cur1_amortised_formula_counts_no_commitment_twice() {
    let env = TestEnv::new();
    let f = fixture("aws/cur1.csv");
    let r = attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    assert!(
        r.stderr.contains("formats: aws-cur 1 (csv)"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("note: no lineItem/ResourceId column"),
        "{}",
        r.stderr
    );
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "71.0000000181");
    assert_eq!(model_cost(&env, "ranker"), "14.75");
    assert_eq!(model_cost(&env, "fraud-v1"), "12");
    // unused RI (2 + 3) and unused Savings Plan (50 - 12) commitment stay visible
    assert_eq!(model_cost(&env, "__unused_commitment__"), "43");
    let m = manifest(&env.path("out"));
    assert_eq!(m["inputs"][0]["totals"]["USD"]["billed"], "1969.0000000181");
    assert_eq!(
        m["inputs"][0]["totals"]["USD"]["effective"],
        "71.0000000181"
    );
    assert_eq!(m["inputs"][0]["format"], "aws-cur");
}

#[test]
fn aws_billed_basis_is_unblended_and_athena_spelling_matches() {
    let env = TestEnv::new();
    let config = env.write("billed.toml", "[cost]\nbasis = \"billed\"\n");
    let f = fixture("aws/cur1_athena.csv");
    let r = attribute_ok(
        &env,
        &[f.to_str().unwrap()],
        &["--config", config.to_str().unwrap()],
    );
    assert!(r.stderr.contains("aws-cur 1 (athena)"), "{}", r.stderr);
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "1969.0000000181");
    let config = env.write("contracted.toml", "[cost]\nbasis = \"contracted\"\n");
    let r = env.run(&[
        "attribute",
        "--billing",
        f.to_str().unwrap(),
        "--out",
        "out2",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cost basis `contracted` is not available for AWS CUR exports"),
        "{}",
        r.stderr
    );
}

#[test]
fn aws_cur2_parquet_with_resource_tags_map() {
    let env = TestEnv::new();
    let csv = fixture("aws/cur1_athena.csv");
    let mut df = LazyCsvReader::new(PlRefPath::new(csv.to_str().unwrap()))
        .with_infer_schema_length(Some(0))
        .finish()
        .unwrap()
        .collect()
        .unwrap();
    let tag_cols = [
        "resource_tags_user_team",
        "resource_tags_user_model_id",
        "resource_tags_user_lifecycle_phase",
    ];
    let values: Vec<Vec<Option<String>>> = tag_cols
        .iter()
        .map(|c| {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        })
        .collect();
    let maps: Vec<Option<Series>> = (0..df.height())
        .map(|i| {
            let mut keys = Vec::new();
            let mut vals = Vec::new();
            for (c, v) in tag_cols.iter().zip(&values) {
                if let Some(v) = &v[i] {
                    keys.push(c.replace("resource_tags_", ""));
                    vals.push(v.clone());
                }
            }
            let k = Series::new("key".into(), keys);
            let v = Series::new("value".into(), vals);
            Some(
                StructChunked::from_series("entry".into(), k.len(), [k, v].iter())
                    .unwrap()
                    .into_series(),
            )
        })
        .collect();
    for c in tag_cols {
        df = df.drop(c).unwrap();
    }
    let list: ListChunked = maps.into_iter().collect();
    df.with_column(
        list.with_name("resource_tags".into())
            .into_series()
            .into_column(),
    )
    .unwrap();
    let f = std::fs::File::create(env.path("cur2.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let r = attribute_ok(&env, &["cur2.parquet"], &[]);
    assert!(r.stderr.contains("aws-cur 2.0"), "{}", r.stderr);
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "71.0000000181");
    assert_eq!(model_cost(&env, "ranker"), "14.75");
}

#[test]
fn azure_amortised_braceless_tags_bom_crlf_and_localised_headers() {
    let env = TestEnv::new();
    for file in ["azure/amortized.csv", "azure/amortized_de.csv"] {
        let f = fixture(file);
        let r = attribute_ok(&env, &[f.to_str().unwrap()], &[]);
        assert!(r.stderr.contains("formats: azure"), "{}", r.stderr);
        assert_eq!(
            totals(&env)[&key("2026-10", "EUR")],
            "21.8500564902",
            "{file}"
        );
        assert_eq!(model_cost(&env, "summarizer"), "19.75");
        assert_eq!(model_cost(&env, "__unused_commitment__"), "3.1");
    }
}

#[test]
fn mixed_formats_and_currencies_total_per_currency() {
    let env = TestEnv::new();
    let a = fixture("azure/amortized.csv");
    let b = fixture("azure/actual_usd.csv");
    let c = fixture("aws/cur1.csv");
    attribute_ok(
        &env,
        &[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            c.to_str().unwrap(),
        ],
        &[],
    );
    let t = totals(&env);
    assert_eq!(t[&key("2026-10", "EUR")], "21.8500564902");
    // Azure actual-cost purchase (100) + usage (4.5) + AWS amortised 71.0000000181
    assert_eq!(t[&key("2026-10", "USD")], "175.5000000181");
    let m = manifest(&env.path("out"));
    let formats: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    // inputs are read in path order
    assert_eq!(formats, ["aws-cur", "azure", "azure"]);
}

#[test]
fn gcp_ndjson_credits_are_netted_never_clamped_and_labels_do_not_fan_out() {
    let env = TestEnv::new();
    let f = fixture("gcp/export.jsonl");
    let r = attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    assert!(r.stderr.contains("formats: gcp"), "{}", r.stderr);
    // effective: (10.5 - 3.75) + 0.000000123 + (2 - 3) + 0.5; the usage of 30 September is
    // billed on the October invoice
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "6.250000123");
    assert_eq!(model_cost(&env, "detector"), "5.75");
    let m = manifest(&env.path("out"));
    assert_eq!(m["inputs"][0]["totals"]["USD"]["billed"], "13.000000123");
}

#[test]
fn gcp_parquet_with_nested_columns() {
    let env = TestEnv::new();
    let s = |name: &str, v: Vec<Option<&str>>| Series::new(name.into(), v);
    let st = |name: &str, fields: Vec<Series>| {
        let n = fields[0].len();
        StructChunked::from_series(name.into(), n, fields.iter())
            .unwrap()
            .into_series()
    };
    let kv = |pairs: &[(&str, &str)]| -> Option<Series> {
        let k = Series::new("key".into(), pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        let v = Series::new(
            "value".into(),
            pairs.iter().map(|p| p.1).collect::<Vec<_>>(),
        );
        Some(
            StructChunked::from_series("e".into(), k.len(), [k, v].iter())
                .unwrap()
                .into_series(),
        )
    };
    let credit = |amounts: &[f64]| -> Option<Series> {
        let n = Series::new(
            "name".into(),
            amounts.iter().map(|_| "c").collect::<Vec<_>>(),
        );
        let a = Series::new("amount".into(), amounts.to_vec());
        Some(
            StructChunked::from_series("c".into(), n.len(), [n, a].iter())
                .unwrap()
                .into_series(),
        )
    };
    let labels: ListChunked = vec![
        kv(&[("team", "vision"), ("model_id", "detector")]),
        kv(&[("team", "vision")]),
    ]
    .into_iter()
    .collect();
    let credits: ListChunked = vec![credit(&[-1.25, -2.5]), credit(&[])]
        .into_iter()
        .collect();
    let mut df = DataFrame::new_infer_height(vec![
        s("billing_account_id", vec![Some("0X0X"), Some("0X0X")]).into_column(),
        st(
            "invoice",
            vec![s("month", vec![Some("202610"), Some("202610")])],
        )
        .into_column(),
        st(
            "service",
            vec![s(
                "description",
                vec![Some("Compute Engine"), Some("BigQuery")],
            )],
        )
        .into_column(),
        st(
            "project",
            vec![s("id", vec![Some("ml-prod"), Some("ml-prod")])],
        )
        .into_column(),
        Series::new("cost".into(), [10.5f64, 0.1]).into_column(),
        s("currency", vec![Some("USD"), Some("USD")]).into_column(),
        s("cost_type", vec![Some("regular"), Some("regular")]).into_column(),
        labels
            .with_name("labels".into())
            .into_series()
            .into_column(),
        credits
            .with_name("credits".into())
            .into_series()
            .into_column(),
    ])
    .unwrap();
    let f = std::fs::File::create(env.path("gcp.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    attribute_ok(&env, &["gcp.parquet"], &[]);
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "6.85");
    assert_eq!(model_cost(&env, "detector"), "6.75");
}

#[test]
fn oci_tag_columns_corrections_and_18_decimals() {
    let env = TestEnv::new();
    let f = fixture("oci/cost_report.csv");
    let r = attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    assert!(r.stderr.contains("formats: oci"), "{}", r.stderr);
    let t = totals(&env);
    assert_eq!(t[&key("2026-10", "USD")], "0.10000000000626609");
    assert_eq!(t[&key("2026-09", "USD")], "2.5");
    assert_eq!(model_cost(&env, "detector"), "2.6");
}

#[test]
fn cost_explorer_long_table_console_and_api() {
    let env = TestEnv::new();
    let f = fixture("cost_explorer/long.csv");
    let r = attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    assert!(
        r.stderr.contains("note: Cost Explorer data are aggregates"),
        "{}",
        r.stderr
    );
    let t = totals(&env);
    assert_eq!(t[&key("2026-10", "USD")], "157.75");
    assert_eq!(t[&key("2026-11", "USD")], "3");
    assert_eq!(model_cost(&env, "ranker"), "150.25");

    let f = fixture("cost_explorer/tag_pair.csv");
    attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    assert_eq!(find(&cost, &[("team", "recsys")])["cost"], "10");

    let f = fixture("cost_explorer/console.csv");
    attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    assert_eq!(
        totals(&env)[&key("2026-10", "USD")],
        "32.75",
        "the Service total row is not counted"
    );

    let f = fixture("cost_explorer/console_transposed.csv");
    attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    let t = totals(&env);
    assert_eq!(
        (
            t[&key("2026-09", "USD")].as_str(),
            t[&key("2026-10", "USD")].as_str()
        ),
        ("11", "22")
    );

    let f = fixture("cost_explorer/api.json");
    attribute_ok(&env, &[f.to_str().unwrap()], &[]);
    let t = totals(&env);
    assert_eq!(t[&key("2026-09", "USD")], "125");
    assert_eq!(t[&key("2026-10", "USD")], "0.0000000181");
}

#[test]
fn cost_explorer_refuses_to_sum_several_tag_groupings() {
    let env = TestEnv::new();
    for (file, needle) in [
        (
            "cost_explorer/tag_pair_two_keys.csv",
            "several tag keys (project, team)",
        ),
        (
            "cost_explorer/api_two_groupings.json",
            "different tag keys (project, team)",
        ),
    ] {
        let f = fixture(file);
        let r = env.run(&[
            "attribute",
            "--billing",
            f.to_str().unwrap(),
            "--out",
            "out",
        ]);
        assert_eq!(r.code, 2, "{file}");
        assert!(r.stderr.contains(needle), "{}", r.stderr);
    }
}

/// The real anonymised exports in ../shared/data (legacy CUR and Azure EA) run through with
/// exit 0 and reconcile exactly against a total computed here, independently of the pipeline.
#[test]
fn real_samples_reconcile_with_an_independent_total() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !data.exists() {
        eprintln!("skipped: {} is not present on this machine", data.display());
        return;
    }
    for (file, column, currency, period) in [
        (
            "aws_cur_sample.csv",
            "lineItem/UnblendedCost",
            "USD",
            "2023-11",
        ),
        (
            "azure_ea_sample.csv",
            "CostInBillingCurrency",
            "CAD",
            "2023-09",
        ),
    ] {
        let path = data.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let df = CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(std::io::Cursor::new(
                text.trim_start_matches('\u{feff}').as_bytes().to_vec(),
            ))
            .finish()
            .unwrap();
        let expected: Money = df
            .column(column)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| Money::parse(v.unwrap_or("0")).unwrap())
            .sum();
        let env = TestEnv::new();
        let r = attribute_ok(&env, &[path.to_str().unwrap()], &[]);
        assert!(r.stderr.contains("reconciliation: ok"), "{}", r.stderr);
        assert_eq!(
            totals(&env)[&key(period, currency)],
            expected.to_string(),
            "{file}"
        );
        let m = manifest(&env.path("out"));
        assert_eq!(m["rows"]["quarantined"], 0, "{file}");
    }
}

/// A CUR month delivered twice (the second export restated one cost): the repeated line items
/// are refused unless `--prefer` says which export wins.
#[test]
fn a_cur_month_delivered_twice_needs_prefer() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(fixture("aws/cur1.csv")).unwrap();
    let with_interval: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l},identity/TimeInterval\n")
            } else {
                format!("{l},2026-10-01T00:00:00Z/2026-10-02T00:00:00Z\n")
            }
        })
        .collect();
    env.write("first.csv", &with_interval);
    env.write(
        "second.csv",
        &with_interval.replace("10.50,10.50", "11.50,11.50"),
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "first.csv",
        "second.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("`second.csv`: it repeats 11 line items of `first.csv`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--prefer second.csv"), "{}", r.stderr);
    let r = env.run(&[
        "attribute",
        "--billing",
        "first.csv",
        "second.csv",
        "--out",
        "out",
        "--prefer",
        "second.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`first.csv` repeats 11 line items of `second.csv`: skipped"),
        "{}",
        r.stderr
    );
    // only the preferred export is counted: 71.0000000181 + 1 restated
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "72.0000000181");
    // the same file spelled another way still wins; a file that is not an input is refused
    let mut args = vec!["attribute", "--billing", "first.csv", "second.csv"];
    args.extend(["--out", "out", "--prefer", "./second.csv"]);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(totals(&env)[&key("2026-10", "USD")], "72.0000000181");
    let last = args.len() - 1;
    args[last] = "first.csv.bak";
    env.write("first.csv.bak", &with_interval);
    let r = env.run(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`--prefer first.csv.bak` is not one of the billing inputs"),
        "{}",
        r.stderr
    );
    // re-review F2: a losing file with line items the winner lacks is not skipped whole
    let mut fewer = with_interval.lines().collect::<Vec<_>>();
    let dropped = fewer.remove(1);
    env.write("fewer.csv", &(fewer.join("\n") + "\n"));
    let mut args = vec!["attribute", "--billing", "first.csv", "fewer.csv"];
    args.extend(["--out", "out", "--prefer", "fewer.csv"]);
    let r = env.run(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "`first.csv`: it has 1 line item(s) `fewer.csv` lacks, besides the 10 they share"
        ),
        "{dropped}: {}",
        r.stderr
    );
    // ... and so is one without identity/TimeInterval (the usage start stands in for it)
    let plain = std::fs::read_to_string(fixture("aws/cur1.csv")).unwrap();
    let rows: String = plain.lines().skip(1).map(|l| format!("{l}\n")).collect();
    env.write("plain_twice.csv", &format!("{plain}{rows}"));
    let r = env.run(&["attribute", "--billing", "plain_twice.csv", "--out", "out3"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("appear twice in this file"),
        "{}",
        r.stderr
    );
    // re-review F1: one file holding its own line items twice is refused
    let body: String = with_interval
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    env.write("twice.csv", &format!("{with_interval}{body}"));
    let r = env.run(&["attribute", "--billing", "twice.csv", "--out", "out2"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`twice.csv`: 11 line item(s) appear twice in this file"),
        "{}",
        r.stderr
    );
}

/// Re-check of #12: a CUR export without identity/TimeInterval given once as CSV and once as
/// Parquet (where the usage start is a timestamp, printed another way) is one export: refused
/// as repeated line items, not counted twice. A line item whose id is an empty text has no
/// identity (as a null one), so it is not a repeat.
#[test]
fn a_cur_export_as_csv_and_as_parquet_is_one_export() {
    let env = TestEnv::new();
    let csv = fixture("aws/cur1.csv");
    let mut df = LazyCsvReader::new(PlRefPath::new(csv.to_str().unwrap()))
        .with_infer_schema_length(Some(0))
        .finish()
        .unwrap()
        .collect()
        .unwrap();
    // the usage start as a UTC timestamp, as a Parquet CUR has it
    let name = "lineItem/UsageStartDate";
    let millis: Vec<Option<i64>> = df
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|t| {
            let t = chrono::DateTime::parse_from_rfc3339(t?).ok()?;
            Some(t.timestamp_millis())
        })
        .collect();
    let stamps = Series::new(name.into(), millis)
        .cast(&DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap();
    df.with_column(stamps.into_column()).unwrap();
    let f = std::fs::File::create(env.path("cur1.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df.clone()).unwrap();
    let r = env.run(&[
        "attribute",
        "--billing",
        csv.to_str().unwrap(),
        "cur1.parquet",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("it repeats 11 line items of"),
        "{}",
        r.stderr
    );
    // ids quoted empty: no identity, so never a repeat within the file
    let text = std::fs::read_to_string(&csv).unwrap();
    let emptied: String = text
        .lines()
        .map(|l| match l.split_once(',') {
            Some((id, rest)) if id.starts_with("li-") && id != "li-1" => format!("\"\",{rest}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    env.write("empty_ids.csv", &emptied);
    let r = env.run(&["attribute", "--billing", "empty_ids.csv", "--out", "out2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = sums(&read_table(&env.path("out2"), "cost_by_model"), "cost");
    assert_eq!(t[&key("2026-10", "USD")], "71.0000000181");
}

/// Issue 15 review (helper-10): reading only the tag columns a run uses merged rows that
/// differed only in an unused tag, which changed a shared-pool split (its rounding follows the
/// groups) and the compliance share of spend (credits netted inside a group). Every tag column
/// is read, so both stay as FOCUS text of the same rows gives them.
#[test]
fn unused_tag_columns_still_tell_rows_apart() {
    let env = TestEnv::new();
    let split = fixture("aws/cur1_unused_tag_split.csv");
    env.write(
        "split.toml",
        "[[shared]]\nid = \"storage\"\nmatch = { resource_id = \"b-1\" }\nmethod = \"proportional\"\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        split.to_str().unwrap(),
        "--config",
        "split.toml",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let df = read_table(&env.path("out"), "cost_by_model");
    let shared: std::collections::BTreeMap<String, String> = rows(&df)
        .into_iter()
        .filter(|r| r["allocation_method"].contains("shared") || r["source_pool"] == "storage")
        .map(|r| (r["model_id"].clone(), r["cost"].clone()))
        .collect();
    assert_eq!(
        shared.get("m1").map(String::as_str),
        Some("0.17"),
        "{shared:?}"
    );
    assert_eq!(
        shared.get("m2").map(String::as_str),
        Some("0.83"),
        "{shared:?}"
    );
    let credits = fixture("aws/cur1_unused_tag_credits.csv");
    env.write("team.toml", "[tags]\nrequired = [\"team\"]\n");
    let r = env.run(&[
        "validate",
        "--billing",
        credits.to_str().unwrap(),
        "--config",
        "team.toml",
    ]);
    assert!(r.stdout.contains("33.3%"), "{}", r.stdout);
}

#[test]
fn int96_periods_and_categorical_tags_read_alike_by_both_parquet_readers() {
    // Spark's legacy INT96 timestamps (here 3000-01, outside what i64 nanoseconds hold) and
    // Tags whose fields pyarrow stores as dictionaries: files the Parquet fast path leaves to
    // Polars, so both readers publish the same numbers
    if !crate::warehouse::python_or_skip(&["pyarrow"], "writes INT96 and dictionary Parquet") {
        return;
    }
    let env = TestEnv::new();
    let script = r#"
import sys, datetime as dt, pyarrow as pa, pyarrow.parquet as pq
period = pa.array([dt.datetime(2024, 1, 1), dt.datetime(3000, 1, 1)], pa.timestamp("ms"))
tags = pa.StructArray.from_arrays(
    [pa.array(["m1", "m2"]).dictionary_encode(), pa.array(["t1", "t1"]).dictionary_encode()],
    ["model_id", "team"])
json = pa.array(['{"model_id":"m1"}', '{"model_id":"m2"}'])
t = pa.table({"BillingPeriodStart": period, "BillingCurrency": ["USD", "USD"],
              "Tags": tags if sys.argv[2] == "categorical" else json,
              "EffectiveCost": [1.5, 2.25], "BilledCost": [1.5, 2.25]})
pq.write_table(t, sys.argv[1], use_deprecated_int96_timestamps=True)
"#;
    for tags in ["categorical", "json"] {
        let file = env.path("int96.parquet");
        crate::warehouse::python_writes(&[
            "-c".as_ref(),
            script.as_ref(),
            file.as_os_str(),
            tags.as_ref(),
        ]);
        let mut seen = Vec::new();
        for (_, out) in attribute_with_each_reader(&env, "int96.parquet", &format!("out-{tags}")) {
            let mut costs: Vec<(String, String, String)> =
                rows(&read_table(&env.path(&out), "cost_by_model"))
                    .iter()
                    .map(|r| {
                        (
                            r["billing_period"].clone(),
                            r["model_id"].clone(),
                            r["cost"].clone(),
                        )
                    })
                    .collect();
            costs.sort();
            seen.push(costs);
        }
        assert_eq!(seen[0], seen[1]);
        let periods: Vec<&str> = seen[0].iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(periods, ["2024-01", "3000-01"], "{:?}", seen[0]);
        assert!(
            seen[0].iter().any(|(_, m, _)| m == "m1"),
            "{tags}: {:?}",
            seen[0]
        );
    }
}

#[test]
fn quarantined_parquet_rows_keep_their_numbers_across_slices() {
    // NaN costs (a double column: the fast path leaves the file to Polars) in rows 6, 151 and
    // 250 of 60-row row groups, read whole and in 100-row slices: the same rows are named
    if !crate::warehouse::python_or_skip(&["pyarrow"], "writes a Parquet file with NaN costs") {
        return;
    }
    let env = TestEnv::new();
    let script = r#"
import sys, math, pyarrow as pa, pyarrow.parquet as pq
n = 250
cost = [float(i % 7) + 0.25 for i in range(n)]
for bad in (5, 150, 249):
    cost[bad] = math.nan
t = pa.table({"BillingPeriodStart": ["2026-10-01"] * n, "BillingCurrency": ["USD"] * n,
              "Tags": ['{"model_id":"m%d"}' % (i % 3) for i in range(n)],
              "EffectiveCost": cost, "BilledCost": cost})
pq.write_table(t, sys.argv[1], row_group_size=60)
"#;
    let file = env.path("nan.parquet");
    crate::warehouse::python_writes(&["-c".as_ref(), script.as_ref(), file.as_os_str()]);
    let mut seen = Vec::new();
    for slice in ["100", "1000000"] {
        let out = format!("out-{slice}");
        let r = env.run_env(
            &["attribute", "--billing", "nan.parquet", "--out", &out],
            &[("MLCOST_PARQUET_SLICE_ROWS", slice)],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let q = std::fs::read_to_string(
            env.path(&out)
                .join("quarantine/billing_period=2026-10/quarantine.csv"),
        )
        .unwrap();
        seen.push(q);
    }
    assert_eq!(seen[0], seen[1]);
    let rows: Vec<&str> = seen[0]
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(rows, ["6", "151", "250"], "{}", seen[0]);
}

/// Review of issue 15 (helper-20): pyarrow writes a map's Parquet entries as `key`/`value` but
/// keeps its own names (`k`/`v`) in the Arrow schema it stores, which Polars reads. The Polars
/// path lost every tag of such a CUR 2.0 `resource_tags`; both readers now read the entries as
/// key then value.
#[test]
fn a_map_whose_entries_pyarrow_named_otherwise_keeps_its_tags_on_both_readers() {
    if !crate::warehouse::python_or_skip(&["pyarrow"], "writes a map with its own entry names") {
        return;
    }
    let env = TestEnv::new();
    let script = r#"
import sys, datetime as dt, pyarrow as pa, pyarrow.parquet as pq
kv = pa.map_(pa.field(sys.argv[2], pa.string(), nullable=False), pa.field(sys.argv[3], pa.string()))
t = pa.table({
    "identity_line_item_id": ["a0", "a1"],
    "identity_time_interval": ["2026-10-01T00:00:00Z/2026-10-01T01:00:00Z"] * 2,
    "bill_billing_period_start_date": pa.array([dt.datetime(2026, 10, 1)] * 2, pa.timestamp("ms", tz="UTC")),
    "bill_payer_account_name": ["payer", "payer"],
    "line_item_line_item_type": ["Usage", "Usage"],
    "line_item_currency_code": ["USD", "USD"],
    "line_item_unblended_cost": [1.0, 2.5],
    "resource_tags": pa.array([[("user_model_id", "m1")], [("user_model_id", "m2")]], kv),
})
pq.write_table(t, sys.argv[1])
"#;
    // (named `value`, `key`: pyarrow keeps those names too, the key still first)
    for (key, value) in [("k", "v"), ("value", "key")] {
        let file = env.path("cur2.parquet");
        crate::warehouse::python_writes(&[
            "-c".as_ref(),
            script.as_ref(),
            file.as_os_str(),
            key.as_ref(),
            value.as_ref(),
        ]);
        for (reader, out) in attribute_with_each_reader(&env, "cur2.parquet", &format!("out-{key}"))
        {
            let mut costs: Vec<(String, String)> =
                rows(&read_table(&env.path(&out), "cost_by_model"))
                    .iter()
                    .map(|r| (r["model_id"].clone(), r["cost"].clone()))
                    .collect();
            costs.sort();
            let models: Vec<&str> = costs.iter().map(|(m, _)| m.as_str()).collect();
            assert_eq!(models, ["m1", "m2"], "{key}/{value}, {reader}: {costs:?}");
        }
    }
}

/// Review of issue 15 (helper-20): pyarrow writes a row group without rows (an empty batch
/// given to its writer) with a data page offset of 0, which the layout check took for a
/// damaged file. Such a file is read, alike by both readers.
#[test]
fn a_parquet_file_with_an_empty_row_group_is_read() {
    if !crate::warehouse::python_or_skip(&["pyarrow"], "writes an empty row group") {
        return;
    }
    let env = TestEnv::new();
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({"BillingPeriodStart": ["2026-10-01"] * 2, "BillingCurrency": ["USD"] * 2,
              "Tags": ['{"model_id":"m1"}', '{"model_id":"m2"}'],
              "EffectiveCost": [1.5, 2.25], "BilledCost": [1.5, 2.25]})
with pq.ParquetWriter(sys.argv[1], t.schema) as w:
    w.write_table(t.slice(0, 0))
    w.write_table(t)
    w.write_table(t.slice(0, 0))
"#;
    let file = env.path("empty_group.parquet");
    crate::warehouse::python_writes(&["-c".as_ref(), script.as_ref(), file.as_os_str()]);
    for (reader, out) in attribute_with_each_reader(&env, "empty_group.parquet", "out") {
        let t = sums(&read_table(&env.path(&out), "cost_by_model"), "cost");
        assert_eq!(t[&key("2026-10", "USD")], "3.75", "{reader}");
    }
}
