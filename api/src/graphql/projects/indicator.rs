//! The `Indicator` type: definition, targets, series, progress and measurements' history.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::measurement;

use super::enums::{Aggregation, IndicatorDirection, IndicatorKind, Periodicity};
use super::project::organisation;
use crate::domain::projects::{indicators, measurements, series};
use crate::graphql::context::{loaders, organisation_id};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::{Date, DateTime};

/// What a territorial project measures.
#[derive(Clone)]
pub struct Indicator(pub(crate) indicators::Indicator, pub(crate) NaiveDate);

/// A value an indicator should reach by a date.
#[derive(SimpleObject)]
pub struct IndicatorTarget {
    /// By when.
    pub due_on: Date,
    /// The value to reach.
    pub value: f64,
}

/// One period of an indicator's series.
#[derive(SimpleObject)]
pub struct IndicatorPoint {
    /// First day of the period.
    pub period: Date,
    /// The territory's value; null when withheld (see `withheld`).
    pub value: Option<f64>,
    /// How many communes' values made it (0: recorded for the whole territory).
    pub communes: i32,
    /// For a satisfaction barometer: the number of answers.
    pub responses: Option<i64>,
    /// Why the value is withheld: a barometer's mean is shown from 5 answers, so that no
    /// person can be singled out.
    pub withheld: Option<String>,
}

impl From<series::Point> for IndicatorPoint {
    fn from(p: series::Point) -> Self {
        let withheld = match (p.value, p.responses) {
            (None, Some(n)) => Some(format!(
                "a barometer's mean is shown from {} answers ({n} here), so that no person can be singled out",
                crate::domain::referrals::barometer::THRESHOLD
            )),
            _ => None,
        };
        IndicatorPoint {
            period: p.period.into(),
            value: p.value,
            communes: i32::try_from(p.communes).unwrap_or(i32::MAX),
            responses: p.responses,
            withheld,
        }
    }
}

/// Where an indicator stands against its targets.
#[derive(SimpleObject)]
pub struct IndicatorProgress {
    /// The latest value.
    pub latest: IndicatorPoint,
    /// The target it is measured against: the first due on or after the latest period,
    /// else the last.
    pub target: Option<IndicatorTarget>,
    /// Share of the way from the baseline to that target (1: reached; negative: the wrong
    /// way); null without a target.
    pub share: Option<f64>,
    /// Whether the target's value is reached, in the indicator's direction.
    pub reached: Option<bool>,
}

/// A value of an indicator for a period, contributed by its responsible party.
#[derive(Clone)]
pub struct Measurement(pub(crate) measurement::Model, pub(crate) NaiveDate);

/// A value of an indicator for a period (and a commune, or the project's whole territory),
/// contributed by its responsible party. A correction supersedes it and keeps it as history.
#[Object]
impl Measurement {
    /// Opaque global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Measurement, self.0.id)
    }

    /// The commune it measures; null: the project's whole territory.
    async fn commune(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.0.commune_id {
            Some(c) => organisation(ctx, c, self.1).await,
            None => Ok(None),
        }
    }

    /// First day of the period it measures.
    async fn period(&self) -> Date {
        self.0.period.into()
    }

    /// The value, in the indicator's unit (for a survey result, the mean score); null for a
    /// survey result of fewer than 5 answers, so that no person can be singled out.
    async fn value(&self) -> Option<f64> {
        measurements::disclosed(&self.0).then_some(self.0.value)
    }

    /// For a survey result: the number of answers.
    async fn responses(&self) -> Option<i64> {
        self.0.responses
    }

    /// For a survey result: the answers per score, 1 to 5 (null below 5 answers).
    async fn distribution(&self) -> Option<Vec<i64>> {
        measurements::disclosed(&self.0)
            .then(|| measurements::distribution(&self.0).map(Vec::from))
            .flatten()
    }

    /// Where it comes from.
    async fn source(&self) -> &str {
        &self.0.source
    }

    /// A comment.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// The organisation that contributed it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.recorded_by_id, self.1).await
    }

    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime {
        self.0.recorded_at.into()
    }

    /// Global ID of the measurement it corrects.
    async fn corrects(&self) -> Option<ID> {
        self.0
            .corrects
            .map(|id| ids::encode(NodeType::Measurement, id))
    }

    /// When a correction superseded it; null while current.
    async fn superseded_at(&self) -> Option<DateTime> {
        self.0.superseded_at.map(Into::into)
    }
}

impl Indicator {
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Option<Arc<series::Evidence>>> {
        Ok(loaders(ctx)?.indicators.load(self.0.model.id).await?)
    }
}

/// What a territorial project measures: its definition, baseline and targets, the series its
/// responsible party's measurements make, and the progress toward the targets.
#[Object]
impl Indicator {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Indicator, self.0.model.id)
    }

    /// What feeds it: measured values, survey results, or referral ratings.
    async fn kind(&self) -> IndicatorKind {
        self.0.model.kind.into()
    }

    /// For a barometer of referral ratings: the competence of the referrals counted (all
    /// when null).
    async fn competence_code(&self) -> Option<&str> {
        self.0.model.competence_code.as_deref()
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.model.name
    }

    /// Unit (`%`, `count`, `t`, `MWh`…).
    async fn unit(&self) -> &str {
        &self.0.model.unit
    }

    /// Which way is better.
    async fn direction(&self) -> IndicatorDirection {
        self.0.model.direction.into()
    }

    /// How often it is measured.
    async fn periodicity(&self) -> Periodicity {
        self.0.model.periodicity.into()
    }

    /// How it is computed.
    async fn method(&self) -> &str {
        &self.0.model.method
    }

    /// Where its figures come from.
    async fn source(&self) -> &str {
        &self.0.model.source
    }

    /// The party that contributes its measurements.
    async fn responsible(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.model.responsible_id, self.1).await
    }

    /// How the communes' values make a territory's.
    async fn aggregation(&self) -> Aggregation {
        self.0.model.aggregation.into()
    }

    /// The value it starts from.
    async fn baseline_value(&self) -> f64 {
        self.0.model.baseline_value
    }

    /// The period of the baseline.
    async fn baseline_period(&self) -> Date {
        self.0.model.baseline_period.into()
    }

    /// Its dated targets.
    async fn targets(&self) -> Vec<IndicatorTarget> {
        self.0
            .targets
            .iter()
            .map(|t| IndicatorTarget {
                due_on: t.due_on.into(),
                value: t.value,
            })
            .collect()
    }

    /// The project territory's series: per period, the value recorded for the whole
    /// territory, else the communes' current values combined by the aggregation rule.
    async fn series(&self, ctx: &Context<'_>) -> Result<Vec<IndicatorPoint>> {
        Ok(self
            .evidence(ctx)
            .await?
            .map(|e| e.series.iter().cloned().map(Into::into).collect())
            .unwrap_or_default())
    }

    /// The series for the communes of one organisation (a commune, an EPCI, a
    /// département…) on the date asked, combined by the aggregation rule.
    async fn territory_series(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
    ) -> Result<Vec<IndicatorPoint>> {
        let org = organisation_id(ctx, "organisation", &organisation)
            .await
            .map_err(|e| e.extend())?;
        let points = loaders(ctx)?
            .territory_series
            .load((self.0.model.id, org, self.1))
            .await?
            .unwrap_or_default();
        Ok(points.iter().cloned().map(Into::into).collect())
    }

    /// Where it stands against its targets; null before any measurement.
    async fn progress(&self, ctx: &Context<'_>) -> Result<Option<IndicatorProgress>> {
        let Some(e) = self.evidence(ctx).await? else {
            return Ok(None);
        };
        Ok(
            series::progress(&self.0, &e.series).map(|p| IndicatorProgress {
                latest: p.latest.into(),
                target: p.target.map(|(due, value)| IndicatorTarget {
                    due_on: due.into(),
                    value,
                }),
                share: p.share,
                reached: p.reached,
            }),
        )
    }

    /// Its measurements by period: the current ones, and with `history` the superseded
    /// ones too.
    async fn measurements(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] history: bool,
    ) -> Result<Vec<Measurement>> {
        Ok(self
            .evidence(ctx)
            .await?
            .map(|e| {
                e.measurements
                    .iter()
                    .filter(|m| history || m.superseded_at.is_none())
                    .cloned()
                    .map(|m| Measurement(m, self.1))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Where its chart is drawn (SVG, with its data as a table).
    async fn chart_url(&self) -> String {
        format!("/charts/indicators/{}.svg", self.0.model.id)
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.0.model.version
    }
}
