//! GraphQL over WebSocket (graphql-transport-ws and the older graphql-ws).
//!
//! The token travels in `connection_init`, under the same rules as the `Authorization`
//! header. The connection is served by our own loop rather than the adapter's so that the
//! server can end it with a proper close frame: at shutdown (1001, going away) and when the
//! client stops reading (1013, try again later). Memory per connection stays bounded either
//! way: subscriptions are pulled one message at a time, only as fast as the socket drains.

use std::time::Duration;

use std::str::FromStr;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as Protocol, WebSocketProtocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::Utc;
use futures_util::{SinkExt, StreamExt, future};

use super::{actor_from_claims, request_id};
use crate::AppState;
use crate::auth::Actor;
use crate::graphql::context::RequestContext;
use crate::graphql::loaders::Loaders;

/// Close code at shutdown (RFC 6455: going away).
pub const GOING_AWAY: u16 = 1001;
/// Close code for a subscriber too slow to keep up (RFC 6455: try again later).
pub const TRY_AGAIN_LATER: u16 = 1013;
/// How long a close frame may take to leave once the connection is being closed.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

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

/// The data of a connection once `connection_init` is accepted.
async fn connection_data(
    state: AppState,
    client: String,
    payload: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
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
    data.insert(Loaders::uncached(&state));
    data.insert(RequestContext {
        today: Utc::now().date_naive(),
        actor,
        request_id: request_id(),
        client,
    });
    data.insert(state);
    Ok(data)
}

/// The first GraphQL subprotocol the client offers.
pub(super) fn protocol_of(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
}

/// Accepts the upgrade and serves the connection.
pub(super) fn upgrade(
    state: AppState,
    client: String,
    protocol: WebSocketProtocols,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let shutdown = state.shutdown.clone();
            shutdown.track(serve(socket, state, client, protocol))
        })
}

/// Why the server ends a connection.
enum Ending {
    /// The client or the protocol ended it (its close frame, if any, already sent).
    Done,
    /// Ours to close, with this code and reason.
    Close(u16, &'static str),
}

async fn serve(socket: WebSocket, state: AppState, client: String, protocol: WebSocketProtocols) {
    let stall = Duration::from_secs(state.limits.subscriber_stall_secs);
    let (mut sink, input) = socket.split();
    let input = input
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    let init_state = state.clone();
    let messages = Protocol::new(state.schema.clone(), input, protocol)
        .on_connection_init(move |payload| connection_data(init_state, client, payload));
    futures_util::pin_mut!(messages);
    let shutdown = state.shutdown.begun();
    tokio::pin!(shutdown);

    let ending = loop {
        let message = tokio::select! {
            biased;
            () = &mut shutdown => break Ending::Close(
                GOING_AWAY,
                "server shutting down: reconnect and resume from your last cursor",
            ),
            message = messages.next() => message,
        };
        let frame = match message {
            None => break Ending::Done,
            Some(WsMessage::Text(text)) => Message::Text(text.into()),
            Some(WsMessage::Close(code, reason)) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        };
        let closing = matches!(frame, Message::Close(_));
        match tokio::time::timeout(stall, sink.send(frame)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => break Ending::Done,
            Err(_) => {
                state.metrics.slow_subscriber();
                break Ending::Close(
                    TRY_AGAIN_LATER,
                    "too slow to keep up: reconnect and resume from your last cursor",
                );
            }
        }
    };
    if let Ending::Close(code, reason) = ending {
        // Whatever the client has not read yet goes first; give it a bounded while.
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(frame)).await;
    }
}
