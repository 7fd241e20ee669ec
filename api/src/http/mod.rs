//! The HTTP surface: `/graphql` (POST; GET serves GraphiQL to browsers and runs queries
//! otherwise), `/export/*`, `/healthz`, `/readyz`, `/metrics`.

mod export;
pub mod metrics;

use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::Extension;
use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::parser::types::OperationType;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::AppState;
use crate::auth::{Actor, Claims};
use crate::domain::registry;
use crate::error::{AppError, AppResult};
use crate::graphql::context::RequestContext;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::loaders::Loaders;

/// The application router.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/export/{file}", get(export::export))
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
    let today = Utc::now().date_naive();
    let claim_error = |e: AppError| match e {
        AppError::BadUserInput { .. } => AppError::Unauthenticated,
        other => other,
    };
    let organisation_id = match claims.organisation_ref() {
        None => None,
        Some(r) if r.len() == 9 && r.bytes().all(|b| b.is_ascii_digit()) => {
            registry::by_siren(&state.db, &r, None, today)
                .await
                .map_err(claim_error)?
                .map(|o| o.id)
        }
        Some(r) => {
            let id = ids::decode_as("org", &r, NodeType::Organisation).map_err(claim_error)?;
            registry::by_ids(&state.db, &[id])
                .await?
                .first()
                .map(|o| o.id)
        }
    };
    Ok(Actor {
        subject: Some(claims.sub.clone()),
        organisation_id,
        roles: claims.roles(),
    })
}

/// The client's address as the listener saw it (not a forwarded header anyone can forge);
/// `local` when the router runs in-process.
fn client_of(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    connect.map_or_else(|| "local".to_owned(), |c| c.0.0.ip().to_string())
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    client: String,
    request: async_graphql::Request,
) -> Response {
    let id = request_id();
    let actor = match authenticate(state, headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => return unauthenticated(&id),
        Err(other) => return failure(&other, &id),
    };
    let request = request
        .data(state.clone())
        .data(Loaders::new(&state.db, &state.catalogue))
        .data(RequestContext {
            today: Utc::now().date_naive(),
            actor,
            request_id: id.clone(),
            client,
        });
    let (mutation, named) = operation_of(&request.query);
    let operation = request.operation_name.clone().or(named);
    let started = std::time::Instant::now();
    let mut result = state.schema.execute(request).await;
    let outcome = result
        .errors
        .first()
        .and_then(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .unwrap_or_else(|| {
            if result.errors.is_empty() {
                "ok"
            } else {
                "GRAPHQL_ERROR"
            }
            .to_owned()
        });
    let cost = match result.extensions.get("cost") {
        Some(async_graphql::Value::Object(c)) => match c.get("requested") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        },
        _ => None,
    };
    state.metrics.observe(metrics::Observation {
        operation: operation.as_deref(),
        outcome: &outcome,
        elapsed: started.elapsed(),
        cost,
    });
    if mutation {
        // Subscribers here look again at once (other instances hear PostgreSQL's NOTIFY).
        state.feed.notify();
    }
    // Every error carries the request id, so that a report can be matched with the logs.
    for error in &mut result.errors {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("requestId", id.as_str());
    }
    let retry_after = result.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        match ext.get("code") {
            Some(async_graphql::Value::String(code)) if code == "RATE_LIMITED" => {
                Some(ext.get("retryAfter").map(|v| v.to_string()))
            }
            _ => None,
        }
    });
    let mut response = GraphQLResponse::from(result).into_response();
    if let Some(retry_after) = retry_after {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn graphql_post(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    execute(&state, &headers, client_of(connect), request.into_inner()).await
}

/// Whether a document holds a mutation, and the name of its operation when it has one named
/// operation (what metrics label it with when the client sends no `operationName`).
fn operation_of(query: &str) -> (bool, Option<String>) {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return (false, None);
    };
    let mutation = doc
        .operations
        .iter()
        .any(|(_, op)| op.node.ty == OperationType::Mutation);
    let name = match &doc.operations {
        async_graphql::parser::types::DocumentOperations::Single(_) => None,
        async_graphql::parser::types::DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|n| n.to_string())
        }
        async_graphql::parser::types::DocumentOperations::Multiple(_) => None,
    };
    (mutation, name)
}

/// Whether a document holds a mutation (refused over GET, which must stay safe).
fn has_mutation(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation)
    })
}

/// The `connection_init` payload's token: `Authorization` (or `authorization`) with a
/// `Bearer` value, or a bare `authToken`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    for key in ["Authorization", "authorization"] {
        if let Some(v) = payload.get(key) {
            return Some(v.as_str().unwrap_or("").to_owned());
        }
    }
    payload
        .get("authToken")
        .map(|t| format!("Bearer {}", t.as_str().unwrap_or("")))
}

/// GraphQL over WebSocket (graphql-transport-ws and the older graphql-ws): the token travels
/// in `connection_init`, under the same rules as the `Authorization` header.
fn websocket(
    state: AppState,
    client: String,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let actor = match init_token(&payload) {
                        None => Actor::anonymous(),
                        Some(value) => {
                            let claims = state
                                .auth
                                .verify_header(&value)
                                .map_err(|_| async_graphql::Error::new("invalid credentials"))?;
                            actor_from_claims(&state, &claims)
                                .await
                                .map_err(|e| async_graphql::Error::new(e.to_string()))?
                        }
                    };
                    let mut data = async_graphql::Data::default();
                    data.insert(Loaders::new(&state.db, &state.catalogue));
                    data.insert(RequestContext {
                        today: Utc::now().date_naive(),
                        actor,
                        request_id: request_id(),
                        client,
                    });
                    data.insert(state);
                    Ok(data)
                })
                .serve()
        })
}

async fn graphql_get(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if let (Ok(upgrade), Ok(protocol)) = (upgrade, protocol) {
        return websocket(state, client_of(connect), protocol, upgrade);
    }
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match request {
        Ok(request) if !wants_html => {
            let request = request.into_inner();
            if has_mutation(&request.query) {
                let body = serde_json::json!({
                    "errors": [{ "message": "mutations are not allowed over GET: use POST",
                                 "extensions": { "code": "METHOD_NOT_ALLOWED" } }]
                });
                let mut response =
                    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                return response;
            }
            execute(&state, &headers, client_of(connect), request).await
        }
        _ => Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Maillage")
                .finish(),
        )
        .into_response(),
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&state.db),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutting_down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match crate::reference::is_loaded(&state.db).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "reference not loaded").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response(),
    }
}
