//! Publishing: the private staging directory a run writes into, and the journaled commit that moves staged files into place with `rename`. A failed or killed run
//! therefore leaves the previous outputs as they were, and a run killed half-way through its
//! renames is completed by the next run, after its journal has been checked entry by entry.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// Journal of an interrupted commit: per line, the staged path and the final path, both
/// relative to the output directory, separated by a tab; or `-` and a partition to remove.
const JOURNAL: &str = ".mlcost-commit";

const STAGING_PREFIX: &str = ".mlcost-staging-";

/// Files a journal entry may name inside a table partition.
const PARTITION_FILES: [&str; 4] = [
    super::PART_FILE,
    super::PARTITION_MANIFEST,
    super::SUCCESS,
    super::QUARANTINE_FILE,
];

/// A run's outputs being assembled in a staging directory under the output directory.
pub struct Staging {
    out: PathBuf,
    hooks: TestHooks,
    /// The staging directory, relative to `out`.
    name: String,
    /// What the commit does, in order.
    steps: Vec<Step>,
}

/// One step of a commit; paths relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Move a staged file over its final path (journal line `<staged>\t<target>`).
    Move { staged: PathBuf, target: PathBuf },
    /// Remove a table partition this run replaces with nothing (journal line `-\t<dir>`).
    Remove { partition: PathBuf },
}

/// Where the previous version of each replaced file, and each removed partition, is kept
/// inside the staging directory until the commit is done: a failed commit puts them back.
const PREVIOUS: &str = "previous";

impl Staging {
    /// Creates `<out>/.mlcost-staging-<pid>/`. Call with the output lock held.
    pub fn new(out: &Path, hooks: &TestHooks) -> Result<Staging> {
        let name = format!("{STAGING_PREFIX}{}", std::process::id());
        let dir = out.join(&name);
        let io = |source| Error::Write {
            path: dir.clone(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io)?;
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(Staging {
            out: out.to_path_buf(),
            hooks: hooks.clone(),
            name,
            steps: Vec::new(),
        })
    }

    /// Creates the parent directories of a staged file; returns its full path.
    fn stage_path(&self, relative: &Path) -> Result<PathBuf> {
        let staged = self.out.join(&self.name).join(relative);
        if let Some(parent) = staged.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Ok(staged)
    }

    fn record(&mut self, relative: &Path) {
        self.steps.push(Step::Move {
            staged: Path::new(&self.name).join(relative),
            target: relative.to_path_buf(),
        });
    }

    /// Removes the partition `<table>/billing_period=<period>` in the commit (a month this run
    /// republishes without that table), before the files staged after this call move in.
    pub fn remove_partition(&mut self, table: &str, period: &str) {
        self.steps.push(Step::Remove {
            partition: super::partition_dir(table, period),
        });
    }

    /// Writes one table partition as Parquet (zstd, one row group, fixed row order given by
    /// the caller, the Arrow schema embedded so readers get `string` and `decimal(38,18)`);
    /// returns the staged path, for reading it back.
    pub fn write_partition(
        &mut self,
        table: &str,
        period: &str,
        batch: &RecordBatch,
    ) -> Result<PathBuf> {
        let relative = super::partition_dir(table, period).join(super::PART_FILE);
        let staged = self.stage_path(&relative)?;
        let file = std::fs::File::create(&staged).map_err(|source| Error::Write {
            path: staged.clone(),
            source,
        })?;
        let fail = |e: parquet::errors::ParquetError| Error::Write {
            path: staged.clone(),
            source: std::io::Error::other(e),
        };
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_created_by(format!("mlcost {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer = ArrowWriter::try_new(&file, batch.schema(), Some(props)).map_err(fail)?;
        writer.write(batch).map_err(fail)?;
        writer.close().map_err(fail)?;
        file.sync_all().map_err(|source| Error::Write {
            path: staged.clone(),
            source,
        })?;
        self.record(&relative);
        self.hooks.pause(&format!("stage:{table}"));
        Ok(staged)
    }

    /// Writes a small file (manifest, quarantine, marker) at `relative` under the output
    /// directory, to be committed with the tables, in the order written.
    pub fn write_text(&mut self, relative: &Path, text: &[u8]) -> Result<()> {
        let staged = self.stage_path(relative)?;
        let io = |source| Error::Write {
            path: staged.clone(),
            source,
        };
        let mut f = std::fs::File::create(&staged).map_err(io)?;
        f.write_all(text).map_err(io)?;
        f.sync_all().map_err(io)?;
        self.record(relative);
        Ok(())
    }

    /// Moves every staged file into place (and removes the partitions asked for), in order,
    /// then removes the staging directory and any staging directory a killed earlier run left
    /// behind. Returns the final paths.
    ///
    /// Everything that can be checked is checked before the first rename (`preflight`): no
    /// symbolic link on the way, no directory where a file goes. A step that still fails
    /// (an I/O error) undoes the steps before it, so the outputs are the previous ones again;
    /// only when that undoing fails too is the journal left for the next run to complete.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let created = match self.preflight().and_then(|()| self.make_directories()) {
            Ok(created) => created,
            Err(e) => {
                self.discard();
                return Err(e);
            }
        };
        // The journal makes the renames one step: a run killed half-way through them is
        // completed by the next run (`recover`), so the outputs never stay half old, half new.
        let mut journal = String::new();
        for step in &self.steps {
            journal.push_str(&match step {
                Step::Move { staged, target } => format!("{}\t{}\n", unix(staged)?, unix(target)?),
                Step::Remove { partition } => format!("-\t{}\n", unix(partition)?),
            });
        }
        write_file_atomic(&self.out.join(JOURNAL), journal.as_bytes())?;
        let previous = Path::new(&self.name).join(PREVIOUS);
        let mut done = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            if let Err(e) = self.apply(step, &previous) {
                return Err(self.undo(&self.steps[..i], &previous, &created, e));
            }
            if i == 0 {
                self.hooks.pause("commit");
            }
            if let Step::Move { target, .. } = step {
                done.push(self.out.join(target));
            }
        }
        let _ = std::fs::remove_file(self.out.join(JOURNAL));
        remove_stale_staging(&self.out);
        Ok(done)
    }

    /// Creates the directories the targets need, once every step is checked; returns those it
    /// created, parents first, for `remove_created` to take away again if the commit fails.
    fn make_directories(&self) -> Result<Vec<PathBuf>> {
        let mut created = Vec::new();
        for step in &self.steps {
            let Step::Move { target, .. } = step else {
                continue;
            };
            let mut at = self.out.clone();
            for c in target.parent().into_iter().flat_map(Path::components) {
                at.push(c);
                match std::fs::create_dir(&at) {
                    Ok(()) => created.push(at.clone()),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(source) => {
                        remove_created(&created);
                        return Err(Error::Write { path: at, source });
                    }
                }
            }
        }
        Ok(created)
    }

    /// Checks every step can be taken: no symbolic link on the way, and files and directories
    /// where the commit expects them.
    fn preflight(&self) -> Result<()> {
        let in_the_way = |path: PathBuf, what: &str| Error::OutputInTheWay {
            path,
            what: what.to_string(),
        };
        for step in &self.steps {
            let path = match step {
                Step::Move { target, .. } => target,
                Step::Remove { partition } => partition,
            };
            no_link_on_the_way(&self.out, path)?;
            let full = self.out.join(path);
            let meta = std::fs::symlink_metadata(&full).ok();
            match step {
                Step::Move { .. } => {
                    if meta.is_some_and(|m| !m.is_file()) {
                        return Err(in_the_way(full, "not a regular file"));
                    }
                    // every directory on the way that exists must be one (nothing is created
                    // before every step is checked)
                    let mut at = self.out.clone();
                    for c in path.parent().into_iter().flat_map(Path::components) {
                        at.push(c);
                        match std::fs::symlink_metadata(&at) {
                            Ok(m) if !m.is_dir() => {
                                return Err(in_the_way(at, "a file where a directory goes"))
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                }
                Step::Remove { .. } => {
                    if meta.is_some_and(|m| !m.is_dir()) {
                        return Err(in_the_way(full, "not a directory"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes one step, keeping what it replaces under `previous` (a hard link for a file, so
    /// the final path never goes missing; the directory itself for a removed partition).
    fn apply(&self, step: &Step, previous: &Path) -> Result<()> {
        let out = &self.out;
        match step {
            Step::Move { staged, target } => {
                let full = out.join(target);
                if full.exists() {
                    let keep = out.join(previous).join(target);
                    make_parent(&keep)?;
                    let linked = std::fs::hard_link(&full, &keep)
                        .or_else(|_| std::fs::copy(&full, &keep).map(|_| ()));
                    linked.map_err(|source| Error::Write { path: keep, source })?;
                }
                move_into_place(out, staged, target)
            }
            Step::Remove { partition } => {
                let full = out.join(partition);
                if !full.exists() {
                    return Ok(());
                }
                // one rename: a reader sees the whole partition or none of it
                let keep = out.join(previous).join(partition);
                make_parent(&keep)?;
                let keep_rel = previous.join(partition);
                rename_within(out, partition, &keep_rel)
                    .map_err(|source| Error::Write { path: full, source })
            }
        }
    }

    /// Undoes `done` (newest first) after `error`, which it returns. Each staged file goes
    /// back to staging before the previous version returns, so that when undoing fails half
    /// way the journal still describes the commit and the next run completes it.
    fn undo(&self, done: &[Step], previous: &Path, created: &[PathBuf], error: Error) -> Error {
        let out = &self.out;
        let undo = |step: &Step| -> std::io::Result<()> {
            match step {
                Step::Move { staged, target } => {
                    let keep = out.join(previous).join(target);
                    rename_within(out, target, staged)?;
                    match keep.exists() {
                        true => rename_within(out, &previous.join(target), target),
                        false => Ok(()),
                    }
                }
                Step::Remove { partition } => {
                    let keep = out.join(previous).join(partition);
                    match keep.exists() {
                        true => rename_within(out, &previous.join(partition), partition),
                        false => Ok(()),
                    }
                }
            }
        };
        for step in done.iter().rev() {
            if let Err(e) = undo(step) {
                tracing::error!(
                    "the commit failed and could not be undone ({e}); the next run completes it"
                );
                return error;
            }
        }
        remove_created(created);
        let _ = std::fs::remove_file(out.join(JOURNAL));
        let _ = std::fs::remove_dir_all(out.join(&self.name));
        error
    }

    /// Abandons the run: removes the staging directory; nothing under `--out` changed.
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(self.out.join(&self.name));
    }
}

/// Removes the directories a failed commit created, deepest first, when they are empty again
/// (a run killed before it gets here leaves them empty: readers skip a partition without its
/// part file).
fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
}

fn make_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        }),
        None => Ok(()),
    }
}

/// A relative path as the journal writes it (components joined by `/`).
fn unix(p: &Path) -> Result<String> {
    let parts: Option<Vec<&str>> = p
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    match parts {
        Some(parts) if !parts.is_empty() => Ok(parts.join("/")),
        _ => Err(Error::Internal(format!(
            "a staged path is not a plain relative path: `{}`",
            p.display()
        ))),
    }
}

fn move_into_place(out: &Path, staged: &Path, target: &Path) -> Result<()> {
    let full = out.join(target);
    make_parent(&full)?;
    rename_within(out, staged, target).map_err(|source| Error::Write { path: full, source })
}

/// Renames `from` to `to`, both relative to `out`, through directory handles opened one
/// component at a time without following a symbolic link: a directory swapped for a link
/// after the commit's checks (by anyone who can write into `out`) makes the rename fail
/// instead of landing outside `out`. (`std::fs::rename` resolves the paths again and would
/// follow it.)
fn rename_within(out: &Path, from: &Path, to: &Path) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let open_parent = |rel: &Path| -> std::io::Result<(rustix::fd::OwnedFd, std::ffi::OsString)> {
        let name = rel
            .file_name()
            .ok_or_else(|| std::io::Error::other(format!("`{}` names no file", rel.display())))?;
        let mut dir = rustix::fs::open(out, dir_flags, Mode::empty())?;
        for c in rel.parent().into_iter().flat_map(Path::components) {
            dir = rustix::fs::openat(
                &dir,
                c.as_os_str(),
                dir_flags | OFlags::NOFOLLOW,
                Mode::empty(),
            )?;
        }
        Ok((dir, name.to_os_string()))
    };
    let (from_dir, from_name) = open_parent(from)?;
    let (to_dir, to_name) = open_parent(to)?;
    rustix::fs::renameat(&from_dir, &from_name, &to_dir, &to_name)?;
    Ok(())
}

/// Completes a commit that a killed run left half-done, and removes staging directories of
/// runs that died before committing. Call with the output lock held.
///
/// The journal is data anyone who can write into the output directory could have planted,
/// so every entry is checked before anything moves: both paths must be relative to the
/// output directory, the first inside a staging directory, the second a file of a table
/// partition or the run manifest, with no `..`, no absolute path and no symbolic link on the
/// way. A journal with any other entry, or that is itself a symbolic link, a FIFO or another
/// non-regular file, is left as it is for a person, and the run stops.
pub fn recover(out: &Path) -> Result<()> {
    let journal_path = out.join(JOURNAL);
    // never through a planted link, never blocking on a FIFO
    let journal = super::regular::read_existing(
        &journal_path,
        "mlcost writes its journal as a regular file: find out who replaced it, then remove it; the published outputs were not touched",
    )?;
    let Some(journal) = journal else {
        remove_stale_staging(out);
        return Ok(());
    };
    let entries = check_journal(out, &journal).map_err(|why| Error::Journal {
        path: journal_path.clone(),
        message: why,
    })?;
    for step in &entries {
        match step {
            Step::Move { staged, target } if out.join(staged).exists() => {
                tracing::warn!(
                    "completing the interrupted commit of `{}`",
                    target.display()
                );
                move_into_place(out, staged, target)?;
            }
            Step::Remove { partition } if out.join(partition).exists() => {
                tracing::warn!(
                    "completing the interrupted removal of `{}`",
                    partition.display()
                );
                // the marker first: a sensor never takes a partition being taken apart
                let full = out.join(partition);
                let _ = std::fs::remove_file(full.join(super::SUCCESS));
                std::fs::remove_dir_all(&full)
                    .map_err(|source| Error::Write { path: full, source })?;
            }
            _ => {}
        }
    }
    let _ = std::fs::remove_file(&journal_path);
    remove_stale_staging(out);
    Ok(())
}

/// Refuses to read an output directory whose last commit is not finished (its journal is
/// there, whatever kind of file it is): its tables may mix two runs. Readers call this; runs
/// that take the lock complete the commit instead (`recover`).
pub(super) fn check_committed(out: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out.join(JOURNAL)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: out.join(JOURNAL),
            source,
        }),
        Ok(_) => Err(Error::HalfPublished {
            path: out.to_path_buf(),
        }),
    }
}

/// Parses and checks every journal line; the first bad one is the error.
fn check_journal(out: &Path, journal: &[u8]) -> std::result::Result<Vec<Step>, String> {
    let text = std::str::from_utf8(journal).map_err(|_| "it is not UTF-8 text".to_string())?;
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let shown = crate::escape::shorten(line, 120);
        let bad = |why: &str| format!("line {}: {why}: `{shown}`", i + 1);
        let (staged, target) = line
            .split_once('\t')
            .ok_or_else(|| bad("not two tab-separated paths"))?;
        if staged == "-" {
            let partition = plain_relative(target)
                .filter(|p| p.len() == 2 && is_partition(&p[0], &p[1]))
                .ok_or_else(|| bad("the removal is not of a table partition"))?
                .join("/");
            if let Some(link) = first_symlink(out, Path::new(&partition)) {
                return Err(bad(&format!("`{}` is a symbolic link", link.display())));
            }
            entries.push(Step::Remove {
                partition: PathBuf::from(partition),
            });
            continue;
        }
        let staged = plain_relative(staged)
            .ok_or_else(|| bad("the staged path is not a plain relative path"))?;
        let target =
            plain_relative(target).ok_or_else(|| bad("the target is not a plain relative path"))?;
        if !staged[0].starts_with(STAGING_PREFIX) || staged.len() < 2 || staged[1..] != target[..] {
            return Err(bad(
                "the staged file is not this target inside a staging directory",
            ));
        }
        if !is_publishable(&target) {
            return Err(bad("the target is not a file mlcost publishes"));
        }
        let (staged, target) = (staged.join("/"), target.join("/"));
        for p in [&staged, &target] {
            if let Some(link) = first_symlink(out, Path::new(p)) {
                return Err(bad(&format!("`{}` is a symbolic link", link.display())));
            }
        }
        entries.push(Step::Move {
            staged: PathBuf::from(staged),
            target: PathBuf::from(target),
        });
    }
    Ok(entries)
}

/// The components of a relative path of plain names (no `.`, `..`, root or empty part).
fn plain_relative(p: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = p.split('/').map(str::to_string).collect();
    let ok = parts
        .iter()
        .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\') && !c.contains('\0'));
    ok.then_some(parts)
}

/// `manifest.json`, or `<table>/billing_period=YYYY-MM/<file>` of a table mlcost writes.
fn is_publishable(target: &[String]) -> bool {
    match target {
        [name] => name == super::MANIFEST,
        [table, partition, file] => {
            is_partition(table, partition) && PARTITION_FILES.contains(&file.as_str())
        }
        [table, file] => table == super::QUARANTINE_DIR && file == super::NO_PERIOD_QUARANTINE,
        _ => false,
    }
}

/// `<table>/billing_period=YYYY-MM` of a table mlcost writes.
fn is_partition(table: &str, partition: &str) -> bool {
    super::TABLES.contains(&table)
        && partition
            .strip_prefix("billing_period=")
            .is_some_and(|p| crate::ingest::billing_period(p).as_deref() == Some(p))
}

/// The first existing symbolic link among `out/p`'s components below `out`, if any.
fn first_symlink(out: &Path, p: &Path) -> Option<PathBuf> {
    let mut at = out.to_path_buf();
    for c in p.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Some(at),
            Ok(_) => {}
            Err(_) => return None, // does not exist (yet): nothing below it can be a link
        }
    }
    None
}

/// Points where tests stop or corrupt a run (to kill it there, or to prove the reconciliation
/// catches a wrong output). Without the `test-hooks` feature, which only the test build enables,
/// it is an empty struct and every hook compiles to nothing: a release binary has none of them.
#[derive(Debug, Clone, Default)]
pub struct TestHooks {
    /// Where to pause, and the file to create when there (`MLCOST_TEST_PAUSE_AT`,
    /// `MLCOST_TEST_PAUSE_FILE`).
    #[cfg(feature = "test-hooks")]
    pub pause_at: Option<(String, Option<PathBuf>)>,
    /// One written cost off by 10^-18 (`MLCOST_TEST_CORRUPT_OUTPUT`): `daily` for one of
    /// `cost_by_model_daily`, anything else for one of `cost_by_model`.
    #[cfg(feature = "test-hooks")]
    pub corrupt_output: Option<String>,
}

impl TestHooks {
    /// Sleeps at `point` when a test asked for it.
    #[cfg(feature = "test-hooks")]
    pub fn pause(&self, point: &str) {
        if let Some((at, file)) = &self.pause_at {
            if at == point {
                if let Some(f) = file {
                    let _ = std::fs::write(f, point);
                }
                std::thread::sleep(std::time::Duration::from_secs(120));
            }
        }
    }

    #[cfg(not(feature = "test-hooks"))]
    pub fn pause(&self, _point: &str) {}

    /// Whether a test asked for a corrupted output.
    #[cfg(feature = "test-hooks")]
    pub fn corrupt_output(&self) -> bool {
        self.corrupt_output.as_deref().is_some_and(|t| t != "daily")
    }

    #[cfg(not(feature = "test-hooks"))]
    pub fn corrupt_output(&self) -> bool {
        false
    }

    /// Whether a test asked for a corrupted daily output.
    #[cfg(feature = "test-hooks")]
    pub fn corrupt_daily_output(&self) -> bool {
        self.corrupt_output.as_deref() == Some("daily")
    }

    #[cfg(not(feature = "test-hooks"))]
    pub fn corrupt_daily_output(&self) -> bool {
        false
    }
}

/// Removes staging directories of earlier runs (ours included). Best effort: a directory
/// that cannot be removed is left for the next run.
fn remove_stale_staging(out: &Path) {
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Writes a file atomically: a temporary file next to it, synced, then renamed over it. The
/// file gets the permissions a new file gets under the process umask (as `File::create`
/// would), not the 0600 of a temporary file.
/// Writes `rel` under `out` outside a commit (the record of a run that published nothing), by
/// rename: never through a symbolic link on the way, creating the directories it needs.
pub fn write_record(out: &Path, rel: &Path, bytes: &[u8]) -> Result<()> {
    no_link_on_the_way(out, rel)?;
    make_parent(&out.join(rel))?;
    // created just now: a link planted since is caught the same way
    no_link_on_the_way(out, rel)?;
    write_file_atomic(&out.join(rel), bytes)
}

/// `Error::OutputInTheWay` naming the first symbolic link on the way from `out` to `rel`.
fn no_link_on_the_way(out: &Path, rel: &Path) -> Result<()> {
    match first_symlink(out, rel) {
        Some(link) => Err(Error::OutputInTheWay {
            path: link,
            what: "a symbolic link".into(),
        }),
        None => Ok(()),
    }
}

pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mlcost-tmp-");
    #[cfg(unix)]
    builder.permissions(default_permissions());
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// 0666 less the process umask: what `File::create` gives a new file. The umask cannot be
/// read without setting it (process-wide), so a probe file is created the normal way in a
/// private temporary directory and its mode read back, once.
#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    static MODE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let mode = *MODE.get_or_init(|| {
        let probe = tempfile::tempdir().ok().and_then(|d| {
            let p = d.path().join("probe");
            std::fs::File::create(&p).ok()?;
            std::fs::metadata(&p)
                .ok()
                .map(|m| m.permissions().mode() & 0o777)
        });
        probe.unwrap_or(0o644)
    });
    std::fs::Permissions::from_mode(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::CostByModelRow;
    use crate::money::Money;

    #[test]
    fn staged_files_appear_only_on_commit() {
        let out = tempfile::tempdir().unwrap();
        let mut s = Staging::new(out.path(), &TestHooks::default()).unwrap();
        let row = CostByModelRow {
            period: "2024-09".into(),
            currency: "USD".into(),
            model_id: "m".into(),
            team: "t".into(),
            lifecycle_phase: "inference".into(),
            allocation_method: "direct".into(),
            cost: Money::parse("1.5").unwrap(),
            rows: 3,
            rule_id: None,
            source_pool: None,
            share: None,
            dimensions: Vec::new(),
        };
        let batch = super::super::cost_by_model_frame(&[&row], "effective").unwrap();
        let staged = s
            .write_partition(super::super::COST_BY_MODEL, "2024-09", &batch)
            .unwrap();
        let target = out
            .path()
            .join("cost_by_model/billing_period=2024-09/part-0.parquet");
        assert!(!target.exists());
        let sums = super::super::sum_written(&[staged], "cost").unwrap();
        assert_eq!(sums[&("2024-09".into(), "USD".into())].to_string(), "1.5");
        s.commit().unwrap();
        assert!(target.exists());
        let names: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("cost_by_model")]);
    }

    #[test]
    fn discard_leaves_nothing() {
        let out = tempfile::tempdir().unwrap();
        let mut s = Staging::new(out.path(), &TestHooks::default()).unwrap();
        s.write_text(Path::new("manifest.json"), b"{}").unwrap();
        s.discard();
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }

    /// A commit that fails at its second step puts the first file's previous version back and
    /// leaves neither journal nor staging.
    #[test]
    fn a_failed_commit_is_undone() {
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("unit_costs/billing_period=2026-10");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("_manifest.json"), "old").unwrap();
        let old_partition = out.path().join("hidden_costs/billing_period=2026-10");
        std::fs::create_dir_all(&old_partition).unwrap();
        std::fs::write(old_partition.join("_SUCCESS"), "").unwrap();
        let mut s = Staging::new(out.path(), &TestHooks::default()).unwrap();
        let first = Path::new("unit_costs/billing_period=2026-10/_manifest.json");
        s.write_text(first, b"new").unwrap();
        s.remove_partition("hidden_costs", "2026-10");
        // a new month's partition: its directories are created for the commit, and go with it
        let new_month = Path::new("cost_by_model/billing_period=2026-11/part-0.parquet");
        s.write_text(new_month, b"data").unwrap();
        s.write_text(Path::new("manifest.json"), b"{}").unwrap();
        // the last staged file vanishes: its rename fails after the first three steps
        std::fs::remove_file(out.path().join(&s.name).join("manifest.json")).unwrap();
        assert!(s.commit().is_err());
        assert_eq!(
            std::fs::read_to_string(out.path().join(first)).unwrap(),
            "old"
        );
        assert!(old_partition.join("_SUCCESS").exists());
        let mut names: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["hidden_costs", "unit_costs"]);
    }

    /// The renames themselves never follow a link: a directory swapped for one after the
    /// checks (the race the re-review won 5 times in 15) makes the rename fail.
    #[test]
    fn renames_never_follow_a_link_planted_after_the_checks() {
        let out = tempfile::tempdir().unwrap();
        let victim = tempfile::tempdir().unwrap();
        let p = |r: &str| out.path().join(r);
        std::fs::create_dir_all(p("staging/t/billing_period=2026-10")).unwrap();
        std::fs::write(p("staging/t/billing_period=2026-10/part-0.parquet"), "new").unwrap();
        std::fs::create_dir_all(p("t")).unwrap();
        std::os::unix::fs::symlink(victim.path(), p("t/billing_period=2026-10")).unwrap();
        let from = Path::new("staging/t/billing_period=2026-10/part-0.parquet");
        let to = Path::new("t/billing_period=2026-10/part-0.parquet");
        assert!(rename_within(out.path(), from, to).is_err());
        assert_eq!(std::fs::read_dir(victim.path()).unwrap().count(), 0);
        // the same rename into a real directory works
        std::fs::remove_file(p("t/billing_period=2026-10")).unwrap();
        std::fs::create_dir(p("t/billing_period=2026-10")).unwrap();
        rename_within(out.path(), from, to).unwrap();
        assert_eq!(
            std::fs::read_to_string(p(to.to_str().unwrap())).unwrap(),
            "new"
        );
    }

    /// Nothing moves when a target is a directory or a path goes through a symbolic link.
    #[test]
    fn preflight_refuses_what_is_in_the_way() {
        let out = tempfile::tempdir().unwrap();
        let victim = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("unit_costs")).unwrap();
        std::os::unix::fs::symlink(
            victim.path(),
            out.path().join("unit_costs/billing_period=2026-10"),
        )
        .unwrap();
        let mut s = Staging::new(out.path(), &TestHooks::default()).unwrap();
        s.write_text(Path::new("manifest.json"), b"{}").unwrap();
        s.write_text(Path::new("unit_costs/billing_period=2026-10/_SUCCESS"), b"")
            .unwrap();
        let e = s.commit().unwrap_err();
        assert!(matches!(e, Error::OutputInTheWay { .. }), "{e}");
        assert!(!out.path().join("manifest.json").exists());
        assert_eq!(std::fs::read_dir(victim.path()).unwrap().count(), 0);

        std::fs::create_dir_all(out.path().join("manifest.json")).unwrap();
        let mut s = Staging::new(out.path(), &TestHooks::default()).unwrap();
        s.write_text(Path::new("manifest.json"), b"{}").unwrap();
        let e = s.commit().unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(!out.path().join(JOURNAL).exists());
    }

    #[test]
    fn journal_entries_are_checked() {
        let out = tempfile::tempdir().unwrap();
        let ok = ".mlcost-staging-7/unit_costs/billing_period=2026-10/_SUCCESS\tunit_costs/billing_period=2026-10/_SUCCESS\n\
                  -\thidden_costs/billing_period=2026-10\n\
                  .mlcost-staging-7/manifest.json\tmanifest.json\n";
        assert_eq!(check_journal(out.path(), ok.as_bytes()).unwrap().len(), 3);
        for bad in [
            ".mlcost-staging-7/manifest.json\t../manifest.json\n",
            ".mlcost-staging-7/x/billing_period=2026-10/_SUCCESS\tx/billing_period=2026-10/_SUCCESS\n",
            ".mlcost-staging-7/unit_costs/billing_period=2026-13/_SUCCESS\tunit_costs/billing_period=2026-13/_SUCCESS\n",
            "staging/manifest.json\tmanifest.json\n",
            ".mlcost-staging-7//manifest.json\t/manifest.json\n",
            ".mlcost-staging-7/./manifest.json\t./manifest.json\n",
            "-\tmanifest.json\n",
            "-\thidden_costs\n",
            "-\thidden_costs/billing_period=2026-10/_SUCCESS\n",
            "-\t../hidden_costs/billing_period=2026-10\n",
        ] {
            assert!(check_journal(out.path(), bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(check_journal(out.path(), &[0xff, 0xfe]).is_err());
    }
}
