//! `idempotency_record`: the first result of a create, replayed for a retried key.

use sea_orm::entity::prelude::*;

/// One idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_record")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Token subject that sent the key.
    pub actor_subject: String,
    /// The client's key.
    pub key: String,
    /// The mutation it was used with.
    pub operation: String,
    /// Digest of the input it was used with.
    pub input_hash: String,
    /// The entity the first call created.
    pub entity_id: i64,
    /// When.
    pub created_at: DateTimeUtc,
}

/// Relations of `idempotency_record`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
