//! Exports of territorial projects' evidence, for the State services that consolidate it:
//! every indicator the caller may see, and the measurements that were current at the end of
//! the date asked (later corrections and values are left out, so an export as of a date can
//! be reproduced).

use chrono::NaiveDate;
use entity::{ProjectStatus, indicator, measurement, project_party, territorial_project};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Query,
};

use super::{Field, PAGE, Page, Ref, v};
use crate::auth::{Actor, Role};
use crate::error::AppResult;

/// The projects `actor` may see: signed ones, its organisation's, every one for State
/// services.
fn visible_projects(actor: &Actor) -> Option<Condition> {
    if actor.has(Role::State) || actor.has(Role::Superadmin) {
        return None;
    }
    let mut visible = Condition::any().add(
        territorial_project::Column::Id.in_subquery(
            Query::select()
                .column(territorial_project::Column::Id)
                .from(territorial_project::Entity)
                .and_where(territorial_project::Column::Status.eq(ProjectStatus::Signed))
                .to_owned(),
        ),
    );
    if let Some(org) = actor.organisation_id
        && !actor.roles.is_empty()
    {
        visible = visible.add(
            territorial_project::Column::Id.in_subquery(
                Query::select()
                    .column(project_party::Column::ProjectId)
                    .from(project_party::Entity)
                    .and_where(project_party::Column::OrganisationId.eq(org))
                    .to_owned(),
            ),
        );
    }
    Some(visible)
}

/// The ids of the projects `actor` may see.
async fn project_ids(txn: &DatabaseTransaction, actor: &Actor) -> AppResult<Vec<i64>> {
    let mut query = territorial_project::Entity::find()
        .select_only()
        .column(territorial_project::Column::Id);
    if let Some(visible) = visible_projects(actor) {
        query = query.filter(visible);
    }
    Ok(query.into_tuple().all(txn).await?)
}

/// A page of the indicators `actor` may see.
pub(super) async fn indicators(
    txn: &DatabaseTransaction,
    actor: &Actor,
    after: i64,
) -> AppResult<Page> {
    let projects = project_ids(txn, actor).await?;
    let rows = indicator::Entity::find()
        .filter(indicator::Column::Id.gt(after))
        .filter(indicator::Column::ProjectId.is_in(projects))
        .order_by_asc(indicator::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |r| r.id);
    let out = rows
        .into_iter()
        .map(|i| {
            vec![
                Field::Ref(Ref::Indicator(i.id)),
                Field::Ref(Ref::TerritorialProject(i.project_id)),
                v(&i.name),
                v(&i.unit),
                v(i.direction),
                v(i.periodicity),
                v(i.aggregation),
                v(&i.method),
                v(&i.source),
                Field::Ref(Ref::Organisation(i.responsible_id)),
                v(i.baseline_value),
                v(i.baseline_period),
            ]
        })
        .collect();
    Ok((out, last))
}

/// A page of the measurements of the indicators `actor` may see that were current at the
/// end of `at`.
pub(super) async fn measurements(
    txn: &DatabaseTransaction,
    actor: &Actor,
    at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let projects = project_ids(txn, actor).await?;
    let indicators: Vec<i64> = indicator::Entity::find()
        .select_only()
        .column(indicator::Column::Id)
        .filter(indicator::Column::ProjectId.is_in(projects))
        .into_tuple()
        .all(txn)
        .await?;
    let end_of_day = at
        .succ_opt()
        .unwrap_or(at)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let rows = measurement::Entity::find()
        .filter(measurement::Column::Id.gt(after))
        .filter(measurement::Column::IndicatorId.is_in(indicators))
        .filter(measurement::Column::RecordedAt.lt(end_of_day))
        .filter(
            Condition::any()
                .add(measurement::Column::SupersededAt.is_null())
                .add(measurement::Column::SupersededAt.gte(end_of_day)),
        )
        .order_by_asc(measurement::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |r| r.id);
    let out = rows
        .into_iter()
        .map(|m| {
            vec![
                Field::Ref(Ref::Measurement(m.id)),
                Field::Ref(Ref::Indicator(m.indicator_id)),
                m.commune_id.map_or(v(serde_json::Value::Null), |c| {
                    Field::Ref(Ref::Organisation(c))
                }),
                v(m.period),
                v(super::super::projects::measurements::disclosed(&m).then_some(m.value)),
                v(m.responses),
                v(super::super::projects::measurements::disclosed(&m)
                    .then(|| super::super::projects::measurements::distribution(&m))
                    .flatten()),
                v(&m.source),
                v(&m.comment),
                Field::Ref(Ref::Organisation(m.recorded_by_id)),
                v(m.recorded_at),
                m.corrects.map_or(v(serde_json::Value::Null), |c| {
                    Field::Ref(Ref::Measurement(c))
                }),
            ]
        })
        .collect();
    Ok((out, last))
}
