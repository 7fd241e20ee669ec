//! `competence`: one entry of the national nomenclature (BANATIC), versioned.

use sea_orm::entity::prelude::*;

/// One competence of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "competence")]
pub struct Model {
    /// BANATIC code (`C1005`…).
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// Official French label.
    pub label: String,
    /// BANATIC heading it sits under.
    pub category: String,
    /// Whether the heading is the source's (false: inferred from the code range).
    pub category_confirmed: bool,
    /// Nomenclature it belongs to (`BANATIC 2025`).
    pub nomenclature: String,
    /// Order in the nomenclature.
    pub position: i32,
}

/// Relations of `competence`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
