//! Issue #17: the report of the bundled sample as a person sees it, rendered by headless
//! Chromium. The page records its own layout checks once loaded (`data-layout`: horizontal
//! overflow, text of a chart outside the chart or over other text, the page height); the test
//! reads them from the DOM Chromium dumps, at a desktop and a narrow width, and saves full-page
//! screenshots for a person to look at (their paths are printed). `.ci/run` installs Chromium
//! and sets `MLCOST_REQUIRE_CHROMIUM=1`, so CI never skips this.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MLCOST_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
        })
}

fn headless(chrome: &Path, profile: &Path, width: u32, height: u32) -> Command {
    let mut c = Command::new(chrome);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--window-size={width},{height}"));
    c
}

/// The DOM of `page` after its scripts ran, at `width`, and Chromium's stderr.
fn dump_dom(chrome: &Path, env: &TestEnv, page: &Path, width: u32) -> (String, String) {
    let out = headless(chrome, &env.path("profile"), width, 900)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The layout checks the page recorded at `width`.
fn layout(chrome: &Path, env: &TestEnv, page: &Path, width: u32) -> serde_json::Value {
    let (dom, stderr) = dump_dom(chrome, env, page, width);
    let start = dom
        .find("data-layout=\"")
        .unwrap_or_else(|| panic!("no layout checks in the DOM Chromium dumped: {stderr}"))
        + "data-layout=\"".len();
    let end = start + dom[start..].find('"').unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

/// Chromium, or None when it may be skipped (never in CI).
fn required_chromium() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("MLCOST_REQUIRE_CHROMIUM").is_none(),
            "Chromium is required (MLCOST_REQUIRE_CHROMIUM) but not found"
        );
        eprintln!("no Chromium: the browser check is skipped (apt-get install chromium)");
    }
    found
}

/// Writes the report of the bundled sample to `report.html` in `env`.
fn sample_report(env: &TestEnv) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let s = |f: &str| sample.join(f).display().to_string();
    let r = env.run(&[
        "attribute",
        "--billing",
        &s("focus_sample.csv"),
        "--requests",
        &s("requests.csv"),
        "--config",
        &s("mlcost.toml"),
        "--out",
        "out",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["report", "--input", "out", "--out", "report.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    env.path("report.html")
}

#[test]
fn the_sample_report_reads_well_in_chromium() {
    let Some(chrome) = required_chromium() else {
        return;
    };
    let env = TestEnv::new();
    let page = sample_report(&env);
    let artefacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&artefacts).unwrap();
    for width in [1400, 800] {
        let l = layout(&chrome, &env, &page, width);
        assert_eq!(l["overflow"], 0, "horizontal overflow at {width} px: {l}");
        assert_eq!(l["problems"], serde_json::json!([]), "at {width} px: {l}");
        let height = l["height"].as_u64().unwrap();
        // the sample (60 models, two months, four [output] dimensions) at desktop width: the
        // story, charts and the top 15 rows of each table; every longer table is behind
        // "show all" (the drivers section adds one such table, about 600 px)
        if width == 1400 {
            assert!(height < 7700, "the page is {height} px high at 1400 px");
        }
        if width == 1400 {
            // sorting the cost-per-1,000 table by spend, descending, sorts every row and
            // shows the first 15 of the new order
            let html = std::fs::read_to_string(&page).unwrap();
            let clicks = "<script>window.addEventListener('load',function(){var t=document.querySelectorAll('table.sortable')[1],h=t.tHead.rows[0].cells[2];h.click();h.click();var shown=Array.from(t.tBodies[0].rows).filter(function(r){return getComputedStyle(r).display!=='none';});document.body.setAttribute('data-sorted',shown[0].cells[0].textContent+' '+shown.length);});</script></body>";
            let sorted_page = env.path("sorted.html");
            std::fs::write(&sorted_page, html.replace("</body>", clicks)).unwrap();
            let (dom, _) = dump_dom(&chrome, &env, &sorted_page, 1400);
            assert!(
                dom.contains("data-sorted=\"platform-ranker-v4 15\""),
                "sorting by spend: {}",
                dom.split("data-sorted=")
                    .nth(1)
                    .unwrap_or("none")
                    .chars()
                    .take(80)
                    .collect::<String>()
            );
        }
        let shot = artefacts.join(format!("sample-{width}.png"));
        let status = headless(
            &chrome,
            &env.path("profile"),
            width,
            height.min(16000) as u32,
        )
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
        assert!(status.status.success() && shot.exists(), "no screenshot");
        eprintln!("screenshot at {width} px: {}", shot.display());
    }
}

#[test]
fn the_layout_checks_catch_overlap_clipping_and_overflow() {
    // the same page with a broken chart and a too-wide block added: the checks must see them
    let Some(chrome) = required_chromium() else {
        return;
    };
    let env = TestEnv::new();
    let page = sample_report(&env);
    let html = std::fs::read_to_string(&page).unwrap().replace(
        "</body>",
        r#"<svg viewBox="0 0 100 20" width="100" height="20"><text x="0" y="15">first label</text><text x="5" y="15">second label</text><text x="90" y="15">cut off here</text></svg><div style="width:3000px">wide</div></body>"#,
    );
    std::fs::write(&page, html).unwrap();
    let l = layout(&chrome, &env, &page, 1400);
    assert!(l["overflow"].as_i64().unwrap() > 0, "{l}");
    let problems = l["problems"].to_string();
    assert!(
        problems.contains(r#"\"first label\" overlaps \"second label\""#),
        "{problems}"
    );
    assert!(
        problems.contains(r#"\"cut off here\" is clipped"#),
        "{problems}"
    );
}

#[test]
fn a_hostile_output_still_lays_out_and_tells_the_truth() {
    // credits, a 60-letter id of wide letters, a right-to-left id, a model
    // in another currency, a Markdown link as a model id, and a stray month with almost
    // nothing in it
    let Some(chrome) = required_chromium() else {
        return;
    };
    let env = TestEnv::new();
    let wide = "w".repeat(60);
    let tags =
        |m: &str| format!(r#"{{"model_id": "{m}", "team": "t", "lifecycle_phase": "inference"}}"#);
    let mut rows = Vec::new();
    for (period, scale) in [("2026-08-01T00:00:00Z", "1"), ("2026-09-01T00:00:00Z", "2")] {
        for (m, cost, cur) in [
            ("alpha", "100", "USD"),
            (wide.as_str(), "50", "USD"),
            ("נתונים-מודל", "7", "USD"),
            ("[pay here](https://evil.example)", "30", "USD"),
            ("refund-model", "-40", "USD"),
            ("euro-model", "1000", "EUR"),
        ] {
            let cost = format!(
                "{}",
                cost.parse::<i64>().unwrap() * scale.parse::<i64>().unwrap()
            );
            rows.push(row(period, cur, &cost, &tags(m), "i-1"));
        }
    }
    rows.push(row(
        "2026-10-01T00:00:00Z",
        "USD",
        "0.42",
        &tags("alpha"),
        "i-1",
    ));
    std::fs::write(env.path("bill.csv"), focus(&rows)).unwrap();
    let mut requests = String::from("model_id,requests,date\n");
    for m in [
        "alpha",
        wide.as_str(),
        "נתונים-מודל",
        "refund-model",
        "euro-model",
    ] {
        for d in ["2026-08-15", "2026-09-15", "2026-10-15"] {
            requests.push_str(&format!("{m},1000,{d}\n"));
        }
    }
    std::fs::write(env.path("requests.csv"), requests).unwrap();
    let r = env.run(&[
        "attribute",
        "--billing",
        "bill.csv",
        "--requests",
        "requests.csv",
        "--out",
        "out",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["report", "--input", "out", "--out", "report.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = env.path("report.html");
    let l = layout(&chrome, &env, &page, 1400);
    assert_eq!(l["overflow"], 0, "{l}");
    assert_eq!(l["problems"], serde_json::json!([]), "{l}");
    let html = std::fs::read_to_string(&page).unwrap();
    // the stray month is called out, not taken for the story of the bill
    assert!(
        html.contains("2026-10 holds less than a tenth of 2026-09"),
        "stray month"
    );
    // September against August for the story of September
    let r = env.run(&[
        "report", "--input", "out", "--period", "2026-09", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // a model id cannot become a link in the review doc
    assert!(
        !r.stdout.contains("[pay here](https://evil.example)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(r"\[pay here\](https://evil.example)"),
        "{}",
        r.stdout
    );
    // the percentage of a change is against the size of the month before
    assert!(r.stdout.contains("spend changed by"), "{}", r.stdout);
}
