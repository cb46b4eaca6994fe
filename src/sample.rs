//! The synthetic billing generator behind `mlcost sample`: a FOCUS 1.2 export (CSV, CSV.gz
//! or Parquet) with heavy-tailed costs, thousands of resources, dozens of models and teams,
//! messy and missing tags, commitment purchases with amortised and unused commitment, credits,
//! plus matching daily request volumes. Seeded and deterministic; written in chunks so any
//! number of rows fits in bounded memory.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// Rows generated and written per chunk.
const CHUNK: usize = 200_000;

/// SplitMix64: small, fast, and the same sequence on every platform and version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Log-normal with the given median and spread.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        // Box-Muller
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }
}

const TEAMS: [&str; 12] = [
    "recsys",
    "search",
    "fraud",
    "ads",
    "vision",
    "nlp",
    "growth",
    "pricing",
    "risk",
    "support-ai",
    "maps",
    "platform",
];
const KINDS: [&str; 5] = [
    "ranker",
    "retrieval",
    "classifier",
    "embedder",
    "forecaster",
];

#[derive(Debug, Clone)]
struct Model {
    id: String,
    team: usize,
    project: String,
    /// Serves online requests (batch-only models have spend but no volumes).
    online: bool,
    daily_requests: f64,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Training,
    Inference,
    FeaturePipeline,
    Storage,
    DataTransfer,
    Experimentation,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Training => "training",
            Phase::Inference => "inference",
            Phase::FeaturePipeline => "feature_pipeline",
            Phase::Storage => "storage",
            Phase::DataTransfer => "data_transfer",
            Phase::Experimentation => "experimentation",
        }
    }
    /// (service name, service category, resource kind, hourly median cost)
    fn service(self) -> (&'static str, &'static str, &'static str, f64) {
        match self {
            Phase::Training => (
                "Amazon SageMaker",
                "AI and Machine Learning",
                "training-job",
                24.48,
            ),
            Phase::Inference => ("Amazon Elastic Compute Cloud", "Compute", "instance", 3.912),
            Phase::FeaturePipeline => ("Amazon EMR", "Analytics", "cluster", 0.768),
            Phase::Storage => ("Amazon Simple Storage Service", "Storage", "bucket", 0.05),
            Phase::DataTransfer => ("AWS Data Transfer", "Networking", "transfer", 0.09),
            Phase::Experimentation => (
                "Amazon SageMaker",
                "AI and Machine Learning",
                "notebook",
                1.2,
            ),
        }
    }
}

#[derive(Debug, Clone)]
struct Resource {
    id: String,
    account: String,
    account_name: String,
    phase: Phase,
    hourly: f64,
    tags: Option<String>,
    covered_by_commitment: bool,
}

/// What `generate` wrote.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    pub billing: PathBuf,
    pub requests: PathBuf,
    pub rows: u64,
    pub resources: usize,
    pub models: usize,
}

/// Output encoding of the billing export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Csv,
    CsvGz,
    Parquet,
}

pub struct SampleSpec {
    pub rows: u64,
    pub seed: u64,
    pub months: u32,
    /// (year, month) of the last billing period.
    pub end: (i32, u32),
    pub encoding: Encoding,
    /// Number of files the export is split into (1: one file; more: a directory of parts,
    /// as large exports are delivered).
    pub parts: u32,
}

fn periods(end: (i32, u32), months: u32) -> Vec<(i32, u32)> {
    let mut out = Vec::new();
    let (mut y, mut m) = end;
    for _ in 0..months.max(1) {
        out.push((y, m));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

fn days_in(y: i32, m: u32) -> u32 {
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| chrono::Datelike::day(&d))
        .unwrap_or(30)
}

fn models(rng: &mut Rng) -> Vec<Model> {
    let mut out = Vec::new();
    for i in 0..60 {
        let team = i % TEAMS.len();
        let kind = KINDS[(i / TEAMS.len()) % KINDS.len()];
        let version = 1 + (i % 4);
        out.push(Model {
            id: format!("{}-{kind}-v{version}", TEAMS[team]),
            team,
            project: format!(
                "{}-{}",
                TEAMS[team],
                if kind == "forecaster" {
                    "planning"
                } else {
                    "serving"
                }
            ),
            online: i % 7 != 3,
            daily_requests: rng.lognormal(2_000_000.0, 1.2).round(),
        });
    }
    out
}

/// A resource's tag JSON, with the mess real bills have.
fn tags_for(rng: &mut Rng, model: &Model, phase: Phase) -> Option<String> {
    let r = rng.f64();
    if r < 0.10 {
        return None; // untagged
    }
    let team = TEAMS[model.team];
    let env = if rng.chance(0.85) { "prod" } else { "staging" };
    let mut pairs: Vec<(String, String)> = vec![
        ("team".into(), team.into()),
        ("project".into(), model.project.clone()),
        ("model_id".into(), model.id.clone()),
        ("environment".into(), env.into()),
        (
            "cost_center".into(),
            format!("cc-{}", 1000 + model.team * 10),
        ),
        ("lifecycle_phase".into(), phase.name().into()),
    ];
    if r < 0.17 {
        // some required keys missing
        let drop = 1 + rng.below(3) as usize;
        for _ in 0..drop {
            let i = rng.below(pairs.len() as u64) as usize;
            pairs.remove(i);
        }
    } else if r < 0.25 {
        // messy keys and values: case, spaces, aliases
        for (k, v) in pairs.iter_mut() {
            match k.as_str() {
                "team" => {
                    *k = " Team".into();
                    *v = v.to_uppercase();
                }
                "model_id" => *k = "Model-Id".into(),
                "environment" => *k = "env".into(),
                "cost_center" => *k = "CostCenter".into(),
                _ => {}
            }
        }
    } else if r < 0.26 {
        // two spellings of model_id that disagree: a conflict
        pairs.push(("model-id".into(), format!("{}-old", model.id)));
    }
    if (0.26..0.262).contains(&r) {
        return Some(format!("team={team};model_id={}", model.id)); // not JSON
    }
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", json_str(k), json_str(v)))
        .collect();
    Some(format!("{{{}}}", body.join(", ")))
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn resources(rng: &mut Rng, models: &[Model], n: usize) -> Vec<Resource> {
    let accounts: Vec<(String, String)> = (0..24)
        .map(|i| {
            (
                format!("{:012}", 10_000_000 + i * 7_919_337),
                format!("ml-{}-prod", TEAMS[i % TEAMS.len()]),
            )
        })
        .collect();
    let phases = [
        (Phase::Inference, 0.34),
        (Phase::Training, 0.18),
        (Phase::FeaturePipeline, 0.14),
        (Phase::Storage, 0.16),
        (Phase::DataTransfer, 0.08),
        (Phase::Experimentation, 0.10),
    ];
    (0..n)
        .map(|i| {
            // every model gets resources; after that, models are drawn at random
            let model = if i < models.len() * 3 {
                &models[i % models.len()]
            } else {
                &models[rng.below(models.len() as u64) as usize]
            };
            let mut x = rng.f64();
            let mut phase = Phase::Inference;
            for (p, w) in phases {
                if x < w {
                    phase = p;
                    break;
                }
                x -= w;
            }
            let (_, _, kind, median) = phase.service();
            let (account, account_name) =
                accounts[(model.team * 2 + i % 2) % accounts.len()].clone();
            if i % 50 == 7 {
                // the shared feature store: platform-owned, serves every model, no model_id
                let (account, account_name) = accounts[23].clone();
                return Resource {
                    id: format!("arn:aws:sagemaker:us-east-1:{account}:feature-group/feature-store-{i}"),
                    account,
                    account_name,
                    phase: Phase::FeaturePipeline,
                    hourly: rng.lognormal(2.0, 0.5),
                    tags: Some(
                        r#"{"team": "platform", "project": "feature-store", "environment": "prod", "cost_center": "cc-1110", "lifecycle_phase": "feature_pipeline"}"#
                            .to_string(),
                    ),
                    covered_by_commitment: false,
                };
            }
            Resource {
                id: format!(
                    "arn:aws:{kind}:us-east-1:{account}:{}/{}-{i}",
                    kind, model.id
                ),
                account,
                account_name,
                phase,
                hourly: rng.lognormal(median, 0.9),
                tags: tags_for(rng, model, phase),
                covered_by_commitment: matches!(phase, Phase::Inference) && rng.chance(0.3),
            }
        })
        .collect()
}

/// Heavy-tailed resource choice: a few resources carry most rows (Zipf-like, s = 1.1).
struct Picker {
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(n: usize) -> Picker {
        let mut acc = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                acc += 1.0 / ((i + 1) as f64).powf(0.9);
                acc
            })
            .collect();
        Picker { cumulative }
    }
    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.f64() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.cumulative.len() - 1)
    }
}

/// Column buffers of one chunk, in `COLUMNS` order.
#[derive(Default)]
struct Chunk {
    text: Vec<Vec<Option<String>>>,
    money: Vec<Vec<Option<String>>>,
}

const COLUMNS: [&str; 22] = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];
const MONEY_COLUMNS: [&str; 4] = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"];

fn fmt_money(rng: &mut Rng, x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-4 && rng.chance(0.5) {
        format!("{x:.6E}") // scientific notation, as AWS and OCI write tiny amounts
    } else {
        let s = format!("{x:.10}");
        let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        if s == "-0" {
            "0".to_string()
        } else {
            s
        }
    }
}

/// Generates the sample into `dir`.
pub fn generate(dir: &Path, spec: &SampleSpec) -> Result<SampleFiles> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut rng = Rng::new(spec.seed);
    let models = models(&mut rng);
    let n_res = ((spec.rows / 100) as usize).clamp(200, 25_000);
    let resources = resources(&mut rng, &models, n_res);
    let picker = Picker::new(resources.len());
    let periods = periods(spec.end, spec.months);
    let ext = match spec.encoding {
        Encoding::Csv => "csv",
        Encoding::CsvGz => "csv.gz",
        Encoding::Parquet => "parquet",
    };
    let parts = u64::from(spec.parts.max(1));
    let (billing, part_path) = if parts == 1 {
        let billing = dir.join(format!("focus_sample.{ext}"));
        (
            billing.clone(),
            Box::new(move |_| billing.clone()) as Box<dyn Fn(u64) -> PathBuf>,
        )
    } else {
        let billing = dir.join("focus_sample");
        std::fs::create_dir_all(&billing).map_err(|source| Error::Write {
            path: billing.clone(),
            source,
        })?;
        let base = billing.clone();
        (
            billing,
            Box::new(move |i| base.join(format!("part-{i:05}.{ext}")))
                as Box<dyn Fn(u64) -> PathBuf>,
        )
    };
    let mut part = 0u64;
    let mut sink = Sink::create(&part_path(part), spec.encoding)?;
    // Part k ends after row (k + 1) * rows / parts; the rows are the same as in one file.
    let part_end = |k: u64| (k + 1) * spec.rows / parts;

    // Fixed rows per period: commitment purchase and unused commitment.
    let mut special: Vec<[Option<String>; 26]> = Vec::new();
    let usage_rows = spec.rows.saturating_sub(special_rows(&periods) as u64);
    for &(y, m) in &periods {
        let start = format!("{y:04}-{m:02}-01T00:00:00Z");
        let end = period_end(y, m);
        let commitment = format!(
            "arn:aws:savingsplans::{}:savingsplan/sp-{y}{m:02}",
            resources[0].account
        );
        let fee = format!("{:.2}", 5000.0 + rng.f64() * 1000.0);
        special.push(row_values(
            &resources[0],
            &start,
            &end,
            &start,
            &end,
            "Purchase",
            Some(&commitment),
            None,
            [fee.clone(), "0".into(), fee.clone(), fee],
            None,
            Some(&commitment),
        ));
        let unused = format!("{:.4}", 150.0 + rng.f64() * 100.0);
        special.push(row_values(
            &resources[0],
            &start,
            &end,
            &start,
            &end,
            "Usage",
            Some(&commitment),
            Some("Unused"),
            ["0".into(), unused.clone(), unused.clone(), unused],
            None,
            Some(&commitment),
        ));
    }
    let mut chunk = Chunk::default();
    let mut written = 0u64;
    for values in special {
        push_row(&mut chunk, values);
        written += 1;
    }
    for i in 0..usage_rows {
        let (y, m) = periods[(i % periods.len() as u64) as usize];
        let r = &resources[picker.pick(&mut rng)];
        let day = 1 + rng.below(u64::from(days_in(y, m))) as u32;
        let hour = rng.below(24);
        let start = format!("{y:04}-{m:02}-01T00:00:00Z");
        let end = period_end(y, m);
        let cstart = format!("{y:04}-{m:02}-{day:02}T{hour:02}:00:00Z");
        let cend = if hour == 23 {
            format!("{y:04}-{m:02}-{day:02}T23:59:59Z")
        } else {
            format!("{y:04}-{m:02}-{day:02}T{:02}:00:00Z", hour + 1)
        };
        let usage = r.hourly * rng.lognormal(1.0, 0.5);
        let list = usage * 1.15;
        let credit = rng.chance(0.005);
        let (category, costs, status, cid) = if credit {
            let c = fmt_money(&mut rng, -usage * 0.5);
            (
                "Credit",
                [c.clone(), c.clone(), "0".into(), "0".into()],
                None,
                None,
            )
        } else if r.covered_by_commitment {
            let e = fmt_money(&mut rng, usage * 0.72);
            (
                "Usage",
                [
                    "0".into(),
                    e,
                    fmt_money(&mut rng, list),
                    fmt_money(&mut rng, usage),
                ],
                Some("Used"),
                Some("sp"),
            )
        } else {
            let b = fmt_money(&mut rng, usage);
            (
                "Usage",
                [b.clone(), b.clone(), fmt_money(&mut rng, list), b],
                None,
                None,
            )
        };
        let commitment = cid.map(|_| {
            format!(
                "arn:aws:savingsplans::{}:savingsplan/sp-{y}{m:02}",
                resources[0].account
            )
        });
        let values = row_values(
            r,
            &start,
            &end,
            &cstart,
            &cend,
            category,
            commitment.as_deref(),
            status,
            costs,
            r.tags.as_deref(),
            None,
        );
        push_row(&mut chunk, values);
        written += 1;
        if chunk.text.first().map_or(0, Vec::len) >= CHUNK {
            sink.write(&mut chunk)?;
        }
        if written == part_end(part) && part + 1 < parts {
            sink.write(&mut chunk)?;
            sink.finish()?;
            part += 1;
            sink = Sink::create(&part_path(part), spec.encoding)?;
        }
    }
    sink.write(&mut chunk)?;
    sink.finish()?;

    let requests = dir.join("requests.csv");
    write_requests(&requests, &models, &periods, spec.seed)?;
    Ok(SampleFiles {
        billing,
        requests,
        rows: written,
        resources: resources.len(),
        models: models.len(),
    })
}

fn special_rows(periods: &[(i32, u32)]) -> usize {
    periods.len() * 2
}

fn period_end(y: i32, m: u32) -> String {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    format!("{ny:04}-{nm:02}-01T00:00:00Z")
}

#[allow(clippy::too_many_arguments)]
fn row_values(
    r: &Resource,
    start: &str,
    end: &str,
    cstart: &str,
    cend: &str,
    category: &str,
    commitment: Option<&str>,
    status: Option<&str>,
    costs: [String; 4],
    tags: Option<&str>,
    resource_override: Option<&str>,
) -> [Option<String>; 26] {
    let (service, service_category, _, _) = r.phase.service();
    let s = |x: &str| Some(x.to_string());
    [
        s("123456789012"),
        s("Example Corp"),
        s("USD"),
        s(start),
        s(end),
        s(cstart),
        s(cend),
        s(category),
        None,
        s(&format!("{} {}", service, r.phase.name())),
        commitment.map(str::to_string),
        status.map(str::to_string),
        s("AWS"),
        s("AWS"),
        s("Amazon Web Services, Inc."),
        s(service),
        s(service_category),
        s("us-east-1"),
        s(resource_override.unwrap_or(&r.id)),
        s(&r.account),
        s(&r.account_name),
        tags.map(str::to_string),
        Some(costs[0].clone()),
        Some(costs[1].clone()),
        Some(costs[2].clone()),
        Some(costs[3].clone()),
    ]
}

fn push_row(chunk: &mut Chunk, values: [Option<String>; 26]) {
    if chunk.text.is_empty() {
        chunk.text = vec![Vec::with_capacity(CHUNK); COLUMNS.len()];
        chunk.money = vec![Vec::with_capacity(CHUNK); MONEY_COLUMNS.len()];
    }
    for (i, v) in values.into_iter().enumerate() {
        if i < COLUMNS.len() {
            chunk.text[i].push(v);
        } else {
            chunk.money[i - COLUMNS.len()].push(v);
        }
    }
}

enum Sink {
    Csv(Box<dyn Write>, PathBuf),
    Parquet(
        Box<polars::io::parquet::write::BatchedWriter<std::fs::File>>,
        PathBuf,
    ),
}

impl Sink {
    fn create(path: &Path, encoding: Encoding) -> Result<Sink> {
        let io = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let header = COLUMNS
            .iter()
            .chain(MONEY_COLUMNS.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(",")
            + "\n";
        match encoding {
            Encoding::Csv | Encoding::CsvGz => {
                let mut w: Box<dyn Write> = if encoding == Encoding::CsvGz {
                    Box::new(flate2::write::GzEncoder::new(
                        std::io::BufWriter::with_capacity(1 << 20, file),
                        flate2::Compression::fast(),
                    ))
                } else {
                    Box::new(std::io::BufWriter::with_capacity(1 << 20, file))
                };
                w.write_all(header.as_bytes()).map_err(io)?;
                Ok(Sink::Csv(w, path.to_path_buf()))
            }
            Encoding::Parquet => {
                let mut schema = Schema::default();
                for c in COLUMNS {
                    schema.insert(c.into(), DataType::String);
                }
                for c in MONEY_COLUMNS {
                    schema.insert(c.into(), DataType::Decimal(38, 10));
                }
                let writer = ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(|source| Error::WriteParquet {
                        path: path.to_path_buf(),
                        source,
                    })?;
                Ok(Sink::Parquet(Box::new(writer), path.to_path_buf()))
            }
        }
    }

    fn write(&mut self, chunk: &mut Chunk) -> Result<()> {
        if chunk.text.first().map_or(0, Vec::len) == 0 {
            return Ok(());
        }
        match self {
            Sink::Csv(w, path) => {
                let io = |source| Error::Write {
                    path: path.clone(),
                    source,
                };
                let n = chunk.text[0].len();
                let mut line = String::with_capacity(512);
                for i in 0..n {
                    line.clear();
                    for (c, col) in chunk.text.iter().enumerate() {
                        if c > 0 {
                            line.push(',');
                        }
                        if let Some(v) = &col[i] {
                            if v.contains([',', '"', '\n']) {
                                line.push('"');
                                line.push_str(&v.replace('"', "\"\""));
                                line.push('"');
                            } else {
                                line.push_str(v);
                            }
                        } else if c == 8 {
                            line.push_str("NULL"); // ChargeClass: the MySQL-dump null of real exports
                        }
                    }
                    for col in &chunk.money {
                        line.push(',');
                        if let Some(v) = &col[i] {
                            line.push_str(v);
                        }
                    }
                    line.push('\n');
                    w.write_all(line.as_bytes()).map_err(io)?;
                }
            }
            Sink::Parquet(writer, path) => {
                let mut cols: Vec<Column> = Vec::with_capacity(COLUMNS.len() + MONEY_COLUMNS.len());
                for (name, values) in COLUMNS.iter().zip(&chunk.text) {
                    let ca: StringChunked = values.iter().map(|v| v.as_deref()).collect();
                    cols.push(ca.with_name((*name).into()).into_series().into_column());
                }
                for (name, values) in MONEY_COLUMNS.iter().zip(&chunk.money) {
                    let ca: StringChunked = values.iter().map(|v| v.as_deref()).collect();
                    let s = ca
                        .with_name((*name).into())
                        .into_series()
                        .cast(&DataType::Decimal(38, 10))
                        .map_err(|source| Error::WriteParquet {
                            path: path.clone(),
                            source,
                        })?;
                    cols.push(s.into_column());
                }
                let df =
                    DataFrame::new_infer_height(cols).map_err(|source| Error::WriteParquet {
                        path: path.clone(),
                        source,
                    })?;
                writer
                    .write_batch(&df)
                    .map_err(|source| Error::WriteParquet {
                        path: path.clone(),
                        source,
                    })?;
            }
        }
        for c in chunk.text.iter_mut().chain(chunk.money.iter_mut()) {
            c.clear();
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(mut w, path) => w.flush().map_err(|source| Error::Write { path, source }),
            Sink::Parquet(writer, path) => writer
                .finish()
                .map(|_| ())
                .map_err(|source| Error::WriteParquet { path, source }),
        }
    }
}

fn write_requests(path: &Path, models: &[Model], periods: &[(i32, u32)], seed: u64) -> Result<()> {
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut rng = Rng::new(seed.wrapping_add(1));
    let mut out = String::from("date,model_id,requests\n");
    for &(y, m) in periods {
        for day in 1..=days_in(y, m) {
            for model in models.iter().filter(|m| m.online) {
                let n = (model.daily_requests * rng.lognormal(1.0, 0.15)).round() as u64;
                out.push_str(&format!("{y:04}-{m:02}-{day:02},{},{n}\n", model.id));
            }
            // a retired model still logging traffic, with no spend: reported as unknown
            out.push_str(&format!(
                "{y:04}-{m:02}-{day:02},legacy-ranker-v0,{}\n",
                1000 + rng.below(500)
            ));
        }
    }
    std::fs::write(path, out).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(42);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r = Rng::new(42);
        let b: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn periods_cross_year_boundaries() {
        assert_eq!(
            periods((2026, 2), 3),
            vec![(2025, 12), (2026, 1), (2026, 2)]
        );
        assert_eq!(days_in(2024, 2), 29);
        assert_eq!(period_end(2026, 12), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn money_text_is_decimal() {
        let mut r = Rng::new(1);
        assert_eq!(fmt_money(&mut r, 1.5), "1.5");
        assert_eq!(fmt_money(&mut r, 0.0), "0");
        let tiny = fmt_money(&mut Rng::new(3), 0.0000123);
        assert!(crate::money::Money::parse(&tiny).is_ok(), "{tiny}");
    }
}
