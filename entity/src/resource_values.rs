//! Value types of resources, reservations and agreements, stored as text columns.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of thing a resource is.
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
pub enum ResourceKind {
    /// A service commun (CGCT L5211-4-2).
    #[sea_orm(string_value = "SERVICE_COMMUN")]
    ServiceCommun,
    /// Staff made available.
    #[sea_orm(string_value = "STAFF")]
    Staff,
    /// Equipment lent.
    #[sea_orm(string_value = "EQUIPMENT")]
    Equipment,
    /// Vehicles lent.
    #[sea_orm(string_value = "VEHICLE")]
    Vehicle,
    /// Rooms or buildings lent.
    #[sea_orm(string_value = "BUILDING")]
    Building,
    /// Expertise shared.
    #[sea_orm(string_value = "EXPERTISE")]
    Expertise,
    /// Data shared.
    #[sea_orm(string_value = "DATA")]
    Data,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// What using a resource costs.
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
pub enum CostModel {
    /// Free of charge ("mécénat public en nature").
    #[sea_orm(string_value = "FREE")]
    Free,
    /// Costs shared between the users.
    #[sea_orm(string_value = "COST_SHARING")]
    CostSharing,
    /// A flat fee per reservation.
    #[sea_orm(string_value = "FLAT_FEE")]
    FlatFee,
}

/// Whether a resource can be requested.
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
pub enum ResourceStatus {
    /// Open to requests.
    #[sea_orm(string_value = "AVAILABLE")]
    Available,
    /// Temporarily closed to new requests.
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
    /// No longer shared.
    #[sea_orm(string_value = "RETIRED")]
    Retired,
}

/// How requests for a resource are decided.
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
pub enum BookingPolicy {
    /// The owner's editors approve or decline each request.
    #[sea_orm(string_value = "APPROVAL")]
    Approval,
    /// First come, first served within capacity.
    #[sea_orm(string_value = "AUTOMATIC")]
    Automatic,
}

/// Who a resource may serve, one rule per row.
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
pub enum CoverageScope {
    /// The members of the owner (directly or through their groups).
    #[sea_orm(string_value = "OWNER_MEMBERS")]
    OwnerMembers,
    /// Every organisation within a territory (a département, an EPCI…).
    #[sea_orm(string_value = "TERRITORY")]
    Territory,
    /// One named organisation.
    #[sea_orm(string_value = "ORGANISATION")]
    Organisation,
}

/// Where a reservation stands.
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
pub enum ReservationStatus {
    /// Waiting for the owner's decision.
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    /// Approved: its quantity is taken from the capacity.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Declined by the owner.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Cancelled by the requester (or the owner).
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// The legal form of an agreement.
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
pub enum AgreementKind {
    /// Convention de mutualisation.
    #[sea_orm(string_value = "CONVENTION_MUTUALISATION")]
    ConventionMutualisation,
    /// Convention creating a service commun.
    #[sea_orm(string_value = "SERVICE_COMMUN")]
    ServiceCommun,
    /// Mise à disposition of staff or equipment.
    #[sea_orm(string_value = "MISE_A_DISPOSITION")]
    MiseADisposition,
    /// Délégation de compétence (CGCT L1111-8).
    #[sea_orm(string_value = "DELEGATION_COMPETENCE")]
    DelegationCompetence,
    /// Entente intercommunale (CGCT L5221-1).
    #[sea_orm(string_value = "ENTENTE")]
    Entente,
    /// Contrat de réciprocité.
    #[sea_orm(string_value = "CONTRAT_RECIPROCITE")]
    ContratReciprocite,
    /// Partnership with a non-public partner.
    #[sea_orm(string_value = "PARTNERSHIP")]
    Partnership,
    /// Any other agreement.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Stored lifecycle state of an agreement; `ACTIVE` and `ENDED` follow from the dates of a signed one.
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
pub enum AgreementStatus {
    /// Being drafted; editable by the drafting party.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Frozen; waiting for every party's signature.
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    /// Signed by every party.
    #[sea_orm(string_value = "SIGNED")]
    Signed,
    /// Signed and in force (derived, never stored).
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Signed and past its end date (derived, never stored).
    #[sea_orm(string_value = "ENDED")]
    Ended,
    /// Ended early by a party.
    #[sea_orm(string_value = "TERMINATED")]
    Terminated,
}

/// The part a party plays in an agreement.
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
pub enum PartyRole {
    /// Provides the service or resources.
    #[sea_orm(string_value = "PROVIDER")]
    Provider,
    /// Benefits from them.
    #[sea_orm(string_value = "BENEFICIARY")]
    Beneficiary,
    /// Funds.
    #[sea_orm(string_value = "FUNDER")]
    Funder,
    /// Delegates a competence.
    #[sea_orm(string_value = "DELEGATOR")]
    Delegator,
    /// Exercises a delegated competence.
    #[sea_orm(string_value = "DELEGATEE")]
    Delegatee,
    /// Any other party.
    #[sea_orm(string_value = "PARTNER")]
    Partner,
}
