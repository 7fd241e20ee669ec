//! `agreement_competence`: a competence an agreement covers, with the role the delegatee plays in it.

use sea_orm::entity::prelude::*;

use crate::CompetenceRole;

/// One linked competence.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_competence")]
pub struct Model {
    /// The agreement.
    #[sea_orm(primary_key, auto_increment = false)]
    pub agreement_id: i64,
    /// Competence code (BANATIC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub competence_code: String,
    /// The role a delegation gives the delegatee.
    pub role: CompetenceRole,
}

/// Relations of `agreement_competence`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
