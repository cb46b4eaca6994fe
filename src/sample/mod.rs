//! The synthetic billing generator behind `mlcost sample`: a FOCUS 1.2 export (or the same
//! line items as an AWS CUR 1 or CUR 2.0 export) with heavy-tailed costs, thousands of
//! resources, dozens of models and teams, messy and missing tags, commitment purchases with
//! amortised and unused commitment, credits, plus matching daily request volumes.
//!
//! Seeded and deterministic: `world` draws the models and resources, `rows` draws the line
//! items in order (the only sequential step), and a sink spells each block of rows (`csv`,
//! `legacy_parquet` for today's default Parquet, `arrow_sink` for every other Parquet shape)
//! on all cores while the next block is drawn. Blocks are bounded, so any number of rows fits
//! in bounded memory, and the bytes depend only on the seed and the options.

mod arrow_sink;
mod cost;
mod csv;
mod fields;
mod layout;
mod legacy_parquet;
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

enum Sink {
    Csv(csv::CsvSink),
    Legacy(Box<legacy_parquet::LegacyParquetSink>),
    Arrow(Box<arrow_sink::ArrowSink>),
}

impl Sink {
    fn create(path: &Path, shape: &Shape, ctx: &Ctx) -> Result<Sink> {
        let spelling = match (shape.layout, shape.encoding) {
            (layout::Layout::AwsCur, Encoding::Csv | Encoding::CsvGz) => Spelling::Csv,
            _ => Spelling::Athena,
        };
        let columns = match shape.layout {
            Layout::Focus => layout::focus_columns(),
            l => layout::cur_columns(l, spelling, &ctx.cur_tags),
        };
        Ok(match shape.encoding {
            Encoding::Csv | Encoding::CsvGz => Sink::Csv(csv::CsvSink::create(
                path,
                shape.encoding == Encoding::CsvGz,
                columns,
                shape.crlf,
                shape.bom,
            )?),
            Encoding::Parquet if shape.is_legacy_parquet() => Sink::Legacy(Box::new(
                legacy_parquet::LegacyParquetSink::create(path, columns)?,
            )),
            Encoding::Parquet => Sink::Arrow(Box::new(arrow_sink::ArrowSink::create(
                path, columns, shape,
            )?)),
        })
    }

    /// Rows per block: the legacy Parquet frames are its row groups, so they keep their size.
    fn block(&self) -> usize {
        match self {
            Sink::Legacy(_) => legacy_parquet::BLOCK,
            _ => BLOCK,
        }
    }

    fn write(&mut self, ctx: &Ctx, rows: &[Row]) -> Result<()> {
        match self {
            Sink::Csv(s) => s.write(ctx, rows),
            Sink::Legacy(s) => s.write(ctx, rows),
            Sink::Arrow(s) => s.write(ctx, rows),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(s) => s.finish(),
            Sink::Legacy(s) => s.finish(),
            Sink::Arrow(s) => s.finish(),
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
    let part_end = |k: u64| (k + 1) * spec.rows / parts;
    let (mut current, mut next) = (Vec::new(), Vec::new());
    let mut written = 0u64;
    for k in 0..parts {
        let mut sink = Sink::create(&part_path(k), shape, &ctx)?;
        let block = sink.block() as u64;
        let end = part_end(k);
        let take = |written: u64| block.min(end - written) as usize;
        source.fill(&mut current, take(written));
        written += current.len() as u64;
        while !current.is_empty() {
            // draw the next block while this one is spelled and written
            let n = take(written);
            let ((), wrote) =
                rayon::join(|| source.fill(&mut next, n), || sink.write(&ctx, &current));
            wrote?;
            written += n as u64;
            std::mem::swap(&mut current, &mut next);
        }
        sink.finish()?;
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
