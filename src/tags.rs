//! Tags: parse one raw tag text (a FOCUS JSON object, possibly without braces), normalise keys
//! (trim, lower-case, aliases) and values, detect conflicts, and check a tag set against the
//! required keys and allowed values. Works on one distinct tag text at a time; callers parse
//! each distinct text once, never once per row.

use std::collections::BTreeMap;

use crate::config::TagsConfig;

/// Tag keys, after aliasing, that attribution reads.
pub const MODEL_ID: &str = "model_id";
pub const TEAM: &str = "team";
pub const LIFECYCLE_PHASE: &str = "lifecycle_phase";

/// A normalised tag set: canonical key -> value, plus what went wrong while building it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    pub values: BTreeMap<String, String>,
    /// Canonical keys whose source keys disagreed; their value is left out of `values`.
    pub conflicts: Vec<String>,
    /// The raw text was present but not a JSON object of scalar values.
    pub malformed: bool,
}

impl TagSet {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

/// One compliance problem of a tag set, in the `tag_compliance.problem` spelling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Problem {
    Missing(String),
    Invalid(String),
    Conflict(String),
    Malformed,
}

impl Problem {
    pub fn code(&self) -> String {
        match self {
            Problem::Missing(k) => format!("missing:{k}"),
            Problem::Invalid(k) => format!("invalid:{k}"),
            Problem::Conflict(k) => format!("conflict:{k}"),
            Problem::Malformed => "malformed:tags".to_string(),
        }
    }

    /// The required key this problem is about (None for a malformed tag text).
    pub fn key(&self) -> Option<&str> {
        match self {
            Problem::Missing(k) | Problem::Invalid(k) | Problem::Conflict(k) => Some(k),
            Problem::Malformed => None,
        }
    }
}

/// Parses and normalises tag text with a config. Build once per run and reuse.
#[derive(Debug, Clone)]
pub struct TagNormaliser {
    aliases: BTreeMap<String, String>,
    required: Vec<String>,
    allowed: BTreeMap<String, Vec<String>>,
    lowercase_values: bool,
}

impl TagNormaliser {
    pub fn new(config: &TagsConfig) -> TagNormaliser {
        let norm = |s: &str| s.trim().to_lowercase();
        let lowercase_values = config.lowercase_values;
        let value = |s: &str| normalise_value(s, lowercase_values);
        TagNormaliser {
            aliases: config
                .aliases
                .iter()
                .map(|(k, v)| (norm(k), norm(v)))
                .collect(),
            required: config.required.iter().map(|k| norm(k)).collect(),
            allowed: config
                .allowed
                .iter()
                .map(|(k, vs)| (norm(k), vs.iter().map(|v| value(v)).collect()))
                .collect(),
            lowercase_values,
        }
    }

    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// Canonical key -> the normalised values `[tags] allowed` lists for it.
    pub fn allowed(&self) -> &BTreeMap<String, Vec<String>> {
        &self.allowed
    }

    /// Normalised source key -> canonical key.
    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }

    /// Whether values are lower-cased (`[tags] lowercase_values`).
    pub fn lowercases_values(&self) -> bool {
        self.lowercase_values
    }

    /// The canonical form of a source key: trimmed, lower-cased, then aliased.
    pub fn canonical_key(&self, key: &str) -> String {
        let k = key.trim().to_lowercase();
        match self.aliases.get(&k) {
            Some(to) => to.clone(),
            None => k,
        }
    }

    /// The canonical form of a value (also applied to model ids in the request volumes).
    pub fn value(&self, v: &str) -> String {
        normalise_value(v, self.lowercase_values)
    }

    /// Parses raw tag text (None or empty = no tags).
    pub fn parse(&self, raw: Option<&str>) -> TagSet {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return TagSet::default();
        };
        match parse_pairs(raw) {
            Some(pairs) => self.from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_deref()))),
            None => TagSet {
                malformed: true,
                ..TagSet::default()
            },
        }
    }

    /// Builds a tag set from (source key, value) pairs, applying aliases and detecting
    /// conflicts. A null or blank value counts as absent.
    pub fn from_pairs<'a>(
        &self,
        pairs: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    ) -> TagSet {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut conflicts: Vec<String> = Vec::new();
        for (key, value) in pairs {
            let Some(value) = value.map(|v| self.value(v)).filter(|v| !v.is_empty()) else {
                continue;
            };
            let key = self.canonical_key(key);
            if key.is_empty() {
                continue;
            }
            match values.get(&key) {
                Some(existing) if *existing != value => {
                    if !conflicts.contains(&key) {
                        conflicts.push(key.clone());
                    }
                }
                Some(_) => {}
                None => {
                    values.insert(key, value);
                }
            }
        }
        for key in &conflicts {
            values.remove(key);
        }
        conflicts.sort();
        TagSet {
            values,
            conflicts,
            malformed: false,
        }
    }

    /// Compliance problems of a tag set against the required keys and allowed values,
    /// in a stable order.
    pub fn problems(&self, tags: &TagSet) -> Vec<Problem> {
        let mut out = Vec::new();
        if tags.malformed {
            out.push(Problem::Malformed);
        }
        for key in &self.required {
            if tags.conflicts.contains(key) {
                out.push(Problem::Conflict(key.clone()));
            } else if let Some(v) = tags.values.get(key) {
                if let Some(allowed) = self.allowed.get(key) {
                    if !allowed.contains(v) {
                        out.push(Problem::Invalid(key.clone()));
                    }
                }
            } else {
                out.push(Problem::Missing(key.clone()));
            }
        }
        out
    }
}

fn normalise_value(v: &str, lowercase: bool) -> String {
    crate::config::normalise_value(v, lowercase)
}

/// Reads a JSON object of scalar values into (key, value-as-text) pairs, keeping duplicate
/// keys (JSON text may repeat a key; we must see both to detect a conflict). Accepts the Azure
/// form without surrounding braces. Returns None when the text is not such an object.
pub fn parse_pairs(raw: &str) -> Option<Vec<(String, Option<String>)>> {
    let text = if raw.starts_with('{') {
        raw.to_string()
    } else {
        format!("{{{raw}}}")
    };
    let pairs: Pairs = serde_json::from_str(&text).ok()?;
    Some(pairs.0)
}

/// A JSON object read as an ordered list of pairs, so duplicate keys survive.
struct Pairs(Vec<(String, Option<String>)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object of scalar values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    let text = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s),
                        serde_json::Value::Bool(b) => Some(b.to_string()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => return Err(serde::de::Error::custom("nested tag value")),
                    };
                    out.push((k, text));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Tags as a JSON object, in the given order.
pub fn render_json(pairs: &[(String, String)]) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    // serialising a map of strings cannot fail
    serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default() + "\n"
}

/// Tags as a Terraform `tags = { ... }` map. Values (and any key that is not a plain
/// identifier) are HCL strings with every escape HCL knows, template sequences included
/// (`${` and `%{` would otherwise interpolate or run a directive), so a tag value taken from
/// user data is only ever a string.
pub fn render_terraform(pairs: &[(String, String)]) -> String {
    let keys: Vec<String> = pairs.iter().map(|(k, _)| hcl_key(k)).collect();
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
    let mut out = String::from("tags = {\n");
    for (k, (_, v)) in keys.iter().zip(pairs) {
        out.push_str(&format!("  {k:<width$} = {}\n", hcl_string(v)));
    }
    out.push_str("}\n");
    out
}

/// A map key as HCL takes it: bare when it is an identifier, else a quoted string.
fn hcl_key(k: &str) -> String {
    let mut chars = k.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match identifier {
        true => k.to_string(),
        false => hcl_string(k),
    }
}

/// A quoted HCL string holding exactly `s`: backslash, quote and control characters escaped,
/// and the template sequences `${` and `%{` doubled to their literal forms `$${` and `%%{`.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Tags as AWS CLI `Key=...,Value=...` arguments (as `aws ec2 create-tags --tags` takes them),
/// each one word of shell: quoted (`'...'`, a `'` inside as `'\''`) unless it is made only of
/// characters no shell treats specially, so a value such as `$(rm -rf ~)` is only ever text.
pub fn render_aws_cli(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            shell_word(&format!(
                "Key={},Value={}",
                shorthand_value(k),
                shorthand_value(v)
            ))
        })
        .collect();
    items.join(" ") + "\n"
}

/// A key or value in the AWS CLI shorthand syntax: as it is when it holds none of the
/// characters shorthand parses (`,` would start a list, `=` another key), else in double
/// quotes with `"` and `\` escaped.
fn shorthand_value(s: &str) -> String {
    match s.contains([',', '=', '"', '\\', '\'', '[', ']', '{', '}']) || s.trim() != s {
        true => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        false => s.to_string(),
    }
}

/// `s` as one shell word (POSIX sh, bash, zsh).
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/=@+%".contains(c));
    match plain {
        true => s.to_string(),
        false => format!("'{}'", s.replace('\'', "'\\''")),
    }
}

/// Reads a tag map from a JSON object or Terraform `key = "value"` lines (optionally inside
/// `tags = { ... }`). None when neither shape is found.
pub fn parse_tag_map(text: &str) -> Option<Vec<(String, String)>> {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(text) {
        return Some(
            m.into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
        );
    }
    let re =
        regex::Regex::new(r#"^\s*"?([A-Za-z0-9_:./@ -]+?)"?\s*=\s*"([^"]*)"\s*,?\s*$"#).ok()?;
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| re.captures(l).map(|c| (c[1].to_string(), c[2].to_string())))
        .collect();
    (!pairs.is_empty()).then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> TagNormaliser {
        let mut c = TagsConfig::default();
        c.aliases.insert("Model-Id".into(), "model_id".into());
        c.aliases.insert("env".into(), "environment".into());
        c.allowed
            .insert("environment".into(), vec!["prod".into(), "Dev".into()]);
        TagNormaliser::new(&c)
    }

    #[test]
    fn trims_lowercases_and_aliases_keys() {
        let t = normaliser().parse(Some(
            r#"{" Team ": "RecSys", "model-id": "Ranker-V2", "ENV": "prod"}"#,
        ));
        assert_eq!(t.get("team"), Some("recsys"));
        assert_eq!(t.get("model_id"), Some("ranker-v2"));
        assert_eq!(t.get("environment"), Some("prod"));
        assert!(t.conflicts.is_empty() && !t.malformed);
    }

    #[test]
    fn same_value_under_two_keys_is_not_a_conflict() {
        let t = normaliser().parse(Some(r#"{"org": "a", " org": "A"}"#));
        assert_eq!(t.get("org"), Some("a"));
        assert!(t.conflicts.is_empty());
    }

    #[test]
    fn different_values_for_one_canonical_key_is_a_conflict() {
        let n = normaliser();
        let t = n.parse(Some(r#"{"model_id": "a", "Model-Id": "b", "team": "x"}"#));
        assert_eq!(t.get("model_id"), None);
        assert_eq!(t.conflicts, vec!["model_id".to_string()]);
        assert!(n
            .problems(&t)
            .contains(&Problem::Conflict("model_id".into())));
        // duplicate raw key in the JSON text
        let t = n.parse(Some(r#"{"team": "a", "team": "b"}"#));
        assert_eq!(t.conflicts, vec!["team".to_string()]);
    }

    #[test]
    fn accepts_azure_form_without_braces_and_scalars() {
        let t = normaliser().parse(Some(r#""team": "x","gpu": true,"n": 3,"none": null"#));
        assert_eq!(t.get("team"), Some("x"));
        assert_eq!(t.get("gpu"), Some("true"));
        assert_eq!(t.get("n"), Some("3"));
        assert_eq!(t.get("none"), None);
    }

    #[test]
    fn malformed_text_is_flagged_not_fatal() {
        let n = normaliser();
        for raw in [
            "not json",
            "[1,2]",
            r#"{"a": {"b": 1}}"#,
            r#"{"a": [1]}"#,
            "{",
        ] {
            let t = n.parse(Some(raw));
            assert!(t.malformed, "{raw}");
            assert_eq!(n.problems(&t)[0], Problem::Malformed);
        }
        assert_eq!(n.parse(None), TagSet::default());
        assert_eq!(n.parse(Some("  ")), TagSet::default());
    }

    #[test]
    fn tag_outputs_and_parsing_round_trip() {
        let pairs = vec![
            ("team".to_string(), "recsys".to_string()),
            ("model_id".to_string(), "ranker".to_string()),
        ];
        let json = render_json(&pairs);
        assert_eq!(parse_tag_map(&json).unwrap(), pairs);
        let tf = render_terraform(&pairs);
        assert_eq!(
            tf,
            "tags = {\n  team     = \"recsys\"\n  model_id = \"ranker\"\n}\n"
        );
        assert_eq!(parse_tag_map(&tf).unwrap(), pairs);
        assert_eq!(
            render_aws_cli(&pairs),
            "Key=team,Value=recsys Key=model_id,Value=ranker\n"
        );
        assert!(parse_tag_map("nothing here").is_none());
    }

    #[test]
    fn terraform_values_are_only_ever_strings() {
        for (value, hcl) in [
            (r#"a"b"#, r#""a\"b""#),
            (r"back\slash", r#""back\\slash""#),
            ("line\nbreak\r\t", r#""line\nbreak\r\t""#),
            ("${file(\"/etc/passwd\")}", r#""$${file(\"/etc/passwd\")}""#),
            ("%{ if true }x%{ endif }", r#""%%{ if true }x%%{ endif }""#),
            ("$$ 100% {}", r#""$$ 100% {}""#),
            ("bell\u{7}", r#""bell\u0007""#),
            ("$${x}", r#""$$${x}""#),
        ] {
            assert_eq!(hcl_string(value), hcl, "{value:?}");
        }
        let tf = render_terraform(&[
            ("team".into(), "${var.x}".into()),
            ("odd key\"".into(), "v".into()),
        ]);
        assert_eq!(
            tf,
            "tags = {\n  team        = \"$${var.x}\"\n  \"odd key\\\"\" = \"v\"\n}\n"
        );
    }

    #[test]
    fn aws_cli_values_survive_the_shorthand_parser() {
        assert_eq!(shorthand_value("recsys"), "recsys");
        assert_eq!(shorthand_value("a,b"), r#""a,b""#);
        assert_eq!(
            shorthand_value(r#"x,Key=owner,Value="evil\"#),
            r#""x,Key=owner,Value=\"evil\\""#
        );
        assert_eq!(
            render_aws_cli(&[("team".into(), "a,b".into())]),
            "'Key=team,Value=\"a,b\"'\n"
        );
    }

    #[test]
    fn aws_cli_words_are_quoted_for_the_shell() {
        assert_eq!(shell_word("Key=team,Value=recsys"), "Key=team,Value=recsys");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            shell_word("Key=team,Value=$(rm -rf ~)"),
            "'Key=team,Value=$(rm -rf ~)'"
        );
        assert_eq!(
            shell_word("Key=team,Value='; echo pwned"),
            r"'Key=team,Value='\''; echo pwned'"
        );
        for hostile in [
            "`id`", "a b", "a;b", "a|b", "a&b", "~", "#x", "a\nb", "*", "a\\b", "!x", "{a,b}",
        ] {
            let w = shell_word(hostile);
            assert!(w.starts_with('\'') && w.ends_with('\''), "{hostile:?}: {w}");
        }
    }

    #[test]
    fn problems_list_missing_and_invalid_in_required_order() {
        let n = normaliser();
        let t = n.parse(Some(r#"{"team": "a", "env": "qa", "model_id": "m"}"#));
        let codes: Vec<String> = n.problems(&t).iter().map(Problem::code).collect();
        assert_eq!(
            codes,
            [
                "missing:project",
                "invalid:environment",
                "missing:cost_center",
                "missing:lifecycle_phase"
            ]
        );
        let t = n.parse(Some(r#"{"env": "DEV"}"#));
        assert!(!n
            .problems(&t)
            .contains(&Problem::Invalid("environment".into())));
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;
        use crate::config::TagsConfig;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
            /// Any tag text, JSON-like or not, parses without a panic to a tag set or a
            /// malformed flag, and its problems are always listed for every required key.
            #[test]
            fn tag_text_never_panics(raw in prop_oneof![".{0,200}", r#"\{("[a-zA-Z _-]{0,8}": ("[^"]{0,8}"|[0-9]{1,3}|null|true|\[\]|\{\}), ?){0,6}\}"#]) {
                let n = TagNormaliser::new(&TagsConfig::default());
                let t = n.parse(Some(&raw));
                let problems = n.problems(&t);
                prop_assert!(problems.len() <= n.required().len() + 1);
            }
        }
    }
}
