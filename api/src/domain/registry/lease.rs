//! Registry leases (PostgreSQL): while an instance holds one, it answers registry reads from
//! memory without asking the database its version, and a writer acknowledges a write only
//! once every instance holding a lease has seen it. Reads stay strict (a read that follows an
//! acknowledged write, on any instance, sees it) without a round trip each.
//!
//! Why it holds. An instance renews its lease in one transaction that reads the registry
//! version `FOR SHARE` and records, in `registry_readers`, that version as seen and the lease
//! as running until the transaction's `now()` plus [`LEASE`]; the instance takes the version
//! before the lease, and trusts the lease until the instant it noted *before* the transaction
//! plus `LEASE - MARGIN`. After committing, a writer waits until no running lease has seen
//! less than the version ([`wait_for_readers`]). Take a read from memory after that wait, under
//! a lease renewed by transaction `R`. Either `R` read the version after the write committed,
//! and the instance holds that version; or before, and then `R` committed first (the write's
//! trigger waited for `R`'s share lock), so the writer found `R`'s lease running and waited
//! until the instance said it had seen the write. A write made outside Maillage is seen at
//! the next renewal ([`RENEW_EVERY`]), or at once if that tool calls `wait_for_readers`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sea_orm::sqlx::{self, PgPool};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr};
use tokio::sync::watch;

/// How long a lease runs in the database after the transaction that renews it began.
pub const LEASE: Duration = Duration::from_secs(2);

/// How much sooner an instance stops trusting its lease than the database ends it: room for
/// the drift of the two clocks.
const MARGIN: Duration = Duration::from_millis(500);

/// How often a lease is renewed when no registry write wakes it.
pub const RENEW_EVERY: Duration = Duration::from_millis(250);

/// How often a writer looks again whether the readers caught up.
const POLL: Duration = Duration::from_millis(2);

/// The renewal's first statement: the version, locked against writers until it commits.
const READ_VERSION: &str = "SELECT version FROM registry_version WHERE id = 1 FOR SHARE";

/// The renewal's second statement: the version seen, and the lease.
const RENEW: &str = "INSERT INTO registry_readers (id, seen_version, lease_until) \
     VALUES ($1, $2, now() + make_interval(secs => $3)) \
     ON CONFLICT (id) DO UPDATE SET \
       seen_version = GREATEST(registry_readers.seen_version, EXCLUDED.seen_version), \
       lease_until = EXCLUDED.lease_until";

/// Running leases that have not seen the current version.
const BEHIND: &str = "SELECT count(*) FROM registry_readers r, registry_version v \
     WHERE v.id = 1 AND r.lease_until > now() AND r.seen_version < v.version";

/// Where lease ids come from within one process (several states share a process in tests).
static SERIAL: AtomicU64 = AtomicU64::new(0);

/// This instance's lease.
#[derive(Debug)]
pub struct Lease {
    id: String,
    pool: PgPool,
    origin: Instant,
    /// Nanoseconds after `origin` until which the lease is trusted (0: it is not).
    until: AtomicU64,
    /// The latest registry version this instance knows to be committed.
    seen: AtomicI64,
    released: AtomicBool,
}

impl Lease {
    /// A lease of this process on `db`'s registry, kept by a background task (woken early by
    /// `wake`, the registry's change signal) while the lease lives; none off PostgreSQL.
    pub fn hold(db: &DatabaseConnection, wake: watch::Receiver<u64>) -> Option<Arc<Self>> {
        if db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let lease = Arc::new(Self {
            id: format!(
                "{}-{}-{}",
                std::process::id(),
                since_epoch.as_micros(),
                SERIAL.fetch_add(1, Ordering::Relaxed)
            ),
            pool: db.get_postgres_connection_pool().clone(),
            origin: Instant::now(),
            until: AtomicU64::new(0),
            seen: AtomicI64::new(i64::MIN),
            released: AtomicBool::new(false),
        });
        tokio::spawn(keep(Arc::downgrade(&lease), wake));
        Some(lease)
    }

    /// The registry version to read at, if the lease is running: the latest this instance
    /// saw, which every acknowledged write's is at most.
    pub fn current(&self) -> Option<i64> {
        let until = self.until.load(Ordering::Acquire);
        let now = self.origin.elapsed().as_nanos() as u64;
        (now < until).then(|| self.seen.load(Ordering::Acquire))
    }

    async fn renew(&self) -> Result<(), sqlx::Error> {
        let asked = self.origin.elapsed();
        let mut txn = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar(READ_VERSION)
            .fetch_one(&mut *txn)
            .await?;
        // Known before the database says so, and before the lease is trusted.
        self.seen.fetch_max(version, Ordering::AcqRel);
        sqlx::query(RENEW)
            .bind(&self.id)
            .bind(version)
            .bind(LEASE.as_secs_f64())
            .execute(&mut *txn)
            .await?;
        txn.commit().await?;
        if self.released.load(Ordering::Acquire) {
            return Ok(());
        }
        let until = (asked + LEASE - MARGIN).as_nanos() as u64;
        self.until.store(until, Ordering::Release);
        Ok(())
    }

    /// Gives the lease up (at shutdown): writers stop waiting for this instance, and its
    /// reads ask the database again.
    pub async fn release(&self) {
        self.released.store(true, Ordering::Release);
        self.until.store(0, Ordering::Release);
        let gone = sqlx::query("DELETE FROM registry_readers WHERE id = $1")
            .bind(&self.id)
            .execute(&self.pool)
            .await;
        if let Err(e) = gone {
            tracing::warn!(error = %e, "registry lease not released: writers wait for its end");
        }
    }
}

impl Drop for Lease {
    /// A lease dropped without [`Lease::release`] (a state replaced) is released in the
    /// background, so that writers do not wait for its end.
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (pool, id) = (self.pool.clone(), self.id.clone());
            runtime.spawn(async move {
                let _ = sqlx::query("DELETE FROM registry_readers WHERE id = $1")
                    .bind(id)
                    .execute(&pool)
                    .await;
            });
        }
    }
}

/// Renews `lease` every [`RENEW_EVERY`], and at once when `wake` says the registry changed,
/// until it is dropped. A failed renewal stops trusting it until the next one succeeds.
async fn keep(lease: Weak<Lease>, mut wake: watch::Receiver<u64>) {
    let mut woken = true;
    loop {
        let Some(held) = lease.upgrade() else { return };
        if held.released.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = held.renew().await {
            held.until.store(0, Ordering::Release);
            tracing::warn!(error = %e, "registry lease not renewed: reads ask the version");
        }
        drop(held);
        if woken {
            woken = tokio::select! {
                changed = wake.changed() => changed.is_ok(),
                () = tokio::time::sleep(RENEW_EVERY) => true,
            };
        } else {
            // The signal is gone: renew on time only.
            tokio::time::sleep(RENEW_EVERY).await;
        }
    }
}

/// Waits until every running lease has seen the registry's current version, so that a write
/// committed before the call is read by every instance once this returns. At most about
/// [`LEASE`]: a lease that is renewed sees the version, one that is not runs out. Immediate
/// off PostgreSQL and when every lease is current.
pub async fn wait_for_readers(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let pool = db.get_postgres_connection_pool();
    let deadline = Instant::now() + LEASE + Duration::from_secs(1);
    loop {
        let behind: i64 = sqlx::query_scalar(BEHIND)
            .fetch_one(pool)
            .await
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))?;
        if behind == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            tracing::warn!(
                behind,
                "registry readers still behind after their leases' end"
            );
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}
