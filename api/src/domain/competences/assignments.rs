//! Declared assignments: an organisation's editors declare, amend and end the competences it
//! exercises. Scopes name member communes only; two holders of one competence for one commune
//! on one date are a conflict.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{
    AssignmentBasis, CompetenceRole, OrganisationKind, assignment, assignment_scope, organisation,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, Statement,
};
use serde_json::json;

use super::catalogue::{Beneficiary, Catalogue, Level};
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::territory::{communes_of, groups_of};
use crate::domain::{authz, codes, valid_at, versioned};
use crate::error::{AppError, AppResult};

/// Most communes a listed scope may name.
pub const MAX_SCOPE: usize = 2000;

/// A declared assignment with its scope.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The row.
    pub model: assignment::Model,
    /// The communes of a listed scope (empty for the whole territory).
    pub scope: Vec<i64>,
}

/// An assignment to declare.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    /// The organisation exercising it.
    pub organisation_id: i64,
    /// Competence code.
    pub competence: String,
    /// Role.
    pub role: CompetenceRole,
    /// Basis.
    pub basis: AssignmentBasis,
    /// INSEE codes of the communes covered; `None` for the whole territory.
    pub scope: Option<Vec<String>>,
    /// First day.
    pub valid_from: NaiveDate,
    /// Day after the last; `None` = open.
    pub valid_to: Option<NaiveDate>,
    /// Legal reference.
    pub legal_reference: Option<String>,
}

/// Changes to an assignment; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AssignmentChanges {
    /// New scope: `Some(None)` = the whole territory.
    pub scope: Option<Option<Vec<String>>>,
    /// New first day.
    pub valid_from: Option<NaiveDate>,
    /// New end: `Some(None)` = open.
    pub valid_to: Option<Option<NaiveDate>>,
    /// New legal reference: `Some(None)` clears it.
    pub legal_reference: Option<Option<String>>,
}

/// A scope or validity as checked, ready to write.
pub(crate) struct Checked {
    pub organisation_id: i64,
    pub competence: String,
    pub role: CompetenceRole,
    pub whole: bool,
    pub scope: Vec<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

fn snapshot(a: &assignment::Model, scope: &[i64]) -> serde_json::Value {
    json!({
        "organisationId": a.organisation_id, "competence": a.competence_code, "role": a.role,
        "basis": a.basis, "wholeTerritory": a.whole_territory, "scope": scope,
        "validFrom": a.valid_from, "validTo": a.valid_to, "legalReference": a.legal_reference,
        "transferId": a.transfer_id, "agreementId": a.agreement_id, "version": a.version,
    })
}

/// Assignments `ids` with their scopes.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Assignment>> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let scopes = assignment_scope::Entity::find()
        .filter(assignment_scope::Column::AssignmentId.is_in(ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let scope = scopes
                .iter()
                .filter(|s| s.assignment_id == model.id)
                .map(|s| s.commune_id)
                .collect();
            Assignment { model, scope }
        })
        .collect())
}

fn check_period(from: NaiveDate, to: Option<NaiveDate>) -> AppResult<()> {
    if to.is_some_and(|t| t <= from) {
        return Err(AppError::bad_input(
            "input.validTo",
            "`validTo` must be after `validFrom` (validity is [validFrom, validTo))",
        ));
    }
    Ok(())
}

/// Resolves and checks a listed scope: communes (by INSEE code) that the organisation covers
/// at the start of the validity and on its last day.
async fn resolve_scope<C: ConnectionTrait>(
    txn: &C,
    org: i64,
    codes_in: &[String],
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> AppResult<Vec<i64>> {
    if codes_in.is_empty() || codes_in.len() > MAX_SCOPE {
        return Err(AppError::bad_input(
            "input.scope",
            format!(
                "a listed scope names 1 to {MAX_SCOPE} communes (null for the whole territory)"
            ),
        ));
    }
    for (i, c) in codes_in.iter().enumerate() {
        codes::check_insee_code(&format!("input.scope[{i}]"), c)?;
    }
    let found = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrganisationKind::Commune))
        .filter(organisation::Column::InseeCode.is_in(codes_in.to_vec()))
        .filter(valid_at(
            organisation::Column::ValidFrom,
            organisation::Column::ValidTo,
            from,
        ))
        .all(txn)
        .await?;
    let mut ids = Vec::new();
    for (i, c) in codes_in.iter().enumerate() {
        let Some(o) = found.iter().find(|o| o.insee_code.as_deref() == Some(c)) else {
            return Err(AppError::bad_input(
                format!("input.scope[{i}]"),
                format!("`{c}` is not a commune on {from}"),
            ));
        };
        ids.push(o.id);
    }
    ids.sort_unstable();
    ids.dedup();
    let mut dates = vec![from];
    if let Some(last) = to.and_then(|t| t.pred_opt()).filter(|l| *l > from) {
        dates.push(last);
    }
    for d in dates {
        let members: HashSet<i64> = communes_of(txn, org, d).await?.into_iter().collect();
        if let Some(pos) = ids.iter().position(|id| !members.contains(id)) {
            let code = found
                .iter()
                .find(|o| o.id == ids[pos])
                .and_then(|o| o.insee_code.clone())
                .unwrap_or_default();
            return Err(AppError::bad_input(
                "input.scope",
                format!("commune {code} is not a member of the organisation on {d}"),
            ));
        }
    }
    Ok(ids)
}

/// Fails with `CONFLICT` when another `HOLDER` assignment of the same competence covers one
/// of the same communes on a same date (assignments `exclude` left aside).
pub(crate) async fn check_holder_conflict<C: ConnectionTrait>(
    txn: &C,
    new: &Checked,
    exclude: &[i64],
) -> AppResult<()> {
    if new.role != CompetenceRole::Holder {
        return Ok(());
    }
    lock_competence(txn, &new.competence).await?;
    let mut overlap = Condition::all().add(
        Condition::any()
            .add(assignment::Column::ValidTo.is_null())
            .add(assignment::Column::ValidTo.gt(new.valid_from)),
    );
    if let Some(to) = new.valid_to {
        overlap = overlap.add(
            Condition::any()
                .add(assignment::Column::ValidFrom.is_null())
                .add(assignment::Column::ValidFrom.lt(to)),
        );
    }
    let candidates = assignment::Entity::find()
        .filter(assignment::Column::CompetenceCode.eq(&new.competence))
        .filter(assignment::Column::Role.eq(CompetenceRole::Holder))
        .filter(assignment::Column::Id.is_not_in(exclude.to_vec()))
        .filter(overlap)
        .all(txn)
        .await?;
    if candidates.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let scopes = assignment_scope::Entity::find()
        .filter(assignment_scope::Column::AssignmentId.is_in(ids))
        .all(txn)
        .await?;
    let mut dates: Vec<NaiveDate> = vec![new.valid_from];
    dates.extend(
        candidates
            .iter()
            .filter_map(|c| c.valid_from)
            .filter(|f| *f > new.valid_from && new.valid_to.is_none_or(|t| *f < t)),
    );
    dates.sort_unstable();
    dates.dedup();
    for d in dates {
        let mine: Vec<i64> = if new.whole {
            communes_of(txn, new.organisation_id, d).await?
        } else {
            new.scope.clone()
        };
        let mine_set: HashSet<i64> = mine.iter().copied().collect();
        let groups: HashSet<i64> = groups_of(txn, &mine, d).await?.into_iter().collect();
        for c in candidates
            .iter()
            .filter(|c| crate::domain::contains(c.valid_from, c.valid_to, d))
        {
            let clash = if c.whole_territory {
                groups.contains(&c.organisation_id)
            } else {
                scopes
                    .iter()
                    .any(|s| s.assignment_id == c.id && mine_set.contains(&s.commune_id))
            };
            if clash {
                return Err(AppError::Conflict(format!(
                    "another organisation (assignment {}) already holds {} for some of these \
                     communes on {d}: end it or transfer it first",
                    c.id, new.competence
                )));
            }
        }
    }
    Ok(())
}

/// Serialises the writers of holders of one competence until the transaction ends, so that
/// two concurrent declarations cannot both pass the conflict check. SQLite's write
/// transactions are serial already (`BEGIN IMMEDIATE`); PostgreSQL locks the competence row.
async fn lock_competence<C: ConnectionTrait>(txn: &C, code: &str) -> AppResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT code FROM competence WHERE code = $1 FOR UPDATE",
            [code.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Where an assignment comes from, beyond the organisation's own declaration.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin {
    /// The transfer that created it.
    pub transfer_id: Option<i64>,
    /// The agreement that yields it.
    pub agreement_id: Option<i64>,
}

/// Inserts a checked assignment and its scope, audited; returns it.
pub(crate) async fn insert<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    checked: &Checked,
    basis: AssignmentBasis,
    legal_reference: Option<String>,
    origin: Origin,
) -> AppResult<Assignment> {
    let now = ctx.now;
    let model = assignment::Entity::insert(assignment::ActiveModel {
        organisation_id: Set(checked.organisation_id),
        competence_code: Set(checked.competence.clone()),
        role: Set(checked.role),
        basis: Set(basis),
        whole_territory: Set(checked.whole),
        valid_from: Set(Some(checked.valid_from)),
        valid_to: Set(checked.valid_to),
        legal_reference: Set(legal_reference),
        transfer_id: Set(origin.transfer_id),
        agreement_id: Set(origin.agreement_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await?;
    write_scope(txn, model.id, &checked.scope).await?;
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: "Assignment",
            entity_id: model.id,
            owner: Some(model.organisation_id),
            operation: Operation::Created,
            before: None,
            after: Some(snapshot(&model, &checked.scope)),
        },
    )
    .await?;
    Ok(Assignment {
        model,
        scope: checked.scope.clone(),
    })
}

async fn write_scope<C: ConnectionTrait>(txn: &C, id: i64, scope: &[i64]) -> AppResult<()> {
    assignment_scope::Entity::delete_many()
        .filter(assignment_scope::Column::AssignmentId.eq(id))
        .exec(txn)
        .await?;
    for chunk in scope.chunks(500) {
        assignment_scope::Entity::insert_many(chunk.iter().map(|&c| {
            assignment_scope::ActiveModel {
                assignment_id: Set(id),
                commune_id: Set(c),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Refuses a declaration that gives `org` a competence the law reserves to a level `org` does
/// not exercise (collèges to the département…), unless it rests on a delegation or an
/// agreement (CGCT L1111-8), which the law allows.
fn check_reservation(
    catalogue: &Catalogue,
    org: &organisation::Model,
    competence: &str,
    role: CompetenceRole,
    basis: AssignmentBasis,
) -> AppResult<()> {
    if matches!(
        basis,
        AssignmentBasis::Delegation | AssignmentBasis::Agreement
    ) || !matches!(
        role,
        CompetenceRole::Holder | CompetenceRole::Implementer | CompetenceRole::Financer
    ) {
        return Ok(());
    }
    let Some(rule) = catalogue
        .index_of(competence)
        .and_then(|i| catalogue.reservation(i))
    else {
        return Ok(());
    };
    let Beneficiary::Level(level) = rule.beneficiary else {
        return Ok(());
    };
    let own_level = match level {
        Level::Commune => org.kind == OrganisationKind::Commune,
        Level::Departement => org.kind == OrganisationKind::Departement,
        Level::Region => org.kind == OrganisationKind::Region,
        Level::State => org.kind == OrganisationKind::StateService,
    };
    let by_status = catalogue.statuses().iter().any(|s| {
        s.covers_level(level)
            && s.exercised_by.is_organisation(
                org.kind,
                org.insee_code.as_deref(),
                org.siren.as_deref(),
                &org.source,
            )
    });
    if own_level || by_status {
        return Ok(());
    }
    let level_name = match level {
        Level::Commune => "the commune",
        Level::Departement => "the département",
        Level::Region => "the région",
        Level::State => "the State",
    };
    Err(AppError::bad_input(
        "input.basis",
        format!(
            "{} reserves {competence} to {level_name}: a {} cannot take it by {}; \
             declare a DELEGATION or an AGREEMENT with {level_name} (CGCT L1111-8)",
            rule.source,
            org.kind.to_value(),
            basis.to_value(),
        ),
    ))
}

/// Declares an assignment for an organisation (its editors and admins).
pub async fn declare(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: NewAssignment,
) -> AppResult<Assignment> {
    authz::require_edit(&ctx.actor, new.organisation_id)?;
    let legal_reference = check_declaration(catalogue, &new)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let checked = check_in(&txn, catalogue, &new).await?;
    let created = write_checked(
        &txn,
        ctx,
        "declareCompetence",
        &checked,
        new.basis,
        legal_reference,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Checks what a declaration says on its own: the code, the catalogue, the basis, the period
/// and the legal reference (returned as checked).
pub(crate) fn check_declaration(
    catalogue: &Catalogue,
    new: &NewAssignment,
) -> AppResult<Option<String>> {
    codes::check_competence_code("input.competence", &new.competence)?;
    if catalogue.get(&new.competence).is_none() {
        return Err(AppError::bad_input(
            "input.competence",
            format!("`{}` is not in the competence catalogue", new.competence),
        ));
    }
    if new.basis == AssignmentBasis::Transfer {
        return Err(AppError::bad_input(
            "input.basis",
            "a TRANSFER takes every party's consent: use proposeCompetenceTransfer",
        ));
    }
    check_period(new.valid_from, new.valid_to)?;
    new.legal_reference
        .as_deref()
        .map(|r| codes::check_text("input.legalReference", r, 1, 500))
        .transpose()
}

/// Writes a declaration checked by [`check_declaration`] and [`check_in`], unless another
/// holder already covers some of its communes; audited as `action`.
pub(crate) async fn write_checked<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    checked: &Checked,
    basis: AssignmentBasis,
    legal_reference: Option<String>,
) -> AppResult<Assignment> {
    check_holder_conflict(txn, checked, &[]).await?;
    insert(
        txn,
        ctx,
        action,
        checked,
        basis,
        legal_reference,
        Origin::default(),
    )
    .await
}

/// Whether `checked` is declared exactly so already (same organisation, competence, role,
/// basis, period and scope): what makes importing one file twice harmless.
pub(crate) async fn already_declared<C: ConnectionTrait>(
    txn: &C,
    checked: &Checked,
    basis: AssignmentBasis,
) -> AppResult<bool> {
    let to = match checked.valid_to {
        Some(to) => assignment::Column::ValidTo.eq(to),
        None => assignment::Column::ValidTo.is_null(),
    };
    let same: Vec<i64> = assignment::Entity::find()
        .filter(assignment::Column::OrganisationId.eq(checked.organisation_id))
        .filter(assignment::Column::CompetenceCode.eq(&checked.competence))
        .filter(assignment::Column::Role.eq(checked.role))
        .filter(assignment::Column::Basis.eq(basis))
        .filter(assignment::Column::WholeTerritory.eq(checked.whole))
        .filter(assignment::Column::ValidFrom.eq(checked.valid_from))
        .filter(to)
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if same.is_empty() || checked.whole {
        return Ok(!same.is_empty());
    }
    Ok(by_ids(txn, &same).await?.into_iter().any(|a| {
        let mut scope = a.scope;
        scope.sort_unstable();
        scope == checked.scope
    }))
}

/// The organisation, the law's reservations and the scope of a declaration, checked.
pub(crate) async fn check_in<C: ConnectionTrait>(
    txn: &C,
    catalogue: &Catalogue,
    new: &NewAssignment,
) -> AppResult<Checked> {
    let org = organisation::Entity::find_by_id(new.organisation_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("organisation not found".into()))?;
    check_reservation(catalogue, &org, &new.competence, new.role, new.basis)?;
    let scope = match &new.scope {
        None => Vec::new(),
        Some(codes_in) => {
            resolve_scope(txn, org.id, codes_in, new.valid_from, new.valid_to).await?
        }
    };
    Ok(Checked {
        organisation_id: org.id,
        competence: new.competence.clone(),
        role: new.role,
        whole: new.scope.is_none(),
        scope,
        valid_from: new.valid_from,
        valid_to: new.valid_to,
    })
}

async fn editable<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    id: i64,
    version: i64,
) -> AppResult<Assignment> {
    let current = by_ids(txn, &[id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("assignment {id} not found")))?;
    authz::require_edit(&ctx.actor, current.model.organisation_id)?;
    if current.model.transfer_id.is_some() || current.model.agreement_id.is_some() {
        return Err(AppError::bad_input(
            "input.id",
            "this assignment comes from a transfer or an agreement: change it the same way",
        ));
    }
    if current.model.version != version {
        return Err(AppError::stale("assignment", current.model.version));
    }
    Ok(current)
}

async fn save<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: &Assignment,
    after: assignment::ActiveModel,
    scope: Option<&[i64]>,
    operation: Operation,
) -> AppResult<Assignment> {
    let id = before.model.id;
    versioned::save(txn, after, id, before.model.version, ctx.now).await?;
    if let Some(scope) = scope {
        write_scope(txn, id, scope).await?;
    }
    let now = by_ids(txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: "Assignment",
            entity_id: id,
            owner: Some(now.model.organisation_id),
            operation,
            before: Some(snapshot(&before.model, &before.scope)),
            after: Some(snapshot(&now.model, &now.scope)),
        },
    )
    .await?;
    Ok(now)
}

/// Amends a declared assignment's scope, validity or legal reference.
pub async fn amend(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    changes: AssignmentChanges,
) -> AppResult<Assignment> {
    let legal_reference = match &changes.legal_reference {
        Some(Some(r)) => Some(Some(codes::check_text("input.legalReference", r, 1, 500)?)),
        other => other.clone(),
    };
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = editable(&txn, ctx, id, version).await?;
    let m = &current.model;
    let from = changes
        .valid_from
        .or(m.valid_from)
        .ok_or(AppError::Internal)?;
    let to = changes.valid_to.unwrap_or(m.valid_to);
    check_period(from, to)?;
    let (whole, scope) = match &changes.scope {
        None if m.whole_territory => (true, Vec::new()),
        None => {
            let codes_now = organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(current.scope.clone()))
                .all(&txn)
                .await?
                .into_iter()
                .filter_map(|o| o.insee_code)
                .collect::<Vec<_>>();
            (
                false,
                resolve_scope(&txn, m.organisation_id, &codes_now, from, to).await?,
            )
        }
        Some(None) => (true, Vec::new()),
        Some(Some(list)) => (
            false,
            resolve_scope(&txn, m.organisation_id, list, from, to).await?,
        ),
    };
    let checked = Checked {
        organisation_id: m.organisation_id,
        competence: m.competence_code.clone(),
        role: m.role,
        whole,
        scope,
        valid_from: from,
        valid_to: to,
    };
    check_holder_conflict(&txn, &checked, &[id]).await?;
    let mut after = assignment::ActiveModel {
        whole_territory: Set(whole),
        valid_from: Set(Some(from)),
        valid_to: Set(to),
        ..Default::default()
    };
    if let Some(r) = legal_reference {
        after.legal_reference = Set(r);
    }
    let saved = save(
        &txn,
        ctx,
        "amendCompetenceAssignment",
        &current,
        after,
        Some(&checked.scope),
        Operation::Updated,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Ends a declared assignment on `end` (exclusive: the last day is the day before).
pub async fn end(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    end: NaiveDate,
) -> AppResult<Assignment> {
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = editable(&txn, ctx, id, version).await?;
    if current.model.valid_from.is_some_and(|f| end <= f) {
        return Err(AppError::bad_input(
            "input.endDate",
            "the end date must be after the start of the assignment",
        ));
    }
    if current.model.valid_to.is_some_and(|t| t <= end) {
        return Err(AppError::bad_input(
            "input.endDate",
            "the assignment already ends on or before that date",
        ));
    }
    let after = assignment::ActiveModel {
        valid_to: Set(Some(end)),
        ..Default::default()
    };
    let saved = save(
        &txn,
        ctx,
        "endCompetenceAssignment",
        &current,
        after,
        None,
        Operation::Ended,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
