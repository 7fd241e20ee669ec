//! The `/graphql` endpoint over HTTP: POST runs any operation, GET runs queries (and serves
//! GraphiQL to browsers, and WebSocket upgrades), `Accept: text/event-stream` streams.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::caching;
use super::wire::{self, Media};
use super::{
    AppError, authenticate, client_of, failure, metrics, request_id, sse, unauthenticated,
    websocket,
};
use crate::AppState;
use crate::graphql::context::RequestContext;
use crate::graphql::guard::OperationSlot;
use crate::graphql::loaders::Loaders;

/// A request ready to run: its caller authenticated, its context attached (or the answer
/// that refuses it), with copies of that context and of the slot its operation is recorded
/// in. A stream's loaders keep nothing between its results; a read-only request (GET)
/// refuses mutations.
pub(super) async fn prepare(
    state: &AppState,
    headers: &HeaderMap,
    client: String,
    request: async_graphql::Request,
    stream: bool,
    read_only: bool,
) -> Result<(async_graphql::Request, RequestContext, OperationSlot), Response> {
    let id = request_id();
    let actor = match authenticate(state, headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => return Err(unauthenticated(&id)),
        Err(other) => return Err(failure(&other, &id)),
    };
    let slot = OperationSlot {
        read_only,
        requested: request.operation_name.clone(),
        info: Default::default(),
    };
    let loaders = if stream {
        Loaders::uncached(state, &actor)
    } else {
        Loaders::new(state, &slot, &actor)
    };
    let context = RequestContext::new(state, actor, id, client);
    let request = request
        .data(state.clone())
        .data(loaders)
        .data(slot.clone())
        .data(context.clone());
    Ok((request, context, slot))
}

/// Whether the client asks for a stream of events (GraphQL over SSE).
fn wants_events(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// The code of the first error, or `ok`.
fn outcome_of(result: &async_graphql::Response) -> String {
    match result.errors.first() {
        None => "ok".to_owned(),
        Some(e) => match e.extensions.as_ref().and_then(|x| x.get("code")) {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => "GRAPHQL_ERROR".to_owned(),
        },
    }
}

/// The cost charged, read from `extensions.cost`.
fn cost_of(result: &async_graphql::Response) -> Option<u64> {
    match result.extensions.get("cost") {
        Some(async_graphql::Value::Object(c)) => match c.get("requested") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        },
        _ => None,
    }
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    client: String,
    request: async_graphql::Request,
    read_only: bool,
) -> Response {
    execute_with_outcome(state, headers, client, request, read_only, false)
        .await
        .0
}

/// [`execute`], also saying the outcome (`ok`, or the first error's code). A `shared` answer
/// (kept and served to anyone) leaves out `extensions`: they tell the caller what its request
/// cost and what it has left, which is nobody else's business.
async fn execute_with_outcome(
    state: &AppState,
    headers: &HeaderMap,
    client: String,
    request: async_graphql::Request,
    read_only: bool,
    shared: bool,
) -> (Response, String) {
    let media = Media::negotiate(headers);
    let (request, context, slot) =
        match prepare(state, headers, client, request, false, read_only).await {
            Ok(prepared) => prepared,
            Err(refusal) => return (refusal, "UNAUTHENTICATED".into()),
        };
    let id = context.request_id.clone();
    let started = Instant::now();
    // What is logged while the request runs (a database error, say) names it.
    let span = tracing::info_span!("request", id = %id);
    let answer = state
        .graphql
        .execute(request, &slot, &context)
        .instrument(span.clone())
        .await;
    let (mut result, direct) = (answer.response, answer.data);
    let outcome = outcome_of(&result);
    let operation = slot.get();
    span.in_scope(|| {
        tracing::debug!(
            operation = operation.name.as_deref().unwrap_or("unnamed"),
            outcome = %outcome,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "graphql request"
        );
    });
    if direct.is_some() {
        state.metrics.direct_answer();
    }
    state.metrics.observe(metrics::Observation {
        operation: operation.name.as_deref(),
        outcome: &outcome,
        elapsed: started.elapsed(),
        cost: cost_of(&result),
    });
    if shared {
        result.extensions.clear();
    }
    let retry_after = result.errors.first().and_then(|e| {
        let ext = e.extensions.as_ref()?;
        ext.get("retryAfter").map(|v| v.to_string())
    });
    let status = match outcome.as_str() {
        "RATE_LIMITED" => Some(StatusCode::TOO_MANY_REQUESTS),
        "METHOD_NOT_ALLOWED" => Some(StatusCode::METHOD_NOT_ALLOWED),
        _ => None,
    };
    let mut response = wire::respond(result, direct, media, status);
    let h = response.headers_mut();
    match outcome.as_str() {
        "RATE_LIMITED" => {
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        "METHOD_NOT_ALLOWED" => {
            h.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", value);
    }
    (response, outcome)
}

/// `POST /graphql`.
pub(super) async fn post(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match wire::from_post(&headers, &body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(Media::negotiate(&headers), &request_id()),
    };
    if wants_events(&headers) {
        return sse::respond(&state, &headers, client_of(connect), request, false).await;
    }
    execute(&state, &headers, client_of(connect), request, false).await
}

/// `GET /graphql`.
pub(super) async fn get(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    if let (Ok(upgrade), Some(protocol)) = (upgrade, websocket::protocol_of(&headers)) {
        return websocket::upgrade(state, client_of(connect), protocol, upgrade);
    }
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if browser || query.as_deref().is_none_or(str::is_empty) {
        return super::graphiql::page();
    }
    let request = match wire::from_get(query.as_deref()) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(Media::negotiate(&headers), &request_id()),
    };
    if wants_events(&headers) {
        return sse::respond(&state, &headers, client_of(connect), request, true).await;
    }
    let query = query.unwrap_or_default();
    // A public read is tagged (and looked up) once the same request has been answered
    // without error: what fails or is refused never costs a database read here.
    let policy = if headers.contains_key(header::AUTHORIZATION) {
        caching::Policy::Private
    } else if state.response_cache.proven(&query) {
        match caching::policy(&state, &headers, &query).await {
            Ok(policy) => policy,
            Err(e) => return failure(&e, &request_id()),
        }
    } else {
        caching::Policy::Unproven
    };
    if let caching::Policy::Public(tag) = &policy {
        if caching::still_valid(&headers, tag) {
            state.metrics.not_modified();
            return caching::not_modified(tag, &request_id());
        }
        if let Some(kept) = state.response_cache.get(tag) {
            state.metrics.response_cache(true);
            let mut response = kept.into_response();
            caching::stamp(&mut response, &policy);
            if let Ok(id) = HeaderValue::from_str(&request_id()) {
                response.headers_mut().insert("x-request-id", id);
            }
            return response;
        }
        if state.response_cache.enabled() {
            state.metrics.response_cache(false);
        }
    }
    let shared = matches!(policy, caching::Policy::Public(_));
    let (mut response, outcome) =
        execute_with_outcome(&state, &headers, client_of(connect), request, true, shared).await;
    caching::stamp(&mut response, &policy);
    let complete = response.status() == StatusCode::OK && outcome == "ok";
    match &policy {
        caching::Policy::Unproven if complete => {
            state.response_cache.prove(&query);
            response
        }
        caching::Policy::Public(tag) if complete => state.response_cache.keep(tag, response).await,
        _ => response,
    }
}
