//! What every request goes through before it can cost anything: automatic persisted queries
//! (the document by its SHA-256), the document's size, tokens, directives and aliases
//! (counted before validation, most before parsing), and what the operation is (a mutation
//! is refused where the transport must stay safe; metrics name it). Request errors get
//! stable codes: `PERSISTED_QUERY_NOT_FOUND`, `LIMIT_EXCEEDED`, `GRAPHQL_PARSE_FAILED`,
//! `GRAPHQL_VALIDATION_FAILED`, `METHOD_NOT_ALLOWED`. [`super::pipeline`] runs these checks
//! on every transport.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::Name;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, ServerResult};
use async_graphql::{Value, Variables};
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::config::Limits;

/// What the operation of a request turned out to be, for the transport to act on.
#[derive(Debug, Clone, Default)]
pub struct OperationInfo {
    /// Whether it is a mutation.
    pub mutation: bool,
    /// Its name, from `operationName` or the document's one named operation.
    pub name: Option<String>,
    /// Whether it reads the schema only (`__schema`, `__type`, `__typename`): the standard
    /// introspection queries of GraphQL tools nest deeper than any data query needs.
    pub introspection: bool,
}

/// What the guard's document checks found for one operation of a document.
#[derive(Debug, Clone)]
pub struct DocumentFindings {
    /// What the operation is.
    pub info: OperationInfo,
    /// Whether the document has the operation asked for (else it cannot run).
    pub chosen: bool,
}

/// Request data: where the guard writes the [`OperationInfo`]; `read_only` refuses mutations.
#[derive(Debug, Clone, Default)]
pub struct OperationSlot {
    /// Refuse mutations (GET requests).
    pub read_only: bool,
    /// The `operationName` the client sent.
    pub requested: Option<String>,
    /// Filled once the document is parsed.
    pub info: Arc<Mutex<Option<OperationInfo>>>,
}

impl OperationSlot {
    /// What was recorded.
    pub fn get(&self) -> OperationInfo {
        self.info
            .lock()
            .ok()
            .and_then(|i| i.clone())
            .unwrap_or_default()
    }
}

/// A request error with a stable code (and details in its extensions).
pub fn request_error(
    code: &str,
    message: impl Into<String>,
    detail: &[(&str, Value)],
) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    for (k, v) in detail {
        ext.set(*k, v.clone());
    }
    error.extensions = Some(ext);
    error
}

/// A `LIMIT_EXCEEDED` error naming the limit and its maximum.
pub fn limit_exceeded(limit: &str, max: usize, message: String) -> ServerError {
    request_error(
        "LIMIT_EXCEEDED",
        message,
        &[
            ("limit", Value::from(limit)),
            ("max", Value::from(max as u64)),
        ],
    )
}

/// Whether `c` may stand in text input: any character but the control characters (NUL and
/// the like, which PostgreSQL refuses and no person types), tab and line breaks excepted.
fn allowed_in_text(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// The path and the first refused character of a string within `value`, if any.
fn refused_in(value: &Value, path: String) -> Option<(String, char)> {
    match value {
        Value::String(text) => text
            .chars()
            .find(|&c| !allowed_in_text(c))
            .map(|c| (path, c)),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| refused_in(v, format!("{path}.{i}"))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(k, v)| refused_in(v, format!("{path}.{k}"))),
        _ => None,
    }
}

fn refused_in_selection(set: &SelectionSet) -> Option<(String, char)> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(field) => field
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| {
                // Variables in arguments are checked with the request's variables.
                let value = value.node.clone().into_const()?;
                refused_in(&value, name.node.to_string())
            })
            .or_else(|| refused_in_selection(&field.node.selection_set.node)),
        Selection::InlineFragment(fragment) => {
            refused_in_selection(&fragment.node.selection_set.node)
        }
        Selection::FragmentSpread(_) => None,
    })
}

/// The first text among the arguments written in `doc` that holds a refused control
/// character: where it is, and the character.
fn control_character_in_document(doc: &ExecutableDocument) -> Option<(String, char)> {
    doc.operations
        .iter()
        .find_map(|(_, op)| refused_in_selection(&op.node.selection_set.node))
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| refused_in_selection(&f.node.selection_set.node))
        })
}

/// The first text among a request's variables that holds a refused control character.
fn control_character_in_variables(variables: &Variables) -> Option<(String, char)> {
    variables
        .iter()
        .find_map(|(name, value)| refused_in(value, name.to_string()))
}

/// Text input with a refused control character: checked once for every field and
/// transport, before anything runs.
fn control_character((argument, c): (String, char)) -> ServerError {
    request_error(
        "BAD_USER_INPUT",
        format!(
            "`{argument}` holds a control character (U+{:04X}): text may hold tabs and line \
             breaks, no other control characters",
            u32::from(c)
        ),
        &[("argument", Value::from(argument))],
    )
}

/// Tokens and directives of a document, counted without parsing it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Lexical tokens (punctuators, names, numbers, strings).
    pub tokens: usize,
    /// `@` punctuators: directives.
    pub directives: usize,
    /// Deepest nesting of brackets (`{`, `(`, `[`).
    pub nesting: usize,
}

/// Deepest bracket nesting accepted before parsing: below the parser's own recursion bound,
/// so that every document too deep for it is refused here, with its limit named.
pub const MAX_NESTING: usize = 48;

/// Scans `doc` as GraphQL's lexer would, stopping once `max_tokens` is passed.
pub fn scan(doc: &str, max_tokens: usize) -> Scan {
    let b = doc.as_bytes();
    let mut scan = Scan::default();
    let mut i = 0;
    let mut open = 0usize;
    while i < b.len() && scan.tokens <= max_tokens {
        match b[i] {
            b'{' | b'(' | b'[' => {
                open += 1;
                scan.nesting = scan.nesting.max(open);
                i += 1;
            }
            b'}' | b')' | b']' => {
                open = open.saturating_sub(1);
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if b[i..].starts_with(b"...") => i += 3,
            b'@' => {
                scan.directives += 1;
                i += 1;
            }
            0xEF if b[i..].starts_with(b"\xEF\xBB\xBF") => {
                i += 3;
                continue;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                i += 1;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            c if c == b'-' || c.is_ascii_digit() => {
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        scan.tokens += 1;
    }
    scan
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases_in(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => aliases_in(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Deepest selection accepted once parsed, fragments followed (their chains nest without
/// brackets): validation and execution recurse this deep at most. Finer limits (`--max-depth`)
/// apply after validation.
pub const MAX_SELECTION_NESTING: usize = 32;

/// How deep `set` nests, fragments followed, counting no further than `cap` (so that neither
/// a fragment chain nor a cycle makes this walk itself deep).
fn nesting_of(doc: &ExecutableDocument, set: &SelectionSet, depth: usize, cap: usize) -> usize {
    if depth > cap {
        return depth;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) if f.node.selection_set.node.items.is_empty() => depth,
            Selection::Field(f) => nesting_of(doc, &f.node.selection_set.node, depth + 1, cap),
            Selection::InlineFragment(f) => {
                nesting_of(doc, &f.node.selection_set.node, depth + 1, cap)
            }
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .map_or(depth, |f| {
                    nesting_of(doc, &f.node.selection_set.node, depth + 1, cap)
                }),
        })
        .max()
        .unwrap_or(depth)
}

/// The deepest nesting of the document's operations (capped just past `cap`).
fn nesting(doc: &ExecutableDocument, cap: usize) -> usize {
    doc.operations
        .iter()
        .map(|(_, op)| nesting_of(doc, &op.node.selection_set.node, 1, cap))
        .max()
        .unwrap_or(0)
}

/// Aliases written in a document (each fragment counted once, as written).
pub fn aliases(doc: &ExecutableDocument) -> usize {
    let in_operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .sum();
    let in_fragments: usize = doc
        .fragments
        .values()
        .map(|f| aliases_in(&f.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

/// Whether every root field of `set` reads the schema.
fn reads_schema_only(set: &SelectionSet) -> bool {
    set.items.iter().all(|item| match &item.node {
        Selection::Field(f) => f.node.name.node.starts_with("__"),
        Selection::InlineFragment(f) => reads_schema_only(&f.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

fn operation_info(doc: &ExecutableDocument, requested: Option<&str>) -> OperationInfo {
    let chosen = chosen_operation(doc, requested);
    let is_mutation = |op: &OperationDefinition| op.ty == OperationType::Mutation;
    OperationInfo {
        // Unchosen (refused later), a document counts as a mutation if any operation is one.
        mutation: chosen.map_or_else(
            || doc.operations.iter().any(|(_, op)| is_mutation(&op.node)),
            |(_, op)| is_mutation(op),
        ),
        name: match &doc.operations {
            DocumentOperations::Single(_) => requested.map(str::to_owned),
            DocumentOperations::Multiple(_) => {
                chosen.and_then(|(name, _)| name).map(ToString::to_string)
            }
        },
        introspection: doc
            .operations
            .iter()
            .all(|(_, op)| reads_schema_only(&op.node.selection_set.node)),
    }
}

/// The guard's settings and its store of persisted documents.
#[derive(Clone)]
pub struct Guard {
    max_document_bytes: usize,
    max_tokens: usize,
    max_directives: usize,
    max_aliases: usize,
    persisted: Arc<Mutex<LruCache<String, String>>>,
}

impl Guard {
    /// The guard over `limits`.
    pub fn new(limits: &Limits) -> Self {
        let capacity = NonZeroUsize::new(limits.persisted_queries).unwrap_or(NonZeroUsize::MIN);
        Self {
            max_document_bytes: limits.max_document_bytes,
            max_tokens: limits.max_tokens,
            max_directives: limits.max_directives,
            max_aliases: limits.max_aliases,
            persisted: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    /// Once parsed: nesting, text arguments, aliases and what the operation `requested` (or
    /// the only one) is. What it finds holds for every request of the same document and
    /// operation name.
    pub fn inspect_document(
        &self,
        doc: &ExecutableDocument,
        requested: Option<&str>,
    ) -> ServerResult<DocumentFindings> {
        if nesting(doc, MAX_SELECTION_NESTING) > MAX_SELECTION_NESTING {
            return Err(limit_exceeded(
                "depth",
                MAX_SELECTION_NESTING,
                format!("the document nests selections deeper than {MAX_SELECTION_NESTING}"),
            ));
        }
        if let Some(found) = control_character_in_document(doc) {
            return Err(control_character(found));
        }
        let aliases = aliases(doc);
        if aliases > self.max_aliases {
            return Err(limit_exceeded(
                "aliases",
                self.max_aliases,
                format!(
                    "the document has {aliases} aliases, more than {}",
                    self.max_aliases
                ),
            ));
        }
        Ok(DocumentFindings {
            info: operation_info(doc, requested),
            chosen: chosen_operation(doc, requested).is_some(),
        })
    }

    /// For each request of an inspected document: its variables' text, the operation asked
    /// for and whether the transport allows it. What the operation is goes to `slot`, when
    /// there is one.
    pub fn admit_operation(
        &self,
        found: &DocumentFindings,
        variables: &Variables,
        slot: Option<&OperationSlot>,
    ) -> ServerResult<()> {
        if let Some(found) = control_character_in_variables(variables) {
            return Err(control_character(found));
        }
        let Some(slot) = slot else {
            return Ok(());
        };
        if !found.chosen {
            let message = match &slot.requested {
                Some(name) => format!(r#"Unknown operation named "{name}""#),
                None => "Operation name required in request.".to_owned(),
            };
            return Err(request_error("BAD_REQUEST", message, &[]));
        }
        if slot.read_only && found.info.mutation {
            return Err(request_error(
                "METHOD_NOT_ALLOWED",
                "mutations are not allowed over GET: use POST",
                &[],
            ));
        }
        if let Ok(mut recorded) = slot.info.lock() {
            *recorded = Some(found.info.clone());
        }
        Ok(())
    }

    /// Resolves an automatic persisted query: a known hash stands for its document; a
    /// document sent with its hash is kept once the hash is checked.
    pub fn persisted_document(&self, request: &mut Request) -> ServerResult<()> {
        let Some(ext) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let hash = match ext {
            Value::Object(o) => match (o.get("version"), o.get("sha256Hash")) {
                (Some(Value::Number(v)), Some(Value::String(h))) if v.as_u64() == Some(1) => {
                    h.to_ascii_lowercase()
                }
                _ => {
                    return Err(request_error(
                        "PERSISTED_QUERY_INVALID",
                        "`persistedQuery` needs `version: 1` and a `sha256Hash`",
                        &[],
                    ));
                }
            },
            _ => {
                return Err(request_error(
                    "PERSISTED_QUERY_INVALID",
                    "`persistedQuery` must be an object",
                    &[],
                ));
            }
        };
        let mut store = self
            .persisted
            .lock()
            .map_err(|_| request_error("INTERNAL", "persisted queries are unavailable", &[]))?;
        if request.query.is_empty() {
            match store.get(&hash) {
                Some(doc) => request.query = doc.clone(),
                None => {
                    return Err(request_error(
                        "PERSISTED_QUERY_NOT_FOUND",
                        "PersistedQueryNotFound",
                        &[],
                    ));
                }
            }
        } else {
            let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
            if actual != hash {
                return Err(request_error(
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "`sha256Hash` is not the SHA-256 of the query",
                    &[],
                ));
            }
            // Only documents within the limits are worth keeping.
            if request.query.len() <= self.max_document_bytes {
                store.put(hash, request.query.clone());
            }
        }
        Ok(())
    }

    /// Before parsing: the text is within its limits (size, tokens, directives, nesting).
    pub fn check_text(&self, query: &str) -> ServerResult<()> {
        if query.len() > self.max_document_bytes {
            return Err(limit_exceeded(
                "documentBytes",
                self.max_document_bytes,
                format!(
                    "the document is longer than {} bytes",
                    self.max_document_bytes
                ),
            ));
        }
        let scan = scan(query, self.max_tokens);
        if scan.tokens > self.max_tokens {
            return Err(limit_exceeded(
                "tokens",
                self.max_tokens,
                format!("the document has more than {} tokens", self.max_tokens),
            ));
        }
        if scan.directives > self.max_directives {
            return Err(limit_exceeded(
                "directives",
                self.max_directives,
                format!(
                    "the document has more than {} directives",
                    self.max_directives
                ),
            ));
        }
        if scan.nesting > MAX_NESTING {
            return Err(limit_exceeded(
                "depth",
                MAX_NESTING,
                format!("the document nests brackets deeper than {MAX_NESTING}"),
            ));
        }
        Ok(())
    }
}

/// The operation a request runs, with its name: the one named `requested`, else the
/// document's only one.
pub fn chosen_operation<'d>(
    doc: &'d ExecutableDocument,
    requested: Option<&str>,
) -> Option<(Option<&'d Name>, &'d OperationDefinition)> {
    let mut operations = doc.operations.iter();
    match (&doc.operations, requested) {
        (DocumentOperations::Single(_), Some(_)) => None,
        (_, Some(name)) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        (_, None) if doc.operations.iter().count() == 1 => operations.next(),
        (_, None) => None,
    }
    .map(|(name, op)| (name, &op.node))
}

fn field_depth_of(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    hops: usize,
) -> usize {
    // Fragment cycles were refused by the nesting check; `hops` bounds the walk regardless.
    if hops > 2 * MAX_SELECTION_NESTING {
        return depth;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                field_depth_of(doc, &f.node.selection_set.node, depth + 1, hops + 1)
            }
            Selection::InlineFragment(f) => {
                field_depth_of(doc, &f.node.selection_set.node, depth, hops + 1)
            }
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .map_or(depth, |f| {
                    field_depth_of(doc, &f.node.selection_set.node, depth, hops + 1)
                }),
        })
        .max()
        .unwrap_or(depth)
}

/// How many fields deep the operation `requested` (or the only one) reaches, fragments
/// inlined: `{ a { b } }` is 2 deep. The deepest operation's when none is singled out.
pub fn field_depth(doc: &ExecutableDocument, requested: Option<&str>) -> usize {
    let of = |op: &OperationDefinition| field_depth_of(doc, &op.selection_set.node, 0, 0);
    match chosen_operation(doc, requested) {
        Some((_, op)) => of(op),
        None => doc
            .operations
            .iter()
            .map(|(_, op)| of(&op.node))
            .max()
            .unwrap_or(0),
    }
}

/// Every error of a response, on every transport, carries a code and the request id (so
/// that a report can be matched with the logs). async-graphql's own field errors carry no
/// code: they are arguments that did not coerce (a malformed `Date`, say).
pub fn finish(response: &mut Response, request_id: Option<&str>) {
    for e in &mut response.errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = if e.path.is_empty() {
                "BAD_REQUEST"
            } else {
                "BAD_USER_INPUT"
            };
            ext.set("code", code);
        }
        if let Some(id) = request_id
            && ext.get("requestId").is_none()
        {
            ext.set("requestId", id);
        }
    }
}

/// Validation errors with the codes clients match on (limits of depth and complexity are
/// limits like the others).
pub fn coded(mut errors: Vec<ServerError>) -> Vec<ServerError> {
    for e in &mut errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "GRAPHQL_VALIDATION_FAILED");
        }
    }
    errors
}
