//! The mutations of territorial projects and their inputs: the lifecycle (draft, propose,
//! sign), the actions, the indicators and the measurements.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::enums::{
    ActionStatus, Aggregation, IndicatorDirection, IndicatorKind, Periodicity, ProjectKind,
    ProjectRole,
};
use super::indicator::{Indicator, Measurement};
use super::project::{ProjectAction, TerritorialProject, assemble};
use crate::domain::projects::{
    self,
    actions::{ActionContent, Links},
    indicators::NewIndicator,
    lifecycle::NewProject,
    measurements::NewMeasurement,
};
use crate::error::{AppError, AppResult};
use crate::graphql::context::{organisation_id, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, split};
use crate::graphql::scalars::Date;

/// A party and its role.
#[derive(InputObject)]
pub struct ProjectPartyInput {
    /// The party (global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// Its role.
    pub role: ProjectRole,
}

/// A project to draft.
#[derive(InputObject)]
pub struct DraftTerritorialProjectInput {
    /// Programme or form.
    pub kind: ProjectKind,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: Option<String>,
    /// The drafting party (one of `parties`).
    pub drafted_by_id: ID,
    /// Parties and their roles; at least one `SIGNATORY`.
    pub parties: Vec<ProjectPartyInput>,
    /// The organisations whose communes it covers (communes, EPCI, départements…), taken
    /// on its first day.
    pub territory: Vec<ID>,
    /// First day in force.
    pub valid_from: Date,
    /// Day after the last in force.
    pub valid_to: Option<Date>,
    /// Retrying with the same key and input replays the first result.
    pub idempotency_key: Option<String>,
}

/// A step on a project based on its version.
#[derive(InputObject)]
pub struct ProjectStepInput {
    /// The project.
    pub id: ID,
    /// The `version` the step is based on.
    pub version: i64,
}

/// A signatory's decision.
#[derive(InputObject)]
pub struct SignTerritorialProjectInput {
    /// The project.
    pub id: ID,
    /// The signatory deciding (its admins decide).
    pub party_id: ID,
    /// Sign (`true`, the default) or reject.
    #[graphql(default = true)]
    pub approve: bool,
    /// Why, when rejecting: required then (1 to 1,000 characters), and kept in the audit log
    /// (`rejection` in the record's `after`).
    pub reason: Option<String>,
}

/// An action's content.
#[derive(InputObject)]
pub struct ProjectActionInput {
    /// The axis it belongs to.
    pub axis: String,
    /// Title.
    pub title: String,
    /// The party piloting it.
    pub pilot_id: ID,
    /// Where it stands (default `PLANNED`).
    #[graphql(default_with = "ActionStatus::Planned")]
    pub status: ActionStatus,
    /// Planned budget, euros.
    pub budget_planned: Option<i64>,
    /// Committed budget, euros.
    pub budget_committed: Option<i64>,
    /// First day.
    pub starts_on: Option<Date>,
    /// Last day.
    pub ends_on: Option<Date>,
    /// Contributing parties.
    #[graphql(default)]
    pub contributor_ids: Vec<ID>,
    /// BANATIC codes of the competences it serves.
    #[graphql(default)]
    pub competences: Vec<String>,
    /// Shared resources it uses.
    #[graphql(default)]
    pub resource_ids: Vec<ID>,
    /// Agreements it relies on.
    #[graphql(default)]
    pub agreement_ids: Vec<ID>,
}

/// A dated target.
#[derive(InputObject)]
pub struct IndicatorTargetInput {
    /// By when.
    pub due_on: Date,
    /// The value to reach.
    pub value: f64,
}

/// An indicator to define.
#[derive(InputObject)]
pub struct DefineIndicatorInput {
    /// The project.
    pub project_id: ID,
    /// The action it follows, if one.
    pub action_id: Option<ID>,
    /// What feeds it (default `VALUE`); a satisfaction barometer's unit is `score`.
    #[graphql(default_with = "IndicatorKind::Value")]
    pub kind: IndicatorKind,
    /// For a barometer of referral ratings: only the referrals about this competence.
    pub competence: Option<String>,
    /// Name.
    pub name: String,
    /// Unit: `%` (0 to 100), `count` (whole, not negative), `score` (satisfaction
    /// barometers, 1 to 5), or another unit (`t`, `MWh`…).
    pub unit: String,
    /// Which way is better.
    pub direction: IndicatorDirection,
    /// How often it is measured.
    pub periodicity: Periodicity,
    /// How it is computed.
    pub method: String,
    /// Where its figures come from.
    pub source: String,
    /// The party contributing its measurements.
    pub responsible_id: ID,
    /// How communes' values make a territory's.
    pub aggregation: Aggregation,
    /// The value it starts from.
    pub baseline_value: f64,
    /// The first day of the baseline's period.
    pub baseline_period: Date,
    /// Dated targets, each after the baseline.
    #[graphql(default)]
    pub targets: Vec<IndicatorTargetInput>,
}

/// A measurement to record.
#[derive(InputObject)]
pub struct RecordMeasurementInput {
    /// The indicator.
    pub indicator_id: ID,
    /// The commune measured (global ID or INSEE code); absent: the whole territory.
    pub commune_id: Option<ID>,
    /// First day of the period measured (of the indicator's periodicity).
    pub period: Date,
    /// The value, in the indicator's unit (not for a survey result).
    pub value: Option<f64>,
    /// A survey result: the number of answers scoring 1, 2, 3, 4 and 5.
    pub distribution: Option<Vec<i64>>,
    /// Where it comes from.
    pub source: String,
    /// A comment.
    pub comment: Option<String>,
    /// The current measurement of this period it corrects (required when there is one).
    pub corrects: Option<ID>,
}

/// Result of the project mutations.
#[derive(SimpleObject)]
pub struct TerritorialProjectPayload {
    /// The project as it now stands; null when nothing changed.
    pub project: Option<TerritorialProject>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Result of the action mutations.
#[derive(SimpleObject)]
pub struct ProjectActionPayload {
    /// The action as it now stands; null when nothing changed.
    pub action: Option<ProjectAction>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Result of `defineIndicator`.
#[derive(SimpleObject)]
pub struct IndicatorPayload {
    /// The indicator; null when nothing changed.
    pub indicator: Option<Indicator>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Result of `recordMeasurement`.
#[derive(SimpleObject)]
pub struct MeasurementPayload {
    /// The measurement recorded; null when nothing changed.
    pub measurement: Option<Measurement>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Territorial project mutations.
#[derive(Default)]
pub struct ProjectMutation;

async fn project_payload(
    ctx: &Context<'_>,
    outcome: AppResult<projects::Project>,
) -> Result<TerritorialProjectPayload> {
    let today = request(ctx)?.today;
    let (project, user_errors) = split(outcome)?;
    let project = match project {
        Some(p) => assemble(ctx, vec![p], today).await?.pop(),
        None => None,
    };
    Ok(TerritorialProjectPayload {
        project,
        user_errors,
    })
}

async fn organisations(ctx: &Context<'_>, field: &str, list: &[ID]) -> AppResult<Vec<i64>> {
    let mut out = Vec::with_capacity(list.len());
    for id in list {
        out.push(organisation_id(ctx, field, id).await?);
    }
    Ok(out)
}

async fn action_content(ctx: &Context<'_>, input: ProjectActionInput) -> AppResult<ActionContent> {
    let decode_all = |field: &str, list: &[ID], kind: NodeType| -> AppResult<Vec<i64>> {
        list.iter()
            .map(|id| ids::decode_as(field, id, kind))
            .collect()
    };
    Ok(ActionContent {
        axis: input.axis,
        title: input.title,
        pilot: organisation_id(ctx, "input.pilotId", &input.pilot_id).await?,
        status: input.status.into(),
        budget_planned: input.budget_planned,
        budget_committed: input.budget_committed,
        starts_on: input.starts_on.map(|d| d.0),
        ends_on: input.ends_on.map(|d| d.0),
        links: Links {
            contributors: organisations(ctx, "input.contributorIds", &input.contributor_ids)
                .await?,
            competences: input.competences,
            resources: decode_all("input.resourceIds", &input.resource_ids, NodeType::Resource)?,
            agreements: decode_all(
                "input.agreementIds",
                &input.agreement_ids,
                NodeType::Agreement,
            )?,
        },
    })
}

fn action_payload(
    outcome: AppResult<entity::project_action::Model>,
    today: chrono::NaiveDate,
) -> Result<ProjectActionPayload> {
    let (action, user_errors) = split(outcome)?;
    Ok(ProjectActionPayload {
        action: action.map(|a| ProjectAction(a, today)),
        user_errors,
    })
}

#[Object]
impl ProjectMutation {
    /// Drafts a territorial project (an editor or admin of the drafting party); only its
    /// parties see it until it is signed.
    async fn draft_territorial_project(
        &self,
        ctx: &Context<'_>,
        input: DraftTerritorialProjectInput,
    ) -> Result<TerritorialProjectPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let mut parties = Vec::with_capacity(input.parties.len());
            for p in &input.parties {
                let id = organisation_id(ctx, "input.parties", &p.organisation_id).await?;
                parties.push((id, p.role.into()));
            }
            let new = NewProject {
                kind: input.kind.into(),
                title: input.title,
                description: input.description,
                drafted_by: organisation_id(ctx, "input.draftedById", &input.drafted_by_id).await?,
                parties,
                territory: organisations(ctx, "input.territory", &input.territory).await?,
                valid_from: input.valid_from.0,
                valid_to: input.valid_to.map(|d| d.0),
            };
            projects::lifecycle::draft(
                &st.db,
                &req.write_context(),
                new,
                input.idempotency_key.as_deref(),
            )
            .await
        };
        project_payload(ctx, outcome.await).await
    }

    /// Proposes a draft to its signatories (the drafting party's staff): it is frozen and
    /// each signatory is asked to sign.
    async fn propose_territorial_project(
        &self,
        ctx: &Context<'_>,
        input: ProjectStepInput,
    ) -> Result<TerritorialProjectPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::TerritorialProject)?;
            projects::lifecycle::propose(&st.db, &req.write_context(), id, input.version).await
        };
        project_payload(ctx, outcome.await).await
    }

    /// Signs (or rejects) a proposed project for one signatory (its admins). The last
    /// signature makes it signed and public; a rejection returns it to draft.
    async fn sign_territorial_project(
        &self,
        ctx: &Context<'_>,
        input: SignTerritorialProjectInput,
    ) -> Result<TerritorialProjectPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::TerritorialProject)?;
            let party = organisation_id(ctx, "input.partyId", &input.party_id).await?;
            projects::lifecycle::decide(
                &st.db,
                &req.write_context(),
                id,
                party,
                input.approve,
                input.reason,
            )
            .await
        };
        project_payload(ctx, outcome.await).await
    }

    /// Adds an action to a project (the staff of its drafter or pilots); its pilot must be a
    /// party.
    async fn add_project_action(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        input: ProjectActionInput,
    ) -> Result<ProjectActionPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let project = ids::decode_as("projectId", &project_id, NodeType::TerritorialProject)?;
            let content = action_content(ctx, input).await?;
            projects::actions::add(
                &st.db,
                &st.catalogue,
                &req.write_context(),
                project,
                content,
            )
            .await
        };
        action_payload(outcome.await, req.today)
    }

    /// Replaces an action's content based on its version (the staff of its pilot).
    async fn update_project_action(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i64,
        input: ProjectActionInput,
    ) -> Result<ProjectActionPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let id = ids::decode_as("id", &id, NodeType::ProjectAction)?;
            let content = action_content(ctx, input).await?;
            projects::actions::update(
                &st.db,
                &st.catalogue,
                &req.write_context(),
                id,
                version,
                content,
            )
            .await
        };
        action_payload(outcome.await, req.today)
    }

    /// Defines an indicator of a project (the staff of its drafter or pilots): its
    /// measurements come from its responsible party, a party of the project.
    async fn define_indicator(
        &self,
        ctx: &Context<'_>,
        input: DefineIndicatorInput,
    ) -> Result<IndicatorPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let project = ids::decode_as(
                "input.projectId",
                &input.project_id,
                NodeType::TerritorialProject,
            )?;
            let action = input
                .action_id
                .as_ref()
                .map(|a| ids::decode_as("input.actionId", a, NodeType::ProjectAction))
                .transpose()?;
            let new = NewIndicator {
                action,
                kind: input.kind.into(),
                competence: input.competence,
                name: input.name,
                unit: input.unit,
                direction: input.direction.into(),
                periodicity: input.periodicity.into(),
                method: input.method,
                source: input.source,
                responsible: organisation_id(ctx, "input.responsibleId", &input.responsible_id)
                    .await?,
                aggregation: input.aggregation.into(),
                baseline_value: input.baseline_value,
                baseline_period: input.baseline_period.0,
                targets: input
                    .targets
                    .iter()
                    .map(|t| (t.due_on.0, t.value))
                    .collect(),
            };
            projects::indicators::define(&st.db, &st.catalogue, &req.write_context(), project, new)
                .await
        };
        let (indicator, user_errors) = split(outcome.await)?;
        Ok(IndicatorPayload {
            indicator: indicator.map(|i| Indicator(i, req.today)),
            user_errors,
        })
    }

    /// Records a measurement of an indicator (the staff or mandated applications of its
    /// responsible party). A period that has a value takes a new one only as a correction
    /// naming it in `corrects`; the corrected value stays as history.
    async fn record_measurement(
        &self,
        ctx: &Context<'_>,
        input: RecordMeasurementInput,
    ) -> Result<MeasurementPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let indicator = ids::decode_as(
                "input.indicatorId",
                &input.indicator_id,
                NodeType::Indicator,
            )?;
            let commune = match &input.commune_id {
                Some(c) => Some(organisation_id(ctx, "input.communeId", c).await?),
                None => None,
            };
            let corrects = input
                .corrects
                .as_ref()
                .map(|c| ids::decode_as("input.corrects", c, NodeType::Measurement))
                .transpose()?;
            if input.value.is_some_and(|v| !v.is_finite()) {
                return Err(AppError::bad_input(
                    "input.value",
                    "a value is a finite number",
                ));
            }
            let new = NewMeasurement {
                indicator,
                commune,
                period: input.period.0,
                value: input.value,
                distribution: input.distribution,
                source: input.source,
                comment: input.comment,
                corrects,
            };
            projects::measurements::record_measurement(&st.db, &req.write_context(), new).await
        };
        let (measurement, user_errors) = split(outcome.await)?;
        Ok(MeasurementPayload {
            measurement: measurement.map(|m| Measurement(m, req.today)),
            user_errors,
        })
    }
}
