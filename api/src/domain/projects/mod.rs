//! Territorial projects (projet de territoire, CRTE, Petites villes de demain, Action cœur de
//! ville…): a plan shared by its parties over a set of communes, with actions, indicators and
//! the measurements partners contribute. Drafts are their parties' own; signed projects are
//! public. Every change is audited and in the feed under the project (`TerritorialProject`).

pub mod actions;
pub mod chart;
pub mod indicators;
pub mod lifecycle;
pub mod measurements;
pub mod series;

use chrono::NaiveDate;
use entity::{ProjectRole, ProjectStatus, project_commune, project_party, territorial_project};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::auth::{Actor, Role};
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::valid_at;
use crate::error::{AppError, AppResult};

/// The entity type of every project event in the audit trail and the feed.
pub const ENTITY_TYPE: &str = "TerritorialProject";

/// The roles with which a party's staff (or an application it mandated) see its projects
/// before they are signed.
const DRAFT_READERS: [Role; 3] = [Role::Editor, Role::Admin, Role::Partner];

/// Whether `actor` sees every project, signed or not (State services).
fn sees_every_project(actor: &Actor) -> bool {
    actor.has(Role::State) || actor.has(Role::Superadmin)
}

/// [`Project::visible_to`] as a condition on `territorial_project`, for reads that select in
/// SQL (exports): signed projects, and those of the organisations `actor` acts for with
/// [`DRAFT_READERS`] roles (its own, and those that mandated it). `None`: every project.
pub fn visible_condition(actor: &Actor) -> Option<Condition> {
    if sees_every_project(actor) {
        return None;
    }
    let parties: Vec<i64> = actor
        .organisation_id
        .into_iter()
        .chain(actor.mandates.keys().copied())
        .filter(|org| actor.acts_for(*org, &DRAFT_READERS))
        .collect();
    let signed = territorial_project::Column::Status.eq(ProjectStatus::Signed);
    let mut visible = Condition::any().add(signed);
    if !parties.is_empty() {
        visible = visible.add(
            territorial_project::Column::Id.in_subquery(
                Query::select()
                    .column(project_party::Column::ProjectId)
                    .from(project_party::Entity)
                    .and_where(project_party::Column::OrganisationId.is_in(parties))
                    .to_owned(),
            ),
        );
    }
    Some(visible)
}

/// A project with its parties and communes, as the domain returns it.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project.
    pub model: territorial_project::Model,
    /// Its parties, one row per role.
    pub parties: Vec<project_party::Model>,
    /// The communes it covers, by id.
    pub communes: Vec<i64>,
}

/// Where a project stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Being drafted.
    Draft,
    /// Awaiting its signatories.
    Proposed,
    /// Signed, not yet in force.
    Signed,
    /// Signed and in force.
    Active,
    /// Signed and past its end.
    Ended,
}

impl Project {
    /// Every party, once each, in id order.
    pub fn party_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.parties.iter().map(|p| p.organisation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The parties holding `role`.
    pub fn with_role(&self, role: ProjectRole) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .parties
            .iter()
            .filter(|p| p.role == role)
            .map(|p| p.organisation_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether `actor` acts for one of the parties with one of `roles`.
    pub fn staff(&self, actor: &Actor, roles: &[Role]) -> bool {
        self.party_ids()
            .into_iter()
            .any(|p| actor.acts_for(p, roles))
    }

    /// Whether `actor` may see it: anyone once signed; before, its parties' staff and State
    /// services.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        self.model.status == ProjectStatus::Signed
            || sees_every_project(actor)
            || self.staff(actor, &DRAFT_READERS)
    }

    /// Where it stands on `at`.
    pub fn phase(&self, at: NaiveDate) -> Phase {
        match self.model.status {
            ProjectStatus::Draft => Phase::Draft,
            ProjectStatus::Proposed => Phase::Proposed,
            ProjectStatus::Signed if at < self.model.valid_from => Phase::Signed,
            ProjectStatus::Signed if self.model.valid_to.is_some_and(|to| at >= to) => Phase::Ended,
            ProjectStatus::Signed => Phase::Active,
        }
    }
}

/// Projects by id on any connection, whoever may see them.
pub(crate) async fn by_ids_in<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Project>> {
    let rows = territorial_project::Entity::find()
        .filter(territorial_project::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(territorial_project::Column::Id)
        .all(db)
        .await?;
    let mut parties = project_party::Entity::find()
        .filter(project_party::Column::ProjectId.is_in(ids.to_vec()))
        .order_by_asc(project_party::Column::Id)
        .all(db)
        .await?;
    let mut communes = project_commune::Entity::find()
        .filter(project_commune::Column::ProjectId.is_in(ids.to_vec()))
        .order_by_asc(project_commune::Column::CommuneId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let id = model.id;
            Project {
                model,
                parties: parties.extract_if(.., |p| p.project_id == id).collect(),
                communes: communes
                    .extract_if(.., |c| c.project_id == id)
                    .map(|c| c.commune_id)
                    .collect(),
            }
        })
        .collect())
}

/// One project, when `actor` may see it.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<Project>> {
    Ok(by_ids_in(db, &[id])
        .await?
        .pop()
        .filter(|p| p.visible_to(actor)))
}

/// The projects `actor` may see that cover `commune` and are in force on `at` (for drafts
/// and proposals: whose validity includes `at`).
pub async fn covering<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    commune: i64,
    at: NaiveDate,
) -> AppResult<Vec<Project>> {
    covering_any(db, actor, &[commune], at).await
}

/// The projects `actor` may see that cover any of the communes of `organisation` on `at`,
/// and those communes.
pub async fn dashboard<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    organisation: i64,
    at: NaiveDate,
) -> AppResult<(Vec<Project>, Vec<i64>)> {
    let communes = crate::domain::territory::communes_of(db, organisation, at).await?;
    let found = covering_any(db, actor, &communes, at).await?;
    Ok((found, communes))
}

/// The projects `actor` may see that cover any of `communes` and whose validity includes
/// `at`.
async fn covering_any<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    communes: &[i64],
    at: NaiveDate,
) -> AppResult<Vec<Project>> {
    let mut ids = Vec::new();
    // SQLite binds at most 32,766 parameters per statement.
    for chunk in communes.chunks(5000) {
        ids.extend(
            project_commune::Entity::find()
                .filter(project_commune::Column::CommuneId.is_in(chunk.to_vec()))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.project_id),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    let in_force: Vec<i64> = territorial_project::Entity::find()
        .filter(territorial_project::Column::Id.is_in(ids))
        .filter(valid_at(
            territorial_project::Column::ValidFrom,
            territorial_project::Column::ValidTo,
            at,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    Ok(by_ids_in(db, &in_force)
        .await?
        .into_iter()
        .filter(|p| p.visible_to(actor))
        .collect())
}

/// Reads a project for a change, locked until the change commits: not found unless visible.
pub(crate) async fn for_change<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    id: i64,
) -> AppResult<Project> {
    crate::domain::lock_row::<territorial_project::Entity, _>(txn, id).await?;
    visible(txn, &ctx.actor, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("territorial project {id}")))
}

/// What the audit trail and the feed keep of a project.
pub(crate) fn snapshot(p: &Project) -> serde_json::Value {
    json!({
        "kind": p.model.kind, "title": p.model.title, "status": p.model.status,
        "validFrom": p.model.valid_from, "validTo": p.model.valid_to,
        "parties": p.parties.iter().map(|x| json!({"organisationId": x.organisation_id, "role": x.role})).collect::<Vec<_>>(),
        "communes": p.communes.len(), "version": p.model.version,
    })
}

/// Records a change of project `project` (or of one of its actions, indicators or
/// measurements, described by `before` and `after`).
pub(crate) async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    project: &Project,
    operation: Operation,
    (before, after): (Option<serde_json::Value>, Option<serde_json::Value>),
) -> AppResult<()> {
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: ENTITY_TYPE,
            entity_id: project.model.id,
            owner: Some(project.model.drafted_by_id),
            operation,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}
