//! Issue #13: the layout shows the pipeline. Every top-level module may only use modules of
//! a lower layer (or of its own layer, without a circle), so every arrow points down the
//! pipeline; a new circle or an arrow up fails here. Test code (after `#[cfg(test)]`) may
//! use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first: what each may build on.
const LAYERS: &[&[&str]] = &[
    &["error", "money", "escape", "schema", "config", "tags"],
    &["ingest"],
    &["ledger"],
    &["allocate"],
    &["volumes"],
    &["economics"],
    &["output", "estimate"],
    &["report"],
    &["pipeline", "trend", "sql", "sample", "ddl"],
    &["context", "cli"],
    &["commands"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Top-level module of a file under src/ (None for lib.rs and main.rs).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The `crate::<module>` names a source text uses outside its tests.
fn uses(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    // `use crate::{a, b::c}` lists
    for (i, _) in code.match_indices("crate::{") {
        let rest = &code[i + "crate::{".len()..];
        let list = &rest[..rest.find('}').unwrap_or(rest.len())];
        for item in list.split(',') {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn issue13_every_arrow_points_down_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in glob::glob(&format!("{}/**/*.rs", src.display()))
        .unwrap()
        .flatten()
    {
        let rel = f.strip_prefix(&src).unwrap();
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue; // a module's tests may use anything
        }
        let Some(m) = module_of(rel) else { continue };
        let text = std::fs::read_to_string(&f).unwrap();
        let entry = graph.entry(m.clone()).or_default();
        for used in uses(&text) {
            if used != m && used != "Outcome" {
                entry.insert(used);
            }
        }
    }
    let mut problems = Vec::new();
    for (m, used) in &graph {
        let Some(lm) = layer(m) else {
            problems.push(format!("`{m}` is in no layer: add it to LAYERS"));
            continue;
        };
        for u in used {
            match layer(u) {
                None => problems.push(format!("`{m}` uses `{u}`, which is in no layer")),
                Some(lu) if lu > lm => problems.push(format!(
                    "`{m}` (layer {lm}) uses `{u}` (layer {lu}): an arrow up the pipeline"
                )),
                _ => {}
            }
        }
    }
    // no circle, also within a layer
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        problems: &mut Vec<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == m) {
            problems.push(format!("import circle: {} -> {m}", path[i..].join(" -> ")));
            return;
        }
        if !done.insert(m.to_string()) {
            return;
        }
        path.push(m.to_string());
        for u in graph.get(m).into_iter().flatten() {
            visit(u, graph, path, done, problems);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
