//! The change feed as GraphQL: `changes(after, first, entityTypes, organisation)`.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use entity::change_event;

use crate::domain::feed::{self, FeedFilter, Position};
use crate::domain::pagination::page_size;
use crate::graphql::context::{actor, loaders, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::{Node, Organisation, load_node};
use crate::graphql::scalars::DateTime;

/// What a change did to its entity.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOperation {
    /// A new entity.
    Created,
    /// A changed entity.
    Updated,
    /// An entity whose validity ended.
    Ended,
    /// A removed entity.
    Deleted,
}

/// One change, in feed order.
pub struct ChangeEvent(pub(crate) change_event::Model);

/// One change, in feed order.
#[Object]
impl ChangeEvent {
    /// Resume the feed after this event with `changes(after: cursor)`.
    async fn cursor(&self) -> String {
        Position::of(&self.0).cursor()
    }

    /// Type of the changed entity (`Organisation`, `ContactPoint`, `Assignment`, `Transfer`,
    /// `Resource`, `Reservation`, `Agreement`).
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }

    /// Global ID of the changed entity (fetch it with `node(id:)`).
    async fn entity_id(&self) -> Option<ID> {
        NodeType::from_name(&self.0.entity_type).map(|t| ids::encode(t, self.0.entity_id))
    }

    /// What happened to it.
    async fn operation(&self) -> ChangeOperation {
        match self.0.operation.as_str() {
            "CREATED" => ChangeOperation::Created,
            "ENDED" => ChangeOperation::Ended,
            "DELETED" => ChangeOperation::Deleted,
            _ => ChangeOperation::Updated,
        }
    }

    /// When it was committed (server clock).
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }

    /// The organisation whose data changed.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.0.organisation_id else {
            return Ok(None);
        };
        let today = request(ctx)?.today;
        Ok(loaders(ctx)?
            .organisations
            .load(id)
            .await?
            .map(|o| Organisation::new(o, today)))
    }

    /// The organisation of the actor who made the change (null for a reference import).
    async fn actor_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.0.actor_organisation_id else {
            return Ok(None);
        };
        let today = request(ctx)?.today;
        Ok(loaders(ctx)?
            .organisations
            .load(id)
            .await?
            .map(|o| Organisation::new(o, today)))
    }

    /// The entity as it is now (null once removed, or when the caller may not see it).
    async fn node(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        let Some(t) = NodeType::from_name(&self.0.entity_type) else {
            return Ok(None);
        };
        load_node(ctx, "node", &ids::encode(t, self.0.entity_id)).await
    }
}

/// A page of the change feed.
#[derive(SimpleObject)]
pub struct ChangePage {
    /// The events, in feed order.
    pub events: Vec<ChangeEvent>,
    /// Pass it as `after` to read on (it moves past events the caller may not see too); null
    /// only when the feed was read from its start and is empty.
    pub end_cursor: Option<String>,
    /// Whether more events are already there.
    pub has_next_page: bool,
}

/// The change feed.
#[derive(Default)]
pub struct FeedQuery;

/// The change feed.
#[Object]
impl FeedQuery {
    /// Every committed change after `after`, in a total order that never changes: a client
    /// that stores `endCursor` and asks again gets every later change exactly once, across
    /// restarts, even when transactions commit out of order. `first` defaults to 20, at most
    /// 100. Events about data the caller may not see are left out. Reference imports appear
    /// too: one event per organisation they created, changed, ended or removed.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        entity_types: Option<Vec<String>>,
        organisation: Option<ID>,
    ) -> Result<ChangePage> {
        let first = page_size(first)?;
        let entity_types = entity_types.unwrap_or_default();
        let after = feed::check(after.as_deref(), &entity_types)?;
        let organisation = organisation
            .map(|id| ids::decode_as("organisation", &id, NodeType::Organisation))
            .transpose()?;
        let filter = FeedFilter {
            entity_types,
            organisation,
        };
        let page = feed::read(&state(ctx)?.db, actor(ctx)?, after, first, &filter).await?;
        Ok(ChangePage {
            events: page.events.into_iter().map(ChangeEvent).collect(),
            end_cursor: page.end.map(|p| p.cursor()),
            has_next_page: page.has_next,
        })
    }

    /// The cursor of the newest event now: `changes(after: feedCursor)` then yields exactly
    /// what commits later (null while the feed is empty, which `after: null` reads from).
    async fn feed_cursor(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(feed::head(&state(ctx)?.db).await?.map(|p| p.cursor()))
    }
}
