//! Territories as sets of communes: the communes an organisation covers at a date, and the
//! organisations covering any of a set of communes. Walked level by level with indexed
//! queries (SQLite plans recursive CTEs over `membership` with a whole-table Bloom filter).

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{OrganisationKind, membership, organisation};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
};

use crate::domain::valid_at;
use crate::error::AppResult;

/// Deepest chain of memberships followed.
const MAX_DEPTH: usize = 6;

/// The communes organisation `org` covers at `at`: itself if it is a commune, else the
/// communes below it through any chain of memberships (members, locations).
pub async fn communes_of<C: ConnectionTrait>(
    db: &C,
    org: i64,
    at: NaiveDate,
) -> AppResult<Vec<i64>> {
    let own = organisation::Entity::find_by_id(org)
        .select_only()
        .column(organisation::Column::Kind)
        .into_tuple::<OrganisationKind>()
        .one(db)
        .await?;
    if own == Some(OrganisationKind::Commune) {
        return Ok(vec![org]);
    }
    let mut communes = HashSet::new();
    let mut seen = HashSet::from([org]);
    let mut frontier = vec![org];
    for _ in 0..MAX_DEPTH {
        if frontier.is_empty() {
            break;
        }
        let rows: Vec<(i64, OrganisationKind)> = membership::Entity::find()
            .select_only()
            .column(membership::Column::MemberId)
            .column(organisation::Column::Kind)
            .join(JoinType::InnerJoin, membership::Relation::Member.def())
            .filter(membership::Column::GroupId.is_in(frontier.clone()))
            .filter(valid_at(
                membership::Column::ValidFrom,
                membership::Column::ValidTo,
                at,
            ))
            .into_tuple()
            .all(db)
            .await?;
        frontier.clear();
        for (id, kind) in rows {
            // A commune's own members (communes déléguées, services seated there) are not
            // communes: no need to look below it.
            if kind == OrganisationKind::Commune {
                communes.insert(id);
            } else if seen.insert(id) {
                frontier.push(id);
            }
        }
    }
    let mut out: Vec<i64> = communes.into_iter().collect();
    out.sort_unstable();
    Ok(out)
}

/// Every organisation any of `communes` belongs to at `at` (directly or not), and the
/// communes themselves.
pub async fn groups_of<C: ConnectionTrait>(
    db: &C,
    communes: &[i64],
    at: NaiveDate,
) -> AppResult<Vec<i64>> {
    let mut seen: HashSet<i64> = communes.iter().copied().collect();
    let mut frontier: Vec<i64> = communes.to_vec();
    for _ in 0..MAX_DEPTH {
        if frontier.is_empty() {
            break;
        }
        let groups: Vec<i64> = membership::Entity::find()
            .select_only()
            .column(membership::Column::GroupId)
            .filter(membership::Column::MemberId.is_in(frontier.clone()))
            .filter(valid_at(
                membership::Column::ValidFrom,
                membership::Column::ValidTo,
                at,
            ))
            .into_tuple()
            .all(db)
            .await?;
        frontier = groups.into_iter().filter(|g| seen.insert(*g)).collect();
    }
    let mut out: Vec<i64> = seen.into_iter().collect();
    out.sort_unstable();
    Ok(out)
}
