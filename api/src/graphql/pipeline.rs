//! What every operation goes through around its execution, on every transport: the guard
//! (persisted documents, limits, what the operation is), the parse cache, the cost charge,
//! and the codes and request id of its errors — in that order, so nothing is charged that
//! the guard refuses, and nothing runs that is not charged.
//!
//! HTTP operations run these steps around a schema without extensions: async-graphql wraps
//! every field of an answer in each extension's hooks, which was a fifth of the time of a
//! large answer. Streams (WebSocket, SSE) run through a schema whose one extension,
//! [`Stages`], calls the same steps from async-graphql's hooks.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
    NextSubscribe, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::AppSchema;
use super::context::{RequestContext, Scope};
use super::cost::{Charged, CostLimit};
use super::direct::{self, Plan};
use super::guard::{DocumentFindings, Guard, OperationSlot, coded, finish};
use super::loaders::Loaders;
use super::parse_cache::{ParseCache, Parsed};
use super::price::Prices;
use super::revalidation;
use crate::AppState;
use crate::config::Limits;

/// Parsed documents kept by the parse cache.
const PARSED_DOCUMENTS: usize = 512;

/// The two schemas HTTP operations run on, the same types without extensions: `strict` runs
/// every validation rule; `revalidated` only those whose answer may change from one request
/// of a document to the next ([`revalidation`]), for documents validated in full before.
pub struct OperationSchemas {
    /// Every validation rule.
    pub strict: AppSchema,
    /// async-graphql's `ValidationMode::Fast`.
    pub revalidated: AppSchema,
}

/// What the document checks found for one operation of a document: the same for every
/// request of it (the limits and prices are the process's).
pub struct Checked {
    found: DocumentFindings,
    /// Its price, unless variables set it.
    points: Option<usize>,
    /// What it asks, when it is answered directly ([`direct`]).
    direct: Option<Plan>,
}

/// An operation's answer: async-graphql's response; for a direct answer, its `data` already
/// written as JSON, the response holding the rest (its extensions; it has no errors).
pub struct Answer {
    /// The response (without its data when `data` is set).
    pub response: Response,
    /// A direct answer's `data` object, as JSON.
    pub data: Option<String>,
}

/// The steps around execution, with their shared state (persisted documents, parsed
/// documents, budgets): one for the whole process, whatever the transport.
pub struct Pipeline {
    guard: Guard,
    parses: ParseCache,
    cost: CostLimit,
    /// Whether plain registry lookups are answered directly.
    direct: bool,
}

impl Pipeline {
    /// The steps over `limits`, pricing with `prices`.
    pub fn new(limits: &Limits, prices: Prices) -> Self {
        Self {
            guard: Guard::new(limits),
            parses: ParseCache::new(PARSED_DOCUMENTS),
            cost: CostLimit::new(limits, prices),
            direct: limits.direct_answers,
        }
    }

    /// The document `query` parses to: from the parse cache, or parsed once its text passes
    /// the guard's limits.
    fn document(&self, query: &str, operation: Option<&str>) -> ServerResult<Parsed> {
        match self.parses.cached(query, operation) {
            Some(parsed) => Ok(parsed),
            None => {
                self.guard.check_text(query)?;
                self.parses.parse(query)
            }
        }
    }

    /// Once parsed: the guard's checks of the document and of the request, then its price,
    /// charged to `req`'s actor. What the operation is goes to `slot`. The document's own
    /// checks run on its first request only (they read nothing else); so does its pricing,
    /// unless variables size its lists.
    fn admit_document(
        &self,
        query: &str,
        parsed: &Parsed,
        variables: &Variables,
        slot: Option<&OperationSlot>,
        req: Option<&RequestContext>,
    ) -> ServerResult<Option<Charged>> {
        let requested = slot.and_then(|s| s.requested.as_deref());
        let points = if let Some(checked) = &parsed.checked {
            self.guard
                .admit_operation(&checked.found, variables, slot)?;
            match checked.points {
                Some(points) => points,
                None => {
                    let introspection = checked.found.info.introspection;
                    self.cost
                        .price(&parsed.doc, requested, variables, introspection)?
                        .points
                }
            }
        } else {
            let found = self.guard.inspect_document(&parsed.doc, requested)?;
            self.guard.admit_operation(&found, variables, slot)?;
            let introspection = found.info.introspection;
            let price = self
                .cost
                .price(&parsed.doc, requested, variables, introspection)?;
            let points = (!price.reads_variables).then_some(price.points);
            let direct = if self.direct {
                Plan::of(&parsed.doc, requested)
            } else {
                None
            };
            let checked = Checked {
                found,
                points,
                direct,
            };
            self.parses.checked(query, requested, Arc::new(checked));
            price.points
        };
        self.cost.charge(points, req)
    }

    /// Every step before execution: the text, the parse, the document, the charge.
    fn admit(
        &self,
        request: &mut Request,
        slot: &OperationSlot,
        req: &RequestContext,
    ) -> ServerResult<(Parsed, Option<Charged>)> {
        self.guard.persisted_document(request)?;
        let parsed = self.document(&request.query, slot.requested.as_deref())?;
        let charged = self.admit_document(
            &request.query,
            &parsed,
            &request.variables,
            Some(slot),
            Some(req),
        )?;
        Ok((parsed, charged))
    }

    /// Runs one operation (not a subscription) on `schemas`, or answers it directly.
    pub async fn execute(
        &self,
        schemas: &OperationSchemas,
        mut request: Request,
        slot: &OperationSlot,
        req: &RequestContext,
    ) -> Answer {
        let mut response = match self.admit(&mut request, slot, req) {
            Err(refused) => Response::from_errors(vec![refused]),
            Ok((parsed, charged)) => {
                let operation = request.operation_name.clone();
                let revalidated = parsed.validated
                    && revalidation::variables_certainly_valid(
                        &parsed.doc,
                        operation.as_deref(),
                        &request.variables,
                    );
                let plan = parsed.checked.as_ref().and_then(|c| c.direct.as_ref());
                if let (true, Some(plan), Some(scope)) =
                    (revalidated, plan, scope_of(&request, req))
                    && let Some(written) = direct::answer(plan, &request.variables, scope).await
                {
                    let mut response = Response::default();
                    if let Some(charged) = charged {
                        charged.report_fields(&mut response, written.fields);
                    }
                    finish(&mut response, Some(&req.request_id));
                    return Answer {
                        response,
                        data: Some(written.data),
                    };
                }
                // The text is kept to remember the outcome of a first full validation.
                let first = (!parsed.validated).then(|| request.query.clone());
                request.set_parsed_query(parsed.doc);
                let schema = if revalidated {
                    &schemas.revalidated
                } else {
                    &schemas.strict
                };
                let mut response = schema.execute(request).await;
                if refused_by_validation(&response) {
                    response.errors = coded(std::mem::take(&mut response.errors));
                } else if let Some(query) = first {
                    self.parses.validated(&query, operation.as_deref());
                }
                if let Some(charged) = charged {
                    charged.report(&mut response);
                }
                response
            }
        };
        finish(&mut response, Some(&req.request_id));
        Answer {
            response,
            data: None,
        }
    }
}

/// What the registry's resolvers read, from the data attached to `request` (by
/// `http::graphql::prepare`).
fn scope_of<'a>(request: &'a Request, req: &'a RequestContext) -> Option<Scope<'a>> {
    fn data<T: Any>(request: &Request) -> Option<&T> {
        request.data.get(&TypeId::of::<T>())?.downcast_ref()
    }
    Some(Scope {
        state: data::<AppState>(request)?,
        loaders: data::<Loaders>(request)?,
        request: req,
    })
}

/// Whether async-graphql refused the (admitted) document before running it: only its
/// validation answers errors that are neither placed in the answer nor coded.
fn refused_by_validation(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.path.is_empty()
                && e.extensions
                    .as_ref()
                    .is_none_or(|x| x.get("code").is_none())
        })
}

/// The pipeline as a schema extension, for the transports async-graphql drives (WebSocket,
/// SSE).
#[derive(Clone)]
pub struct Stages(pub Arc<Pipeline>);

impl ExtensionFactory for Stages {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(StagesOfOne {
            pipeline: self.0.clone(),
            charged: Mutex::default(),
            request_id: Arc::default(),
        })
    }
}

/// The pipeline's steps for one request.
struct StagesOfOne {
    pipeline: Arc<Pipeline>,
    charged: Mutex<Option<Charged>>,
    /// Read from the request's context once parsed (request data is not visible before).
    request_id: Arc<Mutex<Option<String>>>,
}

fn read(id: &Mutex<Option<String>>) -> Option<String> {
    id.lock().ok().and_then(|id| id.clone())
}

#[async_trait::async_trait]
impl Extension for StagesOfOne {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.pipeline.guard.persisted_document(&mut request)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        _next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let req = ctx.data_opt::<RequestContext>();
        if let (Some(req), Ok(mut id)) = (req, self.request_id.lock()) {
            *id = Some(req.request_id.clone());
        }
        let slot = ctx.data_opt::<OperationSlot>();
        // The cache parses: async-graphql's own parse would only repeat it.
        let parsed = self
            .pipeline
            .document(query, slot.and_then(|s| s.requested.as_deref()))?;
        let charged = self
            .pipeline
            .admit_document(query, &parsed, variables, slot, req)?;
        if let Ok(mut charged_slot) = self.charged.lock() {
            *charged_slot = charged;
        }
        Ok(parsed.doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(coded)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if let Some(charged) = self.charged.lock().ok().and_then(|c| *c) {
            charged.report(&mut response);
        }
        finish(&mut response, read(&self.request_id).as_deref());
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let id = self.request_id.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                finish(&mut response, read(&id).as_deref());
                response
            })
            .boxed()
    }
}
