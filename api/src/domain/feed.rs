//! The change feed: every change event in a total order clients resume from without gaps.
//!
//! Events are ordered by id, and ids are assigned in commit order: on PostgreSQL every writer
//! takes one transaction-scoped lock before its first event and keeps it until it commits
//! (`feed_signal::order_events`), so an event can never commit behind a cursor already handed
//! out; SQLite's writers are serial.

use std::collections::HashMap;

use entity::{change_event, contact_point};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::authz;
use super::pagination::{decode_cursor, encode_cursor};
use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

/// The entity types the feed carries.
pub const ENTITY_TYPES: [&str; 4] = ["Organisation", "ContactPoint", "Assignment", "Transfer"];

/// A position in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// Event id.
    pub e: i64,
}

impl Position {
    /// The position of an event.
    pub fn of(event: &change_event::Model) -> Self {
        Self { e: event.id }
    }

    /// The opaque cursor of this position.
    pub fn cursor(&self) -> String {
        encode_cursor(self)
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    /// Only these entity types (all when empty).
    pub entity_types: Vec<String>,
    /// Only changes to this organisation's data.
    pub organisation: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    /// The events the actor may see, in feed order.
    pub events: Vec<change_event::Model>,
    /// Where to resume: after the last event read (seen or not).
    pub end: Option<Position>,
    /// Whether more events were already there.
    pub has_next: bool,
}

/// Checks and decodes the arguments of a feed read.
pub fn check(after: Option<&str>, entity_types: &[String]) -> AppResult<Option<Position>> {
    if let Some(bad) = entity_types
        .iter()
        .find(|t| !ENTITY_TYPES.contains(&t.as_str()))
    {
        return Err(AppError::bad_input(
            "entityTypes",
            format!(
                "`{bad}` is not an entity type of the feed ({})",
                ENTITY_TYPES.join(", ")
            ),
        ));
    }
    after.map(decode_cursor::<Position>).transpose()
}

/// Up to `first` events after `after`.
pub async fn read(
    db: &DatabaseConnection,
    actor: &Actor,
    after: Option<Position>,
    first: usize,
    filter: &FeedFilter,
) -> AppResult<FeedPage> {
    use change_event::Column as C;
    let mut q = change_event::Entity::find();
    if let Some(p) = after {
        q = q.filter(C::Id.gt(p.e));
    }
    if !filter.entity_types.is_empty() {
        q = q.filter(C::EntityType.is_in(filter.entity_types.clone()));
    }
    if let Some(o) = filter.organisation {
        q = q.filter(C::OrganisationId.eq(o));
    }
    let mut rows = q
        .order_by_asc(C::Id)
        .limit(first as u64 + 1)
        .all(db)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    let end = rows.last().map(Position::of).or(after);
    let events = visible(db, actor, rows).await?;
    Ok(FeedPage {
        events,
        end,
        has_next,
    })
}

/// Drops the events about contact points the actor may not see (restricted or partner-only);
/// a removed one's events are shown to those who could read it whatever its visibility.
async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    rows: Vec<change_event::Model>,
) -> AppResult<Vec<change_event::Model>> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|e| e.entity_type == "ContactPoint")
        .map(|e| e.entity_id)
        .collect();
    if ids.is_empty() {
        return Ok(rows);
    }
    let points: HashMap<i64, contact_point::Model> = contact_point::Entity::find()
        .filter(contact_point::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let privileged = |owner: Option<i64>| {
        actor.has(Role::State)
            || actor.has(Role::Superadmin)
            || owner.is_some_and(|o| actor.acts_for(o, &[Role::Editor, Role::Admin]))
    };
    Ok(rows
        .into_iter()
        .filter(|e| {
            if e.entity_type != "ContactPoint" {
                return true;
            }
            match points.get(&e.entity_id) {
                Some(c) => authz::can_see(actor, c.visibility, c.organisation_id),
                None => privileged(e.organisation_id),
            }
        })
        .collect())
}

/// The position of the newest event readers may see now (where "from now on" starts).
pub async fn head(db: &DatabaseConnection) -> AppResult<Option<Position>> {
    head_in(db).await
}

/// [`head`] on any connection: inside a snapshot, the newest event that snapshot holds.
pub async fn head_in<C: sea_orm::ConnectionTrait>(db: &C) -> AppResult<Option<Position>> {
    use change_event::Column as C;
    Ok(change_event::Entity::find()
        .order_by_desc(C::Id)
        .limit(1)
        .one(db)
        .await?
        .as_ref()
        .map(Position::of))
}
