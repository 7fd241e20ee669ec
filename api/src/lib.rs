//! Maillage: one GraphQL entry point to the French inter-institutional network.
//!
//! The library exposes [`app`] (the router) and [`serve`]; `main.rs` only parses the
//! configuration and calls them.

pub mod allocator;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod maintenance;
pub mod reference;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use auth::Authenticator;
use config::Limits;

/// Shared application state: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The executable schema and what every operation goes through around it.
    pub graphql: graphql::Executor,
    /// Request limits.
    pub limits: Arc<Limits>,
    /// First day the reference data covers: answers for earlier dates are empty.
    pub coverage_start: Option<NaiveDate>,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The competence catalogue and its legal layers.
    pub catalogue: Arc<domain::competences::Catalogue>,
    /// The registry held in memory at the database's version.
    pub registry: Arc<domain::registry::RegistryCache>,
    /// Wakes change feed subscribers.
    pub feed: Arc<domain::feed_signal::FeedSignal>,
    /// Where this process's writers take turns (SQLite).
    pub write_gate: Arc<domain::unit_of_work::WriteGate>,
    /// Prometheus metrics.
    pub metrics: Arc<http::metrics::Metrics>,
    /// The one clock the domain reads.
    pub clock: clock::Clock,
    /// How long a referral's personal data are kept after its last step.
    pub referral_retention: chrono::Duration,
    /// The change feed's head as tagged public reads ask it, one read for concurrent askers.
    pub feed_head: Arc<domain::shared_read::SharedRead>,
    /// Answers to public reads over GET, kept by entity tag.
    pub response_cache: Arc<http::response_cache::ResponseCache>,
    /// Graceful shutdown: once begun, `/readyz` says so (load balancers stop sending work
    /// while in-flight requests finish) and live subscriptions are closed.
    pub shutdown: Arc<http::shutdown::Shutdown>,
}

impl AppState {
    /// State over `db` (migrated, reference loaded) with `limits`, verifying tokens with `auth`.
    pub async fn load(
        db: DatabaseConnection,
        limits: Limits,
        auth: Authenticator,
    ) -> Result<Self, sea_orm::DbErr> {
        let coverage_start = reference::coverage_start(&db).await?;
        let catalogue = domain::competences::Catalogue::load(&db).await?;
        let feed = Arc::new(domain::feed_signal::FeedSignal::default());
        feed.listen(&db);
        Ok(Self {
            feed: feed.clone(),
            write_gate: Arc::default(),
            catalogue: Arc::new(catalogue),
            registry: Arc::new(domain::registry::RegistryCache::leased(
                true,
                &db,
                feed.registry_changes(),
            )),
            db,
            graphql: graphql::Executor::new(&limits),
            limits: Arc::new(limits),
            coverage_start,
            auth: Arc::new(auth),
            metrics: Arc::default(),
            clock: clock::Clock::system(),
            referral_retention: chrono::Duration::days(i64::from(
                domain::referrals::retention::DEFAULT_RETENTION_DAYS,
            )),
            feed_head: Arc::default(),
            response_cache: Arc::default(),
            shutdown: Arc::default(),
        })
    }
}

impl AppState {
    /// The same state with the in-memory registry on or off (off: every registry read is SQL).
    pub fn with_registry_in_memory(self, enabled: bool) -> Self {
        self.with_registry(enabled, true)
    }

    /// The same state with the in-memory registry on or off, read under a lease or not
    /// (PostgreSQL; off: every query asks the database the registry's version).
    pub fn with_registry(mut self, in_memory: bool, leases: bool) -> Self {
        let cache = if leases {
            domain::registry::RegistryCache::leased(
                in_memory,
                &self.db,
                self.feed.registry_changes(),
            )
        } else {
            domain::registry::RegistryCache::new(in_memory)
        };
        self.registry = Arc::new(cache);
        self
    }

    /// The same state reading `clock` (tests fix the date).
    pub fn with_clock(mut self, clock: clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same state keeping referrals' personal data `days` after their last step.
    pub fn with_referral_retention(mut self, days: u32) -> Self {
        self.referral_retention = chrono::Duration::days(i64::from(days));
        self
    }

    /// The same state keeping at most `bytes` of answers to public reads (0: none).
    pub fn with_response_cache(mut self, bytes: u64) -> Self {
        self.response_cache = Arc::new(http::response_cache::ResponseCache::new(bytes));
        self
    }

    /// Whether `at` falls before the data: questions about such dates get empty answers, on
    /// every path (GraphQL, exports).
    pub fn before_data(&self, at: NaiveDate) -> bool {
        self.coverage_start.is_some_and(|start| at < start)
    }

    /// The registry reads of a request.
    pub fn registry_reads(&self) -> domain::registry::Reads {
        domain::registry::Reads::new(self.db.clone(), self.registry.clone())
    }
}

/// The application router.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// How long live subscriptions get to receive their close frame at shutdown.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting, drains
/// in-flight requests and closes live subscriptions with a close frame.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let lifecycle = state.shutdown.clone();
    let registry = state.registry.clone();
    let begin = lifecycle.clone();
    tokio::spawn(maintenance::run(state.clone()));
    let shutdown = async move {
        shutdown.await;
        begin.begin();
    };
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    if !lifecycle.drained(CLOSE_GRACE).await {
        tracing::warn!("live connections still open after the grace period");
    }
    registry.release().await;
    Ok(())
}
