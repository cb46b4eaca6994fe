//! Command-line types (clap derive) and nothing else: doc comments are the help text. Choices
//! that are domain concepts (billing format, cost basis, SQL dialect) use the domain enum
//! itself, which derives `clap::ValueEnum`. No stage sees these argument structs; `commands/`
//! turns them into plain settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::CostBasis;
use crate::ingest::SourceFormat;
use crate::sample::{CostType, Encoding, Layout, PeriodType, TagsType};
use crate::sql::Dialect;

#[derive(Debug, Parser)]
#[command(
    name = "mlcost",
    version,
    about = "Turn cloud billing exports into ML unit economics: cost per model, per request, per lifecycle phase",
    long_about = None,
    after_help = "Exit codes: 0 success, 1 data rejected (reconciliation, compliance threshold, --strict), 2 could not run.\n\nQuick start:\n  mlcost attribute --billing sample_data/focus_sample.csv --requests sample_data/requests.csv --out out/"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr (no summary, no progress)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log events on stderr as text, or as one JSON object per line (timestamp, level,
    /// message, fields) for log collectors
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Cli {
    /// Whether the command was asked for JSON on stdout (errors are then JSON too).
    pub fn wants_json(&self) -> bool {
        match &self.command {
            Command::Attribute(a) => a.json,
            Command::Validate(a) => a.json,
            Command::Estimate(a) => a.json,
            Command::Frontier(a) => a.json,
            Command::Economics(a) => a.json,
            Command::Trend(a) => a.json,
            Command::Forecast(a) => a.json,
            Command::Hidden(a) => a.json,
            _ => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Attribute billed cost to models, teams and lifecycle phases; write Parquet tables
    #[command(
        after_help = "Example:\n  mlcost attribute --billing 'exports/2026-10/*.parquet' --requests requests.csv --out warehouse/mlcost --period 2026-10\n\nWrites under --out: cost_by_model/, unit_costs/, tag_compliance/ (Hive-partitioned by billing_period=YYYY-MM, each partition with _manifest.json and _SUCCESS), quarantine/ and manifest.json. Only the partitions of the periods in this run are replaced, and only when the run is complete."
    )]
    Attribute(AttributeArgs),
    /// Report tag compliance of billing exports; writes nothing
    #[command(
        after_help = "Example:\n  mlcost validate --billing exports/ --config mlcost.toml --json\n\nExits 1 when the share of compliant spend is below [validate] min_compliance."
    )]
    Validate(ValidateArgs),
    /// Estimate the monthly cost of a planned model from a price catalog and a usage profile
    #[command(
        after_help = "Examples:\n  mlcost estimate --profile sample_data/profile_recommendation.toml\n  mlcost estimate --profile p.toml --compare pricing=on_demand\n  mlcost estimate --profile p.toml --compare inference.instance=g4dn.xlarge --compare inference.replicas=12\n  mlcost estimate --profile p.toml --actual out/ --period 2026-10"
    )]
    Estimate(EstimateArgs),
    /// Print or check the required tag set for a new resource
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  mlcost tags --team recsys --project feed --model-id ranker --environment prod --lifecycle-phase inference --output terraform\n  mlcost tags check tags.json"
    )]
    Tags(TagsArgs),
    /// The cost-accuracy frontier of candidate models
    #[command(
        after_help = "Example:\n  mlcost frontier --candidates candidates.toml\n\ncandidates.toml: [[candidate]] entries with name, accuracy, and monthly_cost or profile"
    )]
    Frontier(FrontierArgs),
    /// Unit economics of one system without a bill: cost per request, margin, ROI, hidden costs
    #[command(
        after_help = "Examples:\n  mlcost economics --cost 50000 --volume 10000000 --per day\n  mlcost economics --cost 28400 --volume 72000000 --revenue 4200000 --utilization 0.45 --ftes 1.5 --fte-cost 300000"
    )]
    Economics(EconomicsArgs),
    /// Month-over-month unit cost per model, split into spend and volume effects
    #[command(after_help = "Example:\n  mlcost trend --input out/")]
    Trend(TrendArgs),
    /// Project requests and cost per model, fixed vs volume-driven, with target alerts
    #[command(
        after_help = "Examples:\n  mlcost forecast --input out/ --months 6\n  mlcost forecast --input out/ --months 12 --growth 20%/quarter\n  mlcost forecast --input out/ --unit tokens"
    )]
    Forecast(ForecastArgs),
    /// Estimate the costs that are not on the bill (idle capacity, experiment waste,
    /// engineering time) and write them to hidden_costs/
    #[command(
        after_help = "Example:\n  mlcost hidden --input out/ --config mlcost.toml\n\n[hidden] in the config: preset = \"typical\", default_utilization, utilization = { model = 0.4 }, waste_fraction, experiment_share, ftes, fte_annual_cost, engineering_allocation"
    )]
    Hidden(HiddenArgs),
    /// Write the report people read: self-contained HTML with inline SVG charts, or Markdown
    #[command(
        after_help = "Examples:\n  mlcost report --input out/ --out report.html\n  mlcost report --input out/ --format markdown --out -"
    )]
    Report(ReportArgs),
    /// Show how one model's cost in one month was built
    #[command(
        after_help = "Example:\n  mlcost explain --model ranker --period 2026-10 --input out/"
    )]
    Explain(ExplainArgs),
    /// Write the attribution as one SQL query for DuckDB, Spark, Trino or BigQuery, to run
    /// where the bill already lives
    #[command(
        after_help = "Examples:\n  mlcost sql --dialect duckdb --config mlcost.toml --billing-table focus --out attribution.sql\n  mlcost sql --dialect spark --config mlcost.toml --billing-table billing.focus_2026 --period 2026-10\n  mlcost sql --dialect bigquery --config mlcost.toml --billing-table my-project.billing.focus --requests-table my-project.ml.requests\n\nThe query reads a FOCUS 1.0-1.2 table (Tags as JSON text) and returns the rows of cost_by_model. A config item the SQL cannot express (driver splits, amortisation, requests without --requests-table) is an error naming its line. docs/scaling.md lists what runs where."
    )]
    Sql(SqlArgs),
    /// Print the SQL that reads the output tables where they lie: external tables (or a
    /// DuckDB view) for DuckDB, Spark, Athena, BigQuery, Snowflake, Trino or Redshift
    #[command(
        after_help = "Examples:\n  mlcost ddl --dialect duckdb --input out/ > tables.sql\n  mlcost ddl --dialect athena --location s3://bucket/mlcost --schema mlcost\n  mlcost ddl --dialect bigquery --location gs://bucket/mlcost --schema my-project.mlcost --table unit_costs\n  mlcost ddl --dialect snowflake --location @my_stage/mlcost\n\nEach table is <location>/<table>/, partitioned by billing_period=YYYY-MM. --location defaults to the absolute path of --input; engines that read from a bucket need its URI. With --table all (the default), tables that have no published month under --input are left out (said on stderr)."
    )]
    Ddl(DdlArgs),
    /// Write a realistic synthetic billing export (FOCUS, or AWS CUR) and request volumes,
    /// in the shapes providers write
    #[command(
        after_help = "Examples:\n  mlcost sample --out /tmp/demo --rows 1000000 --format parquet\n  mlcost sample --out s --format parquet --period-type timestamp-us --time-zone +02:00\n  mlcost sample --out s --format parquet --cost-type decimal38-18 --tags map\n  mlcost sample --out s --format parquet --cardinality high --dictionary off\n  mlcost sample --out s --format parquet --row-group-rows 65536 --parts 10\n  mlcost sample --out s --layout aws-cur --format parquet\n  mlcost sample --out s --format csv-gz --line-ending crlf --bom\n\nThe same --seed, --rows and --months give the same line items in every shape: only their encoding differs, and `mlcost attribute` gives the same cost_by_model for all of them. Defaults are the original output (FOCUS, text periods, decimal(38,10) or text costs, JSON tags); for AWS layouts in Parquet, timestamp-ms periods and double costs. A cost type that holds fewer digits than generated rounds every cost to what it holds (decimal38-9: 9 decimals, float: 6 significant digits, double: 15); --cost-decimals / --cost-digits round any shape the same way, e.g. a CSV to compare with."
    )]
    Sample(SampleArgs),
    /// Write a commented starter mlcost.toml
    #[command(after_help = "Example:\n  mlcost init && $EDITOR mlcost.toml")]
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct BillingInput {
    /// Billing export(s): files, directories or quoted globs; .csv, .csv.gz, .parquet, .json,
    /// .jsonl; or objects in a bucket: s3://, gs://, az:// or abfss:// URIs of an object, a
    /// prefix or a glob (a CUR or Data Exports folder's manifest picks the current delivery)
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub billing: Vec<String>,

    /// Config file (default: built-in defaults)
    #[arg(long, env = "MLCOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Input format: auto (detect it per file from the columns; -v says why), focus, aws-cur
    /// (also aws-cur2), azure, gcp, oci or cost-explorer
    #[arg(long, default_value = "auto", value_parser = parse_format, value_name = "FORMAT")]
    pub format: FormatArg,

    /// When two exports repeat the same line items (AWS CUR identity/LineItemId and
    /// TimeInterval), the file (or object URI) that wins; the other is skipped
    #[arg(long, value_name = "PATH")]
    pub prefer: Option<std::path::PathBuf>,
}

/// `--format`: one of the billing formats mlcost reads, or None for `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatArg(pub Option<SourceFormat>);

fn parse_format(text: &str) -> Result<FormatArg, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(FormatArg(None));
    }
    SourceFormat::from_str(text, true).map(|f| FormatArg(Some(f)))
}

/// `--driver-table POOL=NAME`.
fn parse_pool_table(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((pool, table)) if !pool.trim().is_empty() && !table.trim().is_empty() => {
            Ok((pool.trim().to_string(), table.trim().to_string()))
        }
        _ => Err(format!(
            "`{text}` is not POOL=NAME (a shared pool's id, then the table of its driver rows)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct AttributeArgs {
    #[command(flatten)]
    pub input: BillingInput,

    /// Request volumes (CSV or Parquet: model_id, date or billing_period, and requests; or a
    /// column per unit such as tokens, gpu_hours; or unit and quantity), writing
    /// unit_costs_by_unit for units besides requests; a path or an object URI (s3://, gs://,
    /// az://, abfss://)
    #[arg(long, value_name = "PATH")]
    pub requests: Option<PathBuf>,

    /// Revenue and value preserved (CSV or Parquet: billing_period or date, model_id, and
    /// revenue and/or value_preserved); a path or an object URI
    #[arg(long, value_name = "PATH")]
    pub revenue: Option<PathBuf>,

    /// Output directory, on a local or mounted filesystem (outputs are published by rename)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Only attribute this billing month (YYYY-MM) and replace only its partitions
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,

    /// Reject the run (exit 1, nothing published) when any row was quarantined or any
    /// request or revenue row was unusable
    #[arg(long)]
    pub strict: bool,

    /// Publish a month even when no billing row of it could be counted (empty tables; the
    /// manifest records it). Without it such a run is rejected and the month left as it was
    #[arg(long)]
    pub allow_empty: bool,

    /// When another run holds the output directory, wait up to this many seconds for it
    /// instead of failing at once (for schedulers that may start two runs)
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,

    /// `day` also attributes by charge day (ChargePeriodStart, or the format's usage date):
    /// writes cost_by_model_daily, unit_costs_daily and anomalies next to the monthly tables
    #[arg(long, value_enum, default_value_t = Grain::Month)]
    pub grain: Grain,

    /// Print the run's manifest and summary as one JSON object on stdout, whatever the exit code
    #[arg(long)]
    pub json: bool,
}

/// The grain of `attribute`: months only, or months and days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grain {
    Month,
    Day,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: BillingInput,

    /// Print the compliance report as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Usage profile (TOML, one or more [[model]])
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,

    /// Price catalog (TOML); default: the shipped AWS us-east-1 catalog
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// What-if: override a profile field and show the difference (repeatable), e.g.
    /// `pricing=on_demand` or `inference.replicas=12`
    #[arg(long, value_name = "FIELD=VALUE")]
    pub compare: Vec<String>,

    /// Hold the estimate against this `attribute` output directory (needs --period)
    #[arg(long, value_name = "DIR", requires = "period")]
    pub actual: Option<PathBuf>,

    /// Billing month of --actual (YYYY-MM)
    #[arg(long, value_name = "YYYY-MM", requires = "actual")]
    pub period: Option<String>,

    /// The day prices are aged against: catalog prices more than 180 days older are flagged as
    /// stale (default: today, UTC)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day)]
    pub today: Option<chrono::NaiveDate>,

    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// A day written YYYY-MM-DD (chrono alone also takes `2026-1-1`).
fn day(text: &str) -> std::result::Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| "not a day written YYYY-MM-DD".to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagsOutput {
    Json,
    Terraform,
    AwsCli,
}

#[derive(Debug, Args)]
pub struct TagsArgs {
    #[command(subcommand)]
    pub action: Option<TagsAction>,

    #[arg(long, required = true)]
    pub team: Option<String>,
    #[arg(long, required = true)]
    pub project: Option<String>,
    #[arg(long, required = true)]
    pub model_id: Option<String>,
    #[arg(long, required = true)]
    pub environment: Option<String>,
    #[arg(long, required = true)]
    pub lifecycle_phase: Option<String>,
    /// Default: eng-<team>
    #[arg(long)]
    pub cost_center: Option<String>,
    /// Default: $USER, else `mlcost`
    #[arg(long)]
    pub created_by: Option<String>,
    #[arg(long, default_value = "terraform")]
    pub managed_by: String,

    #[arg(long, value_enum, default_value_t = TagsOutput::Json)]
    pub output: TagsOutput,

    /// Config whose required keys and allowed values are checked
    #[arg(long, env = "MLCOST_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TagsAction {
    /// Validate a tag map (JSON object or Terraform tfvars); exit 1 on violations
    Check {
        /// The file to check
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct FrontierArgs {
    /// Candidates (TOML [[candidate]]: name, accuracy, monthly_cost or profile)
    #[arg(long, value_name = "FILE")]
    pub candidates: PathBuf,

    /// Price catalog for candidates given as profiles
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VolumePer {
    Day,
    Month,
}

#[derive(Debug, Args)]
pub struct EconomicsArgs {
    /// Monthly cost
    #[arg(long)]
    pub cost: String,
    /// Request volume (per --per); the month's volume is rounded to whole requests
    #[arg(long)]
    pub volume: String,
    /// Whether --volume is per day or per month
    #[arg(long, value_enum, default_value_t = VolumePer::Month)]
    pub per: VolumePer,
    /// The unit of --volume: requests (default), or tokens, gpu_hours, any unit (then the
    /// volume may be fractional and the costs are per unit, per 1,000 and per 1M)
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Days in a month when --per day
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=31))]
    pub days_per_month: u32,
    /// Monthly revenue attributed to the system
    #[arg(long)]
    pub revenue: Option<String>,
    /// Monthly value preserved (e.g. fraud prevented)
    #[arg(long)]
    pub value_preserved: Option<String>,
    /// Average utilisation of the paid capacity (0-1): adds idle capacity as a hidden cost
    #[arg(long)]
    pub utilization: Option<String>,
    /// Monthly spend on experiments, and --waste-fraction of it wasted
    #[arg(long, requires = "waste_fraction")]
    pub experiment_spend: Option<String>,
    #[arg(long, requires = "experiment_spend")]
    pub waste_fraction: Option<String>,
    /// Engineers working on the system (full-time equivalents)
    #[arg(long, requires = "fte_cost")]
    pub ftes: Option<String>,
    /// Fully loaded annual cost of one FTE
    #[arg(long, requires = "ftes")]
    pub fte_cost: Option<String>,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Output directory of `mlcost attribute`
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,
    /// Only this model
    #[arg(long)]
    pub model: Option<String>,
    /// The cost of this unit of the volumes (tokens, gpu_hours, ...) from
    /// `unit_costs_by_unit`, instead of the cost per 1,000 requests
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Output directory of `mlcost attribute`
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,
    /// Months to project (1 to 120)
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub months: u32,
    /// Volume growth, e.g. `20%/quarter`, `5%/month`; default: fitted to the history
    #[arg(long)]
    pub growth: Option<String>,
    /// Project this unit of the volumes (tokens, gpu_hours, ...) from
    /// `unit_costs_by_unit`, instead of requests
    #[arg(long, value_name = "UNIT")]
    pub unit: Option<String>,
    /// Config with [targets] and [forecast] variable_phases
    #[arg(long, env = "MLCOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HiddenArgs {
    /// Output directory of `mlcost attribute` (hidden_costs/ is written there too)
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,
    /// Only this billing month (default: every month with unit costs)
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// Per-model utilisation (CSV or Parquet: model_id, utilization)
    #[arg(long, value_name = "FILE")]
    pub utilization: Option<PathBuf>,
    /// Config with [hidden]
    #[arg(long, env = "MLCOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When another run holds the output directory, wait up to this many seconds for it
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output directory of `mlcost attribute`
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,
    /// Where to write the report (`-` for stdout)
    #[arg(long, default_value = "report.html", value_name = "FILE")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Title of the page
    #[arg(long, default_value = "ML unit economics")]
    pub title: String,
    /// Report on this month (and compare it with the month before) instead of every month
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Model id
    #[arg(long)]
    pub model: String,

    /// Billing month (YYYY-MM)
    #[arg(long, value_name = "YYYY-MM")]
    pub period: String,

    /// Output directory of `mlcost attribute`
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,

    /// Values shown per dimension of `cost_by_dimension`, largest first (the rest are summed)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub top: u32,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// SQL dialect of the engine that runs the query
    #[arg(long, value_enum)]
    pub dialect: Dialect,

    /// Config file (default: built-in defaults)
    #[arg(long, env = "MLCOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Table or view holding the FOCUS billing export; may be qualified (`db.schema.table`)
    #[arg(long, default_value = "focus_billing", value_name = "NAME")]
    pub billing_table: String,

    /// Table of request volumes (columns `date`, `model_id`, `requests`), for `requests` splits
    #[arg(long, value_name = "NAME")]
    pub requests_table: Option<String>,

    /// Cost basis; default: `[cost] basis` of the config
    #[arg(long, value_enum)]
    pub basis: Option<CostBasis>,

    /// Only attribute this billing month (YYYY-MM)
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,

    /// The table the query produces: cost_by_model, unit_costs, tag_compliance,
    /// training_amortization (with `[amortize] training_months > 1`), or all (one query each,
    /// ended by `;`)
    #[arg(long, value_enum, default_value = "cost_by_model")]
    pub table: crate::sql::SqlTable,

    /// For --table unit_costs (or all): read the cost_by_model rows from this table, which
    /// the cost_by_model query filled, instead of computing them again (much less work for
    /// the engine)
    #[arg(long, value_name = "NAME")]
    pub cost_by_model_table: Option<String>,

    /// For a shared pool with `method = "driver"`: the table holding its driver file's rows
    /// (columns `period`, `model_id`, `quantity`); repeat per pool
    #[arg(long = "driver-table", value_name = "POOL=NAME", value_parser = parse_pool_table)]
    pub driver_tables: Vec<(String, String)>,

    /// Type of the billing table's Tags column: json (text), map or struct (BigQuery: an
    /// array of key/value structs for `map`)
    #[arg(long, value_enum, default_value = "json")]
    pub tags: crate::sql::TagsColumn,

    /// Where to write the query (`-` for stdout)
    #[arg(long, default_value = "-", value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DdlArgs {
    /// Engine to write the DDL for
    #[arg(long, value_enum)]
    pub dialect: crate::ddl::Dialect,

    /// Output directory of `mlcost attribute` (for the default location and the published
    /// months)
    #[arg(long, default_value = "out", value_name = "DIR")]
    pub input: PathBuf,

    /// Where the engine reads the output directory: a path, a URI (s3://bucket/prefix,
    /// gs://...), or for Snowflake a stage (@stage/prefix); default: the absolute path of --input
    #[arg(long, value_name = "URI")]
    pub location: Option<String>,

    /// Schema (database, dataset) to create the tables in; `catalog.schema` or
    /// `project.dataset` where the engine has them
    #[arg(long, default_value = "mlcost", value_name = "NAME")]
    pub schema: String,

    /// One table (cost_by_model, unit_costs, tag_compliance, training_amortization,
    /// hidden_costs, unit_costs_by_unit, cost_by_dimension, cost_by_model_daily,
    /// unit_costs_daily, anomalies), or `all`
    #[arg(long, default_value = "all", value_name = "NAME")]
    pub table: String,

    /// Where to write the DDL (`-` for stdout)
    #[arg(long, default_value = "-", value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SampleCardinality {
    Normal,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LineEnding {
    Lf,
    Crlf,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Directory to write the export (focus_sample.<ext>, aws_cur_sample.<ext> or
    /// aws_cur2_sample.parquet) and requests.csv into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of billing rows (at least 2 per month: each month's commitment rows)
    #[arg(long, default_value_t = 10_000)]
    pub rows: u64,

    /// Random seed; the same seed gives the same files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Number of billing months (1 to 120), ending with --end-period
    #[arg(long, default_value_t = 1)]
    pub months: u32,

    /// Last billing month (YYYY-MM); every month lies between 1900-01 and 9999-11
    #[arg(long, default_value = "2026-10")]
    pub end_period: String,

    /// File format of the billing export
    #[arg(long, value_enum, default_value_t = Encoding::Csv)]
    pub format: Encoding,

    /// Split the export into this many files of about equal rows (1 to --rows), written to
    /// focus_sample/part-NNNNN.<ext> (as large monthly exports are delivered)
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub parts: u32,

    /// Provider layout of the export
    #[arg(long, value_enum, default_value_t = Layout::Focus)]
    pub layout: Layout,

    /// Parquet type of the period columns (BillingPeriodStart/End, ChargePeriodStart/End;
    /// the bill and usage dates in CUR) [default: text; timestamp-ms for AWS layouts]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub period_type: Option<PeriodType>,

    /// Zone of timestamp periods: UTC, an offset (+02:00), a zone name (Europe/Berlin) or
    /// `none` (local timestamps); the instants are the same in every zone [default: UTC]
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,

    /// Parquet type of the cost columns (BilledCost, EffectiveCost, ListCost,
    /// ContractedCost; the CUR cost columns) [default: decimal38-10; double for AWS layouts]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub cost_type: Option<CostType>,

    /// Round every cost to at most N decimal places (0 to 18)
    #[arg(long, value_name = "N")]
    pub cost_decimals: Option<u32>,

    /// Round every cost to at most N significant digits (1 to 38)
    #[arg(long, value_name = "N")]
    pub cost_digits: Option<u32>,

    /// How FOCUS Tags are written in Parquet [default: json]
    #[arg(long, value_enum)]
    pub tags: Option<TagsType>,

    /// Distinct ResourceId and Tags values: `high` gives each row one of about 100,000
    /// resource instances, past Parquet's default dictionary page (costs and attribution
    /// do not change)
    #[arg(long, value_enum, default_value_t = SampleCardinality::Normal)]
    pub cardinality: SampleCardinality,

    /// Parquet dictionary encoding; `off` writes plain pages only [default: on]
    #[arg(long, value_enum)]
    pub dictionary: Option<OnOff>,

    /// Rows per Parquet row group (1000 to 16777216; providers write about 65536 to
    /// 1048576) [default: 1048576; the original FOCUS Parquet: 200000]
    #[arg(long, value_name = "N")]
    pub row_group_rows: Option<usize>,

    /// CSV line ends [default: lf]
    #[arg(long, value_enum)]
    pub line_ending: Option<LineEnding>,

    /// Start the CSV with a UTF-8 byte-order mark
    #[arg(long)]
    pub bom: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config
    #[arg(long, default_value = "mlcost.toml", value_name = "FILE")]
    pub path: PathBuf,

    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}
