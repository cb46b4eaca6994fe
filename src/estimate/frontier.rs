//! The cost-accuracy frontier: candidates by accuracy and monthly cost (given or estimated
//! from a profile), the Pareto-optimal set and the marginal cost per accuracy point.

use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidatesFile {
    candidate: Vec<CandidateSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateSpec {
    name: String,
    accuracy: f64,
    monthly_cost: Option<f64>,
    /// A profile to estimate instead of a fixed cost (relative to the candidates file).
    profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub accuracy: f64,
    pub monthly_cost: Money,
    /// On the Pareto frontier (no other candidate is at least as accurate and as cheap).
    pub optimal: bool,
    pub dominated_by: Option<String>,
    /// From the previous frontier point: extra monthly cost per accuracy point (a point is 1
    /// unit of the metric, or 0.01 when the metric is a fraction <= 1).
    pub marginal_cost_per_point: Option<Money>,
}

/// Reads candidates (TOML `[[candidate]]` with name, accuracy, and monthly_cost or profile).
pub fn frontier(text: &str, name: &Path, catalog: &Catalog) -> Result<Vec<Candidate>> {
    let file: CandidatesFile = toml::from_str(text).map_err(|e| Error::Config {
        path: name.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        hint: Some("each [[candidate]] needs name, accuracy and monthly_cost or profile".into()),
    })?;
    let base = name.parent().unwrap_or(Path::new("."));
    let mut cands = Vec::new();
    for c in &file.candidate {
        let cost = match (&c.monthly_cost, &c.profile) {
            (Some(x), None) => Money::from_f64(*x).map_err(|e| Error::Config {
                path: name.to_path_buf(),
                message: format!("candidate `{}`: {e}", c.name),
                hint: None,
            })?,
            (None, Some(p)) => {
                let path = base.join(p);
                let t = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                estimate(&t, &path, catalog)?
                    .models
                    .iter()
                    .map(|m| m.monthly)
                    .sum()
            }
            _ => {
                return Err(Error::Config {
                    path: name.to_path_buf(),
                    message: format!(
                        "candidate `{}` needs exactly one of `monthly_cost` and `profile`",
                        c.name
                    ),
                    hint: None,
                })
            }
        };
        cands.push(Candidate {
            name: c.name.clone(),
            accuracy: c.accuracy,
            monthly_cost: cost,
            optimal: true,
            dominated_by: None,
            marginal_cost_per_point: None,
        });
    }
    let snapshot = cands.clone();
    for c in cands.iter_mut() {
        // the cheapest candidate that dominates it
        let dom = snapshot
            .iter()
            .filter(|o| {
                o.name != c.name
                    && o.accuracy >= c.accuracy
                    && o.monthly_cost <= c.monthly_cost
                    && (o.accuracy > c.accuracy || o.monthly_cost < c.monthly_cost)
            })
            .min_by(|a, b| {
                a.monthly_cost
                    .cmp(&b.monthly_cost)
                    .then(a.name.cmp(&b.name))
            });
        if let Some(d) = dom {
            c.optimal = false;
            c.dominated_by = Some(d.name.clone());
        }
    }
    cands.sort_by(|a, b| {
        a.monthly_cost
            .cmp(&b.monthly_cost)
            .then(a.name.cmp(&b.name))
    });
    let point = if cands.iter().all(|c| c.accuracy <= 1.0) {
        0.01
    } else {
        1.0
    };
    let mut prev: Option<(f64, Money)> = None;
    for c in cands.iter_mut().filter(|c| c.optimal) {
        if let Some((acc, cost)) = prev {
            let points = (c.accuracy - acc) / point;
            if points > 0.0 {
                // money divided by a float count of points: through the points' decimal text
                let p = Money::from_f64((points * 1e9).round() / 1e9).unwrap_or_default();
                c.marginal_cost_per_point = Money::fraction((c.monthly_cost - cost).0, p.0);
            }
        }
        prev = Some((c.accuracy, c.monthly_cost));
    }
    Ok(cands)
}
