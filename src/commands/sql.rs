//! `mlcost sql`: config -> one attribution query for a warehouse engine; writes it to a file
//! or stdout. Reads no billing data.

use crate::cli::SqlArgs;
use crate::config::LoadedConfig;
use crate::error::Result;
use crate::sql::{self, SqlSettings};

pub fn run(args: &SqlArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let period = args
        .period
        .as_deref()
        .map(super::parse_period)
        .transpose()?;
    let settings = SqlSettings {
        dialect: args.dialect,
        billing_table: args.billing_table.clone(),
        requests_table: args.requests_table.clone(),
        basis: args.basis.unwrap_or(loaded.config.cost.basis),
        period,
        tags: args.tags,
        cost_by_model_table: args.cost_by_model_table.clone(),
        driver_tables: args.driver_tables.clone(),
    };
    let query = sql::attribution_query(&loaded, &settings, args.table)?;
    super::emit(query, &args.out, ctx)
}
