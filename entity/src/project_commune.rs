//! `project_commune`: a commune a territorial project covers.

use sea_orm::entity::prelude::*;

/// One covered commune.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_commune")]
pub struct Model {
    /// The project.
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: i64,
    /// The commune.
    #[sea_orm(primary_key, auto_increment = false)]
    pub commune_id: i64,
}

/// Relations of `project_commune`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
