//! `measurement`: a value of an indicator for a period (and a commune, or the whole
//! territory), contributed by its responsible party. A correction is a new row that
//! supersedes the old one, which stays as history.

use sea_orm::entity::prelude::*;

/// One measurement.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "measurement")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The indicator.
    pub indicator_id: i64,
    /// The commune it measures; null: the project's whole territory.
    pub commune_id: Option<i64>,
    /// First day of the period it measures.
    pub period: Date,
    /// The value, in the indicator's unit.
    pub value: f64,
    /// For a survey result: the number of answers per score, 1 to 5 (a JSON array).
    pub distribution: Option<String>,
    /// For a survey result: the number of answers.
    pub responses: Option<i64>,
    /// Where the value comes from.
    pub source: String,
    /// A comment.
    pub comment: Option<String>,
    /// The organisation that contributed it.
    pub recorded_by_id: i64,
    /// When it was recorded.
    pub recorded_at: DateTimeUtc,
    /// The measurement it corrects, if it is a correction.
    pub corrects: Option<i64>,
    /// When a correction superseded it; null while current.
    pub superseded_at: Option<DateTimeUtc>,
}

/// Relations of `measurement`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
