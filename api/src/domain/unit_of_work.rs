//! The one unit of work of every write: a transaction that takes the write lock at once, the
//! idempotency replay of creates, the audit record and change event of each change (in the
//! same transaction), and, once committed, the wake-up of this process's feed subscribers
//! whatever the transport that carried the write (PostgreSQL's `NOTIFY` wakes the others),
//! and the wait until every instance's registry lease has seen it.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use super::audit::{self, Change, WriteContext};
use super::feed_signal::FeedSignal;
use super::idempotency;
use crate::error::AppResult;

/// A write in progress. Use it as the connection of every statement of the write; dropped
/// without [`commit`](Self::commit), everything is rolled back.
pub struct UnitOfWork<'a> {
    // Declared before the turn: the transaction ends before the next writer's turn begins.
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
    ctx: &'a WriteContext,
    db: DatabaseConnection,
}

/// The writers of one SQLite database take turns here, first come first served, before they
/// open their transaction. SQLite lets one writer in at a time, and its busy handler makes the
/// others sleep and retry (1, 2, 5 … 100 ms), holding pooled connections meanwhile: slow,
/// unfair, and under load it runs the pool dry. PostgreSQL writers need no gate.
#[derive(Debug, Default)]
pub struct WriteGate(tokio::sync::Mutex<()>);

/// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
/// so that concurrent writers wait their turn (busy timeout) instead of failing when a read
/// would have to be upgraded; PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

impl<'a> UnitOfWork<'a> {
    /// Begins the write of `ctx`'s actor.
    pub async fn begin(db: &DatabaseConnection, ctx: &'a WriteContext) -> AppResult<Self> {
        let turn = match (&ctx.gate, db.get_database_backend()) {
            (Some(gate), DbBackend::Sqlite) => Some(gate.0.lock().await),
            _ => None,
        };
        Ok(Self {
            txn: begin_write(db).await?,
            _turn: turn,
            ctx,
            db: db.clone(),
        })
    }

    /// Appends the audit record and the change event of `change`.
    pub async fn record(&self, change: Change<'_>) -> AppResult<()> {
        Ok(audit::record(&self.txn, self.ctx, change).await?)
    }

    /// The entity an earlier call of `operation` with `key` (when given) and this input
    /// created, if any; an error if the key was used with another operation or input.
    pub async fn replay(
        &self,
        key: Option<&str>,
        operation: &str,
        hash: &str,
    ) -> AppResult<Option<i64>> {
        let Some(key) = key else { return Ok(None) };
        idempotency::replay(&self.txn, &self.subject(), key, operation, hash).await
    }

    /// Remembers that `operation` with `key` (when given) created `entity_id`.
    pub async fn remember(
        &self,
        key: Option<&str>,
        operation: &str,
        hash: &str,
        entity_id: i64,
    ) -> AppResult<()> {
        let Some(key) = key else { return Ok(()) };
        idempotency::remember(
            &self.txn,
            &self.subject(),
            key,
            operation,
            hash,
            entity_id,
            self.ctx.now,
        )
        .await
    }

    fn subject(&self) -> String {
        self.ctx.actor.subject.clone().unwrap_or_default()
    }

    /// Commits, wakes this process's feed subscribers, and returns once every instance reads
    /// the registry as committed (registry leases, PostgreSQL).
    pub async fn commit(self) -> AppResult<()> {
        self.txn.commit().await?;
        if let Some(feed) = &self.ctx.feed {
            feed.notify();
        }
        // Committed: a failure to wait is no reason to report the write as failed (the
        // leases that missed it end within `LEASE`).
        if let Err(e) = super::registry::wait_for_readers(&self.db).await {
            tracing::warn!(error = %e, "the registry readers were not waited for");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for UnitOfWork<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// The signal a write context wakes, shared with the application state.
pub type Wake = Option<Arc<FeedSignal>>;

/// The gate a write context takes its turn at, shared with the application state.
pub type Gate = Option<Arc<WriteGate>>;
