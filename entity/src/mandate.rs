//! `mandate`: an organisation's grant to another (a partner application's) to act for it,
//! with the roles it may use, for a period, until revoked.

use sea_orm::entity::prelude::*;

/// One mandate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mandate")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organisation that grants it (acted for).
    pub grantor_id: i64,
    /// The organisation that receives it (acting).
    pub grantee_id: i64,
    /// The roles it grants, comma-separated lowercase role names (`editor,partner`).
    pub roles: String,
    /// Start (inclusive).
    pub valid_from: DateTimeUtc,
    /// End (exclusive); none while open-ended.
    pub valid_to: Option<DateTimeUtc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `mandate`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
