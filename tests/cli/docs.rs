//! Issue #14: the docs run. Every ```sh, ```bash and ```sql block of README.md and docs/*.md
//! is executed on the bundled sample: shell blocks by bash (`-euo pipefail`) in a temp dir with
//! `sample_data/` copied in, `tests/fixtures/` linked, and the built binary on PATH as `mlcost` (`cargo run --release --`
//! becomes `mlcost`), one temp dir per file so a block can use what an earlier one wrote; SQL
//! blocks by the DuckDB CLI over the sample output, after the views of `mlcost ddl --dialect
//! duckdb`. A block is skipped only when it carries a marker comment saying why it cannot run
//! here (`# not runnable here: needs an S3 bucket`, or `-- not runnable here: ...` in SQL).
//! Blocks that show output (```text) are not run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;
use crate::warehouse::clients_required;

const MARKER: &str = "not runnable here:";

#[derive(Debug)]
struct Block {
    line: usize,
    lang: String,
    text: String,
}

/// The fenced blocks of a Markdown text in these languages, with the line of their fence.
fn blocks(markdown: &str, langs: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(lang)) => {
                open = Some(Block {
                    line: i + 1,
                    lang: lang.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => {
                let b = open.take().unwrap();
                if langs.contains(&b.lang.as_str()) {
                    out.push(b);
                }
            }
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// The reason of a block's `not runnable here:` marker comment, if it has one.
fn marker(block: &Block) -> Option<String> {
    block.text.lines().find_map(|l| {
        let l = l.trim_start();
        let comment = l.strip_prefix('#').or_else(|| l.strip_prefix("--"))?;
        comment
            .trim_start()
            .strip_prefix(MARKER)
            .map(|r| r.trim().to_string())
    })
}

/// The DuckDB CLI: `MLCOST_DUCKDB_CLI`, the venv .ci/run makes, or `duckdb` on PATH.
fn duckdb_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLCOST_DUCKDB_CLI") {
        return Some(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cache/mlcost-warehouse-venv/bin/duckdb");
        if p.exists() {
            return Some(p);
        }
    }
    let on_path = Command::new("duckdb").arg("--version").output();
    on_path
        .is_ok_and(|o| o.status.success())
        .then(|| PathBuf::from("duckdb"))
}

/// A temp dir with `sample_data/` and a `bin/` of `mlcost` (and `duckdb`) to put first on PATH.
struct Workdir {
    env: TestEnv,
    path_var: String,
}

impl Workdir {
    fn new(duckdb: Option<&Path>) -> Workdir {
        let env = TestEnv::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in glob::glob(&format!("{}/sample_data/*", root.display()))
            .unwrap()
            .flatten()
        {
            let to = env.path("sample_data").join(entry.file_name().unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&entry, to).unwrap();
        }
        // the hand-made fixtures too (read only: a link), for the examples that show a format
        std::fs::create_dir_all(env.path("tests")).unwrap();
        std::os::unix::fs::symlink(root.join("tests/fixtures"), env.path("tests/fixtures"))
            .unwrap();
        let bin = env.path(".bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mlcost"), bin.join("mlcost")).unwrap();
        if let Some(d) = duckdb.filter(|d| d.is_absolute()) {
            std::os::unix::fs::symlink(d, bin.join("duckdb")).unwrap();
        }
        let path_var = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Workdir { env, path_var }
    }

    fn bash(&self, script: &str) -> Run {
        let out = Command::new("timeout")
            .args(["300", "bash", "-euo", "pipefail", "-c", script])
            .current_dir(self.env.dir.path())
            .env("PATH", &self.path_var)
            .env("MLCOST_NO_PROGRESS", "1")
            .env_remove("RUST_LOG")
            .env_remove("MLCOST_CONFIG")
            .output()
            .expect("run bash");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A SQL block in DuckDB, over the views of the sample output (made first if missing).
    fn sql(&self, sql: &str) -> Run {
        if !self.env.path("out/manifest.json").exists() {
            let r = self.bash(
                "mlcost attribute --billing sample_data/focus_sample.csv --requests sample_data/requests.csv --config sample_data/mlcost.toml --out out -q",
            );
            assert_eq!(r.code, 0, "{}", r.stderr);
        }
        std::fs::write(self.env.path(".block.sql"), sql).unwrap();
        self.bash("{ mlcost ddl --dialect duckdb --input out; cat .block.sql; } > .run.sql && duckdb -bail :memory: < .run.sql")
    }
}

/// Runs the blocks of one Markdown file: (blocks run, skipped with reasons) or the failure.
fn run_markdown(
    name: &str,
    markdown: &str,
    duckdb: Option<&Path>,
) -> Result<(usize, Vec<String>), String> {
    let work = Workdir::new(duckdb);
    let (mut ran, mut skipped) = (0, Vec::new());
    for block in blocks(markdown, &["sh", "bash", "sql"]) {
        let at = format!("{name}:{} ({})", block.line, block.lang);
        if let Some(reason) = marker(&block) {
            if reason.is_empty() {
                return Err(format!("{at}: the `{MARKER}` marker gives no reason"));
            }
            skipped.push(format!("{at}: {reason}"));
            continue;
        }
        if duckdb.is_none() && (block.lang == "sql" || block.text.contains("duckdb ")) {
            skipped.push(format!("{at}: no DuckDB CLI here"));
            continue;
        }
        let r = if block.lang == "sql" {
            work.sql(&block.text)
        } else {
            work.bash(&block.text.replace("cargo run --release -- ", "mlcost "))
        };
        if r.code != 0 {
            return Err(format!(
                "{at} exited {}:\n{}\n--- stdout\n{}\n--- stderr\n{}",
                r.code, block.text, r.stdout, r.stderr
            ));
        }
        ran += 1;
    }
    Ok((ran, skipped))
}

#[test]
fn issue14_every_doc_block_runs() {
    let duckdb = duckdb_cli();
    if duckdb.is_none() {
        assert!(
            !clients_required(),
            "MLCOST_REQUIRE_PYTHON_CLIENTS=1 but there is no DuckDB CLI (MLCOST_DUCKDB_CLI): .ci/run installs it"
        );
        eprintln!("no DuckDB CLI: its blocks are skipped (pip install duckdb-cli)");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = glob::glob(&format!("{}/docs/*.md", root.display()))
        .unwrap()
        .flatten()
        .collect();
    docs.sort();
    files.extend(docs);
    let mut total = 0;
    for file in files {
        let name = file.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        match run_markdown(&name, &text, duckdb.as_deref()) {
            Ok((ran, skipped)) => {
                eprintln!("{name}: {ran} block(s) ran");
                for s in skipped {
                    eprintln!("  skipped {s}");
                }
                total += ran;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // README's quick start, estimate, DuckDB, warehouse and scheduler blocks at the least
    assert!(total >= 8, "only {total} doc blocks ran");
}

/// The runner itself: a failing block fails, a marked block is skipped (with its reason), an
/// output block is not run, and a marker without a reason is refused.
#[test]
fn issue14_doc_runner_fails_on_a_broken_block() {
    let md = "```sh\nmlcost --version\n```\n\n```text\nfalse\n```\n\n```sh\n# not runnable here: needs an S3 bucket\naws s3 sync out/ s3://b/\n```\n";
    let (ran, skipped) = run_markdown("ok.md", md, None).unwrap();
    assert_eq!(ran, 1);
    assert_eq!(skipped, vec!["ok.md:9 (sh): needs an S3 bucket"]);

    let broken = "```bash\nmlcost attribute --billing nowhere.csv --out out\n```\n";
    let e = run_markdown("broken.md", broken, None).unwrap_err();
    assert!(e.starts_with("broken.md:1 (bash) exited 2"), "{e}");

    let no_reason = "```sh\n# not runnable here:\nfalse\n```\n";
    assert!(run_markdown("r.md", no_reason, None)
        .unwrap_err()
        .contains("gives no reason"));
}
