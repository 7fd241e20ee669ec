//! A bounded cache of parsed documents: partner apps send the same few operations with new
//! variables, and parsing is a quarter of the cost of a small query. It also remembers which
//! of a document's operations passed async-graphql's full validation ([`super::revalidation`]).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult};
use lru::LruCache;

/// Documents longer than this are parsed every time rather than cached.
const MAX_CACHED_LEN: usize = 16 * 1024;

/// Operations of one document remembered as validated (a document names a few at most).
const MAX_VALIDATED_OPERATIONS: usize = 8;

/// A parsed document and the operations of it that passed full validation (by name; `None`
/// for the document's only operation chosen without a name).
#[derive(Clone)]
struct Entry {
    doc: ExecutableDocument,
    validated: Vec<Option<String>>,
}

/// A document as the cache gives it.
pub struct Parsed {
    /// The document.
    pub doc: ExecutableDocument,
    /// Whether the operation asked for passed full validation before.
    pub validated: bool,
}

/// Caches the parse of the most recently used documents.
#[derive(Clone)]
pub struct ParseCache {
    cache: Arc<Mutex<LruCache<String, Entry>>>,
}

impl ParseCache {
    /// A cache holding at most `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            cache: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    /// The document `query` parses to, from the cache when it was seen recently, and
    /// whether its operation `operation` passed full validation before. A syntax error is
    /// `GRAPHQL_PARSE_FAILED` (documents too deep for the parser were refused by the guard's
    /// scan before).
    pub fn parse(&self, query: &str, operation: Option<&str>) -> ServerResult<Parsed> {
        if let Some(parsed) = self.cache.lock().ok().and_then(|mut c| {
            c.get(query).map(|entry| Parsed {
                doc: entry.doc.clone(),
                validated: entry.validated.iter().any(|v| v.as_deref() == operation),
            })
        }) {
            return Ok(parsed);
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
            let entry = Entry {
                doc: doc.clone(),
                validated: Vec::new(),
            };
            cache.put(query.to_owned(), entry);
        }
        Ok(Parsed {
            doc,
            validated: false,
        })
    }

    /// Remembers that the operation `operation` of `query` passed full validation (while
    /// the document stays cached).
    pub fn validated(&self, query: &str, operation: Option<&str>) {
        if let Ok(mut cache) = self.cache.lock()
            && let Some(entry) = cache.peek_mut(query)
            && entry.validated.len() < MAX_VALIDATED_OPERATIONS
            && !entry.validated.iter().any(|v| v.as_deref() == operation)
        {
            entry.validated.push(operation.map(str::to_owned));
        }
    }
}
