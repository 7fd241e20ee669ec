//! What a signed agreement changes elsewhere: a délégation de compétence makes each
//! delegatee a declared `DELEGATION` assignment for the delegators' communes, over the
//! agreement's validity; a termination ends those assignments on its date.

use entity::{AgreementKind, AssignmentBasis, PartyRole, assignment, assignment_scope};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::Agreement;
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::competences::Catalogue;
use crate::domain::competences::assignments::{self, Checked, Origin};
use crate::domain::territory::communes_of;
use crate::error::{AppError, AppResult};

/// Where each delegatee of a délégation exercises it: the delegators' communes, within its
/// own territory when it has one (a département for a région); one without (a syndicat, a
/// partner) wherever the delegators are. Refused when a delegatee would have no commune.
pub(super) async fn delegation_scopes<C: ConnectionTrait>(
    txn: &C,
    a: &Agreement,
) -> AppResult<Vec<(i64, Vec<i64>)>> {
    if a.model.kind != AgreementKind::DelegationCompetence {
        return Ok(Vec::new());
    }
    let from = a.model.valid_from.ok_or_else(|| {
        AppError::bad_input("input.validFrom", "an agreement says from when it applies")
    })?;
    let mut delegated: Vec<i64> = Vec::new();
    for d in a.with_role(PartyRole::Delegator) {
        delegated.extend(communes_of(txn, d, from).await?);
    }
    delegated.sort_unstable();
    delegated.dedup();
    let mut out = Vec::new();
    for delegatee in a.with_role(PartyRole::Delegatee) {
        let own = communes_of(txn, delegatee, from).await?;
        let scope: Vec<i64> = if own.is_empty() {
            delegated.clone()
        } else {
            delegated
                .iter()
                .copied()
                .filter(|c| own.binary_search(c).is_ok())
                .collect()
        };
        if scope.is_empty() {
            return Err(AppError::bad_input(
                "input.parties",
                "a delegatee and the delegators share no commune to exercise the competence in",
            ));
        }
        out.push((delegatee, scope));
    }
    Ok(out)
}

/// Applies the effects of an agreement that has just been signed.
pub(super) async fn start<C: ConnectionTrait>(
    txn: &C,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    a: &Agreement,
) -> AppResult<()> {
    let reference = a
        .model
        .legal_basis
        .clone()
        .unwrap_or_else(|| format!("agreement: {}", a.model.title));
    for (delegatee, scope) in delegation_scopes(txn, a).await? {
        for link in &a.competences {
            if catalogue.get(&link.competence_code).is_none() {
                return Err(AppError::Internal);
            }
            let checked = Checked {
                organisation_id: delegatee,
                competence: link.competence_code.clone(),
                role: link.role,
                whole: false,
                scope: scope.clone(),
                valid_from: a.model.valid_from.ok_or(AppError::Internal)?,
                valid_to: a.model.valid_to,
            };
            assignments::insert(
                txn,
                ctx,
                "signAgreement",
                &checked,
                AssignmentBasis::Delegation,
                Some(reference.clone()),
                Origin {
                    transfer_id: None,
                    agreement_id: Some(a.model.id),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Ends the assignments an agreement yields on `on` (those not started by then go).
pub(super) async fn stop<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    a: &Agreement,
    on: chrono::NaiveDate,
) -> AppResult<()> {
    let yielded = assignment::Entity::find()
        .filter(assignment::Column::AgreementId.eq(a.model.id))
        .all(txn)
        .await?;
    for row in yielded {
        if row.valid_to.is_some_and(|t| t <= on) {
            continue;
        }
        let started = row.valid_from.is_none_or(|f| f < on);
        if started {
            assignment::Entity::update_many()
                .set(assignment::ActiveModel {
                    valid_to: Set(Some(on)),
                    version: Set(row.version + 1),
                    updated_at: Set(ctx.now),
                    ..Default::default()
                })
                .filter(assignment::Column::Id.eq(row.id))
                .exec(txn)
                .await?;
        } else {
            assignment_scope::Entity::delete_many()
                .filter(assignment_scope::Column::AssignmentId.eq(row.id))
                .exec(txn)
                .await?;
            assignment::Entity::delete_by_id(row.id).exec(txn).await?;
        }
        audit::record(
            txn,
            ctx,
            Change {
                action: "terminateAgreement",
                entity_type: "Assignment",
                entity_id: row.id,
                owner: Some(row.organisation_id),
                operation: if started {
                    Operation::Ended
                } else {
                    Operation::Deleted
                },
                before: Some(json!({"validTo": row.valid_to, "version": row.version})),
                after: started.then(|| json!({"validTo": on, "version": row.version + 1})),
            },
        )
        .await?;
    }
    Ok(())
}
