//! GraphQL enums of agreements, mirrored from the entity value types.

use async_graphql::Enum;

/// The legal form of an agreement.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::AgreementKind")]
pub enum AgreementKind {
    /// Convention de mutualisation.
    ConventionMutualisation,
    /// Convention creating a service commun (CGCT L5211-4-2).
    ServiceCommun,
    /// Mise à disposition of staff or equipment.
    MiseADisposition,
    /// Délégation de compétence (CGCT L1111-8): the delegatee exercises a competence in the
    /// delegator's name.
    DelegationCompetence,
    /// Entente intercommunale (CGCT L5221-1).
    Entente,
    /// Contrat de réciprocité.
    ContratReciprocite,
    /// Partnership with a non-public partner.
    Partnership,
    /// Any other agreement.
    Other,
}

/// Where an agreement stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::AgreementStatus")]
pub enum AgreementStatus {
    /// Being drafted; editable by the drafting party.
    Draft,
    /// Frozen; waiting for every party's signature.
    Proposed,
    /// Signed by every party, not in force yet.
    Signed,
    /// Signed and in force.
    Active,
    /// Signed and past its end date.
    Ended,
    /// Ended early by a party.
    Terminated,
}

/// The part a party plays in an agreement.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::PartyRole")]
pub enum PartyRole {
    /// Provides the service or resources.
    Provider,
    /// Benefits from them.
    Beneficiary,
    /// Funds.
    Funder,
    /// Delegates a competence.
    Delegator,
    /// Exercises a delegated competence.
    Delegatee,
    /// Any other party.
    Partner,
}
