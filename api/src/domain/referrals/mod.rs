//! Referrals, the guichet that acts: a person's request about a commune and a competence is
//! routed to the organisation competent for it (the same resolution as `responsibilities`),
//! transmitted onward when it lands at the wrong door (CRPA L114-2), tracked to its answer and
//! rated. The message, the contact and the answer are personal data: only the filer and the
//! organisations on the route see them.

pub mod barometer;
mod steps;

pub use steps::{NewReferral, Step, file, step};

use chrono::{DateTime, Utc};
use entity::{ReferralStatus, referral, referral_hop};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::auth::{Actor, Role};
use crate::error::AppResult;

/// Days a handler has to acknowledge a referral, from its arrival at that handler.
pub const ACKNOWLEDGE_DAYS: i64 = 7;
/// Months a handler has to answer, from the first filing: the CRPA's two months (L231-1,
/// L231-4), which a transmission does not restart (L114-2).
pub const ANSWER_MONTHS: u32 = 2;

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
    /// At most this many.
    pub limit: u64,
}

/// An organisation's referrals (as handler or filer), newest first, as `query` says; empty for
/// callers who are not its staff.
pub async fn of_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    org: i64,
    query: ListQuery,
    now: DateTime<Utc>,
) -> AppResult<Vec<Referral>> {
    let ListQuery {
        side,
        statuses,
        overdue,
        limit,
    } = query;
    if !actor.acts_for(org, &[Role::Editor, Role::Admin, Role::Partner]) {
        return Ok(Vec::new());
    }
    let column = match side {
        Side::Handler => referral::Column::HandlerId,
        Side::Filer => referral::Column::FilerId,
    };
    let mut select = referral::Entity::find().filter(column.eq(org));
    if !statuses.is_empty() {
        select = select.filter(referral::Column::Status.is_in(statuses));
    }
    if let Some(wanted) = overdue {
        let late = Condition::any()
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
            );
        select = select.filter(if wanted { late } else { late.not() });
    }
    let rows = select
        .order_by_desc(referral::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_hops(db, rows).await
}
