//! Deciding a transfer: each party's approval or rejection, the proposer's withdrawal, and,
//! under a qualified majority, the settlement once the councils' time has passed.

use chrono::NaiveDate;
use entity::{ConsentDecision, TransferStatus, transfer};
use sea_orm::{ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Transfer, by_councils, complete::complete, majority_tally, one, record, set_status};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::consent::majority::{self, Silence};
use crate::domain::consent::{self, Subject, Tally};
use crate::domain::{authz, codes};
use crate::error::{AppError, AppResult};

/// A transfer's rule when only a deadline is known of it.
const SILENCE_APPROVES: (Silence, &str) = (Silence::Approves, majority::REFERENCE);

fn proposed(t: &transfer::Model, what: &str) -> AppResult<()> {
    if t.status == TransferStatus::Proposed {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "the transfer is {}, {what}",
            t.status.to_value().to_lowercase()
        )))
    }
}

fn past_deadline(t: &transfer::Model, today: NaiveDate) -> Option<NaiveDate> {
    t.decision_deadline.filter(|&d| today > d)
}

/// Records a party's decision (an admin of that party). Under unanimity the last approval
/// completes it and a rejection ends it; under a qualified majority it completes as soon as
/// the approvals make the majority and ends as soon as the majority is out of reach.
pub async fn decide(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    party: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<Transfer> {
    consent::require_decide(&ctx.actor, party)?;
    let today = ctx.now.date_naive();
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = one(&txn, id).await?;
    proposed(&current.model, "no longer waiting for consent")?;
    if let Some(deadline) = past_deadline(&current.model, today) {
        let (silence, reference) = by_councils(current.model.rule).unwrap_or(SILENCE_APPROVES);
        let counts = match silence {
            Silence::Approves => "approval",
            Silence::Refuses => "refusal",
        };
        return Err(AppError::Conflict(format!(
            "the councils' time to decide ended on {deadline}: silence counts as {counts} \
             ({reference}); the transfer is to be settled"
        )));
    }
    let current = current.model;
    let decisions =
        consent::decide(&txn, ctx, Subject::Transfer, id, party, approve, reason).await?;
    // As checked and recorded with the decision.
    let reason = decisions
        .iter()
        .find(|c| c.party_id == party)
        .and_then(|c| c.reason.clone());
    let tally = match by_councils(current.rule) {
        Some((silence, _)) => majority_tally(&txn, &decisions, false, silence).await?,
        None => consent::unanimity(&decisions),
    };
    let action = if approve {
        "approveCompetenceTransfer"
    } else {
        "rejectCompetenceTransfer"
    };
    conclude(&txn, ctx, action, &current, tally, reason).await?;
    let out = one(&txn, id).await?;
    txn.commit().await?;
    Ok(out)
}

/// Applies where the decisions stand: completed, rejected, or still waiting.
async fn conclude<C: sea_orm::ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    current: &transfer::Model,
    tally: Tally,
    reason: Option<String>,
) -> AppResult<()> {
    match tally {
        Tally::Pending => {
            record(txn, ctx, action, Some(current), current, Operation::Updated).await
        }
        Tally::Rejected => {
            let reason = match by_councils(current.rule) {
                Some((_, reference)) => Some(format!(
                    "the qualified majority of the member councils can no longer be reached ({reference})"
                )),
                None => reason,
            };
            set_status(txn, ctx, action, current, TransferStatus::Rejected, reason).await
        }
        Tally::Approved => {
            let decided = takes_effect(txn, current, ctx.now.date_naive()).await?;
            complete(txn, ctx, &decided).await?;
            set_status(txn, ctx, action, current, TransferStatus::Completed, None).await
        }
    }
}

/// The transfer as it takes effect. The act that completes it is not retroactive (the
/// principle of non-retroactivity of administrative acts): decided after the date it
/// proposed, it takes effect on the day it is decided, and that date is recorded on it (the
/// change feed and the audit trail show both). Answers about the days in between keep the
/// holders they had.
async fn takes_effect<C: sea_orm::ConnectionTrait>(
    txn: &C,
    t: &transfer::Model,
    today: NaiveDate,
) -> AppResult<transfer::Model> {
    if t.effective_date >= today {
        return Ok(t.clone());
    }
    transfer::Entity::update_many()
        .col_expr(transfer::Column::EffectiveDate, today.into())
        .filter(transfer::Column::Id.eq(t.id))
        .exec(txn)
        .await?;
    Ok(transfer::Model {
        effective_date: today,
        ..t.clone()
    })
}

/// Settles a transfer decided by qualified majority once the councils' three months have
/// passed: the silent councils are recorded as approving, as the law deems them, and the
/// transfer completes or ends. An editor or admin of the EPCI, an admin of a member, or a
/// State service may settle it.
pub async fn settle(db: &DatabaseConnection, ctx: &WriteContext, id: i64) -> AppResult<Transfer> {
    authz::require_authenticated(&ctx.actor)?;
    let today = ctx.now.date_naive();
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let current = one(&txn, id).await?;
    let allowed = ctx.actor.has(Role::State)
        || ctx
            .actor
            .acts_for(current.model.to_id, &[Role::Editor, Role::Admin])
        || current
            .consents
            .iter()
            .any(|c| ctx.actor.acts_for(c.party_id, &[Role::Admin]));
    if !allowed {
        return Err(AppError::Forbidden(
            "only the EPCI, a member's admin or a State service may settle a transfer".into(),
        ));
    }
    proposed(&current.model, "nothing is left to settle")?;
    let Some(deadline) = current.model.decision_deadline else {
        return Err(AppError::bad_input(
            "input.transferId",
            "only a transfer decided by qualified majority has a deadline to settle at",
        ));
    };
    if past_deadline(&current.model, today).is_none() {
        return Err(AppError::bad_input(
            "input.transferId",
            format!("the member councils have until {deadline} to decide"),
        ));
    }
    let (silence, reference) = by_councils(current.model.rule).unwrap_or(SILENCE_APPROVES);
    // Past the deadline the outcome is approved or rejected, never pending; the silent
    // councils are recorded as the law deems them when that made the outcome.
    let tally = majority_tally(&txn, &current.consents, true, silence).await?;
    let deemed = match (tally, silence) {
        (Tally::Approved, Silence::Approves) => Some(ConsentDecision::Approved),
        (Tally::Rejected, Silence::Refuses) => Some(ConsentDecision::Rejected),
        _ => None,
    };
    if let Some(decision) = deemed {
        consent::deem(&txn, ctx, (Subject::Transfer, id), decision, reference).await?;
    }
    conclude(
        &txn,
        ctx,
        "settleCompetenceTransfer",
        &current.model,
        tally,
        None,
    )
    .await?;
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
    proposed(&current, "it can no longer be withdrawn")?;
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
