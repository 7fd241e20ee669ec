//! `contact_point`: a way to reach an organisation, with who may see it.

use sea_orm::entity::prelude::*;

use crate::{ContactKind, Visibility};

/// One contact point.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_point")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning organisation.
    pub organisation_id: i64,
    /// What it is.
    pub kind: ContactKind,
    /// A label ("Accueil", "Service urbanisme"…).
    pub label: Option<String>,
    /// The address, number or URL.
    pub value: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `contact_point`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
