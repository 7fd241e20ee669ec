//! An organisation's own profile and contact points: edited only by its own editors, each
//! change versioned and audited in its transaction.

use entity::{ContactKind, Visibility, contact_point, organisation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::audit::{Change, Operation, WriteContext};
use super::registry::{self, Organisation};
use super::{authz, codes, idempotency, versioned};
use crate::error::{AppError, AppResult};

/// Changes to a profile; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProfileChanges {
    /// Other names the organisation is known by.
    pub alternate_names: Option<Vec<String>>,
    /// A short public description.
    pub description: Option<Option<String>>,
    /// Public website.
    pub website: Option<Option<String>>,
}

/// The public profile of an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Other names.
    pub alternate_names: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// SIRET.
    pub siret: Option<String>,
    /// RNA.
    pub rna: Option<String>,
}

fn profile_of(m: &organisation::Model) -> Profile {
    Profile {
        alternate_names: m
            .alternate_names
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
        description: m.description.clone(),
        website: m.website.clone(),
        siret: m.siret.clone(),
        rna: m.rna.clone(),
    }
}

fn profile_json(m: &organisation::Model) -> serde_json::Value {
    let p = profile_of(m);
    json!({
        "name": m.name, "alternateNames": p.alternate_names, "description": p.description,
        "website": p.website, "version": m.version,
    })
}

/// The profiles of organisations `ids`.
pub async fn profiles_of(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Profile>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .iter()
        .map(|m| (m.id, profile_of(m)))
        .collect())
}

/// Updates the profile of organisation `id`, based on `version`.
pub async fn update_profile(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    changes: ProfileChanges,
) -> AppResult<Organisation> {
    authz::require_edit(&ctx.actor, id)?;
    let mut names = Vec::new();
    for (i, n) in changes.alternate_names.iter().flatten().enumerate() {
        names.push(codes::check_text(
            &format!("input.alternateNames[{i}]"),
            n,
            1,
            200,
        )?);
    }
    if names.len() > 20 {
        return Err(AppError::bad_input(
            "input.alternateNames",
            "at most 20 names",
        ));
    }
    let description = match &changes.description {
        Some(Some(d)) => Some(Some(codes::check_text("input.description", d, 1, 2000)?)),
        other => other.clone(),
    };
    if let Some(Some(w)) = &changes.website {
        codes::check_url("input.website", w)?;
    }

    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = organisation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("organisation {id}")))?;
    if before.version != version {
        return Err(stale(before.version));
    }
    let mut update = organisation::ActiveModel::default();
    if changes.alternate_names.is_some() {
        update.alternate_names = Set(Some(serde_json::to_string(&names).unwrap_or_default()));
        update.search_aliases = Set(crate::domain::text::aliases(&names));
    }
    if let Some(d) = description {
        update.description = Set(d);
    }
    if let Some(w) = changes.website.clone() {
        update.website = Set(w);
    }
    versioned::save(&txn, update, id, version, ctx.now).await?;
    let after = organisation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    txn.record(Change {
        action: "updateOrganisationProfile",
        entity_type: "Organisation",
        entity_id: id,
        owner: Some(id),
        operation: Operation::Updated,
        before: Some(profile_json(&before)),
        after: Some(profile_json(&after)),
    })
    .await?;
    txn.commit().await?;
    registry::by_ids(db, &[id])
        .await?
        .pop()
        .ok_or(AppError::Internal)
}

fn stale(current: i64) -> AppError {
    AppError::stale("record", current)
}

/// A new contact point.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewContactPoint {
    /// Owning organisation.
    pub organisation_id: i64,
    /// What it is.
    pub kind: ContactKind,
    /// Label.
    pub label: Option<String>,
    /// Value.
    pub value: String,
    /// Who may see it.
    pub visibility: Visibility,
}

fn check_contact_value(kind: ContactKind, value: &str) -> AppResult<String> {
    let value = codes::check_text("input.value", value, 1, 500)?;
    match kind {
        ContactKind::Email => codes::check_email("input.value", &value)?,
        ContactKind::Phone => codes::check_phone("input.value", &value)?,
        ContactKind::Website => codes::check_url("input.value", &value)?,
        ContactKind::Address => {}
    }
    Ok(value)
}

fn check_label(label: Option<&str>) -> AppResult<Option<String>> {
    label
        .map(|l| codes::check_text("input.label", l, 1, 200))
        .transpose()
}

fn contact_json(c: &contact_point::Model) -> serde_json::Value {
    json!({
        "kind": c.kind, "label": c.label, "value": c.value,
        "visibility": c.visibility, "version": c.version,
    })
}

/// Adds a contact point; a retried `idempotency_key` replays the first result.
pub async fn add_contact_point(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewContactPoint,
    idempotency_key: Option<&str>,
) -> AppResult<contact_point::Model> {
    authz::require_edit(&ctx.actor, new.organisation_id)?;
    let value = check_contact_value(new.kind, &new.value)?;
    let label = check_label(new.label.as_deref())?;
    let hash = idempotency::input_hash(&serde_json::to_value(&new).unwrap_or_default());

    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(idempotency_key, "addContactPoint", &hash)
        .await?
    {
        return contact_point::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("contact point {id}")));
    }
    let now = ctx.now;
    let created = contact_point::Entity::insert(contact_point::ActiveModel {
        organisation_id: Set(new.organisation_id),
        kind: Set(new.kind),
        label: Set(label),
        value: Set(value),
        visibility: Set(new.visibility),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    txn.remember(idempotency_key, "addContactPoint", &hash, created.id)
        .await?;
    txn.record(Change {
        action: "addContactPoint",
        entity_type: "ContactPoint",
        entity_id: created.id,
        owner: Some(created.organisation_id),
        operation: Operation::Created,
        before: None,
        after: Some(contact_json(&created)),
    })
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes to a contact point; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactPointChanges {
    /// Label (`Some(None)` clears it).
    pub label: Option<Option<String>>,
    /// Value.
    pub value: Option<String>,
    /// Visibility.
    pub visibility: Option<Visibility>,
}

async fn load_contact_for_edit<C: sea_orm::ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    id: i64,
    version: i64,
) -> AppResult<contact_point::Model> {
    let found = contact_point::Entity::find_by_id(id).one(txn).await?;
    // The owner is read from the database, never from the input. An unknown id, and one the
    // caller may not see, are the same NOT_FOUND user error for any authenticated caller.
    authz::require_authenticated(&ctx.actor)?;
    let Some(found) = found.filter(|c| authz::can_see(&ctx.actor, c.visibility, c.organisation_id))
    else {
        return Err(AppError::NotFound(format!("contact point {id}")));
    };
    authz::require_edit(&ctx.actor, found.organisation_id)?;
    if found.version != version {
        return Err(stale(found.version));
    }
    Ok(found)
}

/// Updates a contact point, based on `version`.
pub async fn update_contact_point(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    changes: ContactPointChanges,
) -> AppResult<contact_point::Model> {
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = load_contact_for_edit(&txn, ctx, id, version).await?;
    let value = match &changes.value {
        Some(v) => check_contact_value(before.kind, v)?,
        None => before.value.clone(),
    };
    let label = match &changes.label {
        Some(l) => check_label(l.as_deref())?,
        None => before.label.clone(),
    };
    let visibility = changes.visibility.unwrap_or(before.visibility);
    let update = contact_point::ActiveModel {
        value: Set(value),
        label: Set(label),
        visibility: Set(visibility),
        ..Default::default()
    };
    versioned::save(&txn, update, id, version, ctx.now).await?;
    let after = contact_point::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    txn.record(Change {
        action: "updateContactPoint",
        entity_type: "ContactPoint",
        entity_id: id,
        owner: Some(after.organisation_id),
        operation: Operation::Updated,
        before: Some(contact_json(&before)),
        after: Some(contact_json(&after)),
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Removes a contact point, based on `version`; returns what was removed.
pub async fn remove_contact_point(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
) -> AppResult<contact_point::Model> {
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = load_contact_for_edit(&txn, ctx, id, version).await?;
    let result = contact_point::Entity::delete_many()
        .filter(contact_point::Column::Id.eq(id))
        .filter(contact_point::Column::Version.eq(version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(stale(version + 1));
    }
    txn.record(Change {
        action: "removeContactPoint",
        entity_type: "ContactPoint",
        entity_id: id,
        owner: Some(before.organisation_id),
        operation: Operation::Deleted,
        before: Some(contact_json(&before)),
        after: None,
    })
    .await?;
    txn.commit().await?;
    Ok(before)
}

/// The contact points of each organisation in `ids`.
pub async fn contact_points_of(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<contact_point::Model>>> {
    let rows = contact_point::Entity::find()
        .filter(contact_point::Column::OrganisationId.is_in(ids.to_vec()))
        .order_by_asc(contact_point::Column::Id)
        .all(db)
        .await?;
    let mut out: std::collections::HashMap<i64, Vec<contact_point::Model>> = Default::default();
    for c in rows {
        out.entry(c.organisation_id).or_default().push(c);
    }
    Ok(out)
}

/// A contact point by id.
pub async fn contact_point(
    db: &DatabaseConnection,
    id: i64,
) -> AppResult<Option<contact_point::Model>> {
    Ok(contact_point::Entity::find_by_id(id).one(db).await?)
}

/// Contact point `id` if `actor` may see it (else none, as if it did not exist).
pub async fn visible_contact_point(
    db: &DatabaseConnection,
    actor: &crate::auth::Actor,
    id: i64,
) -> AppResult<Option<contact_point::Model>> {
    Ok(contact_point(db, id)
        .await?
        .filter(|c| authz::can_see(actor, c.visibility, c.organisation_id)))
}

/// The contact points of organisations `ids` that `actor` may see, in id order.
pub async fn visible_contact_points_of(
    db: &DatabaseConnection,
    actor: &crate::auth::Actor,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<contact_point::Model>>> {
    let mut found = contact_points_of(db, ids).await?;
    for list in found.values_mut() {
        list.retain(|c| authz::can_see(actor, c.visibility, c.organisation_id));
    }
    Ok(found)
}
