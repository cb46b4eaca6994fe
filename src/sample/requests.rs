//! `requests.csv`: daily request volumes of the online models, plus a retired model that
//! still logs traffic without spend. Its own sequence (seed + 1), so the billing shape never
//! changes it.

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
    let mut out = String::from("date,model_id,requests\n");
    for &(y, m) in periods {
        for day in 1..=days_in(y, m) {
            for model in models.iter().filter(|m| m.online) {
                let n = (model.daily_requests * rng.lognormal(1.0, 0.15)).round() as u64;
                // cannot fail: writing to a String
                let _ = writeln!(out, "{y:04}-{m:02}-{day:02},{},{n}", model.id);
            }
            // a retired model still logging traffic, with no spend: reported as unknown
            let _ = writeln!(
                out,
                "{y:04}-{m:02}-{day:02},legacy-ranker-v0,{}",
                1000 + rng.below(500)
            );
        }
    }
    std::fs::write(path, out).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
