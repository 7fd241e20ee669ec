//! The terms a handler has for a referral: to acknowledge it from its arrival, and to answer it
//! from the first filing. Defaults are [`ACKNOWLEDGE_DAYS`] and the CRPA's two months; an
//! organisation's admins may commit their service to shorter terms, never to a longer answer.

use chrono::{DateTime, Duration, Months, Utc};
use entity::referral_deadlines;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::auth::Role;
use crate::domain::audit::{Change, Operation, WriteContext};
use crate::domain::versioned;
use crate::error::{AppError, AppResult};

/// Days a handler has to acknowledge a referral, from its arrival at that handler, unless it
/// set its own.
pub const ACKNOWLEDGE_DAYS: i32 = 7;
/// Months a handler has to answer, from the first filing: the CRPA's two months (L231-1,
/// L231-4), which a transmission does not restart (L114-2).
pub const ANSWER_MONTHS: u32 = 2;
/// Longest acknowledgement term an organisation may set.
pub const MAX_ACKNOWLEDGE_DAYS: i32 = 30;

/// One organisation's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// Days to acknowledge, from arrival.
    pub acknowledge_days: i32,
    /// Days to answer from the first filing; `None`: the CRPA's two months.
    pub answer_days: Option<i32>,
    /// Version of the setting (0: never set, the defaults apply).
    pub version: i64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            acknowledge_days: ACKNOWLEDGE_DAYS,
            answer_days: None,
            version: 0,
        }
    }
}

impl Deadlines {
    /// When a referral arriving at `arrived` must be acknowledged.
    pub fn acknowledge_due(&self, arrived: DateTime<Utc>) -> DateTime<Utc> {
        arrived + Duration::days(i64::from(self.acknowledge_days))
    }

    /// When a referral first filed at `filed` must be answered: the organisation's term, and
    /// never later than the CRPA's two months.
    pub fn answer_due(&self, filed: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
        let legal = filed
            .checked_add_months(Months::new(ANSWER_MONTHS))
            .ok_or(AppError::Internal)?;
        Ok(match self.answer_days {
            Some(days) => legal.min(filed + Duration::days(i64::from(days))),
            None => legal,
        })
    }
}

impl From<referral_deadlines::Model> for Deadlines {
    fn from(m: referral_deadlines::Model) -> Self {
        Self {
            acknowledge_days: m.acknowledge_days,
            answer_days: m.answer_days,
            version: m.version,
        }
    }
}

/// The terms of `org` (the defaults when it set none).
pub async fn of<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<Deadlines> {
    Ok(referral_deadlines::Entity::find_by_id(org)
        .one(db)
        .await?
        .map(Deadlines::from)
        .unwrap_or_default())
}

/// Sets the terms of `org`, based on `version` (0 when they were never set); for its admins.
pub async fn set(
    db: &sea_orm::DatabaseConnection,
    ctx: &WriteContext,
    org: i64,
    acknowledge_days: i32,
    answer_days: Option<i32>,
    version: i64,
) -> AppResult<Deadlines> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    if !ctx.actor.acts_for(org, &[Role::Admin]) {
        return Err(AppError::Forbidden(
            "only the organisation's admins set the terms of its service".into(),
        ));
    }
    if !(1..=MAX_ACKNOWLEDGE_DAYS).contains(&acknowledge_days) {
        return Err(AppError::bad_input(
            "input.acknowledgeDays",
            format!("an acknowledgement term is from 1 to {MAX_ACKNOWLEDGE_DAYS} days"),
        ));
    }
    if answer_days.is_some_and(|d| !(1..=62).contains(&d)) {
        return Err(AppError::bad_input(
            "input.answerDays",
            "an answer term is from 1 day to the CRPA's two months (62 days at most; the two \
             months apply whichever is shorter); omit it for the two months",
        ));
    }
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = of(&txn, org).await?;
    if before.version != version {
        return Err(AppError::stale("referral deadlines", before.version));
    }
    let row = referral_deadlines::ActiveModel {
        organisation_id: Set(org),
        acknowledge_days: Set(acknowledge_days),
        answer_days: Set(answer_days),
        version: Set(version + 1),
        updated_at: Set(ctx.now),
    };
    if version == 0 {
        // Two first settings at once: the primary key lets one in, the other is a conflict.
        referral_deadlines::Entity::insert(row).exec(&txn).await?;
    } else {
        versioned::save(&txn, row, org, version, ctx.now).await?;
    }
    let after = of(&txn, org).await?;
    let as_json = |d: &Deadlines| json!({"acknowledgeDays": d.acknowledge_days, "answerDays": d.answer_days, "version": d.version});
    txn.record(Change {
        action: "setReferralDeadlines",
        entity_type: "Organisation",
        entity_id: org,
        owner: Some(org),
        operation: Operation::Updated,
        before: Some(as_json(&before)),
        after: Some(as_json(&after)),
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}
