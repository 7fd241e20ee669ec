//! The audit trail and the change feed, written in the transaction of the change they describe.

use entity::{audit_record, change_event};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde_json::Value;

use crate::auth::Actor;

/// Who is writing, in which request.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// When the write happens, read once from the application's clock: every timestamp it
    /// stores is this one.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The actor.
    pub actor: Actor,
    /// The request id, echoed to the client and stored in the audit trail.
    pub request_id: String,
    /// Feed subscribers of this process, woken once the write commits (none: tools that
    /// write outside a server).
    pub feed: super::unit_of_work::Wake,
    /// The gate this process's writers take turns at (none: tools that write alone).
    pub gate: super::unit_of_work::Gate,
}

/// What a change did to its entity, as the change feed says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A new entity.
    Created,
    /// A changed entity.
    Updated,
    /// An entity whose validity ended.
    Ended,
    /// A removed entity.
    Deleted,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Created => "CREATED",
            Operation::Updated => "UPDATED",
            Operation::Ended => "ENDED",
            Operation::Deleted => "DELETED",
        }
    }
}

/// One change to record.
pub struct Change<'a> {
    /// The mutation (`updateOrganisationProfile`…).
    pub action: &'a str,
    /// Entity type (`Organisation`, `ContactPoint`…).
    pub entity_type: &'a str,
    /// Entity id.
    pub entity_id: i64,
    /// Organisation that owns the data.
    pub owner: Option<i64>,
    /// What happened to the entity.
    pub operation: Operation,
    /// State before.
    pub before: Option<Value>,
    /// State after.
    pub after: Option<Value>,
}

/// Appends the audit record and the change event of `change`, on `txn`.
pub async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    change: Change<'_>,
) -> Result<(), DbErr> {
    let now = ctx.now;
    let roles = ctx
        .actor
        .roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    audit_record::Entity::insert(audit_record::ActiveModel {
        at: Set(now),
        actor_subject: Set(ctx.actor.subject.clone()),
        actor_organisation_id: Set(ctx.actor.organisation_id),
        actor_roles: Set(roles),
        organisation_id: Set(change.owner),
        action: Set(change.action.to_owned()),
        entity_type: Set(change.entity_type.to_owned()),
        entity_id: Set(change.entity_id),
        before: Set(change.before.map(|v| v.to_string())),
        after: Set(change.after.map(|v| v.to_string())),
        request_id: Set(ctx.request_id.clone()),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    // Re-entrant within the transaction: only the first call waits.
    super::feed_signal::order_events(txn).await?;
    change_event::Entity::insert(change_event::ActiveModel {
        at: Set(now),
        entity_type: Set(change.entity_type.to_owned()),
        entity_id: Set(change.entity_id),
        operation: Set(change.operation.as_str().to_owned()),
        organisation_id: Set(change.owner),
        actor_organisation_id: Set(ctx.actor.organisation_id),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    super::feed_signal::notify_on_commit(txn).await
}
