//! `agreement_document`: a document of an agreement (the signed convention, annexes).

use sea_orm::entity::prelude::*;

/// One document.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreement_document")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The agreement.
    pub agreement_id: i64,
    /// Title.
    pub title: String,
    /// Where it is published.
    pub url: String,
}

/// Relations of `agreement_document`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
