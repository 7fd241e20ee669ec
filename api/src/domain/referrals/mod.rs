//! Referrals, the guichet that acts: a person's request about a commune and a competence is
//! routed to the organisation competent for it (the same resolution as `responsibilities`),
//! transmitted onward when it lands at the wrong door (CRPA L114-2), tracked to its answer and
//! rated. The message, the contact and the answer are personal data: only the filer and the
//! organisations on the route see them.

pub mod barometer;
pub mod deadlines;
pub mod retention;
mod steps;

pub use deadlines::{ACKNOWLEDGE_DAYS, ANSWER_MONTHS, Deadlines};
pub use steps::{NewReferral, Step, file, step};

use chrono::{DateTime, Utc};
use entity::{ReferralStatus, referral, referral_hop};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::auth::{Actor, Role};
use crate::error::AppResult;
use serde_json::json;

/// A referral with its route, as the domain returns it.
#[derive(Debug, Clone)]
pub struct Referral {
    /// The referral.
    pub model: referral::Model,
    /// Its route: the first routing, then each transmission.
    pub hops: Vec<referral_hop::Model>,
}

impl Referral {
    /// Whether `actor` may see it: the staff (or mandated applications) of its filer and of
    /// every organisation on its route.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        let staff = [Role::Editor, Role::Admin, Role::Partner];
        actor.acts_for(self.model.filer_id, &staff)
            || self.hops.iter().any(|h| {
                actor.acts_for(h.to_id, &staff)
                    || h.from_id.is_some_and(|f| actor.acts_for(f, &staff))
            })
    }

    /// Whether it is overdue at `now`: not acknowledged, or not answered, past its due date.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        let m = &self.model;
        match m.status {
            ReferralStatus::Filed => now > m.acknowledge_due || now > m.answer_due,
            ReferralStatus::Acknowledged => now > m.answer_due,
            ReferralStatus::Answered | ReferralStatus::Closed => false,
        }
    }
}

/// What the audit trail and the feed keep of a referral: never its personal data.
pub(crate) fn audit_json(r: &referral::Model) -> serde_json::Value {
    json!({
        "communeId": r.commune_id, "competenceCode": r.competence_code, "filerId": r.filer_id,
        "handlerId": r.handler_id, "status": r.status, "satisfaction": r.satisfaction,
        "resolved": r.resolved, "erased": r.erased_at.is_some(), "version": r.version,
    })
}

async fn with_hops<C: ConnectionTrait>(
    db: &C,
    rows: Vec<referral::Model>,
) -> AppResult<Vec<Referral>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut routes: std::collections::HashMap<i64, Vec<referral_hop::Model>> =
        std::collections::HashMap::new();
    for hop in referral_hop::Entity::find()
        .filter(referral_hop::Column::ReferralId.is_in(ids))
        .order_by_asc(referral_hop::Column::Position)
        .all(db)
        .await?
    {
        routes.entry(hop.referral_id).or_default().push(hop);
    }
    Ok(rows
        .into_iter()
        .map(|model| Referral {
            hops: routes.remove(&model.id).unwrap_or_default(),
            model,
        })
        .collect())
}

/// Referrals by id on any connection, with their routes, whoever may see them.
pub(crate) async fn by_ids_in<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Referral>> {
    let rows = referral::Entity::find()
        .filter(referral::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    with_hops(db, rows).await
}

/// One referral, when `actor` may see it.
pub async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<Referral>> {
    Ok(by_ids_in(db, &[id])
        .await?
        .pop()
        .filter(|r| r.visible_to(actor)))
}

/// Which of an organisation's referrals to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Those it handles now.
    Handler,
    /// Those it filed.
    Filer,
}

/// Which of an organisation's referrals a list returns.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// As handler or as filer.
    pub side: Side,
    /// Only these statuses (all when empty).
    pub statuses: Vec<ReferralStatus>,
    /// Only overdue ones (`true`) or only the others (`false`).
    pub overdue: Option<bool>,
}

/// Referrals overdue at `now`: not acknowledged by their acknowledgement due date, or not
/// answered by their answer due date.
fn late(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(referral::Column::Status.eq(ReferralStatus::Filed))
                .add(
                    Condition::any()
                        .add(referral::Column::AcknowledgeDue.lt(now))
                        .add(referral::Column::AnswerDue.lt(now)),
                ),
        )
        .add(
            Condition::all()
                .add(referral::Column::Status.eq(ReferralStatus::Acknowledged))
                .add(referral::Column::AnswerDue.lt(now)),
        )
}

/// The referrals of `org` that `query` selects, when `actor` is its staff (else none).
fn select(
    actor: &Actor,
    org: i64,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> Option<sea_orm::Select<referral::Entity>> {
    if !actor.acts_for(org, &[Role::Editor, Role::Admin, Role::Partner]) {
        return None;
    }
    let column = match query.side {
        Side::Handler => referral::Column::HandlerId,
        Side::Filer => referral::Column::FilerId,
    };
    let mut select = referral::Entity::find().filter(column.eq(org));
    if !query.statuses.is_empty() {
        select = select.filter(referral::Column::Status.is_in(query.statuses.clone()));
    }
    if let Some(wanted) = query.overdue {
        select = select.filter(if wanted { late(now) } else { late(now).not() });
    }
    Some(select)
}

/// A page of an organisation's referrals (as handler or filer), newest first, after the
/// referral `after` when given, as `query` says, and whether more follow; empty for callers
/// who are not its staff.
pub async fn of_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    org: i64,
    query: &ListQuery,
    page: (usize, Option<i64>),
    now: DateTime<Utc>,
) -> AppResult<(Vec<Referral>, bool)> {
    let (first, after) = page;
    let Some(mut select) = select(actor, org, query, now) else {
        return Ok((Vec::new(), false));
    };
    if let Some(after) = after {
        select = select.filter(referral::Column::Id.lt(after));
    }
    let mut rows = select
        .order_by_desc(referral::Column::Id)
        .limit(first as u64 + 1)
        .all(db)
        .await?;
    let more = rows.len() > first;
    rows.truncate(first);
    Ok((with_hops(db, rows).await?, more))
}

/// How many referrals of `org` `query` selects (0 for callers who are not its staff).
pub async fn count_of_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    org: i64,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    match select(actor, org, query, now) {
        Some(select) => Ok(select.count(db).await?),
        None => Ok(0),
    }
}

/// How many referrals are overdue at `now`, across every organisation (for the metrics).
pub async fn overdue_count(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(referral::Entity::find().filter(late(now)).count(db).await?)
}
