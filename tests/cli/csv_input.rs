//! CSV input through the binary: hostile files (ragged rows, a cut last row) give exact totals
//! and list every row that was not counted; CSV, CSV.gz and any batch size give the same
//! bytes; and the outputs of the sample run are pinned to what the Polars CSV reader wrote
//! before mlcost had its own reader.

use sha2::{Digest, Sha256};

use crate::util::*;

fn header() -> String {
    std::fs::read_to_string(fixture("focus/basic.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// A FOCUS row of 19 fields (as the header) with the given resource and cost.
fn row(resource: &str, cost: &str) -> String {
    format!(
        "2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-02T00:00:00Z,USD,Usage,,,AWS,1,2,3,Amazon EC2,{resource},\"{{\"\"model_id\"\": \"\"m\"\"}}\",{cost},{cost},1,1,"
    )
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, bytes).unwrap();
    e.finish().unwrap()
}

/// (source_row, column, reason, value) of every quarantine.csv line.
fn quarantine(out: &std::path::Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].to_string(),
                f[2].to_string(),
                f[3].to_string(),
                f[4..].join(","),
            )
        })
        .collect()
}

#[test]
fn ragged_and_cut_rows_are_quarantined_and_the_rest_adds_up() {
    let env = TestEnv::new();
    let short = row("i-short", "1000")
        .rsplitn(4, ',')
        .last()
        .unwrap()
        .to_string();
    let text = [
        header(),
        row("i-1", "1.10"),
        short, // 16 fields
        row("i-2", "2.20"),
        format!("{},extra", row("i-long", "1000")), // 20 fields
        String::new(),                              // a blank line: a row of nulls, as before
        row("i-3", "0.05"),
        row("i-cut", "7"), // no line break after it: the download was cut
    ]
    .join("\n");
    env.write("in.csv", &text);
    let r = env.run(&["attribute", "--billing", "in.csv", "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("in.csv`: the file ends inside data row 7"),
        "{}",
        r.stderr
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["rows"]["read"], 7);
    assert_eq!(m["rows"]["counted"], 3);
    assert_eq!(m["rows"]["quarantined"], 4);
    assert_eq!(m["rows"]["quarantined_by_reason"]["wrong field count"], 2);
    assert_eq!(
        m["rows"]["quarantined_by_reason"]["file ends inside a row"],
        1
    );
    assert_eq!(
        m["rows"]["quarantined_by_reason"]["EffectiveCost is empty"],
        1
    );
    assert_eq!(m["inputs"][0]["quarantined_rows"], 4);
    let costs = sums(&read_table(&env.path("out"), "cost_by_model"), "cost");
    assert_eq!(costs[&("2026-10".into(), "USD".into())], "3.35");
    assert_eq!(
        quarantine(&env.path("out")),
        vec![
            (
                "2".into(),
                "(row)".into(),
                "wrong field count".into(),
                "\"16 fields, header has 19\"".into()
            ),
            (
                "4".into(),
                "(row)".into(),
                "wrong field count".into(),
                "\"20 fields, header has 19\"".into()
            ),
            (
                "5".into(),
                "EffectiveCost".into(),
                "EffectiveCost is empty".into(),
                "".into()
            ),
            (
                "7".into(),
                "(row)".into(),
                "file ends inside a row".into(),
                "\"no line break after it, or an unclosed quote\"".into()
            ),
        ]
    );
    let strict = env.run(&[
        "attribute",
        "--billing",
        "in.csv",
        "--out",
        "out2",
        "--strict",
    ]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
}

#[test]
fn a_file_cut_inside_a_quote_loses_only_its_last_row() {
    let env = TestEnv::new();
    let text = format!(
        "{}\n{}\n{}\n2026-10-01T00:00:00Z,x,y,USD,Usage,,,AWS,1,2,3,EC2,i-9,\"{{\"\"model_id\n",
        header(),
        row("i-1", "1"),
        row("i-2", "2")
    );
    env.write("in.csv", &text);
    let r = env.run(&["attribute", "--billing", "in.csv", "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("ends inside data row 3"), "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["rows"]["read"], 3);
    assert_eq!(m["rows"]["counted"], 2);
    assert_eq!(
        m["rows"]["quarantined_by_reason"]["file ends inside a row"],
        1
    );
    assert_eq!(m["periods"][0]["cost_read"], "3");
    // a file whose only row is cut: read, quarantined, nothing counted
    env.write("cut.csv", &format!("{}\n{}", header(), row("i-1", "1")));
    let r = env.run(&["attribute", "--billing", "cut.csv", "--out", "out3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(manifest(&env.path("out3"))["rows"]["counted"], 0);
}

#[test]
fn unusable_request_rows_include_ragged_ones() {
    let env = TestEnv::new();
    env.write("in.csv", &format!("{}\n{}\n", header(), row("i-1", "1")));
    env.write(
        "req.csv",
        "date,model_id,requests\n2026-10-01,m,5\n2026-10-02,m\n2026-10-03,m,7\n2026-10-04,m,1,2\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "in.csv",
        "--requests",
        "req.csv",
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("2 request row(s) unusable")
            || r.stderr.contains("2 request row(s) unusable"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["volumes"]["rows"], 4);
    assert_eq!(m["volumes"]["unusable_rows"], 2);
    let q = std::fs::read_to_string(env.path("out/quarantine.csv")).unwrap();
    assert!(
        q.contains("req.csv,2,(row),wrong field count,\"2 fields, header has 3\""),
        "{q}"
    );
    assert!(
        q.contains("req.csv,4,(row),wrong field count,\"4 fields, header has 3\""),
        "{q}"
    );
    let units = rows(&read_table(&env.path("out"), "unit_costs"));
    let m_row = find(&units, &[("model_id", "m")]);
    assert_eq!(m_row["requests"], "12");
}

#[test]
fn csv_csv_gz_and_any_batch_size_write_the_same_bytes() {
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "3000", "--months", "2", "--seed", "7", "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a few bad rows so that the quarantine pass runs too
    let mut text = std::fs::read_to_string(env.path("s/focus_sample.csv")).unwrap();
    let first_row = text.lines().nth(1).unwrap().to_string();
    let cut = first_row.rsplitn(3, ',').last().unwrap().to_string();
    text.push_str(&format!("{cut}\n{first_row},x\n{cut}"));
    env.write("s/bad.csv", &text);
    std::fs::write(env.path("s/bad.csv.gz"), gz(text.as_bytes())).unwrap();
    let run = |input: &str, out: &str, batch: Option<&str>| {
        let vars: Vec<(&str, &str)> = batch
            .map(|b| vec![("MLCOST_CSV_BATCH_ROWS", b)])
            .unwrap_or_default();
        let r = env.run_env(
            &["attribute", "--billing", input, "--out", out, "-q"],
            &vars,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        tree_bytes(&env.path(out), &["manifest.json"])
    };
    let csv = run("s/bad.csv", "a", None);
    assert!(csv.contains_key("quarantine.csv"));
    assert_eq!(
        std::fs::read_to_string(env.path("a/quarantine.csv"))
            .unwrap()
            .lines()
            .count(),
        4
    );
    let gz_out = run("s/bad.csv.gz", "b", None);
    let batches = run("s/bad.csv", "c", Some("7"));
    let one_row = run("s/bad.csv", "d", Some("1"));
    // the quarantine list names its file
    let strip = |mut t: std::collections::BTreeMap<String, Vec<u8>>| {
        t.remove("quarantine.csv");
        t
    };
    assert_eq!(strip(csv.clone()), strip(gz_out));
    assert_eq!(csv, batches);
    assert_eq!(csv, one_row);
    let qa = std::fs::read_to_string(env.path("a/quarantine.csv")).unwrap();
    let qb = std::fs::read_to_string(env.path("b/quarantine.csv")).unwrap();
    assert_eq!(qa.replace("bad.csv", "bad.csv.gz"), qb);
}

/// sha256 of every output of the sample run, as written before mlcost read CSV itself (by
/// Polars' CSV reader, commit 6cdb989): the reader must not change a byte.
const SAMPLE_RUN: [(&str, &str); 7] = [
    (
        "cost_by_model/billing_period=2026-09/part-0.parquet",
        "b7812974ae77e861f18614c627d3a079dd2b2941bfb20218ed2bbdb3321e76ce",
    ),
    (
        "cost_by_model/billing_period=2026-10/part-0.parquet",
        "c4d23dfd985f8cfdc603df2f364bf9b708213b580aaeb23b1f015efdde791852",
    ),
    (
        "quarantine.csv",
        "97fd75c27af3b1471124f1fd956172d099768e3e852cf4560d661b130cf37b79",
    ),
    (
        "tag_compliance/billing_period=2026-09/part-0.parquet",
        "5a94dcc2fa375073d7c4390e39daccf7645c898ee097ef22d232536f5f8a0e8c",
    ),
    (
        "tag_compliance/billing_period=2026-10/part-0.parquet",
        "f7f719bdc663b4015f16ed43a7963f7e3684aff730c45f0fb358e2e8616a49c1",
    ),
    (
        "unit_costs/billing_period=2026-09/part-0.parquet",
        "3e08c736ad1ec57f1592ee0e0c36120cbcaf84a5129b76cee69987b50228cf56",
    ),
    (
        "unit_costs/billing_period=2026-10/part-0.parquet",
        "d47664b725aa798e017f74bc794ed94cb611da1dd61880698b0e665ebb48c80d",
    ),
];

#[test]
fn the_sample_run_writes_the_bytes_it_wrote_with_polars_csv_reader() {
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "3000", "--months", "2", "--seed", "7", "-q",
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
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got: Vec<(String, String)> = tree_bytes(&env.path("out"), &["manifest.json"])
        .into_iter()
        .map(|(name, bytes)| {
            let h = Sha256::digest(&bytes);
            (name, h.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect();
    let want: Vec<(String, String)> = SAMPLE_RUN
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_ragged_row_in_a_driver_or_utilisation_file_is_an_error_naming_its_row() {
    let env = TestEnv::new();
    env.write("in.csv", &format!("{}\n{}\n", header(), row("i-1", "1")));
    env.write(
        "c.toml",
        "[[shared]]\nid = \"emr\"\nmatch = { service_name = \"Amazon EC2\" }\nmethod = \"driver\"\ndriver = \"reads.csv\"\n",
    );
    env.write(
        "reads.csv",
        "period,model_id,quantity\n2026-10,a,1\n2026-10,b\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        "in.csv",
        "--out",
        "out",
        "--config",
        "c.toml",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("reads.csv`: row 2: wrong field count (2 fields, header has 3)"),
        "{}",
        r.stderr
    );

    let r = env.run(&["attribute", "--billing", "in.csv", "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.write("h.toml", "[hidden]\ndefault_utilization = 0.5\n");
    env.write("u.csv", "model_id,utilization\nm,0.5\nx,0.2\nm");
    let r = env.run(&[
        "hidden",
        "--input",
        "out",
        "--config",
        "h.toml",
        "--utilization",
        "u.csv",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("u.csv`: row 3: file ends inside a row"),
        "{}",
        r.stderr
    );
}
