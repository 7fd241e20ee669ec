//! `resource_coverage`: who a resource may serve: the owner's members, a territory, or named organisations (one rule a row).

use sea_orm::entity::prelude::*;

use crate::CoverageScope;

/// One coverage rule.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_coverage")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The resource.
    pub resource_id: i64,
    /// What the rule covers.
    pub scope: CoverageScope,
    /// The territory or organisation named (none for the owner's members).
    pub organisation_id: Option<i64>,
}

/// Relations of `resource_coverage`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
