//! GraphQL over Server-Sent Events (the graphql-sse protocol's "distinct connections" mode):
//! a request with `Accept: text/event-stream` gets one `next` event per result, then
//! `complete`. Subscriptions stream until the client leaves or the server shuts down.

use std::convert::Infallible;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

use super::graphql::prepare;
use crate::AppState;

/// Runs `request` and streams its results as events.
pub(super) async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    client: String,
    request: async_graphql::Request,
    read_only: bool,
) -> Response {
    let (request, context, _) =
        match prepare(state, headers, client, request, true, read_only).await {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
    let id = context.request_id;
    let header = HeaderValue::from_str(&id).ok();
    let results = state
        .graphql
        .streams()
        .execute_stream(request)
        .take_until(state.shutdown.begun())
        .map(move |mut result| {
            for error in &mut result.errors {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("requestId", id.as_str());
            }
            Event::default()
                .event("next")
                .json_data(&result)
                .unwrap_or_else(|_| {
                    Event::default()
                        .event("next")
                        .data(r#"{"errors":[{"message":"unserialisable result"}]}"#)
                })
        })
        .chain(stream::once(async {
            Event::default().event("complete").data("")
        }))
        .map(Ok::<_, Infallible>);
    let mut response = Sse::new(results)
        .keep_alive(KeepAlive::default())
        .into_response();
    if let Some(value) = header {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
