//! `referral` and its hops: a person's request about a commune and a competence, routed to
//! the organisation competent for it, transmitted onward when it lands at the wrong door.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a referral stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferralStatus {
    /// Filed and routed; its handler has not acknowledged it yet.
    #[sea_orm(string_value = "FILED")]
    Filed,
    /// Its handler acknowledged it.
    #[sea_orm(string_value = "ACKNOWLEDGED")]
    Acknowledged,
    /// Its handler answered it.
    #[sea_orm(string_value = "ANSWERED")]
    Answered,
    /// Closed by its handler or its filer.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// One referral.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The commune it is about.
    pub commune_id: i64,
    /// BANATIC competence code.
    pub competence_code: String,
    /// Subject line (not personal data: no names).
    pub subject: String,
    /// The person's message (personal data).
    pub message: Option<String>,
    /// How to reach the person (personal data).
    pub contact: Option<String>,
    /// The organisation that filed it.
    pub filer_id: i64,
    /// The organisation handling it now.
    pub handler_id: i64,
    /// Where it stands.
    pub status: ReferralStatus,
    /// The answer's text (personal data: it answers a person).
    pub answer: Option<String>,
    /// When the handler must acknowledge it.
    pub acknowledge_due: DateTimeUtc,
    /// When the handler must answer it.
    pub answer_due: DateTimeUtc,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTimeUtc>,
    /// When it was answered.
    pub answered_at: Option<DateTimeUtc>,
    /// When it was closed.
    pub closed_at: Option<DateTimeUtc>,
    /// The person's satisfaction, 1 to 5.
    pub satisfaction: Option<i32>,
    /// Whether the person's request was resolved.
    pub resolved: Option<bool>,
    /// When its personal data was erased or purged.
    pub erased_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Filing time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
}

/// Relations of `referral`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
