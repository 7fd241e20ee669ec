//! GraphQL enums of competences, mirrored from the entity value types.

use async_graphql::Enum;

/// The part an organisation plays in a competence.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::CompetenceRole")]
pub enum CompetenceRole {
    /// Decides: the competent authority.
    Holder,
    /// Carries it out.
    Implementer,
    /// Pays for it.
    Financer,
    /// Is consulted.
    Consulted,
    /// Coordinates several holders ("chef de file").
    Lead,
}

/// What gives an organisation a competence.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::AssignmentBasis")]
pub enum AssignmentBasis {
    /// The law itself.
    Law,
    /// The organisation's statutes.
    Statutes,
    /// A completed transfer.
    Transfer,
    /// A delegation.
    Delegation,
    /// An agreement between organisations.
    Agreement,
}

/// Where a responsibility comes from, most specific first.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "crate::domain::competences::Layer")]
pub enum ResponsibilityLayer {
    /// Declared by an organisation (assignment, transfer, delegation).
    Declared,
    /// Given whole by a special status of the territory (Île-de-France Mobilités for
    /// mobility in Île-de-France, code des transports L1241-1).
    SpecialStatus,
    /// Mandatory for the commune's EPCI or EPT by law (CGCT).
    LegalBaseline,
    /// Held by a level of government by default (commune, département, région, State).
    LegalDefault,
}

/// How the parties to a transfer decide.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::TransferRule")]
pub enum TransferRule {
    /// Both parties approve (a member and a syndicat; a group handing a competence back).
    Unanimity,
    /// The member councils of an EPCI à fiscalité propre decide by the majority required to
    /// create it, silence for three months being approval (CGCT L5211-17, L5211-5).
    QualifiedMajority,
    /// An EPCI à fiscalité propre hands a competence the law does not impose back to all its
    /// member communes, whose councils decide by the same majority, silence for three months
    /// being refusal (CGCT L5211-17-1, L5211-5).
    Restitution,
}

/// Where a transfer stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::TransferStatus")]
pub enum TransferStatus {
    /// Waiting for every party's consent.
    Proposed,
    /// Every party approved: the assignments changed on the effective date.
    Completed,
    /// A party rejected it: nothing changed.
    Rejected,
    /// Its proposer withdrew it: nothing changed.
    Withdrawn,
}

/// A party's decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::ConsentDecision")]
pub enum ConsentDecision {
    /// Not decided yet.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

/// How the code asked about led to the commune answered for.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "crate::domain::competences::Through")]
pub enum ResolvedThrough {
    /// The code names the commune itself.
    Itself,
    /// The code names a commune déléguée or associée, or an arrondissement municipal, of it.
    PartOf,
    /// The code names a commune that merged into it before that date.
    Succession,
}
