//! Database connection: pool, SQLite pragmas, PostgreSQL timeouts, migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::DbConfig;

/// Opens the pool described by `config`.
///
/// SQLite runs in WAL mode with foreign keys on; PostgreSQL sessions get a statement,
/// lock and idle-in-transaction timeout, so that nothing holds a connection forever.
pub async fn connect(config: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(config, config.pool_size.max(1))).await
}

/// How long a pooled connection may sit idle before it is tested when taken again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

fn options(config: &DbConfig, connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(config.database_url.clone());
    let statement_timeout = config.statement_timeout_ms.to_string();
    options
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(config.pool_timeout())
        .connect_timeout(Duration::from_secs(5))
        // sqlx pings every connection it takes from the pool, a round trip before each
        // statement (and again when it goes back, where a broken one is dropped): only
        // connections idle this long, which a network or PostgreSQL may have cut meanwhile,
        // are tested before use.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .pragma("cache_size", "-8000")
                .pragma("temp_store", "memory")
        })
        .map_sqlx_postgres_opts(move |opts: PgConnectOptions| {
            opts.options([
                ("statement_timeout", statement_timeout.as_str()),
                ("lock_timeout", "3000"),
                ("idle_in_transaction_session_timeout", "30000"),
            ])
        });
    options
}

/// Applies every pending migration, on one connection of its own: a migration's statements
/// spread over a pool's connections could see each other's schema changes late (a fresh
/// SQLite file once failed that way).
pub async fn migrate(config: &DbConfig) -> Result<(), DbErr> {
    let db = Database::connect(options(config, 1)).await?;
    let outcome = Migrator::up(&db, None).await;
    db.close().await?;
    outcome
}
