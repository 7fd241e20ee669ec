//! The retention of referrals' personal data: the message, the contact and the answer are
//! purged once a referral has seen no step for the retention period, while everything the
//! figures are made of (dates, route, status, rating) stays. Each purge is a versioned change,
//! audited without the purged content, like an erasure on request.

use chrono::{DateTime, Duration, Utc};
use entity::referral;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::audit_json;
use crate::auth::Actor;
use crate::domain::audit::{Change, Operation, WriteContext};
use crate::domain::unit_of_work::{Gate, Wake};
use crate::error::AppResult;

/// Days a referral's personal data are kept after its last step, unless configured.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
/// Referrals purged per transaction.
const BATCH: u64 = 200;

/// Purges the personal data of every referral whose last step is older than `retention` at
/// `now`; returns how many were purged. Safe to run on several instances at once: each purge
/// is conditional on the version it read.
pub async fn purge(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    retention: Duration,
    (feed, gate): (Wake, Gate),
) -> AppResult<u64> {
    let ctx = WriteContext {
        now,
        actor: Actor {
            subject: Some("maillage:retention".into()),
            ..Actor::default()
        },
        request_id: format!("retention-{}", now.timestamp()),
        feed,
        gate,
    };
    let cutoff = now - retention;
    let mut purged = 0;
    loop {
        let due: Vec<referral::Model> = referral::Entity::find()
            .filter(referral::Column::ErasedAt.is_null())
            .filter(referral::Column::UpdatedAt.lt(cutoff))
            .order_by_asc(referral::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        if due.is_empty() {
            return Ok(purged);
        }
        let txn = crate::domain::UnitOfWork::begin(db, &ctx).await?;
        for before in &due {
            let done = referral::Entity::update_many()
                .set(referral::ActiveModel {
                    message: Set(None),
                    contact: Set(None),
                    answer: Set(None),
                    erased_at: Set(Some(now)),
                    version: Set(before.version + 1),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .filter(referral::Column::Id.eq(before.id))
                .filter(referral::Column::Version.eq(before.version))
                .exec(&txn)
                .await?;
            // A step taken meanwhile renews the referral: it is not due any more.
            if done.rows_affected != 1 {
                continue;
            }
            let mut after = before.clone();
            after.erased_at = Some(now);
            after.version += 1;
            txn.record(Change {
                action: "purgeReferralPersonalData",
                entity_type: "Referral",
                entity_id: before.id,
                owner: Some(before.handler_id),
                operation: Operation::Updated,
                before: Some(audit_json(before)),
                after: Some(audit_json(&after)),
            })
            .await?;
            purged += 1;
        }
        txn.commit().await?;
        if (due.len() as u64) < BATCH {
            return Ok(purged);
        }
    }
}
