//! `referral_hop`: one step of a referral's route: the first routing (no `from`) and each
//! transmission, with who sent it where, why, and the legal source of a routing.

use sea_orm::entity::prelude::*;

/// One hop.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_hop")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The referral.
    pub referral_id: i64,
    /// Position in the route, from 0 (the first routing).
    pub position: i32,
    /// The organisation that transmitted it; none for the first routing.
    pub from_id: Option<i64>,
    /// The organisation it went to.
    pub to_id: i64,
    /// Why: the routing's layer and source, or the transmitter's reason.
    pub reason: String,
    /// When.
    pub at: DateTimeUtc,
}

/// Relations of `referral_hop`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
