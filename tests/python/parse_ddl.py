"""Parses the DDL of `mlcost ddl` with sqlglot and checks what it declares: every statement
parses in the engine's sqlglot dialect, each table is created once in the given schema with
the columns and types of schemas/<table>.json, partitioned by billing_period, at
<location>/<table>. Run by tests/cli/warehouse.rs for the dialects no test can execute here
(Athena, BigQuery, Snowflake, Trino, Redshift), and for DuckDB and Spark as well.

Where sqlglot has no grammar for a statement it returns a `Command` (unparsed text); that is
accepted only for the statements listed in UNPARSED, each with the reason. BigQuery's
`WITH PARTITION COLUMNS (...)` clause is one: the statement is parsed without it, and the
clause's column list is parsed on its own.

Usage: parse_ddl.py --schemas DIR --tables a,b --case DIALECT FILE LOCATION SCHEMA [--case ...]
Exit code: 0 all checks pass, 1 a check failed, 2 sqlglot missing.
"""

import argparse
import json
import os
import re
import sys

# sqlglot's dialect for each of ours: all are sqlglot dialects of the same name
SQLGLOT = {
    "duckdb": "duckdb",
    "spark": "spark",
    "athena": "athena",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "trino": "trino",
    "redshift": "redshift",
}

# (dialect, statement prefix) that sqlglot leaves unparsed, and why that is acceptable
UNPARSED = {
    ("spark", "MSCK REPAIR TABLE"): "sqlglot has no MSCK grammar (executed by the Spark test)",
    ("trino", "CALL "): "sqlglot has no CALL grammar",
    ("redshift", "CREATE EXTERNAL SCHEMA"): "sqlglot has no grammar for Spectrum's external schema",
}

BQ_PARTITIONS = re.compile(r"\nWITH PARTITION COLUMNS \((.*?)\n\)\n", re.S)


def statements(path):
    with open(path) as f:
        body = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("--"))
    return [s.strip().rstrip(";").strip() for s in body.split(";\n") if s.strip().rstrip(";").strip()]


def norm_type(dt):
    """A sqlglot DataType as schemas/*.json writes it."""
    from sqlglot import exp

    t = dt.this
    params = [p.sql() for p in dt.expressions]
    if t in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR):
        return "string"
    if t == exp.DataType.Type.BIGINT:
        return "int64"
    if t == exp.DataType.Type.DECIMAL and params == ["38", "18"]:
        return "decimal(38,18)"
    # BigQuery's BIGNUMERIC: 76 digits, 38 decimals; what decimal(38,18) maps to there
    if t == exp.DataType.Type.BIGDECIMAL and not params:
        return "decimal(38,18)"
    return dt.sql()


def check_file(dialect, path, location, schema, tables, schemas):
    import sqlglot
    from sqlglot import exp

    failures, notes = [], []
    read = SQLGLOT[dialect]
    creates = {}
    loc = location.rstrip("/")
    schema_parts = schema.split(".")
    stage_urls = []
    for s in statements(path):
        partition_cols = None
        body = s
        if dialect == "bigquery" and s.startswith("CREATE OR REPLACE EXTERNAL TABLE"):
            m = BQ_PARTITIONS.search(s)
            if not m:
                failures.append(f"{dialect}: no WITH PARTITION COLUMNS in {s[:80]!r}")
                continue
            body = s[: m.start()] + "\n" + s[m.end():]
            part = sqlglot.parse_one(f"CREATE TABLE t ({m.group(1)})", read=read)
            partition_cols = [(c.name, norm_type(c.args["kind"])) for c in part.find_all(exp.ColumnDef)]
            notes.append("sqlglot has no grammar for WITH PARTITION COLUMNS: parsed without it, and its column list alone")
        try:
            e = sqlglot.parse_one(body, read=read)
        except sqlglot.errors.ParseError as err:
            failures.append(f"{dialect}: does not parse: {err}\n{s}")
            continue
        if isinstance(e, exp.Command):
            why = next((r for (d, p), r in UNPARSED.items() if d == dialect and s.startswith(p)), None)
            if why is None:
                failures.append(f"{dialect}: sqlglot could not parse {s[:100]!r}")
            else:
                notes.append(why)
            continue
        if not isinstance(e, exp.Create):
            continue  # ALTER TABLE ... ADD PARTITION (Redshift), parsed
        if e.args.get("kind") == "STAGE":
            stage_urls += [l.this for l in e.find_all(exp.Literal) if l.is_string]
            continue
        if e.args.get("kind") not in ("TABLE", "VIEW"):
            continue
        table = e.find(exp.Table)
        parts = [p.name for p in table.parts]
        name = parts[-1].lower()
        if [p.lower() for p in parts[:-1]] != [p.lower() for p in schema_parts]:
            failures.append(f"{dialect} {name}: created in {parts[:-1]}, not {schema_parts}")
        if dialect == "duckdb":
            cols = [(c.alias, norm_type(c.this.args["to"])) for c in e.expression.expressions]
        else:
            cols = [(c.name, norm_type(c.args["kind"])) for c in e.find_all(exp.ColumnDef)]
        cols += partition_cols or []
        creates.setdefault(name, []).append((e, cols, body))

    for table in tables:
        with open(os.path.join(schemas, f"{table}.json")) as f:
            want = sorted((c["name"], c["type"]) for c in json.load(f)["columns"])
        found = creates.get(table, [])
        if len(found) != 1:
            failures.append(f"{dialect} {table}: created {len(found)} times")
            continue
        e, cols, body = found[0]
        have = sorted((n.lower(), t) for n, t in cols)
        if have != want:
            failures.append(f"{dialect} {table}: columns {sorted(set(have) ^ set(want))} differ from the schema")
        strings = [l.this for l in e.find_all(exp.Literal) if l.is_string]
        target = f"{loc}/{table}"
        if dialect == "snowflake":
            # the table reads <stage>/<table>/; the stage is created over the location
            if f"/{table}/" not in body.split("LOCATION = ", 1)[-1].split("\n", 1)[0]:
                failures.append(f"{dialect} {table}: LOCATION is not the stage's {table}/")
            if not location.startswith("@") and f"{loc}/" not in stage_urls:
                failures.append(f"{dialect}: no stage over {loc}/ (found {stage_urls})")
        elif dialect == "duckdb":
            if f"{target}/billing_period=*/*.parquet" not in strings:
                failures.append(f"{dialect} {table}: does not read {target} (literals {strings[:3]})")
        elif not any(s.rstrip("/") == target for s in strings):
            failures.append(f"{dialect} {table}: location {target} is not a literal of it ({strings[:3]})")
        partitioned = {
            "duckdb": lambda: "hive_partitioning" in body,
            "bigquery": lambda: True,  # the WITH PARTITION COLUMNS clause was parsed above
            "trino": lambda: any(
                p.name == "partitioned_by" and "billing_period" in p.sql(read)
                for p in e.find_all(exp.Property)
            ) or e.find(exp.PartitionedByProperty) is not None,
        }.get(dialect, lambda: e.find(exp.PartitionedByProperty) is not None)
        if not partitioned():
            failures.append(f"{dialect} {table}: no partition clause")
    return failures, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--tables", required=True)
    ap.add_argument("--case", nargs=4, action="append", required=True,
                    metavar=("DIALECT", "FILE", "LOCATION", "SCHEMA"))
    args = ap.parse_args()
    try:
        import sqlglot
    except ImportError as e:
        print(f"cannot import sqlglot: {e}", file=sys.stderr)
        return 2
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # Command fallbacks are reported below
    failures = []
    for dialect, path, location, schema in args.case:
        f, notes = check_file(dialect, path, location, schema, args.tables.split(","), args.schemas)
        failures += f
        status = "FAILED" if f else "ok"
        print(f"{dialect}: {status}, parsed by sqlglot {sqlglot.__version__} read={SQLGLOT[dialect]}"
              + "".join(f"\n  {n} ({notes.count(n)} statements)" for n in sorted(set(notes))))
    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
