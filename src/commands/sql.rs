//! `mlcost sql`: config -> one attribution query for a warehouse engine; writes it to a file
//! or stdout. Reads no billing data.

use crate::cli::{Basis, SqlArgs, SqlDialect};
use crate::config::{CostBasis, LoadedConfig};
use crate::error::Result;
use crate::output;
use crate::sql::{self, Dialect, SqlSettings};

/// (stdout, stderr)
pub fn run(args: &SqlArgs) -> Result<(String, String)> {
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let period = args
        .period
        .as_deref()
        .map(super::parse_period)
        .transpose()?;
    let settings = SqlSettings {
        dialect: match args.dialect {
            SqlDialect::Duckdb => Dialect::DuckDb,
            SqlDialect::Spark => Dialect::Spark,
            SqlDialect::Trino => Dialect::Trino,
            SqlDialect::Bigquery => Dialect::BigQuery,
        },
        billing_table: args.billing_table.clone(),
        requests_table: args.requests_table.clone(),
        basis: match args.basis {
            None => loaded.config.cost.basis,
            Some(Basis::Effective) => CostBasis::Effective,
            Some(Basis::Billed) => CostBasis::Billed,
            Some(Basis::List) => CostBasis::List,
            Some(Basis::Contracted) => CostBasis::Contracted,
        },
        period,
    };
    let query = sql::attribution_query(&loaded, &settings)?;
    if args.out.as_os_str() == "-" {
        return Ok((query, String::new()));
    }
    output::write_file_atomic(&args.out, query.as_bytes())?;
    Ok((String::new(), format!("wrote {}\n", args.out.display())))
}
