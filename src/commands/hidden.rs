//! `mlcost hidden`: hidden-cost estimates per model from `unit_costs` and `[hidden]`, written
//! to `hidden_costs/` (staged and renamed like every output) and summarised.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::cli::HiddenArgs;
use crate::config::LoadedConfig;
use crate::error::Result;
use crate::money::Money;
use crate::pipeline;

pub fn run(args: &HiddenArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let cfg = &loaded.config.hidden;
    let tagger = crate::tags::TagNormaliser::new(&loaded.config.tags);
    let utilization = args
        .utilization
        .as_deref()
        .map(|p| {
            crate::volumes::SideReader {
                tagger: &tagger,
                options: ctx.read,
            }
            .utilization(p)
        })
        .transpose()?
        .unwrap_or_default();
    let period = args
        .period
        .as_deref()
        .map(super::parse_period)
        .transpose()?;
    let job = pipeline::HiddenJob {
        out: args.input.clone(),
        period,
        wait: args.wait.map(std::time::Duration::from_secs),
    };
    let all = pipeline::hidden(&job, cfg, &utilization, &ctx.hooks)?;
    if args.json {
        return super::json(&all).map(super::Outcome::stdout);
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Hidden costs (estimates, not on the bill; written to {}/hidden_costs/)",
        args.input.display()
    );
    // each distinct set of preset inputs, once, above the table that rests on it
    let assumed: std::collections::BTreeSet<&str> =
        all.iter().filter_map(|r| r.assumed.as_deref()).collect();
    for a in &assumed {
        let _ = writeln!(
            o,
            "  assumed ({a}): rule-of-thumb estimates, not measured; configure [hidden] to replace them"
        );
    }
    let _ = writeln!(
        o,
        "  {:<8} {:<28} {:>13} {:>13} {:>13} {:>13} {:>13} {:>9} {:>13}",
        "month",
        "model",
        "visible",
        "idle",
        "experiments",
        "engineering",
        "true total",
        "hidden %",
        "idle in bill"
    );
    let show = |m: Option<Money>| m.map_or("-".to_string(), |m| m.to_fixed(2));
    // sums of many models' estimates can leave decimal(38,18): None then, shown as such
    let mut totals: BTreeMap<(String, String), (Option<Money>, Option<Money>)> = BTreeMap::new();
    for r in &all {
        let c = &r.costs;
        let _ = writeln!(
            o,
            "  {:<8} {:<28} {:>13} {:>13} {:>13} {:>13} {:>13} {:>9} {:>13}",
            r.period,
            crate::escape::terminal(&r.model_id, 28),
            c.visible.to_fixed(2),
            show(c.idle_capacity),
            show(c.experiment_waste),
            show(c.engineering_time),
            c.true_total.to_fixed(2),
            show(c.hidden_pct_of_visible),
            show(c.idle_share_of_bill)
        );
        let t = totals
            .entry((r.period.clone(), r.currency.clone()))
            .or_insert((Some(Money::ZERO), Some(Money::ZERO)));
        t.0 = t.0.and_then(|v| v.checked_add(c.visible));
        t.1 = t.1.and_then(|h| h.checked_add(c.hidden_total));
    }
    let fixed = |m: Option<Money>, places| m.map_or("out of range".into(), |m| m.to_fixed(places));
    for ((p, cur), (v, h)) in totals {
        let pct = v.zip(h).and_then(|(v, h)| Money::percent(h, v));
        let total = v.zip(h).and_then(|(v, h)| v.checked_add(h));
        let _ = writeln!(
            o,
            "  total {p} {cur}: visible {}, hidden {} ({}% of visible), true total {}",
            fixed(v, 2),
            fixed(h, 2),
            pct.map_or("-".into(), |x| x.to_fixed(1)),
            fixed(total, 2)
        );
    }
    let _ = writeln!(
        o,
        "  idle: capacity bought on top of what was used, visible x (1 - u) / u (hidden, in the \
         true total); idle in bill: the part of the visible cost that paid for idle capacity, \
         visible x (1 - u) (already on the bill)"
    );
    Ok(super::Outcome::stdout(o))
}
