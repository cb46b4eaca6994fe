//! Tests of the parent module.

use super::*;

#[test]
fn starter_parses() {
    let c = parse(STARTER, Path::new("mlcost.toml")).unwrap();
    assert_eq!(c.tags.required.len(), 6);
    assert_eq!(c.tags.aliases["model-id"], "model_id");
    assert_eq!(c.cost.basis, CostBasis::Effective);
}

#[test]
fn unknown_key_names_line_and_key() {
    let err = parse("[tags]\nrequird = []\n", Path::new("x.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("x.toml"), "{msg}");
    assert!(msg.contains("requird"), "{msg}");
    assert!(msg.contains("line 2"), "{msg}");
}

#[test]
fn out_of_range_numbers_name_the_key_and_line() {
    for (text, want) in [
        (
            "[amortize]\ntraining_months = 4294967295\n",
            "between 1 and 120 months",
        ),
        (
            "[amortize]\ntraining_months = 0\n",
            "between 1 and 120 months",
        ),
        ("[targets]\nmax_cost_per_1000_requests = nan\n", "got NaN"),
        ("[targets]\nmin_roi = -1\n", "got -1"),
        (
            "[targets.models.x]\nmax_cost_pct_of_revenue = inf\n",
            "got inf",
        ),
        ("[hidden]\ndefault_utilization = 0\n", "from 0.000001 to 1"),
        ("[hidden]\nwaste_fraction = 1.5\n", "between 0 and 1"),
        ("[hidden]\nutilization = { a = 2 }\n", "utilisation of `a`"),
        ("[hidden]\nftes = 1e300\n", "from 0 to 10^15"),
        (
            "[hidden]\nengineering_allocation = \"fair\"\n",
            "`even` or `proportional`",
        ),
        ("[validate]\nmin_compliance = 1.5\n", "between 0 and 1"),
    ] {
        let msg = parse(text, Path::new("x.toml")).unwrap_err().to_string();
        assert!(msg.contains("line 2"), "{text}: {msg}");
        assert!(msg.contains(want), "{text}: {msg}");
    }
}

#[test]
fn target_keys_are_normalised_like_model_ids() {
    let c = parse(
        "[targets.models.\" Search-Ranker-V2 \"]\nmax_cost_per_1000_requests = 1\n",
        Path::new("x"),
    )
    .unwrap();
    assert_eq!(
        c.targets
            .for_model("search-ranker-v2")
            .max_cost_per_1000_requests,
        Some(1.0)
    );
    let err = parse(
        "[targets.models.A]\nmin_roi = 1\n[targets.models.a]\nmin_roi = 2\n",
        Path::new("x"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("are the same model `a`"), "{err}");
    let c = parse(
        "[tags]\nlowercase_values = false\n[targets.models.A]\nmin_roi = 1\n",
        Path::new("x"),
    )
    .unwrap();
    assert!(c.targets.models.contains_key("A"));
}

#[test]
fn rejects_bad_values() {
    assert!(parse("[validate]\nmin_compliance = 1.5\n", Path::new("x")).is_err());
    assert!(parse("[cost]\nbasis = \"blended\"\n", Path::new("x")).is_err());
    assert!(parse("[tags]\nrequired = [\"team\", \" Team\"]\n", Path::new("x")).is_err());
    assert!(parse("[tags]\nrequired = \"team\"\n", Path::new("x")).is_err());
}

/// Every TOML example in the docs must be a valid config, so the docs cannot rot.
#[test]
fn documented_examples_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut blocks = 0;
    for doc in ["README.md", "docs/allocation.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for block in text.split("```toml\n").skip(1) {
            let body = block.split("```").next().unwrap();
            parse(body, Path::new(doc)).unwrap_or_else(|e| panic!("{doc}: {e}\n{body}"));
            blocks += 1;
        }
    }
    assert!(blocks >= 5, "found only {blocks} examples");
    parse(
        include_str!("../../sample_data/mlcost.toml"),
        Path::new("sample_data/mlcost.toml"),
    )
    .unwrap();
}

#[test]
fn hash_changes_with_content() {
    let a = config_hash(&Config::default());
    let mut c = Config::default();
    c.cost.basis = CostBasis::Billed;
    assert_ne!(a, config_hash(&c));
    assert_eq!(a, config_hash(&Config::default()));
}

mod fuzz {
    use proptest::prelude::*;

    use super::super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        /// Any config text gives a config or a config error, never a panic.
        #[test]
        fn config_text_never_panics(text in prop_oneof![
            ".{0,300}",
            "(\\[\\[?(tags|rules|shared|cost|validate|targets|hidden)\\]\\]?\n([a-z_]{1,12} = (\"[a-z*]{0,6}\"|[0-9.-]{1,4}|\\{\\}|\\[\\])\n){0,4}){0,4}",
        ]) {
            let _ = parse(&text, Path::new("fuzz.toml"));
        }
    }
}

/// Unit keys compare as the volumes' units do; a unit named twice, or one figure given two
/// limits, is an error rather than a silent pick.
#[test]
fn unit_target_keys_are_unit_names_and_each_limit_is_given_once() {
    let c = parse(
        "[targets.units.\"GPU Hours\"]\nmax_cost_per_unit = 1\n[targets.models.m.units.\"gpu-hours\"]\nmax_cost_per_1000 = 9\n",
        Path::new("x"),
    )
    .unwrap();
    let t = c.targets.for_unit("m", "gpu_hours");
    assert_eq!(
        (t.max_cost_per_unit, t.max_cost_per_1000),
        (Some(1.0), Some(9.0))
    );
    for (text, want) in [
        (
            "[targets.units.GPU_Hours]\nmax_cost_per_unit = 1\n[targets.units.gpu_hours]\nmax_cost_per_unit = 2\n",
            "names unit `gpu_hours` twice",
        ),
        (
            "[targets]\nmax_cost_per_1m_tokens = 0.3\n[targets.units.tokens]\nmax_cost_per_1m = 0.4\n",
            "`[targets]` sets the limit of unit `tokens` twice",
        ),
        (
            "[targets.models.m]\nmax_cost_per_1000_requests = 0.1\n[targets.models.m.units.Requests]\nmax_cost_per_1000 = 0.2\n",
            "`[targets.models.m]` sets the limit of unit `requests` twice",
        ),
    ] {
        let err = parse(text, Path::new("x")).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}
