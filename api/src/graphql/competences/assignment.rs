//! The `Assignment`, `Transfer` and `Consent` types.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::consent;

use super::enums::{
    AssignmentBasis, CompetenceRole, ConsentDecision, TransferRule, TransferStatus,
};
use crate::domain::competences::{assignments, transfers};
use crate::domain::consent::majority;
use crate::graphql::context::{loaders, organisation};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::{Date, DateTime};

/// A competence an organisation declares it exercises.
#[derive(Clone)]
pub struct Assignment {
    pub(crate) inner: assignments::Assignment,
    pub(crate) at: NaiveDate,
}

impl Assignment {
    /// Wraps a domain assignment; nested organisations answer as of `at`.
    pub fn new(inner: assignments::Assignment, at: NaiveDate) -> Self {
        Self { inner, at }
    }
}

/// A competence an organisation declares it exercises.
#[Object]
impl Assignment {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Assignment, self.inner.model.id)
    }

    /// The organisation exercising it.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.model.organisation_id, self.at).await
    }

    /// Competence code (BANATIC).
    async fn competence_code(&self) -> &str {
        &self.inner.model.competence_code
    }

    /// Its role.
    async fn role(&self) -> CompetenceRole {
        self.inner.model.role.into()
    }

    /// What gives it the competence.
    async fn basis(&self) -> AssignmentBasis {
        self.inner.model.basis.into()
    }

    /// Whether it covers the organisation's whole territory (else the communes of `scope`).
    async fn whole_territory(&self) -> bool {
        self.inner.model.whole_territory
    }

    /// The communes covered, when not the whole territory ("syndicat à la carte").
    async fn scope(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let loader = &loaders(ctx)?.organisations;
        let found =
            futures_util::future::try_join_all(self.inner.scope.iter().map(|&id| loader.load(id)))
                .await?;
        let mut out: Vec<Organisation> = found
            .into_iter()
            .flatten()
            .map(|o| Organisation::new(o, self.at))
            .collect();
        out.sort_by(|a, b| a.model.insee_code.cmp(&b.model.insee_code));
        Ok(out)
    }

    /// First day (inclusive).
    async fn valid_from(&self) -> Option<Date> {
        self.inner.model.valid_from.map(Date)
    }

    /// End (exclusive); null while open.
    async fn valid_to(&self) -> Option<Date> {
        self.inner.model.valid_to.map(Date)
    }

    /// Legal reference (deliberation, arrêté, article of the statutes).
    async fn legal_reference(&self) -> Option<&str> {
        self.inner.model.legal_reference.as_deref()
    }

    /// The transfer that created it.
    async fn transfer(&self, ctx: &Context<'_>) -> Result<Option<Transfer>> {
        let Some(id) = self.inner.model.transfer_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .transfers
            .load(id)
            .await?
            .map(|t| Transfer::new(t, self.at)))
    }

    /// The agreement that yields it (a délégation de compétence), if any.
    async fn agreement(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::agreements::Agreement>> {
        crate::graphql::agreements::load(ctx, self.inner.model.agreement_id, self.at).await
    }

    /// Optimistic-concurrency version: send it back with a change.
    async fn version(&self) -> i64 {
        self.inner.model.version
    }
}

/// A competence moving between two organisations at an effective date, once both consent.
#[derive(Clone)]
pub struct Transfer {
    pub(crate) inner: transfers::Transfer,
    pub(crate) at: NaiveDate,
}

impl Transfer {
    /// Wraps a domain transfer.
    pub fn new(inner: transfers::Transfer, at: NaiveDate) -> Self {
        Self { inner, at }
    }

    /// Every organisation party to it: the giver, the receiver and every council asked.
    fn parties(&self) -> Vec<i64> {
        let mut parties = vec![self.inner.model.from_id, self.inner.model.to_id];
        parties.extend(self.inner.consents.iter().map(|c| c.party_id));
        parties.sort_unstable();
        parties.dedup();
        parties
    }
}

/// Where the member councils stand on a transfer to their EPCI à fiscalité propre or a
/// restitution from it: two thirds of the councils holding more than half of the population,
/// or half holding two thirds, including the most populous commune when it has more than a
/// quarter (CGCT L5211-5 II).
pub struct MajorityStanding(pub(crate) majority::Standing, &'static str);

/// Where the member councils stand on a transfer decided by qualified majority.
#[Object]
impl MajorityStanding {
    /// Member councils asked.
    async fn councils(&self) -> usize {
        self.0.councils
    }

    /// Councils that approved.
    async fn approved(&self) -> usize {
        self.0.approved
    }

    /// Councils that rejected.
    async fn rejected(&self) -> usize {
        self.0.rejected
    }

    /// Legal population of every member commune.
    async fn population(&self) -> i64 {
        self.0.population
    }

    /// Legal population of the communes whose council approved.
    async fn population_approved(&self) -> i64 {
        self.0.population_approved
    }

    /// The most populous commune when it has more than a quarter of the population: its
    /// council must be in the majority.
    async fn required_council(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.0.required {
            Some(id) => organisation(ctx, id, crate::graphql::context::request(ctx)?.today).await,
            None => Ok(None),
        }
    }

    /// Whether the approvals already make the majority.
    async fn reached(&self) -> bool {
        self.0.reached
    }

    /// Whether the majority can still be reached, counting undecided councils as approving.
    async fn possible(&self) -> bool {
        self.0.possible
    }

    /// The articles the majority follows.
    async fn legal_reference(&self) -> &'static str {
        self.1
    }
}

/// A competence moving between two organisations at an effective date, once both consent.
#[Object]
impl Transfer {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Transfer, self.inner.model.id)
    }

    /// Competence code (BANATIC).
    async fn competence_code(&self) -> &str {
        &self.inner.model.competence_code
    }

    /// The organisation giving the competence; null when the givers are every member commune
    /// of the receiving EPCI à fiscalité propre (`rule: QUALIFIED_MAJORITY`; see `consents`).
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        if self.inner.model.rule == entity::TransferRule::QualifiedMajority {
            return Ok(None);
        }
        organisation(ctx, self.inner.model.from_id, self.at).await
    }

    /// How its parties decide.
    async fn rule(&self) -> TransferRule {
        self.inner.model.rule.into()
    }

    /// Under a qualified majority, the last day a member council may decide; a council
    /// silent until then is deemed to approve a transfer (CGCT L5211-17) and to refuse a
    /// restitution (CGCT L5211-17-1).
    async fn decision_deadline(&self) -> Option<Date> {
        self.inner.model.decision_deadline.map(Date)
    }

    /// Under a qualified majority, where the member councils stand, counted on the legal
    /// populations shipped.
    async fn majority(&self) -> Option<MajorityStanding> {
        let (_, reference) = transfers::by_councils(self.inner.model.rule)?;
        self.inner
            .majority
            .map(|standing| MajorityStanding(standing, reference))
    }

    /// The organisation receiving it; null when the receivers are every member commune of
    /// the EPCI handing it back (`rule: RESTITUTION`; see `consents`).
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        if self.inner.model.rule == entity::TransferRule::Restitution {
            return Ok(None);
        }
        organisation(ctx, self.inner.model.to_id, self.at).await
    }

    /// First day the receiver holds it: the date proposed, or, when the transfer was decided
    /// after it, the day it was decided (an administrative act is not retroactive).
    async fn effective_date(&self) -> Date {
        Date(self.inner.model.effective_date)
    }

    /// Whether it moves the competence for the giver's whole territory (false when a group
    /// hands it back to one of its members).
    async fn whole_territory(&self) -> bool {
        self.inner.model.whole_territory
    }

    /// Where it stands.
    async fn status(&self) -> TransferStatus {
        self.inner.model.status.into()
    }

    /// The party that proposed it.
    async fn proposed_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.model.proposed_by_id, self.at).await
    }

    /// Legal reference.
    async fn legal_reference(&self) -> Option<&str> {
        self.inner.model.legal_reference.as_deref()
    }

    /// Why it was rejected or withdrawn.
    async fn reason(&self) -> Option<&str> {
        self.inner.model.reason.as_deref()
    }

    /// Each party's consent.
    async fn consents(&self) -> Vec<Consent> {
        self.inner
            .consents
            .iter()
            .cloned()
            .map(|c| Consent::new(c, self.at, &self.parties()))
            .collect()
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.inner.model.version
    }
}

/// One party's decision on a multi-party change.
#[derive(Clone)]
pub struct Consent(
    pub(crate) consent::Model,
    pub(crate) NaiveDate,
    /// The parties to the decision.
    pub(crate) Vec<i64>,
);

impl Consent {
    /// A consent row among the decision of `parties`, answering as of `at`.
    pub fn new(row: consent::Model, at: NaiveDate, parties: &[i64]) -> Self {
        Self(row, at, parties.to_vec())
    }
}

/// One party's decision on a multi-party change.
#[Object]
impl Consent {
    /// The party.
    async fn party(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.party_id, self.1).await
    }

    /// Its decision.
    async fn decision(&self) -> ConsentDecision {
        self.0.decision.into()
    }

    /// Token subject of the admin who decided: shown to the parties and State services
    /// only (null for others; `party` says which organisation decided).
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let actor = crate::graphql::context::actor(ctx)?;
        Ok(crate::domain::authz::can_see_decider(actor, &self.2)
            .then_some(self.0.decided_by.as_deref())
            .flatten())
    }

    /// When.
    async fn decided_at(&self) -> Option<DateTime> {
        self.0.decided_at.map(Into::into)
    }

    /// Why (for a rejection).
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}
