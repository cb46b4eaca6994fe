//! `mlcost hidden`: hidden-cost estimates per model from `unit_costs` and `[hidden]`, written
//! to `hidden_costs/` (staged and renamed like every output) and summarised.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::cli::HiddenArgs;
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::output::{self, Staging};
use crate::{economics, ingest};

/// Stages one month of `hidden_costs` with its `_manifest.json` (naming the `unit_costs` file
/// it was computed from) and `_SUCCESS`.
fn stage_period(
    staging: &mut Staging,
    out: &std::path::Path,
    period: &str,
    cfg: &crate::config::HiddenConfig,
    utilization: &BTreeMap<String, Money>,
    run_id: &str,
    at: &str,
) -> Result<Vec<economics::HiddenRow>> {
    let source = output::part_path(out, output::UNIT_COSTS, period);
    let rows =
        economics::hidden_for_models(&output::read_unit_costs(out, period)?, cfg, utilization)?;
    let refs: Vec<_> = rows.iter().collect();
    let df = output::hidden_costs_frame(&refs)?;
    staging.write_partition(output::HIDDEN_COSTS, period, &df)?;
    let m = output::PartitionManifest {
        table: output::HIDDEN_COSTS.to_string(),
        billing_period: period.to_string(),
        run_id: run_id.to_string(),
        published_at: at.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: crate::schema::SCHEMA_VERSION.to_string(),
        cost_basis: String::new(),
        config_sha256: String::new(),
        allow_empty: false,
        inputs: {
            let sha256 = ingest::hash_file(&source)?;
            vec![output::PartitionInput {
                path: source.display().to_string(),
                content_sha256: sha256.clone(),
                sha256,
            }]
        },
        totals: Vec::new(),
        quarantined_rows: 0,
        history: Vec::new(),
    };
    let json = serde_json::to_vec_pretty(&m)
        .map_err(|e| Error::Internal(format!("cannot serialise a partition manifest: {e}")))?;
    let dir = output::partition_dir(output::HIDDEN_COSTS, period);
    staging.write_text(&dir.join(output::PARTITION_MANIFEST), &json)?;
    staging.write_text(&dir.join(output::SUCCESS), b"")?;
    Ok(rows)
}

fn text(args: &HiddenArgs) -> Result<String> {
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let cfg = &loaded.config.hidden;
    let tagger = crate::tags::TagNormaliser::new(&loaded.config.tags);
    let utilization = args
        .utilization
        .as_deref()
        .map(|p| crate::volumes::read_utilization(p, &tagger))
        .transpose()?
        .unwrap_or_default();
    let period = args
        .period
        .as_deref()
        .map(super::parse_period)
        .transpose()?;
    let _lock =
        output::OutputLock::acquire(&args.input, args.wait.map(std::time::Duration::from_secs))?;
    output::recover(&args.input)?;
    let periods = match period {
        Some(p) => vec![p],
        None => output::list_periods(&args.input, output::UNIT_COSTS)?,
    };
    let now = chrono::Utc::now();
    let run_id = output::new_run_id(now);
    let at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut all = Vec::new();
    let mut staging = Staging::new(&args.input, &output::TestHooks::default())?;
    for p in &periods {
        let staged = stage_period(
            &mut staging,
            &args.input,
            p,
            cfg,
            &utilization,
            &run_id,
            &at,
        );
        match staged {
            Ok(rows) => all.extend(rows),
            Err(e) => {
                staging.discard();
                return Err(e);
            }
        }
    }
    staging.commit()?;
    if args.json {
        return serde_json::to_string_pretty(&all)
            .map(|s| s + "\n")
            .map_err(|e| Error::Internal(format!("cannot serialise: {e}")));
    }
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Hidden costs (estimates, not on the bill; written to {}/hidden_costs/)",
        args.input.display()
    );
    let _ = writeln!(
        o,
        "  {:<8} {:<28} {:>13} {:>13} {:>13} {:>13} {:>13} {:>9}",
        "month", "model", "visible", "idle", "experiments", "engineering", "true total", "hidden %"
    );
    let show = |m: Option<Money>| m.map_or("-".to_string(), |m| m.to_fixed(2));
    let mut totals: BTreeMap<(String, String), (Money, Money)> = BTreeMap::new();
    for r in &all {
        let c = &r.costs;
        let _ = writeln!(
            o,
            "  {:<8} {:<28} {:>13} {:>13} {:>13} {:>13} {:>13} {:>9}",
            r.period,
            r.model_id,
            c.visible.to_fixed(2),
            show(c.idle_capacity),
            show(c.experiment_waste),
            show(c.engineering_time),
            c.true_total.to_fixed(2),
            show(c.hidden_pct_of_visible)
        );
        let t = totals
            .entry((r.period.clone(), r.currency.clone()))
            .or_default();
        t.0 += c.visible;
        t.1 += c.hidden_total;
    }
    for ((p, cur), (v, h)) in totals {
        let pct = Money::fraction(h.0 * 100, v.0).map_or("-".into(), |x| x.to_fixed(1));
        let _ = writeln!(
            o,
            "  total {p} {cur}: visible {}, hidden {} ({pct}% of visible), true total {}",
            v.to_fixed(2),
            h.to_fixed(2),
            (v + h).to_fixed(2)
        );
    }
    Ok(o)
}

pub fn run(args: &HiddenArgs, _ctx: &crate::context::Context) -> Result<crate::Outcome> {
    use crate::Outcome;
    text(args).map(Outcome::stdout)
}
