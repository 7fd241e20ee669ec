//! Wake-ups for feed subscribers. The event table is the truth; this only says "look again".
//! Changes made here signal in-process after their request; on PostgreSQL every write
//! transaction also sends `NOTIFY maillage_changes`, delivered at commit to every instance's
//! listener, so subscribers on any instance wake for changes made on any other. The same
//! listener hears `NOTIFY maillage_registry` (sent by the registry version's trigger) and
//! wakes the registry lease's keeper.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::watch;

/// The PostgreSQL channel.
pub const CHANNEL: &str = "maillage_changes";

/// The PostgreSQL channel of registry changes.
pub const REGISTRY_CHANNEL: &str = "maillage_registry";

/// The in-process signal.
#[derive(Debug)]
pub struct FeedSignal {
    tx: watch::Sender<u64>,
    registry: watch::Sender<u64>,
}

impl Default for FeedSignal {
    fn default() -> Self {
        Self {
            tx: watch::channel(0).0,
            registry: watch::channel(0).0,
        }
    }
}

impl FeedSignal {
    /// Wakes every subscriber of this process.
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later [`notify`](Self::notify).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// A receiver that sees every registry change another transaction committed (on
    /// PostgreSQL: [`REGISTRY_CHANNEL`]; never elsewhere).
    pub fn registry_changes(&self) -> watch::Receiver<u64> {
        self.registry.subscribe()
    }

    fn registry_changed(&self) {
        self.registry.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// On PostgreSQL, forwards `NOTIFY` on [`CHANNEL`] (and [`REGISTRY_CHANNEL`]) to this
    /// signal while the signal lives, reconnecting when the connection drops (subscribers poll
    /// meanwhile).
    pub fn listen(self: &Arc<Self>, db: &DatabaseConnection) {
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let pool = db.get_postgres_connection_pool().clone();
        let signal: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener
                            .listen_all([CHANNEL, REGISTRY_CHANNEL])
                            .await
                            .is_ok()
                        {
                            while let Ok(heard) = listener.recv().await {
                                let Some(signal) = signal.upgrade() else {
                                    return;
                                };
                                if heard.channel() == REGISTRY_CHANNEL {
                                    signal.registry_changed();
                                } else {
                                    signal.notify();
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "feed listener cannot connect"),
                }
                // Whatever was missed meanwhile is in the table: wake everyone to look.
                let Some(live) = signal.upgrade() else {
                    return;
                };
                live.notify();
                drop(live);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// Key of the transaction-scoped advisory lock that orders change events.
const FEED_LOCK: i64 = 0x6d61_696c_6c61_6765;

/// Before a write transaction's first change event on PostgreSQL: takes the feed lock, held
/// until commit, so that event ids are assigned in commit order (a reader that sees an event
/// sees every earlier one). SQLite's write transactions are serial already.
pub async fn order_events<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({FEED_LOCK})"),
        ))
        .await?;
    }
    Ok(())
}

/// Inside a write transaction on PostgreSQL: wakes the listeners of every instance when (and
/// only if) it commits.
pub async fn notify_on_commit<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("NOTIFY {CHANNEL}"),
        ))
        .await?;
    }
    Ok(())
}
