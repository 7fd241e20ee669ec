//! The lifecycle of an agreement: drafted and edited by its drafting party, proposed
//! (frozen), signed by every party's admin through the consent mechanism, active from its
//! start, ended at its end or terminated early by a party. A rejection returns it to draft.

use chrono::{NaiveDate, Utc};
use entity::{
    AgreementKind, AgreementStatus, CompetenceRole, PartyRole, agreement, agreement_competence,
    agreement_document, agreement_party, agreement_resource, resource,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

use super::{Agreement, by_ids, effects, snapshot};
use crate::auth::Role;
use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::competences::Catalogue;
use crate::domain::consent::{self, Subject, Tally};
use crate::domain::{authz, codes, idempotency};
use crate::error::{AppError, AppResult};

/// Most parties, resources, competences or documents an agreement lists.
const MAX_ITEMS: usize = 50;

/// The editable content of an agreement.
#[derive(Debug, Clone)]
pub struct AgreementContent {
    /// Legal form.
    pub kind: AgreementKind,
    /// Title.
    pub title: String,
    /// Legal basis.
    pub legal_basis: Option<String>,
    /// Parties and roles (the drafting party among them).
    pub parties: Vec<(i64, PartyRole)>,
    /// First day in force.
    pub valid_from: Option<NaiveDate>,
    /// Day after the last.
    pub valid_to: Option<NaiveDate>,
    /// Financial terms.
    pub financial_terms: Option<String>,
    /// Whether beneficiaries book linked resources without approval.
    pub direct_booking: bool,
    /// Linked resources.
    pub resources: Vec<i64>,
    /// Linked competences and the role a delegation gives.
    pub competences: Vec<(String, CompetenceRole)>,
    /// Documents (title, URL).
    pub documents: Vec<(String, String)>,
}

/// Changes to a draft; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct AgreementEdit {
    /// Legal form.
    pub kind: Option<AgreementKind>,
    /// Title.
    pub title: Option<String>,
    /// Legal basis.
    pub legal_basis: Option<Option<String>>,
    /// Parties and roles (replaces them all).
    pub parties: Option<Vec<(i64, PartyRole)>>,
    /// First day in force.
    pub valid_from: Option<Option<NaiveDate>>,
    /// Day after the last.
    pub valid_to: Option<Option<NaiveDate>>,
    /// Financial terms.
    pub financial_terms: Option<Option<String>>,
    /// Direct booking of linked resources.
    pub direct_booking: Option<bool>,
    /// Linked resources (replaces them all).
    pub resources: Option<Vec<i64>>,
    /// Linked competences (replaces them all).
    pub competences: Option<Vec<(String, CompetenceRole)>>,
    /// Documents (replaces them all).
    pub documents: Option<Vec<(String, String)>>,
}

impl AgreementEdit {
    fn apply(self, a: &Agreement) -> AgreementContent {
        let m = &a.model;
        AgreementContent {
            kind: self.kind.unwrap_or(m.kind),
            title: self.title.unwrap_or_else(|| m.title.clone()),
            legal_basis: self.legal_basis.unwrap_or_else(|| m.legal_basis.clone()),
            parties: self.parties.unwrap_or_else(|| {
                a.parties
                    .iter()
                    .map(|p| (p.organisation_id, p.role))
                    .collect()
            }),
            valid_from: self.valid_from.unwrap_or(m.valid_from),
            valid_to: self.valid_to.unwrap_or(m.valid_to),
            financial_terms: self
                .financial_terms
                .unwrap_or_else(|| m.financial_terms.clone()),
            direct_booking: self.direct_booking.unwrap_or(m.direct_booking),
            resources: self.resources.unwrap_or_else(|| a.resources.clone()),
            competences: self.competences.unwrap_or_else(|| {
                a.competences
                    .iter()
                    .map(|c| (c.competence_code.clone(), c.role))
                    .collect()
            }),
            documents: self.documents.unwrap_or_else(|| {
                a.documents
                    .iter()
                    .map(|d| (d.title.clone(), d.url.clone()))
                    .collect()
            }),
        }
    }
}

/// Who may act for a party: its editors draft and propose, its admins sign and terminate.
fn acting_party(agreement: &Agreement, ctx: &WriteContext, roles: &[Role]) -> Option<i64> {
    agreement
        .party_ids()
        .into_iter()
        .find(|&p| ctx.actor.acts_for(p, roles))
}

/// Checks the content on its own; returns it cleaned.
async fn check<C: ConnectionTrait>(
    db: &C,
    catalogue: &Catalogue,
    drafted_by: i64,
    c: AgreementContent,
) -> AppResult<AgreementContent> {
    let mut c = c;
    c.title = codes::check_text("input.title", &c.title, 1, 300)?;
    c.legal_basis = c
        .legal_basis
        .map(|b| codes::check_text("input.legalBasis", &b, 1, 300))
        .transpose()?;
    c.financial_terms = c
        .financial_terms
        .map(|t| codes::check_text("input.financialTerms", &t, 1, 5000))
        .transpose()?;
    for (field, n) in [
        ("input.parties", c.parties.len()),
        ("input.resources", c.resources.len()),
        ("input.competences", c.competences.len()),
        ("input.documents", c.documents.len()),
    ] {
        if n > MAX_ITEMS {
            return Err(AppError::bad_input(field, format!("at most {MAX_ITEMS}")));
        }
    }
    if !c.parties.iter().any(|(p, _)| *p == drafted_by) {
        return Err(AppError::bad_input(
            "input.parties",
            "the drafting party is one of the parties",
        ));
    }
    c.parties.sort_unstable();
    c.parties.dedup();
    let party_ids: Vec<i64> = c.parties.iter().map(|(p, _)| *p).collect();
    let known = entity::organisation::Entity::find()
        .filter(entity::organisation::Column::Id.is_in(party_ids.clone()))
        .all(db)
        .await?;
    if let Some(missing) = party_ids
        .iter()
        .find(|p| !known.iter().any(|o| o.id == **p))
    {
        return Err(AppError::bad_input(
            "input.parties",
            format!("organisation {missing} does not exist"),
        ));
    }
    if let (Some(from), Some(to)) = (c.valid_from, c.valid_to)
        && to <= from
    {
        return Err(AppError::bad_input(
            "input.validTo",
            "the end comes after the start",
        ));
    }
    c.resources.sort_unstable();
    c.resources.dedup();
    let owners: Vec<(i64, i64)> = resource::Entity::find()
        .filter(resource::Column::Id.is_in(c.resources.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.owner_id))
        .collect();
    for id in &c.resources {
        match owners.iter().find(|(r, _)| r == id) {
            None => {
                return Err(AppError::bad_input(
                    "input.resources",
                    format!("resource {id} does not exist"),
                ));
            }
            Some((_, owner)) if !party_ids.contains(owner) => {
                return Err(AppError::bad_input(
                    "input.resources",
                    format!("resource {id} belongs to an organisation that is not a party"),
                ));
            }
            Some(_) => {}
        }
    }
    for (code, role) in &c.competences {
        codes::check_competence_code("input.competences", code)?;
        if catalogue.get(code).is_none() {
            return Err(AppError::bad_input(
                "input.competences",
                format!("`{code}` is not in the competence catalogue"),
            ));
        }
        if *role == CompetenceRole::Holder {
            return Err(AppError::bad_input(
                "input.competences",
                "a delegation leaves the delegator holder (CGCT L1111-8): the delegatee implements",
            ));
        }
    }
    c.competences.sort();
    c.competences.dedup_by(|a, b| a.0 == b.0);
    for (title, url) in &mut c.documents {
        *title = codes::check_text("input.documents", title, 1, 300)?;
        codes::check_url("input.documents", url)?;
    }
    Ok(c)
}

/// What proposing needs beyond a valid draft: two parties, a start, and what the kind implies.
fn check_complete(a: &Agreement) -> AppResult<()> {
    if a.party_ids().len() < 2 {
        return Err(AppError::bad_input(
            "input.parties",
            "an agreement binds at least two organisations",
        ));
    }
    if a.model.valid_from.is_none() {
        return Err(AppError::bad_input(
            "input.validFrom",
            "an agreement says from when it applies",
        ));
    }
    if a.model.kind == AgreementKind::DelegationCompetence
        && (a.with_role(PartyRole::Delegator).is_empty()
            || a.with_role(PartyRole::Delegatee).is_empty()
            || a.competences.is_empty())
    {
        return Err(AppError::bad_input(
            "input.parties",
            "a délégation de compétence names a delegator, a delegatee and the competences",
        ));
    }
    if a.model.direct_booking
        && (a.resources.is_empty() || a.with_role(PartyRole::Beneficiary).is_empty())
    {
        return Err(AppError::bad_input(
            "input.directBooking",
            "direct booking needs linked resources and a beneficiary",
        ));
    }
    Ok(())
}

async fn write_children<C: ConnectionTrait>(
    txn: &C,
    id: i64,
    c: &AgreementContent,
) -> AppResult<()> {
    agreement_party::Entity::delete_many()
        .filter(agreement_party::Column::AgreementId.eq(id))
        .exec(txn)
        .await?;
    agreement_resource::Entity::delete_many()
        .filter(agreement_resource::Column::AgreementId.eq(id))
        .exec(txn)
        .await?;
    agreement_competence::Entity::delete_many()
        .filter(agreement_competence::Column::AgreementId.eq(id))
        .exec(txn)
        .await?;
    agreement_document::Entity::delete_many()
        .filter(agreement_document::Column::AgreementId.eq(id))
        .exec(txn)
        .await?;
    agreement_party::Entity::insert_many(c.parties.iter().map(|&(org, role)| {
        agreement_party::ActiveModel {
            agreement_id: Set(id),
            organisation_id: Set(org),
            role: Set(role),
            ..Default::default()
        }
    }))
    .exec_without_returning(txn)
    .await?;
    if !c.resources.is_empty() {
        agreement_resource::Entity::insert_many(c.resources.iter().map(|&r| {
            agreement_resource::ActiveModel {
                agreement_id: Set(id),
                resource_id: Set(r),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    if !c.competences.is_empty() {
        agreement_competence::Entity::insert_many(c.competences.iter().map(|(code, role)| {
            agreement_competence::ActiveModel {
                agreement_id: Set(id),
                competence_code: Set(code.clone()),
                role: Set(*role),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    if !c.documents.is_empty() {
        agreement_document::Entity::insert_many(c.documents.iter().map(|(title, url)| {
            agreement_document::ActiveModel {
                agreement_id: Set(id),
                title: Set(title.clone()),
                url: Set(url.clone()),
                ..Default::default()
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

fn content_of(c: &AgreementContent) -> agreement::ActiveModel {
    agreement::ActiveModel {
        kind: Set(c.kind),
        title: Set(c.title.clone()),
        legal_basis: Set(c.legal_basis.clone()),
        valid_from: Set(c.valid_from),
        valid_to: Set(c.valid_to),
        financial_terms: Set(c.financial_terms.clone()),
        direct_booking: Set(c.direct_booking),
        ..Default::default()
    }
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
    let c = check(db, catalogue, drafted_by, content).await?;
    let hash = idempotency::input_hash(&json!({
        "draftedBy": drafted_by, "kind": c.kind, "title": c.title, "legalBasis": c.legal_basis,
        "parties": c.parties, "validFrom": c.valid_from, "validTo": c.valid_to,
        "financialTerms": c.financial_terms, "directBooking": c.direct_booking,
        "resources": c.resources, "competences": c.competences, "documents": c.documents,
    }));
    let subject = ctx.actor.subject.clone().unwrap_or_default();
    let txn = crate::domain::begin_write(db).await?;
    if let Some(key) = &idempotency_key
        && let Some(id) = idempotency::replay(&txn, &subject, key, "draftAgreement", &hash).await?
    {
        return by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal);
    }
    let now = Utc::now();
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
    )
    .await?;
    if let Some(key) = &idempotency_key {
        idempotency::remember(&txn, &subject, key, "draftAgreement", &hash, model.id).await?;
    }
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
            after: Some(snapshot(after)),
        },
    )
    .await?;
    Ok(())
}

/// Reads an agreement for a change: not found unless visible; the version must match.
async fn current<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    id: i64,
    version: Option<i64>,
) -> AppResult<Agreement> {
    let a = by_ids(txn, &[id])
        .await?
        .pop()
        .filter(|a| a.visible_to(&ctx.actor))
        .ok_or_else(|| AppError::NotFound(format!("agreement {id} not found")))?;
    if let Some(v) = version
        && a.model.version != v
    {
        return Err(AppError::Conflict(format!(
            "the agreement changed since it was read (now at version {}): read it again",
            a.model.version
        )));
    }
    Ok(a)
}

/// Moves the row from `before` to `changes`, checking the version once more.
async fn save<C: ConnectionTrait>(
    txn: &C,
    before: &Agreement,
    mut changes: agreement::ActiveModel,
) -> AppResult<Agreement> {
    changes.version = Set(before.model.version + 1);
    changes.updated_at = Set(Utc::now());
    let res = agreement::Entity::update_many()
        .set(changes)
        .filter(agreement::Column::Id.eq(before.model.id))
        .filter(agreement::Column::Version.eq(before.model.version))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the agreement changed concurrently".into(),
        ));
    }
    by_ids(txn, &[before.model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)
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
    let txn = crate::domain::begin_write(db).await?;
    let before = current(&txn, ctx, id, Some(version)).await?;
    authz::require_edit(&ctx.actor, before.model.drafted_by_id)?;
    if before.model.status != AgreementStatus::Draft {
        return Err(AppError::IllegalTransition(
            "only a draft can be edited; a proposal is frozen until a party rejects it".into(),
        ));
    }
    let content = edit.apply(&before);
    let c = check(&txn, catalogue, before.model.drafted_by_id, content).await?;
    let after = save(&txn, &before, content_of(&c)).await?;
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
    let txn = crate::domain::begin_write(db).await?;
    let before = current(&txn, ctx, id, Some(version)).await?;
    authz::require_edit(&ctx.actor, before.model.drafted_by_id)?;
    if before.model.status != AgreementStatus::Draft {
        return Err(AppError::IllegalTransition(format!(
            "only a draft can be proposed; this one is {:?}",
            before.model.status
        )));
    }
    check_complete(&before)?;
    effects::delegation_scopes(&txn, &before).await?;
    let after = save(
        &txn,
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
    let reason = reason
        .map(|r| codes::check_text("input.reason", &r, 1, 1000))
        .transpose()?;
    if !approve && reason.is_none() {
        return Err(AppError::bad_input("input.reason", "a rejection says why"));
    }
    let txn = crate::domain::begin_write(db).await?;
    let before = current(&txn, ctx, id, None).await?;
    if before.model.status != AgreementStatus::Proposed {
        return Err(AppError::IllegalTransition(format!(
            "only a proposal can be {}; this one is {:?}",
            if approve { "signed" } else { "rejected" },
            before.model.status
        )));
    }
    let tally = consent::decide(
        &txn,
        &ctx.actor,
        Subject::Agreement,
        id,
        party,
        approve,
        reason,
    )
    .await?;
    let (action, changes) = match tally {
        Tally::Pending => ("signAgreement", None),
        Tally::Approved => (
            "signAgreement",
            Some(agreement::ActiveModel {
                status: Set(AgreementStatus::Signed),
                signed_at: Set(Some(Utc::now())),
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
        None => save(&txn, &before, agreement::ActiveModel::default()).await?,
        Some(c) => save(&txn, &before, c).await?,
    };
    match tally {
        Tally::Approved => effects::start(&txn, catalogue, ctx, &after).await?,
        // Back to draft: the signatures gathered so far were for the rejected text.
        Tally::Rejected => consent::reset(&txn, Subject::Agreement, id).await?,
        Tally::Pending => {}
    }
    let after = by_ids(&txn, &[id]).await?.pop().ok_or(AppError::Internal)?;
    record(&txn, ctx, action, Some(&before), &after, Operation::Updated).await?;
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
    let txn = crate::domain::begin_write(db).await?;
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
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
