//! The commented starter `mlcost.toml` that `mlcost init` writes (a test parses it).

/// The commented starter config written by `mlcost init`. It parses to the defaults plus
/// a few example aliases.
pub const STARTER: &str = r#"# mlcost.toml: configuration for `mlcost attribute` and `mlcost validate`.
# Every key is optional; delete what you do not need. Unknown keys are an error.

[tags]
# Canonical tag keys every resource must carry. Keys are matched after trimming white space
# and lower-casing, so `Team`, ` team` and `TEAM` are all `team`.
required = ["team", "project", "model_id", "environment", "cost_center", "lifecycle_phase"]

# Lower-case tag values, so `RecSys` and `recsys` are the same team.
lowercase_values = true

# Source key -> canonical key. Writing this table replaces the built-in aliases, which are
# the ones listed here plus "model id", "cost center", "lifecycle-phase" and "lifecyclephase".
# Two source keys that map to one canonical key with different
# values on the same resource are reported as a conflict (`conflict:<key>`), never silently picked.
[tags.aliases]
"model-id" = "model_id"
"modelid" = "model_id"
"env" = "environment"
"cost-center" = "cost_center"
"costcenter" = "cost_center"
"phase" = "lifecycle_phase"

# Optional allowed values per key; anything else is reported as `invalid:<key>`.
[tags.allowed]
environment = ["prod", "staging", "dev"]
# lifecycle_phase = ["training", "inference", "feature_pipeline", "storage", "data_transfer", "experimentation"]

[validate]
# `mlcost validate` exits 1 when less than this share of spend carries every required tag.
# min_compliance = 0.8

[cost]
# Which cost is allocated (FOCUS column names; the other formats map to the same bases):
#   effective  (default) EffectiveCost, amortised; commitment purchases are not counted twice
#   billed     BilledCost, cash basis, matches the invoice
#   list       ListCost, commitment purchase rows excluded
#   contracted ContractedCost, commitment purchase rows excluded
basis = "effective"

# Allocation rules, applied in this order (docs/allocation.md has an example of each).
# 1. Virtual tags: fill tags the bill lacks; the first matching rule wins.
# [[rules]]
# id = "sagemaker-training"
# match = { sub_account_name = "ml-training-prod", service_name = "Amazon SageMaker" }
# set = { lifecycle_phase = "training" }
#
# 2. Shared pools: split matched spend over target models.
# [[shared]]
# id = "feature-store"
# match = { resource_id = "*feature-store*" }
# targets = { team = "recsys" }   # omitted: every model with direct spend in the month
# method = "proportional"         # even | proportional | fixed | requests | driver

# 3. Spend without a model and unused commitment: keep visible or spread over all models.
[unallocated]
method = "keep"                   # keep | even | proportional | requests

[unused_commitment]
method = "keep"

# 4. Training spend: charge it in the month it was incurred (1) or over N months, in equal
#    shares (method = "months") or as the model serves its requests (method = "served").
[amortize]
training_months = 1
method = "months"

# 5. Break each model's cost down by billing columns or tag keys (table cost_by_dimension;
#    `mlcost explain` shows the largest values).
# [output]
# dimensions = ["service_name", "region", "sub_account_name", "project"]

# 6. `attribute --grain day` flags a model's day whose cost (or cost per request) departs from
#    the median of its last days by a robust score (README: Cost by day and anomalies).
# [anomalies]
# window_days = 14
# min_history_days = 7
# threshold = 3.5
# min_change = 10
"#;
