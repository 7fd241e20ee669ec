//! HTTP caching of public reads over GET. An answer depends on the data (every write, on any
//! instance, advances the change feed's head, in the same transaction), on the domain's today,
//! and on the request; its entity tag is drawn from the three, so a conditional GET whose tag
//! still holds is answered `304 Not Modified` without running the query, and a shared cache in
//! front (nginx with `proxy_cache_revalidate`) revalidates every time and never serves a
//! stale answer. Answers to a token are the caller's own: `private, no-store`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::domain::feed;
use crate::error::AppResult;

/// How an answer may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// By anyone, revalidated with this entity tag.
    Public(String),
    /// By no one: it depends on the caller's token.
    Private,
    /// Public, but not tagged yet: a request is tagged once it has been answered without
    /// error, so that what is refused never costs a database read.
    Unproven,
}

/// The tagged policy of a public GET whose query string is `query` (one database read: the
/// change feed's head, shared with the concurrent requests that arrived before it was sent).
pub async fn policy(state: &AppState, headers: &HeaderMap, query: &str) -> AppResult<Policy> {
    let head = state
        .feed_head
        .shared(|| async { Ok(feed::head(&state.db).await?.map_or(0, |p| p.e)) })
        .await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(state.clock.today().to_string())
        .chain_update([0])
        .chain_update(accept)
        .chain_update([0])
        .chain_update(query)
        .finalize();
    let short: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    // Weak: two answers under one tag carry the same data, though the cost figures in
    // `extensions` are each caller's.
    Ok(Policy::Public(format!("W/\"{head}-{short}\"")))
}

/// Whether `If-None-Match` names `tag` (or `*`).
pub fn still_valid(headers: &HeaderMap, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(tag))
}

fn set_public(headers: &mut HeaderMap, tag: &str) {
    // nginx keeps nothing whose `max-age` is 0 and nothing for less than a second; an expiry
    // already past (its own header, never passed on to clients) makes it keep the answer and
    // revalidate it on every request, as `must-revalidate` asks of any cache. It must come
    // before `Cache-Control`, which nginx would otherwise obey first.
    headers.insert("x-accel-expires", HeaderValue::from_static("@1"));
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=0, must-revalidate"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
}

/// The answer to a conditional GET whose tag still holds (with its request id, as every
/// answer has).
pub fn not_modified(tag: &str, request_id: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    let headers = response.headers_mut();
    set_public(headers, tag);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    response
}

/// Marks `response` with `policy`: only a complete answer (200) is public.
pub fn stamp(response: &mut Response, policy: &Policy) {
    let ok = response.status() == StatusCode::OK;
    let headers = response.headers_mut();
    match policy {
        Policy::Public(tag) if ok => set_public(headers, tag),
        Policy::Unproven if ok => {
            // Without a validator a shared cache keeps nothing and asks again.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, no-cache"),
            );
            headers.insert(
                header::VARY,
                HeaderValue::from_static("Accept, Authorization"),
            );
        }
        _ => {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::VARY,
                HeaderValue::from_static("Accept, Authorization"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_stars() {
        let tag = "W/\"12-abc\"";
        let mut h = HeaderMap::new();
        assert!(!still_valid(&h, tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"11-abc\", W/\"12-abc\""),
        );
        assert!(still_valid(&h, tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"12-abc\""),
        );
        assert!(still_valid(&h, tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("W/\"13-abc\""),
        );
        assert!(!still_valid(&h, tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(still_valid(&h, tag));
    }
}
