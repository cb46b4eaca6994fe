//! CSV input through the binary: hostile files (ragged rows, a cut last row) give exact totals
//! and list every row that was not counted; CSV, CSV.gz and any batch size give the same
//! bytes; and the outputs of the sample run are pinned to what the Polars CSV reader wrote
//! before mlcost had its own reader.

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

/// (source_row, column, reason, value) of every line of every quarantine file (per month,
/// `other_rows.csv`, or `rejected_run.csv` of a rejected run), in row order.
fn quarantine(out: &std::path::Path) -> Vec<(String, String, String, String)> {
    let mut text = String::new();
    for f in glob::glob(&format!("{}/quarantine/**/*.csv", out.display()))
        .unwrap()
        .flatten()
    {
        let t = std::fs::read_to_string(f).unwrap();
        text.extend(t.lines().skip(1).map(|l| format!("{l}\n")));
    }
    let mut lines: Vec<(String, String, String, String)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].to_string(),
                f[2].to_string(),
                f[3].to_string(),
                f[4..].join(","),
            )
        })
        .collect();
    lines.sort_by_key(|l| l.0.parse::<u64>().unwrap_or(0));
    lines
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
    // a file whose only row is cut: read, quarantined, nothing counted, so nothing published
    env.write("cut.csv", &format!("{}\n{}", header(), row("i-1", "1")));
    let r = env.run(&["attribute", "--billing", "cut.csv", "--out", "out3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = manifest(&env.path("out3"));
    assert_eq!(
        (m["status"].as_str(), m["rows"]["counted"].as_u64()),
        (Some("rejected"), Some(0))
    );
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
        r.stderr.contains("2 request or revenue row(s) unusable"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["volumes"]["rows"], 4);
    assert_eq!(m["volumes"]["unusable_rows"], 2);
    let q = std::fs::read_to_string(env.path("out/quarantine/other_rows.csv")).unwrap();
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
        tree_bytes(&env.path(out), &["manifest.json", ".mlcost.lock"])
    };
    // ragged and cut rows have no month: they are listed in other_rows.csv
    const OTHER: &str = "quarantine/other_rows.csv";
    let csv = run("s/bad.csv", "a", None);
    assert!(csv.contains_key(OTHER));
    assert_eq!(
        std::fs::read_to_string(env.path(&format!("a/{OTHER}")))
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
        t.remove(OTHER);
        t
    };
    assert_eq!(strip(csv.clone()), strip(gz_out));
    assert_eq!(csv, batches);
    assert_eq!(csv, one_row);
    let qa = std::fs::read_to_string(env.path(&format!("a/{OTHER}"))).unwrap();
    let qb = std::fs::read_to_string(env.path(&format!("b/{OTHER}"))).unwrap();
    assert_eq!(qa.replace("bad.csv", "bad.csv.gz"), qb);
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
