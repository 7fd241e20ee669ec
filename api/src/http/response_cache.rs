//! The response cache of public reads over GET: complete answers kept under their entity tag,
//! which holds the data's version, the day and the request (see [`super::caching`]), bounded
//! in bytes. A write moves the change feed's head, so every later request carries a new tag
//! and the answers kept under the old ones are never served again; they age out unread.

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use quick_cache::{Weighter, sync::Cache};

/// Bytes an answer of more than this is not kept: a cache of large documents holds few.
const LARGEST: usize = 1 << 20;

/// A kept answer.
#[derive(Clone)]
pub struct Kept {
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl IntoResponse for Kept {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        if let Some(t) = self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, t);
        }
        response
    }
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Kept> for ByBytes {
    fn weight(&self, tag: &String, kept: &Kept) -> u64 {
        // The entry's own bookkeeping counts too, so that tiny answers are not free.
        (tag.len() + kept.body.len() + 128) as u64
    }
}

#[derive(Clone)]
struct ByLength;

impl Weighter<String, ()> for ByLength {
    fn weight(&self, query: &String, _: &()) -> u64 {
        query.len() as u64 + 64
    }
}

/// Answers kept by entity tag (none when disabled), and the public requests already answered
/// without error (those that are tagged).
pub struct ResponseCache(
    Option<Cache<String, Kept, ByBytes>>,
    Cache<String, (), ByLength>,
);

impl ResponseCache {
    /// A cache of at most `bytes` (0: disabled).
    pub fn new(bytes: u64) -> Self {
        Self(
            (bytes > 0).then(|| {
                // quick_cache sizes its tables from an estimate of the entries held.
                let estimated = usize::try_from(bytes / 4096).unwrap_or(usize::MAX).max(16);
                Cache::with_weighter(estimated, bytes, ByBytes)
            }),
            Cache::with_weighter(PROVEN / 256, PROVEN as u64, ByLength),
        )
    }

    /// Whether the public request `query` (its query string) was answered without error.
    pub fn proven(&self, query: &str) -> bool {
        self.1.get(query).is_some()
    }

    /// Remembers that the public request `query` was answered without error.
    pub fn prove(&self, query: &str) {
        self.1.insert(query.to_owned(), ());
    }

    /// Whether it keeps anything.
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The answer kept under `tag`.
    pub fn get(&self, tag: &str) -> Option<Kept> {
        self.0.as_ref()?.get(tag)
    }

    /// Keeps `response` under `tag` (when it is small enough) and gives it back.
    pub async fn keep(&self, tag: &str, response: Response) -> Response {
        let Some(cache) = &self.0 else {
            return response;
        };
        let small = axum::body::HttpBody::size_hint(response.body())
            .exact()
            .is_some_and(|n| n <= LARGEST as u64);
        if !small {
            return response;
        }
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, LARGEST).await {
            Ok(bytes) => bytes,
            // The body said its size and then failed: nothing is kept, the client is told.
            Err(_) => return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        cache.insert(
            tag.to_owned(),
            Kept {
                content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
                body: body.clone(),
            },
        );
        Response::from_parts(parts, axum::body::Body::from(body))
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::new(DEFAULT_BYTES)
    }
}

/// Bytes of query strings remembered as answered without error.
const PROVEN: usize = 4 << 20;

/// The default bound: 64 MiB.
pub const DEFAULT_BYTES: u64 = 64 << 20;
