//! Canonical column names and types: the normalised line item every ingest adapter produces,
//! and the output tables (README, "Output tables"). `schemas/*.json` is generated from these
//! definitions (a test fails when the two drift); a change to a column is a version bump.

use serde::Serialize;

/// Version of the output and line-item schemas. Bump on any column change.
pub const SCHEMA_VERSION: &str = "2.5.0";

/// Logical column types, as a warehouse sees them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text (Arrow `string`, never `large_string` or `string_view`)
    #[serde(rename = "string")]
    String,
    /// Exact decimal: precision 38, scale 18
    #[serde(rename = "decimal(38,18)")]
    Decimal,
    #[serde(rename = "int64")]
    Int64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnDef {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Set for decimals (38).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// Set for decimals (18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<u8>,
    pub nullable: bool,
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableDef {
    pub name: &'static str,
    pub version: &'static str,
    pub grain: &'static str,
    /// Hive partition column, if the table is partitioned. It is listed in `columns` (a
    /// reader of the dataset sees it) but lives in the path only: files do not carry it.
    pub partitioned_by: Option<&'static str>,
    pub columns: Vec<ColumnDef>,
}

const fn c(
    name: &'static str,
    kind: ColumnType,
    nullable: bool,
    description: &'static str,
) -> ColumnDef {
    let decimal = matches!(kind, ColumnType::Decimal);
    ColumnDef {
        name,
        kind,
        precision: if decimal { Some(38) } else { None },
        scale: if decimal { Some(18) } else { None },
        nullable,
        description,
    }
}

use ColumnType::{Decimal, Int64, String as Str};

/// Normalised line-item columns (what every adapter maps its source columns to).
pub mod line {
    pub const BILLING_PERIOD_START: &str = "billing_period_start";
    pub const BILLING_CURRENCY: &str = "billing_currency";
    pub const PROVIDER: &str = "provider";
    pub const BILLING_ACCOUNT_ID: &str = "billing_account_id";
    pub const SUB_ACCOUNT_ID: &str = "sub_account_id";
    pub const SUB_ACCOUNT_NAME: &str = "sub_account_name";
    pub const SERVICE_NAME: &str = "service_name";
    pub const SERVICE_CATEGORY: &str = "service_category";
    pub const RESOURCE_ID: &str = "resource_id";
    pub const RESOURCE_NAME: &str = "resource_name";
    pub const REGION: &str = "region";
    pub const CHARGE_CATEGORY: &str = "charge_category";
    pub const CHARGE_CLASS: &str = "charge_class";
    pub const COMMITMENT_DISCOUNT_STATUS: &str = "commitment_discount_status";
    pub const TAGS: &str = "tags";
    /// The start of the row's charge period (FOCUS ChargePeriodStart, a format's usage
    /// date): read only by `--grain day` runs, null otherwise.
    pub const CHARGE_PERIOD_START: &str = "charge_period_start";
    pub const BILLED_COST: &str = "billed_cost";
    pub const EFFECTIVE_COST: &str = "effective_cost";
    pub const LIST_COST: &str = "list_cost";
    pub const CONTRACTED_COST: &str = "contracted_cost";

    /// String dimensions, in the order they are grouped by.
    pub const DIMENSION_COUNT: usize = 16;
    pub const DIMENSIONS: [&str; DIMENSION_COUNT] = [
        BILLING_PERIOD_START,
        BILLING_CURRENCY,
        PROVIDER,
        BILLING_ACCOUNT_ID,
        SUB_ACCOUNT_ID,
        SUB_ACCOUNT_NAME,
        SERVICE_NAME,
        SERVICE_CATEGORY,
        RESOURCE_ID,
        RESOURCE_NAME,
        REGION,
        CHARGE_CATEGORY,
        CHARGE_CLASS,
        COMMITMENT_DISCOUNT_STATUS,
        TAGS,
        CHARGE_PERIOD_START,
    ];
    /// Money columns, in `CostBasis::ALL` order.
    pub const COSTS: [&str; 4] = [EFFECTIVE_COST, BILLED_COST, LIST_COST, CONTRACTED_COST];
}

/// Lifecycle phases that get a column of their own in `unit_costs`; any other value (and
/// untagged spend) is counted in `cost_other`.
pub const PHASES: [&str; 6] = [
    "training",
    "inference",
    "feature_pipeline",
    "storage",
    "data_transfer",
    "experimentation",
];

/// Model id of spend without a `model_id` tag.
pub const UNALLOCATED: &str = "__unallocated__";
/// Model id of unused commitment (FOCUS `CommitmentDiscountStatus = Unused`).
pub const UNUSED_COMMITMENT: &str = "__unused_commitment__";
/// Whether a `model_id` names a model rather than a reserved bucket (`__name__` such as
/// `__unallocated__`, or `shared:<id>`, a pool without targets).
pub fn is_model(model_id: &str) -> bool {
    !(model_id.starts_with("__") || model_id.starts_with("shared:"))
}

/// Team or phase value of spend without that tag.
pub const UNTAGGED: &str = "__untagged__";

pub fn line_item() -> TableDef {
    TableDef {
        name: "line_item",
        version: SCHEMA_VERSION,
        grain: "one source billing row, before aggregation (internal; not written)",
        partitioned_by: None,
        columns: vec![
            c(line::BILLING_PERIOD_START, Str, false, "FOCUS BillingPeriodStart as written by the source; its year-month is the billing period"),
            c(line::BILLING_CURRENCY, Str, false, "ISO 4217 code; never summed across currencies"),
            c(line::PROVIDER, Str, true, "FOCUS 1.3 ServiceProviderName, else ProviderName (pre-1.0: Provider)"),
            c(line::BILLING_ACCOUNT_ID, Str, true, "always a string (leading zeros, 13-digit ids)"),
            c(line::SUB_ACCOUNT_ID, Str, true, "always a string"),
            c(line::SUB_ACCOUNT_NAME, Str, true, ""),
            c(line::SERVICE_NAME, Str, true, ""),
            c(line::SERVICE_CATEGORY, Str, true, ""),
            c(line::RESOURCE_ID, Str, true, ""),
            c(line::RESOURCE_NAME, Str, true, ""),
            c(line::REGION, Str, true, "region id or name as the provider writes it"),
            c(line::CHARGE_CATEGORY, Str, true, "Usage, Purchase, Tax, Credit, Adjustment (pre-1.0: ChargeType)"),
            c(line::CHARGE_CLASS, Str, true, "Correction or null"),
            c(line::COMMITMENT_DISCOUNT_STATUS, Str, true, "Used, Unused or null"),
            c(line::TAGS, Str, true, "tags as JSON object text (maps and structs are serialised to it)"),
            c(line::CHARGE_PERIOD_START, Str, true, "FOCUS ChargePeriodStart (or the format's usage start) as written; its UTC date is the charge day of `--grain day` (null on monthly runs)"),
            c(line::EFFECTIVE_COST, Decimal, true, "amortised cost (pre-1.0: AmortizedCost)"),
            c(line::BILLED_COST, Decimal, true, "invoiced cost"),
            c(line::LIST_COST, Decimal, true, "public price cost"),
            c(line::CONTRACTED_COST, Decimal, true, "negotiated price cost"),
        ],
    }
}

pub fn cost_by_model() -> TableDef {
    TableDef {
        name: "cost_by_model",
        version: SCHEMA_VERSION,
        grain: "billing_period x currency x model_id x team x lifecycle_phase x allocation_method x rule_id x source_pool",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c(
                "billing_period",
                Str,
                false,
                "YYYY-MM (the Hive partition, in the path only)",
            ),
            c(
                "model_id",
                Str,
                false,
                "model_id tag, or __unallocated__ / __unused_commitment__",
            ),
            c("team", Str, false, "team tag, or __untagged__"),
            c(
                "lifecycle_phase",
                Str,
                false,
                "lifecycle_phase tag, or __untagged__",
            ),
            c(
                "cost",
                Decimal,
                false,
                "sum of the cost basis column, exact",
            ),
            c("currency", Str, false, "billing currency"),
            c(
                "allocation_method",
                Str,
                false,
                "direct | rule:<id> | shared:<id> | unallocated",
            ),
            c("rule_id", Str, true, "the virtual-tag rule that matched the spend, if any"),
            c("source_pool", Str, true, "the shared pool (or unallocated / unused_commitment) the cost was split from"),
            c("share", Decimal, true, "fraction of the pool this row received"),
            c(
                "cost_basis",
                Str,
                false,
                "effective | billed | list | contracted",
            ),
            c(
                "source_rows",
                Int64,
                false,
                "billing rows summed into this row",
            ),
        ],
    }
}

pub fn unit_costs() -> TableDef {
    let mut columns = vec![
        c(
            "billing_period",
            Str,
            false,
            "YYYY-MM (the Hive partition, in the path only)",
        ),
        c("model_id", Str, false, "model id"),
        c(
            "team",
            Str,
            false,
            "the team with the most spend on the model in the period",
        ),
        c("currency", Str, false, "billing currency"),
    ];
    for phase in PHASE_COLUMNS {
        columns.push(c(phase, Decimal, false, "cost of this lifecycle phase"));
    }
    columns.extend([
        c("total_cost", Decimal, false, "sum of the phase columns"),
        c("requests", Int64, true, "requests served in the period; null when no volumes"),
        c("cost_per_request", Decimal, true, "total_cost / requests, rounded half away from zero at 18 decimals"),
        c("cost_per_1000_requests", Decimal, true, "total_cost * 1000 / requests"),
        c("unit_cost_reason", Str, true, "why the unit cost is null: no volumes | no requests for model | zero requests | unallocated spend | deferred training balance"),
        c("revenue", Decimal, true, "revenue attributed to the model in the period (--revenue)"),
        c("value_preserved", Decimal, true, "value preserved, e.g. fraud prevented (--revenue)"),
        c("revenue_per_request", Decimal, true, "revenue / requests"),
        c("gross_margin_pct", Decimal, true, "(revenue - total_cost) / revenue x 100 (ratios are truncated at 18 decimals)"),
        c("cost_pct_of_revenue", Decimal, true, "total_cost / revenue x 100"),
        c("roi", Decimal, true, "(revenue + value_preserved - total_cost) / total_cost"),
        c("cost_per_dollar_of_value", Decimal, true, "total_cost / (revenue + value_preserved)"),
        c("economics_reason", Str, true, "why the revenue figures are null: no revenue file | no revenue for model"),
        c("verdict", Str, false, "within_target | over_target | no_target ([targets] in the config)"),
        c("verdict_reason", Str, true, "the checks behind the verdict"),
        c("billing_status", Str, true, "provisional (the FOCUS Billing Period is Open: the provider may still restate it) | final (Closed) | null (no Billing Period dataset)"),
    ]);
    TableDef {
        name: "unit_costs",
        version: SCHEMA_VERSION,
        grain: "billing_period x model_id x currency",
        partitioned_by: Some("billing_period"),
        columns,
    }
}

/// The phase cost columns of `unit_costs`, in order (PHASES then other).
pub const PHASE_COLUMNS: [&str; 7] = [
    "cost_training",
    "cost_inference",
    "cost_feature_pipeline",
    "cost_storage",
    "cost_data_transfer",
    "cost_experimentation",
    "cost_other",
];

pub fn tag_compliance() -> TableDef {
    TableDef {
        name: "tag_compliance",
        version: SCHEMA_VERSION,
        grain: "billing_period x currency x resource x problem",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c(
                "billing_period",
                Str,
                false,
                "YYYY-MM (the Hive partition, in the path only)",
            ),
            c(
                "resource_id",
                Str,
                true,
                "null for rows without a resource id",
            ),
            c("provider", Str, true, ""),
            c(
                "account",
                Str,
                true,
                "sub account id, else billing account id",
            ),
            c(
                "problem",
                Str,
                false,
                "missing:<key> | invalid:<key> | conflict:<key> | malformed:tags",
            ),
            c(
                "cost_affected",
                Decimal,
                false,
                "cost (basis column) of the rows with this problem",
            ),
            c("currency", Str, false, "billing currency"),
            c(
                "source_rows",
                Int64,
                false,
                "billing rows with this problem",
            ),
        ],
    }
}

pub fn training_amortization() -> TableDef {
    TableDef {
        name: "training_amortization",
        version: SCHEMA_VERSION,
        grain: "billing_period x currency x model_id x team x incurred_period (written when [amortize] training_months > 1)",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c("billing_period", Str, false, "YYYY-MM: the schedule as of the end of this month (the Hive partition, in the path only)"),
            c("model_id", Str, false, "model whose training is amortised"),
            c("team", Str, false, "team of the training spend"),
            c("currency", Str, false, "billing currency"),
            c("incurred_period", Str, false, "YYYY-MM the training spend was billed"),
            c("incurred_cost", Decimal, false, "training spend of that month"),
            c("charged", Decimal, false, "installment charged to the model in billing_period"),
            c("balance_after", Decimal, false, "still to charge after billing_period (the deferred balance)"),
            c("months_remaining", Int64, false, "months left in the schedule (0 once a served schedule's model is trained again)"),
            c("method", Str, false, "how the schedule charges: months (equal shares) | served (as the model serves its volume); partitions before 2.4.0 lack it and are months"),
            c("unit", Str, true, "served: the unit of the volumes the cost is spread over (requests unless [amortize] unit says); null for months"),
            c("planned_quantity", Decimal, true, "served: the volume the cost is spread over (the first month with volume x the months then left); null for months, or until the model serves"),
            c("served_quantity", Decimal, true, "served: the volume served since the schedule opened; each unit bears incurred_cost / planned_quantity; null for months"),
        ],
    }
}

pub fn cost_by_dimension() -> TableDef {
    TableDef {
        name: "cost_by_dimension",
        version: SCHEMA_VERSION,
        grain: "billing_period x currency x dimension x model_id x team x lifecycle_phase x value (written when [output] dimensions lists any)",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c("billing_period", Str, false, "YYYY-MM (the Hive partition, in the path only)"),
            c("currency", Str, false, "billing currency"),
            c("dimension", Str, false, "the [output] dimensions entry: a billing column (service_name, region, sub_account_name, ...) or a canonical tag key (project, cost_center, ...)"),
            c("model_id", Str, false, "model id, as in cost_by_model"),
            c("team", Str, false, "team, as in cost_by_model"),
            c("lifecycle_phase", Str, false, "lifecycle phase, as in cost_by_model"),
            c("value", Str, true, "the dimension's value on the billing lines; null when they had none; __mixed__ for a split of a pool that mixes credits and charges; __amortized_training__ for training cost [amortize] moved between months"),
            c("cost", Decimal, false, "cost of that value; per dimension the rows add up exactly to cost_by_model's rows of the model, team and phase, and to the month's bill"),
        ],
    }
}

/// The charge day column of the daily tables, after their partition column.
fn charge_date() -> ColumnDef {
    c(
        "charge_date",
        Str,
        true,
        "the charge day YYYY-MM-DD (UTC date of ChargePeriodStart, or the format's usage date); null for rows whose charge period was missing or not a date. A day outside its billing month is a late charge",
    )
}

/// `table` by billing month and charge day (`attribute --grain day`): its columns with
/// `charge_date` after the partition column.
fn by_day(mut table: TableDef, name: &'static str, grain: &'static str) -> TableDef {
    table.name = name;
    table.grain = grain;
    table.columns.insert(1, charge_date());
    table
}

pub fn cost_by_model_daily() -> TableDef {
    by_day(
        cost_by_model(),
        "cost_by_model_daily",
        "billing_period x charge_date x currency x model_id x team x lifecycle_phase x allocation_method x rule_id x source_pool (written by --grain day; each day's rows add up exactly to the day's bill, so each month's to the month's; no amortisation: a day shows the training charged on it)",
    )
}

pub fn unit_costs_daily() -> TableDef {
    by_day(
        unit_costs(),
        "unit_costs_daily",
        "billing_period x charge_date x model_id x currency (written by --grain day; requests and unit costs from the volumes of the day; revenue is monthly and null here)",
    )
}

pub fn anomalies() -> TableDef {
    TableDef {
        name: "anomalies",
        version: SCHEMA_VERSION,
        grain: "billing_period x charge_date x model_id x currency x metric (written by --grain day: the days whose cost or cost per request departs from the model's trailing baseline)",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c("billing_period", Str, false, "YYYY-MM of charge_date (the Hive partition, in the path only)"),
            c("charge_date", Str, false, "the day flagged, YYYY-MM-DD"),
            c("model_id", Str, false, "model id, as in cost_by_model_daily"),
            c("currency", Str, false, "billing currency"),
            c("metric", Str, false, "cost | cost_per_request"),
            c("value", Decimal, false, "the metric on the day"),
            c("baseline", Decimal, false, "the median of the metric over the days the model was billed on in the window before the day"),
            c("mad", Decimal, false, "the median absolute deviation from the baseline over those days"),
            c("score", Decimal, true, "|value - baseline| / (1.4826 x mad), two decimals; null when mad is 0 (every day of the window alike)"),
            c("history_days", Int64, false, "the days of the window the model was billed on"),
            c("cost", Decimal, false, "the model's cost on the day (unit_costs_daily.total_cost)"),
            c("baseline_cost", Decimal, false, "the median cost over the window"),
            c("requests", Int64, true, "requests served on the day; null without daily volumes"),
            c("baseline_requests", Decimal, true, "the median requests over the window's days with volumes; null with too few"),
            c("spend_effect", Decimal, false, "the change of cost not explained by volume: cost - baseline_cost - volume_effect"),
            c("volume_effect", Decimal, true, "baseline_cost / baseline_requests x (requests - baseline_requests); null without volumes"),
        ],
    }
}

pub fn unit_costs_by_unit() -> TableDef {
    TableDef {
        name: "unit_costs_by_unit",
        version: SCHEMA_VERSION,
        grain: "billing_period x model_id x currency x unit (written when the volumes file gives a unit besides requests)",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c("billing_period", Str, false, "YYYY-MM (the Hive partition, in the path only)"),
            c("model_id", Str, false, "model id"),
            c("team", Str, false, "the team with the most spend on the model in the period (as in unit_costs)"),
            c("currency", Str, false, "billing currency"),
            c("unit", Str, false, "the unit of the volumes file: requests, tokens, input_tokens, output_tokens, predictions, gpu_hours, images, or any unit of a long file (lower case)"),
            c("quantity", Decimal, false, "units served in the period"),
            c("total_cost", Decimal, false, "the model's total cost in the period (unit_costs.total_cost; the same for each of its units, so never sum it over units)"),
            c("cost_per_unit", Decimal, true, "total_cost / quantity, rounded half away from zero; null with a reason"),
            c("cost_per_1000_units", Decimal, true, "total_cost x 1,000 / quantity; null with a reason"),
            c("cost_per_1m_units", Decimal, true, "total_cost x 1,000,000 / quantity (cost per million tokens for tokens); null with a reason"),
            c("unit_cost_reason", Str, true, "why the unit costs are null: zero quantity | out of range"),
            c("verdict", Str, false, "against the unit's [targets] (max_cost_per_1m_tokens, [targets.units.<unit>]): within_target | over_target | no_target"),
            c("verdict_reason", Str, true, "the comparisons made, e.g. `cost per 1M tokens 0.3550 > 0.3`, or why none was"),
        ],
    }
}

pub fn hidden_costs() -> TableDef {
    TableDef {
        name: "hidden_costs",
        version: SCHEMA_VERSION,
        grain: "billing_period x model_id x currency (written by `mlcost hidden`; estimates, never part of the reconciled totals)",
        partitioned_by: Some("billing_period"),
        columns: vec![
            c("billing_period", Str, false, "YYYY-MM (the Hive partition, in the path only)"),
            c("model_id", Str, false, "model"),
            c("currency", Str, false, "billing currency"),
            c("visible_cost", Decimal, false, "the model's total cost in unit_costs (on the bill)"),
            c("idle_capacity", Decimal, true, "visible x (1 - u) / u at utilisation u: the capacity bought on top of what was used, a hidden cost; null without a utilisation"),
            c("experiment_waste", Decimal, true, "experiment spend x waste fraction; null without a waste fraction"),
            c("engineering_time", Decimal, true, "FTEs x annual cost / 12, split over the models; null without [hidden] ftes"),
            c("hidden_total", Decimal, false, "sum of the hidden estimates"),
            c("true_total", Decimal, false, "visible_cost + hidden_total"),
            c("hidden_pct_of_visible", Decimal, true, "hidden_total / visible_cost x 100; null when visible_cost is 0"),
            c("idle_share_of_bill", Decimal, true, "visible x (1 - u): the part of the bill paid for idle capacity, already in visible_cost and not in hidden_total; null without a utilisation"),
            c("assumed", Str, true, "the [hidden] preset inputs these figures rest on (e.g. `preset typical: utilization 0.5`); null when every input was configured"),
        ],
    }
}

/// Every table written under `--out` (the line item is internal and not written).
pub fn output_tables() -> Vec<TableDef> {
    vec![
        cost_by_model(),
        unit_costs(),
        tag_compliance(),
        training_amortization(),
        hidden_costs(),
        unit_costs_by_unit(),
        cost_by_dimension(),
        cost_by_model_daily(),
        unit_costs_daily(),
        anomalies(),
    ]
}

pub fn all_tables() -> Vec<TableDef> {
    let mut t = vec![line_item()];
    t.extend(output_tables());
    t
}

/// The JSON text of a table schema, as stored in `schemas/<name>.json`.
pub fn schema_json(table: &TableDef) -> String {
    // Serialising our own plain structs cannot fail.
    let mut s = serde_json::to_string_pretty(table).unwrap_or_default();
    s.push('\n');
    s
}

/// The lifecycle phase values (after `-` and ` ` become `_`) of each `unit_costs` phase
/// column but `cost_other`, which takes every other value.
pub const PHASE_VALUES: [(&str, &[&str]); 6] = [
    (
        "cost_training",
        &["training", "train", "fine_tuning", "finetuning"],
    ),
    (
        "cost_inference",
        &[
            "inference",
            "serving",
            "online_inference",
            "batch_inference",
        ],
    ),
    (
        "cost_feature_pipeline",
        &[
            "feature_pipeline",
            "features",
            "feature_engineering",
            "feature_store",
        ],
    ),
    ("cost_storage", &["storage"]),
    (
        "cost_data_transfer",
        &["data_transfer", "network", "egress"],
    ),
    (
        "cost_experimentation",
        &["experimentation", "experiment", "research"],
    ),
];

/// Maps a normalised lifecycle phase value to its `unit_costs` column.
pub fn phase_column(phase: &str) -> &'static str {
    let p = phase.replace(['-', ' '], "_");
    PHASE_VALUES
        .iter()
        .find(|(_, values)| values.contains(&p.as_str()))
        .map_or(PHASE_COLUMNS[6], |(column, _)| column)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `schemas/*.json` must match the definitions here. Run with `UPDATE_SCHEMAS=1` to rewrite.
    #[test]
    fn schema_files_match_definitions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        for table in all_tables() {
            let path = dir.join(format!("{}.json", table.name));
            let want = schema_json(&table);
            if std::env::var_os("UPDATE_SCHEMAS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                have,
                want,
                "{} is stale: rerun with UPDATE_SCHEMAS=1",
                path.display()
            );
        }
    }

    /// `schemas/*.schema.json` (what `--json` prints, the manifests) must match the types.
    #[test]
    fn json_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        for (name, want) in crate::report::json_schemas() {
            let path = dir.join(name);
            if std::env::var_os("UPDATE_SCHEMAS").is_some() {
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                have,
                want,
                "{} is stale: rerun with UPDATE_SCHEMAS=1",
                path.display()
            );
        }
    }

    #[test]
    fn phases_map_to_columns() {
        assert_eq!(phase_column("training"), "cost_training");
        assert_eq!(phase_column("feature-pipeline"), "cost_feature_pipeline");
        assert_eq!(phase_column("serving"), "cost_inference");
        assert_eq!(phase_column("__untagged__"), "cost_other");
        assert_eq!(phase_column("whatever"), "cost_other");
        // the table lists every phase column but the last, in order
        let listed: Vec<&str> = PHASE_VALUES.iter().map(|(c, _)| *c).collect();
        assert_eq!(listed, PHASE_COLUMNS[..6]);
        assert_eq!(PHASE_COLUMNS.len(), PHASES.len() + 1);
    }
}
