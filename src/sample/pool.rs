//! Texts that repeat: every value a text column can hold (a constant, one per month, per
//! resource, per charge hour) spelled once, and which of them a row holds. The Parquet sinks
//! gather a block's column from its pool (copying 16-byte views, not strings), so most text
//! is never formatted or copied per row. Columns whose values are unique per row (costs, line
//! item ids, high-cardinality instances) are not pooled.

use super::fields::{Ctx, Instant, Val};
use super::rows::{Kind, Row};
use super::table::{text, Field};
use super::world::Tags;

/// Charge-period texts per month: the whole month, then each (day, hour).
const HOURS_PER_MONTH: usize = 1 + 31 * 24;

/// A column's pool: its texts, and which resources hold none (per-resource columns only;
/// looked up here instead of in the resource, which is far bigger and colder in cache).
pub struct Pool {
    pub texts: Vec<String>,
    absent: Vec<bool>,
}

impl Pool {
    pub fn new(ctx: &Ctx, field: Field) -> Option<Pool> {
        let texts = texts(ctx, field)?;
        let absent = match field {
            Field::Tags | Field::TagColumn(_) => (0..ctx.resources.len())
                .map(|r| {
                    let row = Row {
                        index: 0,
                        period: 0,
                        resource: r as u32,
                        kind: Kind::Usage,
                        day: 1,
                        hour: 0,
                        costs: [super::cost::Cost::Zero; 4],
                    };
                    index(ctx, field, &row).is_none()
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(Pool { texts, absent })
    }

    /// Which text a row holds (None: null); the same as `index`.
    #[inline]
    pub fn index(&self, field: Field, row: &Row, resources: usize) -> Option<usize> {
        let resource = row.resource as usize;
        match field {
            Field::Tags | Field::TagColumn(_) => {
                (!row.kind.is_commitment_row() && !self.absent[resource]).then_some(resource)
            }
            Field::ResourceId
            | Field::Description
            | Field::ServiceName
            | Field::ServiceCategory
            | Field::Account
            | Field::AccountName
            | Field::ProductCode => Some(
                if field == Field::ResourceId && row.kind.is_commitment_row() {
                    resources + usize::from(row.period)
                } else {
                    resource
                },
            ),
            _ => index_of_row(field, row),
        }
    }
}

/// Every text `field` can hold, in `index` order; None when the column is not pooled.
/// Entries no row points at (the null of an untagged resource) are empty.
fn texts(ctx: &Ctx, field: Field) -> Option<Vec<String>> {
    let high = ctx.instances.is_some();
    match field {
        Field::Cost(_) | Field::LineItemId | Field::TagMap => return None,
        Field::ResourceId | Field::Tags if high => return None,
        Field::TagColumn(k) if ctx.cur_tags.instance == Some(k) => return None,
        _ => {}
    }
    let mut scratch = Vec::new();
    let mut spell = |row: &Row| -> String {
        scratch.clear();
        match text(ctx, field, row, &mut scratch) {
            Val::Null => String::new(),
            Val::Str(s) => s.to_string(),
            Val::Scratch => String::from_utf8_lossy(&scratch).into_owned(),
        }
    };
    let row = |period: usize, resource: usize, kind: Kind, day: u8, hour: u8| Row {
        index: 0,
        period: period as u16,
        resource: resource as u32,
        kind,
        day,
        hour,
        costs: [super::cost::Cost::Zero; 4],
    };
    let months = ctx.months();
    let resources = ctx.resources.len();
    let per_resource = |spell: &mut dyn FnMut(&Row) -> String| -> Vec<String> {
        (0..resources)
            .map(|r| spell(&row(0, r, Kind::Usage, 1, 0)))
            .collect()
    };
    Some(match field {
        Field::Instant(Instant::ChargeStart | Instant::ChargeEnd) | Field::TimeInterval => {
            let mut out = Vec::with_capacity(months * HOURS_PER_MONTH);
            for p in 0..months {
                out.push(spell(&row(p, 0, Kind::Purchase, 0, 0)));
                for day in 1..=31 {
                    for hour in 0..24 {
                        out.push(spell(&row(p, 0, Kind::Usage, day, hour)));
                    }
                }
            }
            out
        }
        Field::Instant(_) | Field::CommitmentId => (0..months)
            .map(|p| spell(&row(p, 0, Kind::Purchase, 0, 0)))
            .collect(),
        Field::Category => ["Purchase", "Credit", "Usage"].map(String::from).to_vec(),
        Field::Status => ["Unused", "Used"].map(String::from).to_vec(),
        Field::LineItemType => [
            Kind::Purchase,
            Kind::Unused,
            Kind::Usage,
            Kind::Covered,
            Kind::Credit,
        ]
        .map(|k| super::table::line_item_type(k).to_string())
        .to_vec(),
        Field::ResourceId => {
            let mut out = per_resource(&mut spell);
            out.extend((0..months).map(|p| spell(&row(p, 0, Kind::Purchase, 0, 0))));
            out
        }
        Field::Description
        | Field::ServiceName
        | Field::ServiceCategory
        | Field::Account
        | Field::AccountName
        | Field::ProductCode
        | Field::Tags
        | Field::TagColumn(_) => per_resource(&mut spell),
        // a constant, or always null (ChargeClass)
        _ => vec![spell(&row(0, 0, Kind::Usage, 1, 0))],
    })
}

/// Which pooled text a row holds (None: null).
pub fn index(ctx: &Ctx, field: Field, row: &Row) -> Option<usize> {
    let whole = row.kind.is_commitment_row();
    let period = usize::from(row.period);
    let resource = row.resource as usize;
    match field {
        Field::ResourceId if whole => Some(ctx.resources.len() + period),
        Field::Tags => ctx.tags(row).text().map(|_| resource),
        Field::TagColumn(k) => match ctx.tags(row) {
            Tags::Pairs { .. } => ctx.cur_tags.value(row.resource, k).map(|_| resource),
            _ => None,
        },
        Field::ResourceId
        | Field::Description
        | Field::ServiceName
        | Field::ServiceCategory
        | Field::Account
        | Field::AccountName
        | Field::ProductCode => Some(resource),
        _ => index_of_row(field, row),
    }
}

/// The index of the texts that depend on the row alone (month, day, hour, kind).
fn index_of_row(field: Field, row: &Row) -> Option<usize> {
    let whole = row.kind.is_commitment_row();
    let period = usize::from(row.period);
    match field {
        Field::ChargeClass | Field::Cost(_) | Field::TagMap | Field::LineItemId => None,
        Field::Instant(Instant::ChargeStart | Instant::ChargeEnd) | Field::TimeInterval => Some(
            period * HOURS_PER_MONTH
                + if whole {
                    0
                } else {
                    1 + usize::from(row.day.max(1) - 1) * 24 + usize::from(row.hour)
                },
        ),
        Field::Instant(_) => Some(period),
        Field::CommitmentId => row.kind.has_commitment().then_some(period),
        Field::Category => Some(match row.kind {
            Kind::Purchase => 0,
            Kind::Credit => 1,
            _ => 2,
        }),
        Field::Status => match row.kind {
            Kind::Unused => Some(0),
            Kind::Covered => Some(1),
            _ => None,
        },
        Field::LineItemType => Some(match row.kind {
            Kind::Purchase => 0,
            Kind::Unused => 1,
            Kind::Usage => 2,
            Kind::Covered => 3,
            Kind::Credit => 4,
        }),
        Field::Const(_) => Some(0),
        // keyed by resource: `index` and `Pool::index` answer before
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::cost::Rounding;
    use crate::sample::fields::TimeText;
    use crate::sample::layout::{self, CurTags, Layout, Spelling};
    use crate::sample::rng::Rng;
    use crate::sample::rows::RowSource;
    use crate::sample::world;

    /// The pooled text of every field of every row is the text the row spells itself.
    #[test]
    fn pooled_texts_are_the_rows_texts() {
        let mut rng = Rng::new(5);
        let models = world::models(&mut rng);
        let res = world::resources(&mut rng, &models, 400);
        let periods = world::periods((2024, 2), 3);
        let mut src = RowSource::new(rng, &res, &periods);
        let mut rows = Vec::new();
        src.fill(&mut rows, 3000);
        for (layout, spelling) in [
            (Layout::Focus, Spelling::Csv),
            (Layout::AwsCur, Spelling::Csv),
            (Layout::AwsCur, Spelling::Athena),
        ] {
            let tags = CurTags::new(&res, spelling, 5, false);
            let ctx = Ctx::new(
                &res,
                &periods,
                TimeText::Millis,
                Rounding::default(),
                None,
                tags.clone(),
                5,
            );
            let columns = match layout {
                Layout::Focus => layout::focus_columns(),
                l => layout::cur_columns(l, spelling, &tags),
            };
            for c in columns {
                let Some(pool) = texts(&ctx, c.field) else {
                    continue;
                };
                let fast = Pool::new(&ctx, c.field).unwrap();
                let mut scratch = Vec::new();
                for row in &rows {
                    scratch.clear();
                    let want = match text(&ctx, c.field, row, &mut scratch) {
                        Val::Null => None,
                        Val::Str(s) => Some(s.to_string()),
                        Val::Scratch => Some(String::from_utf8(scratch.clone()).unwrap()),
                    };
                    let want = want.filter(|_| c.field != Field::ChargeClass);
                    let got = index(&ctx, c.field, row).map(|i| pool[i].clone());
                    assert_eq!(got, want, "{} {row:?}", c.name);
                    assert_eq!(
                        fast.index(c.field, row, res.len()),
                        index(&ctx, c.field, row),
                        "{}",
                        c.name
                    );
                }
            }
        }
    }
}
