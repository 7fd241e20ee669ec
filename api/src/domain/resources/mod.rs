//! Mutualisation: the resources organisations share, who they may serve, and the
//! reservations made of them, with capacity never overbooked.

pub mod availability;
pub mod eligibility;
pub mod list;
pub mod publish;
pub mod reservations;

use chrono::{DateTime, Utc};
use entity::{CoverageScope, Visibility, resource, resource_coverage};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Statement,
};
use serde_json::json;

use crate::auth::{Actor, Role};
use crate::domain::authz;
use crate::error::{AppError, AppResult};

/// Largest capacity or quantity accepted, in units.
const MAX_QUANTITY: f64 = 1_000_000.0;

/// A resource with its coverage rules.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The row.
    pub model: resource::Model,
    /// Who it may serve.
    pub coverage: Vec<resource_coverage::Model>,
}

/// A half-open period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
}

impl Period {
    /// A period from two instants, refused when empty; `field` names the end in the error.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, field: &str) -> AppResult<Self> {
        // Whole seconds: what the database stores and compares.
        let trim = |t: DateTime<Utc>| {
            DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| {
                AppError::bad_input(field, "the period is outside the supported range")
            })
        };
        let (from, to) = (trim(from)?, trim(to)?);
        let supported = |t: DateTime<Utc>| (1900..2200).contains(&chrono::Datelike::year(&t));
        if !supported(from) || !supported(to) {
            return Err(AppError::bad_input(
                field,
                "periods lie between the years 1900 and 2199",
            ));
        }
        if from >= to {
            return Err(AppError::bad_input(
                field,
                "the period is empty: `to` must be after `from` (periods are [from, to))",
            ));
        }
        Ok(Self { from, to })
    }
}

/// A quantity in thousandths of a unit, from what a client sends (at most three decimals).
pub fn to_milli(field: &str, value: f64) -> AppResult<i64> {
    if !value.is_finite() || value <= 0.0 || value > MAX_QUANTITY {
        return Err(AppError::bad_input(
            field,
            format!("a quantity is positive and at most {MAX_QUANTITY}"),
        ));
    }
    let milli = (value * 1000.0).round();
    if (milli - value * 1000.0).abs() > 1e-6 {
        return Err(AppError::bad_input(
            field,
            "a quantity has at most three decimals",
        ));
    }
    Ok(milli as i64)
}

/// A quantity in units, for clients.
pub fn from_milli(milli: i64) -> f64 {
    milli as f64 / 1000.0
}

pub(crate) fn snapshot(r: &Resource) -> serde_json::Value {
    let m = &r.model;
    json!({
        "ownerId": m.owner_id, "kind": m.kind, "name": m.name, "description": m.description,
        "capacity": from_milli(m.capacity_milli), "unit": m.unit, "locationId": m.location_id,
        "costModel": m.cost_model, "costAmountCents": m.cost_amount_cents,
        "conditions": m.conditions, "visibility": m.visibility, "status": m.status,
        "bookingPolicy": m.booking_policy, "version": m.version,
        "coverage": r.coverage.iter().map(|c| json!({"scope": c.scope, "organisationId": c.organisation_id})).collect::<Vec<_>>(),
    })
}

impl Resource {
    /// Whether `actor` may see this resource.
    pub fn is_visible_to(&self, actor: &Actor) -> bool {
        authz::can_see(actor, self.model.visibility, self.model.owner_id)
    }
}

/// Resources `ids` that `actor` may see, with their coverage, in id order.
pub async fn visible_by_ids<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[i64],
) -> AppResult<Vec<Resource>> {
    let mut found = by_ids(db, ids).await?;
    found.retain(|r| r.is_visible_to(actor));
    Ok(found)
}

/// Resources `ids` with their coverage, in id order, whoever may see them.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Resource>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?;
    with_coverage(db, rows).await
}

/// Attaches their coverage rules to resource rows.
pub(crate) async fn with_coverage<C: ConnectionTrait>(
    db: &C,
    rows: Vec<resource::Model>,
) -> AppResult<Vec<Resource>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut coverage = resource_coverage::Entity::find()
        .filter(resource_coverage::Column::ResourceId.is_in(ids))
        .order_by_asc(resource_coverage::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let (mine, rest) = coverage.drain(..).partition(|c| c.resource_id == model.id);
            coverage = rest;
            Resource {
                model,
                coverage: mine,
            }
        })
        .collect())
}

/// One resource, for a write: `NotFound` when it does not exist or the actor may not see it.
pub(crate) async fn one<C: ConnectionTrait>(db: &C, actor: &Actor, id: i64) -> AppResult<Resource> {
    by_ids(db, &[id])
        .await?
        .pop()
        .filter(|r| authz::can_see(actor, r.model.visibility, r.model.owner_id))
        .ok_or_else(|| AppError::NotFound(format!("resource {id} not found")))
}

/// Condition "the actor may see the resource", in SQL, mirroring [`authz::can_see`].
pub fn visible_to(actor: &Actor) -> Condition {
    if actor.has(Role::State) || actor.has(Role::Superadmin) {
        return Condition::all();
    }
    let mut allowed = vec![Visibility::Public];
    if actor.is_authenticated() && !actor.roles.is_empty() {
        allowed.push(Visibility::Partners);
    }
    let mut visible = Condition::any().add(resource::Column::Visibility.is_in(allowed));
    if let Some(org) = actor.organisation_id
        && (actor.has(Role::Editor) || actor.has(Role::Admin))
    {
        visible = visible.add(resource::Column::OwnerId.eq(org));
    }
    visible
}

/// Condition "the resource's coverage includes an organisation whose reach is `reach`":
/// the organisation itself (`reach[0]`) is named, or a territory of its reach is, or the
/// owner is in its reach and serves its members; the owner always may.
pub fn covers(org: i64, reach: &[i64]) -> Condition {
    use sea_orm::sea_query::Query;
    let c = |col: resource_coverage::Column| Expr::col((resource_coverage::Entity, col));
    let rule = Condition::any()
        .add(
            Condition::all()
                .add(c(resource_coverage::Column::Scope).eq(CoverageScope::Organisation.to_value()))
                .add(c(resource_coverage::Column::OrganisationId).eq(org)),
        )
        .add(
            Condition::all()
                .add(c(resource_coverage::Column::Scope).eq(CoverageScope::Territory.to_value()))
                .add(c(resource_coverage::Column::OrganisationId).is_in(reach.to_vec())),
        )
        .add(
            Condition::all()
                .add(c(resource_coverage::Column::Scope).eq(CoverageScope::OwnerMembers.to_value()))
                .add(
                    Expr::col((resource::Entity, resource::Column::OwnerId)).is_in(reach.to_vec()),
                ),
        );
    let exists = Query::select()
        .expr(Expr::val(1))
        .from(resource_coverage::Entity)
        .and_where(
            c(resource_coverage::Column::ResourceId)
                .equals((resource::Entity, resource::Column::Id)),
        )
        .cond_where(rule)
        .to_owned();
    Condition::any()
        .add(resource::Column::OwnerId.eq(org))
        .add(Expr::exists(exists))
}

/// Serialises the writers of reservations of one resource until the transaction ends, so
/// that two concurrent approvals cannot both fit in the last free unit. SQLite's write
/// transactions are serial already (`BEGIN IMMEDIATE`); PostgreSQL locks the resource row.
pub(crate) async fn lock<C: ConnectionTrait>(txn: &C, id: i64) -> AppResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM resource WHERE id = $1 FOR UPDATE",
            [id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The resources each of `owners` owns, oldest first, with their coverage.
pub async fn of_owners<C: ConnectionTrait>(
    db: &C,
    owners: &[i64],
) -> AppResult<std::collections::HashMap<i64, Vec<Resource>>> {
    let rows = resource::Entity::find()
        .filter(resource::Column::OwnerId.is_in(owners.to_vec()))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?;
    let mut out: std::collections::HashMap<i64, Vec<Resource>> = std::collections::HashMap::new();
    for r in with_coverage(db, rows).await? {
        out.entry(r.model.owner_id).or_default().push(r);
    }
    Ok(out)
}
