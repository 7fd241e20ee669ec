//! Consent: the one mechanism for every multi-party decision (approving a transfer, signing
//! an agreement). Each party decides once, through one of its admins; unanimity or, for the
//! member councils of an EPCI à fiscalité propre, a qualified majority settles it.

pub mod majority;

use entity::{ConsentDecision, consent};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::auth::{Actor, Role};
use crate::domain::audit::WriteContext;
use crate::domain::{authz, codes};
use crate::error::{AppError, AppResult};

/// What a consent decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A competence transfer.
    Transfer,
    /// An agreement.
    Agreement,
    /// A territorial project.
    Project,
}

impl Subject {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Transfer => "Transfer",
            Subject::Agreement => "Agreement",
            Subject::Project => "TerritorialProject",
        }
    }

    /// Whether a party that rejects must say why: a proposed agreement or project goes back
    /// to its drafters, who need the reason to revise it; a council's decision on a
    /// transfer is its deliberation, which need not be given here.
    fn rejection_says_why(self) -> bool {
        matches!(self, Subject::Agreement | Subject::Project)
    }
}

/// Where the decisions stand once one is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Some parties have not decided.
    Pending,
    /// Every party approved.
    Approved,
    /// A party rejected.
    Rejected,
}

/// Asks every party in `parties` for its consent on `subject` `id`.
pub async fn open<C: ConnectionTrait>(
    txn: &C,
    subject: Subject,
    id: i64,
    parties: &[i64],
) -> AppResult<()> {
    consent::Entity::insert_many(parties.iter().map(|&party| consent::ActiveModel {
        subject_type: Set(subject.as_str().to_owned()),
        subject_id: Set(id),
        party_id: Set(party),
        decision: Set(ConsentDecision::Pending),
        ..Default::default()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The consents on `subject` for each of `ids`, in party order.
pub async fn of<C: ConnectionTrait>(
    db: &C,
    subject: Subject,
    ids: &[i64],
) -> AppResult<Vec<consent::Model>> {
    Ok(consent::Entity::find()
        .filter(consent::Column::SubjectType.eq(subject.as_str()))
        .filter(consent::Column::SubjectId.is_in(ids.to_vec()))
        .order_by_asc(consent::Column::Id)
        .all(db)
        .await?)
}

/// The subjects of kind `subject` on which `party` is asked to decide.
pub async fn subjects_of<C: ConnectionTrait>(
    db: &C,
    subject: Subject,
    party: i64,
) -> AppResult<Vec<i64>> {
    Ok(consent::Entity::find()
        .select_only()
        .column(consent::Column::SubjectId)
        .filter(consent::Column::SubjectType.eq(subject.as_str()))
        .filter(consent::Column::PartyId.eq(party))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// May the actor decide for `party`? Its admins only.
pub fn require_decide(actor: &Actor, party: i64) -> AppResult<()> {
    authz::require_authenticated(actor)?;
    if actor.acts_for(party, &[Role::Admin]) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only an admin of the party may decide for it".into(),
        ))
    }
}

/// Records `party`'s decision on `subject` `id` (inside the caller's transaction), and
/// returns every decision on it as it now stands. The party must be asked and must not have
/// decided; a reason is 1 to 1,000 characters, and required to reject an agreement or a
/// project.
///
/// Every consent row of the subject is locked first (`FOR UPDATE` on PostgreSQL; SQLite's
/// write transactions are serial already), so that parties deciding at the same moment
/// count each other's decisions: the last one to commit sees every other decision and
/// reaches the outcome.
pub async fn decide<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    subject: Subject,
    id: i64,
    party: i64,
    approve: bool,
    reason: Option<String>,
) -> AppResult<Vec<consent::Model>> {
    require_decide(&ctx.actor, party)?;
    let reason = reason
        .map(|r| codes::check_text("input.reason", &r, 1, 1000))
        .transpose()?;
    if !approve && reason.is_none() && subject.rejection_says_why() {
        return Err(AppError::bad_input("input.reason", "a rejection says why"));
    }
    let mut all = consent::Entity::find()
        .filter(consent::Column::SubjectType.eq(subject.as_str()))
        .filter(consent::Column::SubjectId.eq(id))
        .order_by_asc(consent::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let Some(mine) = all.iter().find(|c| c.party_id == party) else {
        return Err(AppError::bad_input(
            "input.party",
            "this organisation is not a party to it",
        ));
    };
    if mine.decision != ConsentDecision::Pending {
        return Err(AppError::Conflict(format!(
            "this party has already decided ({})",
            mine.decision.to_value()
        )));
    }
    let decision = if approve {
        ConsentDecision::Approved
    } else {
        ConsentDecision::Rejected
    };
    let updated = consent::Entity::update_many()
        .col_expr(consent::Column::Decision, decision.into())
        .col_expr(consent::Column::DecidedBy, ctx.actor.subject.clone().into())
        .col_expr(consent::Column::DecidedAt, Some(ctx.now).into())
        .col_expr(consent::Column::Reason, reason.clone().into())
        .filter(consent::Column::Id.eq(mine.id))
        .filter(consent::Column::Decision.eq(ConsentDecision::Pending))
        .exec(txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict("this party has already decided".into()));
    }
    if let Some(mine) = all.iter_mut().find(|c| c.party_id == party) {
        mine.decision = decision;
        mine.decided_by = ctx.actor.subject.clone();
        mine.decided_at = Some(ctx.now);
        mine.reason = reason;
    }
    Ok(all)
}

/// Where `decisions` stand when every party must approve.
pub fn unanimity(decisions: &[consent::Model]) -> Tally {
    if decisions
        .iter()
        .any(|c| c.decision == ConsentDecision::Rejected)
    {
        Tally::Rejected
    } else if decisions
        .iter()
        .any(|c| c.decision != ConsentDecision::Approved)
    {
        Tally::Pending
    } else {
        Tally::Approved
    }
}

/// Records the silence of every party that has not decided on `subject` `id` as `decision`,
/// as the law deems it once the time to decide has passed.
pub async fn deem<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    (subject, id): (Subject, i64),
    decision: ConsentDecision,
    reference: &str,
) -> AppResult<()> {
    let deemed = if decision == ConsentDecision::Approved {
        "approval"
    } else {
        "refusal"
    };
    consent::Entity::update_many()
        .col_expr(consent::Column::Decision, decision.into())
        .col_expr(
            consent::Column::DecidedBy,
            Some("silence".to_owned()).into(),
        )
        .col_expr(consent::Column::DecidedAt, Some(ctx.now).into())
        .col_expr(
            consent::Column::Reason,
            Some(format!(
                "no decision within the time allowed: deemed {deemed} ({reference})"
            ))
            .into(),
        )
        .filter(consent::Column::SubjectType.eq(subject.as_str()))
        .filter(consent::Column::SubjectId.eq(id))
        .filter(consent::Column::Decision.eq(ConsentDecision::Pending))
        .exec(txn)
        .await?;
    Ok(())
}

/// `snapshot` (the audit record of a decision: the subject after it) with who rejected and
/// why, when a party rejected: [`reset`] forgets the decisions as the proposal returns to
/// draft, and the audit trail is where the reason stays.
pub fn with_rejection(
    mut snapshot: serde_json::Value,
    decisions: &[consent::Model],
) -> serde_json::Value {
    if let (Some(rejected), Some(fields)) = (
        decisions
            .iter()
            .find(|c| c.decision == ConsentDecision::Rejected),
        snapshot.as_object_mut(),
    ) {
        fields.insert(
            "rejection".into(),
            serde_json::json!({ "partyId": rejected.party_id, "reason": rejected.reason }),
        );
    }
    snapshot
}

/// Forgets every decision on `subject` `id`: a rejected proposal returns to draft, and the
/// next proposal asks every party again.
pub async fn reset<C: ConnectionTrait>(txn: &C, subject: Subject, id: i64) -> AppResult<()> {
    consent::Entity::delete_many()
        .filter(consent::Column::SubjectType.eq(subject.as_str()))
        .filter(consent::Column::SubjectId.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}
