//! `reservation`: a request by an organisation for a quantity of a resource over a half-open period.

use sea_orm::entity::prelude::*;

use crate::ReservationStatus;

/// One reservation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservation")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The resource.
    pub resource_id: i64,
    /// The organisation requesting it.
    pub requester_id: i64,
    /// Quantity, in thousandths of the resource's unit.
    pub quantity_milli: i64,
    /// Start of the period (inclusive).
    pub starts_at: DateTimeUtc,
    /// End of the period (exclusive).
    pub ends_at: DateTimeUtc,
    /// What it is for.
    pub purpose: String,
    /// Where it stands.
    pub status: ReservationStatus,
    /// Why it was declined or cancelled.
    pub reason: Option<String>,
    /// The agreement that lets the requester use the resource, if any.
    pub agreement_id: Option<i64>,
    /// Token subject of who decided (none when the system did).
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `reservation`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
