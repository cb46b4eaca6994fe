//! `requests.csv`: daily request volumes of the online models, plus a retired model that
//! still logs traffic without spend. Its own sequence (seed + 1), so the billing shape never
//! changes it. The embedder and retrieval models stand in for LLM services: they also count
//! `input_tokens` and `output_tokens` (from a sequence of their own, seed + 2, so the request
//! counts are the same with or without them); the other models leave those cells empty.

use std::fmt::Write;
use std::path::Path;

use super::rng::Rng;
use super::world::{days_in, Model};
use crate::error::{Error, Result};

pub fn write_requests(
    path: &Path,
    models: &[Model],
    periods: &[(i32, u32)],
    seed: u64,
) -> Result<()> {
    let mut rng = Rng::new(seed.wrapping_add(1));
    let mut tokens_rng = Rng::new(seed.wrapping_add(2));
    // tokens per request of each LLM-like model: (input, output)
    let per_request: Vec<Option<(f64, Option<f64>)>> = models
        .iter()
        .map(|m| {
            let llm = m.id.contains("-embedder-") || m.id.contains("-retrieval-");
            let input = tokens_rng.lognormal(600.0, 0.5);
            let output = tokens_rng.lognormal(150.0, 0.5);
            // an embedder reads tokens and writes none
            let output = (!m.id.contains("-embedder-")).then_some(output);
            llm.then_some((input, output))
        })
        .collect();
    let mut out = String::from("date,model_id,requests,input_tokens,output_tokens\n");
    for &(y, m) in periods {
        for day in 1..=days_in(y, m) {
            for (model, tokens) in models.iter().zip(&per_request).filter(|(m, _)| m.online) {
                let n = (model.daily_requests * rng.lognormal(1.0, 0.15)).round() as u64;
                // cannot fail: writing to a String
                let _ = write!(out, "{y:04}-{m:02}-{day:02},{},{n}", model.id);
                match tokens {
                    Some((input, output)) => {
                        let noise = tokens_rng.lognormal(1.0, 0.1);
                        let count = |per: f64| (n as f64 * per * noise).round() as u64;
                        let output = output.map_or(String::new(), |o| count(o).to_string());
                        let _ = writeln!(out, ",{},{output}", count(*input));
                    }
                    None => out.push_str(",,\n"),
                }
            }
            // a retired model still logging traffic, with no spend: reported as unknown
            let _ = writeln!(
                out,
                "{y:04}-{m:02}-{day:02},legacy-ranker-v0,{},,",
                1000 + rng.below(500)
            );
        }
    }
    std::fs::write(path, out).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
