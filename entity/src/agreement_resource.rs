//! `agreement_resource`: a resource an agreement covers.

use sea_orm::entity::prelude::*;

/// One linked resource.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_resource")]
pub struct Model {
    /// The agreement.
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: i64,
    /// The resource.
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: i64,
}

/// Relations of `agreement_resource`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
