//! Issue #13: the layout shows the pipeline. Every top-level module may only use modules of
//! a lower layer (or of its own layer, without a circle), so every arrow points down the
//! pipeline; a new circle or an arrow up fails here. A module's unit tests (its `tests.rs`,
//! or the `#[cfg(test)] mod tests` at the end of a file) may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first: what each may build on.
const LAYERS: &[&[&str]] = &[
    &[
        "error", "origin", "money", "escape", "schema", "config", "tags",
    ],
    &["ingest"],
    &["ledger"],
    &["allocate"],
    &["volumes"],
    &["economics"],
    &["daily"],
    &["output", "estimate"],
    &["report", "trend"],
    &["pipeline", "sql", "sample", "ddl"],
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

/// How deep a file's module is below the crate root (`a.rs`, `a/mod.rs`: 1; `a/b.rs`: 2).
fn depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    match rel.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs") => parts - 1,
        _ => parts,
    }
}

/// The identifiers a `use` group lists at its first level: `{a, b::c, d::{e, f}}` -> a, b, d.
fn group_items(rest: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut level, mut current) = (0usize, String::new());
    for c in rest.chars() {
        match c {
            '{' => level += 1,
            '}' if level == 0 => break,
            '}' => level -= 1,
            ',' if level == 0 => items.push(std::mem::take(&mut current)),
            _ if level == 0 => current.push(c),
            _ => {}
        }
    }
    items.push(current);
    items
        .iter()
        .map(|i| {
            i.trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The top-level modules a source file uses outside its unit tests (`#[cfg(test)] mod tests`
/// at its end): paths through `crate::` (also in nested `use` groups) and through enough
/// `super::` to climb out of the file's own top-level module.
fn uses(text: &str, depth: usize) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let ident = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `mlcost_crate::` or `$crate::`
        }
        let rest = &code[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => out.extend(group_items(group)),
            None => {
                out.insert(ident(rest));
            }
        }
    }
    // super::super::...::x reaches the crate root when the supers are as many as the depth
    for (i, _) in code.match_indices("super::") {
        if code[..i].ends_with("super::") {
            continue; // counted from the first super of the chain
        }
        let mut rest = &code[i..];
        let mut n = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            n += 1;
            rest = r;
        }
        if n >= depth {
            match rest.strip_prefix('{') {
                Some(group) => out.extend(group_items(group)),
                None => {
                    out.insert(ident(rest));
                }
            }
        }
    }
    out.remove("");
    out
}

#[test]
fn the_import_scanner_sees_every_form() {
    let seen = |text: &str, depth: usize| uses(text, depth).into_iter().collect::<Vec<_>>();
    assert_eq!(seen("use crate::ledger::Ledger;", 1), ["ledger"]);
    assert_eq!(
        seen(
            "use crate::{\n    ledger::{self, Ledger},\n    output::Manifest,\n};",
            1
        ),
        ["ledger", "output"]
    );
    assert_eq!(seen("use super::output::Manifest;", 1), ["output"]);
    assert_eq!(
        seen("use super::pipeline::Job;", 2),
        Vec::<String>::new(),
        "stays inside its module"
    );
    assert_eq!(seen("x(super::super::report::RunSummary)", 2), ["report"]);
    assert_eq!(
        seen(
            "#[cfg(test)]\nconst A: u8 = 1;\nuse crate::pipeline::Job;",
            1
        ),
        ["pipeline"]
    );
    assert_eq!(
        seen(
            "fn f() {}\n#[cfg(test)]\nmod tests {\n use crate::pipeline::Job;\n}",
            1
        ),
        Vec::<String>::new()
    );
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
        for used in uses(&text, depth(rel)) {
            if used != m {
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
