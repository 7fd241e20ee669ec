//! `resource`: something an organisation shares (service commun, staff, equipment…), with its capacity, coverage, cost and booking policy.

use sea_orm::entity::prelude::*;

use crate::{BookingPolicy, CostModel, ResourceKind, ResourceStatus, Visibility};

/// One shared resource.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organisation sharing it.
    pub owner_id: i64,
    /// What it is.
    pub kind: ResourceKind,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Name, description and conditions folded for accent- and case-insensitive matching.
    pub search_text: String,
    /// Capacity in thousandths of `unit` (0.5 FTE = 500), so that sums are exact.
    pub capacity_milli: i64,
    /// Unit of the capacity (vehicle, FTE, room…).
    pub unit: String,
    /// The commune where it is.
    pub location_id: Option<i64>,
    /// What using it costs.
    pub cost_model: CostModel,
    /// Amount of a flat fee, in euro cents.
    pub cost_amount_cents: Option<i64>,
    /// Conditions of use.
    pub conditions: Option<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// Whether it can be requested.
    pub status: ResourceStatus,
    /// How requests are decided.
    pub booking_policy: BookingPolicy,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `resource`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
