//! `assignment_scope`: the communes an assignment covers when it does not cover its
//! organisation's whole territory ("syndicat à la carte").

use sea_orm::entity::prelude::*;

/// One commune of an assignment's scope.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment_scope")]
pub struct Model {
    /// The assignment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub assignment_id: i64,
    /// A commune it covers.
    #[sea_orm(primary_key, auto_increment = false)]
    pub commune_id: i64,
}

/// Relations of `assignment_scope`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
