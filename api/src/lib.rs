//! Maillage: one GraphQL entry point to the French inter-institutional network.
//!
//! The library exposes [`app`] (the router) and [`serve`]; `main.rs` only parses the
//! configuration and calls them.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod reference;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use auth::Authenticator;
use config::Limits;
use graphql::AppSchema;

/// Shared application state: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The executable schema.
    pub schema: AppSchema,
    /// Request limits.
    pub limits: Arc<Limits>,
    /// First day the reference data covers: answers for earlier dates are empty.
    pub coverage_start: Option<NaiveDate>,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The competence catalogue and its legal layers.
    pub catalogue: Arc<domain::competences::Catalogue>,
    /// Recently resolved communes and their groups.
    pub chains: Arc<domain::competences::ChainCache>,
    /// Wakes change feed subscribers.
    pub feed: Arc<domain::feed_signal::FeedSignal>,
    /// Prometheus metrics.
    pub metrics: Arc<http::metrics::Metrics>,
    /// Set once shutdown has begun: `/readyz` then says so, so that load balancers stop
    /// sending work while in-flight requests finish.
    pub shutting_down: Arc<std::sync::atomic::AtomicBool>,
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
            feed,
            catalogue: Arc::new(catalogue),
            chains: Arc::default(),
            db,
            schema: graphql::build_schema(&limits),
            limits: Arc::new(limits),
            coverage_start,
            auth: Arc::new(auth),
            metrics: Arc::default(),
            shutting_down: Arc::default(),
        })
    }
}

/// The application router.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let draining = state.shutting_down.clone();
    let shutdown = async move {
        shutdown.await;
        draining.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
