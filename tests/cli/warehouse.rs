//! Issue #14: what schedulers and warehouse loaders rely on: one JSON object on stdout for
//! every exit code, logs a machine can read, no colour codes in files, and JSON that matches
//! the schemas in `schemas/`.

use crate::util::*;

fn schema_required(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(name),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issue14_json_is_one_object_for_every_exit_code() {
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let b = basic.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["attribute", "--billing", b, "--out", "out", "--json"],
            0,
            "published",
        ),
        (
            vec![
                "attribute",
                "--billing",
                b,
                "--out",
                "out",
                "--json",
                "--strict",
            ],
            1,
            "rejected",
        ),
        (
            vec![
                "attribute",
                "--billing",
                "nope.csv",
                "--out",
                "out",
                "--json",
            ],
            2,
            "failed",
        ),
        (
            vec!["attribute", "--billing", b, "--json", "--no-such-flag"],
            2,
            "failed",
        ),
        (
            vec!["validate", "--billing", "nope.csv", "--json"],
            2,
            "failed",
        ),
    ];
    for (args, code, status) in cases {
        let r = env.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON object ({e}): {}",
                r.stdout
            )
        });
        assert_eq!(v["status"], status, "{args:?}");
        assert_eq!(v["exit_code"], code, "{args:?}");
        let schema = match (args[0], code) {
            ("attribute", 0 | 1) => "attribute-json.schema.json",
            _ => "error.schema.json",
        };
        for key in schema_required(schema) {
            assert!(
                v.get(&key).is_some(),
                "{args:?}: `{key}` required by {schema} is missing"
            );
        }
    }
    // the manifest of the last run matches its schema too, nested objects included
    let m = manifest(&env.path("out"));
    for key in schema_required("manifest.schema.json") {
        assert!(m.get(&key).is_some(), "manifest.json lacks `{key}`");
    }
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/manifest.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for (list, def) in [("periods", "PeriodInfo"), ("inputs", "InputInfo")] {
        for item in m[list].as_array().unwrap() {
            for key in schema["$defs"][def]["required"].as_array().unwrap() {
                let key = key.as_str().unwrap();
                assert!(
                    item.get(key).is_some(),
                    "{list}[] lacks `{key}` ({def} requires it)"
                );
            }
        }
    }
}

#[test]
fn issue14_logs_for_machines_and_no_colour_in_files() {
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let r = env.run(&[
        "--log-format",
        "json",
        "-v",
        "validate",
        "--billing",
        basic.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.len() >= 2, "{}", r.stderr);
    assert!(events
        .iter()
        .all(|e| e["level"].is_string() && e["timestamp"].is_string()));
    // stderr is a pipe here: no ANSI escape codes, even with -v
    let r = env.run(&["-v", "validate", "--billing", basic.to_str().unwrap()]);
    assert!(!r.stderr.contains('\u{1b}'), "{}", r.stderr);
}

// ---- Readable everywhere: every table through every client (tests/python/read_outputs.py) ----

use std::path::{Path, PathBuf};
use std::process::Command;

use mlcost::money::Money;
use mlcost::schema::{output_tables, ColumnType};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `MLCOST_REQUIRE_PYTHON_CLIENTS=1` (set by .ci/run): a missing client fails instead of skipping.
pub fn clients_required() -> bool {
    std::env::var("MLCOST_REQUIRE_PYTHON_CLIENTS").as_deref() == Ok("1")
}

/// Whether `python3` imports `modules`; panics when they are required and missing.
pub fn python_or_skip(modules: &[&str], why: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {}", modules.join(", "))])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !clients_required(),
            "MLCOST_REQUIRE_PYTHON_CLIENTS=1 but python3 cannot import {modules:?} ({why}): .ci/run installs them"
        );
        eprintln!("skipped: python3 cannot import {modules:?} ({why})");
    }
    ok
}

/// Runs `python3` with `args` (a script and its arguments, or `-c` and its text) to write a
/// test's inputs, and asserts it succeeded.
pub fn python_writes<S: AsRef<std::ffi::OsStr>>(args: &[S]) {
    let status = Command::new("python3").args(args).status().unwrap();
    assert!(status.success(), "python3 failed writing the test's inputs");
}

/// The Python with the older pyarrow: `MLCOST_OLD_PYARROW_PYTHON`, else the venv .ci/run makes.
pub fn old_pyarrow_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLCOST_OLD_PYARROW_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".cache/mlcost-warehouse-venv/bin/python");
    p.exists().then_some(p)
}

const TABLES: &str =
    "cost_by_model,unit_costs,tag_compliance,training_amortization,hidden_costs,unit_costs_by_unit,cost_by_dimension";

/// The bundled sample through `attribute` (amortising training over 3 months) and `hidden`, so
/// every table exists, written under a directory whose name has a quote and a space.
fn sample_outputs(env: &TestEnv) -> PathBuf {
    let mut config = std::fs::read_to_string(repo("sample_data/mlcost.toml")).unwrap();
    config.push_str(
        "\n[amortize]\ntraining_months = 3\n\n[hidden]\ndefault_utilization = 0.45\nwaste_fraction = 0.5\nexperiment_share = 0.1\nftes = 1.5\nfte_annual_cost = 300000\n",
    );
    let config = env.write("warehouse.toml", &config);
    let out = env.path("it's out");
    let (c, o) = (config.to_str().unwrap(), out.to_str().unwrap());
    let billing = repo("sample_data/focus_sample.csv");
    let requests = repo("sample_data/requests.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests.to_str().unwrap(),
        "--config",
        c,
        "--out",
        o,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["hidden", "--input", o, "--config", c]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for t in TABLES.split(',') {
        assert!(out.join(t).is_dir(), "{t} was not written");
    }
    out
}

/// Rows and the exact sum of every decimal column, as mlcost's own reader sees them.
fn expected(
    rows: &[std::collections::BTreeMap<String, String>],
    table: &str,
) -> (usize, Vec<(String, Money)>) {
    let def = output_tables()
        .into_iter()
        .find(|t| t.name == table)
        .unwrap();
    let sums = def
        .columns
        .iter()
        .filter(|c| c.kind == ColumnType::Decimal)
        .map(|c| {
            let mut sum = Money::default();
            for r in rows {
                if r[c.name] != "null" {
                    sum += Money::parse(&r[c.name]).unwrap();
                }
            }
            (c.name.to_string(), sum)
        })
        .collect();
    (rows.len(), sums)
}

fn check_report(read: &serde_json::Value, want: &(usize, Vec<(String, Money)>), what: &str) {
    assert_eq!(read["rows"], want.0, "{what}: rows");
    for (column, sum) in &want.1 {
        let have = read["sums"][column]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no sum of {column}"));
        assert_eq!(Money::parse(have).unwrap(), *sum, "{what}: sum of {column}");
    }
}

#[test]
fn issue14_every_client_reads_every_table() {
    if !python_or_skip(&["json"], "python3 itself") {
        return;
    }
    let env = TestEnv::new();
    let out = sample_outputs(&env);
    let o = out.to_str().unwrap();
    let mut ddl_args = Vec::new();
    for dialect in ["duckdb", "spark"] {
        let file = env.path(&format!("{dialect}.sql"));
        let r = env.run(&[
            "ddl",
            "--dialect",
            dialect,
            "--input",
            o,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        ddl_args.extend(["--ddl".to_string(), format!("{dialect}={}", file.display())]);
    }
    let report = env.path("report.json");
    let mut cmd = Command::new("python3");
    cmd.arg(repo("tests/python/read_outputs.py"))
        .args(["--out", o, "--tables", TABLES])
        .arg("--schemas")
        .arg(repo("schemas"))
        .arg("--report")
        .arg(&report)
        .args(&ddl_args);
    if let Some(old) = old_pyarrow_python() {
        cmd.arg("--old-python").arg(old);
    }
    if clients_required() {
        cmd.arg("--require");
    }
    let started = std::time::Instant::now();
    let run = cmd.output().expect("run python3");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "read_outputs.py failed:\n{stdout}\n{stderr}"
    );
    eprintln!(
        "{stdout}clients took {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // every client's reads against mlcost's own reading of the files
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let clients = report["clients"].as_object().unwrap();
    assert!(!clients.is_empty(), "no client ran:\n{stderr}");
    if clients_required() {
        assert_eq!(clients.len(), 6, "{stderr}");
        for c in ["duckdb", "spark"] {
            assert!(report["clients"][c]["tables"]["unit_costs"]["ddl"].is_object());
        }
    }
    for table in TABLES.split(',') {
        let all = rows(&read_table(&out, table));
        let want = expected(&all, table);
        let newest = glob::glob(&format!(
            "{}/{table}/billing_period=*",
            glob::Pattern::escape(o)
        ))
        .unwrap()
        .flatten()
        .max()
        .unwrap();
        let period = newest.file_name().unwrap().to_str().unwrap()[15..].to_string();
        let in_file: Vec<_> = all
            .iter()
            .filter(|r| r["billing_period"] == period)
            .cloned()
            .collect();
        let want_file = expected(&in_file, table);
        for (name, client) in clients {
            for (read, result) in client["tables"][table].as_object().unwrap() {
                let what = format!("{name} {table} ({read})");
                check_report(
                    result,
                    if read == "file" { &want_file } else { &want },
                    &what,
                );
            }
        }
    }
}

/// Schema 2.3.0 added two `hidden_costs` columns (and `unit_costs_by_unit` its verdicts after its
/// first commit): partitions written before them (every one of them, as right after an upgrade)
/// still read, in the DuckDB view as nulls and in the report.
#[test]
fn partitions_of_an_older_schema_still_read() {
    if !python_or_skip(
        &["pyarrow", "duckdb"],
        "rewriting old partitions, the DuckDB view",
    ) {
        return;
    }
    let env = TestEnv::new();
    let out = sample_outputs(&env);
    let o = out.to_str().unwrap();
    python_writes(&[
        "-c",
        "import glob, sys, pyarrow.parquet as pq\n\
         for f in glob.glob(sys.argv[1] + '/hidden_costs/*/part-0.parquet'):\n\
         \x20   pq.write_table(pq.read_table(f).drop_columns(['idle_share_of_bill', 'assumed']), f)\n\
         for f in glob.glob(sys.argv[1] + '/unit_costs_by_unit/*/part-0.parquet'):\n\
         \x20   pq.write_table(pq.read_table(f).drop_columns(['verdict', 'verdict_reason']), f)\n",
        o,
    ]);
    let r = env.run(&["ddl", "--dialect", "duckdb", "--input", o]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ddl = env.write("view.sql", &r.stdout);
    let run = Command::new("python3")
        .args([
            "-c",
            "import duckdb, sys\n\
             con = duckdb.connect()\n\
             con.execute(open(sys.argv[1]).read())\n\
             print(con.execute('SELECT count(*), count(idle_share_of_bill), count(assumed), count(idle_capacity) FROM mlcost.hidden_costs').fetchone())\n\
             print(con.execute('SELECT count(*), count(verdict), count(cost_per_1m_units) FROM mlcost.unit_costs_by_unit').fetchone())\n",
        ])
        .arg(&ddl)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let counts = |line: &str| -> Vec<u64> {
        line.trim()
            .trim_matches(|c| c == '(' || c == ')')
            .split(", ")
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let lines: Vec<&str> = stdout.lines().collect();
    let hidden = counts(lines[0]);
    assert!(hidden[0] > 0 && hidden[3] == hidden[0], "{stdout}");
    assert_eq!((hidden[1], hidden[2]), (0, 0), "{stdout}");
    let by_unit = counts(lines[1]);
    assert!(by_unit[0] > 0 && by_unit[2] == by_unit[0], "{stdout}");
    assert_eq!(by_unit[1], 0, "{stdout}");
    let r = env.run(&["report", "--input", o, "--format", "markdown", "--out", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("| Idle in bill |"), "{}", r.stdout);
    assert!(r.stdout.contains("## Cost per unit"), "{}", r.stdout);
}

/// The checks of read_outputs.py fail on a type that differs from the schema.
#[test]
fn issue14_client_check_catches_a_wrong_type() {
    if !python_or_skip(&["pyarrow", "duckdb"], "the type check") {
        return;
    }
    let env = TestEnv::new();
    let out = sample_outputs(&env);
    let schemas = env.path("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    for t in TABLES.split(',') {
        let text = std::fs::read_to_string(repo(&format!("schemas/{t}.json"))).unwrap();
        let text = if t == "unit_costs" {
            text.replacen("\"type\": \"int64\"", "\"type\": \"decimal(38,18)\"", 1)
        } else {
            text
        };
        std::fs::write(schemas.join(format!("{t}.json")), text).unwrap();
    }
    let run = Command::new("python3")
        .arg(repo("tests/python/read_outputs.py"))
        .args([
            "--out",
            out.to_str().unwrap(),
            "--tables",
            TABLES,
            "--clients",
            "pyarrow,duckdb",
        ])
        .arg("--schemas")
        .arg(&schemas)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("MISMATCH pyarrow") && stderr.contains("unit_costs (dataset): types"),
        "{stderr}"
    );
    assert!(
        stderr.contains("'requests': ('int64', 'decimal(38,18)')"),
        "{stderr}"
    );
}

// ---- mlcost ddl ------------------------------------------------------------------------------

/// The DDL of the five engines not run here parses in sqlglot with the declared columns, types,
/// partition and location (tests/python/parse_ddl.py); DuckDB and Spark too.
#[test]
fn issue14_ddl_parses_in_sqlglot() {
    if !python_or_skip(&["sqlglot"], "parsing the DDL") {
        return;
    }
    let env = TestEnv::new();
    let out = sample_outputs(&env);
    let o = out.to_str().unwrap();
    let cases = [
        ("athena", "s3://bucket/it's/mlcost", "mlcost"),
        ("bigquery", "gs://bucket/it's/mlcost", "my-project.mlcost"),
        ("snowflake", "s3://bucket/it's/mlcost", "mlcost"),
        ("trino", "s3://bucket/it's/mlcost", "hive.mlcost"),
        ("redshift", "s3://bucket/it's/mlcost/", "mlcost"),
        ("spark", o, "mlcost"),
        ("duckdb", o, "mlcost"),
    ];
    let mut cmd = Command::new("python3");
    cmd.arg(repo("tests/python/parse_ddl.py"))
        .args(["--tables", TABLES])
        .arg("--schemas")
        .arg(repo("schemas"));
    for (dialect, location, schema) in cases {
        let file = env.path(&format!("{dialect}.sql"));
        let r = env.run(&[
            "ddl",
            "--dialect",
            dialect,
            "--input",
            o,
            "--location",
            location,
            "--schema",
            schema,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{dialect}: {}", r.stderr);
        cmd.args(["--case", dialect, file.to_str().unwrap(), location, schema]);
    }
    let run = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    eprintln!("{stdout}");
    assert_eq!(
        stdout.matches(": ok, parsed by sqlglot").count(),
        7,
        "{stdout}"
    );
}

#[test]
fn issue14_ddl_command_errors_and_notes() {
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let r = env.run(&[
        "attribute",
        "--billing",
        basic.to_str().unwrap(),
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // `all` leaves out the tables without a published month, and says so
    let r = env.run(&["ddl", "--dialect", "duckdb"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("\"mlcost\".\"unit_costs\""),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("hidden_costs"), "{}", r.stdout);
    assert!(r.stderr.contains("left out hidden_costs"), "{}", r.stderr);
    // the default location is the absolute path of --input
    let abs = std::fs::canonicalize(env.path("out")).unwrap();
    assert!(r.stdout.contains(&format!(
        "'{}/cost_by_model/billing_period=*/*.parquet'",
        abs.display()
    )));

    // a bucket engine on a local path: written, with a note naming --location
    let r = env.run(&["ddl", "--dialect", "athena", "--table", "unit_costs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("--location") && r.stderr.contains("s3://"),
        "{}",
        r.stderr
    );

    let cases: [(&[&str], &str); 4] = [
        (
            &["ddl", "--dialect", "spark", "--table", "costs"],
            "--table",
        ),
        (
            &["ddl", "--dialect", "spark", "--input", "nowhere"],
            "--input",
        ),
        (
            &["ddl", "--dialect", "duckdb", "--location", "/data/out[1]"],
            "--location",
        ),
        (
            &["ddl", "--dialect", "athena", "--schema", "Billing"],
            "--schema",
        ),
    ];
    for (args, flag) in cases {
        let r = env.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(flag) && r.stderr.contains("hint:"),
            "{args:?}: {}",
            r.stderr
        );
    }
}
