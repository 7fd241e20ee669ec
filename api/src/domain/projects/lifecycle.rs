//! The lifecycle of a territorial project, the one agreements have: drafted by a party,
//! proposed (frozen), signed by every signatory's admin through the consent mechanism; in
//! force from its first day, ended at its end. A rejection returns it to draft.

use chrono::NaiveDate;
use entity::{
    ProjectKind, ProjectRole, ProjectStatus, project_commune, project_party, territorial_project,
};
use sea_orm::{ActiveEnum, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;

use super::{Project, by_ids_in, for_change, record, snapshot};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::consent::{self, Subject, Tally};
use crate::domain::{authz, codes, idempotency, territory, versioned};
use crate::error::{AppError, AppResult};

/// A project to draft.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Programme or form.
    pub kind: ProjectKind,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: Option<String>,
    /// The drafting party (must be among `parties`).
    pub drafted_by: i64,
    /// Parties and their roles.
    pub parties: Vec<(i64, ProjectRole)>,
    /// The organisations whose communes it covers (communes, EPCI, départements…), taken
    /// at its first day.
    pub territory: Vec<i64>,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Day after the last in force.
    pub valid_to: Option<NaiveDate>,
}

/// Most parties and territory entries a project lists.
const MAX_PARTIES: usize = 200;

/// Drafts a project (an editor or admin of the drafting party).
pub async fn draft(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewProject,
    idempotency_key: Option<&str>,
) -> AppResult<Project> {
    authz::require_edit(&ctx.actor, new.drafted_by)?;
    let title = codes::check_text("input.title", &new.title, 3, 200)?;
    let description = new
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| codes::check_text("input.description", d, 1, 5000))
        .transpose()?;
    if new.parties.is_empty() || new.parties.len() > MAX_PARTIES {
        return Err(AppError::bad_input(
            "input.parties",
            format!("a project has 1 to {MAX_PARTIES} party roles"),
        ));
    }
    if !new.parties.iter().any(|(p, _)| *p == new.drafted_by) {
        return Err(AppError::bad_input(
            "input.parties",
            "the drafting organisation must be a party",
        ));
    }
    if !new
        .parties
        .iter()
        .any(|(_, r)| *r == ProjectRole::Signatory)
    {
        return Err(AppError::bad_input(
            "input.parties",
            "a project needs at least one SIGNATORY",
        ));
    }
    if new.valid_to.is_some_and(|to| to <= new.valid_from) {
        return Err(AppError::bad_input(
            "input.validTo",
            "the end comes after the first day",
        ));
    }
    if new.territory.is_empty() || new.territory.len() > MAX_PARTIES {
        return Err(AppError::bad_input(
            "input.territory",
            format!("a territory lists 1 to {MAX_PARTIES} organisations"),
        ));
    }
    let hash = idempotency::input_hash(&json!({
        "kind": new.kind, "title": title, "description": description, "draftedBy": new.drafted_by,
        "parties": new.parties.iter().map(|(p, r)| json!([p, r])).collect::<Vec<_>>(),
        "territory": new.territory, "validFrom": new.valid_from, "validTo": new.valid_to,
    }));
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(idempotency_key, "draftTerritorialProject", &hash)
        .await?
    {
        return by_ids_in(&txn, &[id])
            .await?
            .pop()
            .ok_or(AppError::Internal);
    }
    let mut communes = Vec::new();
    for &org in &new.territory {
        communes.extend(territory::communes_of(&txn, org, new.valid_from).await?);
    }
    communes.sort_unstable();
    communes.dedup();
    if communes.is_empty() {
        return Err(AppError::bad_input(
            "input.territory",
            "these organisations cover no commune on the project's first day",
        ));
    }
    let model = territorial_project::Entity::insert(territorial_project::ActiveModel {
        kind: Set(new.kind),
        title: Set(title),
        description: Set(description),
        drafted_by_id: Set(new.drafted_by),
        status: Set(ProjectStatus::Draft),
        valid_from: Set(new.valid_from),
        valid_to: Set(new.valid_to),
        signed_at: Set(None),
        version: Set(1),
        created_at: Set(ctx.now),
        updated_at: Set(ctx.now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    let mut parties = new.parties.clone();
    parties.sort_unstable_by_key(|(p, r)| (*p, r.to_value()));
    parties.dedup();
    project_party::Entity::insert_many(parties.iter().map(|&(org, role)| {
        project_party::ActiveModel {
            project_id: Set(model.id),
            organisation_id: Set(org),
            role: Set(role),
            ..Default::default()
        }
    }))
    .exec_without_returning(&txn)
    .await?;
    // Large territories (a région's communes) go in chunks: SQLite binds at most 32,766
    // parameters per statement.
    for chunk in communes.chunks(5000) {
        project_commune::Entity::insert_many(chunk.iter().map(|&c| project_commune::ActiveModel {
            project_id: Set(model.id),
            commune_id: Set(c),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let created = by_ids_in(&txn, &[model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        "draftTerritorialProject",
        &created,
        Operation::Created,
        (None, Some(snapshot(&created))),
    )
    .await?;
    txn.remember(
        idempotency_key,
        "draftTerritorialProject",
        &hash,
        created.model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Moves project `before` to `status`, checking its version once more.
async fn save<C: sea_orm::ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    before: &Project,
    status: ProjectStatus,
) -> AppResult<Project> {
    let changes = territorial_project::ActiveModel {
        status: Set(status),
        signed_at: Set((status == ProjectStatus::Signed).then_some(ctx.now)),
        ..Default::default()
    };
    let (id, version) = (before.model.id, before.model.version);
    versioned::save(txn, changes, id, version, ctx.now).await?;
    by_ids_in(txn, &[id]).await?.pop().ok_or(AppError::Internal)
}

/// Proposes a draft to its signatories (the drafting party's editors and admins): it is
/// frozen and each signatory is asked to sign.
pub async fn propose(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
) -> AppResult<Project> {
    authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = for_change(&txn, ctx, id).await?;
    authz::require_edit(&ctx.actor, before.model.drafted_by_id)?;
    if before.model.version != version {
        return Err(AppError::stale("territorial project", before.model.version));
    }
    if before.model.status != ProjectStatus::Draft {
        return Err(AppError::IllegalTransition(format!(
            "only a draft can be proposed; this one is {}",
            before.model.status.to_value()
        )));
    }
    let after = save(&txn, ctx, &before, ProjectStatus::Proposed).await?;
    consent::open(
        &txn,
        Subject::Project,
        id,
        &before.with_role(ProjectRole::Signatory),
    )
    .await?;
    record(
        &txn,
        ctx,
        "proposeTerritorialProject",
        &after,
        Operation::Updated,
        (Some(snapshot(&before)), Some(snapshot(&after))),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Signs (or rejects) a proposal for one signatory (an admin of that party). The last
/// signature makes it `SIGNED`, and public; a rejection returns it to `DRAFT`.
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    party: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<Project> {
    authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = for_change(&txn, ctx, id).await?;
    if before.model.status != ProjectStatus::Proposed {
        return Err(AppError::IllegalTransition(format!(
            "only a proposed project can be signed; this one is {}",
            before.model.status.to_value()
        )));
    }
    let decisions =
        consent::decide(&txn, ctx, Subject::Project, id, party, approve, reason).await?;
    let (status, action) = match consent::unanimity(&decisions) {
        Tally::Pending => (ProjectStatus::Proposed, "signTerritorialProject"),
        Tally::Approved => (ProjectStatus::Signed, "signTerritorialProject"),
        Tally::Rejected => (ProjectStatus::Draft, "rejectTerritorialProject"),
    };
    if status == ProjectStatus::Draft {
        consent::reset(&txn, Subject::Project, id).await?;
    }
    let after = save(&txn, ctx, &before, status).await?;
    record(
        &txn,
        ctx,
        action,
        &after,
        Operation::Updated,
        (
            Some(snapshot(&before)),
            Some(consent::with_rejection(snapshot(&after), &decisions)),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Whether `actor` may edit the project's plan: the staff of a pilot or of the drafter.
pub fn may_plan(project: &Project, actor: &crate::auth::Actor) -> bool {
    let staff = [Role::Editor, Role::Admin];
    actor.acts_for(project.model.drafted_by_id, &staff)
        || project
            .with_role(ProjectRole::Pilot)
            .into_iter()
            .any(|p| actor.acts_for(p, &staff))
}
