//! The column lists of the three export layouts: FOCUS 1.2 (today's sample), the AWS CUR 1
//! (CSV spelling `lineItem/UnblendedCost` with one `resourceTags/user:<key>` column per tag
//! key, or the Athena/Parquet spelling `line_item_unblended_cost`, `resource_tags_user_<key>`)
//! and CUR 2.0 (snake_case with a `resource_tags` map). CUR rows are the FOCUS rows spelled
//! the CUR way: the amortised formula mlcost applies gives back each row's EffectiveCost,
//! `lineItem/UnblendedCost` is its BilledCost and `pricing/publicOnDemandCost` its ListCost.

use super::fields::Instant;
use super::rng::mix;
use super::table::{Column, CostSlot, Field};
use super::world::{Resource, Tags, INSTANCE_KEY};

/// Which provider layout is written (`--layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// FOCUS 1.2 (focus_sample.<ext>)
    Focus,
    /// AWS CUR 1: `lineItem/UnblendedCost` and `resourceTags/user:<key>` in CSV, the Athena
    /// spelling `line_item_unblended_cost`, `resource_tags_user_<key>` in Parquet
    /// (aws_cur_sample.<ext>)
    AwsCur,
    /// AWS CUR 2.0 Data Exports: snake_case columns and a `resource_tags` map (Parquet only;
    /// aws_cur2_sample.parquet)
    AwsCur2,
}

/// How CUR column names are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `lineItem/UnblendedCost`, `resourceTags/user:team` (CUR 1 CSV).
    Csv,
    /// `line_item_unblended_cost`, `resource_tags_user_team` (Athena/Parquet, CUR 2.0).
    Athena,
}

pub const FOCUS_TEXT: [&str; 22] = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];
pub const FOCUS_COSTS: [&str; 4] = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"];

/// The FOCUS 1.2 columns of `mlcost sample`, in file order.
pub fn focus_columns() -> Vec<Column> {
    let fields = [
        Field::Const("123456789012"),
        Field::Const("Example Corp"),
        Field::Const("USD"),
        Field::Instant(Instant::BillingStart),
        Field::Instant(Instant::BillingEnd),
        Field::Instant(Instant::ChargeStart),
        Field::Instant(Instant::ChargeEnd),
        Field::Category,
        Field::ChargeClass,
        Field::Description,
        Field::CommitmentId,
        Field::Status,
        Field::Const("AWS"),
        Field::Const("AWS"),
        Field::Const("Amazon Web Services, Inc."),
        Field::ServiceName,
        Field::ServiceCategory,
        Field::Const("us-east-1"),
        Field::ResourceId,
        Field::Account,
        Field::AccountName,
        Field::Tags,
    ];
    let mut out: Vec<Column> = FOCUS_TEXT
        .iter()
        .zip(fields)
        .map(|(n, f)| Column::new(*n, f))
        .collect();
    for (i, n) in FOCUS_COSTS.iter().enumerate() {
        out.push(Column::new(*n, Field::Cost(CostSlot::Focus(i))));
    }
    out
}

/// `lineItem/UnblendedCost` -> `line_item_unblended_cost` (each capital starts a word, so
/// `SavingsPlanARN` becomes `savings_plan_a_r_n`, as Athena spells it).
pub fn athena_column(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for part in name.split('/') {
        if !out.is_empty() {
            out.push('_');
        }
        for (i, c) in part.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// A tag key as Athena and CUR 2.0 spell it: trimmed, camelCase split, lower-case, anything
/// but letters and digits as `_` (` Team` -> `team`, `CostCenter` -> `cost_center`).
pub fn athena_tag_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.trim().chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
    }
    out
}

/// The CUR columns before the tags, in CUR 1 CSV spelling.
const CUR_COLUMNS: [(&str, Field); 24] = [
    ("identity/LineItemId", Field::LineItemId),
    ("identity/TimeInterval", Field::TimeInterval),
    ("bill/BillType", Field::Const("Anniversary")),
    ("bill/BillingEntity", Field::Const("AWS")),
    ("bill/PayerAccountId", Field::Const("123456789012")),
    (
        "bill/BillingPeriodStartDate",
        Field::Instant(Instant::BillingStart),
    ),
    (
        "bill/BillingPeriodEndDate",
        Field::Instant(Instant::BillingEnd),
    ),
    ("lineItem/UsageAccountId", Field::Account),
    ("lineItem/LineItemType", Field::LineItemType),
    (
        "lineItem/UsageStartDate",
        Field::Instant(Instant::ChargeStart),
    ),
    ("lineItem/UsageEndDate", Field::Instant(Instant::ChargeEnd)),
    ("lineItem/ProductCode", Field::ProductCode),
    ("lineItem/ResourceId", Field::ResourceId),
    ("lineItem/CurrencyCode", Field::Const("USD")),
    ("lineItem/UnblendedCost", Field::Cost(CostSlot::Unblended)),
    ("lineItem/LineItemDescription", Field::Description),
    ("product/ProductName", Field::ServiceName),
    ("product/productFamily", Field::ServiceCategory),
    ("product/regionCode", Field::Const("us-east-1")),
    (
        "pricing/publicOnDemandCost",
        Field::Cost(CostSlot::PublicOnDemand),
    ),
    ("savingsPlan/SavingsPlanARN", Field::CommitmentId),
    (
        "savingsPlan/SavingsPlanEffectiveCost",
        Field::Cost(CostSlot::SavingsPlanEffective),
    ),
    (
        "savingsPlan/TotalCommitmentToDate",
        Field::Cost(CostSlot::TotalCommitment),
    ),
    (
        "savingsPlan/UsedCommitment",
        Field::Cost(CostSlot::UsedCommitment),
    ),
];

/// The columns of a CUR layout; `tags` names the CUR 1 tag columns.
pub fn cur_columns(layout: Layout, spelling: Spelling, tags: &CurTags) -> Vec<Column> {
    let name = |n: &str| match spelling {
        Spelling::Csv => n.to_string(),
        Spelling::Athena => athena_column(n),
    };
    let mut out: Vec<Column> = Vec::new();
    for (n, f) in CUR_COLUMNS {
        out.push(Column::new(name(n), f));
        if layout == Layout::AwsCur2 && n == "bill/PayerAccountId" {
            out.push(Column::new(
                "bill_payer_account_name",
                Field::Const("Example Corp"),
            ));
        }
        if layout == Layout::AwsCur2 && n == "lineItem/UsageAccountId" {
            out.push(Column::new(
                "line_item_usage_account_name",
                Field::AccountName,
            ));
        }
    }
    match layout {
        Layout::AwsCur2 => out.push(Column::new("resource_tags", Field::TagMap)),
        _ => {
            for (k, key) in tags.keys.iter().enumerate() {
                let column = match spelling {
                    Spelling::Csv => format!("resourceTags/user:{key}"),
                    Spelling::Athena => format!("resource_tags_user_{key}"),
                };
                out.push(Column::new(column, Field::TagColumn(k as u32)));
            }
        }
    }
    out
}

/// Tag keys that real accounts activate besides the ones attribution reads: 200 of them, a
/// few set on each tagged resource, so a CUR 1 file has hundreds of mostly empty tag columns.
const FILLER_WORDS: [&str; 20] = [
    "app",
    "owner",
    "stack",
    "service",
    "component",
    "cluster",
    "namespace",
    "pipeline",
    "release",
    "tier",
    "squad",
    "product",
    "domain",
    "billing",
    "compliance",
    "data",
    "backup",
    "schedule",
    "ttl",
    "created",
];
const FILLER_SUFFIXES: [&str; 10] = [
    "name", "id", "version", "group", "code", "class", "policy", "window", "level", "ref",
];

/// The tag keys of a CUR export and each resource's values, by column.
#[derive(Debug, Clone, Default)]
pub struct CurTags {
    /// Key of each tag column (the part after `user:` / `user_`), sorted.
    pub keys: Vec<String>,
    /// Per resource: (column, value), sorted by column.
    per_resource: Vec<Vec<(u32, String)>>,
    /// Column of the high-cardinality `instance` key.
    pub instance: Option<u32>,
}

impl CurTags {
    /// Spells every resource's tags as `spelling` does. Where two keys of one resource would
    /// become the same column (the sample's deliberate `model_id`/`model-id` conflict in the
    /// Athena spelling), the later key keeps only its letters and digits (`modelid`), so the
    /// conflict stays a conflict instead of one value silently winning.
    pub fn new(resources: &[Resource], spelling: Spelling, seed: u64, instance: bool) -> Self {
        let spell = |k: &str| match spelling {
            Spelling::Csv => k.to_string(),
            Spelling::Athena => athena_tag_key(k),
        };
        let mut named: Vec<Vec<(String, String)>> = Vec::with_capacity(resources.len());
        for (i, r) in resources.iter().enumerate() {
            let mut pairs: Vec<(String, String)> = Vec::new();
            if let Tags::Pairs { pairs: kv, .. } = &r.tags {
                for (k, v) in kv {
                    let mut name = spell(k);
                    if pairs.iter().any(|(n, _)| *n == name) {
                        name = k
                            .chars()
                            .filter(char::is_ascii_alphanumeric)
                            .map(|c| c.to_ascii_lowercase())
                            .collect();
                    }
                    if !pairs.iter().any(|(n, _)| *n == name) {
                        pairs.push((name, v.clone()));
                    }
                }
                for (j, word) in FILLER_WORDS.iter().enumerate() {
                    for (s, suffix) in FILLER_SUFFIXES.iter().enumerate() {
                        let h = mix(seed ^ 0x7a65, ((i as u64) << 8) | (j * 10 + s) as u64);
                        if h.is_multiple_of(40) {
                            pairs.push((format!("{word}_{suffix}"), format!("{word}-{}", h % 997)));
                        }
                    }
                }
            }
            named.push(pairs);
        }
        let mut keys: Vec<String> = FILLER_WORDS
            .iter()
            .flat_map(|w| FILLER_SUFFIXES.iter().map(move |s| format!("{w}_{s}")))
            .collect();
        for pairs in &named {
            for (n, _) in pairs {
                keys.push(n.clone());
            }
        }
        if instance {
            keys.push(INSTANCE_KEY.to_string());
        }
        keys.sort();
        keys.dedup();
        let index = |n: &str| keys.binary_search_by(|k| k.as_str().cmp(n)).ok();
        let per_resource = named
            .into_iter()
            .map(|pairs| {
                let mut v: Vec<(u32, String)> = pairs
                    .into_iter()
                    .filter_map(|(n, val)| index(&n).map(|k| (k as u32, val)))
                    .collect();
                v.sort_by_key(|(k, _)| *k);
                v
            })
            .collect();
        let instance = instance
            .then(|| index(INSTANCE_KEY))
            .flatten()
            .map(|k| k as u32);
        CurTags {
            keys,
            per_resource,
            instance,
        }
    }

    /// A resource's value in a tag column.
    pub fn value(&self, resource: u32, column: u32) -> Option<&str> {
        let v = self.per_resource.get(resource as usize)?;
        v.binary_search_by_key(&column, |(k, _)| *k)
            .ok()
            .map(|i| v[i].1.as_str())
    }

    /// Whether every key and value passes `test`.
    pub fn all_values(&self, test: impl Fn(&str) -> bool) -> bool {
        self.keys.iter().all(|k| test(k))
            && self
                .per_resource
                .iter()
                .all(|v| v.iter().all(|(_, val)| test(val)))
    }

    /// A resource's (column, value) pairs.
    pub fn entries(&self, resource: u32) -> &[(u32, String)] {
        self.per_resource
            .get(resource as usize)
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athena_spelling() {
        assert_eq!(
            athena_column("lineItem/UnblendedCost"),
            "line_item_unblended_cost"
        );
        assert_eq!(
            athena_column("savingsPlan/SavingsPlanARN"),
            "savings_plan_savings_plan_a_r_n"
        );
        assert_eq!(
            athena_column("bill/BillingPeriodStartDate"),
            "bill_billing_period_start_date"
        );
        assert_eq!(
            athena_column("pricing/publicOnDemandCost"),
            "pricing_public_on_demand_cost"
        );
        assert_eq!(athena_tag_key(" Team"), "team");
        assert_eq!(athena_tag_key("Model-Id"), "model_id");
        assert_eq!(athena_tag_key("CostCenter"), "cost_center");
        assert_eq!(athena_tag_key("model-id"), "model_id");
    }

    #[test]
    fn cur_names_are_what_the_aws_adapter_reads() {
        use crate::ingest::columns::norm_key;
        let tags = CurTags::default();
        let csv = cur_columns(Layout::AwsCur, Spelling::Csv, &tags);
        let athena = cur_columns(Layout::AwsCur, Spelling::Athena, &tags);
        for (a, b) in csv.iter().zip(&athena) {
            assert_eq!(
                norm_key(&a.name),
                norm_key(&b.name),
                "{} {}",
                a.name,
                b.name
            );
        }
        for required in crate::ingest::aws::REQUIRED {
            assert!(csv.iter().any(|c| c.name == required[0]), "{required:?}");
        }
    }

    #[test]
    fn colliding_keys_stay_apart() {
        use crate::sample::world::Phase;
        let pairs = vec![
            ("model_id".to_string(), "a".to_string()),
            ("model-id".to_string(), "a-old".to_string()),
        ];
        let body = r#"{"model_id": "a", "model-id": "a-old"}"#.to_string();
        let r = Resource {
            id: "x".into(),
            account: "1".into(),
            account_name: "n".into(),
            phase: Phase::Storage,
            hourly: 1.0,
            tags: Tags::Pairs { pairs, json: body },
            covered_by_commitment: false,
        };
        let t = CurTags::new(&[r], Spelling::Athena, 1, false);
        let col = |k: &str| t.keys.iter().position(|n| n == k).unwrap() as u32;
        assert_eq!(t.value(0, col("model_id")), Some("a"));
        assert_eq!(t.value(0, col("modelid")), Some("a-old"));
        assert!(t.keys.len() > 200);
    }
}
