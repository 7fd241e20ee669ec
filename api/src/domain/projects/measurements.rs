//! Measurements: the values of an indicator that its responsible party contributes, for a
//! period and a commune or the project's whole territory. A correction supersedes the value
//! it names and keeps it as history; nothing is overwritten. The series they make are
//! computed in [`super::series`].

use chrono::NaiveDate;
use entity::{IndicatorKind, Periodicity, measurement};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use super::indicators::{by_ids_in, check_value, starts_period};
use super::{for_change, record};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::codes;
use crate::domain::referrals::barometer::THRESHOLD;
use crate::error::{AppError, AppResult};

/// A value to record.
#[derive(Debug, Clone)]
pub struct NewMeasurement {
    /// The indicator.
    pub indicator: i64,
    /// The commune measured; `None`: the project's whole territory.
    pub commune: Option<i64>,
    /// First day of the period measured.
    pub period: NaiveDate,
    /// The value, in the indicator's unit (not for a survey result).
    pub value: Option<f64>,
    /// A survey result: the number of answers per score, 1 to 5.
    pub distribution: Option<Vec<i64>>,
    /// Where it comes from.
    pub source: String,
    /// A comment.
    pub comment: Option<String>,
    /// The current measurement it corrects: required when the period already has a value.
    pub corrects: Option<i64>,
}

/// Records a measurement (the staff or mandated applications of the indicator's responsible
/// party). A period that has a value takes a new one only as a correction naming it.
pub async fn record_measurement(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewMeasurement,
) -> AppResult<measurement::Model> {
    crate::domain::authz::require_authenticated(&ctx.actor)?;
    let source = codes::check_text("input.source", &new.source, 2, 300)?;
    let comment = new
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| codes::check_text("input.comment", c, 1, 2000))
        .transpose()?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let indicator = by_ids_in(&txn, &[new.indicator])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("indicator {}", new.indicator)))?;
    let p = for_change(&txn, ctx, indicator.model.project_id).await?;
    let i = &indicator.model;
    if !ctx.actor.acts_for(
        i.responsible_id,
        &[Role::Editor, Role::Admin, Role::Partner],
    ) {
        return Err(AppError::Forbidden(
            "only the organisation responsible for the indicator records its measurements".into(),
        ));
    }
    if !starts_period(i.periodicity, new.period) {
        return Err(AppError::bad_input(
            "input.period",
            format!(
                "a period of this {:?} indicator starts on the first day of a {}",
                i.periodicity,
                match i.periodicity {
                    entity::Periodicity::Monthly => "month",
                    entity::Periodicity::Quarterly => "quarter (January, April, July, October)",
                    entity::Periodicity::Yearly => "year (1 January)",
                }
            )
            .to_lowercase(),
        ));
    }
    if new.period < i.baseline_period || new.period > ctx.now.date_naive() {
        return Err(AppError::bad_input(
            "input.period",
            "a measured period lies between the baseline's and today",
        ));
    }
    if new.commune.is_some_and(|c| !p.communes.contains(&c)) {
        return Err(AppError::bad_input(
            "input.communeId",
            "this commune is not in the project's territory",
        ));
    }
    let (value, distribution) = match (i.kind, new.value, &new.distribution) {
        (IndicatorKind::Value, Some(v), None) => {
            check_value("input.value", &i.unit, v)?;
            (v, None)
        }
        (IndicatorKind::Value, _, _) => {
            return Err(AppError::bad_input(
                "input.value",
                "a measurement of this indicator is a value, without a distribution",
            ));
        }
        (IndicatorKind::SatisfactionSurvey, None, Some(counts)) => {
            let counts = survey_counts(counts)?;
            let (mean, _) = mean_score(&counts);
            (mean, Some(counts))
        }
        (IndicatorKind::SatisfactionSurvey, _, _) => {
            return Err(AppError::bad_input(
                "input.distribution",
                "a survey result is the number of answers per score, 1 to 5, without a value",
            ));
        }
        (IndicatorKind::ReferralSatisfaction, _, _) => {
            return Err(AppError::bad_input(
                "input.indicatorId",
                "this barometer is fed by the ratings of referrals, not by measurements",
            ));
        }
    };
    let current = measurement::Entity::find()
        .filter(measurement::Column::IndicatorId.eq(i.id))
        .filter(match new.commune {
            Some(c) => measurement::Column::CommuneId.eq(c),
            None => measurement::Column::CommuneId.is_null(),
        })
        .filter(measurement::Column::Period.eq(new.period))
        .filter(measurement::Column::SupersededAt.is_null())
        .one(&txn)
        .await?;
    match (&current, new.corrects) {
        (None, None) => {}
        (Some(c), Some(named)) if c.id == named => {
            let res = measurement::Entity::update_many()
                .col_expr(measurement::Column::SupersededAt, Some(ctx.now).into())
                .filter(measurement::Column::Id.eq(c.id))
                .filter(measurement::Column::SupersededAt.is_null())
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::Conflict(
                    "this value was corrected concurrently".into(),
                ));
            }
        }
        (Some(c), _) => {
            return Err(AppError::Conflict(format!(
                "this period already has a value (measurement {}): correct it by naming it in `corrects`",
                c.id
            )));
        }
        (None, Some(_)) => {
            return Err(AppError::Conflict(
                "the measurement named in `corrects` is not this period's current value".into(),
            ));
        }
    }
    let created = measurement::Entity::insert(measurement::ActiveModel {
        indicator_id: Set(i.id),
        commune_id: Set(new.commune),
        period: Set(new.period),
        value: Set(value),
        distribution: Set(distribution.map(|c| json!(c).to_string())),
        responses: Set(distribution.map(|c| c.iter().sum())),
        source: Set(source),
        comment: Set(comment),
        recorded_by_id: Set(i.responsible_id),
        recorded_at: Set(ctx.now),
        corrects: Set(current.as_ref().map(|c| c.id)),
        superseded_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    record(
        &txn,
        ctx,
        "recordMeasurement",
        &p,
        Operation::Updated,
        (current.as_ref().map(snapshot), Some(snapshot(&created))),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

fn snapshot(m: &measurement::Model) -> serde_json::Value {
    let shown = disclosed(m);
    json!({
        "measurementId": m.id, "indicatorId": m.indicator_id, "communeId": m.commune_id,
        "period": m.period, "value": shown.then_some(m.value), "responses": m.responses,
        "source": m.source, "corrects": m.corrects,
    })
}

/// Most answers one survey count may hold: more than the population of France. It keeps
/// every sum of counts (a score's total, a territory's over all its communes) far from
/// overflowing.
const MAX_SURVEY_COUNT: i64 = 100_000_000;

/// Checks a survey result: five counts, none negative or above [`MAX_SURVEY_COUNT`], at least
/// one answer.
pub(super) fn survey_counts(counts: &[i64]) -> AppResult<[i64; 5]> {
    let counts: [i64; 5] = counts.try_into().map_err(|_| {
        AppError::bad_input(
            "input.distribution",
            "five counts: the answers scoring 1, 2, 3, 4 and 5",
        )
    })?;
    if counts.iter().any(|c| !(0..=MAX_SURVEY_COUNT).contains(c)) || counts.iter().sum::<i64>() < 1
    {
        return Err(AppError::bad_input(
            "input.distribution",
            format!("counts are from 0 to {MAX_SURVEY_COUNT} and add up to at least one answer"),
        ));
    }
    Ok(counts)
}

/// The mean score of `counts` (answers scoring 1 to 5) and the number of answers.
pub(super) fn mean_score(counts: &[i64; 5]) -> (f64, i64) {
    let n: i64 = counts.iter().sum();
    let total: i64 = counts.iter().zip(1..).map(|(c, score)| c * score).sum();
    (if n > 0 { total as f64 / n as f64 } else { 0.0 }, n)
}

/// The answers per score of a survey result.
pub fn distribution(m: &measurement::Model) -> Option<[i64; 5]> {
    m.distribution
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
}

/// Whether a measurement's value may be shown: always, except a survey result of fewer than
/// [`THRESHOLD`] answers, so that no person can be singled out.
pub fn disclosed(m: &measurement::Model) -> bool {
    m.responses.is_none_or(|n| n >= THRESHOLD as i64)
}

/// The first day of the period of `periodicity` holding `day`.
pub fn period_of(periodicity: Periodicity, day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    let month = match periodicity {
        Periodicity::Monthly => day.month(),
        Periodicity::Quarterly => (day.month() - 1) / 3 * 3 + 1,
        Periodicity::Yearly => 1,
    };
    NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
}
