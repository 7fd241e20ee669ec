//! `transfer`: a competence moving from one organisation to another at an effective date,
//! once every party has consented.

use sea_orm::entity::prelude::*;

use crate::{TransferRule, TransferStatus};

/// One transfer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfer")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Competence code.
    pub competence_code: String,
    /// The organisation giving the competence; under a qualified majority, the receiver itself
    /// (the givers are its member communes, each a party).
    pub from_id: i64,
    /// The organisation receiving it.
    pub to_id: i64,
    /// First day the receiver holds it.
    pub effective_date: Date,
    /// Whether it moves the competence for the giver's whole territory (false when a group
    /// hands it back to one of its members).
    pub whole_territory: bool,
    /// Where it stands.
    pub status: TransferStatus,
    /// The party that proposed it.
    pub proposed_by_id: i64,
    /// Legal reference (deliberations, arrêté).
    pub legal_reference: Option<String>,
    /// Why it was rejected or withdrawn.
    pub reason: Option<String>,
    /// How the parties decide.
    pub rule: TransferRule,
    /// Under a qualified majority, the last day a council may decide; silence after it is
    /// approval.
    pub decision_deadline: Option<Date>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `transfer`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
