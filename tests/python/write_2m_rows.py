"""Writes 2M-row billing exports for tests/cli/memory.rs, as other tools write them: a Parquet
file from pyarrow (timestamp periods, double costs, Tags as a map, 4 row groups) and a CSV.gz
from Python's csv module (quoted JSON tags, CRLF, a BOM). Usage: write_2m_rows.py DIR ROWS"""
import csv
import gzip
import io
import json
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

out, rows = sys.argv[1], int(sys.argv[2])
resources = 20_000
services = ["Amazon EC2", "Amazon S3", "Amazon SageMaker"]


def tags(r):
    t = {"model_id": f"model-{r % 40:02d}", "team": ["search", "ads", "feeds", "ml"][r % 4],
         "lifecycle_phase": ["training", "inference", "feature_pipeline", "storage"][(r // 7) % 4]}
    if r % 11 == 0:
        del t["team"]
    return t


# row r uses resource (r * 7919) % resources, service r % 3, a cost from r
index = pc.remainder(pc.multiply(pa.array(range(rows), pa.int64()), 7919), resources)
cents = pc.remainder(pc.multiply(pa.array(range(rows), pa.int64()), 2654435761), 100_000)
cost = pc.round(pc.divide(pc.cast(cents, pa.float64()), 997.0), 6)
ids = pa.array([f"i-{i:06d}" for i in range(resources)])
maps = pa.array([list(tags(i).items()) for i in range(resources)], pa.map_(pa.string(), pa.string()))
service = pa.array(services).take(pc.remainder(pa.array(range(rows), pa.int64()), 3))
table = pa.table(
    {
        "BillingPeriodStart": pa.array([1_790_812_800_000] * rows, pa.timestamp("ms", tz="UTC")),
        "BillingCurrency": pa.array(["USD"] * rows),
        "ProviderName": pa.array(["AWS"] * rows),
        "ServiceName": service,
        "ResourceId": ids.take(index),
        "ChargeCategory": pa.array(["Usage"] * rows),
        "Tags": maps.take(index),
        "EffectiveCost": cost,
        "BilledCost": cost,
    }
)
pq.write_table(table, f"{out}/export.parquet", row_group_size=rows // 4)

text = io.StringIO()
w = csv.writer(text, lineterminator="\r\n")
w.writerow(["BillingPeriodStart", "BillingCurrency", "ProviderName", "ServiceName",
            "ResourceId", "ChargeCategory", "Tags", "EffectiveCost", "BilledCost"])
json_tags = [json.dumps(tags(i)) for i in range(resources)]
for r, (i, c) in enumerate(zip(index.to_pylist(), cost.to_pylist())):
    w.writerow(["2026-10-01T00:00:00Z", "USD", "AWS", services[r % 3], f"i-{i:06d}", "Usage",
                json_tags[i], c, c])
with gzip.open(f"{out}/export.csv.gz", "wt", newline="", encoding="utf-8-sig", compresslevel=1) as f:
    f.write(text.getvalue())
