//! Tests of the parent module.

use super::*;
use crate::allocate::rules::RuleSet;
use crate::ledger::CostLine;
use crate::tags::TagSet;

fn line(tags: usize, cost: &str, unused: bool) -> CostLine {
    CostLine {
        period: "2024-09".into(),
        currency: "USD".into(),
        day: None,
        tags,
        cost: Money::parse(cost).unwrap(),
        rows: 1,
        resource_id: None,
        provider: None,
        account: None,
        unused_commitment: unused,
        group: 0,
    }
}

#[test]
fn direct_unallocated_and_unused_commitment_stay_separate_and_sum_exactly() {
    let mut tagged = TagSet::default();
    tagged.values.insert("model_id".into(), "ranker".into());
    tagged.values.insert("team".into(), "recsys".into());
    tagged
        .values
        .insert("lifecycle_phase".into(), "inference".into());
    let ledger = Ledger {
        tag_sets: vec![(tagged, vec![]), (TagSet::default(), vec![])],
        lines: vec![
            line(0, "1.25", false),
            line(0, "0.000000000000000001", false),
            line(1, "-0.5", false),
            line(0, "7", true),
        ],
        ..Ledger::default()
    };
    let a = allocate(
        &ledger,
        &[SourceGroup::default()],
        &RuleSet::default(),
        None,
    );
    let got: Vec<(&str, &str, &str, String)> = a
        .rows
        .iter()
        .map(|r| {
            (
                r.model_id.as_str(),
                r.team.as_str(),
                r.allocation_method.as_str(),
                r.cost.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "__unallocated__",
                "__untagged__",
                "unallocated",
                "-0.5".to_string()
            ),
            (
                "__unused_commitment__",
                "recsys",
                "unallocated",
                "7".to_string()
            ),
            (
                "ranker",
                "recsys",
                "direct",
                "1.250000000000000001".to_string()
            ),
        ]
    );
    let total = a.totals()[&("2024-09".to_string(), "USD".to_string())];
    assert_eq!(total.to_string(), "7.750000000000000001");
}

mod rules {
    use std::path::Path;

    use crate::config::{parse, LoadedConfig};
    use crate::ingest::SourceGroup;
    use crate::money::Money;
    use crate::schema::line;
    use crate::tags::TagNormaliser;

    fn group(
        resource: &str,
        service: &str,
        account: &str,
        tags: Option<&str>,
        cost: &str,
    ) -> SourceGroup {
        let mut g = SourceGroup::default();
        let mut set = |name: &str, v: Option<&str>| {
            let i = line::DIMENSIONS.iter().position(|d| *d == name).unwrap();
            g.dims[i] = v.map(str::to_string);
        };
        set(line::BILLING_PERIOD_START, Some("2026-10-01"));
        set(line::BILLING_CURRENCY, Some("USD"));
        set(line::RESOURCE_ID, Some(resource));
        set(line::SERVICE_NAME, Some(service));
        set(line::SUB_ACCOUNT_NAME, Some(account));
        set(line::TAGS, tags);
        g.costs = [Some(Money::parse(cost).unwrap()); 4];
        g.rows = 1;
        g
    }

    fn run(
        config: &str,
        groups: &[SourceGroup],
        volumes: Option<&crate::allocate::Requests>,
    ) -> Vec<(String, String, String, String)> {
        let cfg = parse(config, Path::new("t.toml")).unwrap();
        let loaded = LoadedConfig {
            config: cfg,
            path: None,
            hash: String::new(),
            text: config.into(),
        };
        let tagger = TagNormaliser::new(&loaded.config.tags);
        let drivers = |p: &Path| crate::volumes::SideReader::new(&tagger).driver(p);
        let rules =
            crate::allocate::rules::compile(&loaded, &tagger, volumes.is_some(), &drivers).unwrap();
        let ledger = crate::ledger::build(groups, &loaded.config, None).unwrap();
        let a = super::super::allocate(&ledger, groups, &rules, volumes);
        let total: Money = a.rows.iter().map(|r| r.cost).sum();
        let read: Money = ledger.totals.values().map(|t| t.cost).sum();
        assert_eq!(total, read, "conservation");
        a.rows
            .iter()
            .map(|r| {
                (
                    r.model_id.clone(),
                    r.lifecycle_phase.clone(),
                    r.allocation_method.clone(),
                    r.cost.to_string(),
                )
            })
            .collect()
    }

    fn model(model: &str, phase: &str) -> String {
        format!(r#"{{"model_id": "{model}", "team": "recsys", "lifecycle_phase": "{phase}"}}"#)
    }

    #[test]
    fn virtual_tags_fill_missing_tags_first_match_wins() {
        let config = r#"
[[rules]]
id = "sagemaker-training"
match = { sub_account_name = "ml-training-prod", service_name = "Amazon SageMaker" }
set = { lifecycle_phase = "training", model_id = "ranker" }

[[rules]]
id = "never-reached"
match = { service_name = "Amazon SageMaker" }
set = { model_id = "other" }
"#;
        let a = model("ranker", "inference");
        let groups = vec![
            group("job-1", "Amazon SageMaker", "ml-training-prod", None, "40"),
            // has its own model and phase: the rule only fills what is missing
            group(
                "job-2",
                "Amazon SageMaker",
                "ml-training-prod",
                Some(&a),
                "10",
            ),
            group("job-3", "Amazon SageMaker", "ml-dev", None, "5"),
        ];
        let rows = run(config, &groups, None);
        assert!(rows.contains(&(
            "ranker".into(),
            "training".into(),
            "rule:sagemaker-training".into(),
            "40".into()
        )));
        assert!(rows.contains(&(
            "ranker".into(),
            "inference".into(),
            "direct".into(),
            "10".into()
        )));
        assert!(rows.contains(&(
            "other".into(),
            "__untagged__".into(),
            "rule:never-reached".into(),
            "5".into()
        )));
    }

    #[test]
    fn proportional_pool_with_remainder_to_the_largest_fraction() {
        let config = r#"
[[rules]]
id = "fs"
match = { resource_id = "*feature-store*" }
set = { model_id = "__shared_feature_store__" }

[[shared]]
id = "feature-store"
match = { model_id = "__shared_feature_store__" }
method = "proportional"
"#;
        let (a, b, c) = (
            model("a", "inference"),
            model("b", "inference"),
            model("c", "inference"),
        );
        let groups = vec![
            group("r-a", "EC2", "p", Some(&a), "1"),
            group("r-b", "EC2", "p", Some(&b), "1"),
            group("r-c", "EC2", "p", Some(&c), "1"),
            group("arn:feature-store-1", "SageMaker", "p", None, "100"),
            group("r-x", "EC2", "p", None, "0.01"), // the input uses cents
        ];
        let rows = run(config, &groups, None);
        // 100 over three equal weights at the input's 2 decimals: 33.34 + 33.33 + 33.33
        let shares: Vec<&String> = rows
            .iter()
            .filter(|r| r.2 == "shared:feature-store")
            .map(|r| &r.3)
            .collect();
        assert_eq!(shares, ["33.34", "33.33", "33.33"]);
    }

    #[test]
    fn credits_pool_even_fixed_and_no_target() {
        let config = r#"
[[shared]]
id = "credits"
match = { service_name = "Credits" }
method = "even"
targets = { team = "recsys" }

[[shared]]
id = "platform"
match = { service_name = "Monitoring" }
method = "fixed"
weights = { a = 0.6, b = 0.4 }

[[shared]]
id = "orphan"
match = { service_name = "Orphan" }
targets = { team = "nobody" }
"#;
        let (a, b, c) = (
            model("a", "inference"),
            model("b", "training"),
            model("c", "inference"),
        );
        let groups = vec![
            group("r-a", "EC2", "p", Some(&a), "300"),
            group("r-b", "EC2", "p", Some(&b), "100"),
            group("r-c", "EC2", "p", Some(&c), "100"),
            group("credit", "Credits", "p", None, "-10.00"),
            group("mon", "Monitoring", "p", None, "50"),
            group("orphan", "Orphan", "p", None, "7"),
            group("r-x", "EC2", "p", None, "0.01"), // the input uses cents
        ];
        let rows = run(config, &groups, None);
        let pool = |id: &str| -> Vec<(String, String)> {
            rows.iter()
                .filter(|r| r.2 == format!("shared:{id}"))
                .map(|r| (r.0.clone(), r.3.clone()))
                .collect()
        };
        assert_eq!(
            pool("credits"),
            [
                ("a".into(), "-3.34".into()),
                ("b".into(), "-3.33".into()),
                ("c".into(), "-3.33".into())
            ]
        );
        assert_eq!(
            pool("platform"),
            [("a".into(), "30".into()), ("b".into(), "20".into())]
        );
        assert!(rows.contains(&(
            "shared:orphan".into(),
            "__untagged__".into(),
            "unallocated".into(),
            "7".into()
        )));
    }

    #[test]
    fn requests_driver_and_spreading_unallocated() {
        let dir = tempfile::tempdir().unwrap();
        let driver = dir.path().join("reads.csv");
        std::fs::write(
            &driver,
            "period,model_id,quantity\n2026-10,a,1\n2026-10,b,3\n",
        )
        .unwrap();
        let config = format!(
            r#"
[[shared]]
id = "by-requests"
match = {{ service_name = "Gateway" }}
method = "requests"

[[shared]]
id = "by-reads"
match = {{ service_name = "FeatureStore" }}
method = "driver"
driver = "{}"

[unallocated]
method = "proportional"
"#,
            driver.display()
        );
        let (a, b) = (model("a", "inference"), model("b", "inference"));
        let groups = vec![
            group("r-a", "EC2", "p", Some(&a), "30"),
            group("r-b", "EC2", "p", Some(&b), "10"),
            group("gw", "Gateway", "p", None, "9"),
            group("fs", "FeatureStore", "p", None, "8"),
            group("untagged", "S3", "p", None, "4"),
        ];
        let mut v = crate::allocate::Requests::default();
        v.insert(("2026-10".into(), "a".into()), 2);
        v.insert(("2026-10".into(), "b".into()), 1);
        let rows = run(&config, &groups, Some(&v));
        let pool = |m: &str| -> Vec<(String, String)> {
            rows.iter()
                .filter(|r| r.2 == m)
                .map(|r| (r.0.clone(), r.3.clone()))
                .collect()
        };
        assert_eq!(
            pool("shared:by-requests"),
            [("a".into(), "6".into()), ("b".into(), "3".into())]
        );
        assert_eq!(
            pool("shared:by-reads"),
            [("a".into(), "2".into()), ("b".into(), "6".into())]
        );
        assert_eq!(
            pool("shared:unallocated"),
            [("a".into(), "3".into()), ("b".into(), "1".into())]
        );
    }
}

mod properties {
    use proptest::prelude::*;

    use crate::config::Config;
    use crate::ingest::SourceGroup;
    use crate::money::Money;
    use crate::schema::line;

    const TAGS: [Option<&str>; 6] = [
        None,
        Some(r#"{"model_id": "a", "team": "x", "lifecycle_phase": "training"}"#),
        Some(r#"{"Model-Id": "B", "team": "y"}"#),
        Some(r#"{"model_id": "a", "model-id": "b"}"#),
        Some("not json"),
        Some(r#"{"model_id": "c", "lifecycle_phase": "inference"}"#),
    ];

    fn group() -> impl Strategy<Value = SourceGroup> {
        (
            0usize..2,
            0usize..2,
            0usize..TAGS.len(),
            -10i128.pow(24)..10i128.pow(24),
            0i32..3,
            any::<bool>(),
            1u64..1000,
        )
            .prop_map(|(p, c, t, cost, status, unused, rows)| {
                let mut g = SourceGroup::default();
                let mut set = |name: &str, v: Option<&str>| {
                    let i = line::DIMENSIONS.iter().position(|d| *d == name).unwrap();
                    g.dims[i] = v.map(str::to_string);
                };
                set(
                    line::BILLING_PERIOD_START,
                    Some(["2026-09-01", "2026-10-01 00:00:00"][p]),
                );
                set(line::BILLING_CURRENCY, Some(["USD", "eur"][c]));
                set(line::TAGS, TAGS[t]);
                set(line::COMMITMENT_DISCOUNT_STATUS, unused.then_some("Unused"));
                g.costs = [Some(Money(cost)); 4];
                g.basis_status = status;
                g.rows = rows;
                g
            })
    }

    proptest! {
        /// Allocated cost per period and currency equals the cost read, exactly; unit
        /// costs carry the same totals; every counted row lands in exactly one row.
        #[test]
        fn allocation_conserves_money(groups in proptest::collection::vec(group(), 0..60)) {
            let ledger = crate::ledger::build(&groups, &Config::default(), None).unwrap();
            let alloc = super::super::allocate(&ledger, &groups, &crate::allocate::rules::RuleSet::default(), None);
            let read: std::collections::BTreeMap<_, _> =
                ledger.totals.iter().map(|(k, t)| (k.clone(), t.cost)).collect();
            let written = alloc.totals();
            prop_assert_eq!(&read.iter().filter(|(_, v)| !v.is_zero()).collect::<Vec<_>>(),
                            &written.iter().filter(|(_, v)| !v.is_zero()).collect::<Vec<_>>());
            let rows_in: u64 = ledger.totals.values().map(|t| t.rows).sum();
            let rows_out: u64 = alloc.rows.iter().map(|r| r.rows).sum();
            prop_assert_eq!(rows_in, rows_out);
            let quarantined: u64 = groups.iter().filter(|g| g.basis_status != 0).map(|g| g.rows).sum();
            prop_assert_eq!(ledger.quarantined_rows(), quarantined);
            let (units, _) = crate::economics::unit_costs(&alloc, None, None, &Default::default());
            let mut unit_totals = std::collections::BTreeMap::new();
            for u in &units {
                *unit_totals.entry((u.period.clone(), u.currency.clone())).or_insert(Money::ZERO) += u.total_cost;
            }
            prop_assert_eq!(unit_totals, written);
        }

        /// With rules, pools and spreading on, money is still conserved exactly per
        /// period and currency, and a share never has the opposite sign of its pool.
        #[test]
        fn pools_and_spreading_conserve_money(groups in proptest::collection::vec(group(), 0..60),
                                               method in 0usize..3) {
            let config = format!(r#"
[[rules]]
id = "c-is-shared"
match = {{ model_id = "c" }}
set = {{ team = "platform" }}

[[shared]]
id = "pool-c"
match = {{ model_id = "c" }}
method = "{}"

[unallocated]
method = "even"

[unused_commitment]
method = "proportional"
"#, ["even", "proportional", "fixed\"\nweights = { a = 0.25, b = 0.75 }\n#"][method]);
            let cfg = crate::config::parse(&config, std::path::Path::new("t.toml")).unwrap();
            let loaded = crate::config::LoadedConfig { config: cfg, path: None, hash: String::new(), text: config.clone() };
            let tagger = crate::tags::TagNormaliser::new(&loaded.config.tags);
            let drivers = |p: &std::path::Path| crate::volumes::SideReader::new(&tagger).driver(p);
            let rules = crate::allocate::rules::compile(&loaded, &tagger, false, &drivers).unwrap();
            let ledger = crate::ledger::build(&groups, &loaded.config, None).unwrap();
            let alloc = super::super::allocate(&ledger, &groups, &rules, None);
            let read: std::collections::BTreeMap<_, _> =
                ledger.totals.iter().map(|(k, t)| (k.clone(), t.cost)).filter(|(_, v)| !v.is_zero()).collect();
            let written: std::collections::BTreeMap<_, _> =
                alloc.totals().into_iter().filter(|(_, v)| !v.is_zero()).collect();
            prop_assert_eq!(read, written);
            for r in alloc.rows.iter().filter(|r| r.allocation_method == "shared:pool-c") {
                let pool: Money = ledger.lines.iter()
                    .filter(|l| l.period == r.period && l.currency == r.currency
                        && ledger.tag_sets[l.tags].0.get("model_id") == Some("c") && !l.unused_commitment)
                    .map(|l| l.cost).sum();
                prop_assert!(pool.0 == 0 || r.cost.0 == 0 || (pool.0 > 0) == (r.cost.0 > 0),
                    "share {} of pool {}", r.cost, pool);
            }
        }
    }
}

/// A share of a pool broken down by dimension: in proportion to the values' amounts (all
/// charges, or all credits), exactly; values mixing credits and charges are `__mixed__`.
#[test]
fn split_parts_of_charges_credits_and_both() {
    let m = |s: &str| Money::parse(s).unwrap();
    let part = |entries: &[(&str, &str)]| -> Breakdown {
        vec![entries
            .iter()
            .map(|(v, c)| (Some(v.to_string()), m(c)))
            .collect()]
    };
    let cents = 10i128.pow(16);
    // 45.00 of 34 : 20 at cents: 28.333.. and 16.666.. -> 28.33 and 16.67
    let charges = split_parts(&part(&[("a", "34"), ("b", "20")]), m("45"), cents);
    assert_eq!(charges[0][&Some("a".into())], m("28.33"));
    assert_eq!(charges[0][&Some("b".into())], m("16.67"));
    // -4.50 of credits -6 : -3 -> -3.00 and -1.50
    let credits = split_parts(&part(&[("a", "-6"), ("b", "-3")]), m("-4.5"), cents);
    assert_eq!(credits[0][&Some("a".into())], m("-3"));
    assert_eq!(credits[0][&Some("b".into())], m("-1.5"));
    let both = split_parts(&part(&[("a", "-6"), ("b", "20")]), m("9"), cents);
    assert_eq!(both[0], BTreeMap::from([(Some(MIXED.to_string()), m("9"))]));
}
