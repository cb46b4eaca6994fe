//! `mlcost sql`: the emitted query, run by DuckDB (and by Spark when `pyspark` is installed)
//! over the same FOCUS file `mlcost attribute` reads, must give `cost_by_model` row for row
//! with exact decimals. Configs the SQL cannot express are refused with their line.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// The columns of `cost_by_model`, in the order both sides are compared.
const COLUMNS: [&str; 12] = [
    "billing_period",
    "model_id",
    "team",
    "lifecycle_phase",
    "cost",
    "currency",
    "allocation_method",
    "rule_id",
    "source_pool",
    "share",
    "cost_basis",
    "source_rows",
];

/// Loads a FOCUS CSV as mlcost reads it (every column text, `NULL` and empty are null; FOCUS
/// columns the file lacks are null), optionally more tables (`NAME=CSV`: the requests, driver
/// tables), runs the query and prints its rows as JSON text (decimals in their shortest exact
/// form, like `Money`'s Display); several cases, separated by `--`, run in one session.
const ENGINE_SCRIPT: &str = r#"
import json, os, sys, time
from decimal import Decimal
# ENGINE CSV SQL [NAME=CSV ...] [-- CSV SQL [NAME=CSV ...] ...]: one JSON line per case, all
# in one session (Spark starts once); NAME=CSV are more tables, all text (requests, drivers)
engine = sys.argv[1]
cases, case = [], []
for a in sys.argv[2:] + ["--"]:
    if a == "--":
        cases.append(case)
        case = []
    else:
        case.append(a)
FOCUS = ["BillingPeriodStart", "BillingCurrency", "ProviderName", "BillingAccountId",
         "SubAccountId", "SubAccountName", "ServiceName", "ServiceCategory", "ResourceId",
         "ResourceName", "RegionId", "ChargeCategory", "ChargeClass", "CommitmentDiscountStatus",
         "Tags", "EffectiveCost", "BilledCost", "ListCost", "ContractedCost"]
if engine == "spark":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession, functions as F
    spark = (SparkSession.builder.master("local[2]").appName("mlcost-sql-test")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.session.timeZone", "Asia/Kolkata")
             .config("spark.sql.caseSensitive", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
def text(v):
    if v is None:
        return "null"
    if isinstance(v, Decimal):
        return "0" if v == 0 else format(v.normalize(), "f")
    return str(v)
for csv, sql_file, *names in cases:
    tables = [a.split("=", 1) for a in names]
    query = open(sql_file).read()
    started = time.time()
    parquet = csv.endswith(".parquet")
    if engine == "trino":
        # no Trino here: sqlglot parses the Trino text and writes it for DuckDB, which runs it.
        # Three Trino meanings sqlglot does not carry over are spelled out: fail() is DuckDB's
        # error(); DECIMAL(38, 0), the query's exact integers, is HUGEINT; and `/` between them
        # (every division in the query is exact) is integer division, not DuckDB's float one.
        import sqlglot
        from sqlglot import exp
        def types_and_fail(node):
            if isinstance(node, exp.Anonymous) and node.name.lower() == "fail":
                return exp.Anonymous(this="error", expressions=node.expressions)
            if isinstance(node, exp.DataType) and node.sql(dialect="trino") == "DECIMAL(38, 0)":
                return exp.DataType.build("HUGEINT")
            return node
        def integer_division(node):
            if isinstance(node, exp.Div):
                return exp.IntDiv(this=node.this.transform(integer_division), expression=node.expression.transform(integer_division))
            return node
        tree = sqlglot.parse_one(query, read="trino").transform(types_and_fail)
        query = tree.transform(integer_division).sql(dialect="duckdb")
    if engine in ("duckdb", "trino"):
        import duckdb
        c = duckdb.connect()
        # a session zone far from UTC, with a half-hour offset: periods must not move with it
        c.execute("SET TimeZone = 'America/St_Johns'")
        if parquet:
            c.execute("CREATE TABLE raw AS SELECT * FROM read_parquet(?)", [csv])
        else:
            c.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?, all_varchar = true, header = true, nullstr = ['NULL', ''])", [csv])
        have = [r[0] for r in c.execute("DESCRIBE raw").fetchall()]
        cols = ", ".join(f'"{f}"' if f in have else f'CAST(NULL AS VARCHAR) AS "{f}"' for f in FOCUS)
        c.execute(f"CREATE VIEW focus_billing AS SELECT {cols} FROM raw")
        for name, path in tables:
            c.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_csv(?, all_varchar = true, header = true)', [path])
        rows = c.execute(query).fetchall()
    else:
        if parquet:
            df = spark.read.parquet(csv)
        else:
            df = spark.read.csv(csv, header=True, inferSchema=False, nullValue="NULL", emptyValue=None, escape='"', multiLine=True)
        df.select(*[F.col(f"`{f}`") if f in df.columns else F.lit(None).cast("string").alias(f) for f in FOCUS]).createOrReplaceTempView("focus_billing")
        for name, path in tables:
            spark.read.csv(path, header=True, inferSchema=False).createOrReplaceTempView(name)
        rows = [tuple(r) for r in spark.sql(query).collect()]
    print(json.dumps({"seconds": time.time() - started, "rows": [[text(v) for v in r] for r in rows]}))
"#;

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the python3 modules a test needs are there; in CI (`MLCOST_REQUIRE_DUCKDB=1`,
/// set by `.ci/run`, which installs them) a missing one fails instead of skipping.
fn modules_or_skip(modules: &[&str]) -> bool {
    let missing: Vec<&str> = modules.iter().copied().filter(|m| !python_has(m)).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("MLCOST_REQUIRE_DUCKDB").as_deref() != Ok("1"),
        "MLCOST_REQUIRE_DUCKDB=1 but python3 lacks {missing:?}: pip install {} (Spark needs Java 17)",
        missing.join(" ")
    );
    eprintln!(
        "skipped: python3 lacks {missing:?} (pip install {})",
        missing.join(" ")
    );
    false
}

fn duckdb_or_skip() -> bool {
    modules_or_skip(&["duckdb"])
}

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The columns of an output table, in the schema's order (the SQL's order too).
fn table_columns(table: &str) -> Vec<String> {
    if table == "cost_by_model" {
        return COLUMNS.iter().map(|c| c.to_string()).collect();
    }
    let path = sample(&format!("schemas/{table}.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    schema["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// What `mlcost attribute` wrote to `table`, as text rows in `table_columns` order.
fn attribute_rows(
    env: &TestEnv,
    table: &str,
    billing: &Path,
    config: Option<&Path>,
    requests: Option<&Path>,
    period: Option<&str>,
) -> Vec<Vec<String>> {
    let out = env.path("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut args = vec![
        "attribute".to_string(),
        "--billing".into(),
        billing.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    if let Some(c) = config {
        args.extend(["--config".into(), c.display().to_string()]);
    }
    if let Some(r) = requests {
        args.extend(["--requests".into(), r.display().to_string()]);
    }
    if let Some(p) = period {
        args.extend(["--period".into(), p.to_string()]);
    }
    let r = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);
    table_rows(&out, table)
}

/// The rows of `table` under an output directory, as text in `table_columns` order.
fn table_rows(out: &Path, table: &str) -> Vec<Vec<String>> {
    let columns = table_columns(table);
    rows(&read_table(out, table))
        .into_iter()
        .map(|row| columns.iter().map(|c| row[c.as_str()].clone()).collect())
        .collect()
}

/// Emits the query with `mlcost sql` for `dialect` into `file` under the test's folder.
fn emit_sql(
    env: &TestEnv,
    dialect: &str,
    file: &str,
    config: Option<&Path>,
    requests: bool,
    period: Option<&str>,
    extra: &[&str],
) -> PathBuf {
    let sql = env.path(file);
    let mut args = vec![
        "sql".to_string(),
        "--dialect".into(),
        dialect.into(),
        "--out".into(),
        sql.display().to_string(),
    ];
    if let Some(c) = config {
        args.extend(["--config".into(), c.display().to_string()]);
    }
    if requests {
        args.extend(["--requests-table".into(), "requests".into()]);
    }
    if let Some(p) = period {
        args.extend(["--period".into(), p.to_string()]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let r = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);
    sql
}

/// Runs `ENGINE_SCRIPT` on `engine` over cases of (billing file, query file, `NAME=CSV`
/// tables...), all in one session: (rows, seconds) per case.
fn run_engine(env: &TestEnv, engine: &str, cases: &[Vec<String>]) -> Vec<(Vec<Vec<String>>, f64)> {
    let script = env.write("engine.py", ENGINE_SCRIPT);
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(engine).current_dir(env.dir.path());
    for (i, case) in cases.iter().enumerate() {
        if i > 0 {
            cmd.arg("--");
        }
        cmd.args(case);
    }
    let out = cmd.output().expect("run python3");
    assert!(
        out.status.success(),
        "{engine} failed on the emitted query:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<(Vec<Vec<String>>, f64)> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|json| json.get("rows").is_some())
        .map(|json| {
            let rows = json["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string())
                        .collect()
                })
                .collect();
            (rows, json["seconds"].as_f64().unwrap_or(0.0))
        })
        .collect();
    assert_eq!(results.len(), cases.len(), "{stdout}");
    results
}

/// Emits the query with `mlcost sql` and runs it on `engine`: (rows, seconds).
fn sql_rows(
    env: &TestEnv,
    engine: &str,
    billing: &Path,
    config: Option<&Path>,
    requests: Option<&Path>,
    period: Option<&str>,
    extra: &[&str],
    tables: &[(&str, &Path)],
) -> (Vec<Vec<String>>, f64) {
    let dialect = match engine {
        "spark" | "trino" => engine,
        _ => "duckdb",
    };
    let file = format!("attribution.{dialect}.sql");
    let sql = emit_sql(
        env,
        dialect,
        &file,
        config,
        requests.is_some(),
        period,
        extra,
    );
    let mut case = vec![billing.display().to_string(), sql.display().to_string()];
    if let Some(req) = requests {
        case.push(format!("requests={}", req.display()));
    }
    for (name, path) in tables {
        case.push(format!("{name}={}", path.display()));
    }
    run_engine(env, engine, &[case]).remove(0)
}

/// Runs both and asserts the same rows in the same order; returns the number of rows.
fn same_rows(
    engine: &str,
    billing: &Path,
    config: Option<&Path>,
    requests: Option<&Path>,
    period: Option<&str>,
) -> usize {
    same_rows_with(engine, billing, config, requests, period, &[]).len()
}

/// `same_rows` with more `mlcost sql` arguments; returns the rows.
fn same_rows_with(
    engine: &str,
    billing: &Path,
    config: Option<&Path>,
    requests: Option<&Path>,
    period: Option<&str>,
    extra: &[&str],
) -> Vec<Vec<String>> {
    same_rows_in(engine, billing, config, requests, period, extra, &[])
}

/// `same_rows_with` where the engine has more tables (`NAME`, CSV file).
fn same_rows_in(
    engine: &str,
    billing: &Path,
    config: Option<&Path>,
    requests: Option<&Path>,
    period: Option<&str>,
    extra: &[&str],
    tables: &[(&str, &Path)],
) -> Vec<Vec<String>> {
    let env = TestEnv::new();
    let table = extra
        .iter()
        .position(|a| *a == "--table")
        .map_or("cost_by_model", |i| extra[i + 1]);
    let want = attribute_rows(&env, table, billing, config, requests, period);
    let (got, seconds) = sql_rows(
        &env, engine, billing, config, requests, period, extra, tables,
    );
    let case = format!(
        "{engine} {table}: {} with {}",
        billing.display(),
        config.map_or("no config".into(), |c| c.display().to_string())
    );
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(w, g, "{case}: row {i} differs (mlcost, then SQL)");
    }
    assert_eq!(want.len(), got.len(), "{case}: row counts differ");
    eprintln!("{case}: {} rows identical, query {seconds:.1} s", got.len());
    want
}

/// A config file: the fixture text with a `[cost]` basis in front.
fn with_basis(env: &TestEnv, fixture_text: &str, basis: &str) -> PathBuf {
    env.write(
        &format!("{basis}.toml"),
        &format!("[cost]\nbasis = \"{basis}\"\n\n{fixture_text}"),
    )
}

#[test]
fn duckdb_gives_the_rows_attribute_writes() {
    if !duckdb_or_skip() {
        return;
    }
    let basic = fixture("focus/basic.csv");
    let focus = sample("sample_data/focus_sample.csv");
    let requests = sample("sample_data/requests.csv");
    let sample_config = sample("sample_data/mlcost.toml");
    let every = fixture("sql/every_expressible.toml");
    let every_text = std::fs::read_to_string(&every).unwrap();
    let configs = TestEnv::new();
    let mut compared = 0;
    // no config: default aliases, conflicts, malformed and missing tags, quarantined costs
    compared += same_rows("duckdb", &basic, None, None, None);
    compared += same_rows("duckdb", &focus, None, None, None);
    // the list basis leaves the commitment purchase out; billed counts it
    for basis in ["list", "billed"] {
        let c = with_basis(&configs, "", basis);
        compared += same_rows("duckdb", &basic, Some(&c), None, None);
    }
    // the sample config: glob rules, a proportional pool by phase, unused commitment spread
    compared += same_rows("duckdb", &focus, Some(&sample_config), None, None);
    compared += same_rows(
        "duckdb",
        &focus,
        Some(&sample_config),
        None,
        Some("2026-10"),
    );
    // aliases, regex and glob-class rules, even, fixed, proportional and requests splits, a
    // pool without targets, unallocated spread evenly, on three bases
    compared += same_rows("duckdb", &focus, Some(&every), Some(&requests), None);
    for basis in ["billed", "contracted"] {
        let c = with_basis(&configs, &every_text, basis);
        compared += same_rows("duckdb", &focus, Some(&c), Some(&requests), None);
    }
    eprintln!("{compared} rows compared");
    assert!(compared > 5000, "only {compared} rows compared");
}

/// The fixtures the DuckDB test runs, on every basis, in one Spark session: basic.csv without
/// a config and on the list and billed bases, the sample without a config, with its config
/// and with `--period`, and the rules fixture with requests on three bases.
#[test]
fn spark_gives_the_rows_attribute_writes() {
    if !modules_or_skip(&["pyspark"]) {
        return;
    }
    let env = TestEnv::new();
    let basic = fixture("focus/basic.csv");
    let focus = sample("sample_data/focus_sample.csv");
    let requests = sample("sample_data/requests.csv");
    let sample_config = sample("sample_data/mlcost.toml");
    let every = fixture("sql/every_expressible.toml");
    let every_text = std::fs::read_to_string(&every).unwrap();
    let list = with_basis(&env, "", "list");
    let billed = with_basis(&env, "", "billed");
    let every_billed = env.write(
        "every_billed.toml",
        &format!("[cost]\nbasis = \"billed\"\n\n{every_text}"),
    );
    let every_contracted = env.write(
        "every_contracted.toml",
        &format!("[cost]\nbasis = \"contracted\"\n\n{every_text}"),
    );
    let cases: Vec<(&Path, Option<&Path>, bool, Option<&str>)> = vec![
        (&basic, None, false, None),
        (&basic, Some(&list), false, None),
        (&basic, Some(&billed), false, None),
        (&focus, None, false, None),
        (&focus, Some(&sample_config), false, None),
        (&focus, Some(&sample_config), false, Some("2026-10")),
        (&focus, Some(&every), true, None),
        (&focus, Some(&every_billed), true, None),
        (&focus, Some(&every_contracted), true, None),
    ];
    let mut wanted = Vec::new();
    let mut runs = Vec::new();
    for (i, (billing, config, with_requests, period)) in cases.iter().enumerate() {
        let req = with_requests.then_some(requests.as_path());
        wanted.push(attribute_rows(
            &env,
            "cost_by_model",
            billing,
            *config,
            req,
            *period,
        ));
        let sql = emit_sql(
            &env,
            "spark",
            &format!("case{i}.sql"),
            *config,
            *with_requests,
            *period,
            &[],
        );
        let mut case = vec![billing.display().to_string(), sql.display().to_string()];
        if *with_requests {
            case.push(format!("requests={}", requests.display()));
        }
        runs.push(case);
    }
    let got = run_engine(&env, "spark", &runs);
    let mut compared = 0;
    for (i, (want, (rows, seconds))) in wanted.iter().zip(&got).enumerate() {
        assert_eq!(rows, want, "case {i}: {:?}", cases[i]);
        eprintln!(
            "spark case {i}: {} rows identical, query {seconds:.1} s",
            rows.len()
        );
        compared += rows.len();
    }
    assert!(compared > 5000, "only {compared} rows compared");
}

fn refusal(config: &str, extra: &[&str]) -> String {
    let env = TestEnv::new();
    let path = env.write("mlcost.toml", config);
    let mut args = vec![
        "sql",
        "--dialect",
        "trino",
        "--config",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    let r = env.run(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no SQL on a refusal: {}", r.stdout);
    env.clean(&r.stderr)
}

#[test]
fn configs_the_sql_cannot_express_are_refused_with_their_line() {
    let every_rule = std::fs::read_to_string(fixture("rules/every_rule.toml")).unwrap();
    insta::assert_snapshot!(refusal(&every_rule, &["--requests-table", "requests"]), @r"
    error: invalid config `[TMP]/mlcost.toml`: pool `ads-emr` (line 38) cannot be expressed in SQL for `mlcost sql --dialect trino`: method `driver` reads its driver file on this machine

    hint: load the driver file (period, model_id, quantity) into a table and pass `--driver-table ads-emr=NAME`, or run `mlcost attribute`
    ");
    let requests = "[[shared]]\nid = \"transfer\"\nmatch = { service_name = \"AWS Data Transfer\" }\nmethod = \"requests\"\n";
    insta::assert_snapshot!(refusal(requests, &[]), @r"
    error: invalid config `[TMP]/mlcost.toml`: pool `transfer` (line 2) cannot be expressed in SQL for `mlcost sql --dialect trino`: method `requests` needs request volumes

    hint: pass `--requests-table NAME` (columns date, model_id, requests)
    ");
    let spread = "[tags]\nlowercase_values = true\n\n[unallocated]\nmethod = \"requests\"\n";
    insta::assert_snapshot!(refusal(spread, &[]), @r#"
    error: invalid config `[TMP]/mlcost.toml`: `[unallocated] method = "requests"` (line 4) cannot be expressed in SQL for `mlcost sql --dialect trino`: spreading by requests needs request volumes

    hint: pass `--requests-table NAME` (columns date, model_id, requests)
    "#);
    let targets =
        "[targets]\nmax_cost_per_1m_tokens = 2\n\n[targets.models.ranker]\nmin_roi = 1.5\n";
    insta::assert_snapshot!(refusal(targets, &["--table", "unit_costs"]), @r"
    error: invalid config `[TMP]/mlcost.toml`: `[targets]` (line 1) cannot be expressed in SQL for `mlcost sql --dialect trino`: the unit_costs query writes no verdicts against request, revenue or ROI targets

    hint: leave those targets out of the config for the SQL (the verdict is then `no_target`), or run `mlcost attribute`
    ");
    // cost_by_model has no verdict; unit targets judge units a requests table lacks
    let sub_table = "[tags]\nlowercase_values = true\n\n[targets.models.ranker]\nmax_cost_per_1000_requests = 2\n";
    assert!(
        refusal(sub_table, &["--table", "all"]).contains("`[targets]` (line 4)"),
        "the first targets table's line"
    );
    let r = TestEnv::new();
    let unit_only = r.write(
        "mlcost.toml",
        "[targets.units.tokens]\nmax_cost_per_1m = 2\n",
    );
    let run = r.run(&[
        "sql",
        "--dialect",
        "trino",
        "--table",
        "all",
        "--config",
        unit_only.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let with_targets = r.write("targets.toml", targets);
    let run = r.run(&[
        "sql",
        "--dialect",
        "trino",
        "--config",
        with_targets.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let amortize = "[amortize]\ntraining_months = 6\nmethod = \"served\"\n";
    insta::assert_snapshot!(refusal(amortize, &["--requests-table", "requests"]), @r#"
    error: invalid config `[TMP]/mlcost.toml`: `[amortize] method = "served"` (line 3) cannot be expressed in SQL for `mlcost sql --dialect trino`: a served schedule carries the volume served from month to month, which one query cannot keep

    hint: use `method = "months"` (straight line) for the SQL, or run `mlcost attribute`, which keeps the schedules
    "#);
}

#[test]
fn sql_goes_to_stdout_and_bad_arguments_exit_2() {
    let env = TestEnv::new();
    let r = env.run(&[
        "sql",
        "--dialect",
        "bigquery",
        "--billing-table",
        "p.billing.focus",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("FROM `p`.`billing`.`focus`"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let r = env.run(&["sql", "--dialect", "duckdb", "--period", "2026-13"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid `--period` value `2026-13`"),
        "{}",
        r.stderr
    );
}

/// The month of a period text is the month of its instant in UTC, as `attribute` reads it:
/// offsets applied, US dates, `YYYY-MM`, `YYYYMM`; named zones, impossible dates and
/// clocks and odd offsets give no month (quarantined by `attribute`, left out by the SQL).
/// The engines run in sessions far from UTC (DuckDB at -02:30, Spark at +05:30).
#[test]
fn periods_are_the_utc_month_of_their_instant_in_every_engine() {
    let periods = fixture("sql/periods.csv");
    let want: Vec<(&str, &str)> = vec![
        ("2026-09", "m01"),
        ("2026-09", "m06"),
        ("2026-09", "m12"),
        ("2026-09", "m13"),
        ("2026-10", "m02"),
        ("2026-10", "m03"),
        ("2026-10", "m04"),
        ("2026-10", "m05"),
        ("2026-10", "m07"),
        ("2026-10", "m08"),
        ("2026-10", "m14"),
        ("2026-10", "m16"),
        ("2026-10", "m18"),
        ("2026-10", "m19"),
        ("2026-10", "m20"),
        ("2026-11", "m17"),
        ("2026-11", "m21"),
    ];
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    for engine in ["duckdb", "spark", "trino"] {
        let rows = same_rows_with(engine, &periods, None, None, None, &[]);
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        assert_eq!(got, want, "{engine}: (billing_period, model_id)");
    }
}

/// Exports in a warehouse have typed columns: periods as zoned or local timestamps or dates,
/// costs as double or decimal(38, 9), Tags as a map or a struct. The query reads them to the
/// same rows as `attribute` reads the same Parquet file, whatever the session's time zone.
#[test]
fn typed_periods_costs_and_tags_give_the_rows_attribute_writes() {
    if !duckdb_or_skip() {
        return;
    }
    let env = TestEnv::new();
    let shapes: [(&str, &[&str], &str); 4] = [
        (
            "zoned_map",
            &[
                "--period-type",
                "timestamp-us",
                "--time-zone",
                "+02:00",
                "--tags",
                "map",
                "--cost-type",
                "double",
            ],
            "map",
        ),
        (
            "local_struct",
            &[
                "--period-type",
                "timestamp-ms",
                "--time-zone",
                "none",
                "--tags",
                "struct",
                "--cost-type",
                "decimal38-9",
            ],
            "struct",
        ),
        (
            "utc_json",
            &["--period-type", "timestamp-ns", "--cost-type", "float"],
            "json",
        ),
        (
            "date_json",
            &["--period-type", "date32", "--cost-type", "text"],
            "json",
        ),
    ];
    if !modules_or_skip(&["pyspark"]) {
        return;
    }
    for (name, args, tags) in shapes {
        crate::sample::sample(
            &env,
            name,
            &[
                &["--rows", "3000", "--months", "2", "--format", "parquet"],
                args,
            ]
            .concat(),
        );
        let file = env.path(name).join("focus_sample.parquet");
        let config = sample("sample_data/mlcost.toml");
        let mut engines = vec!["duckdb"];
        // Spark on two shapes: each run starts a JVM
        if tags != "json" {
            engines.push("spark");
        }
        for engine in engines {
            let rows = same_rows_with(engine, &file, Some(&config), None, None, &["--tags", tags]);
            let months: std::collections::BTreeSet<&str> =
                rows.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(months.len(), 2, "{engine} {name}: {months:?}");
            assert!(rows.len() > 20, "{engine} {name}: {} rows", rows.len());
        }
    }
}

/// Trino is not here to run its text, so sqlglot parses it (an independent SQL parser) and
/// writes it for DuckDB, which runs it: the Trino query gives `attribute`'s rows on every
/// fixture and config the DuckDB test uses.
#[test]
fn trino_text_parsed_by_sqlglot_gives_the_rows_attribute_writes() {
    if !modules_or_skip(&["duckdb", "sqlglot"]) {
        return;
    }
    let basic = fixture("focus/basic.csv");
    let focus = sample("sample_data/focus_sample.csv");
    let requests = sample("sample_data/requests.csv");
    let every = fixture("sql/every_expressible.toml");
    let mut compared = same_rows("trino", &basic, None, None, None);
    compared += same_rows(
        "trino",
        &focus,
        Some(&sample("sample_data/mlcost.toml")),
        None,
        None,
    );
    compared += same_rows("trino", &focus, Some(&every), Some(&requests), None);
    assert!(compared > 1000, "only {compared} rows compared");
}

/// BigQuery's text cannot run here and sqlglot cannot carry its JSON functions to DuckDB, so
/// it is parsed by sqlglot (an independent parser, strict about errors) for every config and
/// Tags type; so are the other dialects' texts.
#[test]
fn every_dialect_parses_in_sqlglot() {
    if !modules_or_skip(&["sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    // a driver pool's table (its file is never read by `mlcost sql`), and amortisation
    let drivers = env.write(
        "drivers.toml",
        "[[shared]]\nid = \"gpu\"\nmatch = { service_name = \"EC2\" }\ntargets = { team = [\"a\"] }\nmethod = \"driver\"\ndriver = \"absent.csv\"\n\n[amortize]\ntraining_months = 3\n",
    );
    let configs = [
        (sample("sample_data/mlcost.toml"), None),
        (fixture("sql/every_expressible.toml"), None),
        (compliance_config(&env), None),
        (drivers, Some("--driver-table=gpu=ml.gpu_reads")),
    ];
    let mut files = Vec::new();
    for dialect in ["bigquery", "trino", "spark", "duckdb"] {
        for (c, (config, extra)) in configs.iter().enumerate() {
            for tags in ["json", "map", "struct"] {
                let file = env.path(&format!("{dialect}-{c}-{tags}.sql"));
                let r = env.run(&[
                    "sql",
                    "--dialect",
                    dialect,
                    "--config",
                    config.to_str().unwrap(),
                    "--requests-table",
                    "requests",
                    "--tags",
                    tags,
                    "--period",
                    "2026-10",
                    "--table",
                    "all",
                    "--out",
                    file.to_str().unwrap(),
                    extra.unwrap_or("--billing-table=focus_billing"),
                ]);
                assert_eq!(r.code, 0, "{}", r.stderr);
                files.push((dialect, file));
            }
        }
    }
    let script = env.write(
        "parse.py",
        "import sys, sqlglot\nfrom sqlglot.errors import ErrorLevel\nn = 0\nfor i in range(1, len(sys.argv), 2):\n    trees = [t for t in sqlglot.parse(open(sys.argv[i + 1]).read(), read=sys.argv[i], error_level=ErrorLevel.RAISE) if t]\n    assert len(trees) in (3, 4) and all(t.find(sqlglot.exp.Select) for t in trees), sys.argv[i + 1]\n    n += len(trees)\nprint(n)\n",
    );
    let mut cmd = Command::new("python3");
    cmd.arg(&script);
    for (dialect, file) in &files {
        cmd.arg(dialect).arg(file);
    }
    let out = cmd.output().expect("run python3");
    assert!(
        out.status.success(),
        "sqlglot could not parse:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 48 files of three queries (cost_by_model, unit_costs and tag_compliance), and
    // training_amortization in the 12 files of the config that amortises
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "156");
}

/// `--table unit_costs`: the phase columns, team, requests and the cost per request and per
/// 1,000 requests (rounded half away from zero at 18 decimals) of `attribute`'s unit_costs,
/// to the last decimal, with and without request volumes, in DuckDB, Spark and (through
/// sqlglot) Trino; `--table all` gives both queries.
#[test]
fn unit_costs_query_gives_the_rows_attribute_writes() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let basic = fixture("focus/basic.csv");
    let focus = sample("sample_data/focus_sample.csv");
    let requests = sample("sample_data/requests.csv");
    let config = sample("sample_data/mlcost.toml");
    let every = fixture("sql/every_expressible.toml");
    let unit = ["--table", "unit_costs"];
    let mut compared = 0;
    for engine in ["duckdb", "trino"] {
        compared += same_rows_with(engine, &basic, None, None, None, &unit).len();
        compared +=
            same_rows_with(engine, &focus, Some(&config), Some(&requests), None, &unit).len();
        compared +=
            same_rows_with(engine, &focus, Some(&every), Some(&requests), None, &unit).len();
    }
    let rows = same_rows_with("spark", &focus, Some(&config), Some(&requests), None, &unit);
    // the sample serves requests for most models: figures, not only reasons, were compared
    let priced = rows.iter().filter(|r| r[13] != "null").count();
    assert!(priced > 50, "only {priced} rows with a cost per request");
    assert!(compared > 300, "only {compared} rows compared");

    let env = TestEnv::new();
    let r = env.run(&["sql", "--dialect", "duckdb", "--table", "all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("-- Produces the rows of ").count(), 3);
    assert!(r.stdout.contains("-- Produces the rows of unit_costs;"));
    assert!(r.stdout.contains("-- Produces the rows of tag_compliance;"));
}

/// Required keys (one spelt with capitals and a space), aliases and allowed values (one
/// with white space and capitals) on the list basis, which leaves commitment purchases out.
fn compliance_config(env: &TestEnv) -> PathBuf {
    env.write(
        "compliance.toml",
        r#"[cost]
basis = "list"

[tags]
required = ["team", "model_id", "Environment ", "cost_center"]

[tags.aliases]
squad = "team"
env = "environment"

[tags.allowed]
environment = ["prod", " Staging"]
team = ["a", "b", "7"]
# allows no value: every cost center given is invalid
cost_center = []
"#,
    )
}

/// `--table tag_compliance`: per period, currency, resource, provider, account and problem,
/// the cost and rows `attribute` writes, to the last decimal, in DuckDB, Trino (through
/// sqlglot) and Spark, on hostile tag texts: broken JSON, a nested value, an array, Azure's
/// form without braces, conflicts and agreeing duplicates, null, number and boolean values,
/// aliases, allowed values, no tags, no resource or sub account, credits, two currencies and
/// months, and a commitment purchase the list basis leaves out.
#[test]
fn tag_compliance_query_gives_the_rows_attribute_writes() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    let head = "BillingPeriodStart,BillingCurrency,ChargeCategory,ProviderName,BillingAccountId,SubAccountId,ResourceId,Tags,BilledCost,EffectiveCost,ListCost,ContractedCost";
    let row = |period: &str, currency: &str, resource: &str, tags: &str, cost: &str| {
        format!(
            "{period},{currency},Usage,AWS,111,222,{resource},\"{}\",{cost},{cost},{cost},{cost}",
            tags.replace('"', "\"\"")
        )
    };
    let rows = [
        row(
            "2026-10-01",
            "USD",
            "r-ok",
            r#"{"team": "a", "model_id": "m", "env": " PROD", "cost_center": "c"}"#,
            "1.00",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-invalid",
            r#"{"team": "c", "model_id": "m", "environment": "dev", "cost_center": "c"}"#,
            "2.5",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-invalid",
            r#"{"team": "c", "model_id": "m", "environment": "dev", "cost_center": "c"}"#,
            "-0.25",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-conflict",
            r#"{"team": "a", "squad": "b", "model_id": "m"}"#,
            "3.125",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-agree",
            r#"{"team": "a", " TEAM": "A ", "model_id": "m", "environment": "staging"}"#,
            "4",
        ),
        row("2026-10-01", "USD", "r-broken", r#"{"team": "a""#, "5"),
        row(
            "2026-10-01",
            "USD",
            "r-nested",
            r#"{"team": "a", "x": {"y": 1}}"#,
            "6",
        ),
        row("2026-10-01", "USD", "r-array", r#"["team"]"#, "7"),
        row(
            "2026-10-01",
            "USD",
            "r-azure",
            r#""team": "b", "model_id": "m""#,
            "8",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-null",
            r#"{"team": null, "model_id": "", "cost_center": "c"}"#,
            "9",
        ),
        row(
            "2026-10-01",
            "USD",
            "r-typed",
            r#"{"team": 7, "model_id": true, "environment": "Staging", "cost_center": 1.5}"#,
            "10",
        ),
        row("2026-10-01", "USD", "r-literal", "null", "11"),
        row(
            "2026-10-01",
            "EUR",
            "r-invalid",
            r#"{"team": "c", "model_id": "m", "environment": "dev", "cost_center": "c"}"#,
            "12",
        ),
        row(
            "2026-11-01",
            "USD",
            "r-invalid",
            r#"{"team": "c", "model_id": "m", "environment": "dev", "cost_center": "c"}"#,
            "13",
        ),
        "2026-10-01,USD,Usage,AWS,111,,,,14,14,14,14".to_string(),
        "2026-10-01,USD,Usage,AWS,111,222,r-empty,\"{}\",15,15,15,15".to_string(),
        // a commitment purchase: counted on the billed basis, left out on the list basis
        "2026-10-01,USD,Purchase,AWS,111,222,sp,,400,0,400,400".to_string(),
    ];
    let billing = env.write("tags.csv", &format!("{head}\n{}\n", rows.join("\n")));
    let config = compliance_config(&env);
    let table = ["--table", "tag_compliance"];
    let problems = |got: &[Vec<String>], resource: &str| -> Vec<String> {
        got.iter()
            .filter(|r| r[1] == resource && r[6] == "USD" && r[0] == "2026-10")
            .map(|r| format!("{} {} {}", r[4], r[5], r[7]))
            .collect()
    };
    for engine in ["duckdb", "trino", "spark"] {
        let got = same_rows_with(engine, &billing, Some(&config), None, None, &table);
        // hand-checked: what each tag text gets wrong, with its cost and rows
        // `cost_center = []` allows no value: only its value is wrong here
        assert_eq!(problems(&got, "r-ok"), ["invalid:cost_center 1 1"]);
        assert_eq!(
            problems(&got, "r-invalid"),
            [
                "invalid:cost_center 2.25 2",
                "invalid:environment 2.25 2",
                "invalid:team 2.25 2"
            ]
        );
        assert_eq!(
            problems(&got, "r-conflict"),
            [
                "conflict:team 3.125 1",
                "missing:cost_center 3.125 1",
                "missing:environment 3.125 1"
            ]
        );
        assert_eq!(problems(&got, "r-agree"), ["missing:cost_center 4 1"]);
        for malformed in ["r-broken", "r-nested", "r-array", "r-literal"] {
            let p = problems(&got, malformed);
            assert_eq!(p.len(), 5, "{engine} {malformed}: {p:?}");
            assert!(p[0].starts_with("malformed:tags "), "{engine}: {p:?}");
        }
        assert_eq!(
            problems(&got, "r-azure"),
            ["missing:cost_center 8 1", "missing:environment 8 1"]
        );
        assert_eq!(
            problems(&got, "r-null"),
            [
                "invalid:cost_center 9 1",
                "missing:environment 9 1",
                "missing:model_id 9 1",
                "missing:team 9 1"
            ]
        );
        assert_eq!(problems(&got, "r-typed"), ["invalid:cost_center 10 1"]);
        assert_eq!(problems(&got, "r-empty").len(), 4);
        assert_eq!(problems(&got, "sp"), Vec::<String>::new());
        // no resource and no sub account: the billing account
        let none = got.iter().find(|r| r[1] == "null").unwrap();
        assert_eq!(none[3], "111", "{engine}: {none:?}");
        assert!(got.iter().any(|r| r[0] == "2026-11" && r[1] == "r-invalid"));
        assert!(got.iter().any(|r| r[6] == "EUR"));
    }
    // the billed basis counts the purchase; one month; the defaults; the sample's tags
    let billed = with_basis(&env, "", "billed");
    let got = same_rows_with(
        "duckdb",
        &billing,
        Some(&billed),
        None,
        Some("2026-10"),
        &table,
    );
    assert!(got.iter().any(|r| r[1] == "sp"));
    assert!(got.iter().all(|r| r[0] == "2026-10"));
    let basic = fixture("focus/basic.csv");
    let focus = sample("sample_data/focus_sample.csv");
    let sample_config = sample("sample_data/mlcost.toml");
    let mut compared = 0;
    for engine in ["duckdb", "trino"] {
        compared += same_rows_with(engine, &basic, None, None, None, &table).len();
        compared += same_rows_with(engine, &focus, Some(&sample_config), None, None, &table).len();
    }
    assert!(compared > 500, "only {compared} rows compared");
}

/// `examples/spark_attribute.py`, the job a user submits with `spark-submit`, run here in
/// local mode: it writes cost_by_model, unit_costs and tag_compliance partitioned by billing_period, and the
/// files hold `attribute`'s rows; a second run over one month replaces that month only.
#[test]
fn spark_job_writes_the_tables_attribute_writes() {
    if !modules_or_skip(&["pyspark"]) {
        return;
    }
    let env = TestEnv::new();
    let focus = sample("sample_data/focus_sample.csv");
    let requests = sample("sample_data/requests.csv");
    let config = sample("sample_data/mlcost.toml");
    let job = sample("examples/spark_attribute.py");
    let spark_out = env.path("spark");
    let mut queries = Vec::new();
    // unit_costs reads the rows the cost_by_model query wrote, as the docs say to run it
    for (table, extra) in [
        ("cost_by_model", None),
        ("unit_costs", Some("--cost-by-model-table=cost_by_model")),
        ("tag_compliance", None),
    ] {
        let file = env.path(&format!("{table}.sql"));
        let mut args = vec![
            "sql",
            "--dialect",
            "spark",
            "--table",
            table,
            "--requests-table",
            "requests",
            "--config",
            config.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ];
        args.extend(extra);
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        queries.push(format!("{table}={}", file.display()));
    }
    let run_job = |billing: &Path| {
        let out = Command::new("python3")
            .arg(&job)
            .args(["--billing", billing.to_str().unwrap()])
            .args(["--requests", requests.to_str().unwrap()])
            .args(["--out", spark_out.to_str().unwrap()])
            .args(["--query", &queries[0], "--query", &queries[1]])
            .args(["--query", &queries[2]])
            .env("PYSPARK_SUBMIT_ARGS", "--master local[2] --conf spark.ui.enabled=false --conf spark.driver.bindAddress=127.0.0.1 --conf spark.sql.shuffle.partitions=2 pyspark-shell")
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "the Spark job failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run_job(&focus);
    let sorted = |mut rows: Vec<Vec<String>>| {
        rows.sort();
        rows
    };
    let spark_rows = |table: &str| sorted(table_rows(&spark_out, table));
    for table in ["cost_by_model", "unit_costs", "tag_compliance"] {
        let want = sorted(attribute_rows(
            &env,
            table,
            &focus,
            Some(&config),
            Some(&requests),
            None,
        ));
        assert_eq!(spark_rows(table), want, "{table}");
        assert!(want.len() > 100, "{table}: {} rows", want.len());
    }
    // October alone, with its costs doubled: October is replaced, September kept
    let text = std::fs::read_to_string(&focus).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let october: Vec<&str> = lines
        .filter(|l| l.split(',').nth(3) == Some("2026-10-01T00:00:00Z"))
        .collect();
    assert!(!october.is_empty());
    let twice = env.write(
        "october.csv",
        &format!("{header}\n{}\n{}\n", october.join("\n"), october.join("\n")),
    );
    let september_before: Vec<Vec<String>> = spark_rows("cost_by_model")
        .into_iter()
        .filter(|r| r[0] == "2026-09")
        .collect();
    run_job(&twice);
    let after = spark_rows("cost_by_model");
    let september_after: Vec<Vec<String>> = after
        .iter()
        .filter(|r| r[0] == "2026-09")
        .cloned()
        .collect();
    assert_eq!(september_after, september_before, "September must be kept");
    let want = sorted(attribute_rows(
        &env,
        "cost_by_model",
        &twice,
        Some(&config),
        Some(&requests),
        None,
    ));
    let october_after: Vec<Vec<String>> = after.into_iter().filter(|r| r[0] == "2026-10").collect();
    assert_eq!(october_after, want, "October must be the new run's");
}

/// A generated month of a million rows (typed Parquet: microsecond timestamps, decimal(38,18)
/// costs, Tags as a map), with the sample config's rules and pools and request volumes: the
/// three queries give `attribute`'s rows in DuckDB, and cost_by_model in Spark, to the last
/// decimal.
#[test]
fn a_million_row_month_gives_the_rows_attribute_writes() {
    if !modules_or_skip(&["duckdb", "pyspark"]) {
        return;
    }
    let env = TestEnv::new();
    crate::sample::sample(
        &env,
        "m",
        &[
            "--rows",
            "1000000",
            "--format",
            "parquet",
            "--period-type",
            "timestamp-us",
            "--cost-type",
            "decimal38-18",
            "--tags",
            "map",
        ],
    );
    let file = env.path("m").join("focus_sample.parquet");
    let requests = env.path("m").join("requests.csv");
    let config = sample("sample_data/mlcost.toml");
    let mut compared = 0;
    for (engine, table) in [
        ("duckdb", "cost_by_model"),
        ("duckdb", "unit_costs"),
        ("duckdb", "tag_compliance"),
        ("spark", "cost_by_model"),
    ] {
        let rows = same_rows_with(
            engine,
            &file,
            Some(&config),
            Some(&requests),
            None,
            &["--tags", "map", "--table", table],
        );
        compared += rows.len();
    }
    assert!(compared > 500, "only {compared} rows compared");
}

/// White space as `attribute` trims it (tabs, line breaks, no-break spaces), not only spaces,
/// around periods, currencies, charge categories, commitment status, tag keys and values and
/// request dates; and a tag value that only looks like JSON (`"[beta]"`) is text, not a
/// nested value that would make the tags malformed. In DuckDB, Spark and Trino.
#[test]
fn white_space_and_json_looking_values_are_read_as_attribute_reads_them() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    let tags =
        |model: &str| format!("\"{{\"\"model_id\"\": \"\"{model}\"\", \"\"team\"\": \"\"t\"\"}}\"");
    let head = "BillingPeriodStart,BillingCurrency,ChargeCategory,CommitmentDiscountStatus,ProviderName,ServiceName,ResourceId,Tags,BilledCost,EffectiveCost,ListCost,ContractedCost";
    let rows = [
        format!("\"\t2026-10-01\",USD,Usage,,AWS,EC2,r1,{},1.00,1.00,1.00,1.00", tags("w1")),
        format!("\"2026-10-01\r\",USD,Usage,,AWS,EC2,r2,{},2.00,2.00,2.00,2.00", tags("w2")),
        format!("\"2026-10-01\u{a0}\",\"USD\t\",Usage,,AWS,EC2,r3,{},3.00,3.00,3.00,3.00", tags("w3")),
        format!("2026-10-01,USD,Usage,,AWS,EC2,r4,{},4.00,4.00,4.00,4.00", tags("\\tw4\u{2003}")),
        "2026-10-01,USD,Usage,,AWS,EC2,r5,\"{\"\"\\tmodel_id\"\": \"\"w5\"\", \"\"team\"\": \"\"t\"\"}\",5.00,5.00,5.00,5.00".to_string(),
        "2026-10-01,USD,Usage,,AWS,EC2,r6,\"{\"\"model_id\"\": \"\"j1\"\", \"\"note\"\": \"\"[beta]\"\", \"\"team\"\": \"\"{t}\"\"}\",6.00,6.00,6.00,6.00".to_string(),
        format!("2026-10-01,USD,\" Purchase\t\",,AWS,Savings Plans,sp,{},400,0,400,400", tags("w1")),
        format!("2026-10-01,USD,Usage,\"UNUSED\t\",AWS,Savings Plans,sp,{},7.00,7.00,7.00,7.00", tags("w2")),
    ];
    let billing = env.write("ws.csv", &format!("{head}\n{}\n", rows.join("\n")));
    let requests = env.write(
        "requests.csv",
        "date,model_id,requests\n\"2026-10-01\t\",w1,4\n2026-10-02,\" w1\u{a0}\",4\n2026-10-01,w4,10\n",
    );
    let list = env.write("list.toml", "[cost]\nbasis = \"list\"\n");
    for engine in ["duckdb", "spark", "trino"] {
        let got = same_rows_with(engine, &billing, None, None, None, &[]);
        let models: Vec<&str> = got.iter().map(|r| r[1].as_str()).collect();
        for m in ["w1", "w2", "w3", "w4", "w5", "j1"] {
            assert!(models.contains(&m), "{engine}: {m} in {models:?}");
        }
        same_rows_with(engine, &billing, Some(&list), None, None, &[]);
        let units = same_rows_with(
            engine,
            &billing,
            None,
            Some(&requests),
            None,
            &["--table", "unit_costs"],
        );
        let w1 = units.iter().find(|r| r[1] == "w1").unwrap();
        assert_eq!(
            w1[12], "8",
            "{engine}: w1's requests on two spellings of its days"
        );
    }
}

/// `driver` pools split by a driver table per pool (`--driver-table POOL=NAME`, the rows of the
/// driver file): months as `YYYY-MM`, a date and a US date, model ids in other cases and with
/// white space, a model's rows summed, a zero, a model without spend, 18-decimal quantities,
/// and pool targets; in DuckDB, Trino and Spark against `attribute`, which reads the files. A
/// bad driver row stops the query, as it stops `attribute`.
#[test]
fn driver_tables_split_as_driver_files_do() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    let focus = sample("sample_data/focus_sample.csv");
    let reads = env.write(
        "reads.csv",
        "period,model_id,quantity\n2026-09,recsys-ranker-v1,3\n2026-09, RECSYS-Retrieval-v1 ,1.5\n2026-09,recsys-retrieval-v1,0.5\n2026-09,ads-ranker-v4,0\n2026-09,ghost-model,100\n2026-10-01,recsys-ranker-v1,0.333333333333333333\n10/15/2026,ads-ranker-v4,0.666666666666666667\n2026-10-01T00:00:00Z,growth-ranker-v3,7\n",
    );
    let store = env.write(
        "store.csv",
        "period,model_id,quantity\n2026-09,recsys-ranker-v1,1\n2026-09,ads-ranker-v4,2\n2026-09,growth-ranker-v3,50\n2026-10,ads-retrieval-v4,1\n2026-10,recsys-ranker-v1,1\n",
    );
    let config = env.write(
        "drivers.toml",
        r#"[[rules]]
id = "feature-store"
match = { resource_id = "*feature-group/*" }
set = { model_id = "__shared_feature_store__" }

[[shared]]
id = "growth"
match = { sub_account_name = "ml-growth-prod" }
method = "driver"
driver = "reads.csv"

[[shared]]
id = "store"
match = { model_id = "__shared_feature_store__" }
targets = { team = ["recsys", "ads"] }
method = "driver"
driver = "store.csv"
"#,
    );
    let args = [
        "--driver-table",
        "growth=growth_reads",
        "--driver-table=store=store_reads",
    ];
    let tables = [
        ("growth_reads", reads.as_path()),
        ("store_reads", store.as_path()),
    ];
    for engine in ["duckdb", "trino", "spark"] {
        let got = same_rows_in(engine, &focus, Some(&config), None, None, &args, &tables);
        let shares = |pool: &str| -> Vec<String> {
            got.iter()
                .filter(|r| r[8] == pool)
                .map(|r| format!("{} {}", r[0], r[1]))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        // the ghost has no spend, ads-ranker-v4 a zero in September; growth-ranker-v3 is not
        // a target of the store pool (team growth)
        assert_eq!(
            shares("growth"),
            [
                "2026-09 recsys-ranker-v1",
                "2026-09 recsys-retrieval-v1",
                "2026-10 ads-ranker-v4",
                "2026-10 growth-ranker-v3",
                "2026-10 recsys-ranker-v1"
            ],
            "{engine}"
        );
        assert_eq!(
            shares("store"),
            [
                "2026-09 ads-ranker-v4",
                "2026-09 recsys-ranker-v1",
                "2026-10 ads-retrieval-v4",
                "2026-10 recsys-ranker-v1"
            ],
            "{engine}"
        );
    }
    // a bad row, in a month the run does not split, stops both
    let bad = env.write(
        "store.csv",
        "period,model_id,quantity\n2026-09,recsys-ranker-v1,1\n2025-01,ads-ranker-v4,-2\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        focus.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--out",
        env.path("out").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for engine in ["duckdb", "spark"] {
        let sql = env.path(&format!("bad.{engine}.sql"));
        let r = env.run(&[
            "sql",
            "--dialect",
            engine,
            "--config",
            config.to_str().unwrap(),
            "--driver-table",
            "growth=growth_reads",
            "--driver-table",
            "store=store_reads",
            "--period",
            "2026-09",
            "--out",
            sql.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = Command::new("python3")
            .arg(env.write("engine.py", ENGINE_SCRIPT))
            .arg(engine)
            .arg(&focus)
            .arg(&sql)
            .arg(format!("growth_reads={}", reads.display()))
            .arg(format!("store_reads={}", bad.display()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{engine} ran with a bad driver row");
        assert!(
            stderr.contains("the driver table store_reads of pool store has a row"),
            "{engine}: {stderr}"
        );
    }
    // a driver pool without its table is refused with its line; a table for no such pool, a
    // pool given twice, and an unknown pool for the compliance query too are usage errors
    let config = config.to_str().unwrap();
    for (args, wanted) in [
        (
            vec!["growth=g"],
            vec!["pool `store` (line 13)", "--driver-table store=NAME"],
        ),
        (
            vec!["growth=g", "store=s", "feature-store=x"],
            vec!["no shared pool `feature-store` with method `driver`"],
        ),
        (
            vec!["growth=a", "growth=a"],
            vec!["--driver-table growth=... is given twice"],
        ),
        (
            vec!["--table=tag_compliance", "growth=a", "nopool=b"],
            vec!["no shared pool `nopool`"],
        ),
    ] {
        let mut line = vec!["sql", "--dialect", "duckdb", "--config", config];
        for a in &args {
            if !a.starts_with("--") {
                line.push("--driver-table");
            }
            line.push(a);
        }
        let r = env.run(&line);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        for w in wanted {
            assert!(r.stderr.contains(w), "{args:?}: {}", r.stderr);
        }
    }
}

/// `[amortize] training_months = 3` (straight line): each month's training spend is charged in
/// equal shares over it and the next two months of the bill, with `attribute`'s rows for the
/// deferred balance, in DuckDB, Trino and Spark, for cost_by_model and unit_costs. The bill has
/// four months with a gap (September to November, then January: months of the bill, not of the
/// calendar), a training cost of two cents (one cent twice, then nothing) and a training
/// credit. With `--period`, the query reads the months before it whose training the month still
/// pays for and gives the month's rows of one `attribute` run over the whole bill.
#[test]
fn training_amortised_over_months_as_attribute_does() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    let text = std::fs::read_to_string(sample("sample_data/focus_sample.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let october: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|l| l.contains(",2026-10-01T00:00:00Z,2026-11-01"))
        .collect();
    assert!(october.len() > 100);
    let mut bill: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
    for month in ["2026-11-", "2027-01-"] {
        bill.extend(october.iter().map(|l| l.replace("2026-10-", month)));
    }
    // a training cost of two cents in September and a training credit in November
    let extra = |period: &str, model: &str, phase: &str, cost: &str| {
        format!("123456789012,Example Corp,USD,{period}T00:00:00Z,,{period}T00:00:00Z,,Usage,NULL,,,,AWS,AWS,AWS,Amazon SageMaker,AI and Machine Learning,us-east-1,train-{model},000010000000,ml-recsys-prod,\"{{\"\"team\"\": \"\"recsys\"\", \"\"model_id\"\": \"\"{model}\"\", \"\"lifecycle_phase\"\": \"\"{phase}\"\"}}\",{cost},{cost},{cost},{cost}")
    };
    bill.push(extra("2026-09-01", "tiny-model", "training", "0.02"));
    bill.push(extra("2026-09-01", "credit-model", "training", "3"));
    bill.push(extra("2026-11-01", "credit-model", "training", "-10.01"));
    // twelve decimals in November only: a run of November alone splits at twelve
    bill.push(extra(
        "2026-11-01",
        "precise-model",
        "inference",
        "0.123456789012",
    ));
    let billing = env.write("months.csv", &format!("{header}\n{}\n", bill.join("\n")));
    let config_text = std::fs::read_to_string(sample("sample_data/mlcost.toml")).unwrap();
    let config = env.write(
        "amortize.toml",
        &format!("{config_text}\n[amortize]\ntraining_months = 3\n"),
    );
    let requests = sample("sample_data/requests.csv");
    let mut compared = 0;
    for engine in ["duckdb", "trino", "spark"] {
        let got = same_rows_with(engine, &billing, Some(&config), None, None, &[]);
        let tiny: Vec<String> = got
            .iter()
            .filter(|r| r[1] == "tiny-model" && r[3] == "training")
            .map(|r| format!("{} {} {}", r[0], r[6], r[4]))
            .collect();
        // hand-computed: 0.02 over 3 months is 0.01, 0.01, 0
        assert_eq!(
            tiny,
            [
                "2026-09 deferred -0.01",
                "2026-09 direct 0.02",
                "2026-10 amortized 0.01"
            ],
            "{engine}"
        );
        let credit: Vec<String> = got
            .iter()
            .filter(|r| r[1] == "credit-model" && (r[6] == "deferred" || r[6] == "amortized"))
            .map(|r| format!("{} {} {}", r[0], r[6], r[4]))
            .collect();
        // 3 over September to November: 1 each; -10.01 over November, January (no December
        // in the bill) and a month after the bill: -3.34, -3.34, -3.33
        assert_eq!(
            credit,
            [
                "2026-09 deferred -2",
                "2026-10 amortized 1",
                "2026-11 amortized 1",
                "2026-11 deferred 6.67",
                "2027-01 amortized -3.34"
            ],
            "{engine}"
        );
        compared += got.len();
        // the schedules: hand-computed for the two cents, and every row against attribute's
        let schedules = same_rows_with(
            engine,
            &billing,
            Some(&config),
            None,
            None,
            &["--table", "training_amortization"],
        );
        let tiny: Vec<String> = schedules
            .iter()
            .filter(|r| r[1] == "tiny-model")
            .map(|r| format!("{} {} {} {} {}", r[0], r[4], r[6], r[7], r[8]))
            .collect();
        assert_eq!(
            tiny,
            ["2026-09 2026-09 0.01 0.01 2", "2026-10 2026-09 0.01 0 1"],
            "{engine}"
        );
        compared += schedules.len();
        if engine != "spark" {
            compared += same_rows_with(
                engine,
                &billing,
                Some(&config),
                Some(&requests),
                None,
                &["--table", "unit_costs"],
            )
            .len();
        }
    }
    // one month: its rows after `attribute` ran month by month, in order, into one output
    // (each month split at its own precision, the schedules carried from run to run)
    let whole = TestEnv::new();
    let out = whole.path("monthly");
    for month in ["2026-09", "2026-10", "2026-11", "2027-01"] {
        let r = whole.run(&[
            "attribute",
            "--billing",
            billing.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--period",
            month,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{month}: {}", r.stderr);
    }
    let want: Vec<Vec<String>> = table_rows(&out, "cost_by_model")
        .into_iter()
        .filter(|r| r[0] == "2027-01")
        .collect();
    let want_schedules: Vec<Vec<String>> = table_rows(&out, "training_amortization")
        .into_iter()
        .filter(|r| r[0] == "2027-01")
        .collect();
    assert!(!want_schedules.is_empty());
    let one_run: Vec<Vec<String>> =
        attribute_rows(&whole, "cost_by_model", &billing, Some(&config), None, None)
            .into_iter()
            .filter(|r| r[0] == "2027-01")
            .collect();
    assert_ne!(
        want, one_run,
        "the precision of November should change January's splits"
    );
    for engine in ["duckdb", "trino"] {
        let (got, _) = sql_rows(
            &whole,
            engine,
            &billing,
            Some(&config),
            None,
            Some("2027-01"),
            &[],
            &[],
        );
        assert_eq!(got, want, "{engine} --period 2027-01");
        let (got, _) = sql_rows(
            &whole,
            engine,
            &billing,
            Some(&config),
            None,
            Some("2027-01"),
            &["--table", "training_amortization"],
            &[],
        );
        assert_eq!(got, want_schedules, "{engine} --period 2027-01 schedules");
    }
    // without amortisation there is no such table to write
    let r = whole.run(&[
        "sql",
        "--dialect",
        "duckdb",
        "--table",
        "training_amortization",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("writes no training_amortization"),
        "{}",
        r.stderr
    );
    let r = whole.run(&[
        "sql",
        "--dialect",
        "duckdb",
        "--table",
        "all",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(
        r.stdout.matches("-- Produces the rows of ").count(),
        4,
        "{}",
        r.stderr
    );
    assert!(want.iter().any(|r| r[6] == "amortized"));
    assert!(compared > 3000, "only {compared} rows compared");
}

/// Amounts with an 18th decimal (Spark once counted their decimals at 17, which moved the
/// rounding of splits and amortisation), a leap second (`23:59:60`, the last second of its
/// minute as `attribute` reads it) and a fraction without digits (`00:00:00.Z`, no month), in
/// DuckDB, Trino and Spark (one session), for cost_by_model and training_amortization.
#[test]
fn eighteen_decimals_and_leap_seconds_as_attribute_reads_them() {
    if !modules_or_skip(&["duckdb", "pyspark", "sqlglot"]) {
        return;
    }
    let env = TestEnv::new();
    let head = "BillingPeriodStart,BillingCurrency,ChargeCategory,ProviderName,BillingAccountId,ServiceName,ResourceId,Tags,BilledCost,EffectiveCost,ListCost,ContractedCost";
    let row = |period: &str, service: &str, model: &str, phase: &str, cost: &str| {
        format!("{period},USD,Usage,AWS,1,{service},r-{model},\"{{\"\"team\"\": \"\"t\"\", \"\"model_id\"\": \"\"{model}\"\", \"\"lifecycle_phase\"\": \"\"{phase}\"\"}}\",{cost},{cost},{cost},{cost}")
    };
    let rows = [
        row(
            "2026-01-01",
            "EC2",
            "m1",
            "training",
            "0.000000000000000007",
        ),
        row(
            "2026-01-01",
            "EC2",
            "m2",
            "training",
            "100.000000000000000001",
        ),
        row(
            "2026-01-01",
            "Shared",
            "pool",
            "inference",
            "0.000000000000000003",
        ),
        row("2026-02-28T23:59:60Z", "EC2", "m1", "inference", "1"),
        row("2026-03-01T00:59:60+01:00", "EC2", "m2", "inference", "2"),
        row("2026-02-01T00:00:00.Z", "EC2", "m1", "inference", "4"),
        row("2026-03-01", "EC2", "m1", "inference", "8"),
    ];
    let billing = env.write("tiny.csv", &format!("{head}\n{}\n", rows.join("\n")));
    let config = env.write(
        "tiny.toml",
        "[[shared]]\nid = \"tiny\"\nmatch = { service_name = \"Shared\" }\nmethod = \"even\"\n\n[amortize]\ntraining_months = 3\n",
    );
    let tables = ["cost_by_model", "training_amortization"];
    let want: Vec<Vec<Vec<String>>> = tables
        .iter()
        .map(|t| attribute_rows(&env, t, &billing, Some(&config), None, None))
        .collect();
    // hand-checked: 7e-18 over three months is 3, 2, 2 quanta; a leap second in UTC stays in
    // its minute (February), one with an offset is the next minute's first (March)
    let m1: Vec<&str> = want[1]
        .iter()
        .filter(|r| r[1] == "m1")
        .map(|r| r[6].as_str())
        .collect();
    assert_eq!(
        m1,
        [
            "0.000000000000000003",
            "0.000000000000000002",
            "0.000000000000000002"
        ]
    );
    let direct = |month: &str, model: &str| {
        want[0]
            .iter()
            .any(|r| r[0] == month && r[1] == model && r[6] == "direct" && r[3] == "inference")
    };
    assert!(direct("2026-02", "m1") && direct("2026-03", "m2") && !direct("2026-02", "m2"));
    assert!(
        !want[0].iter().any(|r| r[4] == "4"),
        "the `.Z` row has no month"
    );
    for engine in ["duckdb", "trino"] {
        for (t, w) in tables.iter().zip(&want) {
            let (got, _) = sql_rows(
                &env,
                engine,
                &billing,
                Some(&config),
                None,
                None,
                &["--table", t],
                &[],
            );
            assert_eq!(&got, w, "{engine} {t}");
        }
    }
    let cases: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            let sql = emit_sql(
                &env,
                "spark",
                &format!("{t}.sql"),
                Some(&config),
                false,
                None,
                &["--table", t],
            );
            vec![billing.display().to_string(), sql.display().to_string()]
        })
        .collect();
    for ((t, w), (got, _)) in tables
        .iter()
        .zip(&want)
        .zip(run_engine(&env, "spark", &cases))
    {
        assert_eq!(&got, w, "spark {t}");
    }
}
