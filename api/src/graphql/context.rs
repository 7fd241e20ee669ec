//! What resolvers read from the GraphQL context: the application state, the request's
//! date and its loaders.

use async_graphql::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::loaders::Loaders;
use crate::AppState;
use crate::auth::Actor;
use crate::domain::audit::WriteContext;
use crate::domain::registry::Reads;

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
        }
    }

    /// The write context of domain services.
    pub fn write_context(&self) -> WriteContext {
        WriteContext {
            now: self.now,
            actor: self.actor.clone(),
            request_id: self.request_id.clone(),
            feed: Some(self.feed.clone()),
        }
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
    Ok(state(ctx)?.coverage_start.is_some_and(|start| at < start))
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
