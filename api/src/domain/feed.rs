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
pub const ENTITY_TYPES: [&str; 10] = [
    "Organisation",
    "ContactPoint",
    "Assignment",
    "Transfer",
    "Resource",
    "Reservation",
    "Agreement",
    "Mandate",
    "Referral",
    "TerritorialProject",
];

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

/// Drops the events about what the actor may not see: restricted or partner-only contact
/// points and resources, other organisations' reservations, agreements still in draft
/// between other parties. A removed entity's events are shown to its owner's staff and the
/// State only.
async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    rows: Vec<change_event::Model>,
) -> AppResult<Vec<change_event::Model>> {
    // Referrals are for the organisations they passed through, the State included only
    // when it is one of them (it reads their aggregates, not the requests of persons).
    let referral_ids: Vec<i64> = rows
        .iter()
        .filter(|e| e.entity_type == "Referral")
        .map(|e| e.entity_id)
        .collect();
    let seen: HashMap<i64, bool> = super::referrals::by_ids_in(db, &referral_ids)
        .await?
        .into_iter()
        .map(|r| (r.model.id, r.visible_to(actor)))
        .collect();
    let rows: Vec<change_event::Model> = rows
        .into_iter()
        .filter(|e| e.entity_type != "Referral" || seen.get(&e.entity_id).copied().unwrap_or(false))
        .collect();
    if actor.has(Role::State) || actor.has(Role::Superadmin) {
        return Ok(rows);
    }
    let ids_of = |kind: &str| -> Vec<i64> {
        rows.iter()
            .filter(|e| e.entity_type == kind)
            .map(|e| e.entity_id)
            .collect()
    };
    let (points, resources, reservations, agreements, projects) = (
        ids_of("ContactPoint"),
        ids_of("Resource"),
        ids_of("Reservation"),
        ids_of("Agreement"),
        ids_of("TerritorialProject"),
    );
    let mut allowed: HashMap<(&str, i64), bool> = HashMap::new();
    if !points.is_empty() {
        for c in contact_point::Entity::find()
            .filter(contact_point::Column::Id.is_in(points))
            .all(db)
            .await?
        {
            let ok = authz::can_see(actor, c.visibility, c.organisation_id);
            allowed.insert(("ContactPoint", c.id), ok);
        }
    }
    if !resources.is_empty() {
        for r in super::resources::by_ids(db, &resources).await? {
            let ok = authz::can_see(actor, r.model.visibility, r.model.owner_id);
            allowed.insert(("Resource", r.model.id), ok);
        }
    }
    if !reservations.is_empty() {
        // The event's organisation is the resource's owner.
        let owners: HashMap<i64, Option<i64>> = rows
            .iter()
            .filter(|e| e.entity_type == "Reservation")
            .map(|e| (e.entity_id, e.organisation_id))
            .collect();
        for r in super::resources::reservations::by_ids(db, &reservations).await? {
            let owner = owners.get(&r.id).copied().flatten().unwrap_or_default();
            let ok = super::authz::can_see_reservation(actor, owner, r.requester_id);
            allowed.insert(("Reservation", r.id), ok);
        }
    }
    if !agreements.is_empty() {
        for a in super::agreements::by_ids(db, &agreements).await? {
            allowed.insert(("Agreement", a.model.id), a.visible_to(actor));
        }
    }
    if !projects.is_empty() {
        for p in super::projects::by_ids_in(db, &projects).await? {
            allowed.insert(("TerritorialProject", p.model.id), p.visible_to(actor));
        }
    }
    let staff =
        |owner: Option<i64>| owner.is_some_and(|o| actor.acts_for(o, &[Role::Editor, Role::Admin]));
    Ok(rows
        .into_iter()
        .filter(|e| match e.entity_type.as_str() {
            kind @ ("ContactPoint" | "Resource" | "Reservation" | "Agreement"
            | "TerritorialProject") => allowed
                .get(&(kind, e.entity_id))
                .copied()
                .unwrap_or_else(|| staff(e.organisation_id)),
            // A mandate is its parties' business: the grantor's staff see its events (the
            // grantee reads its mandates through `Organisation.mandates`).
            "Mandate" => staff(e.organisation_id),
            _ => true,
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
