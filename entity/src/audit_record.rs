//! `audit_record`: who changed what, when, from what to what. Append-only.

use sea_orm::entity::prelude::*;

/// One audited change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_record")]
pub struct Model {
    /// Sequence number.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When the change was committed.
    pub at: DateTimeUtc,
    /// Token subject of the actor.
    pub actor_subject: Option<String>,
    /// Organisation the actor acted for.
    pub actor_organisation_id: Option<i64>,
    /// Roles of the actor, comma-separated.
    pub actor_roles: String,
    /// Organisation that owns the changed data.
    pub organisation_id: Option<i64>,
    /// Action (`updateOrganisationProfile`…).
    pub action: String,
    /// Entity type (`Organisation`, `ContactPoint`…).
    pub entity_type: String,
    /// Entity id.
    pub entity_id: i64,
    /// State before, as JSON.
    pub before: Option<String>,
    /// State after, as JSON.
    pub after: Option<String>,
    /// Request id.
    pub request_id: String,
}

/// Relations of `audit_record`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
