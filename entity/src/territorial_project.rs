//! `territorial_project`: a projet de territoire, CRTE or programme contract; its parties,
//! communes, actions and indicators are rows of their own.

use sea_orm::entity::prelude::*;

use crate::{ProjectKind, ProjectStatus};

/// One territorial project.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "territorial_project")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Programme or form.
    pub kind: ProjectKind,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: Option<String>,
    /// The party that drafted it.
    pub drafted_by_id: i64,
    /// Where its signature stands.
    pub status: ProjectStatus,
    /// First day in force.
    pub valid_from: Date,
    /// Day after the last in force; null while open.
    pub valid_to: Option<Date>,
    /// When the last signatory signed.
    pub signed_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `territorial_project`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
