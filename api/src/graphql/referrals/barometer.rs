//! The service barometers: an organisation's, and a territory's by competence. Public
//! aggregates, each figure withheld below five referrals or ratings.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{NaiveDate, NaiveTime};

use crate::domain::referrals::barometer::{self, Barometer};
use crate::domain::territory;
use crate::error::AppError;
use crate::graphql::competences::Competence;
use crate::graphql::context::{organisation_id, request, state};
use crate::graphql::scalars::Date;

/// What an organisation did with the referrals it received over a period: public aggregates,
/// each figure withheld (null, with the reason) when drawn from fewer than 5 referrals or
/// ratings, so that no person can be singled out.
#[derive(SimpleObject)]
pub struct ServiceBarometer {
    /// Referrals that reached it (filed to it, or transmitted to it).
    pub received: u64,
    /// Of those, how many it transmitted onward.
    pub transmitted: u64,
    /// How many it answered.
    pub answered: u64,
    /// Median hours from arrival to acknowledgement.
    pub median_hours_to_acknowledge: Option<f64>,
    /// Median hours from filing to answer.
    pub median_hours_to_answer: Option<f64>,
    /// Share (0–1) of its answers given by the due date.
    pub answered_in_time_share: Option<f64>,
    /// Ratings recorded on its answers.
    pub ratings: u64,
    /// Mean satisfaction, 1 to 5.
    pub satisfaction_mean: Option<f64>,
    /// Ratings per score, from 1 to 5.
    pub satisfaction_distribution: Option<Vec<u64>>,
    /// Share (0–1) of rated answers that resolved the request.
    pub resolved_share: Option<f64>,
    /// Why some figures are withheld.
    pub withheld: Vec<String>,
}

impl From<Barometer> for ServiceBarometer {
    fn from(b: Barometer) -> Self {
        Self {
            received: b.received,
            transmitted: b.transmitted,
            answered: b.answered,
            median_hours_to_acknowledge: b.median_hours_to_acknowledge,
            median_hours_to_answer: b.median_hours_to_answer,
            answered_in_time_share: b.answered_in_time_share,
            ratings: b.ratings,
            satisfaction_mean: b.satisfaction_mean,
            satisfaction_distribution: b.satisfaction_distribution,
            resolved_share: b.resolved_share,
            withheld: b.withheld,
        }
    }
}

/// The figures of one competence across a territory.
#[derive(SimpleObject)]
pub struct CompetenceBarometer {
    /// BANATIC code of the competence.
    pub competence_code: String,
    /// The competence.
    pub competence: Option<Competence>,
    /// Its figures: "received" counts the referrals about the territory's communes,
    /// "transmitted" those that went on from their first handler.
    pub barometer: ServiceBarometer,
}

/// The instants bounding the days `from` to `to` inclusive (the twelve months up to `today`
/// when omitted).
fn period(
    today: NaiveDate,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), AppError> {
    let to = to.map_or(today, |d| d.0);
    let from = from.map_or_else(|| to - chrono::Months::new(12), |d| d.0);
    if from > to {
        return Err(AppError::bad_input("from", "`from` is after `to`"));
    }
    let start = from.and_time(NaiveTime::MIN).and_utc();
    let end = (to + chrono::Days::new(1))
        .and_time(NaiveTime::MIN)
        .and_utc();
    Ok((start, end))
}

/// Referral queries.
#[derive(Default)]
pub struct ReferralQuery;

/// Referral queries.
#[Object]
impl ReferralQuery {
    /// The service barometer of an organisation (global ID, INSEE code or SIREN) for the
    /// referrals filed from `from` to `to` inclusive (the last twelve months when omitted),
    /// for one competence or all. Public.
    async fn service_barometer(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
        competence: Option<String>,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<ServiceBarometer> {
        let req = request(ctx)?;
        let org = organisation_id(ctx, "organisation", &organisation).await?;
        let (start, end) = period(req.today, from, to)?;
        let b = barometer::of(&state(ctx)?.db, org, competence.as_deref(), start, end).await?;
        Ok(b.into())
    }

    /// The same figures by competence for the referrals about the communes of a territory
    /// (a commune, an EPCI's member communes, a département's or a région's communes, as on
    /// `to`), filed from `from` to `to` inclusive (the last twelve months when omitted),
    /// whoever handled them; the competences with the most referrals first. Public.
    async fn territory_service_barometer(
        &self,
        ctx: &Context<'_>,
        territory: ID,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<CompetenceBarometer>> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let org = organisation_id(ctx, "territory", &territory).await?;
        let (start, end) = period(req.today, from, to)?;
        let on = to.map_or(req.today, |d| d.0);
        let communes = territory::communes_of(&st.db, org, on).await?;
        let figures = barometer::of_territory(&st.db, &communes, start, end).await?;
        let catalogue = st.catalogue.clone();
        Ok(figures
            .into_iter()
            .map(|f| CompetenceBarometer {
                competence: catalogue
                    .index_of(&f.competence_code)
                    .map(|index| Competence {
                        catalogue: catalogue.clone(),
                        index,
                    }),
                competence_code: f.competence_code,
                barometer: f.barometer.into(),
            })
            .collect())
    }
}
