//! Mandates: an organisation's admin lets another organisation (a partner application serving
//! many communes) act for it with some roles, for a period, until revoked. The mandates a
//! caller holds join its actor at authentication, so every permission check honours them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{mandate, organisation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde_json::json;

use super::audit::{Change, Operation, WriteContext};
use super::{authz, codes, idempotency, registry, versioned};
use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

/// The roles a mandate may grant. Signing agreements and deciding for a council stay with the
/// organisation's own admins: a deliberation cannot be handed to an application.
pub const GRANTABLE: [Role; 2] = [Role::Editor, Role::Partner];

/// A mandate to grant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewMandate {
    /// The organisation acted for.
    pub grantor_id: i64,
    /// The organisation that will act.
    pub grantee_id: i64,
    /// The roles granted.
    pub roles: BTreeSet<Role>,
    /// Start; now when absent.
    pub valid_from: Option<DateTime<Utc>>,
    /// End (exclusive); open-ended when absent.
    pub valid_to: Option<DateTime<Utc>>,
}

/// The roles a mandate row grants.
pub fn roles_of(m: &mandate::Model) -> BTreeSet<Role> {
    m.roles.split(',').filter_map(Role::parse).collect()
}

/// Whether a mandate is in force at `now`.
pub fn in_force(m: &mandate::Model, now: DateTime<Utc>) -> bool {
    m.revoked_at.is_none() && m.valid_from <= now && m.valid_to.is_none_or(|to| now < to)
}

fn mandate_json(m: &mandate::Model) -> serde_json::Value {
    json!({
        "grantorId": m.grantor_id, "granteeId": m.grantee_id, "roles": m.roles,
        "validFrom": m.valid_from, "validTo": m.valid_to, "revokedAt": m.revoked_at,
        "version": m.version,
    })
}

/// The mandates `grantee` holds at `now`: for each organisation acted for, the roles granted.
pub async fn held_by<C: ConnectionTrait>(
    db: &C,
    grantee: i64,
    now: DateTime<Utc>,
) -> AppResult<BTreeMap<i64, BTreeSet<Role>>> {
    let rows = mandate::Entity::find()
        .filter(mandate::Column::GranteeId.eq(grantee))
        .filter(mandate::Column::RevokedAt.is_null())
        .filter(mandate::Column::ValidFrom.lte(now))
        .filter(
            Condition::any()
                .add(mandate::Column::ValidTo.is_null())
                .add(mandate::Column::ValidTo.gt(now)),
        )
        .all(db)
        .await?;
    let mut held: BTreeMap<i64, BTreeSet<Role>> = BTreeMap::new();
    for m in &rows {
        held.entry(m.grantor_id).or_default().extend(roles_of(m));
    }
    Ok(held)
}

/// Whether `actor` may see mandates of `org`: its own staff (never through a mandate), and
/// State services.
fn may_see(actor: &Actor, org: i64) -> bool {
    actor.has(Role::State)
        || actor.has(Role::Superadmin)
        || (actor.organisation_id == Some(org)
            && [Role::Editor, Role::Admin, Role::Partner]
                .iter()
                .any(|r| actor.has(*r)))
}

/// The mandates `org` granted (`granted`) or received, newest first, with ended and revoked
/// ones when `include_ended`; empty for callers who may not see them.
pub async fn of_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    org: i64,
    granted: bool,
    include_ended: bool,
    now: DateTime<Utc>,
) -> AppResult<Vec<mandate::Model>> {
    if !may_see(actor, org) {
        return Ok(Vec::new());
    }
    let side = if granted {
        mandate::Column::GrantorId
    } else {
        mandate::Column::GranteeId
    };
    let rows = mandate::Entity::find()
        .filter(side.eq(org))
        .order_by_desc(mandate::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|m| include_ended || in_force(m, now) || m.valid_from > now)
        .collect())
}

/// One mandate, when the caller may see it (staff of either party, State services).
pub async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<mandate::Model>> {
    Ok(mandate::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| may_see(actor, m.grantor_id) || may_see(actor, m.grantee_id)))
}

/// Grants a mandate (the grantor's own admins); a retried `idempotency_key` replays the first
/// result. One mandate in force or to come per pair of organisations.
pub async fn grant(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewMandate,
    idempotency_key: Option<&str>,
) -> AppResult<mandate::Model> {
    authz::require_authenticated(&ctx.actor)?;
    // Only the grantor's own admins: a mandate never passes on a mandate.
    if !(ctx.actor.organisation_id == Some(new.grantor_id) && ctx.actor.has(Role::Admin)) {
        return Err(AppError::Forbidden(
            "only the organisation's own admins may grant a mandate to act for it".into(),
        ));
    }
    if new.grantee_id == new.grantor_id {
        return Err(AppError::bad_input(
            "input.granteeId",
            "an organisation already acts for itself",
        ));
    }
    if new.roles.is_empty() || !new.roles.iter().all(|r| GRANTABLE.contains(r)) {
        return Err(AppError::bad_input(
            "input.roles",
            "a mandate grants EDITOR and/or PARTNER (admins' decisions cannot be mandated)",
        ));
    }
    let now = ctx.now;
    let from = new.valid_from.unwrap_or(now);
    if new.valid_to.is_some_and(|to| to <= from || to <= now) {
        return Err(AppError::bad_input(
            "input.validTo",
            "the end must come after the start and after now",
        ));
    }
    let hash = idempotency::input_hash(&serde_json::to_value(&new).unwrap_or_default());
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn.replay(idempotency_key, "grantMandate", &hash).await? {
        return mandate::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("mandate {id}")));
    }
    let grantee = registry::by_ids_in(&txn, &[new.grantee_id]).await?;
    if !grantee
        .first()
        .is_some_and(|o| super::contains(o.valid_from, o.valid_to, now.date_naive()))
    {
        return Err(AppError::bad_input(
            "input.granteeId",
            "no organisation of the registry exists with this identifier today",
        ));
    }
    // Grants of one grantor take turns, so that of two identical grants at once the second
    // sees the first.
    super::lock_row::<organisation::Entity, _>(&txn, new.grantor_id).await?;
    let open = mandate::Entity::find()
        .filter(mandate::Column::GrantorId.eq(new.grantor_id))
        .filter(mandate::Column::GranteeId.eq(new.grantee_id))
        .filter(mandate::Column::RevokedAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .find(|m| m.valid_to.is_none_or(|to| now < to));
    if let Some(open) = open {
        return Err(AppError::Conflict(format!(
            "a mandate between these organisations is already in force or to come (version {}): \
             revoke it first",
            open.version
        )));
    }
    let roles: Vec<&str> = new.roles.iter().map(|r| r.name()).collect();
    let created = mandate::Entity::insert(mandate::ActiveModel {
        grantor_id: Set(new.grantor_id),
        grantee_id: Set(new.grantee_id),
        roles: Set(roles.join(",")),
        valid_from: Set(from),
        valid_to: Set(new.valid_to),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    txn.remember(idempotency_key, "grantMandate", &hash, created.id)
        .await?;
    txn.record(Change {
        action: "grantMandate",
        entity_type: "Mandate",
        entity_id: created.id,
        owner: Some(created.grantor_id),
        operation: Operation::Created,
        before: None,
        after: Some(mandate_json(&created)),
    })
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Revokes a mandate, based on `version`: the grantor's own admins, or the grantee's own staff
/// (an application gives a mandate up). It stops at once, for every request after this one.
pub async fn revoke(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    reason: Option<String>,
) -> AppResult<mandate::Model> {
    authz::require_authenticated(&ctx.actor)?;
    let reason = reason
        .map(|r| codes::check_text("input.reason", &r, 1, 1000))
        .transpose()?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let Some(found) = mandate::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|m| may_see(&ctx.actor, m.grantor_id) || may_see(&ctx.actor, m.grantee_id))
    else {
        return Err(AppError::NotFound(format!("mandate {id}")));
    };
    let own = |org: i64, roles: &[Role]| {
        ctx.actor.organisation_id == Some(org) && roles.iter().any(|r| ctx.actor.has(*r))
    };
    if !own(found.grantor_id, &[Role::Admin])
        && !own(
            found.grantee_id,
            &[Role::Admin, Role::Editor, Role::Partner],
        )
    {
        return Err(AppError::Forbidden(
            "only the granting organisation's admins or the mandated organisation may revoke it"
                .into(),
        ));
    }
    if found.version != version {
        return Err(AppError::stale("mandate", found.version));
    }
    if found.revoked_at.is_some() {
        return Err(AppError::IllegalTransition(
            "the mandate is already revoked".into(),
        ));
    }
    let before = mandate_json(&found);
    let changes = mandate::ActiveModel {
        revoked_at: Set(Some(ctx.now)),
        revocation_reason: Set(reason),
        ..Default::default()
    };
    // Two revocations that read the same version: one lands, the other is a conflict.
    versioned::save(&txn, changes, id, version, ctx.now).await?;
    let revoked = mandate::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    txn.record(Change {
        action: "revokeMandate",
        entity_type: "Mandate",
        entity_id: revoked.id,
        owner: Some(revoked.grantor_id),
        operation: Operation::Updated,
        before: Some(before),
        after: Some(mandate_json(&revoked)),
    })
    .await?;
    txn.commit().await?;
    Ok(revoked)
}
