//! Territorial projects in GraphQL: the projects covering a commune, a dashboard of an
//! organisation's indicators, and the mutations of the lifecycle, the actions, the indicators
//! and the measurements.

mod enums;
mod indicator;
mod inputs;
mod project;

pub use enums::{
    ActionStatus, Aggregation, IndicatorDirection, IndicatorKind, Periodicity, ProjectKind,
    ProjectPhase, ProjectRole,
};
pub use indicator::{Indicator, IndicatorPoint, IndicatorProgress, IndicatorTarget, Measurement};
pub use inputs::ProjectMutation;
pub use project::{ProjectAction, ProjectParty, TerritorialProject};

use async_graphql::{Context, ErrorExtensions, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;

use crate::domain::projects;
use crate::graphql::context::{actor, organisation_id, request, state};
use crate::graphql::scalars::Date;

/// Project `id` as of `at`, when the caller may see it.
pub(crate) async fn load(
    ctx: &Context<'_>,
    id: i64,
    at: NaiveDate,
) -> Result<Option<TerritorialProject>> {
    let found = projects::visible(&state(ctx)?.db, actor(ctx)?, id).await?;
    Ok(project::assemble(ctx, found.into_iter().collect(), at)
        .await?
        .pop())
}

/// One indicator of an organisation's dashboard, with the series of that organisation's
/// communes.
#[derive(SimpleObject)]
pub struct DashboardEntry {
    /// The project.
    pub project: TerritorialProject,
    /// The indicator.
    pub indicator: Indicator,
    /// Its series over the organisation's communes, combined by its aggregation rule.
    pub series: Vec<IndicatorPoint>,
}

/// Territorial project entry points.
#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// The territorial projects covering commune `inseeCode` on `at` (default today): the
    /// signed ones for everyone, drafts and proposals for their parties' staff too.
    async fn territorial_projects(
        &self,
        ctx: &Context<'_>,
        insee_code: String,
        at: Option<Date>,
    ) -> Result<Vec<TerritorialProject>> {
        let at = at.map_or(request(ctx)?.today, |d| d.0);
        crate::domain::codes::check_insee_code("inseeCode", &insee_code).map_err(|e| e.extend())?;
        let Some(commune) = state(ctx)?
            .registry_reads()
            .by_insee_code(&insee_code, Some(entity::OrganisationKind::Commune), at)
            .await?
        else {
            return Ok(Vec::new());
        };
        let found = projects::covering(&state(ctx)?.db, actor(ctx)?, commune.id, at).await?;
        project::assemble(ctx, found, at).await
    }

    /// The dashboard of an organisation (a commune, an EPCI, a département…): every
    /// indicator of the projects covering its communes on `at` (default today), each with the
    /// series of its communes.
    async fn indicator_dashboard(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
        at: Option<Date>,
    ) -> Result<Vec<DashboardEntry>> {
        let at = at.map_or(request(ctx)?.today, |d| d.0);
        let org = organisation_id(ctx, "organisation", &organisation)
            .await
            .map_err(|e| e.extend())?;
        let db = &state(ctx)?.db;
        let (found, communes) = projects::dashboard(db, actor(ctx)?, org, at).await?;
        let assembled = project::assemble(ctx, found, at).await?;
        let asked: Vec<_> = assembled.iter().flat_map(|p| &p.indicators).collect();
        let mut series = projects::series::series_within(db, &asked, &communes)
            .await?
            .into_iter();
        let mut out = Vec::new();
        for p in &assembled {
            for i in &p.indicators {
                out.push(DashboardEntry {
                    project: p.clone(),
                    indicator: Indicator(i.clone(), at),
                    series: series
                        .next()
                        .unwrap_or_default()
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                });
            }
        }
        Ok(out)
    }
}
