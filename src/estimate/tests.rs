//! Tests of the parent module.

use super::*;

fn recommendation() -> Estimate {
    let text = include_str!("../../sample_data/profile_recommendation.toml");
    estimate(
        text,
        Path::new("profile.toml"),
        &Catalog::default_catalog().unwrap(),
    )
    .unwrap()
}

fn cat<'a>(m: &'a ModelEstimate, c: &str) -> &'a CategoryCost {
    m.categories.iter().find(|x| x.category == c).unwrap()
}

/// The worked example, by hand:
/// training: 24.48/h x (1 - 0.7) = 7.344/h; 1 x 3 h x 30 runs = 90 h -> 660.96
/// inference: 3.912/h x (1 - 0.4) = 2.3472/h; 4 x 730 h = 2920 h -> 6853.824
/// feature pipeline: 0.768/h x 0.3 = 0.2304/h; 2 h x 30 days = 60 h -> 13.824
/// storage: (500 + 20 + 200 + 150) GB x 0.023 = 20.01
/// transfer: 100 GB x 0.09 = 9
/// total 7557.618 a month, 90691.416 a year; / 72,000,000 requests = 0.000104966916666667
#[test]
fn worked_example_by_category() {
    let e = recommendation();
    let m = &e.models[0];
    assert_eq!(cat(m, "training").rate.to_string(), "7.344");
    assert_eq!(cat(m, "training").quantity.to_string(), "90");
    assert_eq!(cat(m, "training").monthly.to_string(), "660.96");
    assert_eq!(cat(m, "inference").rate.to_string(), "2.3472");
    assert_eq!(cat(m, "inference").monthly.to_string(), "6853.824");
    assert_eq!(cat(m, "feature_pipeline").monthly.to_string(), "13.824");
    assert_eq!(cat(m, "storage").monthly.to_string(), "20.01");
    assert_eq!(cat(m, "data_transfer").monthly.to_string(), "9");
    assert_eq!(m.monthly.to_string(), "7557.618");
    assert_eq!(m.annual.to_string(), "90691.416");
    assert_eq!(
        m.cost_per_request.unwrap().to_string(),
        "0.000104966916666667"
    );
    assert_eq!(
        m.cost_per_1000_requests.unwrap().to_string(),
        "0.104966916666666667"
    );
}

#[test]
fn every_pricing_model() {
    let catalog = Catalog::default_catalog().unwrap();
    let base = "[[model]]\nname = \"m\"\n[model.inference]\ninstance = \"g4dn.xlarge\"\nreplicas = 1\nhours_per_month = 100\npricing = \"PRICING\"\n";
    for (pricing, want) in [
        ("on_demand", "52.6"),
        ("spot", "15.78"),
        ("reserved_1y", "31.56"),
        ("reserved_3y", "21.04"),
        ("savings_plan", "36.82"),
    ] {
        let e = estimate(
            &base.replace("PRICING", pricing),
            Path::new("p.toml"),
            &catalog,
        )
        .unwrap();
        assert_eq!(e.models[0].monthly.to_string(), want, "{pricing}");
    }
}

#[test]
fn errors_name_the_profile_line() {
    let catalog = Catalog::default_catalog().unwrap();
    let e = estimate(
        "[[model]]\nname = \"m\"\n[model.inference]\ninstance = \"p9.huge\"\nreplicas = 1\n",
        Path::new("p.toml"),
        &catalog,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("line 4: unknown instance type `p9.huge`"),
        "{e}"
    );
    let e = estimate("[[model]]\nname = \"m\"\n[model.training]\ninstance = \"p3.16xlarge\"\nhours_per_run = -3\nruns_per_month = 1\n", Path::new("p.toml"), &catalog)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("line 5: `training.hours_per_run` is negative"),
        "{e}"
    );
    let e = estimate("[[model]]\nname = \"m\"\n[model.training]\ninstance = \"p3.16xlarge\"\nruns_per_month = 1\n", Path::new("p.toml"), &catalog)
        .unwrap_err();
    assert!(
        e.to_string().contains("missing field `hours_per_run`"),
        "{e}"
    );
}

#[test]
fn what_if_stop_using_spot_and_move_inference() {
    let text = include_str!("../../sample_data/profile_recommendation.toml");
    let catalog = Catalog::default_catalog().unwrap();
    let alt = apply_overrides(text, Path::new("p.toml"), &["pricing=on_demand".into()]).unwrap();
    let e = estimate(&alt, Path::new("p.toml"), &catalog).unwrap();
    // 24.48 x 90 + 3.912 x 2920 + 0.768 x 60 + 20.01 + 9 = 2203.2 + 11423.04 + 46.08 + 29.01
    assert_eq!(e.models[0].monthly.to_string(), "13701.33");
    let alt = apply_overrides(
        text,
        Path::new("p.toml"),
        &[
            "inference.instance=g4dn.xlarge".into(),
            "inference.replicas=12".into(),
        ],
    )
    .unwrap();
    let e = estimate(&alt, Path::new("p.toml"), &catalog).unwrap();
    // inference: 0.526 x 0.6 = 0.3156/h x 12 x 730 = 2764.656
    assert_eq!(
        cat(&e.models[0], "inference").monthly.to_string(),
        "2764.656"
    );
    assert!(apply_overrides(text, Path::new("p.toml"), &["nonsense".into()]).is_err());
}

#[test]
fn frontier_of_a_hand_made_set() {
    let text = "[[candidate]]\nname = \"small\"\naccuracy = 0.90\nmonthly_cost = 1000\n\n[[candidate]]\nname = \"medium\"\naccuracy = 0.92\nmonthly_cost = 1400\n\n[[candidate]]\nname = \"wasteful\"\naccuracy = 0.91\nmonthly_cost = 2000\n\n[[candidate]]\nname = \"large\"\naccuracy = 0.93\nmonthly_cost = 3000\n";
    let c = frontier(
        text,
        Path::new("c.toml"),
        &Catalog::default_catalog().unwrap(),
    )
    .unwrap();
    let names: Vec<(&str, bool)> = c.iter().map(|c| (c.name.as_str(), c.optimal)).collect();
    assert_eq!(
        names,
        [
            ("small", true),
            ("medium", true),
            ("wasteful", false),
            ("large", true)
        ]
    );
    let w = c.iter().find(|c| c.name == "wasteful").unwrap();
    assert_eq!(w.dominated_by.as_deref(), Some("medium"));
    // medium: +400 for 2 points = 200 a point; large: +1600 for 1 point
    assert_eq!(c[1].marginal_cost_per_point.unwrap().to_string(), "200");
    assert_eq!(c[3].marginal_cost_per_point.unwrap().to_string(), "1600");
}

#[test]
fn plan_vs_actual_flags_on_demand_billing() {
    let e = recommendation();
    let mut actual = crate::economics::UnitCostRow {
        period: "2026-10".into(),
        model_id: "recommendation".into(),
        team: "recsys".into(),
        currency: "USD".into(),
        phase_costs: [Money::ZERO; 7],
        total_cost: Money::ZERO,
        requests: None,
        cost_per_request: None,
        cost_per_1000_requests: None,
        reason: None,
        revenue: None,
        value_preserved: None,
        economics: Default::default(),
        verdict: String::new(),
        verdict_reason: None,
        billing_status: None,
    };
    // inference billed at on-demand: 3.912 x 2920 = 11423.04; training as planned
    actual.phase_costs[1] = Money::parse("11423.04").unwrap();
    actual.phase_costs[0] = Money::parse("660.96").unwrap();
    let rows = plan_vs_actual(&e, &[actual]);
    assert_eq!(rows[0].category, "inference", "the biggest gap comes first");
    assert_eq!(rows[0].gap.unwrap().to_string(), "4569.216");
    assert!(
        rows[0].note.as_deref().unwrap().contains("reserved_1y"),
        "{:?}",
        rows[0].note
    );
    let training = rows.iter().find(|r| r.category == "training").unwrap();
    assert_eq!(training.gap.unwrap().to_string(), "0");
    assert!(training.note.is_none());
}

#[test]
fn catalog_rejects_discounts_outside_0_1() {
    let bad = DEFAULT_CATALOG.replace("hourly = 0.526", "hourly = 0.526\nspot_discount = 1.5");
    assert!(Catalog::parse(&bad, Path::new("c.toml")).is_err());
}

/// The shipped catalog dates every instance like itself: one stale entry, the catalog's, not
/// one per instance; a price taken in the future is not stale.
#[test]
fn an_instance_dated_like_its_catalog_is_flagged_once() {
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let catalog = Catalog::default_catalog().unwrap();
    let mut e = recommendation();
    assert_eq!(e.instances.len(), 3, "{:?}", e.instances);
    e.age_prices(&catalog, day("2027-06-01"));
    assert_eq!(
        e.stale_prices,
        vec![StalePrice {
            what: "the catalog".into(),
            as_of: "2026-11-01".into(),
            age_days: 212
        }]
    );
    e.age_prices(&catalog, day("2020-01-01"));
    assert!(e.stale_prices.is_empty());
}

/// A profile may give tokens a month: 7557.618 x 1,000,000 / 30,000,000,000 tokens =
/// 0.2519206 per million tokens, in the report and through a what-if.
#[test]
fn tokens_per_month_give_the_cost_per_million_tokens() {
    let text = include_str!("../../sample_data/profile_recommendation.toml").replace(
        "requests_per_month = 72_000_000",
        "requests_per_month = 72_000_000\ntokens_per_month = 30_000_000_000",
    );
    let catalog = Catalog::default_catalog().unwrap();
    let e = estimate(&text, Path::new("p.toml"), &catalog).unwrap();
    let m = &e.models[0];
    assert_eq!(m.cost_per_1m_tokens.unwrap().to_string(), "0.2519206");
    let shown = crate::report::estimate_text(&e);
    assert!(
        shown.contains("30000000000 tokens a month: 0.251921 per 1M tokens"),
        "{shown}"
    );
    let alt = apply_overrides(&text, Path::new("p.toml"), &["pricing=on_demand".into()]).unwrap();
    let alt = estimate(&alt, Path::new("p.toml"), &catalog).unwrap();
    let shown = crate::report::compare_text(&e, &alt, &["pricing=on_demand".into()]);
    // 13701.33 x 1,000,000 / 30,000,000,000 = 0.456711
    assert!(
        shown.contains("cost per 1M tokens: 0.251921 -> 0.456711"),
        "{shown}"
    );
    // zero tokens: no cost per million, no division
    let zero = text.replace("30_000_000_000", "0");
    let e = estimate(&zero, Path::new("p.toml"), &catalog).unwrap();
    assert_eq!(e.models[0].cost_per_1m_tokens, None);
}
