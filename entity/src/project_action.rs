//! `project_action`: an action of a territorial project, under one of its axes.

use sea_orm::entity::prelude::*;

use crate::ActionStatus;

/// One action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_action")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The axis it belongs to ("Sobriété foncière").
    pub axis: String,
    /// Title.
    pub title: String,
    /// The party that pilots it.
    pub pilot_id: i64,
    /// Where it stands.
    pub status: ActionStatus,
    /// Planned budget, in euros.
    pub budget_planned: Option<i64>,
    /// Committed budget, in euros.
    pub budget_committed: Option<i64>,
    /// First day.
    pub starts_on: Option<Date>,
    /// Last day.
    pub ends_on: Option<Date>,
    /// Contributors, competences, resources and agreements it links (`{"contributors": [id],
    /// "competences": ["C2080"], "resources": [id], "agreements": [id]}`).
    pub links: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `project_action`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
