//! GraphQL enums of resources and reservations, mirrored from the entity value types.

use async_graphql::Enum;

/// What kind of thing a resource is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::ResourceKind")]
pub enum ResourceKind {
    /// A service commun (CGCT L5211-4-2).
    ServiceCommun,
    /// Staff made available.
    Staff,
    /// Equipment lent.
    Equipment,
    /// Vehicles lent.
    Vehicle,
    /// Rooms or buildings lent.
    Building,
    /// Expertise shared.
    Expertise,
    /// Data shared.
    Data,
    /// Anything else.
    Other,
}

/// What using a resource costs.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::CostModel")]
pub enum CostModel {
    /// Free of charge ("mécénat public en nature").
    Free,
    /// Costs shared between the users.
    CostSharing,
    /// A flat fee per reservation (`costAmount`).
    FlatFee,
}

/// Whether a resource takes requests.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::ResourceStatus")]
pub enum ResourceStatus {
    /// Open to requests.
    Available,
    /// Temporarily closed to new requests.
    Suspended,
    /// No longer shared (final).
    Retired,
}

/// How requests for a resource are decided.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::BookingPolicy")]
pub enum BookingPolicy {
    /// The owner's editors approve or decline each request.
    Approval,
    /// First come, first served within capacity.
    Automatic,
}

/// Where a reservation stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::ReservationStatus")]
pub enum ReservationStatus {
    /// Waiting for the owner's decision.
    Requested,
    /// Approved: its quantity is taken from the capacity.
    Approved,
    /// Declined by the owner.
    Declined,
    /// Cancelled.
    Cancelled,
}

/// Which side of reservations an organisation looks at.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationSide {
    /// Reservations of the resources it owns.
    Owner,
    /// Reservations it requested.
    Requester,
}
