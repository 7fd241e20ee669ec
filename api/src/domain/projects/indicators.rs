//! A project's indicators: what is measured (name, unit, direction, periodicity, method,
//! source), by which party, from which baseline, toward which dated targets, and how the
//! communes' values make a territory's. Defined by the project's planners.

use chrono::{Datelike, NaiveDate};
use entity::{Aggregation, Direction, IndicatorKind, Periodicity, indicator, indicator_target};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use super::lifecycle::may_plan;
use super::{for_change, record};
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::codes;
use crate::error::{AppError, AppResult};

/// An indicator with its targets, in date order.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// The indicator.
    pub model: indicator::Model,
    /// Its targets, by due date.
    pub targets: Vec<indicator_target::Model>,
}

/// An indicator to define.
#[derive(Debug, Clone)]
pub struct NewIndicator {
    /// The action it follows, if one (of the same project).
    pub action: Option<i64>,
    /// What feeds it.
    pub kind: IndicatorKind,
    /// For a barometer of referral ratings: only the referrals about this competence.
    pub competence: Option<String>,
    /// Name.
    pub name: String,
    /// Unit: `%` (0 to 100), `count` (whole, not negative), `score` (a satisfaction
    /// barometer's mean score, 1 to 5), or any other unit of measure.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// How often it is measured.
    pub periodicity: Periodicity,
    /// How it is computed.
    pub method: String,
    /// Where its figures come from.
    pub source: String,
    /// The party contributing its measurements.
    pub responsible: i64,
    /// How communes' values make a territory's.
    pub aggregation: Aggregation,
    /// The value it starts from.
    pub baseline_value: f64,
    /// The period of the baseline (first day of a period).
    pub baseline_period: NaiveDate,
    /// Dated targets.
    pub targets: Vec<(NaiveDate, f64)>,
}

/// The unit of satisfaction barometers: a mean score from 1 to 5.
pub const SCORE: &str = "score";

/// Whether `day` starts a period of `periodicity`.
pub fn starts_period(periodicity: Periodicity, day: NaiveDate) -> bool {
    day.day() == 1
        && match periodicity {
            Periodicity::Monthly => true,
            Periodicity::Quarterly => (day.month() - 1).is_multiple_of(3),
            Periodicity::Yearly => day.month() == 1,
        }
}

/// Checks that `value` is a value of `unit`.
pub fn check_value(field: &str, unit: &str, value: f64) -> AppResult<()> {
    let fails = |why: &str| Err(AppError::bad_input(field, why.to_owned()));
    if !value.is_finite() {
        return fails("a value is a finite number");
    }
    match unit {
        "%" if !(0.0..=100.0).contains(&value) => fails("a percentage is between 0 and 100"),
        "count" if value < 0.0 || value.fract() != 0.0 => {
            fails("a count is a whole number, not negative")
        }
        SCORE if !(1.0..=5.0).contains(&value) => fails("a score is between 1 and 5"),
        _ => Ok(()),
    }
}

/// Defines an indicator of project `project` (its planners).
pub async fn define(
    db: &DatabaseConnection,
    catalogue: &crate::domain::competences::Catalogue,
    ctx: &WriteContext,
    project: i64,
    new: NewIndicator,
) -> AppResult<Indicator> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    let name = codes::check_text("input.name", &new.name, 3, 200)?;
    let unit = codes::check_text("input.unit", &new.unit, 1, 32)?;
    let method = codes::check_text("input.method", &new.method, 3, 2000)?;
    let source = codes::check_text("input.source", &new.source, 2, 300)?;
    let barometer = new.kind != IndicatorKind::Value;
    if barometer != (unit == SCORE) {
        return Err(AppError::bad_input(
            "input.unit",
            "a satisfaction barometer, and only one, is measured in `score` (1 to 5)",
        ));
    }
    match (&new.competence, new.kind) {
        (None, _) => {}
        (Some(code), IndicatorKind::ReferralSatisfaction) if catalogue.index_of(code).is_some() => {
        }
        (Some(code), IndicatorKind::ReferralSatisfaction) => {
            return Err(AppError::bad_input(
                "input.competence",
                format!("`{code}` is not a competence of the catalogue"),
            ));
        }
        (Some(_), _) => {
            return Err(AppError::bad_input(
                "input.competence",
                "only a barometer of referral ratings is limited to a competence",
            ));
        }
    }
    if !starts_period(new.periodicity, new.baseline_period) {
        return Err(AppError::bad_input(
            "input.baselinePeriod",
            "the baseline's period starts on the first day of a period of the indicator's periodicity",
        ));
    }
    check_value("input.baselineValue", &unit, new.baseline_value)?;
    if new.targets.len() > 50 {
        return Err(AppError::bad_input("input.targets", "at most 50 targets"));
    }
    for &(due, value) in &new.targets {
        if due <= new.baseline_period {
            return Err(AppError::bad_input(
                "input.targets",
                format!("the target due {due} is not after the baseline's period"),
            ));
        }
        check_value("input.targets", &unit, value)?;
    }
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let p = for_change(&txn, ctx, project).await?;
    if !may_plan(&p, &ctx.actor) {
        return Err(AppError::Forbidden(
            "only the staff of the project's drafter or pilots define indicators".into(),
        ));
    }
    if !p.party_ids().contains(&new.responsible) {
        return Err(AppError::bad_input(
            "input.responsibleId",
            "the organisation responsible for the measurements is a party of the project",
        ));
    }
    if let Some(action) = new.action {
        let own = entity::project_action::Entity::find_by_id(action)
            .one(&txn)
            .await?
            .is_some_and(|a| a.project_id == project);
        if !own {
            return Err(AppError::bad_input(
                "input.actionId",
                "not an action of this project",
            ));
        }
    }
    let model = indicator::Entity::insert(indicator::ActiveModel {
        project_id: Set(project),
        action_id: Set(new.action),
        kind: Set(new.kind),
        competence_code: Set(new.competence.clone()),
        name: Set(name),
        unit: Set(unit),
        direction: Set(new.direction),
        periodicity: Set(new.periodicity),
        method: Set(method),
        source: Set(source),
        responsible_id: Set(new.responsible),
        aggregation: Set(new.aggregation),
        baseline_value: Set(new.baseline_value),
        baseline_period: Set(new.baseline_period),
        version: Set(1),
        updated_at: Set(ctx.now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    if !new.targets.is_empty() {
        indicator_target::Entity::insert_many(new.targets.iter().map(|&(due, value)| {
            indicator_target::ActiveModel {
                indicator_id: Set(model.id),
                due_on: Set(due),
                value: Set(value),
                ..Default::default()
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    record(
        &txn,
        ctx,
        "defineIndicator",
        &p,
        Operation::Updated,
        (
            None,
            Some(json!({
                "indicatorId": model.id, "kind": model.kind, "name": model.name, "unit": model.unit,
                "responsibleId": model.responsible_id, "baselineValue": model.baseline_value,
                "baselinePeriod": model.baseline_period, "targets": new.targets.len(),
            })),
        ),
    )
    .await?;
    let out = by_ids_in(&txn, &[model.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    txn.commit().await?;
    Ok(out)
}

/// Indicators by id, with their targets, whoever may see them.
pub async fn by_ids_in<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Indicator>> {
    let rows = indicator::Entity::find()
        .filter(indicator::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(indicator::Column::Id)
        .all(db)
        .await?;
    with_targets(db, rows).await
}

/// The indicators of `projects`, with their targets.
pub async fn of_projects<C: ConnectionTrait>(
    db: &C,
    projects: &[i64],
) -> AppResult<Vec<Indicator>> {
    let rows = indicator::Entity::find()
        .filter(indicator::Column::ProjectId.is_in(projects.to_vec()))
        .order_by_asc(indicator::Column::Id)
        .all(db)
        .await?;
    with_targets(db, rows).await
}

async fn with_targets<C: ConnectionTrait>(
    db: &C,
    rows: Vec<indicator::Model>,
) -> AppResult<Vec<Indicator>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut targets = indicator_target::Entity::find()
        .filter(indicator_target::Column::IndicatorId.is_in(ids))
        .order_by_asc(indicator_target::Column::DueOn)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let id = model.id;
            Indicator {
                model,
                targets: targets.extract_if(.., |t| t.indicator_id == id).collect(),
            }
        })
        .collect())
}

/// One indicator, when `actor` may see its project.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    actor: &crate::auth::Actor,
    id: i64,
) -> AppResult<Option<(Indicator, super::Project)>> {
    let Some(i) = by_ids_in(db, &[id]).await?.pop() else {
        return Ok(None);
    };
    Ok(super::visible(db, actor, i.model.project_id)
        .await?
        .map(|p| (i, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn periods_start_on_the_first_day_of_their_month_quarter_or_year() {
        assert!(starts_period(Periodicity::Monthly, day(2025, 5, 1)));
        assert!(!starts_period(Periodicity::Monthly, day(2025, 5, 2)));
        assert!(starts_period(Periodicity::Quarterly, day(2025, 10, 1)));
        assert!(!starts_period(Periodicity::Quarterly, day(2025, 5, 1)));
        assert!(starts_period(Periodicity::Yearly, day(2025, 1, 1)));
        assert!(!starts_period(Periodicity::Yearly, day(2025, 7, 1)));
    }

    #[test]
    fn values_fit_their_unit() {
        assert!(check_value("v", "%", 100.0).is_ok());
        assert!(check_value("v", "%", 100.5).is_err());
        assert!(check_value("v", "count", 3.0).is_ok());
        assert!(check_value("v", "count", 2.5).is_err());
        assert!(check_value("v", "count", -1.0).is_err());
        assert!(check_value("v", "t", -12.5).is_ok());
        assert!(check_value("v", "t", f64::NAN).is_err());
        assert!(check_value("v", SCORE, 4.2).is_ok());
        assert!(check_value("v", SCORE, 0.5).is_err());
    }
}
