//! `change_event`: the change feed, one event per changed entity, in commit order.

use sea_orm::entity::prelude::*;

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_event")]
pub struct Model {
    /// Sequence number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When it was written.
    pub at: DateTimeUtc,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: i64,
    /// `CREATED`, `UPDATED`, `ENDED` or `DELETED`.
    pub operation: String,
    /// Organisation that owns the entity.
    pub organisation_id: Option<i64>,
    /// Organisation of the actor.
    pub actor_organisation_id: Option<i64>,
}

/// Relations of `change_event`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
