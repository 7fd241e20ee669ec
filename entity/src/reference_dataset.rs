//! `reference_dataset`: which national reference is loaded, and when.

use sea_orm::entity::prelude::*;

/// One loaded reference dataset.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reference_dataset")]
pub struct Model {
    /// Dataset name (`cog`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Content digest of the loaded snapshot.
    pub digest: String,
    /// Vintages it was built from, comma-separated.
    pub vintages: String,
    /// When it was last loaded.
    pub loaded_at: DateTimeUtc,
}

/// Relations of `reference_dataset`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
