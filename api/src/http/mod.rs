//! The HTTP surface: `/graphql` (POST; GET serves GraphiQL to browsers and runs queries
//! otherwise), `/healthz`, `/readyz`.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::AppState;
use crate::graphql::context::RequestContext;
use crate::graphql::loaders::Loaders;

/// The application router.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .with_state(state)
}

async fn execute(state: &AppState, request: async_graphql::Request) -> GraphQLResponse {
    let request = request
        .data(state.clone())
        .data(Loaders::new(&state.db))
        .data(RequestContext {
            today: Utc::now().date_naive(),
        });
    state.schema.execute(request).await.into()
}

async fn graphql_post(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    execute(&state, request.into_inner()).await
}

async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match request {
        Ok(request) if !wants_html => execute(&state, request.into_inner()).await.into_response(),
        _ => Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Maillage")
                .finish(),
        )
        .into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match crate::reference::is_loaded(&state.db).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "reference not loaded").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}
