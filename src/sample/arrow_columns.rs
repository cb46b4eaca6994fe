//! Rows to Arrow arrays for the arrow-rs Parquet writer: the Arrow type of every column of a
//! shape (typed periods: timestamps in ms/us/ns, UTC, zoned or local, or date32; typed costs:
//! double, float, decimal(38,s), text; tags as JSON text, a map or a struct; CUR tag columns),
//! the writer properties (dictionary on or off, row-group size) and a block's arrays, built
//! one task per column. Repeated texts are gathered from pools (`pool`).

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
};
use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, Float32Array, Float64Array, PrimitiveArray,
    StringViewArray, StructArray, UInt32Array,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field as ArrowField, Fields, Schema, SchemaRef, TimeUnit as Unit};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::fields::{Ctx, Instant, Val};
use super::pool;
use super::rows::Row;
use super::shape::{CostType, PeriodType, Shape, TagsType, TimeUnit, Zone};
use super::table::{cost, has_pairs, text, Column, Field};
use super::world::{INSTANCE_KEY, TAG_KEYS};

/// Row groups when `--row-group-rows` is not given (the arrow-rs default).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1024 * 1024;

/// How rows become Arrow arrays (shared by the threads that build blocks).
pub struct ArrowColumns {
    pub(super) columns: Vec<Column>,
    pub(super) schema: SchemaRef,
    pub(super) props: WriterProperties,
    pub(super) max_group_rows: usize,
    /// Each text column's pool (`pool`), and as a string-view array to gather views from.
    pools: Vec<Option<(pool::Pool, StringViewArray)>>,
}

fn tz(shape: &Shape) -> Option<Arc<str>> {
    match &shape.zone {
        Zone::Naive => None,
        Zone::Named(z) => Some(z.as_str().into()),
    }
}

/// The entries field of a map of text to text, spelled as Parquet spells maps
/// (`key_value` of `key`, `value`), which is what Spark, Athena and Polars read back.
fn map_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

fn map_type() -> DataType {
    let entries = ArrowField::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            ArrowField::new("key", DataType::Utf8, false),
            ArrowField::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// The struct fields of `--tags struct`: every key the generator writes.
fn struct_fields(shape: &Shape) -> Fields {
    let mut keys: Vec<&str> = TAG_KEYS.to_vec();
    if shape.high_cardinality {
        keys.push(INSTANCE_KEY);
    }
    keys.into_iter()
        .map(|k| ArrowField::new(k, DataType::Utf8, true))
        .collect()
}

fn arrow_type(field: Field, shape: &Shape) -> DataType {
    match field {
        Field::Instant(_) => match shape.period {
            PeriodType::Text => DataType::Utf8,
            PeriodType::Date32 => DataType::Date32,
            PeriodType::Timestamp(u) => DataType::Timestamp(
                match u {
                    TimeUnit::Millis => Unit::Millisecond,
                    TimeUnit::Micros => Unit::Microsecond,
                    TimeUnit::Nanos => Unit::Nanosecond,
                },
                tz(shape),
            ),
        },
        Field::Cost(_) => match shape.cost {
            CostType::Text => DataType::Utf8,
            CostType::Double => DataType::Float64,
            CostType::Float => DataType::Float32,
            CostType::Decimal(s) => DataType::Decimal128(38, s as i8),
        },
        Field::Tags => match shape.tags {
            TagsType::Json => DataType::Utf8,
            TagsType::Map => map_type(),
            TagsType::Struct => DataType::Struct(struct_fields(shape)),
        },
        Field::TagMap => map_type(),
        _ => DataType::Utf8,
    }
}

impl ArrowColumns {
    pub fn new(columns: Vec<Column>, shape: &Shape, ctx: &Ctx) -> ArrowColumns {
        let schema: SchemaRef = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| ArrowField::new(c.name.as_str(), arrow_type(c.field, shape), true))
                .collect::<Vec<_>>(),
        ));
        let max_group_rows = shape.row_group_rows.unwrap_or(DEFAULT_ROW_GROUP_ROWS);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_dictionary_enabled(shape.dictionary)
            .set_max_row_group_row_count(Some(max_group_rows))
            .build();
        let pools = columns
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| match f.data_type() {
                DataType::Utf8 => pool::Pool::new(ctx, c.field).map(|p| {
                    // the texts, then a null that null rows point at
                    let a = StringViewArray::from_iter(
                        p.texts.iter().map(|t| Some(t.as_str())).chain([None]),
                    );
                    (p, a)
                }),
                _ => None,
            })
            .collect();
        ArrowColumns {
            columns,
            schema,
            props,
            max_group_rows,
            pools,
        }
    }

    /// The arrays of a block, one task per column.
    pub fn build(&self, ctx: &Ctx, rows: &[Row]) -> parquet::errors::Result<Vec<ArrayRef>> {
        self.columns
            .par_iter()
            .zip(self.schema.fields().par_iter())
            .zip(self.pools.par_iter())
            .map(|((c, f), pool)| match pool {
                Some((pool, array)) => gather(ctx, c.field, pool, array, rows),
                None => build(ctx, c.field, f.data_type(), rows),
            })
            .collect()
    }
}

/// A text column gathered from its pool: views into the pool's buffers, no string copied.
///
/// The array is a string view while the column is declared `Utf8`: arrow-rs encodes a byte
/// array column from any string array by its values, so the Parquet bytes (and the Arrow
/// schema kept in the file) are those of the `Utf8` column (a test compares them).
fn gather(
    ctx: &Ctx,
    field: Field,
    pool: &pool::Pool,
    array: &StringViewArray,
    rows: &[Row],
) -> parquet::errors::Result<ArrayRef> {
    let n = ctx.resources.len();
    let null = pool.texts.len() as u32;
    let indices = UInt32Array::from_iter_values(
        rows.iter()
            .map(|r| pool.index(field, r, n).map_or(null, |i| i as u32)),
    );
    Ok(arrow_select::take::take(array, &indices, None)?)
}

/// One column of `rows` as an Arrow array of type `dtype`.
fn build(
    ctx: &Ctx,
    field: Field,
    dtype: &DataType,
    rows: &[Row],
) -> parquet::errors::Result<ArrayRef> {
    let mut scratch = Vec::with_capacity(256);
    let texts = |f: &mut dyn FnMut(&Row, &mut Vec<u8>) -> bool| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
        let mut buf = Vec::with_capacity(256);
        for row in rows {
            buf.clear();
            if f(row, &mut buf) {
                // texts are built from UTF-8 strings and ASCII
                b.append_value(std::str::from_utf8(&buf).unwrap_or_default());
            } else {
                b.append_null();
            }
        }
        Arc::new(b.finish())
    };
    Ok(match (field, dtype) {
        (Field::Instant(which), DataType::Utf8) => texts(&mut |row, out| {
            ctx.write_instant(row, which, out);
            true
        }),
        (Field::Instant(which), DataType::Date32) => Arc::new(Date32Array::from_iter_values(
            rows.iter()
                .map(|r| ctx.seconds(r, which).div_euclid(86_400) as i32),
        )),
        (Field::Instant(which), DataType::Timestamp(unit, zone)) => {
            timestamps(ctx, which, *unit, zone.clone(), rows)
        }
        (Field::Cost(slot), DataType::Utf8) => texts(&mut |row, out| match cost(slot, row) {
            Some(c) => {
                ctx.write_cost(&c, out);
                true
            }
            None => false,
        }),
        (Field::Cost(slot), DataType::Float64) => {
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| {
                cost(slot, r).map(|c| c.dec().round(ctx.rounding).to_f64())
            })))
        }
        (Field::Cost(slot), DataType::Float32) => {
            Arc::new(Float32Array::from_iter(rows.iter().map(|r| {
                cost(slot, r).map(|c| c.dec().round(ctx.rounding).to_f32())
            })))
        }
        (Field::Cost(slot), DataType::Decimal128(p, s)) => {
            let scale = *s as u32;
            Arc::new(
                Decimal128Array::from_iter(
                    rows.iter().map(|r| {
                        cost(slot, r).map(|c| c.dec().round(ctx.rounding).units_at(scale))
                    }),
                )
                .with_precision_and_scale(*p, *s)?,
            )
        }
        (Field::Tags, DataType::Map(_, _)) => tag_map(rows, |row, b| {
            for (k, v) in ctx.tags(row).pairs() {
                b.keys().append_value(k);
                b.values().append_value(v);
            }
            if let Some(inst) = ctx.instance_tag(row) {
                b.keys().append_value(INSTANCE_KEY);
                b.values()
                    .append_value(std::str::from_utf8(&inst).unwrap_or_default());
            }
        })?,
        (Field::TagMap, DataType::Map(_, _)) => tag_map(rows, |row, b| {
            if !has_pairs(ctx, row) {
                return;
            }
            for (k, v) in ctx.cur_tags.entries(row.resource) {
                b.keys()
                    .append_value(format!("user_{}", ctx.cur_tags.keys[*k as usize]));
                b.values().append_value(v);
            }
            if let Some(inst) = ctx.instance_tag(row) {
                b.keys().append_value(format!("user_{INSTANCE_KEY}"));
                b.values()
                    .append_value(std::str::from_utf8(&inst).unwrap_or_default());
            }
        })?,
        (Field::Tags, DataType::Struct(fields)) => {
            let arrays: Vec<ArrayRef> = fields
                .iter()
                .map(|f| {
                    let key = f.name().as_str();
                    texts(&mut |row, out| {
                        if key == INSTANCE_KEY {
                            return match ctx.instance_tag(row) {
                                Some(inst) => {
                                    out.extend_from_slice(&inst);
                                    true
                                }
                                None => false,
                            };
                        }
                        match ctx.tags(row).pairs().iter().find(|(k, _)| k == key) {
                            Some((_, v)) => {
                                out.extend_from_slice(v.as_bytes());
                                true
                            }
                            None => false,
                        }
                    })
                })
                .collect();
            let valid = NullBuffer::from_iter(rows.iter().map(|r| has_pairs(ctx, r)));
            Arc::new(StructArray::try_new(fields.clone(), arrays, Some(valid))?)
        }
        (f, _) => {
            // strings that live in the context go straight into the builder
            let mut b = StringBuilder::with_capacity(rows.len(), text_bytes(ctx, f, rows));
            for row in rows {
                scratch.clear();
                match text(ctx, f, row, &mut scratch) {
                    Val::Null => b.append_null(),
                    Val::Str(s) => b.append_value(s),
                    // texts are built from UTF-8 strings and ASCII
                    Val::Scratch => {
                        b.append_value(std::str::from_utf8(&scratch).unwrap_or_default())
                    }
                }
            }
            Arc::new(b.finish())
        }
    })
}

/// About the bytes a text column of `rows` takes (from its first rows), so its builder
/// allocates once.
fn text_bytes(ctx: &Ctx, field: Field, rows: &[Row]) -> usize {
    let probe = rows.len().min(256);
    if probe == 0 {
        return 0;
    }
    let mut scratch = Vec::with_capacity(256);
    let mut bytes = 0;
    for row in &rows[..probe] {
        scratch.clear();
        bytes += match text(ctx, field, row, &mut scratch) {
            Val::Null => 0,
            Val::Str(s) => s.len(),
            Val::Scratch => scratch.len(),
        };
    }
    bytes * rows.len() / probe * 5 / 4 + 64
}

fn timestamps(
    ctx: &Ctx,
    which: Instant,
    unit: Unit,
    zone: Option<Arc<str>>,
    rows: &[Row],
) -> ArrayRef {
    let secs = rows.iter().map(|r| ctx.seconds(r, which));
    match unit {
        Unit::Second | Unit::Millisecond => Arc::new(
            PrimitiveArray::<TimestampMillisecondType>::from_iter_values(secs.map(|s| s * 1000))
                .with_timezone_opt(zone),
        ),
        Unit::Microsecond => Arc::new(
            PrimitiveArray::<TimestampMicrosecondType>::from_iter_values(
                secs.map(|s| s * 1_000_000),
            )
            .with_timezone_opt(zone),
        ),
        Unit::Nanosecond => Arc::new(
            PrimitiveArray::<TimestampNanosecondType>::from_iter_values(
                secs.map(|s| s * 1_000_000_000),
            )
            .with_timezone_opt(zone),
        ),
    }
}

/// A map column of text to text; `fill` appends one row's entries.
fn tag_map(
    rows: &[Row],
    mut fill: impl FnMut(&Row, &mut MapBuilder<StringBuilder, StringBuilder>),
) -> parquet::errors::Result<ArrayRef> {
    let mut b = MapBuilder::new(
        Some(map_names()),
        StringBuilder::with_capacity(rows.len() * 6, rows.len() * 60),
        StringBuilder::with_capacity(rows.len() * 6, rows.len() * 80),
    )
    .with_keys_field(Arc::new(ArrowField::new("key", DataType::Utf8, false)))
    .with_values_field(Arc::new(ArrowField::new("value", DataType::Utf8, true)));
    for row in rows {
        fill(row, &mut b);
        b.append(true)?;
    }
    Ok(Arc::new(b.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::cost::Rounding;
    use crate::sample::fields::TimeText;
    use crate::sample::layout::{self, CurTags, Layout, Spelling};
    use crate::sample::rng::Rng;
    use crate::sample::rows::RowSource;
    use crate::sample::shape::{Encoding, Requested};
    use crate::sample::world;

    /// Gathering text columns from pools writes the same file as spelling every row.
    #[test]
    fn pooled_columns_write_the_same_file() {
        let mut rng = Rng::new(8);
        let models = world::models(&mut rng);
        let res = world::resources(&mut rng, &models, 300);
        let periods = world::periods((2025, 1), 2);
        let mut src = RowSource::new(rng, &res, &periods);
        let mut rows = Vec::new();
        src.fill(&mut rows, 5000);
        let dir = tempfile::tempdir().unwrap();
        for layout in [Layout::Focus, Layout::AwsCur] {
            let req = Requested {
                layout: Some(layout),
                period: Some(PeriodType::Text),
                ..Requested::default()
            };
            let shape = Shape::resolve(Encoding::Parquet, &req).unwrap();
            let tags = CurTags::new(&res, Spelling::Athena, 8, false);
            let ctx = Ctx::new(
                &res,
                &periods,
                TimeText::Seconds,
                Rounding::default(),
                None,
                tags.clone(),
                8,
            );
            let columns = match layout {
                Layout::Focus => layout::focus_columns(),
                l => layout::cur_columns(l, Spelling::Athena, &tags),
            };
            let pooled = ArrowColumns::new(columns.clone(), &shape, &ctx);
            assert!(pooled.pools.iter().filter(|p| p.is_some()).count() > 10);
            let mut spelled = ArrowColumns::new(columns, &shape, &ctx);
            spelled.pools.iter_mut().for_each(|p| *p = None);
            let write = |cols: &ArrowColumns, name: &str| {
                let path = dir.path().join(name);
                let mut f = super::super::arrow_file::ArrowFile::create(&path, cols).unwrap();
                f.write(&cols.build(&ctx, &rows).unwrap()).unwrap();
                f.finish().unwrap();
                std::fs::read(path).unwrap()
            };
            assert!(
                write(&pooled, "pooled.parquet") == write(&spelled, "spelled.parquet"),
                "{layout:?}"
            );
        }
    }
}
