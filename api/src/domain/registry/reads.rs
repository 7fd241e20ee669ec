//! Where the API's registry reads are answered: from the in-memory registry when it is at the
//! database's current `registry_version` (one small read tells, shared by concurrent readers:
//! [`SharedRead`]), by SQL otherwise,
//! while a new copy is built in the background. Writers need not know: triggers advance the
//! version in the writing transaction, so a read that follows an acknowledged write, on any
//! instance, never sees the copy from before it. On PostgreSQL, a registry lease spares the
//! version's read while it runs ([`super::lease`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use entity::{OrganisationKind, succession};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DbErr, RuntimeErr, Statement,
};

use super::lease::Lease;
use super::memory::{self, MemoryRegistry};
use super::{
    Direction, MembershipWith, Organisation, OrganisationFilter, OrganisationOrder,
    OrganisationPage,
};
use crate::domain::shared_read::SharedRead;
use crate::error::{AppError, AppResult};

/// The statement that reads the registry version.
const VERSION: &str = "SELECT version FROM registry_version WHERE id = 1";

/// The database's registry version (advanced by every change to the registry's tables).
pub async fn version<C: ConnectionTrait>(db: &C) -> AppResult<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), VERSION))
        .await?;
    Ok(row.ok_or_else(no_version)?.try_get_by_index(0)?)
}

/// [`version`] on a pool, read by sqlx directly: nearly every request reads it, and
/// sea-orm's statement future is large enough that copying it on each await was a tenth of
/// a small query's instructions. Errors go through the same mapping as sea-orm's.
async fn pool_version(db: &DatabaseConnection) -> AppResult<i64> {
    use sea_orm::sqlx;
    let read: Result<Option<i64>, sqlx::Error> = match &db.inner {
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            sqlx::query_scalar(VERSION)
                .fetch_optional(db.get_sqlite_connection_pool())
                .await
        }
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            sqlx::query_scalar(VERSION)
                .fetch_optional(db.get_postgres_connection_pool())
                .await
        }
        _ => return version(db).await,
    };
    let read = read.map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))?;
    read.ok_or_else(no_version)
}

fn no_version() -> AppError {
    tracing::error!("registry_version has no row");
    AppError::Internal
}

/// Least time between two builds: a stream of registry writes costs one build a second at
/// most (reads go to SQL meanwhile).
const MIN_REBUILD_INTERVAL: Duration = Duration::from_secs(1);

/// The in-memory registry of this process, kept at the database's version.
#[derive(Debug)]
pub struct RegistryCache {
    enabled: bool,
    lease: Option<Arc<Lease>>,
    checks: SharedRead,
    held: RwLock<Option<Arc<MemoryRegistry>>>,
    building: AtomicBool,
    last_build: RwLock<Option<Instant>>,
    builds: AtomicU64,
    memory_reads: AtomicU64,
    sql_reads: AtomicU64,
}

impl RegistryCache {
    /// A cache; when not `enabled`, every read goes to SQL.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            lease: None,
            checks: SharedRead::default(),
            held: RwLock::new(None),
            building: AtomicBool::new(false),
            last_build: RwLock::new(None),
            builds: AtomicU64::new(0),
            memory_reads: AtomicU64::new(0),
            sql_reads: AtomicU64::new(0),
        }
    }

    /// A cache that, when `enabled` on PostgreSQL, holds a registry lease (renewed at once
    /// when `changes` says the registry changed): its reads then need no version check.
    pub fn leased(
        enabled: bool,
        db: &DatabaseConnection,
        changes: tokio::sync::watch::Receiver<u64>,
    ) -> Self {
        let mut cache = Self::new(enabled);
        if enabled {
            cache.lease = Lease::hold(db, changes);
        }
        cache
    }

    /// Whether reads are answered under a running lease, without a version check.
    pub fn lease_running(&self) -> bool {
        self.lease.as_ref().is_some_and(|l| l.current().is_some())
    }

    /// Gives the lease up, if any (at shutdown: writers stop waiting for this instance).
    pub async fn release(&self) {
        if let Some(lease) = &self.lease {
            lease.release().await;
        }
    }

    fn held(&self) -> Option<Arc<MemoryRegistry>> {
        self.held.read().ok().and_then(|h| h.clone())
    }

    /// The in-memory registry if it is the database's current version; otherwise none, and
    /// a build starts in the background.
    async fn current(
        self: &Arc<Self>,
        db: &DatabaseConnection,
    ) -> AppResult<Option<Arc<MemoryRegistry>>> {
        if !self.enabled {
            return Ok(None);
        }
        let now = match self.lease.as_ref().and_then(|l| l.current()) {
            Some(seen) => seen,
            None => self.checks.shared(|| pool_version(db)).await?,
        };
        // A copy newer than the lease's version (built since) has every write it has.
        match self.held().filter(|h| h.version >= now) {
            Some(held) => {
                self.memory_reads.fetch_add(1, Ordering::Relaxed);
                Ok(Some(held))
            }
            None => {
                self.sql_reads.fetch_add(1, Ordering::Relaxed);
                self.rebuild(db);
                Ok(None)
            }
        }
    }

    /// Starts a build unless one runs or one started less than a second ago.
    fn rebuild(self: &Arc<Self>, db: &DatabaseConnection) {
        let recent = self
            .last_build
            .read()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|l| l.elapsed() < MIN_REBUILD_INTERVAL);
        if recent || self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            if let Err(e) = cache.build(&db).await {
                tracing::warn!(error = %e, "the in-memory registry was not rebuilt");
            }
            cache.building.store(false, Ordering::Release);
        });
    }

    async fn build(&self, db: &DatabaseConnection) -> AppResult<()> {
        if let Ok(mut last) = self.last_build.write() {
            *last = Some(Instant::now());
        }
        let started = Instant::now();
        let built = memory::load(db).await?;
        tracing::info!(
            version = built.version,
            ms = started.elapsed().as_millis() as u64,
            "in-memory registry built"
        );
        self.builds.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut held) = self.held.write()
            && held.as_ref().is_none_or(|h| h.version < built.version)
        {
            *held = Some(Arc::new(built));
        }
        Ok(())
    }

    /// Builds the in-memory registry now unless it is current (start-up, tests).
    pub async fn warm(&self, db: &DatabaseConnection) -> AppResult<()> {
        if !self.enabled {
            return Ok(());
        }
        let now = version(db).await?;
        if self.held().is_some_and(|h| h.version == now) {
            return Ok(());
        }
        self.build(db).await
    }

    /// Version checks sent to the database so far (each shared by the requests that arrived
    /// before it was sent).
    pub fn version_checks(&self) -> u64 {
        self.checks.sent()
    }

    /// Builds so far, and reads answered from memory and by SQL (for metrics).
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.builds.load(Ordering::Relaxed),
            self.memory_reads.load(Ordering::Relaxed),
            self.sql_reads.load(Ordering::Relaxed),
        )
    }
}

/// One version for every read of a request, while `allowed` says so.
struct Pin {
    allowed: Box<dyn Fn() -> bool + Send + Sync>,
    held: tokio::sync::OnceCell<Option<Arc<MemoryRegistry>>>,
}

/// The registry reads of the API, each answered from memory or by SQL (see the module).
#[derive(Clone)]
pub struct Reads {
    db: DatabaseConnection,
    cache: Arc<RegistryCache>,
    pin: Option<Arc<Pin>>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reads")
            .field("pinned", &self.pin.is_some())
            .finish_non_exhaustive()
    }
}

impl Reads {
    /// Reads over `db` through `cache`, each checking the version.
    pub fn new(db: DatabaseConnection, cache: Arc<RegistryCache>) -> Self {
        Self {
            db,
            cache,
            pin: None,
        }
    }

    /// Reads that check the version once, at the first read, and answer every later one at
    /// that version (a consistent view, one statement) — while `allowed` holds: a request
    /// that writes must not read its own writes from a copy taken before them.
    pub fn pinned(
        db: DatabaseConnection,
        cache: Arc<RegistryCache>,
        allowed: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        let pin = Pin {
            allowed: Box::new(allowed),
            held: tokio::sync::OnceCell::new(),
        };
        Self {
            db,
            cache,
            pin: Some(Arc::new(pin)),
        }
    }

    async fn memory(&self) -> AppResult<Option<Arc<MemoryRegistry>>> {
        match &self.pin {
            Some(pin) if (pin.allowed)() => pin
                .held
                .get_or_try_init(|| self.cache.current(&self.db))
                .await
                .cloned(),
            _ => self.cache.current(&self.db).await,
        }
    }

    /// The in-memory registry these reads are pinned to, once the first read chose it (and
    /// while pinning is allowed): what a later read of the request answers from, without
    /// waiting. None before the first read, or when reads go to SQL.
    fn at_hand(&self) -> Option<&MemoryRegistry> {
        let pin = self.pin.as_ref()?;
        if !(pin.allowed)() {
            return None;
        }
        pin.held.get()?.as_deref()
    }

    /// [`Reads::by_ids`] of one organisation, when the answer is at hand in memory (none:
    /// ask `by_ids`). Loaders answer from here without gathering a batch: with no query to
    /// share, a batch would only cost a yield and a channel per key.
    pub fn organisation_at_hand(&self, id: i64) -> Option<Option<Arc<Organisation>>> {
        self.at_hand().map(|m| m.shared(id))
    }

    /// [`Reads::memberships_of`] of one member, when at hand in memory (as
    /// [`Reads::organisation_at_hand`]).
    pub fn memberships_at_hand(
        &self,
        member: i64,
        at: Option<NaiveDate>,
    ) -> Option<Vec<MembershipWith>> {
        self.at_hand().map(|m| m.memberships_of_member(member, at))
    }

    /// The declared assignments in effect at `at` (of `competence` when given) with their
    /// scopes, from memory; none when the memory is not current (the caller reads SQL).
    pub async fn declared_in_effect(
        &self,
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Option<memory::Found>> {
        Ok(self
            .memory()
            .await?
            .map(|m| m.declared.in_effect(at, competence)))
    }

    /// The declared assignments in effect at `at` that can cover `commune` (whose groups,
    /// itself included, are `groups`), from memory; none when the memory is not current.
    pub async fn declared_of_commune(
        &self,
        commune: i64,
        groups: &[i64],
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Option<memory::Found>> {
        Ok(self
            .memory()
            .await?
            .map(|m| m.declared.of_commune(commune, groups, at, competence)))
    }

    /// Organisations by id, in no particular order.
    pub async fn by_ids(&self, ids: &[i64]) -> AppResult<Vec<Organisation>> {
        match self.memory().await? {
            Some(m) => Ok(m.by_ids(ids)),
            None => super::by_ids(&self.db, ids).await,
        }
    }

    /// The organisation with INSEE code `code` at `at`.
    pub async fn by_insee_code(
        &self,
        code: &str,
        kind: Option<OrganisationKind>,
        at: NaiveDate,
    ) -> AppResult<Option<Organisation>> {
        match self.memory().await? {
            Some(m) => m.by_insee_code(code, kind, at),
            None => super::by_insee_code(&self.db, code, kind, at).await,
        }
    }

    /// The organisation with SIREN `siren` at `at`.
    pub async fn by_siren(
        &self,
        siren: &str,
        kind: Option<OrganisationKind>,
        at: NaiveDate,
    ) -> AppResult<Option<Organisation>> {
        match self.memory().await? {
            Some(m) => m.by_siren(siren, kind, at),
            None => super::by_siren(&self.db, siren, kind, at).await,
        }
    }

    /// The organisation the law data added under `source` (`law:KEY`), valid at `at`.
    pub async fn by_source(&self, source: &str, at: NaiveDate) -> AppResult<Option<Organisation>> {
        match self.memory().await? {
            Some(m) => Ok(m.by_source(source, at)),
            None => super::by_source(&self.db, source, at).await,
        }
    }

    /// The State services serving each of `territories` (départements, régions) at `at`.
    pub async fn state_services_serving(
        &self,
        territories: &[Organisation],
        at: NaiveDate,
    ) -> AppResult<Vec<Organisation>> {
        match self.memory().await? {
            Some(m) => Ok(m.state_services_serving(territories, at)),
            None => super::state_services_serving(&self.db, territories, at).await,
        }
    }

    /// The memberships of each member (valid at `at` when given), with their group.
    pub async fn memberships_of(
        &self,
        member_ids: &[i64],
        at: Option<NaiveDate>,
    ) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
        match self.memory().await? {
            Some(m) => Ok(m.memberships_of(member_ids, at)),
            None => super::memberships_of(&self.db, member_ids, at).await,
        }
    }

    /// The members of each group valid at `at`, by folded name.
    pub async fn members_of(
        &self,
        group_ids: &[i64],
        at: NaiveDate,
        kinds: &[OrganisationKind],
    ) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
        match self.memory().await? {
            Some(m) => Ok(m.members_of(group_ids, at, kinds)),
            None => super::members_of(&self.db, group_ids, at, kinds).await,
        }
    }

    /// The successions of each organisation, with the organisation at the other end.
    pub async fn successions_of(
        &self,
        ids: &[i64],
        direction: Direction,
    ) -> AppResult<HashMap<i64, Vec<(succession::Model, Organisation)>>> {
        match self.memory().await? {
            Some(m) => Ok(m.successions_of(ids, direction)),
            None => super::successions_of(&self.db, ids, direction).await,
        }
    }

    /// A page of organisations in the given order, after `after`.
    pub async fn list(
        &self,
        filter: &OrganisationFilter,
        order: OrganisationOrder,
        at: NaiveDate,
        first: usize,
        after: Option<&str>,
    ) -> AppResult<OrganisationPage> {
        match self.memory().await? {
            Some(m) => m.list(filter, order, at, first, after),
            None => super::list(&self.db, filter, order, at, first, after).await,
        }
    }

    /// How many organisations match.
    pub async fn count(&self, filter: &OrganisationFilter, at: NaiveDate) -> AppResult<u64> {
        match self.memory().await? {
            Some(m) => Ok(m.count(filter, at)),
            None => super::count(&self.db, filter, at).await,
        }
    }

    /// Organisations matching a search text, best first.
    pub async fn search(
        &self,
        text: &str,
        kinds: &[OrganisationKind],
        first: usize,
        at: NaiveDate,
    ) -> AppResult<Vec<Organisation>> {
        match self.memory().await? {
            Some(m) => m.search(text, kinds, first, at),
            None => super::search(&self.db, text, kinds, first, at).await,
        }
    }
}
