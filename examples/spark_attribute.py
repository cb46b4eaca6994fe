"""Run mlcost's attribution on Spark and write its tables as `mlcost attribute` does.

    mlcost sql --dialect spark --config mlcost.toml --table cost_by_model \
        --requests-table requests --out cost_by_model.sql
    mlcost sql --dialect spark --config mlcost.toml --table unit_costs \
        --cost-by-model-table cost_by_model --requests-table requests --out unit_costs.sql
    spark-submit examples/spark_attribute.py --billing s3://bucket/focus/2026-10/ \
        --requests s3://bucket/requests.csv --out s3://bucket/mlcost \
        --query cost_by_model=cost_by_model.sql --query unit_costs=unit_costs.sql

--billing is a Parquet file or folder, a CSV file (every column read as text), or a table name
in the metastore; FOCUS columns it lacks are read as NULL. --requests (optional) is a CSV file
or a table with the columns date, model_id, requests. --view NAME=SOURCE (repeatable) makes any
other table the queries read, such as a driver table (`mlcost sql --driver-table POOL=NAME`),
readable under NAME from a CSV file, a Parquet path or a table. Each query's rows are written to
<out>/<table>/billing_period=YYYY-MM/ as Parquet, replacing only the months the run produced
(dynamic partition overwrite), as `mlcost attribute` replaces the months it attributes; a
month the run has nothing for is left as it was. Each query's rows are also kept as a view
named after its table, so a later query can read them (`--cost-by-model-table`). Runs with
`python3` too (Spark's local mode).
"""

import argparse
import os
import sys
import time

FOCUS = [
    "BillingPeriodStart", "BillingCurrency", "ProviderName", "BillingAccountId",
    "SubAccountId", "SubAccountName", "ServiceName", "ServiceCategory", "ResourceId",
    "ResourceName", "RegionId", "ChargeCategory", "ChargeClass", "CommitmentDiscountStatus",
    "Tags", "EffectiveCost", "BilledCost", "ListCost", "ContractedCost",
]


def read_source(spark, source):
    """A Parquet path, a CSV file (all text) or a table name, as a DataFrame."""
    lower = source.lower()
    if lower.endswith(".csv") or lower.endswith(".csv.gz"):
        # multiLine: a quoted field may hold a line break (RFC 4180)
        return spark.read.csv(source, header=True, inferSchema=False, nullValue="NULL",
                              emptyValue=None, escape='"', multiLine=True)
    if "/" in source or lower.endswith(".parquet"):
        return spark.read.parquet(source)
    return spark.table(source)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--billing", required=True, help="FOCUS export: Parquet path, CSV file or table")
    parser.add_argument("--requests", help="request volumes: CSV file or table (date, model_id, requests)")
    parser.add_argument("--out", required=True, help="output folder (local, hdfs://, s3://, ...)")
    parser.add_argument("--query", action="append", required=True, metavar="TABLE=FILE",
                        help="a table and the file of its `mlcost sql --dialect spark --table TABLE` query")
    parser.add_argument("--view", action="append", default=[], metavar="NAME=SOURCE",
                        help="another table the queries read (a driver table): CSV file, Parquet path or table")
    parser.add_argument("--billing-view", default="focus_billing",
                        help="the name the queries read the bill under (`mlcost sql --billing-table`)")
    parser.add_argument("--requests-view", default="requests",
                        help="the name the queries read the volumes under (`mlcost sql --requests-table`)")
    args = parser.parse_args()

    views = []
    for item in args.view:
        name, _, source = item.partition("=")
        if not name or not source:
            parser.error(f"--view {item!r}: expected NAME=SOURCE")
        views.append((name, source))
    if args.requests:
        views.append((args.requests_view, args.requests))
    queries = []
    for item in args.query:
        table, _, path = item.partition("=")
        if not table or not path:
            parser.error(f"--query {item!r}: expected TABLE=FILE")
        with open(path, encoding="utf-8") as f:
            queries.append((table, f.read().strip().rstrip(";")))

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession, functions as F

    spark = (SparkSession.builder.appName("mlcost-attribute")
             # a Tags struct may hold keys that differ only in case, as mlcost reads them
             .config("spark.sql.caseSensitive", "true")
             .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
             .getOrCreate())
    started = time.time()
    bill = read_source(spark, args.billing)
    bill.select(*[F.col(f"`{c}`") if c in bill.columns else F.lit(None).cast("string").alias(c)
                  for c in FOCUS]).createOrReplaceTempView(args.billing_view)
    for name, source in views:
        read_source(spark, source).createOrReplaceTempView(name)
    for table, query in queries:
        # kept, and readable by the next queries under the table's name
        # (`mlcost sql --table unit_costs --cost-by-model-table cost_by_model`)
        rows = spark.sql(query).cache()
        rows.createOrReplaceTempView(table)
        # one file per month, as attribute writes (a month's rows are few: one per model)
        (rows.repartition("billing_period").write.mode("overwrite").partitionBy("billing_period")
         .parquet(f"{args.out.rstrip('/')}/{table}"))
        print(f"{table}: {rows.count()} rows written under {args.out}/{table}", file=sys.stderr)
    print(f"spark_attribute: {time.time() - started:.1f} s", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main()
