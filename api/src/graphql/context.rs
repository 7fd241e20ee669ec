//! What resolvers read from the GraphQL context: the application state, the request's
//! date and its loaders.

use async_graphql::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::loaders::Loaders;
use crate::AppState;
use crate::auth::Actor;
use crate::domain::audit::WriteContext;
use crate::domain::codes;
use crate::domain::registry::Reads;
use crate::error::{AppError, AppResult};
use crate::graphql::ids::{self, NodeType};

/// Per-request facts.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The instant the request began, read once from the application's clock.
    pub now: DateTime<Utc>,
    /// "Today", the default of every `at` argument: the date of `now`.
    pub today: NaiveDate,
    /// Who the request acts as.
    pub actor: Actor,
    /// The request id, returned in the `x-request-id` header and kept in the audit trail.
    pub request_id: String,
    /// The client's address (the budget key of anonymous callers).
    pub client: String,
    /// This process's feed subscribers, woken by the writes of the request.
    pub feed: std::sync::Arc<crate::domain::feed_signal::FeedSignal>,
    /// This process's write gate.
    pub gate: std::sync::Arc<crate::domain::unit_of_work::WriteGate>,
}

impl RequestContext {
    /// The facts of a request by `actor` from `client`, dated by the application's clock.
    pub fn new(state: &AppState, actor: Actor, request_id: String, client: String) -> Self {
        let now = state.clock.now();
        Self {
            now,
            today: now.date_naive(),
            actor,
            request_id,
            client,
            feed: state.feed.clone(),
            gate: state.write_gate.clone(),
        }
    }

    /// The write context of domain services.
    pub fn write_context(&self) -> WriteContext {
        WriteContext {
            now: self.now,
            actor: self.actor.clone(),
            request_id: self.request_id.clone(),
            feed: Some(self.feed.clone()),
            gate: Some(self.gate.clone()),
        }
    }
}

/// What the registry's resolvers read from a request, taken out of its context: the direct
/// answers ([`super::direct`]) resolve the same fields without one.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The application state.
    pub state: &'a AppState,
    /// The request's loaders.
    pub loaders: &'a Loaders,
    /// The request's facts.
    pub request: &'a RequestContext,
}

impl<'a> Scope<'a> {
    /// The scope of the request `ctx` belongs to.
    pub fn of(ctx: &Context<'a>) -> Result<Self> {
        Ok(Self {
            state: state(ctx)?,
            loaders: loaders(ctx)?,
            request: request(ctx)?,
        })
    }

    /// Whether `at` falls before the data: such questions get empty answers, not errors.
    pub fn before_data(&self, at: NaiveDate) -> bool {
        self.state.before_data(at)
    }
}

/// The application state.
pub fn state<'a>(ctx: &Context<'a>) -> Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// The request's facts.
pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

/// The request's registry reads (in memory when current, else SQL).
pub fn registry_reads<'a>(ctx: &Context<'a>) -> Result<&'a Reads> {
    Ok(&loaders(ctx)?.registry)
}

/// Whether `at` falls before the data: such questions get empty answers, not errors.
pub fn before_data(ctx: &Context<'_>, at: NaiveDate) -> Result<bool> {
    Ok(state(ctx)?.before_data(at))
}

/// Who the request acts as.
pub fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor> {
    Ok(&request(ctx)?.actor)
}

/// An organisation by internal id, through the request's loader, answering as of `at`.
pub async fn organisation(
    ctx: &Context<'_>,
    id: i64,
    at: NaiveDate,
) -> Result<Option<super::registry::Organisation>> {
    Ok(loaders(ctx)?
        .organisations
        .load(id)
        .await?
        .map(|o| super::registry::Organisation::new(o, at)))
}

/// The organisation an input names, as partners know it: by global ID, INSEE code (the
/// organisation valid today, preferring commune, then département, then région) or SIREN.
/// `field` names the input in errors.
pub async fn organisation_id(ctx: &Context<'_>, field: &str, text: &str) -> AppResult<i64> {
    let reads = registry_reads(ctx).map_err(|_| AppError::Internal)?;
    let unknown = || {
        AppError::bad_input(
            field,
            format!("`{text}` names no organisation (a global ID, an INSEE code or a SIREN)"),
        )
    };
    if let Ok((kind, n)) = ids::decode(field, text) {
        if kind != NodeType::Organisation {
            return ids::decode_as(field, text, NodeType::Organisation);
        }
        // Any organisation of the registry, past ones included; an ID that names none is
        // refused here rather than by the database's references, as a conflict.
        return match reads.by_ids(&[n]).await?.first() {
            Some(o) => Ok(o.id),
            None => Err(unknown()),
        };
    }
    let today = request(ctx).map_err(|_| AppError::Internal)?.today;
    let found = if text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()) {
        codes::check_siren(field, text)?;
        reads.by_siren(text, None, today).await?
    } else if codes::check_insee_code(field, text).is_ok() {
        reads.by_insee_code(text, None, today).await?
    } else {
        None
    };
    found.map(|o| o.id).ok_or_else(unknown)
}
