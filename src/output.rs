//! Output: turns the result rows into Polars frames, writes each table partition
//! (`<table>/billing_period=YYYY-MM/part-0.parquet`) into a private staging directory under
//! `--out`, re-reads what it wrote to check that it reconciles with what was read, and only
//! then moves every file into place with `rename` (atomic on one filesystem). A failed or
//! killed run therefore leaves the previous outputs as they were. Also writes the quarantine
//! file and the run manifest, the same way.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::allocate::CostByModelRow;
use crate::compliance::ComplianceRow;
use crate::economics::UnitCostRow;
use crate::error::{Error, Result};
use crate::ingest::QuarantinedRow;
use crate::money::{Money, PRECISION, SCALE};
use crate::schema::PHASE_COLUMNS;

pub const COST_BY_MODEL: &str = "cost_by_model";
pub const UNIT_COSTS: &str = "unit_costs";
pub const TAG_COMPLIANCE: &str = "tag_compliance";
pub const TRAINING_AMORTIZATION: &str = "training_amortization";
pub const HIDDEN_COSTS: &str = "hidden_costs";
pub const MANIFEST: &str = "manifest.json";
pub const QUARANTINE: &str = "quarantine.csv";
const STAGING_PREFIX: &str = ".mlcost-staging-";

fn decimal(name: &str, values: impl Iterator<Item = Option<Money>>) -> Column {
    let ca: Int128Chunked = values.map(|m| m.map(|m| m.0)).collect();
    ca.with_name(name.into())
        .into_decimal_unchecked(PRECISION, SCALE as usize)
        .into_series()
        .into_column()
}

fn strings<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    let ca: StringChunked = values.collect();
    ca.with_name(name.into()).into_series().into_column()
}

fn ints(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    let ca: Int64Chunked = values.collect();
    ca.with_name(name.into()).into_series().into_column()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new_infer_height(columns).map_err(Error::polars("building an output frame"))
}

pub fn cost_by_model_frame(rows: &[&CostByModelRow], basis: &str) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
        strings(
            "lifecycle_phase",
            rows.iter().map(|r| Some(r.lifecycle_phase.as_str())),
        ),
        decimal("cost", rows.iter().map(|r| Some(r.cost))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        strings(
            "allocation_method",
            rows.iter().map(|r| Some(r.allocation_method.as_str())),
        ),
        strings("rule_id", rows.iter().map(|r| r.rule_id.as_deref())),
        strings("source_pool", rows.iter().map(|r| r.source_pool.as_deref())),
        decimal("share", rows.iter().map(|r| r.share)),
        strings("cost_basis", rows.iter().map(|_| Some(basis))),
        ints("source_rows", rows.iter().map(|r| Some(r.rows as i64))),
    ])
}

pub fn unit_costs_frame(rows: &[&UnitCostRow]) -> Result<DataFrame> {
    let mut cols = vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("team", rows.iter().map(|r| Some(r.team.as_str()))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
    ];
    for (i, name) in PHASE_COLUMNS.iter().enumerate() {
        cols.push(decimal(name, rows.iter().map(|r| Some(r.phase_costs[i]))));
    }
    cols.extend([
        decimal("total_cost", rows.iter().map(|r| Some(r.total_cost))),
        ints("requests", rows.iter().map(|r| r.requests)),
        decimal("cost_per_request", rows.iter().map(|r| r.cost_per_request)),
        decimal(
            "cost_per_1000_requests",
            rows.iter().map(|r| r.cost_per_1000_requests),
        ),
        strings("unit_cost_reason", rows.iter().map(|r| r.reason.as_deref())),
        decimal("revenue", rows.iter().map(|r| r.revenue)),
        decimal("value_preserved", rows.iter().map(|r| r.value_preserved)),
        decimal(
            "revenue_per_request",
            rows.iter().map(|r| r.economics.revenue_per_request),
        ),
        decimal(
            "gross_margin_pct",
            rows.iter().map(|r| r.economics.gross_margin_pct),
        ),
        decimal(
            "cost_pct_of_revenue",
            rows.iter().map(|r| r.economics.cost_pct_of_revenue),
        ),
        decimal("roi", rows.iter().map(|r| r.economics.roi)),
        decimal(
            "cost_per_dollar_of_value",
            rows.iter().map(|r| r.economics.cost_per_dollar_of_value),
        ),
        strings(
            "economics_reason",
            rows.iter().map(|r| r.economics.reason.as_deref()),
        ),
        strings("verdict", rows.iter().map(|r| Some(r.verdict.as_str()))),
        strings(
            "verdict_reason",
            rows.iter().map(|r| r.verdict_reason.as_deref()),
        ),
    ]);
    frame(cols)
}

pub fn tag_compliance_frame(rows: &[&ComplianceRow]) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("resource_id", rows.iter().map(|r| r.resource_id.as_deref())),
        strings("provider", rows.iter().map(|r| r.provider.as_deref())),
        strings("account", rows.iter().map(|r| r.account.as_deref())),
        strings("problem", rows.iter().map(|r| Some(r.problem.as_str()))),
        decimal("cost_affected", rows.iter().map(|r| Some(r.cost))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        ints("source_rows", rows.iter().map(|r| Some(r.rows as i64))),
    ])
}

pub fn training_amortization_frame(
    rows: &[&crate::amortize::AmortizationRow],
) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings(
            "model_id",
            rows.iter().map(|r| Some(r.schedule.model_id.as_str())),
        ),
        strings("team", rows.iter().map(|r| Some(r.schedule.team.as_str()))),
        strings(
            "currency",
            rows.iter().map(|r| Some(r.schedule.currency.as_str())),
        ),
        strings(
            "incurred_period",
            rows.iter()
                .map(|r| Some(r.schedule.incurred_period.as_str())),
        ),
        decimal(
            "incurred_cost",
            rows.iter().map(|r| Some(r.schedule.incurred_cost)),
        ),
        decimal("charged", rows.iter().map(|r| Some(r.charged))),
        decimal(
            "balance_after",
            rows.iter().map(|r| Some(r.schedule.balance)),
        ),
        ints(
            "months_remaining",
            rows.iter()
                .map(|r| Some(i64::from(r.schedule.months_remaining))),
        ),
    ])
}

pub fn hidden_costs_frame(rows: &[&crate::economics::HiddenRow]) -> Result<DataFrame> {
    frame(vec![
        strings(
            "billing_period",
            rows.iter().map(|r| Some(r.period.as_str())),
        ),
        strings("model_id", rows.iter().map(|r| Some(r.model_id.as_str()))),
        strings("currency", rows.iter().map(|r| Some(r.currency.as_str()))),
        decimal("visible_cost", rows.iter().map(|r| Some(r.costs.visible))),
        decimal("idle_capacity", rows.iter().map(|r| r.costs.idle_capacity)),
        decimal(
            "experiment_waste",
            rows.iter().map(|r| r.costs.experiment_waste),
        ),
        decimal(
            "engineering_time",
            rows.iter().map(|r| r.costs.engineering_time),
        ),
        decimal(
            "hidden_total",
            rows.iter().map(|r| Some(r.costs.hidden_total)),
        ),
        decimal("true_total", rows.iter().map(|r| Some(r.costs.true_total))),
        decimal(
            "hidden_pct_of_visible",
            rows.iter().map(|r| r.costs.hidden_pct_of_visible),
        ),
    ])
}

/// The schedules still open after the latest `training_amortization` partition written before
/// `period` (None when there is none).
pub fn read_open_schedules(out: &Path, period: &str) -> Result<Vec<crate::amortize::Schedule>> {
    // no table yet (first run, or training_months = 1 so far): nothing is open
    let Ok(periods) = list_periods(out, TRAINING_AMORTIZATION) else {
        return Ok(Vec::new());
    };
    let Some(last) = periods.into_iter().rfind(|p| p.as_str() < period) else {
        return Ok(Vec::new());
    };
    let path = out
        .join(TRAINING_AMORTIZATION)
        .join(format!("billing_period={last}"))
        .join("part-0.parquet");
    let t = Written::open(&path)?;
    let text = |n: &str| t.text(n);
    let money = |n: &str| -> Result<Vec<Money>> {
        Ok(t.money(n)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    };
    let (models, teams, currencies, incurred) = (
        text("model_id")?,
        text("team")?,
        text("currency")?,
        text("incurred_period")?,
    );
    let (costs, balances, months) = (
        money("incurred_cost")?,
        money("balance_after")?,
        text("months_remaining")?,
    );
    Ok((0..t.height())
        .map(|i| crate::amortize::Schedule {
            model_id: models[i].clone().unwrap_or_default(),
            team: teams[i].clone().unwrap_or_default(),
            currency: currencies[i].clone().unwrap_or_default(),
            incurred_period: incurred[i].clone().unwrap_or_default(),
            incurred_cost: costs[i],
            balance: balances[i],
            months_remaining: months[i]
                .as_deref()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0),
        })
        .filter(|s| s.months_remaining > 0 && !s.balance.is_zero())
        .collect())
}

/// The lock file that keeps two runs from writing one output directory at once.
pub const LOCK: &str = ".mlcost.lock";

/// Holds `<out>/.mlcost.lock` while alive; removes it when dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    /// The output directory did not exist before: removed again if the run left it empty.
    created: Option<PathBuf>,
}

impl OutputLock {
    /// Takes the lock of `out`. A lock whose process is gone is stale and taken over; a live
    /// one is an error naming the process that holds it.
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        let created = (!out.exists()).then(|| out.to_path_buf());
        std::fs::create_dir_all(out).map_err(|source| Error::Write {
            path: out.to_path_buf(),
            source,
        })?;
        let path = out.join(LOCK);
        let me = format!(
            "pid={}\nstarted_at={}\n",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        );
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes()).map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                    return Ok(OutputLock { path, created });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid: Option<u32> = held
                        .lines()
                        .find_map(|l| l.strip_prefix("pid="))
                        .and_then(|p| p.trim().parse().ok());
                    let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
                    if alive {
                        return Err(Error::Locked {
                            path: out.to_path_buf(),
                            holder: held.lines().collect::<Vec<_>>().join(", "),
                        });
                    }
                    tracing::warn!(
                        "taking over the stale lock of a run that died ({})",
                        held.trim().replace('\n', ", ")
                    );
                    let _ = std::fs::remove_file(&path);
                }
                Err(source) => {
                    return Err(Error::Write {
                        path: path.clone(),
                        source,
                    })
                }
            }
        }
        Err(Error::Locked {
            path: out.to_path_buf(),
            holder: "another run that took the lock at the same moment".into(),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.created {
            let _ = std::fs::remove_dir(dir); // only succeeds when nothing was written
        }
    }
}

/// A run's outputs being assembled in a staging directory under the output directory.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    /// (staged file, final path), in commit order.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staging {
    /// Creates `<out>/.mlcost-staging-<pid>/` (and `<out>` itself if needed).
    pub fn new(out: &Path) -> Result<Staging> {
        let dir = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
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
            dir,
            files: Vec::new(),
        })
    }

    fn stage_path(&self, relative: &Path) -> Result<PathBuf> {
        let staged = self.dir.join(relative);
        if let Some(parent) = staged.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Ok(staged)
    }

    /// Writes one table partition as Parquet (zstd, fixed row order given by the caller).
    pub fn write_partition(
        &mut self,
        table: &str,
        period: &str,
        df: &mut DataFrame,
    ) -> Result<PathBuf> {
        let relative = PathBuf::from(table)
            .join(format!("billing_period={period}"))
            .join("part-0.parquet");
        let staged = self.stage_path(&relative)?;
        let file = std::fs::File::create(&staged).map_err(|source| Error::Write {
            path: staged.clone(),
            source,
        })?;
        ParquetWriter::new(&file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map_err(|source| Error::WriteParquet {
                path: staged.clone(),
                source,
            })?;
        file.sync_all().map_err(|source| Error::Write {
            path: staged.clone(),
            source,
        })?;
        self.files.push((staged.clone(), self.out.join(&relative)));
        test_pause(&format!("stage:{table}"));
        Ok(staged)
    }

    /// Writes a small text file (manifest, quarantine) to be committed with the tables.
    pub fn write_text(&mut self, name: &str, text: &[u8]) -> Result<()> {
        let staged = self.stage_path(Path::new(name))?;
        let io = |source| Error::Write {
            path: staged.clone(),
            source,
        };
        let mut f = std::fs::File::create(&staged).map_err(io)?;
        f.write_all(text).map_err(io)?;
        f.sync_all().map_err(io)?;
        self.files.push((staged.clone(), self.out.join(name)));
        Ok(())
    }

    /// Moves every staged file into place, in order, then removes the staging directory and
    /// any staging directory a killed earlier run left behind. Returns the final paths.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        // The journal makes the renames one step: a run killed half-way through them is
        // completed by the next run (`recover`), so the outputs never stay half old, half new.
        let journal: String = self
            .files
            .iter()
            .map(|(s, t)| format!("{}\t{}\n", s.display(), t.display()))
            .collect();
        write_file_atomic(&self.out.join(JOURNAL), journal.as_bytes())?;
        let mut done = Vec::with_capacity(self.files.len());
        for (i, (staged, target)) in self.files.iter().enumerate() {
            move_into_place(staged, target)?;
            if i == 0 {
                test_pause("commit");
            }
            done.push(target.clone());
        }
        let _ = std::fs::remove_file(self.out.join(JOURNAL));
        remove_stale_staging(&self.out);
        Ok(done)
    }

    /// Abandons the run: removes the staging directory; nothing under `--out` changed.
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Journal of an interrupted commit (staged path, tab, final path, per line).
const JOURNAL: &str = ".mlcost-commit";

fn move_into_place(staged: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::rename(staged, target).map_err(|source| Error::Write {
        path: target.to_path_buf(),
        source,
    })
}

/// Completes a commit that a killed run left half-done, and removes staging directories of
/// runs that died before committing. Call with the output lock held.
pub fn recover(out: &Path) -> Result<()> {
    if let Ok(journal) = std::fs::read_to_string(out.join(JOURNAL)) {
        for line in journal.lines() {
            if let Some((staged, target)) = line.split_once('\t') {
                let staged = Path::new(staged);
                if staged.exists() {
                    tracing::warn!("completing the interrupted commit of `{}`", target);
                    move_into_place(staged, Path::new(target))?;
                }
            }
        }
        let _ = std::fs::remove_file(out.join(JOURNAL));
    }
    remove_stale_staging(out);
    Ok(())
}

/// Test hook: with `MLCOST_TEST_PAUSE_AT=<point>` the run creates the file named by
/// `MLCOST_TEST_PAUSE_FILE` and sleeps there, so a test can kill it at a known point.
pub fn test_pause(point: &str) {
    if std::env::var("MLCOST_TEST_PAUSE_AT").as_deref() == Ok(point) {
        if let Ok(f) = std::env::var("MLCOST_TEST_PAUSE_FILE") {
            let _ = std::fs::write(f, point);
        }
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}

/// Removes staging directories of earlier runs (ours included). Best effort: a directory
/// that cannot be removed is left for the next run.
fn remove_stale_staging(out: &Path) {
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Sums a decimal column of written Parquet files per (billing_period, currency) by reading
/// the files back: the reconciliation checks what is on disk, not what we meant to write.
pub fn sum_written(files: &[PathBuf], column: &str) -> Result<BTreeMap<(String, String), Money>> {
    let mut out: BTreeMap<(String, String), Money> = BTreeMap::new();
    for path in files {
        for (k, v) in sum_by_key(&Written::open(path)?, "billing_period", column)? {
            *out.entry(k).or_default() += v;
        }
    }
    Ok(out)
}

/// Reads a whole Parquet file we wrote; errors name the file.
fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// The billing periods a table has partitions for, sorted.
pub fn list_periods(out: &Path, table: &str) -> Result<Vec<String>> {
    let dir = out.join(table);
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut periods: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("billing_period=")
                .map(str::to_string)
        })
        .filter(|p| crate::ledger::billing_period(p).as_deref() == Some(p.as_str()))
        .collect();
    periods.sort();
    Ok(periods)
}

/// Every period of `unit_costs` under `out`.
pub fn read_all_unit_costs(out: &Path) -> Result<Vec<UnitCostRow>> {
    let mut rows = Vec::new();
    for p in list_periods(out, UNIT_COSTS)? {
        rows.extend(read_unit_costs(out, &p)?);
    }
    Ok(rows)
}

/// Tag compliance of one period: (problem, currency) -> cost affected.
pub fn read_compliance(out: &Path, period: &str) -> Result<BTreeMap<(String, String), Money>> {
    let path = out
        .join(TAG_COMPLIANCE)
        .join(format!("billing_period={period}"))
        .join("part-0.parquet");
    sum_by_key(&Written::open(&path)?, "problem", "cost_affected")
}

/// Sums a money column by (`key` column, currency).
fn sum_by_key(t: &Written, key: &str, column: &str) -> Result<BTreeMap<(String, String), Money>> {
    let (keys, currencies, costs) = (t.text(key)?, t.text("currency")?, t.money(column)?);
    let mut out: BTreeMap<(String, String), Money> = BTreeMap::new();
    for i in 0..t.height() {
        let k = (
            keys[i].clone().unwrap_or_default(),
            currencies[i].clone().unwrap_or_default(),
        );
        *out.entry(k).or_default() += costs[i].unwrap_or_default();
    }
    Ok(out)
}

/// Hidden costs of one period, when `mlcost hidden` wrote them.
pub fn read_hidden(out: &Path, period: &str) -> Result<Vec<crate::economics::HiddenRow>> {
    let path = out
        .join(HIDDEN_COSTS)
        .join(format!("billing_period={period}"))
        .join("part-0.parquet");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let t = Written::open(&path)?;
    let text = |n: &str| t.text(n);
    let money = |n: &str| t.money(n);
    let (models, currencies) = (text("model_id")?, text("currency")?);
    let (visible, idle, waste, eng, hidden, total, pct) = (
        money("visible_cost")?,
        money("idle_capacity")?,
        money("experiment_waste")?,
        money("engineering_time")?,
        money("hidden_total")?,
        money("true_total")?,
        money("hidden_pct_of_visible")?,
    );
    Ok((0..t.height())
        .map(|i| crate::economics::HiddenRow {
            period: period.to_string(),
            model_id: models[i].clone().unwrap_or_default(),
            currency: currencies[i].clone().unwrap_or_default(),
            costs: crate::economics::HiddenCosts {
                visible: visible[i].unwrap_or_default(),
                idle_capacity: idle[i],
                experiment_waste: waste[i],
                engineering_time: eng[i],
                hidden_total: hidden[i].unwrap_or_default(),
                true_total: total[i].unwrap_or_default(),
                hidden_pct_of_visible: pct[i],
            },
        })
        .collect())
}

/// Writes a file atomically: a temporary file next to it, synced, then renamed over it.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// A table we wrote, read back column by column; errors name the file.
struct Written {
    df: DataFrame,
    path: PathBuf,
}

impl Written {
    fn open(path: &Path) -> Result<Written> {
        Ok(Written {
            df: read_parquet(path)?,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, source: PolarsError) -> Error {
        Error::Read {
            path: self.path.clone(),
            source,
        }
    }

    fn height(&self) -> usize {
        self.df.height()
    }

    fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        self.df
            .column(name)
            .and_then(crate::ingest::text_values)
            .map_err(|e| self.err(e))
    }

    fn money(&self, name: &str) -> Result<Vec<Option<Money>>> {
        let c = self.df.column(name).map_err(|e| self.err(e))?;
        let d = c.decimal().map_err(|e| self.err(e))?;
        Ok(d.physical().iter().map(|v| v.map(Money)).collect())
    }
}

/// Reads one period of `unit_costs` back (for plan vs actual).
pub fn read_unit_costs(out: &Path, period: &str) -> Result<Vec<UnitCostRow>> {
    let path = out
        .join(UNIT_COSTS)
        .join(format!("billing_period={period}"))
        .join("part-0.parquet");
    let t = Written::open(&path)?;
    let text = |n: &str| t.text(n);
    let money = |n: &str| t.money(n);
    let (models, teams, currencies, reasons) = (
        text("model_id")?,
        text("team")?,
        text("currency")?,
        text("unit_cost_reason")?,
    );
    let phases: Vec<Vec<Option<Money>>> = PHASE_COLUMNS
        .iter()
        .map(|c| money(c))
        .collect::<Result<_>>()?;
    let (totals, per, per_1000, requests) = (
        money("total_cost")?,
        money("cost_per_request")?,
        money("cost_per_1000_requests")?,
        text("requests")?,
    );
    let (revenue, preserved, rev_per) = (
        money("revenue")?,
        money("value_preserved")?,
        money("revenue_per_request")?,
    );
    let (margin, cost_pct, roi, per_dollar) = (
        money("gross_margin_pct")?,
        money("cost_pct_of_revenue")?,
        money("roi")?,
        money("cost_per_dollar_of_value")?,
    );
    let (econ_reason, verdicts, verdict_reasons) = (
        text("economics_reason")?,
        text("verdict")?,
        text("verdict_reason")?,
    );
    Ok((0..t.height())
        .map(|i| UnitCostRow {
            period: period.to_string(),
            model_id: models[i].clone().unwrap_or_default(),
            team: teams[i].clone().unwrap_or_default(),
            currency: currencies[i].clone().unwrap_or_default(),
            phase_costs: std::array::from_fn(|k| phases[k][i].unwrap_or_default()),
            total_cost: totals[i].unwrap_or_default(),
            requests: requests[i].as_deref().and_then(|r| r.parse().ok()),
            cost_per_request: per[i],
            cost_per_1000_requests: per_1000[i],
            reason: reasons[i].clone(),
            revenue: revenue[i],
            value_preserved: preserved[i],
            economics: crate::economics::UnitEconomics {
                cost_per_request: per[i],
                cost_per_1000_requests: per_1000[i],
                revenue_per_request: rev_per[i],
                gross_margin_pct: margin[i],
                cost_pct_of_revenue: cost_pct[i],
                roi: roi[i],
                cost_per_dollar_of_value: per_dollar[i],
                reason: econ_reason[i].clone(),
            },
            verdict: verdicts[i].clone().unwrap_or_default(),
            verdict_reason: verdict_reasons[i].clone(),
        })
        .collect())
}

/// Reads one period of `cost_by_model` back (for `explain`), with its cost basis.
pub fn read_cost_by_model(out: &Path, period: &str) -> Result<(Vec<CostByModelRow>, String)> {
    let path = out
        .join(COST_BY_MODEL)
        .join(format!("billing_period={period}"))
        .join("part-0.parquet");
    let t = Written::open(&path)?;
    let text = |n: &str| t.text(n);
    let money = |n: &str| t.money(n);
    let (models, teams, phases, methods) = (
        text("model_id")?,
        text("team")?,
        text("lifecycle_phase")?,
        text("allocation_method")?,
    );
    let (currencies, rules, pools) = (text("currency")?, text("rule_id")?, text("source_pool")?);
    let (costs, shares, rows) = (money("cost")?, money("share")?, text("source_rows")?);
    let basis = text("cost_basis")?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let rows = (0..t.height())
        .map(|i| CostByModelRow {
            period: period.to_string(),
            currency: currencies[i].clone().unwrap_or_default(),
            model_id: models[i].clone().unwrap_or_default(),
            team: teams[i].clone().unwrap_or_default(),
            lifecycle_phase: phases[i].clone().unwrap_or_default(),
            allocation_method: methods[i].clone().unwrap_or_default(),
            cost: costs[i].unwrap_or_default(),
            rows: rows[i].as_deref().and_then(|r| r.parse().ok()).unwrap_or(0),
            rule_id: rules[i].clone(),
            source_pool: pools[i].clone(),
            share: shares[i],
        })
        .collect();
    Ok((rows, basis))
}

/// The quarantine file: one line per row that was not counted.
pub fn quarantine_csv(rows: &[QuarantinedRow]) -> Vec<u8> {
    let mut out = String::from("source_file,source_row,column,reason,value\n");
    for r in rows {
        let fields = [
            r.file.display().to_string(),
            r.row.to_string(),
            r.column.clone(),
            r.reason.clone(),
            r.value.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `manifest.json`: what one run read, wrote and checked. Everything in it is deterministic
/// except `run` (start time and duration).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub tool: ToolInfo,
    pub schema_version: &'static str,
    pub run: RunInfo,
    pub config: ConfigInfo,
    pub cost_basis: &'static str,
    pub period_filter: Option<String>,
    pub inputs: Vec<InputInfo>,
    pub volumes: Option<VolumesInfo>,
    pub rows: RowCounts,
    pub periods: Vec<PeriodInfo>,
    pub reconciliation: Reconciliation,
    pub volume_report: crate::economics::VolumeReport,
    pub amortization: AmortizationInfo,
    pub outputs: Vec<String>,
    /// Months this run restated, and the restatements of earlier runs (carried forward).
    pub history: Vec<Restatement>,
}

/// A month whose totals or inputs changed since the previous run on this output directory.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Restatement {
    pub billing_period: String,
    pub currency: String,
    pub restated_at: String,
    pub cost_before: String,
    pub cost_after: String,
    pub inputs_before: Vec<String>,
    pub inputs_after: Vec<String>,
}

/// Compares this run's periods with the previous manifest in `out` (if any) and returns the
/// history to record: the previous history plus one entry per restated (period, currency).
pub fn restatements(
    out: &Path,
    periods: &[PeriodInfo],
    inputs: &[InputInfo],
    at: &str,
) -> Vec<Restatement> {
    let Ok(text) = std::fs::read_to_string(out.join(MANIFEST)) else {
        return Vec::new();
    };
    let Ok(prev) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let mut history: Vec<Restatement> = prev
        .get("history")
        .and_then(|h| serde_json::from_value(h.clone()).ok())
        .unwrap_or_default();
    let mut before_inputs: Vec<String> = prev
        .get("inputs")
        .and_then(|i| i.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("sha256")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    before_inputs.sort();
    let mut after_inputs: Vec<String> = inputs.iter().map(|i| i.sha256.clone()).collect();
    after_inputs.sort();
    let empty = Vec::new();
    let prev_periods = prev
        .get("periods")
        .and_then(|p| p.as_array())
        .unwrap_or(&empty);
    for p in periods {
        let before = prev_periods.iter().find(|q| {
            q.get("billing_period").and_then(|v| v.as_str()) == Some(p.billing_period.as_str())
                && q.get("currency").and_then(|v| v.as_str()) == Some(p.currency.as_str())
        });
        let Some(before) = before else { continue };
        let cost_before = before
            .get("cost_read")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let cost_after = p.cost_read.to_string();
        if cost_before != cost_after || before_inputs != after_inputs {
            history.push(Restatement {
                billing_period: p.billing_period.clone(),
                currency: p.currency.clone(),
                restated_at: at.to_string(),
                cost_before,
                cost_after,
                inputs_before: before_inputs.clone(),
                inputs_after: after_inputs.clone(),
            });
        }
    }
    history
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AmortizationInfo {
    pub training_months: u32,
    /// Schedules carried in from the output of an earlier month.
    pub opening_schedules: usize,
    /// (period, currency) -> training cost incurred but not yet charged at the period's end.
    pub closing_balance: BTreeMap<String, Money>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunInfo {
    pub started_at: String,
    pub duration_seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigInfo {
    pub path: Option<String>,
    pub sha256: String,
    /// sha256 of the allocation rules alone (rules, pools, spreading, amortisation).
    pub rules_sha256: String,
    /// Rule id -> billing rows it matched.
    pub rule_matches: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InputInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub kind: crate::ingest::FileKind,
    pub format: String,
    pub format_version: String,
    pub rows: u64,
    pub quarantined_rows: u64,
    /// Per currency, the sum of every cost column the file has (counted rows only).
    pub totals: BTreeMap<String, BTreeMap<&'static str, Money>>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VolumesInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub rows: u64,
    pub unusable_rows: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub counted: u64,
    pub excluded_commitment_purchases: u64,
    pub outside_period: u64,
    pub quarantined: u64,
    pub quarantined_by_reason: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PeriodInfo {
    pub billing_period: String,
    pub currency: String,
    pub rows: u64,
    /// Chosen basis, counted rows: what the outputs must add up to.
    pub cost_read: Money,
    pub cost_written: Money,
    pub unit_costs_written: Money,
    pub allocated_direct: Money,
    pub unallocated: Money,
    pub by_basis: BTreeMap<&'static str, Money>,
    pub excluded_commitment_purchases: Money,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Reconciliation {
    pub ok: bool,
    pub checked: usize,
    pub mismatches: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_on_commit() {
        let out = tempfile::tempdir().unwrap();
        let mut s = Staging::new(out.path()).unwrap();
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
        };
        let mut df = cost_by_model_frame(&[&row], "effective").unwrap();
        let staged = s
            .write_partition(COST_BY_MODEL, "2024-09", &mut df)
            .unwrap();
        let target = out
            .path()
            .join("cost_by_model/billing_period=2024-09/part-0.parquet");
        assert!(!target.exists());
        let sums = sum_written(&[staged], "cost").unwrap();
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
        let mut s = Staging::new(out.path()).unwrap();
        s.write_text("manifest.json", b"{}").unwrap();
        s.discard();
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }

    #[test]
    fn quarantine_csv_quotes() {
        let text = quarantine_csv(&[QuarantinedRow {
            file: "a,b.csv".into(),
            row: 3,
            column: "EffectiveCost".into(),
            reason: "EffectiveCost is not a decimal number".into(),
            value: "1\"2".into(),
        }]);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "source_file,source_row,column,reason,value\n\"a,b.csv\",3,EffectiveCost,EffectiveCost is not a decimal number,\"1\"\"2\"\n"
        );
    }
}
