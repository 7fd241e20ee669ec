//! `succession`: a predecessor organisation replaced by a successor on a date.

use sea_orm::entity::prelude::*;

use crate::SuccessionKind;

/// One predecessor → successor link.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "succession")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organisation that ceased.
    pub predecessor_id: i64,
    /// The organisation that took over.
    pub successor_id: i64,
    /// Date the succession took effect.
    pub date: Date,
    /// Kind of succession.
    pub kind: SuccessionKind,
    /// Where the fact comes from.
    pub source: String,
    /// Stable key of a reference record.
    #[sea_orm(unique)]
    pub reference_key: Option<String>,
}

/// Relations of `succession`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
