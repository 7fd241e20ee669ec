//! The `Responsibility` type: who plays which role in a competence, and where that comes from.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;

use super::assignment::Assignment;
use super::competence::Competence;
use super::enums::{AssignmentBasis, CompetenceRole, ResolvedThrough, ResponsibilityLayer};
use crate::domain::competences::{self, Catalogue, Subject};
use crate::domain::registry::Organisation as Row;
use crate::graphql::context::loaders;
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::Date;

/// Who plays which role in a competence, from which layer of the answer.
#[derive(Clone)]
pub struct Responsibility {
    pub(crate) inner: competences::Responsibility,
    /// Shared: a profile names the same few organisations hundreds of times.
    pub(crate) organisation: Arc<Row>,
    pub(crate) catalogue: Arc<Catalogue>,
    pub(crate) at: NaiveDate,
    pub(crate) subject: Option<Arc<Subject>>,
}

impl Responsibility {
    /// Wraps a domain responsibility held by `organisation`.
    pub fn new(
        inner: competences::Responsibility,
        organisation: impl Into<Arc<Row>>,
        catalogue: Arc<Catalogue>,
        at: NaiveDate,
    ) -> Self {
        Self {
            inner,
            organisation: organisation.into(),
            catalogue,
            at,
            subject: None,
        }
    }
}

/// Who plays which role in a competence, from which layer of the answer.
// Serial, as `Organisation`: its fields are at hand, and a profile lists hundreds of them.
#[Object(serial)]
impl Responsibility {
    /// The organisation.
    async fn organisation(&self) -> Organisation {
        Organisation::new(self.organisation.clone(), self.at)
    }

    /// The competence.
    async fn competence(&self) -> Competence {
        Competence {
            catalogue: self.catalogue.clone(),
            index: self.inner.competence,
        }
    }

    /// Its role: `HOLDER` decides, `IMPLEMENTER` carries out, `FINANCER` pays.
    async fn role(&self) -> CompetenceRole {
        self.inner.role.into()
    }

    /// Where the answer comes from: a declared fact overrides a legal presumption for the
    /// same role; the EPCI baseline overrides the default holder.
    async fn layer(&self) -> ResponsibilityLayer {
        self.inner.layer.into()
    }

    /// What gives the organisation the competence (`LAW` for legal presumptions).
    async fn basis(&self) -> Option<AssignmentBasis> {
        self.inner.basis.map(Into::into)
    }

    /// First day (inclusive): of the assignment, of the EPCI membership for the baseline.
    async fn valid_from(&self) -> Option<Date> {
        self.inner.valid_from.map(Date)
    }

    /// End (exclusive); null while open.
    async fn valid_to(&self) -> Option<Date> {
        self.inner.valid_to.map(Date)
    }

    /// A condition the law attaches to the presumption, when it is not plainly mandatory.
    async fn condition(&self) -> Option<&str> {
        self.inner.condition.as_deref()
    }

    /// The source: an article of the CGCT or a note of the legal layers, or the legal
    /// reference of a declared assignment.
    async fn source(&self) -> &str {
        &self.inner.source
    }

    /// The declared assignment behind a `DECLARED` answer.
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Option<Assignment>> {
        let Some(id) = self.inner.assignment_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .assignments
            .load(id)
            .await?
            .map(|a| Assignment::new(a, self.at)))
    }

    /// For an answer about a commune: the commune answered for.
    async fn commune(&self) -> Option<Organisation> {
        self.subject
            .as_ref()
            .map(|s| Organisation::new(s.commune.clone(), self.at))
    }

    /// For an answer about a commune: the organisation the code asked about named (a merged
    /// commune, a commune déléguée…, or the commune itself).
    async fn requested(&self) -> Option<Organisation> {
        self.subject
            .as_ref()
            .map(|s| Organisation::new(s.requested.clone(), self.at))
    }

    /// For an answer about a commune: how the code asked about led to the commune answered
    /// for (`SUCCESSION` when it names a commune merged into it before that date).
    async fn resolved_through(&self) -> Option<ResolvedThrough> {
        self.subject.as_ref().map(|s| s.through.into())
    }
}

/// One competence with its responsibilities for one commune.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CompetenceResponsibilities {
    /// The competence.
    pub competence: Competence,
    /// Who decides, carries out, pays…, each with its layer.
    pub responsibilities: Vec<Responsibility>,
}
