//! Value types of competences, assignments, transfers and consents, stored as text columns.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The part an organisation plays in a competence.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompetenceRole {
    /// Decides: the competent authority.
    #[sea_orm(string_value = "HOLDER")]
    Holder,
    /// Carries it out.
    #[sea_orm(string_value = "IMPLEMENTER")]
    Implementer,
    /// Pays for it.
    #[sea_orm(string_value = "FINANCER")]
    Financer,
    /// Is consulted.
    #[sea_orm(string_value = "CONSULTED")]
    Consulted,
    /// Leads the coordination of several holders ("chef de file").
    #[sea_orm(string_value = "LEAD")]
    Lead,
}

/// What gives an organisation a competence.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssignmentBasis {
    /// The law itself.
    #[sea_orm(string_value = "LAW")]
    Law,
    /// The organisation's statutes.
    #[sea_orm(string_value = "STATUTES")]
    Statutes,
    /// A completed transfer.
    #[sea_orm(string_value = "TRANSFER")]
    Transfer,
    /// A delegation (by agreement or by law).
    #[sea_orm(string_value = "DELEGATION")]
    Delegation,
    /// An agreement between organisations.
    #[sea_orm(string_value = "AGREEMENT")]
    Agreement,
}

/// Where a legal presumption comes from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleLayer {
    /// Mandatory for a kind of EPCI.
    #[sea_orm(string_value = "LEGAL_BASELINE")]
    LegalBaseline,
    /// Held by a level of government by default.
    #[sea_orm(string_value = "LEGAL_DEFAULT")]
    LegalDefault,
}

/// Where a transfer stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatus {
    /// Waiting for every party's consent.
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    /// Every party approved: the assignments changed.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// A party rejected it: nothing changed.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Its proposer withdrew it: nothing changed.
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

/// How the parties to a transfer decide.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferRule {
    /// Both parties approve (a commune and a syndicat, a group handing a competence back).
    #[sea_orm(string_value = "UNANIMITY")]
    Unanimity,
    /// The member councils of an EPCI à fiscalité propre decide by the qualified majority
    /// required to create it; silence for three months is approval (CGCT L5211-17).
    #[sea_orm(string_value = "QUALIFIED_MAJORITY")]
    QualifiedMajority,
    /// An EPCI à fiscalité propre hands a competence the law does not impose back to all its
    /// member communes: their councils decide by the same majority, silence for three months
    /// being refusal (CGCT L5211-17-1).
    #[sea_orm(string_value = "RESTITUTION")]
    Restitution,
}

/// A party's decision on a multi-party change.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsentDecision {
    /// Not decided yet.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Approved.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Rejected.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}
