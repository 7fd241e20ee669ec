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
    /// EPCI kind (`CC`, `CA`, `CU`, `METROPOLE`, `METROPOLE_LYON`, `EPT`), one grouping the
    /// law names (`SIREN:200054781`, the Métropole du Grand Paris), or level (`COMMUNE`,
    /// `DEPARTEMENT`, `REGION`, `STATE`).
    pub applies_to: String,
    /// Roles it gives, comma-separated (`HOLDER,IMPLEMENTER,FINANCER`).
    pub roles: String,
    /// A condition the law attaches, when it is not plainly mandatory.
    pub condition: Option<String>,
    /// The legal reference ("CGCT L5219-5", "Code de l'éducation L213-2").
    pub source: String,
    /// Whether the law reserves the competence to the level the rule names: declarations
    /// giving it to anyone else are refused unless made by delegation or agreement.
    pub reserved: bool,
}

/// Relations of `legal_rule`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
