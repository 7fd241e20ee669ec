//! `consent`: one party's decision on a multi-party change (a transfer, an agreement).

use sea_orm::entity::prelude::*;

use crate::ConsentDecision;

/// One party's consent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What is decided on (`Transfer`, `Agreement`).
    pub subject_type: String,
    /// Its id.
    pub subject_id: i64,
    /// The party.
    pub party_id: i64,
    /// Its decision.
    pub decision: ConsentDecision,
    /// Token subject of the person who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTimeUtc>,
    /// Why (for a rejection).
    pub reason: Option<String>,
}

/// Relations of `consent`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
