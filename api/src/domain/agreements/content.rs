//! The editable content of an agreement: its fields, the checks a draft and a proposal
//! must pass, and the child rows it is written as.

use chrono::NaiveDate;
use entity::{
    AgreementKind, CompetenceRole, PartyRole, agreement, agreement_competence, agreement_document,
    agreement_party, agreement_resource,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Agreement;
use crate::domain::codes;
use crate::domain::competences::Catalogue;
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
    /// The content after the edit.
    pub(super) fn apply(self, a: &Agreement) -> AgreementContent {
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

/// Checks the content on its own; returns it cleaned.
pub(super) async fn check<C: ConnectionTrait>(
    db: &C,
    catalogue: &Catalogue,
    actor: &crate::auth::Actor,
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
    // A resource the drafter may not see answers as one that does not exist.
    let owners: Vec<(i64, i64)> = crate::domain::resources::visible_by_ids(db, actor, &c.resources)
        .await?
        .into_iter()
        .map(|r| (r.model.id, r.model.owner_id))
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
pub(super) fn check_complete(a: &Agreement) -> AppResult<()> {
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

/// Writes the parties, links and documents of agreement `id`, replacing any.
pub(super) async fn write_children<C: ConnectionTrait>(
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

/// The agreement row's own fields of `c`.
pub(super) fn content_of(c: &AgreementContent) -> agreement::ActiveModel {
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
