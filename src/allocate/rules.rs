//! Allocation rules compiled from the config: matchers (exact, glob, `re:` regex) over the
//! canonical dimensions and tags, virtual-tag rules, shared-cost pools and how unallocated
//! spend and unused commitment are spread. Compiling checks the rules themselves (duplicate
//! ids, empty matchers, bad patterns, fixed weights that do not sum to 1, a pool that is also a
//! target) and names the rule id and its config line. Applying them is `allocate`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{AmortizeConfig, AmortizeMethod, LoadedConfig, SplitMethod, SpreadMethod};
use crate::error::{Error, Result};
use crate::ingest::SourceGroup;
use crate::money::Money;
use crate::schema::line;
use crate::tags::{TagNormaliser, TagSet, LIFECYCLE_PHASE, MODEL_ID, TEAM};

/// Match keys that name a canonical dimension; any other key is a tag key.
pub const DIMENSION_KEYS: [&str; 10] = [
    line::PROVIDER,
    line::BILLING_ACCOUNT_ID,
    line::SUB_ACCOUNT_ID,
    line::SUB_ACCOUNT_NAME,
    line::SERVICE_NAME,
    line::SERVICE_CATEGORY,
    line::RESOURCE_ID,
    line::RESOURCE_NAME,
    line::REGION,
    line::CHARGE_CATEGORY,
];

/// One pattern: exact text, a glob (`*`, `?`, `[...]`) or a regex (`re:...`).
#[derive(Debug, Clone)]
pub enum Pattern {
    Exact(String),
    Glob(glob::Pattern),
    Regex(regex::Regex),
}

impl Pattern {
    pub fn parse(text: &str) -> std::result::Result<Pattern, String> {
        if let Some(re) = text.strip_prefix("re:") {
            return regex::Regex::new(re)
                .map(Pattern::Regex)
                .map_err(|e| format!("invalid regex `{re}`: {e}"));
        }
        if text.contains(['*', '?', '[']) {
            return glob::Pattern::new(text)
                .map(Pattern::Glob)
                .map_err(|e| format!("invalid glob `{text}`: {e}"));
        }
        Ok(Pattern::Exact(text.to_string()))
    }

    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(e) => e == value,
            Pattern::Glob(g) => g.matches(value),
            Pattern::Regex(r) => r.is_match(value),
        }
    }
}

/// What a matcher condition looks at: a canonical dimension (raw text) or a canonical tag key
/// (normalised value).
#[derive(Debug, Clone)]
pub enum Field {
    Dim(&'static str),
    Tag(String),
}

/// All conditions must hold; a missing value never matches.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    conditions: Vec<(Field, Pattern)>,
}

impl Matcher {
    fn compile(
        raw: &BTreeMap<String, String>,
        tagger: &TagNormaliser,
    ) -> std::result::Result<Matcher, String> {
        let mut conditions = Vec::new();
        for (key, pattern) in raw {
            let field = Field::compile(key, tagger);
            // tag values are compared in their normalised form
            let pattern = match &field {
                Field::Tag(_) if !pattern.starts_with("re:") => tagger.value(pattern),
                _ => pattern.clone(),
            };
            conditions.push((field, Pattern::parse(&pattern)?));
        }
        Ok(Matcher { conditions })
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The conditions, in key order (for the SQL translation in `sql`).
    pub fn conditions(&self) -> &[(Field, Pattern)] {
        &self.conditions
    }

    pub fn matches(&self, group: &SourceGroup, tags: &TagSet) -> bool {
        self.conditions
            .iter()
            .all(|(field, pattern)| field.value(group, tags).is_some_and(|v| pattern.matches(v)))
    }
}

impl Field {
    /// A key of a matcher or of `[output] dimensions`: a billing column of
    /// [`DIMENSION_KEYS`], else a tag key (`tag.` prefix optional) in its canonical form.
    pub fn compile(key: &str, tagger: &TagNormaliser) -> Field {
        let k = key.trim().to_lowercase();
        match DIMENSION_KEYS.iter().find(|d| **d == k) {
            Some(d) => Field::Dim(d),
            None => Field::Tag(tagger.canonical_key(k.strip_prefix("tag.").unwrap_or(&k))),
        }
    }

    /// The value of this field on a source group with these (rule-applied) tags.
    pub fn value<'a>(&self, group: &'a SourceGroup, tags: &'a TagSet) -> Option<&'a str> {
        match self {
            Field::Dim(d) => group.dim(d),
            Field::Tag(k) => tags.get(k),
        }
    }
}

/// A virtual-tag rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub line: usize,
    pub matcher: Matcher,
    /// Canonical key -> normalised value.
    pub set: Vec<(String, String)>,
    pub overrides: bool,
}

impl Rule {
    /// The tag set after this rule: missing keys filled, present ones replaced only with
    /// `override`. Conflicting keys count as missing.
    pub fn apply(&self, tags: &TagSet) -> TagSet {
        let mut out = tags.clone();
        for (k, v) in &self.set {
            if self.overrides || !out.values.contains_key(k) {
                out.values.insert(k.clone(), v.clone());
                out.conflicts.retain(|c| c != k);
            }
        }
        out
    }
}

/// A shared-cost pool.
#[derive(Debug, Clone)]
pub struct Pool {
    pub id: String,
    pub line: usize,
    pub matcher: Matcher,
    /// Tag key -> allowed values a target model must carry on some direct spend.
    pub targets: Vec<(String, Vec<String>)>,
    pub method: SplitMethod,
    pub phase: Option<String>,
    /// Model -> exact fraction, for `fixed`.
    pub weights: Vec<(String, Money)>,
    /// (period, model) -> quantity, for `driver`.
    pub driver: BTreeMap<(String, String), Money>,
}

/// Everything `allocate` needs besides the data.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub pools: Vec<Pool>,
    pub unallocated: SpreadMethod,
    pub unused_commitment: SpreadMethod,
    pub training_months: u32,
    /// `[amortize] method = "served"`: the unit whose volume spreads training cost.
    pub served_unit: Option<String>,
    /// `[output] dimensions`: each with its name in `cost_by_dimension`.
    pub dimensions: Vec<(String, Field)>,
    pub hash: String,
}

/// Compiles and checks the rules of a loaded config. `has_volumes` says whether request
/// volumes were given (needed by the `requests` method).
/// The driver quantities of a pool's driver file, (period, model) -> quantity: the pipeline
/// passes `volumes::SideReader::driver`, so allocation never reads a file itself.
pub type DriverReader<'a> = &'a dyn Fn(&Path) -> Result<BTreeMap<(String, String), Money>>;

pub fn compile(
    loaded: &LoadedConfig,
    tagger: &TagNormaliser,
    has_volumes: bool,
    read_driver: DriverReader,
) -> Result<RuleSet> {
    let c = &loaded.config;
    let path = loaded
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("mlcost.toml"));
    let err = |id: &str, line: usize, message: String, hint: Option<&str>| Error::Config {
        path: path.clone(),
        message: format!("rule `{id}` (line {line}): {message}"),
        hint: hint.map(str::to_string),
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // id, line and matcher of a rule or pool; ids are unique across both
    let mut head = |spanned: &toml::Spanned<String>, matches: &BTreeMap<String, String>| {
        let id = spanned.get_ref().clone();
        let line = loaded.line_of(spanned.span().start);
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(err(
                &id,
                line,
                format!("the id is already used on line {first}"),
                Some("rule and pool ids must be unique"),
            ));
        }
        let matcher = Matcher::compile(matches, tagger).map_err(|m| err(&id, line, m, None))?;
        Ok((id, line, matcher))
    };
    let mut rules = Vec::new();
    for r in &c.rules {
        let (id, line, matcher) = head(&r.id, &r.matches)?;
        if matcher.is_empty() {
            return Err(err(&id, line, "`match` is empty, so the rule would match all spend".into(), Some("add at least one matcher, e.g. `match = { service_name = \"Amazon SageMaker\" }`")));
        }
        if r.set.is_empty() {
            return Err(err(
                &id,
                line,
                "`set` is empty, so the rule would do nothing".into(),
                None,
            ));
        }
        let set = r
            .set
            .iter()
            .map(|(k, v)| (tagger.canonical_key(k), tagger.value(v)))
            .collect();
        rules.push(Rule {
            id,
            line,
            matcher,
            set,
            overrides: r.overrides,
        });
    }
    let mut pools = Vec::new();
    let base = loaded
        .path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for p in &c.shared {
        let (id, line, matcher) = head(&p.id, &p.matches)?;
        if matcher.is_empty() {
            return Err(err(
                &id,
                line,
                "`match` is empty: say which spend the pool holds".into(),
                None,
            ));
        }
        let targets: Vec<(String, Vec<String>)> = p
            .targets
            .iter()
            .map(|(k, v)| {
                (
                    tagger.canonical_key(k),
                    v.values().iter().map(|x| tagger.value(x)).collect(),
                )
            })
            .collect();
        let mut weights = Vec::new();
        if p.method == SplitMethod::Fixed {
            if p.weights.is_empty() {
                return Err(err(
                    &id,
                    line,
                    "method `fixed` needs `weights = { model = fraction, ... }`".into(),
                    None,
                ));
            }
            let mut sum = Money::ZERO;
            for (model, w) in &p.weights {
                let m = Money::parse(&w.to_string())
                    .map_err(|e| err(&id, line, format!("weight of `{model}`: {e}"), None))?;
                if m.0 < 0 {
                    return Err(err(
                        &id,
                        line,
                        format!("weight of `{model}` is negative"),
                        None,
                    ));
                }
                sum += m;
                weights.push((tagger.value(model), m));
            }
            if sum != Money(crate::money::ONE) {
                return Err(err(
                    &id,
                    line,
                    format!("fixed weights sum to {sum}, not 1"),
                    Some("make the fractions add up to exactly 1"),
                ));
            }
        } else if !p.weights.is_empty() {
            return Err(err(
                &id,
                line,
                "`weights` is only used with method `fixed`".into(),
                None,
            ));
        }
        if p.method == SplitMethod::Requests && !has_volumes {
            return Err(err(
                &id,
                line,
                "method `requests` needs request volumes".into(),
                Some("pass `--requests FILE`"),
            ));
        }
        let driver = match (&p.method, &p.driver) {
            (SplitMethod::Driver, Some(f)) => read_driver(&base.join(f))?,
            (SplitMethod::Driver, None) => {
                return Err(err(
                    &id,
                    line,
                    "method `driver` needs `driver = \"file.csv\"`".into(),
                    None,
                ));
            }
            _ => BTreeMap::new(),
        };
        pools.push(Pool {
            id,
            line,
            matcher,
            targets,
            method: p.method,
            phase: p.phase.as_deref().map(|x| tagger.value(x)),
            weights,
            driver,
        });
    }
    // A pool must not be a target of a pool: it would pass spend around in a circle.
    for p in &pools {
        let selected: Vec<String> = p
            .matcher
            .conditions
            .iter()
            .filter_map(|(f, pat)| match (f, pat) {
                (Field::Tag(k), Pattern::Exact(v)) if k == crate::tags::MODEL_ID => Some(v.clone()),
                _ => None,
            })
            .collect();
        for q in &pools {
            let named = q
                .targets
                .iter()
                .filter(|(k, _)| k == crate::tags::MODEL_ID)
                .flat_map(|(_, v)| v.iter())
                .chain(q.weights.iter().map(|(m, _)| m));
            for m in named {
                if selected.contains(m) {
                    let what = if p.id == q.id {
                        "its own selection"
                    } else {
                        "another pool"
                    };
                    return Err(err(
                        &q.id,
                        q.line,
                        format!("target `{m}` is the spend of pool `{}` ({what}); pools cannot feed pools", p.id),
                        Some("name the models that should receive the cost, not a pool"),
                    ));
                }
            }
        }
    }
    Ok(RuleSet {
        rules,
        pools,
        unallocated: c.unallocated.method,
        unused_commitment: c.unused_commitment.method,
        training_months: c.amortize.training_months.max(1),
        served_unit: served_unit(&c.amortize, &path, has_volumes)?,
        dimensions: dimensions(&c.output.dimensions, tagger, &path)?,
        hash: loaded.rules_hash(),
    })
}

/// The fields of `[output] dimensions`, named as in `cost_by_dimension` (the billing column,
/// or the canonical tag key). Empty, repeated, and the grain's own keys are config errors.
fn dimensions(
    keys: &[String],
    tagger: &TagNormaliser,
    path: &Path,
) -> Result<Vec<(String, Field)>> {
    let err = |message: String| Error::Config {
        path: path.to_path_buf(),
        message: format!("`[output] dimensions`: {message}"),
        hint: Some(format!(
            "list billing columns ({}) or tag keys such as `project` and `cost_center`",
            DIMENSION_KEYS.join(", ")
        )),
    };
    let mut out: Vec<(String, Field)> = Vec::new();
    let mut entries: Vec<&str> = Vec::new();
    for key in keys {
        let trimmed = key.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("tag.") {
            return Err(err("an entry is empty".into()));
        }
        let field = Field::compile(trimmed, tagger);
        // a tag named like a billing column keeps its prefix, so both can be listed
        let name = match &field {
            Field::Dim(d) => d.to_string(),
            Field::Tag(k) if DIMENSION_KEYS.contains(&k.as_str()) => format!("tag.{k}"),
            Field::Tag(k) => k.clone(),
        };
        if matches!(&field, Field::Tag(k) if [MODEL_ID, TEAM, LIFECYCLE_PHASE].contains(&k.as_str()))
        {
            return Err(err(format!(
                "`{trimmed}` is `{name}`, already a column of every row (the breakdown is model x team x lifecycle_phase x dimension)"
            )));
        }
        if let Some(i) = out.iter().position(|(n, _)| *n == name) {
            return Err(err(format!(
                "`{}` and `{trimmed}` both name `{name}`",
                entries[i]
            )));
        }
        out.push((name, field));
        entries.push(trimmed);
    }
    Ok(out)
}

/// The unit of `[amortize] method = "served"`, checked: it needs a window of more than one
/// month and volumes to spread over; `unit` means nothing with `months`.
fn served_unit(a: &AmortizeConfig, path: &Path, has_volumes: bool) -> Result<Option<String>> {
    let err = |message: &str, hint: &str| Error::Config {
        path: path.to_path_buf(),
        message: format!("`[amortize]`: {message}"),
        hint: Some(hint.to_string()),
    };
    match a.method {
        AmortizeMethod::Months if a.unit.is_some() => Err(err(
            "`unit` is only used with `method = \"served\"`",
            "remove `unit`, or set `method = \"served\"` to spread training over that unit",
        )),
        AmortizeMethod::Months => Ok(None),
        AmortizeMethod::Served if a.training_months <= 1 => Err(err(
            "`method = \"served\"` needs `training_months` above 1: the most months one training run is spread over",
            "for example `training_months = 12`",
        )),
        AmortizeMethod::Served if !has_volumes => Err(err(
            "`method = \"served\"` spreads training over the volume each model serves, and no volumes were given",
            "pass `--requests FILE` (requests, or the `[amortize] unit` of a volumes file)",
        )),
        AmortizeMethod::Served => {
            let unit = crate::config::unit_name(a.unit.as_deref().unwrap_or("requests"));
            match unit.is_empty() {
                true => Err(err(
                    "`unit` is empty",
                    "name a unit of the volumes file, for example `unit = \"tokens\"`",
                )),
                false => Ok(Some(unit)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TagsConfig;

    #[test]
    fn patterns() {
        assert!(Pattern::parse("*feature-store*")
            .unwrap()
            .matches("arn:x:feature-store-1"));
        assert!(!Pattern::parse("*feature-store*")
            .unwrap()
            .matches("arn:x:store"));
        assert!(Pattern::parse("ml-*").unwrap().matches("ml-training-prod"));
        assert!(Pattern::parse("re:^i-[0-9a-f]{4}$")
            .unwrap()
            .matches("i-0a1b"));
        assert!(Pattern::parse("exact").unwrap().matches("exact"));
        assert!(!Pattern::parse("exact").unwrap().matches("Exact"));
        assert!(Pattern::parse("re:(").is_err());
    }

    fn load(text: &str) -> LoadedConfig {
        let config = crate::config::parse(text, Path::new("mlcost.toml")).unwrap();
        LoadedConfig {
            config,
            path: Some("mlcost.toml".into()),
            hash: String::new(),
            text: text.to_string(),
        }
    }

    fn compile_err(text: &str) -> String {
        let l = load(text);
        let t = TagNormaliser::new(&TagsConfig::default());
        compile(&l, &t, false, &|p: &Path| {
            crate::volumes::SideReader::new(&t).driver(p)
        })
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn rule_errors_name_the_rule_and_line() {
        let e = compile_err("[[rules]]\nid = \"a\"\nmatch = { service_name = \"x\" }\nset = { team = \"t\" }\n\n[[rules]]\nid = \"a\"\nmatch = { service_name = \"y\" }\nset = { team = \"t\" }\n");
        assert!(
            e.contains("rule `a` (line 7): the id is already used on line 2"),
            "{e}"
        );
        let e = compile_err("[[rules]]\nid = \"b\"\nset = { team = \"t\" }\n");
        assert!(e.contains("rule `b` (line 2): `match` is empty"), "{e}");
        let e = compile_err(
            "[[rules]]\nid = \"c\"\nmatch = { resource_id = \"re:(\" }\nset = { team = \"t\" }\n",
        );
        assert!(e.contains("rule `c` (line 2): invalid regex"), "{e}");
    }

    #[test]
    fn pool_errors() {
        let e = compile_err("[[shared]]\nid = \"fs\"\nmatch = { model_id = \"__fs__\" }\nmethod = \"fixed\"\nweights = { a = 0.6, b = 0.3 }\n");
        assert!(
            e.contains("rule `fs` (line 2): fixed weights sum to 0.9, not 1"),
            "{e}"
        );
        let e = compile_err(
            "[[shared]]\nid = \"fs\"\nmatch = { model_id = \"__fs__\" }\nmethod = \"requests\"\n",
        );
        assert!(e.contains("needs request volumes"), "{e}");
        let e = compile_err("[[shared]]\nid = \"a\"\nmatch = { model_id = \"__a__\" }\ntargets = { model_id = \"__b__\" }\n\n[[shared]]\nid = \"b\"\nmatch = { model_id = \"__b__\" }\ntargets = { model_id = [\"__a__\", \"x\"] }\n");
        assert!(e.contains("pools cannot feed pools"), "{e}");
        let ok = load("[[shared]]\nid = \"fs\"\nmatch = { model_id = \"__fs__\" }\nmethod = \"fixed\"\nweights = { a = 0.6, b = 0.4 }\n");
        let t = TagNormaliser::new(&TagsConfig::default());
        let rs = compile(&ok, &t, false, &|p: &Path| {
            crate::volumes::SideReader::new(&t).driver(p)
        })
        .unwrap();
        assert_eq!(
            rs.pools[0].weights.iter().map(|w| w.1).sum::<Money>(),
            Money(crate::money::ONE)
        );
    }
}
