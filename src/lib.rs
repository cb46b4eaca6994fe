#![doc = include_str!("../README.md")]

pub mod allocate;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod daily;
pub mod ddl;
pub mod economics;
pub mod error;
pub mod escape;
pub mod estimate;
pub mod ingest;
pub mod ledger;
pub mod money;
pub mod origin;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod sample;
pub mod schema;
pub mod sql;
pub mod tags;
pub mod trend;
pub mod volumes;

use cli::{Cli, Command};
pub use commands::Outcome;

/// Runs one parsed command line. Errors are returned, never printed here.
pub fn run(cli: &Cli) -> error::Result<Outcome> {
    let ctx = context::Context::from_env(cli.quiet, cli.verbose);
    match &cli.command {
        Command::Attribute(args) => commands::attribute::run(args, &ctx),
        Command::Validate(args) => commands::validate::run(args, &ctx),
        Command::Estimate(args) => commands::estimate::run(args, &ctx),
        Command::Tags(args) => commands::tags::run(args, &ctx),
        Command::Frontier(args) => commands::frontier::run(args, &ctx),
        Command::Economics(args) => commands::economics::run(args, &ctx),
        Command::Trend(args) => commands::trend::run(args, &ctx),
        Command::Forecast(args) => commands::forecast::run(args, &ctx),
        Command::Hidden(args) => commands::hidden::run(args, &ctx),
        Command::Report(args) => commands::report::run(args, &ctx),
        Command::Explain(args) => commands::explain::run(args, &ctx),
        Command::Sql(args) => commands::sql::run(args, &ctx),
        Command::Sample(args) => commands::sample::run(args, &ctx),
        Command::Init(args) => commands::init::run(args, &ctx),
        Command::Ddl(args) => commands::ddl::run(args, &ctx),
    }
}
