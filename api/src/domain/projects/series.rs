//! The series an indicator's evidence makes: per period, the measurements of a territory
//! combined by the indicator's rule, a barometer's answers or the ratings of the referrals
//! about it; and the progress toward its targets. Many indicators and territories are read in
//! a few queries whatever their number (lists and dashboards ask for dozens at once).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{Aggregation, Direction, IndicatorKind, measurement, organisation, referral};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::indicators::{Indicator, by_ids_in};
use super::measurements::{distribution, mean_score, period_of};
use crate::domain::referrals::barometer::THRESHOLD;
use crate::domain::territory;
use crate::error::AppResult;

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

/// The rating of a referral: what a barometer fed by referral ratings counts.
struct Rating {
    commune: i64,
    filed: DateTime<Utc>,
    competence: String,
    /// The score, 1 to 5, as an index from 0.
    slot: usize,
}

/// The ratings of the referrals about `communes` filed from `since`, whatever their
/// competence: read once for every barometer over those communes.
async fn ratings<C: ConnectionTrait>(
    db: &C,
    communes: &[i64],
    since: DateTime<Utc>,
) -> AppResult<Vec<Rating>> {
    let mut out = Vec::new();
    // SQLite binds at most 32,766 parameters per statement.
    for chunk in communes.chunks(5000) {
        let rows: Vec<(i64, DateTime<Utc>, String, Option<i32>)> = referral::Entity::find()
            .select_only()
            .column(referral::Column::CommuneId)
            .column(referral::Column::CreatedAt)
            .column(referral::Column::CompetenceCode)
            .column(referral::Column::Satisfaction)
            .filter(referral::Column::CommuneId.is_in(chunk.to_vec()))
            .filter(referral::Column::Satisfaction.is_not_null())
            .filter(referral::Column::CreatedAt.gte(since))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(
            rows.into_iter()
                .filter_map(|(commune, filed, competence, score)| {
                    let slot = score
                        .and_then(|s| usize::try_from(s - 1).ok())
                        .filter(|s| *s < 5)?;
                    Some(Rating {
                        commune,
                        filed,
                        competence,
                        slot,
                    })
                }),
        );
    }
    Ok(out)
}

/// When a barometer fed by referral ratings starts counting them: its baseline period.
fn counted_from(indicator: &Indicator) -> DateTime<Utc> {
    indicator
        .model
        .baseline_period
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

/// The earliest [`counted_from`] of the barometers fed by referral ratings among
/// `indicators`; none when there is none.
fn ratings_wanted<'a>(
    indicators: impl IntoIterator<Item = &'a Indicator>,
) -> Option<DateTime<Utc>> {
    indicators
        .into_iter()
        .filter(|i| i.model.kind == IndicatorKind::ReferralSatisfaction)
        .map(counted_from)
        .min()
}

/// The series of a barometer fed by referral ratings: per period, the ratings of the
/// referrals about `communes` (and the indicator's competence) filed in it.
fn rating_series(indicator: &Indicator, ratings: &[Rating], communes: &HashSet<i64>) -> Vec<Point> {
    let i = &indicator.model;
    let since = counted_from(indicator);
    let mut by_period: BTreeMap<NaiveDate, ([i64; 5], HashSet<i64>)> = BTreeMap::new();
    for r in ratings {
        if r.filed < since
            || !communes.contains(&r.commune)
            || i.competence_code
                .as_ref()
                .is_some_and(|c| *c != r.competence)
        {
            continue;
        }
        let entry = by_period
            .entry(period_of(i.periodicity, r.filed.date_naive()))
            .or_default();
        entry.0[r.slot] += 1;
        entry.1.insert(r.commune);
    }
    by_period
        .into_iter()
        .map(|(period, (counts, seen))| barometer_point(period, &counts, seen.len()))
        .collect()
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
    // The territories of the projects whose barometers the referrals feed, and the ratings
    // about them, read at once.
    let (territories, rated) = match ratings_wanted(&indicators) {
        None => (HashMap::new(), Vec::new()),
        Some(since) => {
            let mut fed: Vec<i64> = indicators
                .iter()
                .filter(|i| i.model.kind == IndicatorKind::ReferralSatisfaction)
                .map(|i| i.model.project_id)
                .collect();
            fed.sort_unstable();
            fed.dedup();
            let territories: HashMap<i64, HashSet<i64>> = super::by_ids_in(db, &fed)
                .await?
                .into_iter()
                .map(|p| (p.model.id, p.communes.into_iter().collect()))
                .collect();
            let mut all: Vec<i64> = territories.values().flatten().copied().collect();
            all.sort_unstable();
            all.dedup();
            (territories, ratings(db, &all, since).await?)
        }
    };
    let none = HashSet::new();
    let mut out = HashMap::new();
    for indicator in indicators {
        let id = indicator.model.id;
        let measurements: Vec<_> = rows.extract_if(.., |m| m.indicator_id == id).collect();
        let series = if indicator.model.kind == IndicatorKind::ReferralSatisfaction {
            let territory = territories
                .get(&indicator.model.project_id)
                .unwrap_or(&none);
            rating_series(&indicator, &rated, territory)
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
    within: Option<&HashSet<i64>>,
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
fn survey_series(rows: &[measurement::Model], within: Option<&HashSet<i64>>) -> Vec<Point> {
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

/// The series of each of `indicators` over `communes`, combined by each one's rule, in the
/// order given: one query for their measurements, one for the communes' populations when a
/// rule weighs by them, one for the referral ratings when a barometer counts them.
pub async fn series_within<C: ConnectionTrait>(
    db: &C,
    indicators: &[&Indicator],
    communes: &[i64],
) -> AppResult<Vec<Vec<Point>>> {
    let measured: Vec<i64> = indicators
        .iter()
        .filter(|i| i.model.kind != IndicatorKind::ReferralSatisfaction)
        .map(|i| i.model.id)
        .collect();
    let rows = if measured.is_empty() {
        Vec::new()
    } else {
        of_indicators(db, &measured).await?
    };
    let weighs = indicators
        .iter()
        .any(|i| i.model.aggregation == Aggregation::PopulationWeightedMean);
    let population = if weighs {
        populations(db, communes).await?
    } else {
        HashMap::new()
    };
    let rated = match ratings_wanted(indicators.iter().copied()) {
        Some(since) => ratings(db, communes, since).await?,
        None => Vec::new(),
    };
    let within: HashSet<i64> = communes.iter().copied().collect();
    Ok(indicators
        .iter()
        .map(|i| {
            if i.model.kind == IndicatorKind::ReferralSatisfaction {
                return rating_series(i, &rated, &within);
            }
            let own: Vec<measurement::Model> = rows
                .iter()
                .filter(|m| m.indicator_id == i.model.id)
                .cloned()
                .collect();
            series_from(i, &own, Some(&within), &population)
        })
        .collect())
}

/// A series asked of an indicator for another territory than its project's: the indicator,
/// the organisation whose communes make the territory (a commune, an EPCI, a département…),
/// and the date the territory is taken at.
pub type TerritoryKey = (i64, i64, NaiveDate);

/// The series for each of `keys`: the indicators read at once, each territory's communes
/// once, then [`series_within`] for the indicators asked of each territory.
pub async fn series_of_territories<C: ConnectionTrait>(
    db: &C,
    keys: &[TerritoryKey],
) -> AppResult<HashMap<TerritoryKey, Vec<Point>>> {
    let mut ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let indicators: HashMap<i64, Indicator> = by_ids_in(db, &ids)
        .await?
        .into_iter()
        .map(|i| (i.model.id, i))
        .collect();
    let mut territories: BTreeMap<(i64, NaiveDate), Vec<&Indicator>> = BTreeMap::new();
    for (indicator, organisation, at) in keys {
        if let Some(i) = indicators.get(indicator) {
            territories.entry((*organisation, *at)).or_default().push(i);
        }
    }
    let mut out = HashMap::new();
    for ((organisation, at), asked) in territories {
        let communes = territory::communes_of(db, organisation, at).await?;
        let series = series_within(db, &asked, &communes).await?;
        for (i, points) in asked.into_iter().zip(series) {
            out.insert((i.model.id, organisation, at), points);
        }
    }
    Ok(out)
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
    use crate::domain::projects::measurements::survey_counts;
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
        let seven = series_from(&i, &rows, Some(&HashSet::from([7])), &none);
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
