//! The `TerritorialProject` and `ProjectAction` types.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{consent, project_action};

use super::enums::{ActionStatus, ProjectKind, ProjectPhase, ProjectRole};
use super::indicator::Indicator;
use crate::domain::projects::{self, Project, actions::Links};
use crate::graphql::competences::{Competence, Consent};
use crate::graphql::context::{loaders, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::{Date, DateTime};

/// The organisation `id` as of `at`.
pub(super) async fn organisation(
    ctx: &Context<'_>,
    id: i64,
    at: NaiveDate,
) -> Result<Option<Organisation>> {
    Ok(loaders(ctx)?
        .organisations
        .load(id)
        .await?
        .map(|o| Organisation::new(o, at)))
}

/// A projet de territoire, CRTE or programme contract: a plan its parties share over a set
/// of communes, with actions and indicators. Drafts are its parties' own; signed, it is
/// public.
#[derive(Clone)]
pub struct TerritorialProject {
    pub(crate) inner: Project,
    pub(crate) at: NaiveDate,
    pub(crate) consents: Vec<consent::Model>,
    pub(crate) actions: Vec<project_action::Model>,
    pub(crate) indicators: Vec<projects::indicators::Indicator>,
}

/// A party and its role.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProjectParty {
    /// Its role.
    pub role: ProjectRole,
    #[graphql(skip)]
    pub(crate) organisation_id: i64,
    #[graphql(skip)]
    pub(crate) at: NaiveDate,
}

#[async_graphql::ComplexObject]
impl ProjectParty {
    /// The party.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.organisation_id, self.at).await
    }
}

/// A projet de territoire, CRTE or programme contract: a plan its parties share over a set
/// of communes, with actions and indicators. Drafts are its parties' own; signed, it is
/// public.
#[Object]
impl TerritorialProject {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::TerritorialProject, self.inner.model.id)
    }

    /// Programme or form.
    async fn kind(&self) -> ProjectKind {
        self.inner.model.kind.into()
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.inner.model.title
    }

    /// What it is for.
    async fn description(&self) -> Option<&str> {
        self.inner.model.description.as_deref()
    }

    /// Where it stands on the date asked.
    async fn phase(&self) -> ProjectPhase {
        self.inner.phase(self.at).into()
    }

    /// The party that drafted it.
    async fn drafted_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.model.drafted_by_id, self.at).await
    }

    /// Its parties, one entry per role.
    async fn parties(&self) -> Vec<ProjectParty> {
        self.inner
            .parties
            .iter()
            .map(|p| ProjectParty {
                role: p.role.into(),
                organisation_id: p.organisation_id,
                at: self.at,
            })
            .collect()
    }

    /// How many communes it covers.
    async fn commune_count(&self) -> usize {
        self.inner.communes.len()
    }

    /// The communes it covers (at most `first`, default 100, in id order).
    async fn communes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100, validator(minimum = 0, maximum = 1000))] first: usize,
    ) -> Result<Vec<Organisation>> {
        let ids: Vec<i64> = self.inner.communes.iter().take(first).copied().collect();
        let found = loaders(ctx)?.registry.by_ids(&ids).await?;
        Ok(found
            .into_iter()
            .map(|o| Organisation::new(o, self.at))
            .collect())
    }

    /// First day in force.
    async fn valid_from(&self) -> Date {
        self.inner.model.valid_from.into()
    }

    /// Day after the last in force; null while open.
    async fn valid_to(&self) -> Option<Date> {
        self.inner.model.valid_to.map(Into::into)
    }

    /// When the last signatory signed.
    async fn signed_at(&self) -> Option<DateTime> {
        self.inner.model.signed_at.map(Into::into)
    }

    /// Each signatory's signature (while proposed and once signed).
    async fn consents(&self) -> Vec<Consent> {
        let parties = self.inner.with_role(entity::ProjectRole::Signatory);
        self.consents
            .iter()
            .cloned()
            .map(|c| Consent::new(c, self.at, &parties))
            .collect()
    }

    /// Its axes: the axes of its actions, once each, in order.
    async fn axes(&self) -> Vec<&str> {
        let mut axes: Vec<&str> = self.actions.iter().map(|a| a.axis.as_str()).collect();
        axes.dedup();
        axes
    }

    /// Its actions, by axis.
    async fn actions(&self) -> Vec<ProjectAction> {
        self.actions
            .iter()
            .cloned()
            .map(|a| ProjectAction(a, self.at))
            .collect()
    }

    /// Its indicators.
    async fn indicators(&self) -> Vec<Indicator> {
        self.indicators
            .iter()
            .cloned()
            .map(|i| Indicator(i, self.at))
            .collect()
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.inner.model.version
    }
}

/// An action of a territorial project.
#[derive(Clone)]
pub struct ProjectAction(pub(crate) project_action::Model, pub(crate) NaiveDate);

/// An action of a territorial project: under an axis, piloted by a party, with contributors,
/// linked competences, resources and agreements, budgets and a schedule.
#[Object]
impl ProjectAction {
    /// Opaque global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::ProjectAction, self.0.id)
    }

    /// The axis it belongs to.
    async fn axis(&self) -> &str {
        &self.0.axis
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Where it stands.
    async fn status(&self) -> ActionStatus {
        self.0.status.into()
    }

    /// The party piloting it (its staff edit it).
    async fn pilot(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.pilot_id, self.1).await
    }

    /// Contributing parties.
    async fn contributors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let ids = Links::of(&self.0).contributors;
        let found = loaders(ctx)?.registry.by_ids(&ids).await?;
        Ok(found
            .into_iter()
            .map(|o| Organisation::new(o, self.1))
            .collect())
    }

    /// The competences it serves.
    async fn competences(&self, ctx: &Context<'_>) -> Result<Vec<Competence>> {
        let catalogue = state(ctx)?.catalogue.clone();
        Ok(Links::of(&self.0)
            .competences
            .iter()
            .filter_map(|code| catalogue.index_of(code))
            .map(|index| Competence {
                catalogue: catalogue.clone(),
                index,
            })
            .collect())
    }

    /// Global IDs of the shared resources it uses.
    async fn resource_ids(&self) -> Vec<ID> {
        Links::of(&self.0)
            .resources
            .into_iter()
            .map(|id| ids::encode(NodeType::Resource, id))
            .collect()
    }

    /// Global IDs of the agreements it relies on.
    async fn agreement_ids(&self) -> Vec<ID> {
        Links::of(&self.0)
            .agreements
            .into_iter()
            .map(|id| ids::encode(NodeType::Agreement, id))
            .collect()
    }

    /// Planned budget, euros.
    async fn budget_planned(&self) -> Option<i64> {
        self.0.budget_planned
    }

    /// Committed budget, euros.
    async fn budget_committed(&self) -> Option<i64> {
        self.0.budget_committed
    }

    /// First day.
    async fn starts_on(&self) -> Option<Date> {
        self.0.starts_on.map(Into::into)
    }

    /// Last day.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Into::into)
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// Builds the GraphQL projects of `found` as of `at`, reading their consents, actions and
/// indicators in three queries whatever their number.
pub(crate) async fn assemble(
    ctx: &Context<'_>,
    found: Vec<Project>,
    at: NaiveDate,
) -> Result<Vec<TerritorialProject>> {
    let db = &state(ctx)?.db;
    let ids: Vec<i64> = found.iter().map(|p| p.model.id).collect();
    let mut consents =
        crate::domain::consent::of(db, crate::domain::consent::Subject::Project, &ids).await?;
    let mut actions = projects::actions::of_projects(db, &ids).await?;
    let mut indicators = projects::indicators::of_projects(db, &ids).await?;
    Ok(found
        .into_iter()
        .map(|inner| {
            let id = inner.model.id;
            TerritorialProject {
                consents: consents.extract_if(.., |c| c.subject_id == id).collect(),
                actions: actions.extract_if(.., |a| a.project_id == id).collect(),
                indicators: indicators
                    .extract_if(.., |i| i.model.project_id == id)
                    .collect(),
                inner,
                at,
            }
        })
        .collect())
}
