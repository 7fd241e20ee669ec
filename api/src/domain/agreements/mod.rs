//! Agreements between organisations: parties with roles, linked resources and competences,
//! documents, and a lifecycle decided by every party through the shared consent mechanism.

mod content;
mod effects;
pub mod lifecycle;

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    AgreementStatus, PartyRole, agreement, agreement_competence, agreement_document,
    agreement_party, agreement_resource, consent,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::auth::Actor;
use crate::domain::consent::Subject;
use crate::domain::resources::Period;
use crate::error::AppResult;

/// An agreement with everything attached to it.
#[derive(Debug, Clone)]
pub struct Agreement {
    /// The row.
    pub model: agreement::Model,
    /// Parties and their roles.
    pub parties: Vec<agreement_party::Model>,
    /// Linked resources (ids).
    pub resources: Vec<i64>,
    /// Linked competences.
    pub competences: Vec<agreement_competence::Model>,
    /// Documents.
    pub documents: Vec<agreement_document::Model>,
    /// Each party's signature, while proposed and once signed.
    pub consents: Vec<consent::Model>,
}

impl Agreement {
    /// The distinct organisations party to it, in the order first named.
    pub fn party_ids(&self) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        for p in &self.parties {
            if !out.contains(&p.organisation_id) {
                out.push(p.organisation_id);
            }
        }
        out
    }

    /// The organisations holding `role`.
    pub fn with_role(&self, role: PartyRole) -> Vec<i64> {
        self.parties
            .iter()
            .filter(|p| p.role == role)
            .map(|p| p.organisation_id)
            .collect()
    }

    /// The day it stops being in force: its end, or its termination when earlier.
    pub fn end(&self) -> Option<NaiveDate> {
        match (self.model.valid_to, self.model.terminated_on) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The status on `today`: a signed agreement is `ACTIVE` from its start and `ENDED`
    /// from its end.
    pub fn status(&self, today: NaiveDate) -> AgreementStatus {
        let m = &self.model;
        match m.status {
            AgreementStatus::Signed if m.valid_to.is_some_and(|t| t <= today) => {
                AgreementStatus::Ended
            }
            AgreementStatus::Signed if m.valid_from.is_some_and(|f| f <= today) => {
                AgreementStatus::Active
            }
            s => s,
        }
    }

    /// Whether it is in force on `day` (signed, started, not ended or terminated).
    pub fn in_force(&self, day: NaiveDate) -> bool {
        matches!(
            self.model.status,
            AgreementStatus::Signed | AgreementStatus::Terminated
        ) && self.model.signed_at.is_some()
            && crate::domain::contains(self.model.valid_from, self.end(), day)
    }

    /// May the actor see it? Drafts and proposals are for the parties (and State
    /// services); signed agreements are public acts.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        let public = matches!(
            self.model.status,
            AgreementStatus::Signed | AgreementStatus::Terminated
        );
        crate::domain::authz::can_see_agreement(actor, public, &self.party_ids())
    }
}

pub(crate) fn snapshot(a: &Agreement) -> serde_json::Value {
    let m = &a.model;
    json!({
        "kind": m.kind, "title": m.title, "legalBasis": m.legal_basis,
        "draftedById": m.drafted_by_id, "status": m.status, "validFrom": m.valid_from,
        "validTo": m.valid_to, "financialTerms": m.financial_terms,
        "directBooking": m.direct_booking, "terminatedOn": m.terminated_on,
        "terminationReason": m.termination_reason, "version": m.version,
        "parties": a.parties.iter().map(|p| json!({"organisationId": p.organisation_id, "role": p.role})).collect::<Vec<_>>(),
        "resources": a.resources,
        "competences": a.competences.iter().map(|c| json!({"code": c.competence_code, "role": c.role})).collect::<Vec<_>>(),
        "documents": a.documents.iter().map(|d| json!({"title": d.title, "url": d.url})).collect::<Vec<_>>(),
    })
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    for r in rows {
        out.entry(key(&r)).or_default().push(r);
    }
    out
}

/// Agreements `ids` with everything attached, in id order (five queries whatever the
/// number), whoever may see them.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Agreement>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = agreement::Entity::find()
        .filter(agreement::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(agreement::Column::Id)
        .all(db)
        .await?;
    let mut parties = group(
        agreement_party::Entity::find()
            .filter(agreement_party::Column::AgreementId.is_in(ids.to_vec()))
            .order_by_asc(agreement_party::Column::Id)
            .all(db)
            .await?,
        |p| p.agreement_id,
    );
    let mut resources = group(
        agreement_resource::Entity::find()
            .filter(agreement_resource::Column::AgreementId.is_in(ids.to_vec()))
            .order_by_asc(agreement_resource::Column::ResourceId)
            .all(db)
            .await?,
        |r| r.agreement_id,
    );
    let mut competences = group(
        agreement_competence::Entity::find()
            .filter(agreement_competence::Column::AgreementId.is_in(ids.to_vec()))
            .order_by_asc(agreement_competence::Column::CompetenceCode)
            .all(db)
            .await?,
        |c| c.agreement_id,
    );
    let mut documents = group(
        agreement_document::Entity::find()
            .filter(agreement_document::Column::AgreementId.is_in(ids.to_vec()))
            .order_by_asc(agreement_document::Column::Id)
            .all(db)
            .await?,
        |d| d.agreement_id,
    );
    let mut consents = group(
        crate::domain::consent::of(db, Subject::Agreement, ids).await?,
        |c| c.subject_id,
    );
    Ok(rows
        .into_iter()
        .map(|model| {
            let id = model.id;
            Agreement {
                model,
                parties: parties.remove(&id).unwrap_or_default(),
                resources: resources
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.resource_id)
                    .collect(),
                competences: competences.remove(&id).unwrap_or_default(),
                documents: documents.remove(&id).unwrap_or_default(),
                consents: consents.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}

/// The ids of the agreements each of `orgs` is a party to, oldest first.
pub async fn ids_of_parties<C: ConnectionTrait>(
    db: &C,
    orgs: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::OrganisationId)
        .column(agreement_party::Column::AgreementId)
        .filter(agreement_party::Column::OrganisationId.is_in(orgs.to_vec()))
        .order_by_asc(agreement_party::Column::AgreementId)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (org, id) in rows {
        let list = out.entry(org).or_default();
        if list.last() != Some(&id) {
            list.push(id);
        }
    }
    Ok(out)
}

/// What an agreement in force lets a beneficiary do with a linked resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The resource.
    pub resource_id: i64,
    /// The agreement.
    pub agreement_id: i64,
    /// Whether the beneficiary books without the owner's approval.
    pub direct_booking: bool,
}

/// The resources the agreements in force over the whole of `period` let `org` use as a
/// beneficiary (direct booking first when several agreements link one resource).
pub async fn grants_for<C: ConnectionTrait>(
    db: &C,
    org: i64,
    period: Period,
) -> AppResult<Vec<Grant>> {
    let ids: Vec<i64> = agreement_party::Entity::find()
        .select_only()
        .column(agreement_party::Column::AgreementId)
        .filter(agreement_party::Column::OrganisationId.eq(org))
        .filter(agreement_party::Column::Role.eq(PartyRole::Beneficiary))
        .into_tuple()
        .all(db)
        .await?;
    let first_day = period.from.date_naive();
    // The last day the period touches (its end is exclusive).
    let last_day = (period.to - chrono::Duration::seconds(1)).date_naive();
    let mut out: Vec<Grant> = Vec::new();
    for a in by_ids(db, &ids).await? {
        if !(a.in_force(first_day) && a.in_force(last_day)) {
            continue;
        }
        for &resource_id in &a.resources {
            out.push(Grant {
                resource_id,
                agreement_id: a.model.id,
                direct_booking: a.model.direct_booking,
            });
        }
    }
    out.sort_by_key(|g| (g.resource_id, !g.direct_booking, g.agreement_id));
    out.dedup_by_key(|g| g.resource_id);
    Ok(out)
}

/// The grant of an agreement in force over `period` letting `org` use `resource`, if any.
pub async fn grant<C: ConnectionTrait>(
    db: &C,
    org: i64,
    resource: i64,
    period: Period,
) -> AppResult<Option<Grant>> {
    Ok(grants_for(db, org, period)
        .await?
        .into_iter()
        .find(|g| g.resource_id == resource))
}
