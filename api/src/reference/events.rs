//! The change events of a reference import: what a mirror must refetch after it.
//!
//! Each organisation an import touched gets one event: `CREATED`, `DELETED`, `ENDED` (its
//! validity now has an end) or `UPDATED` (its facts, memberships or successions changed), in
//! the import's transaction, so that the feed and the data never disagree.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::change_event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::domain::feed_signal;

/// Organisations an import touched, by what happened to them.
#[derive(Debug, Default)]
pub struct Touched {
    /// Inserted.
    pub created: BTreeSet<i64>,
    /// Facts or relations changed.
    pub updated: BTreeSet<i64>,
    /// Validity newly ended.
    pub ended: BTreeSet<i64>,
    /// Removed.
    pub deleted: BTreeSet<i64>,
}

impl Touched {
    /// The events to write, one per organisation, the strongest operation winning.
    fn events(&self) -> Vec<(i64, &'static str)> {
        let created = self.created.iter().map(|&id| (id, "CREATED"));
        let deleted = self.deleted.iter().map(|&id| (id, "DELETED"));
        let ended = self
            .ended
            .iter()
            .filter(|id| !self.created.contains(id) && !self.deleted.contains(id))
            .map(|&id| (id, "ENDED"));
        let updated = self
            .updated
            .iter()
            .filter(|id| {
                !self.created.contains(id) && !self.deleted.contains(id) && !self.ended.contains(id)
            })
            .map(|&id| (id, "UPDATED"));
        created.chain(updated).chain(ended).chain(deleted).collect()
    }
}

/// Writes the events of `touched` on `txn` (and wakes subscribers at commit).
pub async fn record<C: ConnectionTrait>(
    txn: &C,
    touched: &Touched,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let events = touched.events();
    if events.is_empty() {
        return Ok(0);
    }
    feed_signal::order_events(txn).await?;
    for chunk in events.chunks(super::load::CHUNK) {
        change_event::Entity::insert_many(chunk.iter().map(|&(id, operation)| {
            change_event::ActiveModel {
                at: Set(now),
                entity_type: Set("Organisation".into()),
                entity_id: Set(id),
                operation: Set(operation.into()),
                organisation_id: Set(Some(id)),
                actor_organisation_id: Set(None),
                ..Default::default()
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    feed_signal::notify_on_commit(txn).await?;
    Ok(events.len())
}
