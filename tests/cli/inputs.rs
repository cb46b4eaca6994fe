//! The same logical data as CSV, CSV.gz and Parquet (Tags as JSON text and as a struct),
//! from a file, a directory and a glob, must give the same outputs.

use polars::prelude::*;

use crate::util::*;

/// The good rows of basic.csv (the two quarantined ones dropped).
fn good_csv() -> String {
    let text = std::fs::read_to_string(fixture("focus/basic.csv")).unwrap();
    text.lines()
        .filter(|l| !l.contains(",abc,") && !l.contains(",NaN,"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn attribute(env: &TestEnv, billing: &[&str], out: &str) -> Run {
    let mut args = vec!["attribute", "--billing"];
    args.extend_from_slice(billing);
    args.extend_from_slice(&["--out", out]);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

fn tables(env: &TestEnv, out: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree_bytes(
        &env.path(out),
        &["manifest.json", "quarantine.csv", ".mlcost.lock"],
    )
}

/// Writes the good rows as Parquet: costs as decimal(38,18), periods as timestamps, and Tags
/// either as JSON text or as a struct of its keys.
fn write_parquet(env: &TestEnv, name: &str, tags_as_struct: bool) {
    let csv = env.write("good.csv", &good_csv());
    let mut df = LazyCsvReader::new(PlRefPath::new(csv.to_str().unwrap()))
        .with_infer_schema_length(Some(0))
        .with_null_values(Some(NullValues::AllColumnsSingle("NULL".into())))
        .finish()
        .unwrap()
        .with_columns([
            // exact decimals, as a FOCUS Parquet writer with a decimal type stores them
            mlcost::ingest::money_expr(col("BilledCost")),
            mlcost::ingest::money_expr(col("EffectiveCost")),
        ])
        .collect()
        .unwrap();
    // BillingPeriodStart as a real datetime
    let days: Vec<Option<i64>> = df
        .column("BillingPeriodStart")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| {
            v.map(|d| {
                chrono::NaiveDate::parse_from_str(&d[..10], "%Y-%m-%d")
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_millis()
            })
        })
        .collect();
    let dt = Int64Chunked::from_iter_options("BillingPeriodStart".into(), days.into_iter())
        .into_datetime(TimeUnit::Milliseconds, None);
    df.with_column(dt.into_series().into_column()).unwrap();
    if tags_as_struct {
        let tags: Vec<Option<String>> = df
            .column("Tags")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect();
        let keys = [
            " Team",
            "Model-Id",
            "env",
            "team",
            "project",
            "model_id",
            "environment",
            "cost_center",
            "lifecycle_phase",
            "model-id",
        ];
        let fields: Vec<Series> = keys
            .iter()
            .map(|k| {
                let vals: Vec<Option<String>> = tags
                    .iter()
                    .map(|t| {
                        t.as_ref().and_then(|t| {
                            let v: serde_json::Value = serde_json::from_str(t).ok()?;
                            v.get(*k).and_then(|x| x.as_str()).map(str::to_string)
                        })
                    })
                    .collect();
                Series::new((*k).into(), vals)
            })
            .collect();
        let st = StructChunked::from_series("Tags".into(), df.height(), fields.iter()).unwrap();
        df.with_column(st.into_series().into_column()).unwrap();
    }
    let f = std::fs::File::create(env.path(name)).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

#[test]
fn parquet_with_json_tags_matches_csv() {
    let env = TestEnv::new();
    env.write("good.csv", &good_csv());
    attribute(&env, &["good.csv"], "from_csv");
    write_parquet(&env, "good.parquet", false);
    attribute(&env, &["good.parquet"], "from_parquet");
    assert!(tables(&env, "from_csv") == tables(&env, "from_parquet"));
}

#[test]
fn parquet_with_struct_tags_matches_csv() {
    let env = TestEnv::new();
    env.write("good.csv", &good_csv());
    attribute(&env, &["good.csv"], "from_csv");
    write_parquet(&env, "struct.parquet", true);
    attribute(&env, &["struct.parquet"], "from_struct");
    let a = rows(&read_table(&env.path("from_csv"), "cost_by_model"));
    let b = rows(&read_table(&env.path("from_struct"), "cost_by_model"));
    assert_eq!(a, b);
}

#[test]
fn gzip_directory_and_glob_match_csv() {
    let env = TestEnv::new();
    env.write("good.csv", &good_csv());
    attribute(&env, &["good.csv"], "one");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, good_csv().as_bytes()).unwrap();
    std::fs::create_dir_all(env.path("gz")).unwrap();
    std::fs::write(env.path("gz/good.csv.gz"), gz.finish().unwrap()).unwrap();
    attribute(&env, &["gz/good.csv.gz"], "from_gz");
    assert!(tables(&env, "one") == tables(&env, "from_gz"));

    // the same rows split over two files, read as a directory and as a glob
    let text = good_csv();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let (a, b) = body.split_at(body.len() / 2);
    env.write("parts/a.csv", &format!("{header}\n{}\n", a.join("\n")));
    env.write("parts/sub/b.csv", &format!("{header}\n{}\n", b.join("\n")));
    env.write("parts/notes.txt", "ignored");
    let r = attribute(&env, &["parts"], "from_dir");
    assert!(r.stderr.contains("from 2 file(s)"), "{}", r.stderr);
    let sum = |out: &str| sums(&read_table(&env.path(out), "cost_by_model"), "cost");
    assert_eq!(sum("one"), sum("from_dir"));
    attribute(&env, &["parts/*.csv", "parts/sub/*.csv"], "from_glob");
    assert_eq!(sum("one"), sum("from_glob"));
}

#[test]
fn bom_and_crlf_are_read() {
    let env = TestEnv::new();
    let text = format!("\u{feff}{}", good_csv().replace('\n', "\r\n"));
    env.write("bom.csv", &text);
    env.write("good.csv", &good_csv());
    attribute(&env, &["good.csv"], "plain");
    attribute(&env, &["bom.csv"], "bom");
    assert!(tables(&env, "plain") == tables(&env, "bom"));
}

#[test]
fn sample_output_runs_through_attribute() {
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "3000", "--months", "2", "--seed", "7",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[
        "attribute",
        "--billing",
        "s/focus_sample.csv",
        "--requests",
        "s/requests.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["rows"]["read"], 3000);
    assert_eq!(m["periods"].as_array().unwrap().len(), 2);
    assert_eq!(m["reconciliation"]["ok"], true);
    let cost = rows(&read_table(&env.path("out"), "cost_by_model"));
    assert!(cost.iter().any(|r| r["model_id"] == "__unallocated__"));
    assert!(cost
        .iter()
        .any(|r| r["model_id"] == "__unused_commitment__"));
    // the same seed gives the same file
    let r = env.run(&[
        "sample", "--out", "s2", "--rows", "3000", "--months", "2", "--seed", "7",
    ]);
    assert_eq!(r.code, 0);
    assert!(
        std::fs::read(env.path("s/focus_sample.csv")).unwrap()
            == std::fs::read(env.path("s2/focus_sample.csv")).unwrap()
    );
    // and parquet output attributes to the same totals
    let r = env.run(&[
        "sample", "--out", "p", "--rows", "3000", "--months", "2", "--seed", "7", "--format",
        "parquet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[
        "attribute",
        "--billing",
        "p/focus_sample.parquet",
        "--out",
        "pout",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = sums(&read_table(&env.path("out"), "cost_by_model"), "cost");
    let b = sums(&read_table(&env.path("pout"), "cost_by_model"), "cost");
    assert_eq!(a, b);
    // The dictionary reader (the default for this file), Polars in one pass and Polars in
    // slices of 700 rows merged: the same bytes.
    let run = |out: &str, reader: &str, slice: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_mlcost"))
            .args([
                "attribute",
                "--billing",
                "p/focus_sample.parquet",
                "--out",
                out,
                "-vv",
            ])
            .current_dir(env.dir.path())
            .env("MLCOST_PARQUET_READER", reader)
            .env("MLCOST_PARQUET_SLICE_ROWS", slice)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{stderr}");
        stderr
    };
    let direct_log = run("direct", "auto", "700");
    assert!(
        direct_log.contains("on Parquet dictionaries"),
        "{direct_log}"
    );
    let sliced_log = run("sliced", "polars", "700");
    let whole_log = run("whole", "polars", "1000000000");
    for log in [&sliced_log, &whole_log] {
        assert!(
            !log.contains("on Parquet dictionaries"),
            "forced to Polars: {log}"
        );
    }
    let tree = |d: &str| tree_bytes(&env.path(d), &["manifest.json", ".mlcost.lock"]);
    assert!(tree("pout") == tree("direct"));
    assert!(tree("pout") == tree("sliced"), "slicing changed the output");
    assert!(
        tree("pout") == tree("whole"),
        "the dictionary reader and Polars disagree"
    );
}

#[test]
fn a_month_in_parquet_parts_reads_like_one_file() {
    let env = TestEnv::new();
    let base = [
        "sample", "--rows", "4000", "--months", "2", "--seed", "9", "--format", "parquet",
    ];
    let r = env.run(&[&base[..], &["--out", "one"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[&base[..], &["--out", "parts", "--parts", "7"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let parts: Vec<_> = glob::glob(&format!(
        "{}/*.parquet",
        env.path("parts/focus_sample").display()
    ))
    .unwrap()
    .flatten()
    .collect();
    assert_eq!(parts.len(), 7);
    for (input, out) in [
        ("one/focus_sample.parquet", "from_one"),
        ("parts/focus_sample", "from_parts"),
    ] {
        let r = env.run(&[
            "attribute",
            "--billing",
            input,
            "--requests",
            "one/requests.csv",
            "--out",
            out,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let m = manifest(&env.path("from_parts"));
    assert_eq!(m["rows"]["read"], 4000);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 7);
    // the same tables, byte for byte; only the manifest (which lists the inputs) differs
    assert!(
        tree_bytes(&env.path("from_one"), &["manifest.json", ".mlcost.lock"])
            == tree_bytes(&env.path("from_parts"), &["manifest.json", ".mlcost.lock"])
    );
    let r = env.run(&["sample", "--out", "x", "--rows", "5", "--parts", "6"]);
    assert_eq!(r.code, 2);
    assert!(r
        .stderr
        .contains("`--parts` must be between 1 and the number of rows"));
}

#[test]
fn parquet_with_map_tags_matches_csv() {
    let env = TestEnv::new();
    env.write("good.csv", &good_csv());
    attribute(&env, &["good.csv"], "from_csv");
    write_parquet(&env, "plain.parquet", false);
    // Tags as a Parquet map: list<struct<key, value>>, as CUR 2.0 and FOCUS Parquet writers do
    let f = std::fs::File::open(env.path("plain.parquet")).unwrap();
    let mut df = ParquetReader::new(f).finish().unwrap();
    let maps: Vec<Option<Series>> = df
        .column("Tags")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|t| {
            let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(t?).ok()?;
            let keys: Vec<String> = obj.keys().cloned().collect();
            let values: Vec<String> = obj
                .values()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            let k = Series::new("key".into(), keys);
            let v = Series::new("value".into(), values);
            Some(
                StructChunked::from_series("entry".into(), k.len(), [k, v].iter())
                    .unwrap()
                    .into_series(),
            )
        })
        .collect();
    let list: ListChunked = maps.into_iter().collect();
    df.with_column(list.with_name("Tags".into()).into_series().into_column())
        .unwrap();
    assert!(matches!(
        df.column("Tags").unwrap().dtype(),
        DataType::List(_)
    ));
    let f = std::fs::File::create(env.path("map.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    attribute(&env, &["map.parquet"], "from_map");
    let a = rows(&read_table(&env.path("from_csv"), "cost_by_model"));
    let b = rows(&read_table(&env.path("from_map"), "cost_by_model"));
    assert_eq!(a, b);
}

#[test]
fn monthly_volumes_in_parquet() {
    let env = TestEnv::new();
    let mut df = df!(
        "billing_period" => ["2026-09", "2026-09"],
        "model_id" => ["ranker", "fraud-v1"],
        "requests" => [1_000_000i64, 200_000],
    )
    .unwrap();
    let f = std::fs::File::create(env.path("req.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let billing = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        "req.parquet",
        "--out",
        "out",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let ranker = find(
        &units,
        &[("billing_period", "2026-09"), ("model_id", "ranker")],
    );
    assert_eq!(ranker["cost_per_request"], "0.0001774913");
    let oct = find(
        &units,
        &[("billing_period", "2026-10"), ("model_id", "ranker")],
    );
    assert_eq!(oct["unit_cost_reason"], "no requests for model");
    // --json puts the run summary on stdout for schedulers
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["status"], "published");
    assert_eq!(summary["reconciliation"]["ok"], true);
    assert_eq!(
        summary["volume_report"]["models_without_volumes"][0][1],
        "ranker"
    );
}

#[test]
fn init_writes_a_config_that_attribute_accepts() {
    let env = TestEnv::new();
    let r = env.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["init"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("hint: pass `--force` to overwrite it"),
        "{}",
        r.stderr
    );
    let billing = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--out",
        "out",
        "--config",
        "mlcost.toml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(manifest(&env.path("out"))["config"]["path"] == "mlcost.toml");
}

#[test]
fn invalid_utf8_in_an_id_keeps_the_row() {
    let env = TestEnv::new();
    let mut bytes = good_csv().into_bytes();
    let pos = bytes.windows(10).position(|w| w == b"i-ranker-1").unwrap();
    bytes[pos + 2] = 0xff;
    std::fs::write(env.path("bad-utf8.csv"), &bytes).unwrap();
    attribute(&env, &["bad-utf8.csv"], "out");
    let cost = read_table(&env.path("out"), "cost_by_model");
    assert_eq!(
        sums(&cost, "cost")[&("2026-09".into(), "USD".into())],
        "220.2413"
    );
}

mod fuzz {
    use proptest::prelude::*;

    use crate::util::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// Random bytes, and random edits of a good export, through the whole binary: an exit
        /// code of 0, 1 or 2, never a panic (the CSV paths of every adapter).
        #[test]
        fn random_csv_never_panics(noise in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..2000, flip in 0usize..2000) {
            let env = TestEnv::new();
            let mut good = std::fs::read(fixture("focus/basic.csv")).unwrap();
            let n = good.len();
            good.truncate(cut.min(n).max(1));
            if !good.is_empty() {
                let i = flip % good.len();
                good[i] = good[i].wrapping_add(noise.first().copied().unwrap_or(1));
            }
            good.extend_from_slice(&noise);
            std::fs::write(env.path("in.csv"), &good).unwrap();
            let r = env.run(&["attribute", "--billing", "in.csv", "--out", "out"]);
            prop_assert!(matches!(r.code, 0..=2), "exit {}: {}", r.code, r.stderr);
            prop_assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        }
    }
}
