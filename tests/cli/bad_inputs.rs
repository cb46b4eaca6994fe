//! The bad-input corpus: each case is a small input made here, the exit code the README promises
//! for, and a fragment of the message. Every case must end without a panic, and a failed run
//! must leave nothing behind in the output directory.

use crate::util::*;

/// A good row whose resource id holds the bytes 0xff 0xfe, which are not UTF-8.
fn invalid_utf8_id() -> Vec<u8> {
    let text = String::from_utf8(focus(&[row("2026-10-01", "USD", "1", "{}", "i-@@")])).unwrap();
    let (a, b) = text.split_once("@@").unwrap();
    [a.as_bytes(), &[0xff, 0xfe], b.as_bytes()].concat()
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: Vec<&'static str>,
    code: i32,
    fragment: &'static str,
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: &[&'static str],
    code: i32,
    fragment: &'static str,
) -> Case {
    Case {
        name,
        files,
        args: args.to_vec(),
        code,
        fragment,
    }
}

fn corpus() -> Vec<Case> {
    let attr = ["attribute", "--billing", "in.csv", "--out", "out"];
    let parquet = {
        let env = TestEnv::new();
        let r = env.run(&[
            "sample", "--out", "s", "--rows", "200", "--format", "parquet", "-q",
        ]);
        assert_eq!(r.code, 0);
        std::fs::read(env.path("s/focus_sample.parquet")).unwrap()
    };
    let big_tag = format!(
        r#"{{"model_id": "m", "note": "{}"}}"#,
        "x".repeat(10 * 1024 * 1024)
    );
    let mut c = vec![
        case("empty file", vec![("in.csv", vec![])], &attr, 2, "the file is empty"),
        case("header only", vec![("in.csv", focus(&[]))], &attr, 1, "no billing rows were read"),
        case("binary garbage", vec![("in.csv", (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect())], &attr, 2, "is not readable as"),
        case("truncated gzip", vec![("in.csv.gz", gz(&focus(&[good("1")]))[..40].to_vec())], &["attribute", "--billing", "in.csv.gz", "--out", "out"], 2, "cannot decompress"),
        case("truncated parquet", vec![("in.parquet", parquet[..parquet.len() / 2].to_vec())], &["attribute", "--billing", "in.parquet", "--out", "out"], 2, "cannot read `in.parquet`"),
        case("wrong delimiter", vec![("in.csv", String::from_utf8(focus(&[good("1")])).unwrap().replace(',', ";").into_bytes())], &attr, 2, "is not readable as"),
        case("byte-order mark", vec![("in.csv", [b"\xef\xbb\xbf".to_vec(), focus(&[good("1")])].concat())], &attr, 0, "reconciliation: ok"),
        case("CRLF line endings", vec![("in.csv", String::from_utf8(focus(&[good("1")])).unwrap().replace('\n', "\r\n").into_bytes())], &attr, 0, "reconciliation: ok"),
        case("duplicated header names", vec![("in.csv", format!("{},BilledCost\n{},9\n", header(), good("1")).into_bytes())], &attr, 0, "reconciliation: ok"),
        case("missing FOCUS column", vec![("in.csv", b"BillingPeriodStart,BilledCost,EffectiveCost\n2026-10-01,1,1\n".to_vec())], &attr, 2, "missing column(s) BillingCurrency"),
        case("missing CUR column", vec![("in.csv", b"lineItem/UnblendedCost,lineItem/LineItemType,bill/BillingPeriodStartDate\n1,Usage,2026-10-01\n".to_vec())], &attr, 2, "AWS CUR: missing column(s) lineItem/CurrencyCode"),
        case("missing Azure column", vec![("in.csv", b"CostInBillingCurrency,BillingCurrencyCode,BillingPeriodStartDate\n1,EUR,10/1/2026\n".to_vec())], &attr, 2, "Azure cost details: missing column(s) SubscriptionId"),
        case("missing OCI column", vec![("in.csv", b"cost/myCost,lineItem/intervalUsageStart,product/service\n1,2026-10-01T00:00Z,COMPUTE\n".to_vec())], &attr, 2, "OCI cost report: missing column(s) cost/currencyCode"),
        case("missing GCP column", vec![("in.jsonl", b"{\"billing_account_id\": \"x\", \"cost\": 1, \"invoice\": {\"month\": \"202610\"}}\n".to_vec())], &["attribute", "--billing", "in.jsonl", "--out", "out"], 2, "GCP billing export: missing column(s) currency"),
        case("cost not a number", vec![("in.csv", focus(&[good("1"), good("abc")]))], &attr, 0, "1 billing row(s) quarantined"),
        case("NaN and inf", vec![("in.csv", focus(&[good("NaN"), good("inf"), good("-inf"), good("1")]))], &attr, 0, "3 billing row(s) quarantined"),
        case("40-digit cost", vec![("in.csv", focus(&[good("1234567890123456789012345678901234567890"), good("1")]))], &attr, 0, "1 billing row(s) quarantined"),
        case("negative requests", vec![("in.csv", focus(&[good("1")])), ("req.csv", b"date,model_id,requests\n2026-10-01,m,-5\n2026-10-02,m,3\n".to_vec())], &["attribute", "--billing", "in.csv", "--requests", "req.csv", "--out", "out"], 0, "1 request or revenue row(s) unusable"),
        case("ISO dates", vec![("in.csv", focus(&[row("2026-10-01T00:00:00Z", "USD", "1", "{}", "i")]))], &attr, 0, "2026-10 USD"),
        case("dates without T or Z", vec![("in.csv", focus(&[row("2026-10-01 00:00:00", "USD", "1", "{}", "i")]))], &attr, 0, "2026-10 USD"),
        case("US dates", vec![("in.csv", focus(&[row("10/1/2026", "USD", "1", "{}", "i")]))], &attr, 0, "2026-10 USD"),
        case("impossible date", vec![("in.csv", focus(&[row("2026-02-30", "USD", "1", "{}", "i"), good("1")]))], &attr, 0, "1 billing row(s) quarantined"),
        case("Tags not JSON", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", "team=a;model=b", "i")]))], &attr, 0, "reconciliation: ok"),
        case("Tags a JSON array", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", "[1, 2]", "i")]))], &attr, 0, "reconciliation: ok"),
        case("Tags nested object", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", r#"{"a": {"b": 1}}"#, "i")]))], &attr, 0, "reconciliation: ok"),
        case("10 MB tag value", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", &big_tag, "i")]))], &attr, 0, "reconciliation: ok"),
        case("keys differing by case and space", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", r#"{"Team": "a", " team ": "b", "model_id": "m"}"#, "i")]))], &attr, 0, "reconciliation: ok"),
        case("control characters in ids", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", r#"{"model_id": "m\u0007x"}"#, "i-\u{1}\u{7}")]))], &attr, 0, "reconciliation: ok"),
        case("invalid UTF-8 in an id", vec![("in.csv", invalid_utf8_id())], &attr, 0, "reconciliation: ok"),
        case("model_id like ../../etc", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", r#"{"model_id": "../../etc/passwd"}"#, "i")]))], &attr, 0, "reconciliation: ok"),
        case("model_id with a slash", vec![("in.csv", focus(&[row("2026-10-01", "USD", "1", r#"{"model_id": "team/model"}"#, "i")]))], &attr, 0, "reconciliation: ok"),
        case("mixed currencies", vec![("in.csv", focus(&[good("1"), row("2026-10-01", "EUR", "2", "{}", "i")]))], &attr, 0, "2026-10 EUR"),
        case("config with an unknown key", vec![("in.csv", focus(&[good("1")])), ("c.toml", b"[cost]\nbassis = \"billed\"\n".to_vec())], &["attribute", "--billing", "in.csv", "--out", "out", "--config", "c.toml"], 2, "unknown field `bassis`"),
        case("config with a wrong type", vec![("in.csv", focus(&[good("1")])), ("c.toml", b"[validate]\nmin_compliance = \"high\"\n".to_vec())], &["attribute", "--billing", "in.csv", "--out", "out", "--config", "c.toml"], 2, "invalid type"),
        case("rule id used twice", vec![("in.csv", focus(&[good("1")])), ("c.toml", b"[[rules]]\nid = \"r\"\nmatch = { resource_id = \"i-1\" }\nset = { team = \"x\" }\n[[rules]]\nid = \"r\"\nmatch = { resource_id = \"i-2\" }\nset = { team = \"y\" }\n".to_vec())], &["attribute", "--billing", "in.csv", "--out", "out", "--config", "c.toml"], 2, "the id is already used on line 2"),
        case("bad --period", vec![("in.csv", focus(&[good("1")]))], &["attribute", "--billing", "in.csv", "--out", "out", "--period", "10/2026"], 2, "invalid `--period`"),
        case("unknown --format", vec![("in.csv", focus(&[good("1")]))], &["attribute", "--billing", "in.csv", "--out", "out", "--format", "excel"], 2, "invalid value 'excel'"),
        case("requests without a requests column", vec![("in.csv", focus(&[good("1")])), ("req.csv", b"date,model_id\n2026-10-01,m\n".to_vec())], &["attribute", "--billing", "in.csv", "--requests", "req.csv", "--out", "out"], 2, "missing column(s) requests"),
        case("empty requests file", vec![("in.csv", focus(&[good("1")])), ("req.csv", vec![])], &["attribute", "--billing", "in.csv", "--requests", "req.csv", "--out", "out"], 2, "the file is empty"),
        case("directory without exports", vec![("d/readme.txt", b"x".to_vec())], &["attribute", "--billing", "d", "--out", "out"], 2, "no input files found for `d`"),
        case("glob without matches", vec![], &["attribute", "--billing", "exports/*.csv", "--out", "out"], 2, "no input files found"),
        case("plain CSV named .csv.gz", vec![("in.csv.gz", focus(&[good("1")]))], &["attribute", "--billing", "in.csv.gz", "--out", "out"], 0, "reconciliation: ok"),
        case("row with too few fields", vec![("in.csv", focus(&[good("1"), good("2").rsplitn(3, ',').last().unwrap().to_string()]))], &attr, 0, "1 billing row(s) quarantined"),
        case("row with too many fields", vec![("in.csv", focus(&[format!("{},x", good("2")), good("1")]))], &attr, 0, "1 billing row(s) quarantined"),
        case("last row without a line break", vec![("in.csv", focus(&[good("1"), good("2")]).strip_suffix(b"\n").unwrap().to_vec())], &attr, 0, "the file ends inside data row 2"),
        case("CSV named .parquet", vec![("in.parquet", focus(&[good("1")]))], &["attribute", "--billing", "in.parquet", "--out", "out"], 0, "reconciliation: ok"),
    ];
    c.sort_by_key(|c| c.name);
    c
}

#[test]
fn every_bad_input_gets_its_exit_code_and_message_and_no_panic() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let env = TestEnv::new();
        for (name, bytes) in &c.files {
            let p = env.path(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let r = env.run(&c.args);
        let text = format!("{}{}", r.stdout, r.stderr);
        if r.code != c.code || !text.contains(c.fragment) || text.contains("panicked") {
            failures.push(format!(
                "{}: exit {} (want {}), output:\n{}",
                c.name, r.code, c.code, text
            ));
            continue;
        }
        if c.code != 0 {
            let out = env.path("out");
            // a run that took the lock records itself in manifest.json (status rejected or
            // failed) and may list its rejected rows; nothing else, and no partition
            let left: Vec<_> = if out.exists() {
                std::fs::read_dir(&out)
                    .unwrap()
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| {
                        ![".mlcost.lock", "manifest.json", "quarantine"].contains(&n.as_str())
                    })
                    .collect()
            } else {
                vec![]
            };
            if out.join("manifest.json").exists() {
                let m = manifest(&out);
                let want = if c.code == 1 { "rejected" } else { "failed" };
                if m["status"] != want || m["partitions"] != serde_json::json!([]) {
                    failures.push(format!(
                        "{}: manifest says {} {}",
                        c.name, m["status"], m["partitions"]
                    ));
                }
            }
            if !left.is_empty() {
                failures.push(format!(
                    "{}: a failed run left {:?} in the output",
                    c.name, left
                ));
            }
        } else {
            // ids and model ids never become paths: only billing periods do
            for entry in glob::glob(&format!("{}/**/*", env.path("out").display()))
                .unwrap()
                .flatten()
            {
                let rel = entry
                    .strip_prefix(env.path("out"))
                    .unwrap()
                    .display()
                    .to_string();
                let ok = rel.split('/').all(|part| {
                    [
                        "cost_by_model",
                        "unit_costs",
                        "tag_compliance",
                        "quarantine",
                        "quarantine.csv",
                        "other_rows.csv",
                        "manifest.json",
                        "_manifest.json",
                        "_SUCCESS",
                        ".mlcost.lock",
                        "part-0.parquet",
                    ]
                    .contains(&part)
                        || part.starts_with("billing_period=20")
                });
                if !ok {
                    failures.push(format!("{}: unexpected output path {rel}", c.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
