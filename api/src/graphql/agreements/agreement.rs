//! The `Agreement` type and its parts.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::agreement_party;

use super::enums::{AgreementKind, AgreementStatus, PartyRole};
use crate::domain::agreements;
use crate::graphql::competences::{CompetenceRole, Consent};
use crate::graphql::context::{loaders, organisation};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::resources::Resource;
use crate::graphql::scalars::{Date, DateTime};

/// A convention between organisations: who is party in which role, what it covers, and
/// where it stands.
#[derive(Clone)]
pub struct Agreement {
    pub(crate) inner: agreements::Agreement,
    pub(crate) at: NaiveDate,
}

impl Agreement {
    /// Wraps a domain agreement; its status and nested organisations answer as of `at`.
    pub fn new(inner: agreements::Agreement, at: NaiveDate) -> Self {
        Self { inner, at }
    }
}

/// A convention between organisations: who is party in which role, what it covers, and
/// where it stands.
#[Object]
impl Agreement {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Agreement, self.inner.model.id)
    }

    /// Legal form.
    async fn kind(&self) -> AgreementKind {
        self.inner.model.kind.into()
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.inner.model.title
    }

    /// Legal basis (e.g. CGCT L5211-4-2).
    async fn legal_basis(&self) -> Option<&str> {
        self.inner.model.legal_basis.as_deref()
    }

    /// Where it stands today (`ACTIVE` and `ENDED` follow from the dates of a signed one).
    async fn status(&self) -> AgreementStatus {
        self.inner.status(self.at).into()
    }

    /// The party that drafted it.
    async fn drafted_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.model.drafted_by_id, self.at).await
    }

    /// Parties and their roles.
    async fn parties(&self) -> Vec<AgreementParty> {
        self.inner
            .parties
            .iter()
            .cloned()
            .map(|p| AgreementParty(p, self.at))
            .collect()
    }

    /// First day in force.
    async fn valid_from(&self) -> Option<Date> {
        self.inner.model.valid_from.map(Date)
    }

    /// Day after the last in force (its termination when terminated earlier).
    async fn valid_to(&self) -> Option<Date> {
        self.inner.end().map(Date)
    }

    /// Financial terms.
    async fn financial_terms(&self) -> Option<&str> {
        self.inner.model.financial_terms.as_deref()
    }

    /// Whether beneficiaries book the linked resources without the owner's approval.
    async fn direct_booking(&self) -> bool {
        self.inner.model.direct_booking
    }

    /// Resources it covers (those the caller may see).
    async fn resources(&self, ctx: &Context<'_>) -> Result<Vec<Resource>> {
        let found = loaders(ctx)?
            .resources
            .load_many(self.inner.resources.clone())
            .await?;
        Ok(self
            .inner
            .resources
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .map(|r| Resource::new(r, self.at))
            .collect())
    }

    /// Competences it covers, with the role a delegation gives the delegatee.
    async fn competences(&self) -> Vec<AgreementCompetence> {
        self.inner
            .competences
            .iter()
            .map(|c| AgreementCompetence {
                code: c.competence_code.clone(),
                role: c.role.into(),
            })
            .collect()
    }

    /// Documents (the signed convention, annexes).
    async fn documents(&self) -> Vec<AgreementDocument> {
        self.inner
            .documents
            .iter()
            .map(|d| AgreementDocument {
                title: d.title.clone(),
                url: d.url.clone(),
            })
            .collect()
    }

    /// Each party's signature (while proposed and once signed).
    async fn consents(&self) -> Vec<Consent> {
        let parties: Vec<i64> = self
            .inner
            .parties
            .iter()
            .map(|p| p.organisation_id)
            .collect();
        self.inner
            .consents
            .iter()
            .cloned()
            .map(|c| Consent::new(c, self.at, &parties))
            .collect()
    }

    /// When the last party signed.
    async fn signed_at(&self) -> Option<DateTime> {
        self.inner.model.signed_at.map(Into::into)
    }

    /// The party that terminated it early.
    async fn terminated_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.inner.model.terminated_by_id {
            Some(id) => organisation(ctx, id, self.at).await,
            None => Ok(None),
        }
    }

    /// Why it was terminated.
    async fn termination_reason(&self) -> Option<&str> {
        self.inner.model.termination_reason.as_deref()
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.inner.model.version
    }
}

/// A party to an agreement and its role.
pub struct AgreementParty(agreement_party::Model, NaiveDate);

/// A party to an agreement and its role.
#[Object]
impl AgreementParty {
    /// The organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.organisation_id, self.1).await
    }

    /// Its role.
    async fn role(&self) -> PartyRole {
        self.0.role.into()
    }
}

/// A competence an agreement covers.
#[derive(SimpleObject)]
pub struct AgreementCompetence {
    /// Competence code (BANATIC).
    pub code: String,
    /// The role a delegation gives the delegatee.
    pub role: CompetenceRole,
}

/// A document of an agreement.
#[derive(SimpleObject)]
pub struct AgreementDocument {
    /// Title.
    pub title: String,
    /// Where it is published.
    pub url: String,
}
