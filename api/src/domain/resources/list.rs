//! The resources people look for: by kind, owner, the commune they may serve, cost model
//! and text, newest last, with keyset cursors.

use entity::{CostModel, ResourceKind, ResourceStatus, resource};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::{Resource, covers, eligibility, visible_to, with_coverage};
use crate::auth::Actor;
use crate::domain::pagination::decode_cursor;
use crate::domain::text::fold;
use crate::error::AppResult;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    /// Only these kinds.
    pub kinds: Vec<ResourceKind>,
    /// Only this owner's.
    pub owner: Option<i64>,
    /// Only those whose coverage includes this commune (its id).
    pub covering: Option<i64>,
    /// Only these cost models.
    pub cost_models: Vec<CostModel>,
    /// Only these statuses (all but `RETIRED` when empty).
    pub statuses: Vec<ResourceStatus>,
    /// Words in the name, description or conditions (accent- and case-insensitive).
    pub text: Option<String>,
}

/// One page of resources.
#[derive(Debug, Clone)]
pub struct ResourcePage {
    /// The resources.
    pub items: Vec<Resource>,
    /// Whether more follow.
    pub has_next: bool,
}

/// The query of `filter`, as the actor may see it.
pub async fn query(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ResourceFilter,
    today: chrono::NaiveDate,
) -> AppResult<Select<resource::Entity>> {
    let mut q = resource::Entity::find().filter(visible_to(actor));
    if !filter.kinds.is_empty() {
        q = q.filter(resource::Column::Kind.is_in(filter.kinds.clone()));
    }
    if let Some(owner) = filter.owner {
        q = q.filter(resource::Column::OwnerId.eq(owner));
    }
    if !filter.cost_models.is_empty() {
        q = q.filter(resource::Column::CostModel.is_in(filter.cost_models.clone()));
    }
    q = if filter.statuses.is_empty() {
        q.filter(resource::Column::Status.ne(ResourceStatus::Retired))
    } else {
        q.filter(resource::Column::Status.is_in(filter.statuses.clone()))
    };
    if let Some(text) = filter.text.as_deref().map(fold).filter(|t| !t.is_empty()) {
        for word in text.split(' ') {
            q = q.filter(resource::Column::SearchText.contains(word));
        }
    }
    if let Some(commune) = filter.covering {
        let reach = eligibility::reach(db, commune, today).await?;
        q = q.filter(covers(commune, &reach));
    }
    Ok(q)
}

/// A page of `query` after cursor `after` (ids ascending).
pub async fn page(
    db: &DatabaseConnection,
    query: Select<resource::Entity>,
    first: usize,
    after: Option<&str>,
) -> AppResult<ResourcePage> {
    let mut q = query;
    if let Some(after) = after {
        let id: i64 = decode_cursor(after)?;
        q = q.filter(resource::Column::Id.gt(id));
    }
    let mut rows = q
        .order_by_asc(resource::Column::Id)
        .limit(first as u64 + 1)
        .all(db)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok(ResourcePage {
        items: with_coverage(db, rows).await?,
        has_next,
    })
}

/// How many resources `query` matches.
pub async fn count(db: &DatabaseConnection, query: Select<resource::Entity>) -> AppResult<u64> {
    Ok(query.count(db).await?)
}
