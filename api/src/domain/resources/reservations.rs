//! Reservations: an organisation asks for a quantity of a resource over `[from, to)`; the
//! owner decides (or the system, under `AUTOMATIC` or an agreement's direct booking). At
//! every instant approved quantities never exceed capacity: each decision locks the
//! resource and checks the peak of what is approved over the period, in its transaction.

use chrono::{DateTime, Utc};
use entity::{BookingPolicy, ReservationStatus, ResourceStatus, reservation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use super::{Period, Resource, eligibility, from_milli};
use crate::auth::Role;
use crate::domain::agreements;
use crate::domain::audit::{Change, Operation, WriteContext};
use crate::domain::{authz, codes, idempotency, versioned};
use crate::error::{AppError, AppResult};

/// A reservation to request.
#[derive(Debug, Clone)]
pub struct NewReservation {
    /// The resource.
    pub resource_id: i64,
    /// The organisation requesting it.
    pub requester_id: i64,
    /// Quantity, in thousandths of the resource's unit.
    pub quantity_milli: i64,
    /// The period.
    pub period: Period,
    /// What it is for.
    pub purpose: String,
    /// Idempotency key: a retry with the same key and input returns the first result.
    pub idempotency_key: Option<String>,
}

/// A decision on a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The owner approves.
    Approve,
    /// The owner declines.
    Decline,
    /// The requester (or the owner) cancels.
    Cancel,
}

fn snapshot(r: &reservation::Model) -> serde_json::Value {
    json!({
        "resourceId": r.resource_id, "requesterId": r.requester_id,
        "quantity": from_milli(r.quantity_milli), "from": r.starts_at, "to": r.ends_at,
        "purpose": r.purpose, "status": r.status, "reason": r.reason,
        "agreementId": r.agreement_id, "version": r.version,
    })
}

/// The highest total of `bookings` (start, end, quantity) at any instant of `period`.
pub fn peak(
    bookings: impl IntoIterator<Item = (DateTime<Utc>, DateTime<Utc>, i64)>,
    period: Period,
) -> i64 {
    let mut steps: Vec<(DateTime<Utc>, i64)> = Vec::new();
    for (start, end, quantity) in bookings {
        let (s, e) = (start.max(period.from), end.min(period.to));
        if s < e {
            steps.push((s, quantity));
            steps.push((e, -quantity));
        }
    }
    // Half-open periods: at one instant, what ends is freed before what starts is taken.
    steps.sort_unstable();
    let (mut now, mut top) = (0, 0);
    for (_, delta) in steps {
        now += delta;
        top = top.max(now);
    }
    top
}

/// Approved reservations of `resources` that overlap `period`, as (resource, start, end,
/// quantity).
pub async fn approved_overlapping<C: ConnectionTrait>(
    db: &C,
    resources: &[i64],
    period: Period,
) -> AppResult<Vec<(i64, DateTime<Utc>, DateTime<Utc>, i64)>> {
    Ok(reservation::Entity::find()
        .filter(reservation::Column::ResourceId.is_in(resources.to_vec()))
        .filter(reservation::Column::Status.eq(ReservationStatus::Approved))
        .filter(reservation::Column::StartsAt.lt(period.to))
        .filter(reservation::Column::EndsAt.gt(period.from))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.resource_id, r.starts_at, r.ends_at, r.quantity_milli))
        .collect())
}

/// Fails with `CONFLICT` unless `quantity` more fits in `resource` over `period`.
async fn check_capacity<C: ConnectionTrait>(
    txn: &C,
    resource: &Resource,
    quantity: i64,
    period: Period,
) -> AppResult<()> {
    let taken = peak(
        approved_overlapping(txn, &[resource.model.id], period)
            .await?
            .into_iter()
            .map(|(_, s, e, q)| (s, e, q)),
        period,
    );
    let free = resource.model.capacity_milli - taken;
    if quantity > free {
        return Err(AppError::Conflict(format!(
            "not enough free capacity over the period: {} {} left, {} asked",
            from_milli(free.max(0)),
            resource.model.unit,
            from_milli(quantity)
        )));
    }
    Ok(())
}

/// Reservations `ids`, in id order.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<reservation::Model>> {
    Ok(reservation::Entity::find()
        .filter(reservation::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(reservation::Column::Id)
        .all(db)
        .await?)
}

/// Furthest start of a reservation, in days from now (five years).
pub const MAX_DAYS_AHEAD: i64 = 5 * 366;
/// Longest reservation, in days (a year).
pub const MAX_DAYS_LONG: i64 = 366;

/// Reservations `ids` that `actor` may see, in id order: its requester's and its resource
/// owner's staff and the State see it, whatever the resource's own visibility.
pub async fn visible_by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &crate::auth::Actor,
    ids: &[i64],
) -> AppResult<Vec<reservation::Model>> {
    let mut rows = by_ids(db, ids).await?;
    let mut resource_ids: Vec<i64> = rows.iter().map(|r| r.resource_id).collect();
    resource_ids.sort_unstable();
    resource_ids.dedup();
    let owners: std::collections::HashMap<i64, i64> = super::by_ids(db, &resource_ids)
        .await?
        .into_iter()
        .map(|r| (r.model.id, r.model.owner_id))
        .collect();
    rows.retain(|r| {
        owners
            .get(&r.resource_id)
            .is_some_and(|&owner| authz::can_see_reservation(actor, owner, r.requester_id))
    });
    Ok(rows)
}

/// Which side of reservations an organisation looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Reservations of the resources it owns.
    Owner,
    /// Reservations it requested.
    Requester,
}

/// The reservations of each of `orgs` on `side`, newest first.
pub async fn of_organisations<C: ConnectionTrait>(
    db: &C,
    orgs: &[i64],
    side: Side,
) -> AppResult<std::collections::HashMap<i64, Vec<reservation::Model>>> {
    use entity::resource;
    use sea_orm::QuerySelect;
    let mut out: std::collections::HashMap<i64, Vec<reservation::Model>> =
        std::collections::HashMap::new();
    let query = reservation::Entity::find().order_by_desc(reservation::Column::Id);
    match side {
        Side::Requester => {
            for r in query
                .filter(reservation::Column::RequesterId.is_in(orgs.to_vec()))
                .all(db)
                .await?
            {
                out.entry(r.requester_id).or_default().push(r);
            }
        }
        Side::Owner => {
            let owned: std::collections::HashMap<i64, i64> = resource::Entity::find()
                .select_only()
                .column(resource::Column::Id)
                .column(resource::Column::OwnerId)
                .filter(resource::Column::OwnerId.is_in(orgs.to_vec()))
                .into_tuple::<(i64, i64)>()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let ids: Vec<i64> = owned.keys().copied().collect();
            for r in query
                .filter(reservation::Column::ResourceId.is_in(ids))
                .all(db)
                .await?
            {
                if let Some(&owner) = owned.get(&r.resource_id) {
                    out.entry(owner).or_default().push(r);
                }
            }
        }
    }
    Ok(out)
}

/// Requests a reservation for an organisation (its editors, admins, or a partner app acting
/// for it). Approved at once under `AUTOMATIC` or an agreement's direct booking.
pub async fn request(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewReservation,
) -> AppResult<reservation::Model> {
    let now = ctx.now;
    authz::require_authenticated(&ctx.actor)?;
    if !ctx.actor.acts_for(
        new.requester_id,
        &[Role::Editor, Role::Admin, Role::Partner],
    ) {
        return Err(AppError::Forbidden(
            "only the requesting organisation's staff or partner apps may request for it".into(),
        ));
    }
    let purpose = codes::check_text("input.purpose", &new.purpose, 1, 1000)?;
    if new.period.to <= now {
        return Err(AppError::bad_input(
            "input.to",
            "the period is already over",
        ));
    }
    if new.period.from > now + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err(AppError::bad_input(
            "input.from",
            format!("a reservation starts within {MAX_DAYS_AHEAD} days"),
        ));
    }
    if new.period.to - new.period.from > chrono::Duration::days(MAX_DAYS_LONG) {
        return Err(AppError::bad_input(
            "input.to",
            format!(
                "a reservation lasts at most {MAX_DAYS_LONG} days: request the next period later"
            ),
        ));
    }
    let hash = idempotency::input_hash(&json!({
        "resourceId": new.resource_id, "requesterId": new.requester_id,
        "quantity": new.quantity_milli, "from": new.period.from, "to": new.period.to,
        "purpose": purpose,
    }));
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(new.idempotency_key.as_deref(), "requestReservation", &hash)
        .await?
    {
        return by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal);
    }
    super::lock(&txn, new.resource_id).await?;
    let resource = super::one(&txn, &ctx.actor, new.resource_id)
        .await
        .map_err(|e| match e {
            // Unknown or invisible: the caller's input; anything else (the database) stays
            // what it is, retryable.
            AppError::NotFound(_) => AppError::bad_input("input.resourceId", "no such resource"),
            other => other,
        })?;
    match resource.model.status {
        ResourceStatus::Available => {}
        status => {
            return Err(AppError::bad_input(
                "input.resourceId",
                format!("the resource is {status:?} and takes no requests").to_lowercase(),
            ));
        }
    }
    if new.quantity_milli > resource.model.capacity_milli {
        return Err(AppError::bad_input(
            "input.quantity",
            format!(
                "more than the resource's capacity ({} {})",
                from_milli(resource.model.capacity_milli),
                resource.model.unit
            ),
        ));
    }
    let day = new.period.from.date_naive();
    let reach = eligibility::reach(&txn, new.requester_id, day).await?;
    let grant = agreements::grant(&txn, new.requester_id, resource.model.id, new.period).await?;
    if !eligibility::covered(&resource, &reach) && grant.is_none() {
        return Err(AppError::bad_input(
            "input.requesterId",
            "the requester is outside the resource's coverage and no active agreement links it",
        ));
    }
    check_capacity(&txn, &resource, new.quantity_milli, new.period).await?;
    let automatic = resource.model.booking_policy == BookingPolicy::Automatic
        || grant.is_some_and(|g| g.direct_booking);
    let model = reservation::Entity::insert(reservation::ActiveModel {
        resource_id: Set(resource.model.id),
        requester_id: Set(new.requester_id),
        quantity_milli: Set(new.quantity_milli),
        starts_at: Set(new.period.from),
        ends_at: Set(new.period.to),
        purpose: Set(purpose),
        status: Set(if automatic {
            ReservationStatus::Approved
        } else {
            ReservationStatus::Requested
        }),
        agreement_id: Set(grant.map(|g| g.agreement_id)),
        decided_at: Set(automatic.then_some(now)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    txn.record(Change {
        action: "requestReservation",
        entity_type: "Reservation",
        entity_id: model.id,
        owner: Some(resource.model.owner_id),
        operation: Operation::Created,
        before: None,
        after: Some(snapshot(&model)),
    })
    .await?;
    txn.remember(
        new.idempotency_key.as_deref(),
        "requestReservation",
        &hash,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Approves, declines or cancels a reservation. The owner's editors and admins approve and
/// decline requests; the requester's staff cancel their own, and the owner's may cancel too.
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    decision: Decision,
    reason: Option<String>,
) -> AppResult<reservation::Model> {
    let now = ctx.now;
    authz::require_authenticated(&ctx.actor)?;
    let reason = reason
        .map(|r| codes::check_text("input.reason", &r, 1, 1000))
        .transpose()?;
    if decision == Decision::Decline && reason.is_none() {
        return Err(AppError::bad_input(
            "input.reason",
            "a declined request says why",
        ));
    }
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    // The resource is locked before the reservation is read, so a concurrent decision on
    // the same resource waits and then sees this one.
    let resource_id = by_ids(&txn, &[id])
        .await?
        .pop()
        .map(|r| r.resource_id)
        .ok_or_else(|| AppError::NotFound(format!("reservation {id} not found")))?;
    super::lock(&txn, resource_id).await?;
    let current = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    let resource = super::by_ids(&txn, &[resource_id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    let owner = resource.model.owner_id;
    let owner_staff = ctx.actor.acts_for(owner, &[Role::Editor, Role::Admin]);
    let requester_staff = ctx.actor.acts_for(
        current.requester_id,
        &[Role::Editor, Role::Admin, Role::Partner],
    );
    let allowed = match decision {
        Decision::Approve | Decision::Decline => owner_staff,
        Decision::Cancel => owner_staff || requester_staff,
    };
    if !allowed {
        if !authz::can_see_reservation(&ctx.actor, owner, current.requester_id) {
            return Err(AppError::NotFound(format!("reservation {id} not found")));
        }
        return Err(AppError::Forbidden(match decision {
            Decision::Cancel => "only the requester's or the owner's staff may cancel".into(),
            _ => "only the owner's editors and admins decide on requests".into(),
        }));
    }
    if current.version != version {
        return Err(AppError::stale("reservation", current.version));
    }
    let next = match (decision, current.status) {
        (Decision::Approve, ReservationStatus::Requested) => ReservationStatus::Approved,
        (Decision::Decline, ReservationStatus::Requested) => ReservationStatus::Declined,
        (Decision::Cancel, ReservationStatus::Requested | ReservationStatus::Approved)
            if current.ends_at > now =>
        {
            ReservationStatus::Cancelled
        }
        (_, status) => {
            return Err(AppError::IllegalTransition(format!(
                "a {} reservation cannot be {}",
                format!("{status:?}").to_lowercase(),
                match decision {
                    Decision::Approve => "approved",
                    Decision::Decline => "declined",
                    Decision::Cancel => "cancelled (it is decided or over)",
                }
            )));
        }
    };
    if next == ReservationStatus::Approved {
        if resource.model.status == ResourceStatus::Retired {
            return Err(AppError::IllegalTransition(
                "the resource is retired: its requests can only be declined".into(),
            ));
        }
        check_capacity(
            &txn,
            &resource,
            current.quantity_milli,
            Period {
                from: current.starts_at,
                to: current.ends_at,
            },
        )
        .await?;
    }
    let action = match decision {
        Decision::Approve => "approveReservation",
        Decision::Decline => "declineReservation",
        Decision::Cancel => "cancelReservation",
    };
    let changes = reservation::ActiveModel {
        status: Set(next),
        reason: Set(reason.or(current.reason.clone())),
        decided_by: Set(ctx.actor.subject.clone()),
        decided_at: Set(Some(now)),
        ..Default::default()
    };
    versioned::save(&txn, changes, id, current.version, now).await?;
    let after = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    txn.record(Change {
        action,
        entity_type: "Reservation",
        entity_id: id,
        owner: Some(owner),
        operation: Operation::Updated,
        before: Some(snapshot(&current)),
        after: Some(snapshot(&after)),
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}
