//! The generated world: 60 models of 12 teams, the resources that serve them (account,
//! lifecycle phase, hourly cost, tags with the mess real bills have) and the billing periods.
//! Everything here is drawn once, before the first row, in a fixed order from the seed.

use super::rng::{mix, Rng};

pub const TEAMS: [&str; 12] = [
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
pub struct Model {
    pub id: String,
    team: usize,
    project: String,
    /// Serves online requests (batch-only models have spend but no volumes).
    pub online: bool,
    pub daily_requests: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Training,
    Inference,
    FeaturePipeline,
    Storage,
    DataTransfer,
    Experimentation,
}

impl Phase {
    pub fn name(self) -> &'static str {
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
    pub fn service(self) -> (&'static str, &'static str, &'static str, f64) {
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

    /// The CUR `lineItem/ProductCode` of the service.
    pub fn product_code(self) -> &'static str {
        match self {
            Phase::Training | Phase::Experimentation => "AmazonSageMaker",
            Phase::Inference => "AmazonEC2",
            Phase::FeaturePipeline => "ElasticMapReduce",
            Phase::Storage => "AmazonS3",
            Phase::DataTransfer => "AWSDataTransfer",
        }
    }
}

/// A resource's tags as the bill carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tags {
    None,
    /// Key-value pairs (keys as written, mess included) and their FOCUS JSON text.
    Pairs {
        pairs: Vec<(String, String)>,
        json: String,
    },
    /// Tag text that is not JSON (`team=x;model_id=y`): only a text column can carry it.
    Text(String),
}

impl Tags {
    fn from_pairs(pairs: Vec<(String, String)>) -> Tags {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}: {}", json_str(k), json_str(v)))
            .collect();
        let json = format!("{{{}}}", body.join(", "));
        Tags::Pairs { pairs, json }
    }

    /// The FOCUS `Tags` text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Tags::None => None,
            Tags::Pairs { json, .. } => Some(json),
            Tags::Text(t) => Some(t),
        }
    }

    /// The key-value pairs (none for untagged and non-JSON tags).
    pub fn pairs(&self) -> &[(String, String)] {
        match self {
            Tags::Pairs { pairs, .. } => pairs,
            _ => &[],
        }
    }
}

pub fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub account: String,
    pub account_name: String,
    pub phase: Phase,
    pub hourly: f64,
    pub tags: Tags,
    pub covered_by_commitment: bool,
}

/// Every key any generated tag set uses, in a fixed order (struct fields, CUR columns).
pub const TAG_KEYS: [&str; 11] = [
    "team",
    "project",
    "model_id",
    "environment",
    "cost_center",
    "lifecycle_phase",
    " Team",
    "Model-Id",
    "env",
    "CostCenter",
    "model-id",
];

/// The tag key the high-cardinality shape adds (one value per resource instance).
pub const INSTANCE_KEY: &str = "instance";

pub fn models(rng: &mut Rng) -> Vec<Model> {
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

/// A resource's tags, with the mess real bills have.
fn tags_for(rng: &mut Rng, model: &Model, phase: Phase) -> Tags {
    let r = rng.f64();
    if r < 0.10 {
        return Tags::None; // untagged
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
        return Tags::Text(format!("team={team};model_id={}", model.id)); // not JSON
    }
    Tags::from_pairs(pairs)
}

pub fn resources(rng: &mut Rng, models: &[Model], n: usize) -> Vec<Resource> {
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
                let pairs = [
                    ("team", "platform"),
                    ("project", "feature-store"),
                    ("environment", "prod"),
                    ("cost_center", "cc-1110"),
                    ("lifecycle_phase", "feature_pipeline"),
                ];
                return Resource {
                    id: format!(
                        "arn:aws:sagemaker:us-east-1:{account}:feature-group/feature-store-{i}"
                    ),
                    account,
                    account_name,
                    phase: Phase::FeaturePipeline,
                    hourly: rng.lognormal(2.0, 0.5),
                    tags: Tags::from_pairs(
                        pairs
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
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

/// Resources for a number of rows: one per 100 rows, between 200 and 25,000.
pub fn resource_count(rows: u64) -> usize {
    ((rows / 100) as usize).clamp(200, 25_000)
}

/// The billing months, oldest first, ending with `end`.
pub fn periods(end: (i32, u32), months: u32) -> Vec<(i32, u32)> {
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

pub fn days_in(y: i32, m: u32) -> u32 {
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| chrono::Datelike::day(&d))
        .unwrap_or(30)
}

/// The high-cardinality shape: each row runs on one of `variants` instances of its resource,
/// chosen by a hash of the row (no draw from the sequence, so every other column and every
/// cost stays as in the normal shape). About 100,000 (resource, instance) pairs in all.
#[derive(Debug, Clone, Copy)]
pub struct Instances {
    seed: u64,
    variants: u64,
}

impl Instances {
    pub fn new(seed: u64, resources: usize) -> Instances {
        Instances {
            seed,
            variants: (100_000 / resources.max(1) as u64).max(1),
        }
    }

    /// The instance id of a row (`i-` and 17 hex digits, as EC2 spells them).
    pub fn id(&self, resource: u32, row: u64) -> [u8; 19] {
        let variant = mix(self.seed, row) % self.variants;
        let h = mix(self.seed ^ u64::from(resource), variant);
        let mut out = *b"i-00000000000000000";
        let hex = b"0123456789abcdef";
        for i in 0..16 {
            out[18 - i] = hex[((h >> (4 * i)) & 0xf) as usize];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cross_year_boundaries() {
        assert_eq!(
            periods((2026, 2), 3),
            vec![(2025, 12), (2026, 1), (2026, 2)]
        );
        assert_eq!(days_in(2024, 2), 29);
        assert_eq!(days_in(1900, 2), 28);
    }

    #[test]
    fn tags_cover_every_mess() {
        let mut rng = Rng::new(42);
        let models = models(&mut rng);
        let res = resources(&mut rng, &models, 5000);
        let texts = res
            .iter()
            .filter(|r| matches!(r.tags, Tags::Text(_)))
            .count();
        let none = res.iter().filter(|r| r.tags == Tags::None).count();
        assert!(texts > 0 && none > 0);
        for r in &res {
            for (k, _) in r.tags.pairs() {
                assert!(TAG_KEYS.contains(&k.as_str()), "{k}");
            }
            if let Tags::Pairs { json, pairs } = &r.tags {
                let parsed: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(json).unwrap();
                assert_eq!(parsed.len(), pairs.len());
            }
        }
    }

    #[test]
    fn instances_are_many_and_stable() {
        let inst = Instances::new(42, 1000);
        let a = inst.id(3, 17);
        assert_eq!(a, inst.id(3, 17));
        assert!(a.starts_with(b"i-0"));
        let distinct: std::collections::HashSet<_> =
            (0..5000u64).map(|row| inst.id(3, row)).collect();
        assert_eq!(distinct.len(), 100);
    }
}
