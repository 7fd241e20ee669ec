//! The HTTP surface: `/graphql` (GraphQL over HTTP, WebSocket and SSE; GraphiQL for
//! browsers), `/export/*`, `/charts/indicators/*`, `/healthz`, `/readyz`, `/metrics`, and what they share: request
//! ids, authentication, the client's address.

mod caching;
mod charts;
mod export;
mod graphiql;
mod graphql;
pub mod metrics;
pub mod response_cache;
pub mod shutdown;
mod sse;
pub mod websocket;
mod wire;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::AppState;
use crate::auth::{Actor, Claims};
use crate::error::{AppError, AppResult};
use crate::graphql::ids::{self, NodeType};

/// The application router.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql/{version}/{file}", get(graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/export/{file}", get(export::export))
        .route("/charts/indicators/{file}", get(charts::indicator))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .with_state(state)
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A request id unique across restarts and instances: start time, process, counter.
fn request_id() -> String {
    static EPOCH: OnceLock<String> = OnceLock::new();
    let epoch = EPOCH.get_or_init(|| {
        format!(
            "{:x}{:x}",
            Utc::now().timestamp_micros(),
            std::process::id()
        )
    });
    format!("{epoch}-{:x}", REQUESTS.fetch_add(1, Ordering::Relaxed))
}

/// The 401 answer to a presented but invalid token: no detail that helps an attacker.
fn unauthenticated(request_id: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": "invalid credentials",
            "extensions": { "code": "UNAUTHENTICATED", "requestId": request_id }
        }]
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// A failure before execution (the database unreachable while authenticating): its code and
/// the request id, with the matching status.
fn failure(error: &AppError, request_id: &str) -> Response {
    let status = match error {
        AppError::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({
        "errors": [{
            "message": error.to_string(),
            "extensions": { "code": error.code(), "requestId": request_id }
        }]
    });
    (status, axum::Json(body)).into_response()
}

/// The actor of a request: anonymous without `Authorization`; `Unauthenticated` for a bad
/// token; a database failure while resolving its organisation stays what it is.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> AppResult<Actor> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Actor::anonymous());
    };
    let value = value.to_str().map_err(|_| AppError::Unauthenticated)?;
    let claims = state.auth.verify_header(value).map_err(|e| {
        tracing::debug!(error = %e, "token refused");
        AppError::Unauthenticated
    })?;
    actor_from_claims(state, &claims).await
}

/// Resolves the organisation the claims name (SIREN or global ID) to the registry's row; a
/// malformed reference makes the token invalid.
pub(crate) async fn actor_from_claims(state: &AppState, claims: &Claims) -> AppResult<Actor> {
    let today = state.clock.today();
    let claim_error = |e: AppError| match e {
        AppError::BadUserInput { .. } => AppError::Unauthenticated,
        other => other,
    };
    let organisation_id = match claims.organisation_ref() {
        None => None,
        Some(r) if r.len() == 9 && r.bytes().all(|b| b.is_ascii_digit()) => state
            .registry_reads()
            .by_siren(&r, None, today)
            .await
            .map_err(claim_error)?
            .map(|o| o.id),
        Some(r) => {
            let id = ids::decode_as("org", &r, NodeType::Organisation).map_err(claim_error)?;
            state
                .registry_reads()
                .by_ids(&[id])
                .await?
                .first()
                .map(|o| o.id)
        }
    };
    // The mandates in force now: a revocation takes effect from the next request.
    let mandates = match organisation_id {
        Some(org) => crate::domain::mandates::held_by(&state.db, org, state.clock.now()).await?,
        None => Default::default(),
    };
    Ok(Actor {
        subject: Some(claims.sub.clone()),
        organisation_id,
        roles: claims.roles(),
        mandates,
    })
}

/// The client's address as the listener saw it (not a forwarded header anyone can forge);
/// `local` when the router runs in-process.
fn client_of(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect.map_or_else(|| "local".to_owned(), |c| c.0.0.ip().to_string())
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match crate::domain::referrals::overdue_count(&state.db, state.clock.now()).await {
        Ok(n) => state.metrics.set_referrals_overdue(n),
        Err(e) => tracing::warn!(error = %e, "overdue referrals could not be counted"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&state.db, &state.registry),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.has_begun() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match crate::reference::is_loaded(&state.db).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "reference not loaded").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}
