//! A bounded cache of parsed documents: partner apps send the same few operations with new
//! variables, and parsing is a quarter of the cost of a small query. For each operation of a
//! document it also remembers what holds for every request of it: that it passed
//! async-graphql's full validation ([`super::revalidation`]) and what the pipeline's document
//! checks found ([`super::pipeline`]).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult};
use lru::LruCache;

use super::pipeline::Checked;

/// Documents longer than this are parsed every time rather than cached.
const MAX_CACHED_LEN: usize = 16 * 1024;

/// Operations of one document remembered (a document names a few at most).
const MAX_OPERATIONS: usize = 8;

/// What is remembered of one operation of a document (by name; `None` for the document's
/// only operation chosen without a name).
#[derive(Clone)]
struct Operation {
    name: Option<String>,
    validated: bool,
    checked: Option<Arc<Checked>>,
}

/// A parsed document and what is known of its operations.
#[derive(Clone)]
struct Entry {
    doc: ExecutableDocument,
    operations: Vec<Operation>,
}

/// A document as the cache gives it.
pub struct Parsed {
    /// The document.
    pub doc: ExecutableDocument,
    /// Whether the operation asked for passed full validation before.
    pub validated: bool,
    /// What the pipeline's document checks found for the operation asked for, when they
    /// passed before.
    pub checked: Option<Arc<Checked>>,
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

    /// The document `query` parsed to when it was seen recently, with what is known of its
    /// operation `operation`. Only texts that passed the guard's text limits were parsed.
    pub fn cached(&self, query: &str, operation: Option<&str>) -> Option<Parsed> {
        if query.len() > MAX_CACHED_LEN {
            return None;
        }
        let mut cache = self.cache.lock().ok()?;
        let entry = cache.get(query)?;
        let known = entry
            .operations
            .iter()
            .find(|o| o.name.as_deref() == operation);
        Some(Parsed {
            doc: entry.doc.clone(),
            validated: known.is_some_and(|o| o.validated),
            checked: known.and_then(|o| o.checked.clone()),
        })
    }

    /// Parses `query` and keeps it. A syntax error is `GRAPHQL_PARSE_FAILED` (documents too
    /// deep for the parser were refused by the guard's scan before).
    pub fn parse(&self, query: &str) -> ServerResult<Parsed> {
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
                operations: Vec::new(),
            };
            cache.put(query.to_owned(), entry);
        }
        Ok(Parsed {
            doc,
            validated: false,
            checked: None,
        })
    }

    /// Remembers that the operation `operation` of `query` passed full validation (while
    /// the document stays cached).
    pub fn validated(&self, query: &str, operation: Option<&str>) {
        self.remember(query, operation, |o| o.validated = true);
    }

    /// Remembers what the pipeline's document checks found for the operation `operation` of
    /// `query` (while the document stays cached).
    pub fn checked(&self, query: &str, operation: Option<&str>, checked: Arc<Checked>) {
        self.remember(query, operation, |o| o.checked = Some(checked));
    }

    fn remember(&self, query: &str, operation: Option<&str>, learn: impl FnOnce(&mut Operation)) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let Some(entry) = cache.peek_mut(query) else {
            return;
        };
        let known = entry
            .operations
            .iter()
            .position(|o| o.name.as_deref() == operation);
        let at = match known {
            Some(at) => at,
            None if entry.operations.len() < MAX_OPERATIONS => {
                entry.operations.push(Operation {
                    name: operation.map(str::to_owned),
                    validated: false,
                    checked: None,
                });
                entry.operations.len() - 1
            }
            None => return,
        };
        learn(&mut entry.operations[at]);
    }
}
