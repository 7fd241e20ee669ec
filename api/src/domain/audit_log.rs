//! Reading the audit trail: an organisation's admins see theirs, State services all.

use chrono::{DateTime, Utc};
use entity::audit_record;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::authz;
use super::pagination::{decode_cursor, encode_cursor};
use crate::auth::{Actor, Role};
use crate::error::AppResult;

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only records about this organisation's data.
    pub organisation: Option<i64>,
    /// Only this entity type.
    pub entity_type: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only records at or after this time.
    pub since: Option<DateTime<Utc>>,
}

fn filtered(filter: &AuditFilter) -> Select<audit_record::Entity> {
    use audit_record::Column as A;
    let mut q = audit_record::Entity::find();
    if let Some(o) = filter.organisation {
        q = q.filter(A::OrganisationId.eq(o));
    }
    if let Some(t) = &filter.entity_type {
        q = q.filter(A::EntityType.eq(t.as_str()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(A::Action.eq(a.as_str()));
    }
    if let Some(s) = filter.since {
        q = q.filter(A::At.gte(s));
    }
    q
}

/// The organisation a listing is about: the one asked for, else — for anyone but State
/// services and superadmins, who may list everything — the actor's own.
pub fn scope(actor: &Actor, asked: Option<i64>) -> Option<i64> {
    let reads_all = actor.has(Role::State) || actor.has(Role::Superadmin);
    asked.or(if reads_all {
        None
    } else {
        actor.organisation_id
    })
}

/// Newest records first, after the cursor `after`.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &AuditFilter,
    first: usize,
    after: Option<&str>,
) -> AppResult<(Vec<(String, audit_record::Model)>, bool)> {
    authz::require_audit_read(actor, filter.organisation)?;
    let mut q = filtered(filter);
    if let Some(after) = after {
        let id: i64 = decode_cursor(after)?;
        q = q.filter(audit_record::Column::Id.lt(id));
    }
    let mut rows = q
        .order_by_desc(audit_record::Column::Id)
        .limit(first as u64 + 1)
        .all(db)
        .await?;
    let more = rows.len() > first;
    rows.truncate(first);
    Ok((
        rows.into_iter()
            .map(|r| (encode_cursor(&r.id), r))
            .collect(),
        more,
    ))
}

/// How many records match.
pub async fn count(db: &DatabaseConnection, actor: &Actor, filter: &AuditFilter) -> AppResult<u64> {
    authz::require_audit_read(actor, filter.organisation)?;
    Ok(filtered(filter).count(db).await?)
}
