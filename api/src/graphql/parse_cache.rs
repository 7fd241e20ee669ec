//! A bounded cache of parsed documents: partner apps send the same few operations with new
//! variables, and parsing is a quarter of the cost of a small query.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};
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
}

impl ExtensionFactory for ParseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for ParseCache {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = self
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.get(query).cloned())
        {
            return Ok(doc);
        }
        let doc = next.run(ctx, query, variables).await?;
        if query.len() <= MAX_CACHED_LEN
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.put(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }
}
