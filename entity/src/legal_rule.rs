//! `legal_rule`: one legal presumption of who holds a competence (EPCI baseline, default holder).

use sea_orm::entity::prelude::*;

use crate::RuleLayer;

/// One legal presumption.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_rule")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Competence code, or `*` for the residual rule (every competence no other rule gives).
    pub competence_code: String,
    /// Baseline (EPCI kind) or default (level of government).
    pub layer: RuleLayer,
    /// EPCI kind (`CC`, `CA`, `CU`, `METROPOLE`, `METROPOLE_LYON`) or level
    /// (`COMMUNE`, `DEPARTEMENT`, `REGION`, `STATE`).
    pub applies_to: String,
    /// Roles it gives, comma-separated (`HOLDER,IMPLEMENTER,FINANCER`).
    pub roles: String,
    /// A condition the law attaches, when it is not plainly mandatory.
    pub condition: Option<String>,
    /// Where the rule comes from (article, note).
    pub source: String,
}

/// Relations of `legal_rule`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
