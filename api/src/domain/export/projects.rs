//! Exports of territorial projects' evidence, for the State services that consolidate it:
//! every indicator the caller may see, and the measurements that were current at the end of
//! the date asked (later corrections and values are left out, so an export as of a date can
//! be reproduced).

use chrono::NaiveDate;
use entity::{indicator, measurement, territorial_project};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Field, PAGE, Page, Ref, v};
use crate::auth::Actor;
use crate::domain::projects;
use crate::error::AppResult;

/// The ids of the projects `actor` may see (the domain's rule), as a subquery.
fn visible_ids(actor: &Actor) -> SelectStatement {
    let mut ids = Query::select()
        .column(territorial_project::Column::Id)
        .from(territorial_project::Entity)
        .to_owned();
    if let Some(visible) = projects::visible_condition(actor) {
        ids.cond_where(visible);
    }
    ids
}

/// A page of the indicators `actor` may see.
pub(super) async fn indicators(
    txn: &DatabaseTransaction,
    actor: &Actor,
    after: i64,
) -> AppResult<Page> {
    let rows = indicator::Entity::find()
        .filter(indicator::Column::Id.gt(after))
        .filter(indicator::Column::ProjectId.in_subquery(visible_ids(actor)))
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
    let indicators = Query::select()
        .column(indicator::Column::Id)
        .from(indicator::Entity)
        .and_where(indicator::Column::ProjectId.in_subquery(visible_ids(actor)))
        .to_owned();
    let end_of_day = at
        .succ_opt()
        .unwrap_or(at)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let rows = measurement::Entity::find()
        .filter(measurement::Column::Id.gt(after))
        .filter(measurement::Column::IndicatorId.in_subquery(indicators))
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
