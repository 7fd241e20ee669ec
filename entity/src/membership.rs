//! `membership`: a dated link from a member organisation to a group organisation.

use sea_orm::entity::prelude::*;

use crate::MembershipKind;

/// One membership over one period.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The member organisation.
    pub member_id: i64,
    /// The group organisation.
    pub group_id: i64,
    /// Kind of link.
    pub kind: MembershipKind,
    /// First day (inclusive); `None` when it predates the data.
    pub valid_from: Option<Date>,
    /// End (exclusive); `None` while it holds.
    pub valid_to: Option<Date>,
    /// Where the fact comes from: `COG` or `DECLARED`.
    pub source: String,
    /// Reference vintages that observed it, comma-separated.
    pub vintages: Option<String>,
    /// Stable key of a reference record.
    #[sea_orm(unique)]
    pub reference_key: Option<String>,
}

/// Relations of `membership`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The member.
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::MemberId",
        to = "super::organisation::Column::Id"
    )]
    Member,
    /// The group.
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::GroupId",
        to = "super::organisation::Column::Id"
    )]
    Group,
}

impl ActiveModelBehavior for ActiveModel {}
