//! Measurements: the values of an indicator that its responsible party contributes, for a
//! period and a commune or the project's whole territory. A correction supersedes the value
//! it names and keeps it as history; nothing is overwritten. The series, the progress toward
//! the targets and the aggregation of communes' values into a territory's are computed here.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use entity::{
    Aggregation, Direction, IndicatorKind, Periodicity, measurement, organisation, referral,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use super::indicators::{Indicator, by_ids_in, check_value, starts_period};
use super::{for_change, record};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::referrals::barometer::THRESHOLD;
use crate::domain::{codes, territory};
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

/// Checks a survey result: five counts, none negative, at least one answer.
fn survey_counts(counts: &[i64]) -> AppResult<[i64; 5]> {
    let counts: [i64; 5] = counts.try_into().map_err(|_| {
        AppError::bad_input(
            "input.distribution",
            "five counts: the answers scoring 1, 2, 3, 4 and 5",
        )
    })?;
    if counts.iter().any(|c| *c < 0) || counts.iter().sum::<i64>() < 1 {
        return Err(AppError::bad_input(
            "input.distribution",
            "counts are not negative and add up to at least one answer",
        ));
    }
    Ok(counts)
}

/// The mean score of `counts` (answers scoring 1 to 5) and the number of answers.
fn mean_score(counts: &[i64; 5]) -> (f64, i64) {
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

/// The point of a barometer: the mean score when there are at least [`THRESHOLD`] answers.
fn barometer_point(period: NaiveDate, counts: &[i64; 5], communes: usize) -> Point {
    let (mean, n) = mean_score(counts);
    Point {
        period,
        value: (n >= THRESHOLD as i64).then_some(mean),
        communes,
        responses: Some(n),
    }
}

/// The series of a barometer fed by referral ratings: per period, the ratings of the
/// referrals about `communes` (and the indicator's competence) filed in it.
async fn referral_series<C: ConnectionTrait>(
    db: &C,
    indicator: &Indicator,
    communes: &[i64],
) -> AppResult<Vec<Point>> {
    let i = &indicator.model;
    let since = i
        .baseline_period
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let mut by_period: BTreeMap<NaiveDate, ([i64; 5], Vec<i64>)> = BTreeMap::new();
    for chunk in communes.chunks(5000) {
        let mut query = referral::Entity::find()
            .select_only()
            .column(referral::Column::CommuneId)
            .column(referral::Column::CreatedAt)
            .column(referral::Column::Satisfaction)
            .filter(referral::Column::CommuneId.is_in(chunk.to_vec()))
            .filter(referral::Column::Satisfaction.is_not_null())
            .filter(referral::Column::CreatedAt.gte(since));
        if let Some(code) = &i.competence_code {
            query = query.filter(referral::Column::CompetenceCode.eq(code.clone()));
        }
        let rows: Vec<(i64, chrono::DateTime<chrono::Utc>, Option<i32>)> =
            query.into_tuple().all(db).await?;
        for (commune, at, score) in rows {
            let Some(slot) = score
                .and_then(|s| usize::try_from(s - 1).ok())
                .filter(|s| *s < 5)
            else {
                continue;
            };
            let entry = by_period
                .entry(period_of(i.periodicity, at.date_naive()))
                .or_default();
            entry.0[slot] += 1;
            entry.1.push(commune);
        }
    }
    Ok(by_period
        .into_iter()
        .map(|(period, (counts, mut seen))| {
            seen.sort_unstable();
            seen.dedup();
            barometer_point(period, &counts, seen.len())
        })
        .collect())
}

/// Every measurement of `indicators`, current and superseded, by period then record order.
pub async fn of_indicators<C: ConnectionTrait>(
    db: &C,
    indicators: &[i64],
) -> AppResult<Vec<measurement::Model>> {
    Ok(measurement::Entity::find()
        .filter(measurement::Column::IndicatorId.is_in(indicators.to_vec()))
        .order_by_asc(measurement::Column::Period)
        .order_by_asc(measurement::Column::Id)
        .all(db)
        .await?)
}

/// One point of an indicator's series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// First day of the period.
    pub period: NaiveDate,
    /// The territory's value; withheld (`None`) for a barometer of fewer than
    /// [`THRESHOLD`] answers.
    pub value: Option<f64>,
    /// How many communes' values made it (0: a value for the whole territory).
    pub communes: usize,
    /// For a barometer: the number of answers.
    pub responses: Option<i64>,
}

/// The legal populations of `communes` (those the reference ships).
async fn populations<C: ConnectionTrait>(db: &C, communes: &[i64]) -> AppResult<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for chunk in communes.chunks(5000) {
        let rows: Vec<(i64, Option<i64>)> = organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .column(organisation::Column::Population)
            .filter(organisation::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(id, p)| p.map(|p| (id, p))));
    }
    Ok(out)
}

/// Combines communes' values by `rule`; `None` when nothing can be combined (no value, or
/// for a weighted mean no commune with a known population).
pub fn combine(
    rule: Aggregation,
    values: &[(i64, f64)],
    population: &HashMap<i64, i64>,
) -> Option<f64> {
    match rule {
        Aggregation::Sum => (!values.is_empty()).then(|| values.iter().map(|(_, v)| v).sum()),
        Aggregation::PopulationWeightedMean => {
            let (mut weighted, mut people) = (0.0, 0i64);
            for (c, v) in values {
                if let Some(&p) = population.get(c) {
                    weighted += v * p as f64;
                    people += p;
                }
            }
            (people > 0).then(|| weighted / people as f64)
        }
    }
}

/// An indicator with every measurement of it (current and superseded) and its series.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The indicator and its targets.
    pub indicator: Indicator,
    /// Every measurement, by period then record order.
    pub measurements: Vec<measurement::Model>,
    /// The project territory's series.
    pub series: Vec<Point>,
}

/// The evidence of each of `ids`, in a few queries whatever their number.
pub async fn evidence<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Evidence>> {
    evidence_of(db, by_ids_in(db, ids).await?).await
}

/// [`evidence`] of indicators already read.
pub async fn evidence_of<C: ConnectionTrait>(
    db: &C,
    indicators: Vec<Indicator>,
) -> AppResult<HashMap<i64, Evidence>> {
    let ids: Vec<i64> = indicators.iter().map(|i| i.model.id).collect();
    let mut rows = of_indicators(db, &ids).await?;
    let weighted: Vec<i64> = indicators
        .iter()
        .filter(|i| i.model.aggregation == Aggregation::PopulationWeightedMean)
        .map(|i| i.model.id)
        .collect();
    let mut communes: Vec<i64> = rows
        .iter()
        .filter(|m| weighted.contains(&m.indicator_id))
        .filter_map(|m| m.commune_id)
        .collect();
    communes.sort_unstable();
    communes.dedup();
    let population = populations(db, &communes).await?;
    // The territories of the projects whose barometers the referrals feed, read at once.
    let mut fed: Vec<i64> = indicators
        .iter()
        .filter(|i| i.model.kind == IndicatorKind::ReferralSatisfaction)
        .map(|i| i.model.project_id)
        .collect();
    fed.sort_unstable();
    fed.dedup();
    let territories: HashMap<i64, Vec<i64>> = if fed.is_empty() {
        HashMap::new()
    } else {
        super::by_ids_in(db, &fed)
            .await?
            .into_iter()
            .map(|p| (p.model.id, p.communes))
            .collect()
    };
    let mut out = HashMap::new();
    for indicator in indicators {
        let id = indicator.model.id;
        let measurements: Vec<_> = rows.extract_if(.., |m| m.indicator_id == id).collect();
        let series = if indicator.model.kind == IndicatorKind::ReferralSatisfaction {
            let territory = territories
                .get(&indicator.model.project_id)
                .map_or(&[][..], Vec::as_slice);
            referral_series(db, &indicator, territory).await?
        } else {
            series_from(&indicator, &measurements, None, &population)
        };
        out.insert(
            id,
            Evidence {
                indicator,
                measurements,
                series,
            },
        );
    }
    Ok(out)
}

/// The series of `indicator` from its `rows`, over the communes in `within` (all of the
/// project's when `None`): per period, the whole-territory value where one is recorded (only
/// when `within` is `None`), else the communes' current values combined by the indicator's
/// rule.
pub fn series_from(
    indicator: &Indicator,
    rows: &[measurement::Model],
    within: Option<&[i64]>,
    population: &HashMap<i64, i64>,
) -> Vec<Point> {
    if indicator.model.kind == IndicatorKind::SatisfactionSurvey {
        return survey_series(rows, within);
    }
    let mut whole: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut by_commune: BTreeMap<NaiveDate, Vec<(i64, f64)>> = BTreeMap::new();
    for m in rows.iter().filter(|m| m.superseded_at.is_none()) {
        match m.commune_id {
            None if within.is_none() => {
                whole.insert(m.period, m.value);
            }
            None => {}
            Some(c) if within.is_none_or(|w| w.contains(&c)) => {
                by_commune.entry(m.period).or_default().push((c, m.value));
            }
            Some(_) => {}
        }
    }
    let mut points: BTreeMap<NaiveDate, Point> = BTreeMap::new();
    for (period, values) in by_commune {
        if let Some(value) = combine(indicator.model.aggregation, &values, population) {
            let communes = values.len();
            points.insert(
                period,
                Point {
                    period,
                    value: Some(value),
                    communes,
                    responses: None,
                },
            );
        }
    }
    for (period, value) in whole {
        points.insert(
            period,
            Point {
                period,
                value: Some(value),
                communes: 0,
                responses: None,
            },
        );
    }
    points.into_values().collect()
}

/// The series of a barometer fed by survey results: per period, the answers recorded for the
/// whole territory, else those of the communes added up.
fn survey_series(rows: &[measurement::Model], within: Option<&[i64]>) -> Vec<Point> {
    let mut whole: BTreeMap<NaiveDate, [i64; 5]> = BTreeMap::new();
    let mut by_commune: BTreeMap<NaiveDate, ([i64; 5], usize)> = BTreeMap::new();
    for m in rows.iter().filter(|m| m.superseded_at.is_none()) {
        let Some(counts) = distribution(m) else {
            continue;
        };
        match m.commune_id {
            None if within.is_none() => {
                whole.insert(m.period, counts);
            }
            Some(c) if within.is_none_or(|w| w.contains(&c)) => {
                let entry = by_commune.entry(m.period).or_default();
                for (total, n) in entry.0.iter_mut().zip(counts) {
                    *total += n;
                }
                entry.1 += 1;
            }
            _ => {}
        }
    }
    let mut points: BTreeMap<NaiveDate, Point> = by_commune
        .into_iter()
        .map(|(period, (counts, communes))| (period, barometer_point(period, &counts, communes)))
        .collect();
    for (period, counts) in whole {
        points.insert(period, barometer_point(period, &counts, 0));
    }
    points.into_values().collect()
}

/// The series of `indicator` for the communes `organisation` covers on `at` (an EPCI, a
/// département…): their values combined by the indicator's rule.
pub async fn series_of_territory<C: ConnectionTrait>(
    db: &C,
    indicator: &Indicator,
    organisation: i64,
    at: NaiveDate,
) -> AppResult<Vec<Point>> {
    let communes = territory::communes_of(db, organisation, at).await?;
    series_within(db, indicator, &communes).await
}

/// The series of `indicator` over `communes`, combined by the indicator's rule.
pub async fn series_within<C: ConnectionTrait>(
    db: &C,
    indicator: &Indicator,
    communes: &[i64],
) -> AppResult<Vec<Point>> {
    if indicator.model.kind == IndicatorKind::ReferralSatisfaction {
        return referral_series(db, indicator, communes).await;
    }
    let rows = of_indicators(db, &[indicator.model.id]).await?;
    let population = match indicator.model.aggregation {
        Aggregation::PopulationWeightedMean => populations(db, communes).await?,
        Aggregation::Sum => HashMap::new(),
    };
    Ok(series_from(indicator, &rows, Some(communes), &population))
}

/// Where an indicator stands against its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The latest value shown.
    pub latest: Point,
    /// The target it is measured against: the first due on or after the latest period, else
    /// the last.
    pub target: Option<(NaiveDate, f64)>,
    /// Share of the way from the baseline to that target (1.0: reached; negative: the wrong
    /// way); `None` without a target or when the target equals the baseline.
    pub share: Option<f64>,
    /// Whether the target's value is reached, in the indicator's direction.
    pub reached: Option<bool>,
}

/// The progress of `indicator` given its `series`.
pub fn progress(indicator: &Indicator, series: &[Point]) -> Option<Progress> {
    let latest = series.iter().rev().find(|p| p.value.is_some())?.clone();
    let value = latest.value?;
    let target = indicator
        .targets
        .iter()
        .find(|t| t.due_on >= latest.period)
        .or(indicator.targets.last())
        .map(|t| (t.due_on, t.value));
    let baseline = indicator.model.baseline_value;
    let share = target
        .filter(|(_, v)| (v - baseline).abs() > f64::EPSILON)
        .map(|(_, v)| (value - baseline) / (v - baseline));
    let reached = target.map(|(_, v)| match indicator.model.direction {
        Direction::Increase => value >= v,
        Direction::Decrease => value <= v,
    });
    Some(Progress {
        latest,
        target,
        share,
        reached,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use entity::{Periodicity, indicator, indicator_target};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn decreasing(targets: &[(NaiveDate, f64)]) -> Indicator {
        Indicator {
            model: indicator::Model {
                id: 1,
                project_id: 1,
                action_id: None,
                kind: IndicatorKind::Value,
                competence_code: None,
                name: "Tonnes de déchets résiduels".into(),
                unit: "t".into(),
                direction: Direction::Decrease,
                periodicity: Periodicity::Yearly,
                method: "pesées".into(),
                source: "SIG".into(),
                responsible_id: 1,
                aggregation: Aggregation::Sum,
                baseline_value: 100.0,
                baseline_period: day(2020, 1, 1),
                version: 1,
                updated_at: chrono::DateTime::default(),
            },
            targets: targets
                .iter()
                .map(|&(due_on, value)| indicator_target::Model {
                    id: 0,
                    indicator_id: 1,
                    due_on,
                    value,
                })
                .collect(),
        }
    }

    fn point(period: NaiveDate, value: f64) -> Point {
        Point {
            period,
            value: Some(value),
            communes: 0,
            responses: None,
        }
    }

    #[test]
    fn a_sum_adds_and_a_weighted_mean_weighs_by_known_populations() {
        let population = HashMap::from([(1, 1000), (2, 3000)]);
        let values = [(1, 10.0), (2, 30.0), (3, 99.0)];
        assert_eq!(combine(Aggregation::Sum, &values, &population), Some(139.0));
        // Commune 3 has no known population: it does not weigh.
        assert_eq!(
            combine(Aggregation::PopulationWeightedMean, &values, &population),
            Some(25.0)
        );
        assert_eq!(combine(Aggregation::Sum, &[], &population), None);
        assert_eq!(
            combine(
                Aggregation::PopulationWeightedMean,
                &[(3, 1.0)],
                &population
            ),
            None
        );
    }

    #[test]
    fn progress_runs_from_the_baseline_to_the_next_target_in_the_indicator_direction() {
        let i = decreasing(&[(day(2025, 1, 1), 80.0), (day(2030, 1, 1), 50.0)]);
        let p = progress(&i, &[point(day(2024, 1, 1), 90.0)]).expect("a latest value");
        assert_eq!(p.target, Some((day(2025, 1, 1), 80.0)));
        assert_eq!(p.share, Some(0.5));
        assert_eq!(p.reached, Some(false));
        let p = progress(&i, &[point(day(2026, 1, 1), 70.0)]).expect("a latest value");
        assert_eq!(p.target, Some((day(2030, 1, 1), 50.0)));
        assert_eq!(p.share, Some(0.6));
        // Past every target: measured against the last; moving the wrong way is negative.
        let p = progress(&i, &[point(day(2031, 1, 1), 110.0)]).expect("a latest value");
        assert_eq!(p.target, Some((day(2030, 1, 1), 50.0)));
        assert_eq!(p.share, Some(-0.2));
        assert_eq!(progress(&i, &[]), None);
        let none = decreasing(&[]);
        let p = progress(&none, &[point(day(2024, 1, 1), 90.0)]).expect("a latest value");
        assert_eq!((p.target, p.share, p.reached), (None, None, None));
    }

    #[test]
    fn a_whole_territory_value_wins_over_the_communes_of_its_period() {
        let i = decreasing(&[]);
        let row =
            |id: i64, commune: Option<i64>, period: NaiveDate, value: f64, superseded: bool| {
                measurement::Model {
                    id,
                    indicator_id: 1,
                    commune_id: commune,
                    period,
                    value,
                    distribution: None,
                    responses: None,
                    source: "SIG".into(),
                    comment: None,
                    recorded_by_id: 1,
                    recorded_at: chrono::DateTime::default(),
                    corrects: None,
                    superseded_at: superseded.then(chrono::DateTime::default),
                }
            };
        let rows = [
            row(1, Some(7), day(2021, 1, 1), 5.0, false),
            row(2, Some(8), day(2021, 1, 1), 6.0, false),
            row(3, Some(8), day(2021, 1, 1), 60.0, true),
            row(4, None, day(2022, 1, 1), 40.0, false),
            row(5, Some(7), day(2022, 1, 1), 1.0, false),
        ];
        let none = HashMap::new();
        let all = series_from(&i, &rows, None, &none);
        assert_eq!(
            all,
            vec![
                Point {
                    period: day(2021, 1, 1),
                    value: Some(11.0),
                    communes: 2,
                    responses: None,
                },
                Point {
                    period: day(2022, 1, 1),
                    value: Some(40.0),
                    communes: 0,
                    responses: None,
                },
            ]
        );
        let seven = series_from(&i, &rows, Some(&[7]), &none);
        assert_eq!(
            seven.iter().map(|p| p.value).collect::<Vec<_>>(),
            vec![Some(5.0), Some(1.0)]
        );
    }

    #[test]
    fn a_barometer_adds_up_answers_and_withholds_a_mean_below_five() {
        let p = barometer_point(day(2025, 1, 1), &[0, 0, 1, 2, 1], 1);
        assert_eq!((p.value, p.responses), (None, Some(4)));
        let p = barometer_point(day(2025, 1, 1), &[1, 0, 1, 2, 1], 2);
        assert_eq!((p.value, p.responses), (Some(3.4), Some(5)));
        assert_eq!(
            period_of(Periodicity::Quarterly, day(2025, 8, 17)),
            day(2025, 7, 1)
        );
        assert_eq!(
            period_of(Periodicity::Yearly, day(2025, 8, 17)),
            day(2025, 1, 1)
        );
        assert_eq!(
            period_of(Periodicity::Monthly, day(2025, 8, 17)),
            day(2025, 8, 1)
        );
        assert!(survey_counts(&[1, 2, 3]).is_err());
        assert!(survey_counts(&[0, 0, 0, 0, 0]).is_err());
        assert!(survey_counts(&[0, -1, 3, 0, 0]).is_err());
    }
}
