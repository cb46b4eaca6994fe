//! `mlcost sample`: the default output is pinned byte for byte (tests, the README's printed
//! summary and `sample_data/` depend on it), and every shape attributes like the default CSV.

use sha2::{Digest, Sha256};

use crate::util::*;

fn sha256(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:x}", Sha256::digest(bytes))
}

/// Runs `mlcost sample --out <out> <args>` and expects success.
fn sample(env: &TestEnv, out: &str, args: &[&str]) {
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
            "02f2d413d5fcbfa993d28874f70ffd0c9b19672a21eb271d2e3e6168df74d43f",
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
