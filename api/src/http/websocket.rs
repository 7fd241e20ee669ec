//! GraphQL over WebSocket (graphql-transport-ws and the older graphql-ws).
//!
//! The token travels in `connection_init`, under the same rules as the `Authorization`
//! header. The connection is served by our own loop rather than the adapter's so that the
//! server can end it with a proper close frame: at shutdown (1001, going away) and when the
//! client stops reading (1013, try again later). Memory per connection stays bounded either
//! way: subscriptions are pulled one message at a time, only as fast as the socket drains.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as Protocol, WebSocketProtocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt, future};
use tokio::sync::watch;

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

/// Close code for a refused `connection_init` or an expired token (graphql-transport-ws:
/// forbidden).
pub const FORBIDDEN: u16 = 4403;

/// What `connection_init` tells the connection's loop.
#[derive(Debug)]
struct Session {
    /// The token was refused: the adapter's close (1002) becomes [`FORBIDDEN`].
    refused: AtomicBool,
    /// When the token stops being valid (seconds since the epoch, skew included).
    expires: watch::Sender<Option<u64>>,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            refused: AtomicBool::new(false),
            expires: watch::channel(None).0,
        }
    }
}

impl Session {
    /// Completes when the token has expired (never for an anonymous connection).
    async fn expired(&self) {
        let mut expires = self.expires.subscribe();
        let Ok(at) = expires.wait_for(Option::is_some).await.map(|at| *at) else {
            return future::pending().await;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let left = Duration::from_secs(at.unwrap_or(u64::MAX)).saturating_sub(now);
        tokio::time::sleep(left).await;
    }
}

/// The data of a connection once `connection_init` is accepted. A connection lives no longer
/// than its token: the loop closes it when the token expires.
async fn connection_data(
    state: AppState,
    client: String,
    session: Arc<Session>,
    payload: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let refuse = |message: String| {
        session.refused.store(true, Ordering::Release);
        async_graphql::Error::new(message)
    };
    let actor = match init_token(&payload) {
        None => Actor::anonymous(),
        Some(value) => {
            let claims = state
                .auth
                .verify_header(&value)
                .map_err(|_| refuse("invalid credentials".into()))?;
            let actor = actor_from_claims(&state, &claims)
                .await
                .map_err(|e| refuse(e.to_string()))?;
            session
                .expires
                .send_replace(Some(claims.exp.saturating_add(state.auth.leeway_secs())));
            actor
        }
    };
    let mut data = async_graphql::Data::default();
    data.insert(Loaders::uncached(&state, &actor));
    data.insert(RequestContext::new(&state, actor, request_id(), client));
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
    let session = Arc::new(Session::default());
    let init_session = session.clone();
    let messages = Protocol::new(state.graphql.streams().clone(), input, protocol)
        .on_connection_init(move |payload| {
            connection_data(init_state, client, init_session, payload)
        });
    futures_util::pin_mut!(messages);
    let shutdown = state.shutdown.begun();
    tokio::pin!(shutdown);
    let expired = session.expired();
    tokio::pin!(expired);

    let ending = loop {
        let message = tokio::select! {
            biased;
            () = &mut shutdown => break Ending::Close(
                GOING_AWAY,
                "server shutting down: reconnect and resume from your last cursor",
            ),
            () = &mut expired => break Ending::Close(
                FORBIDDEN,
                "token expired: reconnect with a new token and resume from your last cursor",
            ),
            message = messages.next() => message,
        };
        let frame = match message {
            None => break Ending::Done,
            Some(WsMessage::Text(text)) => Message::Text(text.into()),
            Some(WsMessage::Close(code, reason)) => Message::Close(Some(CloseFrame {
                code: if session.refused.load(Ordering::Acquire) {
                    FORBIDDEN
                } else {
                    code
                },
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
