//! `project_party`: a party to a territorial project and its role.

use sea_orm::entity::prelude::*;

use crate::ProjectRole;

/// One party role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_party")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The party.
    pub organisation_id: i64,
    /// Its role.
    pub role: ProjectRole,
}

/// Relations of `project_party`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
