//! The columns of an export layout (FOCUS, AWS CUR 1, CUR 2.0) as a list of `Column`s, each a
//! name and the `Field` of a row it carries. Both the CSV and the Parquet sinks walk this one
//! list, so a layout is defined once.

use super::cost::Cost;
use super::fields::{Ctx, Instant, Val};
use super::rows::{Kind, Row};
use super::world::Tags;

/// Which cost of a row a cost column carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostSlot {
    /// FOCUS BilledCost, EffectiveCost, ListCost, ContractedCost (index into `Row::costs`).
    Focus(usize),
    /// CUR `lineItem/UnblendedCost`: the billed cost.
    Unblended,
    /// CUR `pricing/publicOnDemandCost`: the list cost (empty on credits).
    PublicOnDemand,
    /// CUR `savingsPlan/SavingsPlanEffectiveCost`: the effective cost of covered usage.
    SavingsPlanEffective,
    /// CUR `savingsPlan/TotalCommitmentToDate`: the unused commitment on its fee row.
    TotalCommitment,
    /// CUR `savingsPlan/UsedCommitment`: 0 on the fee row (all of it unused).
    UsedCommitment,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Const(&'static str),
    /// FOCUS ChargeClass: always null, written `NULL` in CSV as MySQL dumps do.
    ChargeClass,
    Instant(Instant),
    Category,
    Status,
    Description,
    CommitmentId,
    ServiceName,
    ServiceCategory,
    ResourceId,
    Account,
    AccountName,
    Cost(CostSlot),
    /// FOCUS Tags: JSON text, a map or a struct (the shape decides).
    Tags,
    /// CUR `identity/LineItemId`: unique in the export.
    LineItemId,
    /// CUR `identity/TimeInterval`: `start/end` of the charge.
    TimeInterval,
    LineItemType,
    ProductCode,
    /// CUR 1: one tag key's value (index into `Ctx::cur_tags` names).
    TagColumn(u32),
    /// CUR 2.0 `resource_tags`: map of `user_<key>` to value.
    TagMap,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub field: Field,
}

impl Column {
    pub fn new(name: impl Into<String>, field: Field) -> Column {
        Column {
            name: name.into(),
            field,
        }
    }
}

/// The cost a slot carries for a row (None: empty).
pub fn cost(slot: CostSlot, row: &Row) -> Option<Cost> {
    match slot {
        CostSlot::Focus(i) => Some(row.costs[i]),
        CostSlot::Unblended => Some(row.costs[0]),
        CostSlot::PublicOnDemand => (row.kind != Kind::Credit).then_some(row.costs[2]),
        CostSlot::SavingsPlanEffective => (row.kind == Kind::Covered).then_some(row.costs[1]),
        CostSlot::TotalCommitment => (row.kind == Kind::Unused).then_some(row.costs[1]),
        CostSlot::UsedCommitment => (row.kind == Kind::Unused).then_some(Cost::Zero),
    }
}

/// The CUR line item type of a row.
pub fn line_item_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Purchase => "SavingsPlanUpfrontFee",
        Kind::Unused => "SavingsPlanRecurringFee",
        Kind::Usage => "Usage",
        Kind::Covered => "SavingsPlanCoveredUsage",
        Kind::Credit => "Credit",
    }
}

/// The text of a scalar field (not a cost, instant, or nested tags); `scratch` receives
/// computed texts.
pub fn text<'a>(ctx: &'a Ctx, field: Field, row: &Row, scratch: &mut Vec<u8>) -> Val<'a> {
    let r = ctx.resource(row);
    match field {
        Field::Const(s) => Val::Str(s),
        Field::ChargeClass | Field::TagMap => Val::Null,
        Field::Category => Val::Str(ctx.category(row)),
        Field::Status => ctx.status(row).map_or(Val::Null, Val::Str),
        Field::Description => Val::Str(ctx.description(row)),
        Field::CommitmentId => ctx.commitment_id(row).map_or(Val::Null, Val::Str),
        Field::ServiceName => Val::Str(r.phase.service().0),
        Field::ServiceCategory => Val::Str(r.phase.service().1),
        Field::ResourceId => ctx.resource_id(row, scratch),
        Field::Account => Val::Str(&r.account),
        Field::AccountName => Val::Str(&r.account_name),
        Field::LineItemType => Val::Str(line_item_type(row.kind)),
        Field::ProductCode => Val::Str(r.phase.product_code()),
        Field::Tags => ctx.tags_text(row, scratch),
        Field::TagColumn(k) => ctx.cur_tag(row, k, scratch),
        Field::LineItemId => {
            ctx.write_line_item_id(row, scratch);
            Val::Scratch
        }
        Field::TimeInterval => {
            ctx.write_interval(row, scratch);
            Val::Scratch
        }
        Field::Instant(which) => {
            ctx.write_instant(row, which, scratch);
            Val::Scratch
        }
        Field::Cost(slot) => match cost(slot, row) {
            None => Val::Null,
            Some(c) => {
                ctx.write_cost(&c, scratch);
                Val::Scratch
            }
        },
    }
}

/// Whether the row's tags are key-value pairs (the only tags a map, struct or CUR column
/// can carry; non-JSON tag text becomes no tags there).
pub fn has_pairs(ctx: &Ctx, row: &Row) -> bool {
    matches!(ctx.tags(row), Tags::Pairs { .. })
}
