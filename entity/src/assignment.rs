//! `assignment`: a competence an organisation declares it exercises, with role, basis, scope
//! and validity.

use sea_orm::entity::prelude::*;

use crate::{AssignmentBasis, CompetenceRole};

/// One declared assignment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organisation exercising the competence.
    pub organisation_id: i64,
    /// Competence code.
    pub competence_code: String,
    /// Its role.
    pub role: CompetenceRole,
    /// What gives it the competence.
    pub basis: AssignmentBasis,
    /// Whether it covers the organisation's whole territory (else the communes of
    /// `assignment_scope`).
    pub whole_territory: bool,
    /// First day (inclusive); null = open.
    pub valid_from: Option<Date>,
    /// Last day (exclusive); null = open.
    pub valid_to: Option<Date>,
    /// Legal reference (deliberation, arrêté, statutes article).
    pub legal_reference: Option<String>,
    /// The transfer that created it, if any.
    pub transfer_id: Option<i64>,
    /// The agreement that yields it, if any.
    pub agreement_id: Option<i64>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `assignment`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
