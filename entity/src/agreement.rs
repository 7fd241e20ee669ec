//! `agreement`: a convention between organisations, with its lifecycle; parties, links and documents are child rows.

use sea_orm::entity::prelude::*;

use crate::{AgreementKind, AgreementStatus};

/// One agreement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Legal form.
    pub kind: AgreementKind,
    /// Title.
    pub title: String,
    /// Legal basis (e.g. CGCT L5211-4-2).
    pub legal_basis: Option<String>,
    /// The party drafting it.
    pub drafted_by_id: i64,
    /// Stored state (`DRAFT`, `PROPOSED`, `SIGNED`, `TERMINATED`).
    pub status: AgreementStatus,
    /// First day in force (required to propose).
    pub valid_from: Option<Date>,
    /// Day after the last in force; null while open.
    pub valid_to: Option<Date>,
    /// Financial terms.
    pub financial_terms: Option<String>,
    /// Whether beneficiaries book linked resources without the owner's approval.
    pub direct_booking: bool,
    /// When the last party signed.
    pub signed_at: Option<DateTimeUtc>,
    /// First day no longer in force, when terminated.
    pub terminated_on: Option<Date>,
    /// The party that terminated it.
    pub terminated_by_id: Option<i64>,
    /// Why it was terminated.
    pub termination_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `agreement`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
