//! `agreement_party`: a party to an agreement and its role (an organisation may hold several roles).

use sea_orm::entity::prelude::*;

use crate::PartyRole;

/// One party role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_party")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The agreement.
    pub agreement_id: i64,
    /// The party.
    pub organisation_id: i64,
    /// Its role.
    pub role: PartyRole,
}

/// Relations of `agreement_party`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
