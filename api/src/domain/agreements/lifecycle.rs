//! The lifecycle of an agreement: drafted and edited by its drafting party, proposed
//! (frozen), signed by every party's admin through the consent mechanism, active from its
//! start, ended at its end or terminated early by a party. A rejection returns it to draft.

use chrono::NaiveDate;
use entity::{AgreementStatus, agreement};
use sea_orm::{ActiveEnum, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;

pub use super::content::{AgreementContent, AgreementEdit};
use super::content::{check, check_complete, content_of, write_children};
use super::{Agreement, by_ids, effects, snapshot};
use crate::auth::Role;
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::competences::Catalogue;
use crate::domain::consent::{self, Subject, Tally};
use crate::domain::{authz, codes, idempotency, versioned};
use crate::error::{AppError, AppResult};

/// Who may act for a party: its editors draft and propose, its admins sign and terminate.
fn acting_party(agreement: &Agreement, ctx: &WriteContext, roles: &[Role]) -> Option<i64> {
    agreement
        .party_ids()
        .into_iter()
        .find(|&p| ctx.actor.acts_for(p, roles))
}

/// Drafts an agreement (an editor or admin of the drafting party).
pub async fn draft(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    drafted_by: i64,
    content: AgreementContent,
    idempotency_key: Option<String>,
) -> AppResult<Agreement> {
    authz::require_edit(&ctx.actor, drafted_by)?;
    let c = check(db, catalogue, &ctx.actor, drafted_by, content).await?;
    let hash = idempotency::input_hash(&json!({
        "draftedBy": drafted_by, "kind": c.kind, "title": c.title, "legalBasis": c.legal_basis,
        "parties": c.parties, "validFrom": c.valid_from, "validTo": c.valid_to,
        "financialTerms": c.financial_terms, "directBooking": c.direct_booking,
        "resources": c.resources, "competences": c.competences, "documents": c.documents,
    }));
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(idempotency_key.as_deref(), "draftAgreement", &hash)
        .await?
    {
        return by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal);
    }
    let now = ctx.now;
    let mut row = content_of(&c);
    row.drafted_by_id = Set(drafted_by);
    row.status = Set(AgreementStatus::Draft);
    row.version = Set(1);
    row.created_at = Set(now);
    row.updated_at = Set(now);
    let model = agreement::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    write_children(&txn, model.id, &c).await?;
    let created = by_ids(&txn, &[model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        "draftAgreement",
        None,
        &created,
        Operation::Created,
        &[],
    )
    .await?;
    txn.remember(
        idempotency_key.as_deref(),
        "draftAgreement",
        &hash,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: Option<&Agreement>,
    after: &Agreement,
    operation: Operation,
    decisions: &[entity::consent::Model],
) -> AppResult<()> {
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: "Agreement",
            entity_id: after.model.id,
            owner: Some(after.model.drafted_by_id),
            operation,
            before: before.map(snapshot),
            after: Some(consent::with_rejection(snapshot(after), decisions)),
        },
    )
    .await?;
    Ok(())
}

/// Reads an agreement for a change, locked until the change commits (parties signing at once
/// take turns): not found unless visible; the version must match.
async fn current<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    id: i64,
    version: Option<i64>,
) -> AppResult<Agreement> {
    crate::domain::lock_row::<agreement::Entity, _>(txn, id).await?;
    let a = by_ids(txn, &[id])
        .await?
        .pop()
        .filter(|a| a.visible_to(&ctx.actor))
        .ok_or_else(|| AppError::NotFound(format!("agreement {id} not found")))?;
    if let Some(v) = version
        && a.model.version != v
    {
        return Err(AppError::stale("agreement", a.model.version));
    }
    Ok(a)
}

/// Moves the row from `before` to `changes`, checking the version once more.
async fn save<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    before: &Agreement,
    changes: agreement::ActiveModel,
) -> AppResult<Agreement> {
    let (id, version) = (before.model.id, before.model.version);
    versioned::save(txn, changes, id, version, ctx.now).await?;
    by_ids(txn, &[id]).await?.pop().ok_or(AppError::Internal)
}

/// Edits a draft (the drafting party's editors and admins).
pub async fn update(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    edit: AgreementEdit,
) -> AppResult<Agreement> {
    authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = current(&txn, ctx, id, Some(version)).await?;
    authz::require_edit(&ctx.actor, before.model.drafted_by_id)?;
    if before.model.status != AgreementStatus::Draft {
        return Err(AppError::IllegalTransition(
            "only a draft can be edited; a proposal is frozen until a party rejects it".into(),
        ));
    }
    let content = edit.apply(&before);
    let c = check(
        &txn,
        catalogue,
        &ctx.actor,
        before.model.drafted_by_id,
        content,
    )
    .await?;
    let after = save(&txn, ctx, &before, content_of(&c)).await?;
    write_children(&txn, id, &c).await?;
    let after = by_ids(&txn, &[after.model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        "updateAgreement",
        Some(&before),
        &after,
        Operation::Updated,
        &[],
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Proposes a complete draft to every party (the drafting party's editors and admins): it
/// is frozen and each party is asked to sign.
pub async fn propose(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
) -> AppResult<Agreement> {
    authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = current(&txn, ctx, id, Some(version)).await?;
    authz::require_edit(&ctx.actor, before.model.drafted_by_id)?;
    if before.model.status != AgreementStatus::Draft {
        return Err(AppError::IllegalTransition(format!(
            "only a draft can be proposed; this one is {}",
            before.model.status.to_value()
        )));
    }
    check_complete(&before)?;
    effects::delegation_scopes(&txn, &before).await?;
    let after = save(
        &txn,
        ctx,
        &before,
        agreement::ActiveModel {
            status: Set(AgreementStatus::Proposed),
            ..Default::default()
        },
    )
    .await?;
    consent::open(&txn, Subject::Agreement, id, &before.party_ids()).await?;
    let after = by_ids(&txn, &[after.model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        "proposeAgreement",
        Some(&before),
        &after,
        Operation::Updated,
        &[],
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Signs (or rejects) a proposal for one party (an admin of that party). The last signature
/// makes it `SIGNED` and applies its effects; a rejection returns it to `DRAFT`.
pub async fn decide(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    id: i64,
    party: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<Agreement> {
    consent::require_decide(&ctx.actor, party)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = current(&txn, ctx, id, None).await?;
    if before.model.status != AgreementStatus::Proposed {
        return Err(AppError::IllegalTransition(format!(
            "only a proposal can be {}; this one is {}",
            if approve { "signed" } else { "rejected" },
            before.model.status.to_value()
        )));
    }
    let decisions =
        consent::decide(&txn, ctx, Subject::Agreement, id, party, approve, reason).await?;
    let tally = consent::unanimity(&decisions);
    let (action, changes) = match tally {
        Tally::Pending => ("signAgreement", None),
        Tally::Approved => (
            "signAgreement",
            Some(agreement::ActiveModel {
                status: Set(AgreementStatus::Signed),
                signed_at: Set(Some(ctx.now)),
                ..Default::default()
            }),
        ),
        Tally::Rejected => (
            "rejectAgreement",
            Some(agreement::ActiveModel {
                status: Set(AgreementStatus::Draft),
                ..Default::default()
            }),
        ),
    };
    let after = match changes {
        // Every signature changes the agreement (and its version): readers see progress.
        None => save(&txn, ctx, &before, agreement::ActiveModel::default()).await?,
        Some(c) => save(&txn, ctx, &before, c).await?,
    };
    match tally {
        Tally::Approved => effects::start(&txn, catalogue, ctx, &after).await?,
        // Back to draft: the signatures gathered so far were for the rejected text.
        Tally::Rejected => consent::reset(&txn, Subject::Agreement, id).await?,
        Tally::Pending => {}
    }
    let after = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    record(
        &txn,
        ctx,
        action,
        Some(&before),
        &after,
        Operation::Updated,
        &decisions,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Terminates a signed agreement early (an admin of a party), from `on` (today or later,
/// before its end); its effects stop that day.
pub async fn terminate(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    reason: String,
    on: NaiveDate,
    today: NaiveDate,
) -> AppResult<Agreement> {
    authz::require_authenticated(&ctx.actor)?;
    let reason = codes::check_text("input.reason", &reason, 1, 1000)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let before = current(&txn, ctx, id, Some(version)).await?;
    let party = acting_party(&before, ctx, &[Role::Admin]).ok_or_else(|| {
        AppError::Forbidden("only an admin of a party may terminate an agreement".into())
    })?;
    match before.status(today) {
        AgreementStatus::Signed | AgreementStatus::Active => {}
        status => {
            return Err(AppError::IllegalTransition(format!(
                "only a signed agreement in force or to come can be terminated; this one is {status:?}"
            )));
        }
    }
    if on < today {
        return Err(AppError::bad_input(
            "input.effectiveDate",
            "a termination takes effect today or later",
        ));
    }
    if before.model.valid_to.is_some_and(|end| on >= end) {
        return Err(AppError::bad_input(
            "input.effectiveDate",
            "the agreement ends by then anyway",
        ));
    }
    let after = save(
        &txn,
        ctx,
        &before,
        agreement::ActiveModel {
            status: Set(AgreementStatus::Terminated),
            terminated_on: Set(Some(on)),
            terminated_by_id: Set(Some(party)),
            termination_reason: Set(Some(reason)),
            ..Default::default()
        },
    )
    .await?;
    effects::stop(&txn, ctx, &after, on).await?;
    record(
        &txn,
        ctx,
        "terminateAgreement",
        Some(&before),
        &after,
        Operation::Ended,
        &[],
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
