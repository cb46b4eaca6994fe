//! Peak memory follows distinct groups, not rows (issue 15): 2M-row exports written by other
//! tools (pyarrow, Python's csv module; `tests/python/write_2m_rows.py`), each read by its
//! streaming reader, stay under 1 GiB. Nothing here asserts a time; `benches/attribute.rs`
//! records RSS at 1M to 50M rows per shape.

use std::path::Path;
use std::process::Command;

use crate::warehouse::{python_or_skip, python_writes};

/// Runs `cmd` to success and returns its peak resident set in MiB (`wait4`).
fn peak_rss_mib(cmd: &mut Command) -> f64 {
    let child = cmd.spawn().expect("spawn mlcost");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data, filled by wait4 for the child spawned above.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    std::mem::forget(child); // reaped above
    usage.ru_maxrss as f64 / 1024.0
}

#[test]
fn two_million_rows_stay_under_one_gib() {
    if !python_or_skip(&["pyarrow"], "writes the 2M-row exports") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/write_2m_rows.py");
    python_writes(&[
        script.as_os_str(),
        dir.path().as_os_str(),
        "2000000".as_ref(),
    ]);
    for name in ["export.parquet", "export.csv.gz"] {
        let out = dir.path().join(format!("out-{name}"));
        let peak = peak_rss_mib(
            Command::new(env!("CARGO_BIN_EXE_mlcost"))
                .arg("attribute")
                .arg("--billing")
                .arg(dir.path().join(name))
                .arg("--out")
                .arg(&out)
                .arg("-q"),
        );
        eprintln!("{name}: 2M rows, peak RSS {peak:.0} MiB");
        assert!(peak < 1024.0, "{name}: 2M rows took {peak:.0} MiB");
        let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        assert!(manifest.contains("2000000"), "every row read: {manifest}");
    }
}
