//! Links between organisations: memberships in both directions, and successions.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{OrganisationKind, membership, organisation, succession};
use sea_orm::sea_query::NullOrdering;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder};

use super::by_ids;
use super::rows::{MembershipWith, Organisation, memberships_with};
use crate::domain::valid_at;
use crate::error::AppResult;

/// The memberships of each member in `member_ids` (valid at `at` when given), with their group.
pub async fn memberships_of(
    db: &DatabaseConnection,
    member_ids: &[i64],
    at: Option<NaiveDate>,
) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
    use membership::Column as M;
    let mut query = memberships_with(membership::Relation::Group)
        .filter(M::MemberId.is_in(member_ids.to_vec()));
    if let Some(at) = at {
        query = query.filter(valid_at(M::ValidFrom, M::ValidTo, at));
    }
    // An open start is the earliest; both engines must agree (their defaults differ).
    let rows = query
        .order_by_with_nulls(M::ValidFrom, Order::Asc, NullOrdering::First)
        .order_by(M::Id, Order::Asc)
        .into_model::<MembershipWith>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for row in rows {
        out.entry(row.membership.member_id).or_default().push(row);
    }
    Ok(out)
}

/// The members of each group in `group_ids` valid at `at`, with the member organisation,
/// ordered by folded name.
pub async fn members_of(
    db: &DatabaseConnection,
    group_ids: &[i64],
    at: NaiveDate,
    kinds: &[OrganisationKind],
) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
    use membership::Column as M;
    let mut query = memberships_with(membership::Relation::Member)
        .filter(M::GroupId.is_in(group_ids.to_vec()))
        .filter(valid_at(M::ValidFrom, M::ValidTo, at));
    if !kinds.is_empty() {
        query = query.filter(organisation::Column::Kind.is_in(kinds.to_vec()));
    }
    let rows = query
        .order_by(organisation::Column::SearchName, Order::Asc)
        .order_by(organisation::Column::Id, Order::Asc)
        .order_by(M::Id, Order::Asc)
        .into_model::<MembershipWith>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for row in rows {
        out.entry(row.membership.group_id).or_default().push(row);
    }
    Ok(out)
}

/// Which side of a succession to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a successor to its predecessors.
    Predecessors,
    /// From a predecessor to its successors.
    Successors,
}

/// The successions of each organisation in `ids`, with the organisation at the other end.
pub async fn successions_of(
    db: &DatabaseConnection,
    ids: &[i64],
    direction: Direction,
) -> AppResult<HashMap<i64, Vec<(succession::Model, Organisation)>>> {
    use succession::Column as S;
    let this = match direction {
        Direction::Predecessors => S::SuccessorId,
        Direction::Successors => S::PredecessorId,
    };
    let rows = succession::Entity::find()
        .filter(this.is_in(ids.to_vec()))
        .order_by(S::Date, Order::Asc)
        .order_by(S::Id, Order::Asc)
        .all(db)
        .await?;
    let other_ids: Vec<i64> = rows
        .iter()
        .map(|s| match direction {
            Direction::Predecessors => s.predecessor_id,
            Direction::Successors => s.successor_id,
        })
        .collect();
    let orgs: HashMap<i64, Organisation> = by_ids(db, &other_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut out: HashMap<i64, Vec<(succession::Model, Organisation)>> = HashMap::new();
    for s in rows {
        let (key, other) = match direction {
            Direction::Predecessors => (s.successor_id, s.predecessor_id),
            Direction::Successors => (s.predecessor_id, s.successor_id),
        };
        if let Some(o) = orgs.get(&other) {
            out.entry(key).or_default().push((s, o.clone()));
        }
    }
    Ok(out)
}
