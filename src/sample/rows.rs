//! The line items, drawn in order from the seed: per billing period a commitment purchase and
//! its unused part first, then usage rows on Zipf-picked resources (on-demand, covered by the
//! Savings Plan, or a credit). This is the only sequential step of the generator; a `Row` is a
//! few numbers, and the sinks spell it.

use super::cost::Cost;
use super::rng::{Picker, Rng};
use super::world::{days_in, Resource};

/// What a line item is (its FOCUS ChargeCategory and CommitmentDiscountStatus, its CUR
/// line item type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The commitment fee of the month: Purchase, billed, not effective.
    Purchase,
    /// The commitment nobody used: Usage, status Unused, effective only.
    Unused,
    /// On-demand usage.
    Usage,
    /// Usage covered by the commitment: status Used, billed 0.
    Covered,
    /// A credit (negative).
    Credit,
}

impl Kind {
    /// Rows of this kind carry the month's commitment id.
    pub fn has_commitment(self) -> bool {
        matches!(self, Kind::Purchase | Kind::Unused | Kind::Covered)
    }

    /// Whole-month rows: charged on the commitment itself, not on a resource.
    pub fn is_commitment_row(self) -> bool {
        matches!(self, Kind::Purchase | Kind::Unused)
    }
}

/// One line item. Costs are in FOCUS order: billed, effective, list, contracted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Position in the whole export (0-based), the same however it is split into parts.
    pub index: u64,
    /// Index into the periods.
    pub period: u16,
    /// Index into the resources (0 for commitment rows).
    pub resource: u32,
    pub kind: Kind,
    /// Day of the month (1-based) and hour of the charge; 0 and 0 for whole-month rows.
    pub day: u8,
    pub hour: u8,
    pub costs: [Cost; 4],
}

/// A cost as the generator spells money: scientific notation for half the tiny amounts.
fn money(rng: &mut Rng, x: f64) -> Cost {
    if x != 0.0 && x.abs() < 1e-4 && rng.chance(0.5) {
        Cost::Sci(x) // scientific notation, as AWS and OCI write tiny amounts
    } else {
        Cost::Plain(x)
    }
}

/// Draws rows in export order.
pub struct RowSource<'a> {
    rng: Rng,
    resources: &'a [Resource],
    picker: Picker,
    periods: &'a [(i32, u32)],
    /// Days of each period.
    days: Vec<u64>,
    /// The commitment rows of every period, written first.
    commitment_rows: Vec<Row>,
    next: u64,
}

impl<'a> RowSource<'a> {
    /// Takes the sequence after the world was drawn from it; draws the commitment amounts.
    pub fn new(mut rng: Rng, resources: &'a [Resource], periods: &'a [(i32, u32)]) -> Self {
        let mut commitment_rows = Vec::with_capacity(periods.len() * 2);
        for p in 0..periods.len() {
            let fee = Cost::Fixed(5000.0 + rng.f64() * 1000.0, 2);
            let unused = Cost::Fixed(150.0 + rng.f64() * 100.0, 4);
            let row = |kind, costs| Row {
                index: 0,
                period: p as u16,
                resource: 0,
                kind,
                day: 0,
                hour: 0,
                costs,
            };
            commitment_rows.push(row(Kind::Purchase, [fee, Cost::Zero, fee, fee]));
            commitment_rows.push(row(Kind::Unused, [Cost::Zero, unused, unused, unused]));
        }
        RowSource {
            rng,
            resources,
            picker: Picker::new(resources.len()),
            periods,
            days: periods
                .iter()
                .map(|&(y, m)| u64::from(days_in(y, m)))
                .collect(),
            commitment_rows,
            next: 0,
        }
    }

    /// Commitment rows in an export of any size: two per month.
    pub fn commitment_rows(months: usize) -> u64 {
        months as u64 * 2
    }

    /// Replaces `out` with the next `n` rows.
    pub fn fill(&mut self, out: &mut Vec<Row>, n: usize) {
        out.clear();
        out.reserve(n);
        let special = self.commitment_rows.len() as u64;
        for _ in 0..n {
            let index = self.next;
            self.next += 1;
            if index < special {
                let mut row = self.commitment_rows[index as usize];
                row.index = index;
                out.push(row);
                continue;
            }
            out.push(self.usage_row(index, index - special));
        }
    }

    fn usage_row(&mut self, index: u64, i: u64) -> Row {
        let rng = &mut self.rng;
        let period = (i % self.periods.len() as u64) as usize;
        let resource = self.picker.pick(rng);
        let r = &self.resources[resource];
        let day = 1 + rng.below(self.days[period]) as u8;
        let hour = rng.below(24) as u8;
        let usage = r.hourly * rng.lognormal(1.0, 0.5);
        let list = usage * 1.15;
        let (kind, costs) = if rng.chance(0.005) {
            let c = money(rng, -usage * 0.5);
            (Kind::Credit, [c, c, Cost::Zero, Cost::Zero])
        } else if r.covered_by_commitment {
            let e = money(rng, usage * 0.72);
            let l = money(rng, list);
            let u = money(rng, usage);
            (Kind::Covered, [Cost::Zero, e, l, u])
        } else {
            let b = money(rng, usage);
            let l = money(rng, list);
            (Kind::Usage, [b, b, l, b])
        };
        Row {
            index,
            period: period as u16,
            resource: resource as u32,
            kind,
            day,
            hour,
            costs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::world;

    #[test]
    fn commitment_rows_come_first_then_usage_cycles_months() {
        let mut rng = Rng::new(1);
        let models = world::models(&mut rng);
        let res = world::resources(&mut rng, &models, 300);
        let periods = world::periods((2026, 2), 3);
        let mut src = RowSource::new(rng, &res, &periods);
        let mut rows = Vec::new();
        src.fill(&mut rows, 10);
        let kinds: Vec<Kind> = rows.iter().map(|r| r.kind).collect();
        assert_eq!(&kinds[..2], &[Kind::Purchase, Kind::Unused]);
        assert!(kinds[6..].iter().all(|k| !k.is_commitment_row()));
        assert_eq!(
            rows[6..].iter().map(|r| r.period).collect::<Vec<_>>(),
            vec![0, 1, 2, 0]
        );
        assert_eq!(
            rows.iter().map(|r| r.index).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        // drawing in two blocks gives the same rows as in one
        let mut rng = Rng::new(1);
        let models = world::models(&mut rng);
        let res = world::resources(&mut rng, &models, 300);
        let mut src = RowSource::new(rng, &res, &periods);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        src.fill(&mut a, 4);
        src.fill(&mut b, 6);
        a.extend(b);
        assert_eq!(a, rows);
    }
}
