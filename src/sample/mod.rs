//! The synthetic billing generator behind `mlcost sample`: a FOCUS 1.2 export (or the same
//! line items as an AWS CUR 1 or CUR 2.0 export) with heavy-tailed costs, thousands of
//! resources, dozens of models and teams, messy and missing tags, commitment purchases with
//! amortised and unused commitment, credits, plus matching daily request volumes.
//!
//! Seeded and deterministic: `world` draws the models and resources, `rows` draws the line
//! items in order (the only sequential step), `fields`, `table` and `layout` say what each
//! column of a layout holds, and a speller turns each block of rows into CSV lines (`csv`),
//! Polars frames (`legacy_parquet`, today's default Parquet only) or Arrow arrays
//! (`arrow_columns`, every other Parquet shape; written by `arrow_file`) while the previous
//! block is being written. Texts that repeat are gathered from pools (`pool`), costs are
//! exact decimals (`cost`). Blocks are bounded, so any number of rows fits in bounded memory,
//! and the bytes depend only on the seed and the options, never on the number of threads.

mod arrow_columns;
mod arrow_file;
mod cost;
mod csv;
mod fields;
mod layout;
mod legacy_parquet;
mod pool;
mod requests;
mod rng;
mod rows;
mod shape;
mod table;
mod world;

use std::path::{Path, PathBuf};

pub use cost::Rounding;
pub use layout::Layout;
pub use rng::Rng;
pub use shape::{CostType, Encoding, PeriodType, Requested, Shape, TagsType, TimeUnit, Zone};

use crate::error::{Error, Result};
use fields::{Ctx, TimeText};
use layout::{CurTags, Spelling};
use rows::{Row, RowSource};

/// Rows drawn and spelled per block (CSV and arrow-rs sinks).
const BLOCK: usize = 65_536;

/// What `generate` wrote.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    pub billing: PathBuf,
    pub requests: PathBuf,
    pub rows: u64,
    pub resources: usize,
    pub models: usize,
}

pub struct SampleSpec {
    pub rows: u64,
    pub seed: u64,
    pub months: u32,
    /// (year, month) of the last billing period.
    pub end: (i32, u32),
    /// Number of files the export is split into (1: one file; more: a directory of parts,
    /// as large exports are delivered).
    pub parts: u32,
    pub shape: Shape,
}

/// Export rows that are always written: the commitment purchase and unused commitment of
/// each month. `--rows` must be at least this.
pub fn minimum_rows(months: u32) -> u64 {
    RowSource::commitment_rows(months as usize)
}

/// The billing file's base name for a layout.
fn base_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Focus => "focus_sample",
        Layout::AwsCur => "aws_cur_sample",
        Layout::AwsCur2 => "aws_cur2_sample",
    }
}

/// How blocks of rows are spelled for the chosen format (shared by the threads that spell).
enum Speller {
    Csv(csv::CsvLines),
    Legacy(Box<legacy_parquet::LegacyFrames>),
    Arrow(Box<arrow_columns::ArrowColumns>),
}

/// A spelled block, ready to be written.
enum Block {
    Csv(Vec<Vec<u8>>),
    Legacy(polars::prelude::DataFrame),
    Arrow(Vec<arrow_array::ArrayRef>),
}

/// One output file being written.
enum File {
    Csv(csv::CsvFile),
    Legacy(Box<legacy_parquet::LegacyFile>),
    Arrow(Box<arrow_file::ArrowFile>),
}

impl Speller {
    fn new(shape: &Shape, ctx: &Ctx) -> Speller {
        let spelling = match (shape.layout, shape.encoding) {
            (Layout::AwsCur, Encoding::Csv | Encoding::CsvGz) => Spelling::Csv,
            _ => Spelling::Athena,
        };
        let columns = match shape.layout {
            Layout::Focus => layout::focus_columns(),
            l => layout::cur_columns(l, spelling, &ctx.cur_tags),
        };
        match shape.encoding {
            Encoding::Csv | Encoding::CsvGz => {
                Speller::Csv(csv::CsvLines::new(columns, shape.crlf))
            }
            Encoding::Parquet if shape.is_legacy_parquet() => {
                Speller::Legacy(Box::new(legacy_parquet::LegacyFrames::new(columns, ctx)))
            }
            Encoding::Parquet => Speller::Arrow(Box::new(arrow_columns::ArrowColumns::new(
                columns, shape, ctx,
            ))),
        }
    }

    /// Rows per block: the legacy Parquet frames are its row groups, so they keep their size.
    fn block(&self) -> usize {
        match self {
            Speller::Legacy(_) => legacy_parquet::BLOCK,
            _ => BLOCK,
        }
    }

    fn spell(&self, ctx: &Ctx, rows: &[Row], spare: Vec<Vec<u8>>, path: &Path) -> Result<Block> {
        Ok(match self {
            Speller::Csv(c) => Block::Csv(c.spell(ctx, rows, spare)),
            Speller::Legacy(f) => {
                Block::Legacy(f.build(ctx, rows).map_err(|source| Error::WriteParquet {
                    path: path.to_path_buf(),
                    source,
                })?)
            }
            Speller::Arrow(a) => {
                Block::Arrow(
                    a.build(ctx, rows)
                        .map_err(|source| Error::WriteArrowParquet {
                            path: path.to_path_buf(),
                            source,
                        })?,
                )
            }
        })
    }

    fn create(&self, path: &Path, shape: &Shape) -> Result<File> {
        Ok(match self {
            Speller::Csv(c) => File::Csv(csv::CsvFile::create(
                path,
                shape.encoding == Encoding::CsvGz,
                &c.header(shape.bom),
            )?),
            Speller::Legacy(f) => {
                File::Legacy(Box::new(legacy_parquet::LegacyFile::create(path, f)?))
            }
            Speller::Arrow(a) => File::Arrow(Box::new(arrow_file::ArrowFile::create(path, a)?)),
        })
    }
}

impl File {
    /// Writes a block; returns the CSV buffers for reuse.
    fn write(&mut self, block: Block) -> Result<Vec<Vec<u8>>> {
        match (self, block) {
            (File::Csv(f), Block::Csv(pieces)) => f.write(pieces),
            (File::Legacy(f), Block::Legacy(df)) => f.write(&df).map(|()| Vec::new()),
            (File::Arrow(f), Block::Arrow(arrays)) => f.write(&arrays).map(|()| Vec::new()),
            _ => Err(Error::Internal("a block spelled for another format".into())),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            File::Csv(f) => f.finish(),
            File::Legacy(f) => f.finish(),
            File::Arrow(f) => f.finish(),
        }
    }
}

/// Generates the sample into `dir`.
pub fn generate(dir: &Path, spec: &SampleSpec) -> Result<SampleFiles> {
    let shape = &spec.shape;
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d).map_err(|source| Error::Write {
            path: d.to_path_buf(),
            source,
        })
    };
    mkdir(dir)?;
    if spec.rows < minimum_rows(spec.months) || spec.parts == 0 || u64::from(spec.parts) > spec.rows
    {
        return Err(Error::Internal(format!(
            "sample spec not checked: {} rows, {} months, {} parts",
            spec.rows, spec.months, spec.parts
        )));
    }
    let mut rng = Rng::new(spec.seed);
    let models = world::models(&mut rng);
    let resources = world::resources(&mut rng, &models, world::resource_count(spec.rows));
    let periods = world::periods(spec.end, spec.months);
    let mut source = RowSource::new(rng, &resources, &periods);
    let instances = shape
        .high_cardinality
        .then(|| world::Instances::new(spec.seed, resources.len()));
    let cur_tags = match shape.layout {
        Layout::Focus => CurTags::default(),
        Layout::AwsCur if shape.encoding != Encoding::Parquet => {
            CurTags::new(&resources, Spelling::Csv, spec.seed, shape.high_cardinality)
        }
        _ => CurTags::new(
            &resources,
            Spelling::Athena,
            spec.seed,
            shape.high_cardinality,
        ),
    };
    let time_text = match shape.layout {
        Layout::Focus => TimeText::Seconds,
        _ => TimeText::Millis,
    };
    let ctx = Ctx::new(
        &resources,
        &periods,
        time_text,
        shape.rounding,
        instances,
        cur_tags,
        spec.seed,
    );
    let ext = match shape.encoding {
        Encoding::Csv => "csv",
        Encoding::CsvGz => "csv.gz",
        Encoding::Parquet => "parquet",
    };
    let name = base_name(shape.layout);
    let parts = u64::from(spec.parts);
    let billing = if parts == 1 {
        dir.join(format!("{name}.{ext}"))
    } else {
        let d = dir.join(name);
        mkdir(&d)?;
        d
    };
    let part_path = |k: u64| {
        if parts == 1 {
            billing.clone()
        } else {
            billing.join(format!("part-{k:05}.{ext}"))
        }
    };
    // Part k ends after row (k + 1) * rows / parts: the rows are the same as in one file.
    // (in u128: (k + 1) * rows must not overflow for any --rows)
    let part_end = |k: u64| (u128::from(k + 1) * u128::from(spec.rows) / u128::from(parts)) as u64;
    let spelling = Speller::new(shape, &ctx);
    let block = spelling.block() as u64;
    let mut rows = Vec::new();
    let mut spare = Vec::new();
    let mut written = 0u64;
    for k in 0..parts {
        let path = part_path(k);
        let mut file = spelling.create(&path, shape)?;
        let end = part_end(k);
        let take = |written: u64| block.min(end - written) as usize;
        let n = take(written);
        source.fill(&mut rows, n);
        written += n as u64;
        let mut current = Some(spelling.spell(&ctx, &rows, std::mem::take(&mut spare), &path)?);
        // draw and spell the next block while this one is written
        while let Some(this) = current.take() {
            let n = take(written);
            let reuse = std::mem::take(&mut spare);
            let (next, freed) = rayon::join(
                || -> Result<Option<Block>> {
                    if n == 0 {
                        return Ok(None);
                    }
                    source.fill(&mut rows, n);
                    spelling.spell(&ctx, &rows, reuse, &path).map(Some)
                },
                || file.write(this),
            );
            spare = freed?;
            current = next?;
            written += n as u64;
        }
        file.finish()?;
    }

    let requests = dir.join("requests.csv");
    requests::write_requests(&requests, &models, &periods, spec.seed)?;
    Ok(SampleFiles {
        billing,
        requests,
        rows: written,
        resources: resources.len(),
        models: models.len(),
    })
}
