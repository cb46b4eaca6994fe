"""The attribution job of `mlcost attribute` in DuckDB and in ClickHouse (chdb), written as each
engine's experts would, for `benches/attribute.rs`.

    python3 benches/peers.py duckdb|clickhouse TAGS SOURCE REQUESTS OUT [text-costs]

TAGS says how the export holds its tags: `json` (FOCUS Tags as JSON text), `map` (FOCUS Tags as
a Parquet map), `struct` (FOCUS Tags as a Parquet struct), `cur` (AWS CUR, one
`resource_tags_user_<key>` column per tag) or `cur2` (AWS CUR 2.0, a `resource_tags` map).
SOURCE is a file, a glob of files, or a CSV file. The job: the month of each line item, the
model, team and lifecycle phase from its tags (one JSON parse per row, all three paths at
once), the cost summed by month, model, team and phase, monthly requests joined, cost per
request, written as Parquet. Costs are summed as the engine reads them (a double stays a
double): neither engine is asked for exact decimals. With `text-costs` (a Parquet export whose
costs are strings) each engine casts them to decimal(38,10) first.
"""
import sys

engine, tags, source, requests, out = sys.argv[1:6]
text_costs = sys.argv[6:7] == ["text-costs"]
csv = source.endswith(".csv") or source.endswith(".csv.gz")

# How each engine reads the month, the cost and the three tags; only JSON text differs between
# them (each engine's one-parse-per-row function), the other shapes read alike.
JSON_TAGS = {
    # `try` makes a malformed Tags null (exports carry a few), as `json_valid` would, without
    # a second pass over the text
    "duckdb": ("try(json_extract_string(Tags, ['$.model_id', '$.team', '$.lifecycle_phase'])) as t",
               ("t[1]", "t[2]", "t[3]")),
    # a tuple type: one parse per row for the three keys; a malformed Tags gives empty strings
    "clickhouse": ("JSONExtract(ifNull(Tags, ''), 'Tuple(model_id Nullable(String), team Nullable(String), lifecycle_phase Nullable(String))') as t",
                   ("t.1", "t.2", "t.3")),
}
FOCUS = ("BillingPeriodStart", "EffectiveCost")
CUR = ("bill_billing_period_start_date", "line_item_unblended_cost")
SHAPES = {
    "map": (FOCUS, "Tags as t", ("t['model_id']", "t['team']", "t['lifecycle_phase']")),
    "struct": (FOCUS, "Tags as t", ("t.model_id", "t.team", "t.lifecycle_phase")),
    "cur": (CUR, "resource_tags_user_model_id as m, resource_tags_user_team as tm, resource_tags_user_lifecycle_phase as ph",
            ("m", "tm", "ph")),
    "cur2": (CUR, "resource_tags as t", ("t['user_model_id']", "t['user_team']", "t['user_lifecycle_phase']")),
}
if engine not in JSON_TAGS:
    sys.exit(f"unknown engine {engine}")
if tags == "json":
    (period, cost), (keys, (model, team, phase)) = FOCUS, JSON_TAGS[engine]
elif tags in SHAPES:
    (period, cost), keys, (model, team, phase) = SHAPES[tags]
else:
    sys.exit(f"unknown tags {tags}")

if engine == "duckdb":
    import duckdb

    con = duckdb.connect()
    con.sql("set TimeZone = 'UTC'")
    relation = f"read_csv('{source}')" if csv else f"read_parquet('{source}')"
    if text_costs:
        cost = f"cast({cost} as decimal(38,10))"
    con.sql(f"""
    copy (
      with src as (select {period} as p, {cost} as c, {keys} from {relation}),
      b as (
        select strftime(cast(p as timestamp), '%Y-%m') as period,
               coalesce({model}, '__unallocated__') as model_id,
               {team} as team, {phase} as lifecycle_phase, sum(c) as cost
        from src group by all),
      r as (select strftime(cast(date as date), '%Y-%m') as period, model_id, sum(requests) as requests
            from read_csv('{requests}') group by all)
      select b.*, r.requests, b.cost / r.requests as cost_per_request
      from b left join r using (period, model_id)
    ) to '{out}' (format parquet)
    """)
elif engine == "clickhouse":
    import chdb

    fmt = "CSVWithNames" if csv else "Parquet"
    relation = f"file('{source}', '{fmt}')"
    if text_costs:
        cost = f"toDecimal128({cost}, 10)"
    chdb.query(f"""
    insert into function file('{out}', 'Parquet')
    with b as (
        select formatDateTime(parseDateTime64BestEffort(toString(p)), '%Y-%m') as period,
               coalesce(nullIf({model}, ''), '__unallocated__') as model_id,
               {team} as team, {phase} as lifecycle_phase, sum(c) as cost
        from (select {period} as p, {cost} as c, {keys} from {relation})
        group by all),
      r as (select formatDateTime(toDate(date), '%Y-%m') as period, model_id, sum(requests) as requests
            from file('{requests}', 'CSVWithNames') group by all)
    select b.*, r.requests, b.cost / r.requests as cost_per_request
    from b left join r using (period, model_id)
    settings output_format_parquet_string_as_string = 1
    """, "CSV")
