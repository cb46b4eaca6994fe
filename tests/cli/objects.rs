//! Issue #20: `--billing`, `--requests` and `--revenue` read from buckets. Every test runs the
//! binary against moto's S3 server on 127.0.0.1 (tests/object_store/moto_server.py), with
//! authentication on: listing, globs, range reads, delivery manifests, a missing object, a user
//! S3 denies, and a server that never answers. `.ci/run` installs moto and sets
//! `MLCOST_REQUIRE_MOTO=1`, so CI never skips these.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use object_store::aws::AmazonS3Builder;
use object_store::ObjectStoreExt;

use crate::util::{fixture, gz, manifest, tree_bytes, Run, TestEnv};

/// The moto server of this test process, with its users.
struct Moto {
    port: u16,
    reader: (String, String),
    stranger: (String, String),
    log: PathBuf,
    // kept open: the server stops when this closes, at the end of the test process
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// The server that takes any signature, started once; `None` (the test is skipped) when
/// python3 has no moto, unless `MLCOST_REQUIRE_MOTO` is set.
fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(|| start("open")).as_ref()
}

/// The server that checks signatures and knows a user with no rights (`stranger`).
fn moto_auth() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(|| start("auth")).as_ref()
}

fn start(mode: &str) -> Option<Moto> {
    {
        let required = std::env::var_os("MLCOST_REQUIRE_MOTO").is_some();
        let has = Command::new("python3")
            .args(["-c", "import moto, boto3, flask"])
            .status()
            .is_ok_and(|s| s.success());
        if !has {
            assert!(
                !required,
                "MLCOST_REQUIRE_MOTO=1 but python3 cannot import moto[server]: .ci/run installs it"
            );
            eprintln!("skipped: python3 has no moto[server]");
            return None;
        }
        let log =
            std::env::temp_dir().join(format!("mlcost-moto-{mode}-{}.jsonl", std::process::id()));
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/object_store/moto_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&log)
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("moto's first line");
        let v: serde_json::Value =
            serde_json::from_str(&line).expect("moto prints its port and users");
        let user = |who: &str| {
            (
                v[who]["id"].as_str().unwrap().to_string(),
                v[who]["secret"].as_str().unwrap().to_string(),
            )
        };
        Some(Moto {
            port: v["port"].as_u64().unwrap() as u16,
            reader: user("reader"),
            stranger: user("stranger"),
            log,
            _stdin: Mutex::new(child.stdin.take().unwrap()),
            _child: Mutex::new(child),
        })
    }
}

impl Moto {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment of a run signed as `user`, with no profile file to fall back on.
    fn env(&self, user: &(String, String)) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ALLOW_HTTP".into(), "true".into()),
            ("AWS_ACCESS_KEY_ID".into(), user.0.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), user.1.clone()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent/aws-config".into()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                "/nonexistent/aws-credentials".into(),
            ),
            ("MLCOST_OBJECT_STORE_TIMEOUT".into(), "20".into()),
        ]
    }

    fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let store = AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id(&self.reader.0)
            .with_secret_access_key(&self.reader.1)
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(store.put(&object_store::path::Path::from(key), bytes.into()))
            .unwrap();
    }

    /// The logged requests whose path contains `part`: (method, path, Range header, status).
    fn requests(&self, part: &str) -> Vec<(String, String, Option<String>, u64)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| {
                v["path"].as_str().unwrap_or("").contains(part)
                    || v["query"].as_str().unwrap_or("").contains(part)
            })
            .map(|v| {
                (
                    v["method"].as_str().unwrap().to_string(),
                    v["path"].as_str().unwrap().to_string(),
                    v["range"].as_str().map(str::to_string),
                    v["status"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }
}

fn run(env: &TestEnv, args: &[&str], vars: &[(String, String)]) -> Run {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.run_env(args, &vars)
}

/// `mlcost attribute` of one billing input (a URI) into `out`, with `vars`.
fn attribute(env: &TestEnv, billing: &str, out: &str, vars: &[(String, String)]) -> Run {
    run(
        env,
        &["attribute", "--billing", billing, "--out", out],
        vars,
    )
}

/// The Parquet tables a run published (partition manifests name the run and its inputs).
fn tables(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree_bytes(out, &[])
        .into_iter()
        .filter(|(k, _)| k.ends_with(".parquet"))
        .collect()
}

/// Nothing a run printed or wrote names a secret or the private copy of an object.
fn assert_no_secret_nor_copy(r: &Run, out: &Path, secret: &str) {
    let mut texts = vec![r.stdout.clone(), r.stderr.clone()];
    for (name, bytes) in tree_bytes(out, &[]) {
        if name.ends_with(".json") || name.ends_with(".csv") {
            texts.push(String::from_utf8_lossy(&bytes).to_string());
        }
    }
    for t in texts {
        assert!(!t.contains(secret), "a secret was printed or written:\n{t}");
        assert!(
            !t.contains("mlcost-objects-"),
            "the private copy was named:\n{t}"
        );
    }
}

#[test]
fn a_prefix_in_a_bucket_gives_the_tables_of_the_same_files_on_disk() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let gen = env.run(&[
        "sample", "--out", "local", "--rows", "3000", "--format", "parquet", "--months", "2",
    ]);
    assert_eq!(gen.code, 0, "{}", gen.stderr);
    let parquet = std::fs::read(env.path("local/focus_sample.parquet")).unwrap();
    let requests = std::fs::read(env.path("local/requests.csv")).unwrap();
    let csv = std::fs::read(fixture("focus/basic.csv")).unwrap();
    std::fs::write(env.path("local/basic.csv.gz"), gz(&csv)).unwrap();
    m.put(
        "bills",
        "same/exports/focus_sample.parquet",
        parquet.clone(),
    );
    m.put("bills", "same/exports/basic.csv.gz", gz(&csv));
    m.put("bills", "same/exports/_SUCCESS", b"".to_vec());
    m.put("bills", "same/exports/.hidden.csv", csv.clone());
    m.put("bills", "same/exports/notes.txt", b"not billing".to_vec());
    m.put("bills", "same/requests.csv", requests);
    let local = env.run(&[
        "attribute",
        "--billing",
        "local/focus_sample.parquet",
        "--billing",
        "local/basic.csv.gz",
        "--requests",
        "local/requests.csv",
        "--out",
        "out-local",
    ]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let vars = m.env(&m.reader);
    let remote = run(
        &env,
        &[
            "attribute",
            "--billing",
            "s3://bills/same/exports/",
            "--requests",
            "s3://bills/same/requests.csv",
            "--out",
            "out-s3",
        ],
        &vars,
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    assert_eq!(tables(&env.path("out-s3")), tables(&env.path("out-local")));
    assert!(!tables(&env.path("out-s3")).is_empty());

    // the manifest names each object by its URI, with its size, ETag and sha256
    let (a, b) = (
        manifest(&env.path("out-local")),
        manifest(&env.path("out-s3")),
    );
    let inputs = b["inputs"].as_array().unwrap();
    let paths: Vec<&str> = inputs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "s3://bills/same/exports/basic.csv.gz",
            "s3://bills/same/exports/focus_sample.parquet"
        ]
    );
    for (i, local) in inputs.iter().zip(a["inputs"].as_array().unwrap()) {
        // a CSV is read whole: its hash is the file's; a Parquet object by ranges: its footer's
        match i["object"]["read"].as_str().unwrap() {
            "whole" => assert_eq!(i["sha256"], local["sha256"]),
            _ => {
                use sha2::Digest;
                let n = parquet.len();
                let len = u32::from_le_bytes(parquet[n - 8..n - 4].try_into().unwrap()) as usize;
                // sha256 of the footer followed by the ETag
                let mut h = sha2::Sha256::new();
                h.update(&parquet[n - 8 - len..]);
                h.update(i["object"]["etag"].as_str().unwrap().as_bytes());
                let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(i["sha256"], hex.as_str());
                assert!(
                    i["object"]["bytes_read"].as_u64().unwrap() < parquet.len() as u64,
                    "{i}"
                );
            }
        }
        assert_eq!(i["object"]["uri"], i["path"]);
        assert_eq!(i["object"]["size"], local["size"]);
        assert!(
            i["object"]["etag"].as_str().is_some_and(|e| !e.is_empty()),
            "{i}"
        );
    }
    assert_eq!(b["volumes"]["path"], "s3://bills/same/requests.csv");
    assert_eq!(b["volumes"]["sha256"], a["volumes"]["sha256"]);
    assert_no_secret_nor_copy(&remote, &env.path("out-s3"), &m.reader.1);

    // Parquet comes in range requests of at most 8 MiB; CSV in one plain GET
    let gets = m.requests("same/exports/focus_sample.parquet");
    let ranged: Vec<_> = gets
        .iter()
        .filter(|g| g.0 == "GET" && g.2.is_some())
        .collect();
    assert!(!ranged.is_empty(), "{gets:?}");
    assert!(
        ranged
            .iter()
            .all(|g| g.2.as_deref().unwrap().starts_with("bytes=")),
        "{gets:?}"
    );
    // a CSV.gz is read whole, in ranges too (so the timeout bounds each request)
    let csv_gets = m.requests("same/exports/basic.csv.gz");
    assert!(
        csv_gets
            .iter()
            .any(|g| g.0 == "GET"
                && g.2.as_deref() == Some(&format!("bytes=0-{}", gz(&csv).len() - 1))),
        "{csv_gets:?}"
    );
}

#[test]
fn a_glob_reads_the_objects_it_matches_only() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let csv = std::fs::read(fixture("focus/basic.csv")).unwrap();
    m.put("bills", "glob/a/2026-10.csv", csv.clone());
    m.put("bills", "glob/b/2026-10.csv.gz", gz(&csv));
    m.put("bills", "glob/a/deeper/2026-10.csv", csv.clone());
    m.put("bills", "glob/a/2026-10.parquet.tmp", csv.clone());
    let vars = m.env(&m.reader);
    let r = attribute(&env, "s3://bills/glob/*/*.csv", "out", &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inputs: Vec<String> = manifest(&env.path("out"))["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(inputs, ["s3://bills/glob/a/2026-10.csv"]);

    // a glob that matches nothing is the same error as on disk
    let r = attribute(&env, "s3://bills/glob/*/*.json", "out2", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no input files found for `s3://bills/glob/*/*.json`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_cur_delivery_folder_reads_the_assembly_its_manifest_names() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let cur = std::fs::read_to_string(fixture("aws/cur1.csv")).unwrap();
    // the earlier assembly repeats the month's line items (in other bytes): read with the
    // current one it would be refused as the month delivered twice
    let earlier = cur.replace('\n', "\r\n");
    let month = "cur/prefix/rep/20260901-20261001";
    m.put(
        "deliveries",
        &format!("{month}/aaaa/rep-1.csv.gz"),
        gz(earlier.as_bytes()),
    );
    m.put(
        "deliveries",
        &format!("{month}/aaaa/rep-Manifest.json"),
        format!(r#"{{"assemblyId":"aaaa","reportKeys":["{month}/aaaa/rep-1.csv.gz"]}}"#)
            .into_bytes(),
    );
    m.put(
        "deliveries",
        &format!("{month}/bbbb/rep-1.csv.gz"),
        gz(cur.as_bytes()),
    );
    m.put(
        "deliveries",
        &format!("{month}/bbbb/rep-Manifest.json"),
        format!(r#"{{"assemblyId":"bbbb","reportKeys":["{month}/bbbb/rep-1.csv.gz"]}}"#)
            .into_bytes(),
    );
    m.put(
        "deliveries",
        &format!("{month}/rep-Manifest.json"),
        format!(r#"{{"assemblyId":"bbbb","reportKeys":["{month}/bbbb/rep-1.csv.gz"]}}"#)
            .into_bytes(),
    );
    let vars = m.env(&m.reader);
    let r = attribute(&env, "s3://deliveries/cur/prefix/rep/", "out", &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inputs = manifest(&env.path("out"))["inputs"].clone();
    assert_eq!(inputs.as_array().unwrap().len(), 1, "{inputs}");
    assert_eq!(
        inputs[0]["path"],
        format!("s3://deliveries/{month}/bbbb/rep-1.csv.gz")
    );
    let local = env.write("cur1.csv", &cur);
    let l = env.run(&[
        "attribute",
        "--billing",
        local.to_str().unwrap(),
        "--out",
        "out-local",
    ]);
    assert_eq!(l.code, 0, "{}", l.stderr);
    assert_eq!(tables(&env.path("out")), tables(&env.path("out-local")));

    // a manifest naming a file that is not there stops the run before anything is read
    let month2 = "cur/prefix/rep/20261001-20261101";
    m.put("deliveries", &format!("{month2}/rep-Manifest.json"), format!(r#"{{"assemblyId":"c","reportKeys":["{month2}/c/rep-1.csv.gz","{month2}/c/rep-2.csv.gz"]}}"#).into_bytes());
    m.put(
        "deliveries",
        &format!("{month2}/c/rep-1.csv.gz"),
        gz(cur.as_bytes()),
    );
    let r = attribute(&env, "s3://deliveries/cur/prefix/rep/", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("cannot read `s3://deliveries/{month2}/rep-Manifest.json`: the delivery manifest names `s3://deliveries/{month2}/c/rep-2.csv.gz`, which is not there")), "{}", r.stderr);
}

#[test]
fn a_data_exports_period_reads_the_files_its_manifest_names() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let csv = std::fs::read(fixture("focus/basic.csv")).unwrap();
    let root = "dataexports/focus-export";
    let data = format!("{root}/data/BILLING_PERIOD=2026-10");
    m.put(
        "deliveries",
        &format!("{data}/run-1/focus-export-00001.csv.gz"),
        gz(&csv),
    );
    m.put(
        "deliveries",
        &format!("{data}/run-2/focus-export-00001.csv.gz"),
        gz(&csv),
    );
    m.put(
        "deliveries",
        &format!("{root}/metadata/BILLING_PERIOD=2026-10/focus-export-Manifest.json"),
        format!(r#"{{"executionId":"run-2","dataFiles":["s3://deliveries/{data}/run-2/focus-export-00001.csv.gz"]}}"#).into_bytes(),
    );
    let vars = m.env(&m.reader);
    let r = attribute(&env, &format!("s3://deliveries/{root}/"), "out", &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inputs = manifest(&env.path("out"))["inputs"].clone();
    assert_eq!(inputs.as_array().unwrap().len(), 1, "{inputs}");
    assert_eq!(
        inputs[0]["path"],
        format!("s3://deliveries/{data}/run-2/focus-export-00001.csv.gz")
    );
}

#[test]
fn missing_objects_and_buckets_are_named_with_a_hint() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let csv = std::fs::read(fixture("focus/basic.csv")).unwrap();
    m.put("bills", "missing/basic.csv", csv);
    let vars = m.env(&m.reader);
    let r = attribute(&env, "s3://bills/missing/nope.csv", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no input files found for `s3://bills/missing/nope.csv`"),
        "{}",
        r.stderr
    );
    let r = run(
        &env,
        &[
            "attribute",
            "--billing",
            "s3://bills/missing/basic.csv",
            "--requests",
            "s3://bills/missing/requests.csv",
            "--out",
            "out",
        ],
        &vars,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("cannot read `s3://bills/missing/requests.csv`: no such object"),
        "{}",
        r.stderr
    );
    let r = attribute(&env, "s3://no-such-bucket/x/", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("cannot read `s3://no-such-bucket/x/`: NoSuchBucket"),
        "{}",
        r.stderr
    );
    assert!(
        !env.path("out").exists(),
        "nothing is created when an input is missing"
    );
}

#[test]
fn a_user_the_bucket_denies_gets_the_uri_and_never_sees_a_secret() {
    let Some(m) = moto_auth() else { return };
    let env = TestEnv::new();
    m.put(
        "bills",
        "denied/basic.csv",
        std::fs::read(fixture("focus/basic.csv")).unwrap(),
    );
    let vars = m.env(&m.stranger);
    let r = attribute(&env, "s3://bills/denied/basic.csv", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("cannot read `s3://bills/denied/basic.csv`: access denied"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("hint: the credentials in use may not read this bucket"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&m.stranger.1));

    // plain http is refused unless asked for, as the AWS SDKs do
    let mut vars = m.env(&m.reader);
    vars.retain(|(k, _)| k != "AWS_ALLOW_HTTP");
    let r = attribute(&env, "s3://bills/denied/basic.csv", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("AWS_ALLOW_HTTP=true"), "{}", r.stderr);
}

#[test]
fn an_aws_profile_signs_and_a_profile_without_keys_says_how_to_get_them() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    m.put(
        "bills",
        "profile/basic.csv",
        std::fs::read(fixture("focus/basic.csv")).unwrap(),
    );
    let credentials = env.write(
        "aws/credentials",
        &format!(
            "[ml]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            m.reader.0, m.reader.1
        ),
    );
    let config = env.write(
        "aws/config",
        "[profile ml]\nregion = us-east-1\n[profile sso]\nsso_session = corp\n",
    );
    let mut vars: Vec<(String, String)> = m
        .env(&m.reader)
        .into_iter()
        .filter(|(k, _)| {
            !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET") && !k.ends_with("_FILE")
        })
        .collect();
    vars.push((
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        credentials.display().to_string(),
    ));
    vars.push(("AWS_CONFIG_FILE".into(), config.display().to_string()));
    vars.push(("AWS_PROFILE".into(), "ml".into()));
    let r = attribute(&env, "s3://bills/profile/basic.csv", "out", &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_no_secret_nor_copy(&r, &env.path("out"), &m.reader.1);
    vars.retain(|(k, _)| k != "AWS_PROFILE");
    vars.push(("AWS_PROFILE".into(), "sso".into()));
    let r = attribute(&env, "s3://bills/profile/basic.csv", "out2", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("AWS_PROFILE=`sso` has no static keys"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("aws configure export-credentials --profile sso"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_server_that_never_answers_ends_the_run_naming_the_uri() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    // accepts connections and never says a word
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let mut vars = m.env(&m.reader);
    vars.retain(|(k, _)| k != "AWS_ENDPOINT_URL" && k != "MLCOST_OBJECT_STORE_TIMEOUT");
    vars.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{port}"),
    ));
    vars.push(("MLCOST_OBJECT_STORE_TIMEOUT".into(), "2".into()));
    vars.push(("MLCOST_OBJECT_STORE_RETRIES".into(), "1".into()));
    let started = std::time::Instant::now();
    let r = attribute(&env, "s3://bills/slow/basic.csv", "out", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot read `s3://bills/slow/basic.csv`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("MLCOST_OBJECT_STORE_TIMEOUT"),
        "{}",
        r.stderr
    );
    // two tries of 2 s each and a backoff: far from the minutes of the defaults
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

/// A CSV fixture as a Parquet file of text columns (what a pipeline that writes every column as
/// a string gives), for the readers' text paths.
fn csv_as_parquet(csv: &Path, out: &Path) {
    use polars::prelude::*;
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    let file = std::fs::File::create(out).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
}

/// The byte ranges of one column's chunks in a local Parquet file.
fn column_ranges(file: &Path, column: &str) -> Vec<(u64, u64)> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let meta = reader.metadata();
    let i = (0..meta.file_metadata().schema_descr().num_columns())
        .find(|&i| meta.file_metadata().schema_descr().column(i).name() == column)
        .unwrap();
    meta.row_groups()
        .iter()
        .map(|rg| {
            let (start, len) = rg.column(i).byte_range();
            (start, start + len)
        })
        .collect()
}

#[test]
fn parquet_objects_are_read_by_their_footer_and_the_chunks_used_with_the_tables_of_disk() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    // every reader path: the dictionary reader (FOCUS decimals and text periods, several row
    // groups), Polars (timestamps, doubles, a Tags map), CUR tag-per-column with its
    // line-item check, CUR 2.0's map, text columns with rows to quarantine, and FOCUS 1.4 with
    // the invoice pass over InvoiceId
    let shapes: &[(&str, &[&str])] = &[
        (
            "focus",
            &["--format", "parquet", "--row-group-rows", "1000"],
        ),
        (
            "polars",
            &[
                "--format",
                "parquet",
                "--period-type",
                "timestamp-us",
                "--cost-type",
                "double",
                "--tags",
                "map",
            ],
        ),
        ("cur", &["--format", "parquet", "--layout", "aws-cur"]),
        ("cur2", &["--format", "parquet", "--layout", "aws-cur2"]),
    ];
    let mut cases: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for (name, args) in shapes {
        let dir = format!("shapes/{name}");
        let mut a = vec!["sample", "--out", &dir, "--rows", "5000", "--months", "2"];
        a.extend_from_slice(args);
        let r = env.run(&a);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let files: Vec<PathBuf> = std::fs::read_dir(env.path(&dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        cases.push((name.to_string(), files));
    }
    std::fs::create_dir_all(env.path("shapes/text")).unwrap();
    csv_as_parquet(
        &fixture("focus/basic.csv"),
        &env.path("shapes/text/basic.parquet"),
    );
    cases.push(("text".into(), vec![env.path("shapes/text/basic.parquet")]));
    std::fs::create_dir_all(env.path("shapes/v1_4")).unwrap();
    let mut v14 = Vec::new();
    for f in std::fs::read_dir(fixture("focus/v1_4")).unwrap().flatten() {
        let out = env
            .path("shapes/v1_4")
            .join(f.path().file_stem().unwrap())
            .with_extension("parquet");
        csv_as_parquet(&f.path(), &out);
        v14.push(out);
    }
    cases.push(("v1_4".into(), v14));

    let vars = m.env(&m.reader);
    for (name, files) in &cases {
        let mut local_args = vec!["attribute".to_string()];
        for f in files {
            let key = format!("shapes/{name}/{}", f.file_name().unwrap().to_string_lossy());
            m.put("bills", &key, std::fs::read(f).unwrap());
            local_args.extend(["--billing".into(), f.display().to_string()]);
        }
        for reader in ["direct", "polars"] {
            let mut vars = vars.clone();
            vars.push(("MLCOST_PARQUET_READER".into(), reader.into()));
            let (local_out, s3_out) = (
                format!("out/{name}-{reader}-local"),
                format!("out/{name}-{reader}-s3"),
            );
            let mut a: Vec<&str> = local_args.iter().map(String::as_str).collect();
            a.extend(["--out", &local_out]);
            let l = run(&env, &a, &vars);
            let uri = format!("s3://bills/shapes/{name}/");
            let r = attribute(&env, &uri, &s3_out, &vars);
            assert_eq!(
                (l.code, r.code),
                (0, 0),
                "{name} {reader}:\n{}\n{}",
                l.stderr,
                r.stderr
            );
            assert_eq!(
                tables(&env.path(&s3_out)),
                tables(&env.path(&local_out)),
                "{name} {reader}"
            );
            let (lm, rm) = (
                manifest(&env.path(&local_out)),
                manifest(&env.path(&s3_out)),
            );
            assert_eq!(lm["rows"], rm["rows"], "{name} {reader}");
            assert_eq!(lm["invoices"], rm["invoices"], "{name} {reader}");
            for i in rm["inputs"].as_array().unwrap() {
                assert_eq!(i["object"]["read"], "ranges", "{name}: {i}");
                assert!(
                    i["object"]["bytes_read"].as_u64().unwrap() <= i["size"].as_u64().unwrap(),
                    "{i}"
                );
            }
        }
    }
    assert!(
        manifest(&env.path("out/text-direct-s3"))["rows"]["quarantined"]
            .as_u64()
            .unwrap()
            > 0,
        "the text shape exercises the quarantine pass"
    );
    assert!(
        !manifest(&env.path("out/v1_4-direct-s3"))["invoices"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the FOCUS 1.4 shape exercises the invoice pass"
    );

    // the chunks of a column no reader uses are never asked for (a chunk far larger than the
    // gap two requests are merged over)
    let r = env.run(&[
        "sample", "--out", "wide", "--rows", "100000", "--format", "parquet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let focus = env.path("wide/focus_sample.parquet");
    let unused = column_ranges(&focus, "ChargePeriodStart");
    assert!(unused.iter().all(|(s, e)| e - s > 100_000), "{unused:?}");
    m.put(
        "bills",
        "wide/focus_sample.parquet",
        std::fs::read(&focus).unwrap(),
    );
    let r = attribute(&env, "s3://bills/wide/", "out/wide", &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let asked: Vec<(u64, u64)> = m
        .requests("wide/focus_sample.parquet")
        .iter()
        .filter_map(|g| g.2.as_deref())
        .filter_map(|r| {
            let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
            Some((a.parse().ok()?, b.parse::<u64>().ok()? + 1))
        })
        .collect();
    assert!(asked.len() >= 2, "{asked:?}");
    for (a, b) in &asked {
        for (s, e) in &unused {
            assert!(
                b <= s || a >= e,
                "asked {a}..{b}, inside ChargePeriodStart's chunk {s}..{e}"
            );
        }
    }
    let read = manifest(&env.path("out/wide"))["inputs"][0]["object"]["bytes_read"]
        .as_u64()
        .unwrap();
    let size = std::fs::metadata(&focus).unwrap().len();
    assert!(read < size, "{read} of {size} bytes read");
}

/// Azurite's blob service on a free port of 127.0.0.1, stopped when dropped; `None` (the test
/// is skipped) without Azurite (`MLCOST_AZURITE_BLOB`, the `azurite-blob` program) or
/// python3's azure-storage-blob, unless `MLCOST_REQUIRE_AZURITE` is set.
struct Azurite {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn azurite() -> Option<Azurite> {
    let required = std::env::var_os("MLCOST_REQUIRE_AZURITE").is_some();
    let program = std::env::var_os("MLCOST_AZURITE_BLOB").map(PathBuf::from);
    let client = Command::new("python3")
        .args(["-c", "import azure.storage.blob"])
        .status()
        .is_ok_and(|s| s.success());
    let Some(program) = program.filter(|p| p.exists() && client) else {
        assert!(!required, "MLCOST_REQUIRE_AZURITE=1 but MLCOST_AZURITE_BLOB or python3's azure-storage-blob is missing: .ci/run installs them");
        eprintln!("skipped: no Azurite");
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(program)
        .args([
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port.to_string(),
            "--silent",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--location",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Azurite");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 30, "Azurite did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(Azurite {
        port,
        child,
        _dir: dir,
    })
}

#[test]
fn azure_blob_through_azurite_gives_the_tables_of_the_same_files_on_disk() {
    let Some(az) = azurite() else { return };
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "s", "--rows", "20000", "--months", "2", "--format", "parquet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = env.path("s/basic.csv.gz");
    std::fs::write(
        &csv,
        gz(&std::fs::read(fixture("focus/basic.csv")).unwrap()),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/object_store/azurite_put.py");
    let put = Command::new("python3")
        .arg(script)
        .args([az.port.to_string().as_str(), "exports"])
        .arg(format!(
            "cost/2026-10/focus_sample.parquet={}",
            env.path("s/focus_sample.parquet").display()
        ))
        .arg(format!("cost/2026-10/basic.csv.gz={}", csv.display()))
        .arg(format!(
            "volumes/requests.csv={}",
            env.path("s/requests.csv").display()
        ))
        .status()
        .unwrap();
    assert!(put.success());
    let vars: Vec<(String, String)> = vec![
        ("AZURE_STORAGE_USE_EMULATOR".into(), "true".into()),
        (
            "AZURITE_BLOB_STORAGE_URL".into(),
            format!("http://127.0.0.1:{}", az.port),
        ),
        ("MLCOST_OBJECT_STORE_TIMEOUT".into(), "20".into()),
    ];
    let local = env.run(&[
        "attribute",
        "--billing",
        "s/focus_sample.parquet",
        "--billing",
        "s/basic.csv.gz",
        "--requests",
        "s/requests.csv",
        "--out",
        "out-local",
    ]);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let remote = run(
        &env,
        &[
            "attribute",
            "--billing",
            "az://exports/cost/",
            "--requests",
            "az://exports/volumes/requests.csv",
            "--out",
            "out-az",
        ],
        &vars,
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    assert_eq!(tables(&env.path("out-az")), tables(&env.path("out-local")));
    let m = manifest(&env.path("out-az"));
    let reads: Vec<(&str, &str)> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap(),
                i["object"]["read"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reads,
        [
            ("az://exports/cost/2026-10/basic.csv.gz", "whole"),
            ("az://exports/cost/2026-10/focus_sample.parquet", "ranges")
        ]
    );
    assert!(m["inputs"][1]["object"]["etag"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    assert_no_secret_nor_copy(
        &remote,
        &env.path("out-az"),
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50",
    );

    // a wrong account key is refused by the service, with the URI and without the key
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    let mut bad = vars.clone();
    bad.push(("AZURE_STORAGE_ACCOUNT_KEY".into(), wrong.into()));
    let r = attribute(&env, "az://exports/cost/", "out-denied", &bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot read `az://exports/cost/`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("hint: the credentials in use may not read this bucket"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(wrong), "{}", r.stderr);
    // a container that is not there is named, on one line
    let r = attribute(&env, "az://missing/cost/", "out-missing", &vars);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot read `az://missing/cost/`: ContainerNotFound: The specified container does not exist.\n"), "{}", r.stderr);
}

#[test]
fn hostile_uris_and_settings_are_errors_never_panics() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    m.put(
        "bills",
        "hostile/dd/a/basic.csv",
        std::fs::read(fixture("focus/basic.csv")).unwrap(),
    );
    let vars = m.env(&m.reader);
    let with = |extra: &[(&str, &str)]| {
        let mut v = vars.clone();
        for (k, val) in extra {
            v.retain(|(name, _)| name != k);
            v.push((k.to_string(), val.to_string()));
        }
        v
    };
    type Case<'a> = (&'a str, Vec<(String, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "s3://bills/hostile/dd//////a/",
            vars.clone(),
            "an empty, `.` or `..` folder",
        ),
        (
            "s3://bills/hostile/dd/../dd/a/",
            vars.clone(),
            "an empty, `.` or `..` folder",
        ),
        (
            "s3://bills/hostile/dd/a/",
            with(&[("AWS_ENDPOINT_URL", "127.0.0.1:9000")]),
            "AWS_ENDPOINT_URL=`127.0.0.1:9000` is not an http:// or https:// URL",
        ),
        (
            "s3://bills/hostile/dd/a/",
            with(&[("AWS_ENDPOINT_URL", "http://")]),
            "is not an http:// or https:// URL",
        ),
        (
            "s3://bills/hostile/dd/a/",
            with(&[("MLCOST_OBJECT_STORE_TIMEOUT", "18446744073709551615")]),
            "is not a whole number from 0 to 86400",
        ),
        (
            "s3://bills/hostile/dd/a/",
            with(&[("MLCOST_OBJECT_STORE_RETRIES", "4294967295")]),
            "is not a whole number from 0 to 100",
        ),
    ];
    for (uri, vars, says) in cases {
        let r = run(&env, &["validate", "--billing", uri], &vars);
        assert_eq!(r.code, 2, "{uri}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{uri}: {}", r.stderr);
    }
    // an empty setting is the default
    let r = run(
        &env,
        &["validate", "--billing", "s3://bills/hostile/dd/a/"],
        &with(&[("MLCOST_OBJECT_STORE_TIMEOUT", "")]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a password in the endpoint is never shown
    let r = run(
        &env,
        &["validate", "--billing", "s3://bills/hostile/dd/a/"],
        &with(&[("AWS_ENDPOINT_URL", "http://minio:pa55word@127.0.0.1:1/")]),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("pa55word"), "{}", r.stderr);
}

#[test]
fn an_object_named_twice_is_read_once_and_markers_and_status_tables_are_no_billing() {
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let csv = std::fs::read(fixture("focus/basic.csv")).unwrap();
    m.put("bills", "twice/exports/basic.csv", csv.clone());
    // a folder marker named like a file (Spark, the S3 console) and the status table an
    // Athena-integrated CUR keeps beside its data
    m.put("bills", "twice/exports/spark.parquet/", Vec::new());
    m.put(
        "bills",
        "twice/exports/spark.parquet/part-00000.csv",
        csv.clone(),
    );
    m.put(
        "bills",
        "twice/exports/cost_and_usage_data_status/cost_and_usage_data_status.csv",
        b"status\nREADY\n".to_vec(),
    );
    let vars = m.env(&m.reader);
    let r = run(
        &env,
        &[
            "attribute",
            "--billing",
            "s3://bills/twice/exports/",
            "s3://bills/twice/exports/*.csv",
            "--billing",
            "s3://bills/twice/exports/basic.csv",
            "--out",
            "out",
        ],
        &vars,
    );
    // basic.csv and the part under the marker: the same content twice is refused by name,
    // which shows both were read once and nothing else was
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot ingest `s3://bills/twice/exports/spark.parquet/part-00000.csv`: it has the same content as `s3://bills/twice/exports/basic.csv`"),
        "{}",
        r.stderr
    );
    let r = run(
        &env,
        &[
            "attribute",
            "--billing",
            "s3://bills/twice/exports/",
            "s3://bills/twice/exports/*.csv",
            "--out",
            "out2",
        ],
        &vars,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    std::fs::write(env.path("other.csv"), b"").unwrap();
    let r = run(
        &env,
        &[
            "attribute",
            "--billing",
            "s3://bills/twice/exports/basic.csv",
            "s3://bills/twice/exports/basic.csv",
            "--out",
            "out3",
        ],
        &vars,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        manifest(&env.path("out3"))["inputs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_copies_are_private_and_a_stopped_run_removes_them() {
    use std::os::unix::fs::PermissionsExt;
    let Some(m) = moto() else { return };
    let env = TestEnv::new();
    let r = env.run(&[
        "sample", "--out", "big", "--rows", "400000", "--format", "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    m.put(
        "bills",
        "stopped/focus.csv",
        std::fs::read(env.path("big/focus_sample.csv")).unwrap(),
    );
    let tmp = env.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlcost"))
        .args([
            "attribute",
            "--billing",
            "s3://bills/stopped/focus.csv",
            "--out",
        ])
        .arg(env.path("out"))
        .envs(m.env(&m.reader))
        .env("TMPDIR", &tmp)
        .env("MLCOST_NO_PROGRESS", "1")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let copy = loop {
        let found = std::fs::read_dir(&tmp).unwrap().flatten().find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("mlcost-objects-")
        });
        if let Some(e) = found {
            break e.path();
        }
        assert!(started.elapsed().as_secs() < 60, "no copy appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // the run reads its copy for a while: stop it as a scheduler would
    std::thread::sleep(std::time::Duration::from_millis(300));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!copy.exists(), "the copies stayed in {}", copy.display());
}
