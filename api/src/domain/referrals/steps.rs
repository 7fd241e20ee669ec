//! Filing a referral (routing it through the resolution engine) and every later step, each in
//! one unit of work, based on the referral's `version`: of two steps taken at once on the same
//! version, one lands and the other is a `CONFLICT` that changes nothing.

use entity::{CompetenceRole, ReferralStatus, referral, referral_hop};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::{Referral, audit_json, by_ids_in, deadlines};
use crate::AppState;
use crate::auth::Role;
use crate::domain::audit::{Change, Operation, WriteContext};
use crate::domain::competences;
use crate::domain::{codes, idempotency, versioned};
use crate::error::{AppError, AppResult};

/// A referral to file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewReferral {
    /// INSEE code of the commune it is about.
    pub insee_code: String,
    /// A BANATIC competence code, or words people use for it ("ordures ménagères").
    pub competence: String,
    /// Subject line.
    pub subject: String,
    /// The person's message.
    pub message: Option<String>,
    /// The organisation filing it.
    pub filer_id: i64,
    /// How to reach the person.
    pub contact: Option<String>,
}

/// A step on a filed referral.
#[derive(Debug, Clone)]
pub enum Step {
    /// The handler acknowledges it.
    Acknowledge,
    /// The handler answers it.
    Answer(String),
    /// The handler sends it on to another organisation, saying why.
    Transmit {
        /// The organisation it goes to.
        to: i64,
        /// Why that organisation is the competent one.
        reason: String,
    },
    /// The handler or the filer closes it.
    Close,
    /// The filer records the person's satisfaction (1–5) and whether it was resolved.
    Rate {
        /// 1 to 5.
        satisfaction: i32,
        /// Whether the request was resolved.
        resolved: bool,
    },
    /// The personal data (message, contact, answer) are erased on the person's request.
    Erase,
}

impl Step {
    fn action(&self) -> &'static str {
        match self {
            Step::Acknowledge => "acknowledgeReferral",
            Step::Answer(_) => "answerReferral",
            Step::Transmit { .. } => "transmitReferral",
            Step::Close => "closeReferral",
            Step::Rate { .. } => "rateReferral",
            Step::Erase => "eraseReferralPersonalData",
        }
    }
}

fn optional_text(field: &str, text: Option<String>, max: usize) -> AppResult<Option<String>> {
    text.filter(|t| !t.trim().is_empty())
        .map(|t| codes::check_text(field, &t, 1, max))
        .transpose()
}

/// Files a referral and routes it at once to whoever serves the commune for the competence
/// today: the implementer where there is one, else the holder (delegations included).
pub async fn file(
    state: &AppState,
    ctx: &WriteContext,
    new: NewReferral,
    idempotency_key: Option<&str>,
) -> AppResult<Referral> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    if !ctx
        .actor
        .acts_for(new.filer_id, &[Role::Editor, Role::Admin, Role::Partner])
    {
        return Err(AppError::Forbidden(
            "only the filing organisation's staff or its partner applications may file for it"
                .into(),
        ));
    }
    let subject = codes::check_text("input.subject", &new.subject, 3, 200)?;
    let message = optional_text("input.message", new.message.clone(), 5000)?;
    let contact = optional_text("input.contact", new.contact.clone(), 300)?;
    let catalogue = &state.catalogue;
    let index = match catalogue.index_of(new.competence.trim()) {
        Some(i) => i,
        None => {
            let found: Vec<_> = catalogue.filter(None, Some(&new.competence)).collect();
            match found.as_slice() {
                [one] => catalogue.index_of(&one.code).ok_or(AppError::Internal)?,
                [] => {
                    return Err(AppError::bad_input(
                        "input.competence",
                        "no competence of the catalogue answers to these words: give a BANATIC \
                         code (C2080…) or other words",
                    ));
                }
                several => {
                    let names: Vec<String> = several
                        .iter()
                        .take(5)
                        .map(|c| format!("{} ({})", c.code, c.label))
                        .collect();
                    return Err(AppError::bad_input(
                        "input.competence",
                        format!(
                            "these words name several competences, say which: {}",
                            names.join("; ")
                        ),
                    ));
                }
            }
        }
    };
    let today = ctx.now.date_naive();
    let reads = state.registry_reads();
    let Some(resolution) = competences::resolve(
        &state.db,
        &reads,
        catalogue,
        &new.insee_code,
        Some(index),
        today,
    )
    .await
    .map_err(|e| match e {
        AppError::BadUserInput { message, .. } => AppError::bad_input("input.inseeCode", message),
        other => other,
    })?
    else {
        return Err(AppError::bad_input(
            "input.inseeCode",
            format!("`{}` names no commune today", new.insee_code),
        ));
    };
    let responsibilities = resolution
        .by_competence
        .into_iter()
        .next()
        .map(|(_, r)| r)
        .unwrap_or_default();
    let route = responsibilities
        .iter()
        .find(|r| r.role == CompetenceRole::Implementer)
        .or_else(|| {
            responsibilities
                .iter()
                .find(|r| r.role == CompetenceRole::Holder)
        })
        .ok_or_else(|| {
            AppError::bad_input(
                "input.competence",
                "nobody exercises this competence in this commune on this date",
            )
        })?;
    let handler_id = route.organisation_id;
    let reason = format!("{:?} {:?}: {}", route.layer, route.role, route.source);

    let hash = idempotency::input_hash(&serde_json::to_value(&new).unwrap_or_default());
    let txn = crate::domain::UnitOfWork::begin(&state.db, ctx).await?;
    if let Some(id) = txn.replay(idempotency_key, "fileReferral", &hash).await? {
        return by_ids_in(&txn, &[id])
            .await?
            .pop()
            .ok_or(AppError::Internal);
    }
    let now = ctx.now;
    let terms = deadlines::of(&txn, handler_id).await?;
    let created = referral::Entity::insert(referral::ActiveModel {
        commune_id: Set(resolution.subject.commune.id),
        competence_code: Set(catalogue.at(index).code.clone()),
        subject: Set(subject),
        message: Set(message),
        contact: Set(contact),
        filer_id: Set(new.filer_id),
        handler_id: Set(handler_id),
        status: Set(ReferralStatus::Filed),
        acknowledge_due: Set(terms.acknowledge_due(now)),
        answer_due: Set(terms.answer_due(now)?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    referral_hop::Entity::insert(referral_hop::ActiveModel {
        referral_id: Set(created.id),
        position: Set(0),
        from_id: Set(None),
        to_id: Set(handler_id),
        reason: Set(reason),
        at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.remember(idempotency_key, "fileReferral", &hash, created.id)
        .await?;
    txn.record(Change {
        action: "fileReferral",
        entity_type: "Referral",
        entity_id: created.id,
        owner: Some(handler_id),
        operation: Operation::Created,
        before: None,
        after: Some(audit_json(&created)),
    })
    .await?;
    let out = by_ids_in(&txn, &[created.id]).await?.pop();
    txn.commit().await?;
    out.ok_or(AppError::Internal)
}

/// Takes `step` on referral `id`, based on `version`.
pub async fn step(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    id: i64,
    version: i64,
    step: Step,
) -> AppResult<Referral> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let Some(current) = by_ids_in(&txn, &[id])
        .await?
        .pop()
        .filter(|r| r.visible_to(&ctx.actor))
    else {
        return Err(AppError::NotFound(format!("referral {id}")));
    };
    let m = &current.model;
    let staff = [Role::Editor, Role::Admin];
    let handler = ctx.actor.acts_for(m.handler_id, &staff);
    let filer = ctx
        .actor
        .acts_for(m.filer_id, &[Role::Editor, Role::Admin, Role::Partner]);
    let allowed = match &step {
        Step::Acknowledge | Step::Answer(_) | Step::Transmit { .. } => handler,
        Step::Close | Step::Erase => handler || filer,
        Step::Rate { .. } => filer,
    };
    if !allowed {
        return Err(AppError::Forbidden(match &step {
            Step::Rate { .. } => "only the filing organisation records the person's rating".into(),
            _ => "only the staff of the organisation handling it may take this step".into(),
        }));
    }
    if m.version != version {
        return Err(AppError::stale("referral", m.version));
    }
    let now = ctx.now;
    let illegal = |what: &str| {
        let status = serde_json::to_value(m.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Err(AppError::IllegalTransition(format!(
            "a referral that is {status} cannot be {what}"
        )))
    };
    let mut next = referral::ActiveModel::default();
    let mut hop = None;
    match &step {
        Step::Acknowledge => {
            if m.status != ReferralStatus::Filed {
                return illegal("acknowledged");
            }
            next.status = Set(ReferralStatus::Acknowledged);
            next.acknowledged_at = Set(Some(now));
        }
        Step::Answer(text) => {
            if !matches!(
                m.status,
                ReferralStatus::Filed | ReferralStatus::Acknowledged
            ) {
                return illegal("answered");
            }
            // An answer is personal data too: once the person's data is erased, nothing
            // would ever erase it again (erasure and the retention purge run once).
            if m.erased_at.is_some() {
                return Err(AppError::IllegalTransition(
                    "its personal data was erased: the referral can be closed, not answered".into(),
                ));
            }
            let text = codes::check_text("input.answer", text, 1, 10_000)?;
            next.status = Set(ReferralStatus::Answered);
            next.answer = Set(Some(text));
            next.answered_at = Set(Some(now));
            if m.acknowledged_at.is_none() {
                next.acknowledged_at = Set(Some(now));
            }
        }
        Step::Transmit { to, reason } => {
            if !matches!(
                m.status,
                ReferralStatus::Filed | ReferralStatus::Acknowledged
            ) {
                return illegal("transmitted");
            }
            let reason = codes::check_text("input.reason", reason, 3, 1000)?;
            // Never back round a loop: not to any organisation it has already been at.
            if current.hops.iter().any(|h| h.to_id == *to) {
                return Err(AppError::bad_input(
                    "input.toId",
                    "the referral has already been at this organisation: it cannot go back round",
                ));
            }
            let exists = crate::domain::registry::by_ids_in(&txn, &[*to]).await?;
            if !exists.first().is_some_and(|o| {
                crate::domain::contains(o.valid_from, o.valid_to, now.date_naive())
            }) {
                return Err(AppError::bad_input(
                    "input.toId",
                    "no organisation of the registry exists with this identifier today",
                ));
            }
            next.handler_id = Set(*to);
            next.status = Set(ReferralStatus::Filed);
            next.acknowledged_at = Set(None);
            // The new handler gets its own time to acknowledge; the answer's term runs
            // from the first filing (CRPA L114-2).
            let terms = deadlines::of(&txn, *to).await?;
            next.acknowledge_due = Set(terms.acknowledge_due(now));
            next.answer_due = Set(terms.answer_due(m.created_at)?);
            hop = Some(referral_hop::ActiveModel {
                referral_id: Set(id),
                position: Set(i32::try_from(current.hops.len()).unwrap_or(i32::MAX)),
                from_id: Set(Some(m.handler_id)),
                to_id: Set(*to),
                reason: Set(reason),
                at: Set(now),
                ..Default::default()
            });
        }
        Step::Close => {
            if m.status == ReferralStatus::Closed {
                return illegal("closed");
            }
            next.status = Set(ReferralStatus::Closed);
            next.closed_at = Set(Some(now));
        }
        Step::Rate {
            satisfaction,
            resolved,
        } => {
            if m.answered_at.is_none() {
                return illegal("rated before it is answered");
            }
            if m.satisfaction.is_some() {
                return illegal("rated twice");
            }
            if !(1..=5).contains(satisfaction) {
                return Err(AppError::bad_input(
                    "input.satisfaction",
                    "satisfaction is from 1 (very unsatisfied) to 5 (very satisfied)",
                ));
            }
            next.satisfaction = Set(Some(*satisfaction));
            next.resolved = Set(Some(*resolved));
        }
        Step::Erase => {
            if m.erased_at.is_some() {
                return illegal("erased twice");
            }
            next.message = Set(None);
            next.contact = Set(None);
            next.answer = Set(None);
            next.erased_at = Set(Some(now));
        }
    }
    versioned::save(&txn, next, id, version, now).await?;
    if let Some(hop) = hop {
        referral_hop::Entity::insert(hop).exec(&txn).await?;
    }
    let after = by_ids_in(&txn, &[id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    txn.record(Change {
        action: step.action(),
        entity_type: "Referral",
        entity_id: id,
        owner: Some(after.model.handler_id),
        operation: Operation::Updated,
        before: Some(audit_json(m)),
        after: Some(audit_json(&after.model)),
    })
    .await?;
    txn.commit().await?;
    Ok(after)
}
