//! Applying an approved transfer: the givers' assignments covering the moved territory end on
//! the effective date (continuing for the rest of their territory), and the receiver's start,
//! all in the deciding transaction. A restitution ends the EPCI's and starts each member's.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{AssignmentBasis, CompetenceRole, TransferRule, assignment, transfer};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::MOVED_ROLES;
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::competences::assignments::{self, Checked, Origin};
use crate::domain::territory::communes_of;
use crate::domain::valid_at;
use crate::error::AppResult;

const ACTION: &str = "approveCompetenceTransfer";

/// The article a restituted competence's answers cite.
const RESTITUTION: &str = "CGCT L5211-17-1";

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

/// Applies an approved transfer. Upward, the receiver exercises the competence for the
/// giver's communes; from all members of an EPCI à fiscalité propre, for its whole territory
/// (a commune joining later included); back down, the member takes it for its own.
pub async fn complete<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    t: &transfer::Model,
) -> AppResult<()> {
    if t.rule == TransferRule::Restitution {
        return restitute(txn, ctx, t).await;
    }
    let eff = t.effective_date;
    let by_majority = t.rule == TransferRule::QualifiedMajority;
    let (givers, territory): (Vec<i64>, Vec<i64>) = if by_majority {
        let members = communes_of(txn, t.to_id, eff).await?;
        (members.clone(), members)
    } else if t.whole_territory {
        (vec![t.from_id], communes_of(txn, t.from_id, eff).await?)
    } else {
        (vec![t.from_id], communes_of(txn, t.to_id, eff).await?)
    };
    let moved: HashSet<i64> = territory.iter().copied().collect();
    for role in MOVED_ROLES {
        let mut ended = Vec::new();
        for a in held_on(txn, &givers, t, role).await? {
            let covered = coverage(txn, &a, eff).await?;
            if !covered.iter().any(|c| moved.contains(c)) {
                continue;
            }
            end(txn, ctx, &a, eff).await?;
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
                    ACTION,
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
        let whole = by_majority || !t.whole_territory;
        let checked = Checked {
            organisation_id: t.to_id,
            competence: t.competence_code.clone(),
            role,
            whole,
            scope: if whole { Vec::new() } else { territory.clone() },
            valid_from: eff,
            valid_to: None,
        };
        receive(txn, ctx, t, &checked, &ended, t.legal_reference.clone()).await?;
    }
    Ok(())
}

/// The assignments of `orgs` for `t`'s competence and `role` in effect on its date.
async fn held_on<C: ConnectionTrait>(
    txn: &C,
    orgs: &[i64],
    t: &transfer::Model,
    role: CompetenceRole,
) -> AppResult<Vec<assignments::Assignment>> {
    let ids: Vec<i64> = assignment::Entity::find()
        .filter(assignment::Column::OrganisationId.is_in(orgs.to_vec()))
        .filter(assignment::Column::CompetenceCode.eq(&t.competence_code))
        .filter(assignment::Column::Role.eq(role))
        .filter(valid_at(
            assignment::Column::ValidFrom,
            assignment::Column::ValidTo,
            t.effective_date,
        ))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    assignments::by_ids(txn, &ids).await
}

/// Starts a receiver's assignment from `t`, unless another holder (beyond the `ended` ones)
/// covers some of its communes.
async fn receive<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    t: &transfer::Model,
    checked: &Checked,
    ended: &[i64],
    legal_reference: Option<String>,
) -> AppResult<()> {
    assignments::check_holder_conflict(txn, checked, ended).await?;
    assignments::insert(
        txn,
        ctx,
        ACTION,
        checked,
        AssignmentBasis::Transfer,
        legal_reference,
        Origin {
            transfer_id: Some(t.id),
            agreement_id: None,
        },
    )
    .await?;
    Ok(())
}

/// Applies an approved restitution: the EPCI's assignments of the competence end on the
/// effective date, and each commune that is a member on that date holds each role the EPCI
/// gave back, citing the article.
async fn restitute<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    t: &transfer::Model,
) -> AppResult<()> {
    let eff = t.effective_date;
    let members = communes_of(txn, t.from_id, eff).await?;
    let reference = match &t.legal_reference {
        Some(r) => format!("{RESTITUTION} ({r})"),
        None => RESTITUTION.to_owned(),
    };
    for role in MOVED_ROLES {
        let held = held_on(txn, &[t.from_id], t, role).await?;
        for a in &held {
            end(txn, ctx, a, eff).await?;
        }
        if held.is_empty() {
            continue;
        }
        let ended: Vec<i64> = held.iter().map(|a| a.model.id).collect();
        for &commune in &members {
            let checked = Checked {
                organisation_id: commune,
                competence: t.competence_code.clone(),
                role,
                whole: true,
                scope: Vec::new(),
                valid_from: eff,
                valid_to: None,
            };
            receive(txn, ctx, t, &checked, &ended, Some(reference.clone())).await?;
        }
    }
    Ok(())
}

async fn end<C: ConnectionTrait>(
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
            action: ACTION,
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
