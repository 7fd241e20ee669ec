//! `indicator`: what a territorial project measures, with its baseline; targets and
//! measurements are rows of their own.

use sea_orm::entity::prelude::*;

use crate::{Aggregation, Direction, IndicatorKind, Periodicity};

/// One indicator.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The action it follows, if one.
    pub action_id: Option<i64>,
    /// What feeds it.
    pub kind: IndicatorKind,
    /// For a barometer fed by referral ratings: only the referrals about this competence
    /// (all when null).
    pub competence_code: Option<String>,
    /// Name.
    pub name: String,
    /// Unit ("t", "%", "km", "count").
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// How often it is measured.
    pub periodicity: Periodicity,
    /// How it is computed.
    pub method: String,
    /// Where its figures come from.
    pub source: String,
    /// The party that contributes its measurements.
    pub responsible_id: i64,
    /// How communes' values make a territory's.
    pub aggregation: Aggregation,
    /// The value it starts from.
    pub baseline_value: f64,
    /// The period of the baseline.
    pub baseline_period: Date,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `indicator`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
