//! "What can this organisation use, with that much free over the whole period?": coverage
//! and agreements in SQL, then the peak of approved reservations per candidate.

use std::collections::HashMap;

use entity::{ResourceKind, ResourceStatus, resource};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::reservations::{approved_overlapping, peak};
use super::{Period, Resource, covers, eligibility, visible_to, with_coverage};
use crate::auth::Actor;
use crate::domain::agreements;
use crate::error::AppResult;

/// Candidates examined per round.
const BATCH: u64 = 200;

/// What to look for.
#[derive(Debug, Clone)]
pub struct AvailabilityQuery {
    /// Only this kind.
    pub kind: Option<ResourceKind>,
    /// The organisation that would use it.
    pub for_organisation: i64,
    /// Over this whole period.
    pub period: Period,
    /// At least this much free, in thousandths of the unit.
    pub quantity_milli: i64,
}

/// Free capacity of each of `resources` over the whole of `period` (capacity minus the
/// peak of approved reservations).
pub async fn free_capacity(
    db: &DatabaseConnection,
    resources: &[resource::Model],
    period: Period,
) -> AppResult<HashMap<i64, i64>> {
    let ids: Vec<i64> = resources.iter().map(|r| r.id).collect();
    let mut booked: HashMap<i64, Vec<_>> = HashMap::new();
    for (id, s, e, q) in approved_overlapping(db, &ids, period).await? {
        booked.entry(id).or_default().push((s, e, q));
    }
    Ok(resources
        .iter()
        .map(|r| {
            let taken = booked.remove(&r.id).map_or(0, |b| peak(b, period));
            (r.id, r.capacity_milli - taken)
        })
        .collect())
}

/// The resources the organisation may use (coverage, or an agreement in force over the
/// period) that are available, visible to the actor, and have `quantity` free over the
/// whole period; at most `limit`, in id order, each with its free capacity.
pub async fn available(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &AvailabilityQuery,
    limit: usize,
) -> AppResult<Vec<(Resource, i64)>> {
    let org = query.for_organisation;
    let reach = eligibility::reach(db, org, query.period.from.date_naive()).await?;
    let granted: Vec<i64> = agreements::grants_for(db, org, query.period)
        .await?
        .into_iter()
        .map(|g| g.resource_id)
        .collect();
    let mut usable = covers(org, &reach);
    if !granted.is_empty() {
        usable = usable.add(resource::Column::Id.is_in(granted));
    }
    let mut base = resource::Entity::find()
        .filter(resource::Column::Status.eq(ResourceStatus::Available))
        .filter(resource::Column::CapacityMilli.gte(query.quantity_milli))
        .filter(visible_to(actor))
        .filter(usable);
    if let Some(kind) = query.kind {
        base = base.filter(resource::Column::Kind.eq(kind));
    }
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = base
            .clone()
            .filter(Condition::all().add(resource::Column::Id.gt(after)))
            .order_by_asc(resource::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let exhausted = (rows.len() as u64) < BATCH;
        let free = free_capacity(db, &rows, query.period).await?;
        let fitting: Vec<_> = rows
            .into_iter()
            .filter(|r| free.get(&r.id).is_some_and(|&f| f >= query.quantity_milli))
            .collect();
        for r in with_coverage(db, fitting).await? {
            let f = free.get(&r.model.id).copied().unwrap_or_default();
            out.push((r, f));
            if out.len() >= limit {
                return Ok(out);
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(out)
}
