//! A bounded cache of parsed documents: partner apps send the same few operations with new
//! variables, and parsing is a quarter of the cost of a small query.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult};
use lru::LruCache;

/// Documents longer than this are parsed every time rather than cached.
const MAX_CACHED_LEN: usize = 16 * 1024;

/// Caches the parse of the most recently used documents (validation still runs each time).
#[derive(Clone)]
pub struct ParseCache {
    cache: Arc<Mutex<LruCache<String, ExecutableDocument>>>,
}

impl ParseCache {
    /// A cache holding at most `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            cache: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    /// The document `query` parses to, from the cache when it was seen recently. A syntax
    /// error is `GRAPHQL_PARSE_FAILED` (documents too deep for the parser were refused by the
    /// guard's scan before).
    pub fn parse(&self, query: &str) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = self
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.get(query).cloned())
        {
            return Ok(doc);
        }
        let doc = async_graphql::parser::parse_query(query).map_err(|e| {
            let mut error = ServerError::from(e);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "GRAPHQL_PARSE_FAILED");
            error
        })?;
        if query.len() <= MAX_CACHED_LEN
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.put(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }
}
