//! `mlcost sample`: the default output is pinned byte for byte (tests, the README's printed
//! summary and `sample_data/` depend on it), and the options are checked (parts, periods,
//! row counts, shapes a format cannot hold). The shapes themselves: `sample_shapes.rs`.

use sha2::{Digest, Sha256};

use crate::util::*;

fn sha256(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:x}", Sha256::digest(bytes))
}

/// Runs `mlcost sample --out <out> <args>` and expects success.
pub fn sample(env: &TestEnv, out: &str, args: &[&str]) {
    let r = env.run(&[&["sample", "--out", out, "-q"], args].concat());
    assert_eq!(r.code, 0, "sample {args:?}: {}", r.stderr);
}

/// The bytes `mlcost sample` wrote before it was rewritten for speed (recorded with the
/// generator of commit 6cdb989). They must never drift: a change here changes
/// `sample_data/`, the README's summary and every test that generates its input.
#[test]
fn default_output_is_pinned() {
    let env = TestEnv::new();
    let cases: [(&str, &[&str], &str, &str); 7] = [
        (
            "default",
            &[],
            "focus_sample.csv",
            "1bbe3c4fa0ccbcf8cc9996efd35434b894713cbadb6f84474e99e9a7952688ac",
        ),
        (
            "r1000",
            &["--rows", "1000"],
            "focus_sample.csv",
            "b3a6dce2887b9d83c5c980ea020ddec58c9c3eb74143ddb84d7b9cc1a8b360a0",
        ),
        (
            "bundled",
            &["--rows", "5000", "--months", "2"],
            "focus_sample.csv",
            "4bcac3f0518e8772dabd5025dece946f4afe31e3a6cd6ecdf8c688da53ce9d1b",
        ),
        (
            "seed7",
            &["--rows", "3000", "--months", "2", "--seed", "7"],
            "focus_sample.csv",
            "40b92d75b1398847ff7d97c6354baa43d4ce503b6fdfaae26806daf48b4ecdfb",
        ),
        (
            "gz",
            &["--format", "csv-gz"],
            "focus_sample.csv.gz",
            "7d4b3a363f3c5ba4f551ac0eed8c353b0d3d834532ca2adfd0b70ebe4aeaa046",
        ),
        (
            "parquet",
            &["--months", "3", "--format", "parquet"],
            "focus_sample.parquet",
            "de683979cd37522f68643d038a2b2bad3b097a5bd9bd5a23d75d91be5e484d82",
        ),
        (
            "requests",
            &[],
            "requests.csv",
            "04bae0a9454b24b3268152c7eee968f50af5186ad9dfd075214328da904181ed",
        ),
    ];
    for (out, args, file, want) in cases {
        if out != "requests" {
            sample(&env, out, args);
        }
        let dir = if out == "requests" { "default" } else { out };
        assert_eq!(sha256(&env.path(dir).join(file)), want, "{out} {args:?}");
    }
    // the bundled sample is this output
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in ["focus_sample.csv", "requests.csv"] {
        assert!(
            std::fs::read(bundled.join(f)).unwrap()
                == std::fs::read(env.path("bundled").join(f)).unwrap(),
            "sample_data/{f} is not `mlcost sample --rows 5000 --months 2`"
        );
    }
    // parts: the same rows cut at the same places
    sample(&env, "parts", &["--parts", "7"]);
    let parts = [
        "fd009b793304bfacd3c50578f1a847fa0727af6a49da6741107c2fc846bcaa1a",
        "4359719d44a9a198d477916d6d901ca3cc18737218a0539202b53d5031263e6b",
        "dcf24a5ad18c0dc69aaf999f3e6815ac6ac8854a45e10d73a3d320d41ae0591e",
        "2c13340317f390577edb928cde302d1ba5038dec513e5131bb054feaf35ad923",
        "81614a79a37f58c596b97dc08b439bace669a886262b250151881e28bc46cb1b",
        "e2a02342d48a2590d31a3087009c6ce77bb9183dfc320eb328cdab8568998265",
        "c4cff03f21624836db1e2dd0ff40dbdc6486f4f02336650fcf6ffa071849634c",
    ];
    for (k, want) in parts.iter().enumerate() {
        let p = env.path(&format!("parts/focus_sample/part-{k:05}.csv"));
        assert_eq!(&sha256(&p), want, "part {k}");
    }
}

/// Data rows of every CSV file under `dir`.
fn csv_rows(dir: &std::path::Path) -> (usize, usize) {
    let mut files = 0;
    let mut rows = 0;
    for f in glob::glob(&format!("{}/**/*.csv", dir.display()))
        .unwrap()
        .flatten()
        .filter(|f| !f.ends_with("requests.csv"))
    {
        files += 1;
        rows += std::fs::read_to_string(&f).unwrap().lines().count() - 1;
    }
    (files, rows)
}

/// `--parts N` writes N files however few rows each gets (it wrote one file when rows/parts
/// was below 3: the month's commitment rows came before the first cut was checked).
#[test]
fn parts_are_always_n_files() {
    let env = TestEnv::new();
    for (rows, months, parts) in [("10", "1", "7"), ("7", "1", "7"), ("6", "3", "5")] {
        let out = format!("p{rows}_{parts}");
        sample(
            &env,
            &out,
            &["--rows", rows, "--months", months, "--parts", parts],
        );
        let (files, written) = csv_rows(&env.path(&out));
        assert_eq!(files.to_string(), parts, "{rows} rows in {parts} parts");
        assert_eq!(written.to_string(), rows);
    }
    // the parts hold the rows of the one file, in order
    sample(&env, "one", &["--rows", "10"]);
    let one = std::fs::read_to_string(env.path("one/focus_sample.csv")).unwrap();
    let mut joined = String::new();
    for k in 0..7 {
        let part =
            std::fs::read_to_string(env.path(&format!("p10_7/focus_sample/part-{k:05}.csv")))
                .unwrap();
        let mut lines = part.lines();
        let header = lines.next().unwrap();
        if k == 0 {
            joined.push_str(header);
            joined.push('\n');
        }
        for l in lines {
            joined.push_str(l);
            joined.push('\n');
        }
    }
    assert_eq!(joined, one);
}

/// Every generated month is a real month between 1900-01 and 9999-11 (`--end-period 0000-01`
/// used to write year 0000, and with more months year -001).
#[test]
fn end_period_and_months_stay_in_range() {
    let env = TestEnv::new();
    let refused = |args: &[&str], flag: &str| {
        let r = env.run(&[&["sample", "--out", "x", "-q"], args].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(flag), "{args:?}: {}", r.stderr);
    };
    refused(&["--end-period", "0000-01"], "`--end-period 0000-01`");
    refused(&["--end-period", "1900-02", "--months", "3"], "1899-12");
    refused(&["--end-period", "9999-12"], "between 1900-01 and 9999-11");
    refused(
        &["--end-period", "2026-13"],
        "invalid `--end-period` value `2026-13`",
    );
    refused(&["--end-period", "26-10"], "invalid `--end-period`");
    refused(
        &[
            "--end-period",
            "2300-01",
            "--format",
            "parquet",
            "--period-type",
            "timestamp-ns",
        ],
        "timestamp-ns",
    );
    refused(&["--months", "121"], "`--months` must be between 1 and 120");
    sample(
        &env,
        "first",
        &["--end-period", "1900-03", "--months", "3", "--rows", "100"],
    );
    sample(&env, "last", &["--end-period", "9999-11", "--rows", "100"]);
    let last = std::fs::read_to_string(env.path("last/focus_sample.csv")).unwrap();
    assert!(last.contains(",9999-11-01T00:00:00Z,9999-12-01T00:00:00Z,"));
    let r = env.run(&[
        "attribute",
        "--billing",
        "first/focus_sample.csv",
        "--out",
        "first_out",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        manifest(&env.path("first_out"))["periods"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Zero rows, months or parts are usage errors naming the flag (`--rows 0` used to write the
/// two commitment rows anyway).
#[test]
fn zero_rows_months_or_parts_are_usage_errors() {
    let env = TestEnv::new();
    for (args, flag) in [
        (&["--rows", "0"][..], "`--rows` must be at least 2"),
        (
            &["--rows", "3", "--months", "2"],
            "`--rows` must be at least 4",
        ),
        (&["--months", "0"], "`--months` must be between 1 and 120"),
        (&["--parts", "0"], "`--parts` must be between 1"),
        (
            &["--rows", "5", "--parts", "6"],
            "`--parts` must be between 1",
        ),
    ] {
        let r = env.run(&[&["sample", "--out", "x", "-q"], args].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(flag), "{args:?}: {}", r.stderr);
    }
    assert!(
        !env.path("x").exists(),
        "nothing is written on a usage error"
    );
}

/// Shapes a format cannot hold are usage errors naming the flags.
#[test]
fn impossible_shapes_are_usage_errors() {
    let env = TestEnv::new();
    for (args, says) in [
        (
            &["--cost-type", "double"][..],
            "`--cost-type` only applies to `--format parquet`",
        ),
        (
            &["--period-type", "timestamp-ms", "--format", "csv-gz"],
            "`--period-type`",
        ),
        (&["--tags", "map"], "`--tags`"),
        (&["--dictionary", "off"], "`--dictionary`"),
        (&["--row-group-rows", "65536"], "`--row-group-rows`"),
        (&["--format", "parquet", "--bom"], "`--bom` only applies"),
        (
            &["--format", "parquet", "--line-ending", "lf"],
            "`--line-ending`",
        ),
        (
            &["--layout", "aws-cur2"],
            "`--layout aws-cur2` needs `--format parquet`",
        ),
        (
            &[
                "--layout", "aws-cur", "--format", "parquet", "--tags", "map",
            ],
            "`--tags` only applies to `--layout focus`",
        ),
        (
            &["--format", "parquet", "--time-zone", "UTC"],
            "`--time-zone` only applies",
        ),
        (
            &[
                "--format",
                "parquet",
                "--period-type",
                "timestamp-ms",
                "--time-zone",
                "Mars/Base",
            ],
            "invalid `--time-zone` value `Mars/Base`",
        ),
        (
            &[
                "--format",
                "parquet",
                "--cost-type",
                "float",
                "--cost-digits",
                "9",
            ],
            "`--cost-digits 9` is more than `--cost-type float` holds",
        ),
        (
            &[
                "--format",
                "parquet",
                "--cost-type",
                "decimal38-9",
                "--cost-decimals",
                "10",
            ],
            "`--cost-decimals 10`",
        ),
        (
            &["--format", "parquet", "--row-group-rows", "10"],
            "`--row-group-rows` must be between",
        ),
        (
            &["--cost-digits", "0"],
            "`--cost-digits` must be at least 1",
        ),
    ] {
        let r = env.run(&[&["sample", "--out", "x", "-q"], args].concat());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}
