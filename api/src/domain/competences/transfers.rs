//! Transfers: a competence moves between an organisation and a group it belongs to (commune →
//! EPCI, EPCI → syndicat, or back) at an effective date, once every party has approved; the
//! old holder's assignments end and the new ones start on that date, in one transaction.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{AssignmentBasis, CompetenceRole, TransferStatus, assignment, organisation, transfer};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde_json::json;

use super::assignments::{self, Checked, Origin};
use super::catalogue::Catalogue;
use super::holdings;
use crate::auth::Role;
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::consent::{self, Subject, Tally};
use crate::domain::registry;
use crate::domain::territory::{communes_of, groups_of};
use crate::domain::{authz, codes, valid_at};
use crate::error::{AppError, AppResult};

/// The roles a transfer moves: the competence whole (decide, carry out, pay).
pub const MOVED_ROLES: [CompetenceRole; 3] = [
    CompetenceRole::Holder,
    CompetenceRole::Implementer,
    CompetenceRole::Financer,
];

/// A transfer with its consents.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The row.
    pub model: transfer::Model,
    /// Each party's consent.
    pub consents: Vec<entity::consent::Model>,
}

/// A transfer to propose.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Competence code.
    pub competence: String,
    /// The giver.
    pub from_id: i64,
    /// The receiver.
    pub to_id: i64,
    /// First day the receiver holds it.
    pub effective_date: NaiveDate,
    /// Legal reference.
    pub legal_reference: Option<String>,
}

fn snapshot(t: &transfer::Model) -> serde_json::Value {
    json!({
        "competence": t.competence_code, "fromId": t.from_id, "toId": t.to_id,
        "effectiveDate": t.effective_date, "wholeTerritory": t.whole_territory,
        "status": t.status, "reason": t.reason, "version": t.version,
    })
}

/// Transfers `ids` with their consents.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Transfer>> {
    let rows = transfer::Entity::find()
        .filter(transfer::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(transfer::Column::Id)
        .all(db)
        .await?;
    let consents = consent::of(db, Subject::Transfer, ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| Transfer {
            consents: consents
                .iter()
                .filter(|c| c.subject_id == model.id)
                .cloned()
                .collect(),
            model,
        })
        .collect())
}

/// The transfers organisation `org` is a party to, oldest first, with their consents.
pub async fn of_organisation(db: &DatabaseConnection, org: i64) -> AppResult<Vec<Transfer>> {
    let rows = transfer::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(transfer::Column::FromId.eq(org))
                .add(transfer::Column::ToId.eq(org)),
        )
        .order_by_asc(transfer::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let consents = consent::of(db, Subject::Transfer, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| Transfer {
            consents: consents
                .iter()
                .filter(|c| c.subject_id == model.id)
                .cloned()
                .collect(),
            model,
        })
        .collect())
}

/// Transfer `id` with its consents, locked until the transaction ends: parties deciding at
/// once take turns, each seeing the decisions committed before it.
async fn one<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Transfer> {
    crate::domain::lock_row::<transfer::Entity, _>(db, id).await?;
    by_ids(db, &[id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("transfer {id} not found")))
}

/// Proposes a transfer (an editor or admin of either party); both parties are asked.
pub async fn propose(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: NewTransfer,
    today: NaiveDate,
) -> AppResult<Transfer> {
    authz::require_authenticated(&ctx.actor)?;
    let proposer = [new.from_id, new.to_id]
        .into_iter()
        .find(|&p| ctx.actor.acts_for(p, &[Role::Editor, Role::Admin]))
        .ok_or_else(|| {
            AppError::Forbidden("only the editors of a party may propose a transfer".into())
        })?;
    codes::check_competence_code("input.competence", &new.competence)?;
    if catalogue.get(&new.competence).is_none() {
        return Err(AppError::bad_input(
            "input.competence",
            format!("`{}` is not in the competence catalogue", new.competence),
        ));
    }
    if new.from_id == new.to_id {
        return Err(AppError::bad_input(
            "input.toId",
            "an organisation cannot transfer to itself",
        ));
    }
    if new.effective_date < today {
        return Err(AppError::bad_input(
            "input.effectiveDate",
            "a transfer takes effect today or later",
        ));
    }
    let legal_reference = new
        .legal_reference
        .as_deref()
        .map(|r| codes::check_text("input.legalReference", r, 1, 500))
        .transpose()?;
    let eff = new.effective_date;

    // What the giver holds is read before the transaction: the registry reads it takes must
    // not wait for a connection that concurrent writers hold.
    if let Some(giver) = reads.by_ids(&[new.from_id]).await?.pop() {
        let holds = holdings::of_organisations(db, reads, catalogue, &[giver], eff)
            .await?
            .remove(&new.from_id)
            .unwrap_or_default()
            .iter()
            .any(|r| {
                r.role == CompetenceRole::Holder
                    && catalogue.at(r.competence).code == new.competence
            });
        if !holds {
            return Err(AppError::bad_input(
                "input.fromId",
                format!("the giver does not hold {} on {eff}", new.competence),
            ));
        }
    }
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let orgs = registry::by_ids_in(&txn, &[new.from_id, new.to_id]).await?;
    let (Some(_), Some(_)) = (
        orgs.iter().find(|o| o.id == new.from_id),
        orgs.iter().find(|o| o.id == new.to_id),
    ) else {
        return Err(AppError::NotFound("organisation not found".into()));
    };
    let upward = groups_of(&txn, &[new.from_id], eff)
        .await?
        .contains(&new.to_id);
    let downward = !upward
        && groups_of(&txn, &[new.to_id], eff)
            .await?
            .contains(&new.from_id);
    if !upward && !downward {
        return Err(AppError::bad_input(
            "input.toId",
            "a transfer goes between an organisation and a group it belongs to on the effective date",
        ));
    }
    let pending = transfer::Entity::find()
        .filter(transfer::Column::CompetenceCode.eq(&new.competence))
        .filter(transfer::Column::FromId.eq(new.from_id))
        .filter(transfer::Column::ToId.eq(new.to_id))
        .filter(transfer::Column::Status.eq(TransferStatus::Proposed))
        .one(&txn)
        .await?;
    let already = || AppError::Conflict("the same transfer is already waiting for consent".into());
    if pending.is_some() {
        return Err(already());
    }
    let now = ctx.now;
    let model = transfer::Entity::insert(transfer::ActiveModel {
        competence_code: Set(new.competence.clone()),
        from_id: Set(new.from_id),
        to_id: Set(new.to_id),
        effective_date: Set(eff),
        whole_territory: Set(upward),
        status: Set(TransferStatus::Proposed),
        proposed_by_id: Set(proposer),
        legal_reference: Set(legal_reference),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await
    // A concurrent proposal of the same transfer committed first (the unique index).
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => already(),
        other => other,
    })?;
    consent::open(&txn, Subject::Transfer, model.id, &[new.from_id, new.to_id]).await?;
    record(
        &txn,
        ctx,
        "proposeCompetenceTransfer",
        None,
        &model,
        Operation::Created,
    )
    .await?;
    let out = one(&txn, model.id).await?;
    txn.commit().await?;
    Ok(out)
}

async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: Option<&transfer::Model>,
    after: &transfer::Model,
    operation: Operation,
) -> AppResult<()> {
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: "Transfer",
            entity_id: after.id,
            owner: Some(after.from_id),
            operation,
            before: before.map(snapshot),
            after: Some(snapshot(after)),
        },
    )
    .await?;
    Ok(())
}

async fn set_status<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: &transfer::Model,
    status: TransferStatus,
    reason: Option<String>,
) -> AppResult<()> {
    let res = transfer::Entity::update_many()
        .col_expr(transfer::Column::Status, status.into())
        .col_expr(transfer::Column::Reason, reason.into())
        .col_expr(transfer::Column::Version, (before.version + 1).into())
        .col_expr(transfer::Column::UpdatedAt, ctx.now.into())
        .filter(transfer::Column::Id.eq(before.id))
        .filter(transfer::Column::Status.eq(TransferStatus::Proposed))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the transfer is no longer proposed".into(),
        ));
    }
    let after = one(txn, before.id).await?.model;
    record(txn, ctx, action, Some(before), &after, Operation::Updated).await
}

/// Records a party's decision (an admin of that party); the last approval completes it.
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    party: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<Transfer> {
    let reason = reason
        .as_deref()
        .map(|r| codes::check_text("input.reason", r, 1, 1000))
        .transpose()?;
    consent::require_decide(&ctx.actor, party)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = one(&txn, id).await?.model;
    if current.status != TransferStatus::Proposed {
        return Err(AppError::Conflict(format!(
            "the transfer is {}, no longer waiting for consent",
            current.status.to_value()
        )));
    }
    let tally = consent::decide(
        &txn,
        ctx,
        Subject::Transfer,
        id,
        party,
        approve,
        reason.clone(),
    )
    .await?;
    let action = if approve {
        "approveCompetenceTransfer"
    } else {
        "rejectCompetenceTransfer"
    };
    match tally {
        Tally::Pending => {
            record(
                &txn,
                ctx,
                action,
                Some(&current),
                &current,
                Operation::Updated,
            )
            .await?
        }
        Tally::Rejected => {
            set_status(
                &txn,
                ctx,
                action,
                &current,
                TransferStatus::Rejected,
                reason,
            )
            .await?
        }
        Tally::Approved => {
            complete(&txn, ctx, &current).await?;
            set_status(&txn, ctx, action, &current, TransferStatus::Completed, None).await?
        }
    }
    let out = one(&txn, id).await?;
    txn.commit().await?;
    Ok(out)
}

/// Withdraws a proposed transfer (an editor or admin of the proposing party).
pub async fn withdraw(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    reason: Option<String>,
) -> AppResult<Transfer> {
    let reason = reason
        .as_deref()
        .map(|r| codes::check_text("input.reason", r, 1, 1000))
        .transpose()?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = one(&txn, id).await?.model;
    authz::require_edit(&ctx.actor, current.proposed_by_id)?;
    if current.status != TransferStatus::Proposed {
        return Err(AppError::Conflict(format!(
            "the transfer is {}, it can no longer be withdrawn",
            current.status.to_value()
        )));
    }
    set_status(
        &txn,
        ctx,
        "withdrawCompetenceTransfer",
        &current,
        TransferStatus::Withdrawn,
        reason,
    )
    .await?;
    let out = one(&txn, id).await?;
    txn.commit().await?;
    Ok(out)
}

/// The communes an assignment covers on `d`.
async fn coverage<C: ConnectionTrait>(
    txn: &C,
    a: &assignments::Assignment,
    d: NaiveDate,
) -> AppResult<Vec<i64>> {
    if a.model.whole_territory {
        communes_of(txn, a.model.organisation_id, d).await
    } else {
        Ok(a.scope.clone())
    }
}

/// Applies an approved transfer: for each moved role, the giver's assignments covering the
/// moved territory end on the effective date (continuing for the rest of their territory),
/// and the receiver's start.
async fn complete<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    t: &transfer::Model,
) -> AppResult<()> {
    let eff = t.effective_date;
    let territory: Vec<i64> = if t.whole_territory {
        communes_of(txn, t.from_id, eff).await?
    } else {
        communes_of(txn, t.to_id, eff).await?
    };
    let moved: HashSet<i64> = territory.iter().copied().collect();
    let receiver = organisation::Entity::find_by_id(t.to_id)
        .one(txn)
        .await?
        .ok_or(AppError::Internal)?;
    for role in MOVED_ROLES {
        let ids: Vec<i64> = assignment::Entity::find()
            .filter(assignment::Column::OrganisationId.eq(t.from_id))
            .filter(assignment::Column::CompetenceCode.eq(&t.competence_code))
            .filter(assignment::Column::Role.eq(role))
            .filter(valid_at(
                assignment::Column::ValidFrom,
                assignment::Column::ValidTo,
                eff,
            ))
            .all(txn)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let mut ended = Vec::new();
        for a in assignments::by_ids(txn, &ids).await? {
            let covered = coverage(txn, &a, eff).await?;
            if !covered.iter().any(|c| moved.contains(c)) {
                continue;
            }
            end_for_transfer(txn, ctx, &a, eff).await?;
            ended.push(a.model.id);
            let rest: Vec<i64> = covered.into_iter().filter(|c| !moved.contains(c)).collect();
            if !rest.is_empty() {
                let checked = Checked {
                    organisation_id: a.model.organisation_id,
                    competence: a.model.competence_code.clone(),
                    role,
                    whole: false,
                    scope: rest,
                    valid_from: eff,
                    valid_to: a.model.valid_to,
                };
                assignments::insert(
                    txn,
                    ctx,
                    "approveCompetenceTransfer",
                    &checked,
                    a.model.basis,
                    a.model.legal_reference.clone(),
                    Origin {
                        transfer_id: a.model.transfer_id,
                        agreement_id: a.model.agreement_id,
                    },
                )
                .await?;
            }
        }
        // Upward, the receiver exercises it for the giver's communes only; back down, the
        // receiver (a member) takes it for its whole territory.
        let checked = Checked {
            organisation_id: receiver.id,
            competence: t.competence_code.clone(),
            role,
            whole: !t.whole_territory,
            scope: if t.whole_territory {
                territory.clone()
            } else {
                Vec::new()
            },
            valid_from: eff,
            valid_to: None,
        };
        assignments::check_holder_conflict(txn, &checked, &ended).await?;
        assignments::insert(
            txn,
            ctx,
            "approveCompetenceTransfer",
            &checked,
            AssignmentBasis::Transfer,
            t.legal_reference.clone(),
            Origin {
                transfer_id: Some(t.id),
                agreement_id: None,
            },
        )
        .await?;
    }
    Ok(())
}

async fn end_for_transfer<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    a: &assignments::Assignment,
    eff: NaiveDate,
) -> AppResult<()> {
    assignment::Entity::update_many()
        .col_expr(assignment::Column::ValidTo, Some(eff).into())
        .col_expr(assignment::Column::Version, (a.model.version + 1).into())
        .col_expr(assignment::Column::UpdatedAt, ctx.now.into())
        .filter(assignment::Column::Id.eq(a.model.id))
        .exec(txn)
        .await?;
    audit::record(
        txn,
        ctx,
        Change {
            action: "approveCompetenceTransfer",
            entity_type: "Assignment",
            entity_id: a.model.id,
            owner: Some(a.model.organisation_id),
            operation: Operation::Ended,
            before: Some(json!({ "validTo": a.model.valid_to, "version": a.model.version })),
            after: Some(json!({ "validTo": eff, "version": a.model.version + 1 })),
        },
    )
    .await?;
    Ok(())
}
