"""Reads every mlcost output table with every client a warehouse user has at hand, and checks
they all see the same thing: the types of schemas/<table>.json, the same rows, the same sums.

Clients: pyarrow (this Python's), an older pyarrow (another Python, `--old-python`), pandas,
polars, DuckDB and Spark (local mode, one JVM for every table). Each reads each table twice:
as a Hive-partitioned dataset (the recipe in README "Load into your warehouse") and one
partition file alone, with billing_period taken from its directory. DuckDB and Spark also run
the DDL of `mlcost ddl` (`--ddl duckdb=FILE --ddl spark=FILE`) and read the tables it creates.

Per table and read, a client reports: the column types (string, decimal(38,18), int64), the
row count, the sum of every decimal column (exact text) and a digest of every value of every
row. All must agree with each other and with the schema; run by tests/cli/warehouse.rs, which
also holds them against its own reading of the files.

`--client NAME` runs one client and prints its report as JSON (the old pyarrow runs this way).
A client that cannot be imported is skipped with a message, or is a failure with `--require`.
Exit code: 0 all agree, 1 a mismatch or a required client missing, 2 bad usage.
"""

import argparse
import decimal
import glob
import hashlib
import json
import os
import subprocess
import sys
import time
from decimal import Decimal

decimal.getcontext().prec = 80
QUANTUM = Decimal(1).scaleb(-18)
PARTITION = "billing_period"


def text(v):
    """One value as exact text: decimals at 18 places, null as \\N."""
    if v is None or (type(v).__name__ in ("NAType", "NaTType")):
        return "\\N"
    if isinstance(v, Decimal):
        return str(v.quantize(QUANTUM))
    if isinstance(v, float):
        raise TypeError(f"a float ({v!r}) where an exact value was expected")
    return str(v)


def report(types, columns, rows, sums):
    """types: {name: normalised type}; columns: names in schema order; rows: dicts."""
    lines = sorted("\x1f".join(text(r[c]) for c in columns) for r in rows)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {
        "types": types,
        "rows": len(lines),
        "sums": {c: text(Decimal(0) if s is None else s) for c, s in sorted(sums.items())},
        "digest": digest,
    }


def arrow_type(t):
    s = str(t)
    return {"decimal128(38, 18)": "decimal(38,18)"}.get(s, s)


def schema(schemas, table):
    with open(os.path.join(schemas, f"{table}.json")) as f:
        return json.load(f)


def one_file(out, table):
    """The newest partition's file and its period."""
    files = sorted(glob.glob(os.path.join(glob.escape(out), table, f"{PARTITION}=*", "*.parquet")))
    path = files[-1]
    period = os.path.basename(os.path.dirname(path)).split("=", 1)[1]
    return path, period


# ---- clients -------------------------------------------------------------------------------
# Each returns {table: {"dataset": report, "file": report[, "ddl": report]}} and its version.


def read_pyarrow(out, tables, schemas, ddl):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    def rep(t, columns):
        types = {f.name: arrow_type(f.type) for f in t.schema}
        decimals = [f.name for f in t.schema if pa.types.is_decimal(f.type)]
        sums = {c: pc.sum(t[c], min_count=0).as_py() for c in decimals}
        return report(types, columns, t.to_pylist(), sums)

    result = {}
    for table in tables:
        columns = [c["name"] for c in schema(schemas, table)["columns"]]
        # the README recipe: a dataset with Hive partitioning (billing_period is a string)
        t = ds.dataset(os.path.join(out, table), format="parquet", partitioning="hive").to_table()
        path, period = one_file(out, table)
        f = pq.read_table(path)
        f = f.append_column(PARTITION, pa.array([period] * f.num_rows, pa.string()))
        result[table] = {"dataset": rep(t, columns), "file": rep(f, columns)}
    return pa.__version__, result


def read_pandas(out, tables, schemas, ddl):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    hive = ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")

    def rep(df, columns):
        types = {}
        for c in df.columns:
            dt = df[c].dtype
            types[c] = arrow_type(dt.pyarrow_dtype) if hasattr(dt, "pyarrow_dtype") else str(dt)
        decimals = [c for c in df.columns if types[c].startswith("decimal")]
        sums = {c: df[c].sum() for c in decimals}
        rows = [{c: r[i] for i, c in enumerate(df.columns)} for r in df.itertuples(index=False)]
        return report(types, columns, rows, sums)

    result = {}
    for table in tables:
        columns = [c["name"] for c in schema(schemas, table)["columns"]]
        # Arrow-backed dtypes keep decimals exact and nullable ints as ints
        df = pd.read_parquet(os.path.join(out, table), dtype_backend="pyarrow", partitioning=hive)
        path, period = one_file(out, table)
        f = pd.read_parquet(path, dtype_backend="pyarrow")
        f[PARTITION] = pd.Series([period] * len(f), dtype=pd.ArrowDtype(pa.string()))
        result[table] = {"dataset": rep(df, columns), "file": rep(f, columns)}
    return pd.__version__, result


def read_polars(out, tables, schemas, ddl):
    import polars as pl

    def norm(dt):
        if dt == pl.String:
            return "string"
        if dt == pl.Int64:
            return "int64"
        if isinstance(dt, pl.Decimal):
            return f"decimal({dt.precision},{dt.scale})"
        return str(dt)

    def rep(df, columns):
        types = {c: norm(dt) for c, dt in df.schema.items()}
        decimals = [c for c, dt in df.schema.items() if isinstance(dt, pl.Decimal)]
        sums = {c: df[c].sum() for c in decimals}
        return report(types, columns, df.rows(named=True), sums)

    result = {}
    for table in tables:
        columns = [c["name"] for c in schema(schemas, table)["columns"]]
        # a glob: a directory would take in _manifest.json and _SUCCESS
        pattern = os.path.join(out, table, "*", "*.parquet")
        df = pl.read_parquet(pattern, hive_partitioning=True, hive_schema={PARTITION: pl.String})
        path, period = one_file(out, table)
        f = pl.read_parquet(path).with_columns(pl.lit(period, dtype=pl.String).alias(PARTITION))
        result[table] = {"dataset": rep(df, columns), "file": rep(f, columns)}
    return pl.__version__, result


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def read_duckdb(out, tables, schemas, ddl):
    import duckdb

    con = duckdb.connect()
    names = {"VARCHAR": "string", "BIGINT": "int64", "DECIMAL(38,18)": "decimal(38,18)"}

    def rep(relation, columns):
        desc = con.execute(f"DESCRIBE {relation}").fetchall()
        types = {r[0]: names.get(r[1], r[1]) for r in desc}
        decimals = [c for c, t in types.items() if t.startswith("decimal")]
        cur = con.execute(f"SELECT * FROM {relation}")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        sums = {}
        for c in decimals:
            sums[c] = con.execute(f'SELECT COALESCE(SUM("{c}"), 0) FROM {relation}').fetchone()[0]
        return report(types, columns, rows, sums)

    if "duckdb" in ddl:
        with open(ddl["duckdb"]) as f:
            con.execute(f.read())
    result = {}
    for table in tables:
        columns = [c["name"] for c in schema(schemas, table)["columns"]]
        pattern = os.path.join(out, table, "*", "*.parquet")
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW d AS SELECT * FROM read_parquet({sql_lit(pattern)}, hive_partitioning = true)"
        )
        path, period = one_file(out, table)
        con.execute(
            # DuckDB reads `key=value` directories of a single path too: turned off to read the
            # file alone
            f"CREATE OR REPLACE TEMP VIEW f AS SELECT *, {sql_lit(period)} AS {PARTITION} "
            f"FROM read_parquet({sql_lit(path)}, hive_partitioning = false)"
        )
        result[table] = {"dataset": rep("d", columns), "file": rep("f", columns)}
        if "duckdb" in ddl:
            result[table]["ddl"] = rep(f"mlcost.{table}", columns)
    return duckdb.__version__, result


def statements(path):
    """The statements of a DDL script (each ends with `;` at the end of a line; literals never
    hold a line break), without comment lines."""
    with open(path) as f:
        body = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip().rstrip(";").strip()]


def read_spark(out, tables, schemas, ddl):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import tempfile
    import warnings

    warnings.filterwarnings("ignore", message=".*pandas.*")

    import pyspark
    from pyspark.sql import SparkSession, functions as F
    from pyspark.sql import types as T

    warehouse = tempfile.mkdtemp(prefix="mlcost-spark-")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mlcost-read-outputs")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    def norm(dt):
        if isinstance(dt, T.StringType):
            return "string"
        if isinstance(dt, T.LongType):
            return "int64"
        if isinstance(dt, T.DecimalType):
            return f"decimal({dt.precision},{dt.scale})"
        return dt.simpleString()

    def rep(df, columns):
        types = {f.name: norm(f.dataType) for f in df.schema.fields}
        decimals = [c for c, t in types.items() if t.startswith("decimal")]
        rows = [r.asDict() for r in df.collect()]
        sums = {}
        if decimals:
            agg = df.agg(*[F.coalesce(F.sum(F.col(f"`{c}`")), F.lit(0)).alias(c) for c in decimals]).collect()[0]
            sums = {c: agg[c] for c in decimals}
        return report(types, columns, rows, sums)

    try:
        if "spark" in ddl:
            for s in statements(ddl["spark"]):
                spark.sql(s)
        result = {}
        for table in tables:
            columns = [c["name"] for c in schema(schemas, table)["columns"]]
            df = spark.read.parquet(os.path.join(out, table))
            path, period = one_file(out, table)
            f = spark.read.parquet(path).withColumn(PARTITION, F.lit(period).cast("string"))
            result[table] = {"dataset": rep(df, columns), "file": rep(f, columns)}
            if "spark" in ddl:
                result[table]["ddl"] = rep(spark.table(f"mlcost.{table}"), columns)
        return pyspark.__version__, result
    finally:
        spark.stop()


CLIENTS = {
    "pyarrow": (read_pyarrow, "pyarrow"),
    "pandas": (read_pandas, "pandas"),
    "polars": (read_polars, "polars"),
    "duckdb": (read_duckdb, "duckdb"),
    "spark": (read_spark, "pyspark"),
}


def run_client(name, args, tables, ddl):
    func, module = CLIENTS[name]
    try:
        __import__(module)
    except ImportError as e:
        return None, f"cannot import {module}: {e}"
    started = time.time()
    version, result = func(args.out, tables, args.schemas, ddl)
    return {"version": version, "seconds": round(time.time() - started, 1), "tables": result}, None


def run_old(args, tables):
    """The older pyarrow, in its own Python, through `--client pyarrow`."""
    if not args.old_python:
        return None, "no --old-python (a Python with an older pyarrow, e.g. a venv with pyarrow 14)"
    cmd = [args.old_python, os.path.abspath(__file__), "--client", "pyarrow", "--out", args.out,
           "--schemas", args.schemas, "--tables", ",".join(tables)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"{args.old_python} failed ({p.returncode}): {p.stderr.strip()[-2000:]}"
    return json.loads(p.stdout), None


def compare(clients, tables, schemas):
    """Failures: every client and read against the schema, and against the first client."""
    failures = []
    base_name = next(iter(clients))
    for table in tables:
        want = {c["name"]: c["type"] for c in schema(schemas, table)["columns"]}
        base = clients[base_name]["tables"][table]["dataset"]
        base_file = clients[base_name]["tables"][table]["file"]
        for name, c in clients.items():
            for read, r in c["tables"][table].items():
                where = f"{name} {c['version']} {table} ({read})"
                if r["types"] != want:
                    diff = {k: (r["types"].get(k), want.get(k)) for k in set(want) | set(r["types"])
                            if r["types"].get(k) != want.get(k)}
                    failures.append(f"{where}: types differ from the schema (read, schema): {diff}")
                ref = base_file if read == "file" else base
                for key in ("rows", "sums", "digest"):
                    if r[key] != ref[key]:
                        failures.append(f"{where}: {key} {r[key]} != {ref[key]} ({base_name})")
    return failures


def matrix(clients, tables, failures):
    """The client x table table of the README: `ok` when every read of the table by the client
    matched the schema and every other client."""
    head = "| client (reads) | " + " | ".join(f"`{t}`" for t in tables) + " |"
    lines = [head, "|---|" + "---|" * len(tables)]
    for name, c in clients.items():
        reads = sorted({r for t in tables for r in c["tables"][t]}, key=["dataset", "file", "ddl"].index)
        cells = []
        for t in tables:
            bad = any(f.startswith(f"{name} {c['version']} {t} (") for f in failures)
            cells.append(f"{'MISMATCH' if bad else 'ok'}, {c['tables'][t]['dataset']['rows']} rows")
        label = {"pyarrow-old": "pyarrow", "spark": "Spark (pyspark)", "duckdb": "DuckDB"}.get(name, name)
        lines.append(f"| {label} {c['version']} ({', '.join(reads).replace('ddl', 'DDL')}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory of mlcost attribute")
    ap.add_argument("--schemas", required=True, help="the schemas/ directory")
    ap.add_argument("--tables", required=True, help="comma-separated table names")
    ap.add_argument("--client", choices=sorted(CLIENTS), help="run one client, print its JSON")
    ap.add_argument("--old-python", help="a Python whose pyarrow is older")
    ap.add_argument("--ddl", action="append", default=[], help="duckdb=FILE or spark=FILE")
    ap.add_argument("--clients", default="pyarrow,pyarrow-old,pandas,polars,duckdb,spark",
                    help="comma-separated clients to run (default: all)")
    ap.add_argument("--require", action="store_true", help="a missing client is a failure")
    ap.add_argument("--report", help="write every client's report as JSON here")
    args = ap.parse_args()
    tables = args.tables.split(",")
    ddl = dict(d.split("=", 1) for d in args.ddl)

    if args.client:
        result, missing = run_client(args.client, args, tables, ddl)
        if missing:
            print(missing, file=sys.stderr)
            return 1
        print(json.dumps(result))
        return 0

    clients, missing = {}, []
    for name in args.clients.split(","):
        if name == "pyarrow-old":
            result, why = run_old(args, tables)
        else:
            result, why = run_client(name, args, tables, ddl)
        if why:
            missing.append(f"{name}: {why}")
        else:
            clients[name] = result
            print(f"{name} {result['version']}: read in {result['seconds']} s", file=sys.stderr)
    if "pyarrow-old" in clients and "pyarrow" in clients:
        old, new = clients["pyarrow-old"]["version"], clients["pyarrow"]["version"]
        if int(old.split(".")[0]) > int(new.split(".")[0]) - 2:
            missing.append(f"pyarrow-old: {old} is not two major versions older than {new}")
    for m in missing:
        print(("MISSING " if args.require else "skipped ") + m, file=sys.stderr)
    failures = compare(clients, tables, args.schemas) if clients else []
    for f in failures:
        print("MISMATCH " + f, file=sys.stderr)
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"clients": clients, "missing": missing}, f, indent=1)
    print(matrix(clients, tables, failures))
    return 1 if failures or (missing and args.require) else 0


if __name__ == "__main__":
    sys.exit(main())
