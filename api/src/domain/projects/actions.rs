//! A project's actions: each under an axis, piloted by a party, with contributors, linked
//! competences, resources and agreements, budgets and a schedule. Added by the project's
//! planners (its drafter's or pilots' staff), then edited by the action's pilot's staff;
//! each edit is versioned and audited.

use chrono::NaiveDate;
use entity::{ActionStatus, project_action};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::lifecycle::may_plan;
use super::{Project, for_change, record};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::competences::Catalogue;
use crate::domain::{codes, versioned};
use crate::error::{AppError, AppResult};

/// What an action links to, stored with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// Contributing organisations (parties of the project).
    pub contributors: Vec<i64>,
    /// BANATIC competence codes.
    pub competences: Vec<String>,
    /// Shared resources.
    pub resources: Vec<i64>,
    /// Agreements.
    pub agreements: Vec<i64>,
}

impl Links {
    /// The links stored in `row`.
    pub fn of(row: &project_action::Model) -> Links {
        serde_json::from_str(&row.links).unwrap_or_default()
    }
}

/// An action's content, as added or replaced.
#[derive(Debug, Clone)]
pub struct ActionContent {
    /// The axis it belongs to.
    pub axis: String,
    /// Title.
    pub title: String,
    /// The party piloting it.
    pub pilot: i64,
    /// Where it stands.
    pub status: ActionStatus,
    /// Planned budget, euros.
    pub budget_planned: Option<i64>,
    /// Committed budget, euros.
    pub budget_committed: Option<i64>,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// What it links to.
    pub links: Links,
}

/// Checks that the resources and agreements `links` names exist.
async fn check_links<C: ConnectionTrait>(db: &C, links: &Links) -> AppResult<()> {
    for (field, ids, found) in [
        (
            "input.resourceIds",
            &links.resources,
            entity::resource::Entity::find()
                .filter(entity::resource::Column::Id.is_in(links.resources.clone()))
                .count(db)
                .await?,
        ),
        (
            "input.agreementIds",
            &links.agreements,
            entity::agreement::Entity::find()
                .filter(entity::agreement::Column::Id.is_in(links.agreements.clone()))
                .count(db)
                .await?,
        ),
    ] {
        let mut wanted = ids.clone();
        wanted.sort_unstable();
        wanted.dedup();
        if found != wanted.len() as u64 {
            return Err(AppError::bad_input(field, "an object named does not exist"));
        }
    }
    Ok(())
}

/// Checks `c` against project `p` and the catalogue; the stored row's fields.
fn check(
    p: &Project,
    catalogue: &Catalogue,
    c: ActionContent,
) -> AppResult<project_action::ActiveModel> {
    let parties = p.party_ids();
    if !parties.contains(&c.pilot) {
        return Err(AppError::bad_input(
            "input.pilotId",
            "an action is piloted by a party of the project",
        ));
    }
    if let Some(outsider) = c.links.contributors.iter().find(|o| !parties.contains(o)) {
        return Err(AppError::bad_input(
            "input.contributorIds",
            format!("organisation {outsider} is not a party of the project"),
        ));
    }
    if let Some(unknown) = c
        .links
        .competences
        .iter()
        .find(|code| catalogue.index_of(code).is_none())
    {
        return Err(AppError::bad_input(
            "input.competences",
            format!("`{unknown}` is not a competence of the catalogue"),
        ));
    }
    for (field, amount) in [
        ("input.budgetPlanned", c.budget_planned),
        ("input.budgetCommitted", c.budget_committed),
    ] {
        if amount.is_some_and(|a| a < 0) {
            return Err(AppError::bad_input(field, "a budget is not negative"));
        }
    }
    if let (Some(start), Some(end)) = (c.starts_on, c.ends_on)
        && end < start
    {
        return Err(AppError::bad_input(
            "input.endsOn",
            "an action ends on or after its first day",
        ));
    }
    let links = serde_json::to_string(&c.links).map_err(|_| AppError::Internal)?;
    Ok(project_action::ActiveModel {
        project_id: Set(p.model.id),
        axis: Set(codes::check_text("input.axis", &c.axis, 2, 200)?),
        title: Set(codes::check_text("input.title", &c.title, 3, 200)?),
        pilot_id: Set(c.pilot),
        status: Set(c.status),
        budget_planned: Set(c.budget_planned),
        budget_committed: Set(c.budget_committed),
        starts_on: Set(c.starts_on),
        ends_on: Set(c.ends_on),
        links: Set(links),
        ..Default::default()
    })
}

fn snapshot(a: &project_action::Model) -> serde_json::Value {
    json!({
        "actionId": a.id, "axis": a.axis, "title": a.title, "pilotId": a.pilot_id,
        "status": a.status, "budgetPlanned": a.budget_planned, "budgetCommitted": a.budget_committed,
        "startsOn": a.starts_on, "endsOn": a.ends_on, "links": a.links, "version": a.version,
    })
}

/// Adds an action to project `project` (its planners).
pub async fn add(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    project: i64,
    content: ActionContent,
) -> AppResult<project_action::Model> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let p = for_change(&txn, ctx, project).await?;
    if !may_plan(&p, &ctx.actor) {
        return Err(AppError::Forbidden(
            "only the staff of the project's drafter or pilots add actions".into(),
        ));
    }
    check_links(&txn, &content.links).await?;
    let mut row = check(&p, catalogue, content)?;
    row.version = Set(1);
    row.updated_at = Set(ctx.now);
    let created = project_action::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    record(
        &txn,
        ctx,
        "addProjectAction",
        &p,
        Operation::Updated,
        (None, Some(snapshot(&created))),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Replaces the content of action `id` based on `version` (its pilot's staff).
pub async fn update(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    content: ActionContent,
) -> AppResult<project_action::Model> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = project_action::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("project action {id}")))?;
    let p = for_change(&txn, ctx, before.project_id).await?;
    if !ctx
        .actor
        .acts_for(before.pilot_id, &[Role::Editor, Role::Admin])
    {
        return Err(AppError::Forbidden(
            "only the staff of the action's pilot edit it".into(),
        ));
    }
    if before.version != version {
        return Err(AppError::stale("project action", before.version));
    }
    check_links(&txn, &content.links).await?;
    let mut row = check(&p, catalogue, content)?;
    row.project_id = sea_orm::ActiveValue::NotSet;
    versioned::save(&txn, row, id, version, ctx.now).await?;
    let after = project_action::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        "updateProjectAction",
        &p,
        Operation::Updated,
        (Some(snapshot(&before)), Some(snapshot(&after))),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// The actions of `projects`, in axis then id order.
pub async fn of_projects<C: ConnectionTrait>(
    db: &C,
    projects: &[i64],
) -> AppResult<Vec<project_action::Model>> {
    Ok(project_action::Entity::find()
        .filter(project_action::Column::ProjectId.is_in(projects.to_vec()))
        .order_by_asc(project_action::Column::Axis)
        .order_by_asc(project_action::Column::Id)
        .all(db)
        .await?)
}
