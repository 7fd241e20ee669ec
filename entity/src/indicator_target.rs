//! `indicator_target`: a value an indicator should reach by a date.

use sea_orm::entity::prelude::*;

/// One dated target.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_target")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The indicator.
    pub indicator_id: i64,
    /// By when.
    pub due_on: Date,
    /// The value to reach.
    pub value: f64,
}

/// Relations of `indicator_target`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
