//! `referral_deadlines`: the terms an organisation commits to for the referrals it handles,
//! when they differ from the defaults.

use sea_orm::entity::prelude::*;

/// One organisation's referral terms.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_deadlines")]
pub struct Model {
    /// The organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: i64,
    /// Days it takes to acknowledge a referral, from its arrival.
    pub acknowledge_days: i32,
    /// Days it takes to answer, from the first filing (never more than the CRPA's two
    /// months); `None`: the two months.
    pub answer_days: Option<i32>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `referral_deadlines`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
