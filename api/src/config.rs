//! The one configuration struct (flags and environment variables), parsed once in `main`
//! and passed down; library code never reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::auth::AuthConfig;

/// Maillage: one GraphQL entry point to the French inter-institutional network.
#[derive(Debug, Parser)]
#[command(name = "maillage", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve` (used when no command is given).
    #[command(flatten)]
    pub serve: ServeConfig,
}

/// Commands of the `maillage` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, import the national reference into an empty database, and serve.
    Serve(ServeConfig),
    /// Print the GraphQL schema (SDL).
    Schema {
        /// Print the Apollo Federation v2 subgraph schema (with `@key` and `@link`) instead.
        #[arg(long)]
        federation: bool,
    },
    /// (Re)load the national reference, idempotently.
    Import(ImportArgs),
    /// Declare competences in bulk from a CSV file (a préfecture's or BANATIC extract): every
    /// row checked as `declareCompetence` checks it, all written or none.
    ImportCompetences(ImportCompetencesArgs),
    /// Print a development token signed with MAILLAGE_JWT_SECRET.
    Token(TokenArgs),
}

/// Settings of `maillage token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Subject (the person or application).
    #[arg(long)]
    pub sub: String,
    /// Organisation acted for: SIREN (e.g. 213502388 for Rennes) or global ID.
    #[arg(long)]
    pub org: Option<String>,
    /// Role: editor, admin, partner, state or superadmin; repeatable.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
    /// Key and claim settings.
    #[command(flatten)]
    pub auth: AuthConfig,
}

/// Database connection settings.
#[derive(Debug, Clone, Args)]
pub struct DbConfig {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://maillage.db?mode=rwc"
    )]
    pub database_url: String,
    /// Maximum connections in the pool.
    #[arg(long, env = "MAILLAGE_POOL_SIZE", default_value_t = 4)]
    pub pool_size: u32,
    /// Seconds to wait for a pooled connection before failing.
    #[arg(long, env = "MAILLAGE_POOL_TIMEOUT_SECS", default_value_t = 3)]
    pub pool_timeout_secs: u64,
    /// PostgreSQL `statement_timeout`, in milliseconds.
    #[arg(long, env = "MAILLAGE_STATEMENT_TIMEOUT_MS", default_value_t = 10_000)]
    pub statement_timeout_ms: u64,
}

impl DbConfig {
    /// The pool acquire timeout.
    pub fn pool_timeout(&self) -> Duration {
        Duration::from_secs(self.pool_timeout_secs)
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings of `maillage serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "MAILLAGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database settings.
    #[command(flatten)]
    pub db: DbConfig,
    /// Log format.
    #[arg(long, env = "MAILLAGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Answer registry reads from an in-memory copy while it is the database's current
    /// version (`false`: every read is SQL).
    #[arg(long, env = "MAILLAGE_REGISTRY_IN_MEMORY", default_value_t = true, action = clap::ArgAction::Set)]
    pub registry_in_memory: bool,
    /// On PostgreSQL, read the in-memory registry under a lease rather than asking the
    /// database its version for every query; writers then wait until every running lease has
    /// seen their write (`docs/design.md`). `false` for hosts whose clocks may jump.
    #[arg(long, env = "MAILLAGE_REGISTRY_LEASES", default_value_t = true, action = clap::ArgAction::Set)]
    pub registry_leases: bool,
    /// Days a referral's personal data (message, contact, answer) are kept after its last
    /// step; then they are purged and the figures stay.
    #[arg(long, env = "MAILLAGE_REFERRAL_RETENTION_DAYS", default_value_t = crate::domain::referrals::retention::DEFAULT_RETENTION_DAYS)]
    pub referral_retention_days: u32,
    /// Mebibytes of answers to public reads over GET kept in memory, by entity tag (0: no
    /// response cache).
    #[arg(long, env = "MAILLAGE_RESPONSE_CACHE_MB", default_value_t = 64)]
    pub response_cache_mb: u64,
    /// GraphQL limits.
    #[command(flatten)]
    pub limits: Limits,
    /// Authentication.
    #[command(flatten)]
    pub auth: AuthConfig,
}

/// Limits applied to every GraphQL request.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Maximum nesting depth of a document.
    #[arg(long, env = "MAILLAGE_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    /// Maximum complexity (connections count by their `first`).
    #[arg(long, env = "MAILLAGE_MAX_COMPLEXITY", default_value_t = 1_000_000)]
    pub max_complexity: usize,
    /// Maximum length of a document, in bytes (checked before anything else).
    #[arg(long, env = "MAILLAGE_MAX_DOCUMENT_BYTES", default_value_t = 32 * 1024)]
    pub max_document_bytes: usize,
    /// Maximum lexical tokens in a document (counted before parsing).
    #[arg(long, env = "MAILLAGE_MAX_TOKENS", default_value_t = 4_000)]
    pub max_tokens: usize,
    /// Maximum directives in a document (counted before parsing).
    #[arg(long, env = "MAILLAGE_MAX_DIRECTIVES", default_value_t = 20)]
    pub max_directives: usize,
    /// Maximum aliases in a document (counted before validation).
    #[arg(long, env = "MAILLAGE_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Answer introspection queries (GraphiQL and code generators need them).
    #[arg(long, env = "MAILLAGE_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Suggest field names in validation errors ("did you mean …?").
    #[arg(long, env = "MAILLAGE_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub suggestions: bool,
    /// Maximum request body, in bytes.
    #[arg(long, env = "MAILLAGE_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Request timeout, in seconds.
    #[arg(long, env = "MAILLAGE_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Cost points a minute for anonymous callers (each client address).
    #[arg(
        long,
        env = "MAILLAGE_COST_BUDGET_ANONYMOUS",
        default_value_t = 2_000_000
    )]
    pub cost_budget_anonymous: u32,
    /// Cost points a minute for each authenticated subject (staff, partner apps).
    #[arg(
        long,
        env = "MAILLAGE_COST_BUDGET_MEMBER",
        default_value_t = 10_000_000
    )]
    pub cost_budget_member: u32,
    /// Cost points a minute for each State service or superadmin subject.
    #[arg(long, env = "MAILLAGE_COST_BUDGET_STATE", default_value_t = 50_000_000)]
    pub cost_budget_state: u32,
    /// A subscriber whose connection accepts nothing for this many seconds is closed (code
    /// 1013) and resumes from its cursor: a slow client never makes the server buffer.
    #[arg(long, env = "MAILLAGE_SUBSCRIBER_STALL_SECS", default_value_t = 10)]
    pub subscriber_stall_secs: u64,
    /// Automatic persisted queries: documents kept by their SHA-256 (least recently used go).
    #[arg(long, env = "MAILLAGE_PERSISTED_QUERIES", default_value_t = 1024)]
    pub persisted_queries: usize,
    /// Answer plain registry lookups (`organisation`, `organisations { nodes }` with an
    /// organisation's own fields and places) by writing their JSON directly, without
    /// async-graphql's executor; `false` runs every operation through it.
    #[arg(long, env = "MAILLAGE_DIRECT_ANSWERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub direct_answers: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 1_000_000,
            max_document_bytes: 32 * 1024,
            max_tokens: 4_000,
            max_directives: 20,
            max_aliases: 30,
            introspection: true,
            suggestions: true,
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 30,
            cost_budget_anonymous: 2_000_000,
            cost_budget_member: 10_000_000,
            cost_budget_state: 50_000_000,
            subscriber_stall_secs: 10,
            persisted_queries: 1024,
            direct_answers: true,
        }
    }
}

/// Settings of `maillage import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Database settings.
    #[command(flatten)]
    pub db: DbConfig,
    /// Compile from a directory of upstream vintages (`2022/communes.json.gz`…) instead of
    /// the snapshot shipped in the binary.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Also write the compiled snapshot to this file (how `api/data/reference.json.gz` is made).
    #[arg(long)]
    pub write_snapshot: Option<PathBuf>,
    /// Only compile (and write) the snapshot; do not touch the database.
    #[arg(long, requires = "write_snapshot")]
    pub no_load: bool,
    /// Load the reference as the vintages up to this year had it (a registry a year behind),
    /// to rehearse the yearly import: a later `maillage import` then applies the next vintage.
    #[arg(long)]
    pub until: Option<i32>,
}

/// Settings of `maillage import-competences`.
#[derive(Debug, Clone, Args)]
pub struct ImportCompetencesArgs {
    /// Database settings.
    #[command(flatten)]
    pub db: DbConfig,
    /// The CSV file: `siren,competence,role,basis,valid_from,valid_to,source,scope`, one
    /// declaration per row (see the README).
    pub file: PathBuf,
    /// Check every row and report, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
}
