//! Publishing and changing what an organisation shares (its editors and admins only).

use entity::{
    BookingPolicy, CostModel, CoverageScope, OrganisationKind, ReservationStatus, ResourceKind,
    ResourceStatus, Visibility, organisation, reservation, resource, resource_coverage,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

use super::reservations::peak;
use super::{Period, Resource, by_ids, from_milli, snapshot};
use crate::domain::audit::{Change, Operation, WriteContext};
use crate::domain::text::fold;
use crate::domain::{authz, codes, idempotency, versioned};
use crate::error::{AppError, AppResult};

/// Who a resource may serve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The owner's members (directly or through their groups).
    pub owner_members: bool,
    /// Territories (départements, EPCI…) whose organisations it serves.
    pub territories: Vec<i64>,
    /// Named organisations.
    pub organisations: Vec<i64>,
}

/// The descriptive fields of a resource.
#[derive(Debug, Clone)]
pub struct ResourceFields {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Capacity, in thousandths of `unit`.
    pub capacity_milli: i64,
    /// Unit.
    pub unit: String,
    /// INSEE code of the commune where it is.
    pub location: Option<String>,
    /// Cost model.
    pub cost_model: CostModel,
    /// Flat fee, in euro cents.
    pub cost_amount_cents: Option<i64>,
    /// Conditions of use.
    pub conditions: Option<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// How requests are decided.
    pub booking_policy: BookingPolicy,
    /// Who it may serve.
    pub coverage: Coverage,
}

/// A resource to publish.
#[derive(Debug, Clone)]
pub struct NewResource {
    /// The owner.
    pub owner_id: i64,
    /// What it is.
    pub kind: ResourceKind,
    /// The rest.
    pub fields: ResourceFields,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

/// Changes to a resource; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ResourceChanges {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Capacity, in thousandths of the unit.
    pub capacity_milli: Option<i64>,
    /// Unit.
    pub unit: Option<String>,
    /// INSEE code of the commune where it is.
    pub location: Option<Option<String>>,
    /// Cost model.
    pub cost_model: Option<CostModel>,
    /// Flat fee, in euro cents.
    pub cost_amount_cents: Option<Option<i64>>,
    /// Conditions of use.
    pub conditions: Option<Option<String>>,
    /// Who may see it.
    pub visibility: Option<Visibility>,
    /// How requests are decided.
    pub booking_policy: Option<BookingPolicy>,
    /// Who it may serve (replaces every rule).
    pub coverage: Option<Coverage>,
    /// Whether it takes requests.
    pub status: Option<ResourceStatus>,
}

impl ResourceChanges {
    /// The fields after the changes, and the location as an id when unchanged.
    fn merge(self, r: &Resource) -> (ResourceFields, Option<Option<i64>>, ResourceStatus) {
        let m = &r.model;
        let coverage = self.coverage.unwrap_or_else(|| Coverage {
            owner_members: r
                .coverage
                .iter()
                .any(|c| c.scope == CoverageScope::OwnerMembers),
            territories: r
                .coverage
                .iter()
                .filter(|c| c.scope == CoverageScope::Territory)
                .filter_map(|c| c.organisation_id)
                .collect(),
            organisations: r
                .coverage
                .iter()
                .filter(|c| c.scope == CoverageScope::Organisation)
                .filter_map(|c| c.organisation_id)
                .collect(),
        });
        let cost_model = self.cost_model.unwrap_or(m.cost_model);
        let cost_amount_cents = match self.cost_amount_cents {
            Some(a) => a,
            // Leaving a flat fee drops its amount.
            None if cost_model != CostModel::FlatFee => None,
            None => m.cost_amount_cents,
        };
        let (location, kept) = match self.location {
            None => (None, Some(m.location_id)),
            Some(code) => (code, None),
        };
        (
            ResourceFields {
                name: self.name.unwrap_or_else(|| m.name.clone()),
                description: self.description.unwrap_or_else(|| m.description.clone()),
                capacity_milli: self.capacity_milli.unwrap_or(m.capacity_milli),
                unit: self.unit.unwrap_or_else(|| m.unit.clone()),
                location,
                cost_model,
                cost_amount_cents,
                conditions: self.conditions.unwrap_or_else(|| m.conditions.clone()),
                visibility: self.visibility.unwrap_or(m.visibility),
                booking_policy: self.booking_policy.unwrap_or(m.booking_policy),
                coverage,
            },
            kept,
            self.status.unwrap_or(m.status),
        )
    }
}

/// Checks the fields; returns the location's id and the clean texts.
async fn check(
    db: &DatabaseConnection,
    f: &ResourceFields,
    today: chrono::NaiveDate,
) -> AppResult<(Option<i64>, ResourceFields)> {
    let mut clean = f.clone();
    clean.name = codes::check_text("input.name", &f.name, 1, 200)?;
    clean.unit = codes::check_text("input.unit", &f.unit, 1, 50)?;
    clean.description = f
        .description
        .as_deref()
        .map(|d| codes::check_text("input.description", d, 1, 5000))
        .transpose()?;
    clean.conditions = f
        .conditions
        .as_deref()
        .map(|d| codes::check_text("input.conditions", d, 1, 5000))
        .transpose()?;
    match (f.cost_model, f.cost_amount_cents) {
        (CostModel::FlatFee, Some(a)) if a >= 0 => {}
        (CostModel::FlatFee, _) => {
            return Err(AppError::bad_input(
                "input.costAmount",
                "a flat fee needs a non-negative amount",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::bad_input(
                "input.costAmount",
                "only a flat fee has an amount",
            ));
        }
        (_, None) => {}
    }
    let location = match &f.location {
        None => None,
        Some(code) => Some(resolve_location(db, code, today).await?),
    };
    let named: Vec<i64> = f
        .coverage
        .territories
        .iter()
        .chain(&f.coverage.organisations)
        .copied()
        .collect();
    if named.len() > 200 {
        return Err(AppError::bad_input(
            "input.coverage",
            "a coverage names at most 200 organisations",
        ));
    }
    let found = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(named.clone()))
        .all(db)
        .await?;
    if let Some(missing) = named.iter().find(|id| !found.iter().any(|o| o.id == **id)) {
        return Err(AppError::bad_input(
            "input.coverage",
            format!("organisation {missing} does not exist"),
        ));
    }
    Ok((location, clean))
}

async fn resolve_location(
    db: &DatabaseConnection,
    code: &str,
    today: chrono::NaiveDate,
) -> AppResult<i64> {
    codes::check_insee_code("input.location", code)?;
    crate::domain::registry::by_insee_code(db, code, Some(OrganisationKind::Commune), today)
        .await?
        .filter(|o| crate::domain::contains(o.valid_from, o.valid_to, today))
        .map(|o| o.id)
        .ok_or_else(|| AppError::bad_input("input.location", format!("no commune `{code}` today")))
}

/// The columns `f` describes, located at `location`, as a publication or an edit writes them.
fn described(f: &ResourceFields, location: Option<i64>) -> resource::ActiveModel {
    resource::ActiveModel {
        search_text: Set(search_text(f)),
        name: Set(f.name.clone()),
        description: Set(f.description.clone()),
        capacity_milli: Set(f.capacity_milli),
        unit: Set(f.unit.clone()),
        location_id: Set(location),
        cost_model: Set(f.cost_model),
        cost_amount_cents: Set(f.cost_amount_cents),
        conditions: Set(f.conditions.clone()),
        visibility: Set(f.visibility),
        booking_policy: Set(f.booking_policy),
        ..Default::default()
    }
}

fn search_text(f: &ResourceFields) -> String {
    fold(&format!(
        "{} {} {}",
        f.name,
        f.description.as_deref().unwrap_or_default(),
        f.conditions.as_deref().unwrap_or_default()
    ))
}

async fn write_coverage<C: ConnectionTrait>(txn: &C, id: i64, c: &Coverage) -> AppResult<()> {
    resource_coverage::Entity::delete_many()
        .filter(resource_coverage::Column::ResourceId.eq(id))
        .exec(txn)
        .await?;
    let mut rows = Vec::new();
    if c.owner_members {
        rows.push((CoverageScope::OwnerMembers, None));
    }
    rows.extend(
        c.territories
            .iter()
            .map(|&t| (CoverageScope::Territory, Some(t))),
    );
    rows.extend(
        c.organisations
            .iter()
            .map(|&o| (CoverageScope::Organisation, Some(o))),
    );
    if rows.is_empty() {
        return Ok(());
    }
    resource_coverage::Entity::insert_many(rows.into_iter().map(|(scope, org)| {
        resource_coverage::ActiveModel {
            resource_id: Set(id),
            scope: Set(scope),
            organisation_id: Set(org),
            ..Default::default()
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Publishes a resource, `AVAILABLE` at once.
pub async fn publish(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewResource,
    today: chrono::NaiveDate,
) -> AppResult<Resource> {
    authz::require_edit(&ctx.actor, new.owner_id)?;
    let (location, f) = check(db, &new.fields, today).await?;
    let hash = idempotency::input_hash(&json!({
        "ownerId": new.owner_id, "kind": new.kind, "name": f.name, "description": f.description,
        "capacity": f.capacity_milli, "unit": f.unit, "location": location,
        "costModel": f.cost_model, "costAmount": f.cost_amount_cents,
        "conditions": f.conditions, "visibility": f.visibility,
        "bookingPolicy": f.booking_policy, "ownerMembers": f.coverage.owner_members,
        "territories": f.coverage.territories, "organisations": f.coverage.organisations,
    }));
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(new.idempotency_key.as_deref(), "publishResource", &hash)
        .await?
    {
        return by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal);
    }
    let now = ctx.now;
    let model = resource::Entity::insert(resource::ActiveModel {
        owner_id: Set(new.owner_id),
        kind: Set(new.kind),
        status: Set(ResourceStatus::Available),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..described(&f, location)
    })
    .exec_with_returning(&txn)
    .await?;
    write_coverage(&txn, model.id, &f.coverage).await?;
    let created = by_ids(&txn, &[model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    txn.record(Change {
        action: "publishResource",
        entity_type: "Resource",
        entity_id: model.id,
        owner: Some(new.owner_id),
        operation: Operation::Created,
        before: None,
        after: Some(snapshot(&created)),
    })
    .await?;
    txn.remember(
        new.idempotency_key.as_deref(),
        "publishResource",
        &hash,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a resource's fields or status. A retired resource stays retired; the capacity
/// never drops below what is approved from now on.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    changes: ResourceChanges,
    today: chrono::NaiveDate,
) -> AppResult<Resource> {
    authz::require_authenticated(&ctx.actor)?;
    let current = super::one(db, &ctx.actor, id).await?;
    authz::require_edit(&ctx.actor, current.model.owner_id)?;
    let (fields, kept_location, status) = changes.merge(&current);
    let (location, f) = check(db, &fields, today).await?;
    let location = kept_location.unwrap_or(location);
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    super::lock(&txn, id).await?;
    let current = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    if current.model.version != version {
        return Err(AppError::stale("resource", current.model.version));
    }
    if current.model.status == ResourceStatus::Retired && status != ResourceStatus::Retired {
        return Err(AppError::IllegalTransition(
            "a retired resource stays retired: publish a new one".into(),
        ));
    }
    if f.capacity_milli < current.model.capacity_milli {
        let now = ctx.now;
        let ahead: Vec<_> = reservation::Entity::find()
            .filter(reservation::Column::ResourceId.eq(id))
            .filter(reservation::Column::Status.eq(ReservationStatus::Approved))
            .filter(reservation::Column::EndsAt.gt(now))
            .all(&txn)
            .await?;
        let until = ahead.iter().map(|r| r.ends_at).max().unwrap_or(now);
        if until > now {
            let taken = peak(
                ahead
                    .iter()
                    .map(|r| (r.starts_at, r.ends_at, r.quantity_milli)),
                Period {
                    from: now,
                    to: until,
                },
            );
            if taken > f.capacity_milli {
                return Err(AppError::Conflict(format!(
                    "{} {} are approved at once ahead: cancel reservations before lowering the capacity",
                    from_milli(taken),
                    f.unit
                )));
            }
        }
    }
    let changes = resource::ActiveModel {
        status: Set(status),
        ..described(&f, location)
    };
    versioned::save(&txn, changes, id, version, ctx.now).await?;
    write_coverage(&txn, id, &f.coverage).await?;
    let after = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    txn.record(Change {
        action: "updateResource",
        entity_type: "Resource",
        entity_id: id,
        owner: Some(current.model.owner_id),
        operation: if status == ResourceStatus::Retired {
            Operation::Ended
        } else {
            Operation::Updated
        },
        before: Some(snapshot(&current)),
        after: Some(snapshot(&after)),
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}
