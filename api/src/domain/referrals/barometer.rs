//! The service barometer: what an organisation did with the referrals it received over a
//! period. Public as aggregates; a figure drawn from fewer than [`THRESHOLD`] referrals is
//! withheld (with the reason) so that no person can be singled out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{referral, referral_hop};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::AppResult;

/// Fewest referrals (or ratings) a figure is computed from.
pub const THRESHOLD: usize = 5;

/// An organisation's figures over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Barometer {
    /// Referrals that reached it (filed to it, or transmitted to it).
    pub received: u64,
    /// Of those, how many it transmitted onward.
    pub transmitted: u64,
    /// How many it answered.
    pub answered: u64,
    /// Median hours from arrival to acknowledgement, over those it acknowledged.
    pub median_hours_to_acknowledge: Option<f64>,
    /// Median hours from filing to answer, over those it answered.
    pub median_hours_to_answer: Option<f64>,
    /// Share of its answers given by the due date.
    pub answered_in_time_share: Option<f64>,
    /// Ratings recorded on its answers.
    pub ratings: u64,
    /// Mean satisfaction (1–5).
    pub satisfaction_mean: Option<f64>,
    /// Ratings per score, 1 to 5.
    pub satisfaction_distribution: Option<Vec<u64>>,
    /// Share of rated answers that resolved the request.
    pub resolved_share: Option<f64>,
    /// Why some figures are withheld.
    pub withheld: Vec<String>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

/// The barometer of `org` for referrals filed in `[from, to)`, for one competence or all.
pub async fn of(
    db: &DatabaseConnection,
    org: i64,
    competence: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Barometer> {
    let hops = referral_hop::Entity::find()
        .filter(
            Condition::any()
                .add(referral_hop::Column::ToId.eq(org))
                .add(referral_hop::Column::FromId.eq(org)),
        )
        .all(db)
        .await?;
    let ids: BTreeSet<i64> = hops.iter().map(|h| h.referral_id).collect();
    let mut query = referral::Entity::find()
        .filter(referral::Column::Id.is_in(ids))
        .filter(referral::Column::CreatedAt.gte(from))
        .filter(referral::Column::CreatedAt.lt(to));
    if let Some(code) = competence {
        query = query.filter(referral::Column::CompetenceCode.eq(code));
    }
    let rows = query.all(db).await?;
    let in_period: BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
    let arrivals: Vec<&referral_hop::Model> = hops
        .iter()
        .filter(|h| h.to_id == org && in_period.contains(&h.referral_id))
        .collect();
    let mut b = Barometer {
        received: arrivals.len() as u64,
        transmitted: hops
            .iter()
            .filter(|h| h.from_id == Some(org) && in_period.contains(&h.referral_id))
            .count() as u64,
        ..Barometer::default()
    };
    let handled: Vec<Handled<'_>> = rows
        .iter()
        .filter(|r| r.handler_id == org)
        .map(|r| Handled {
            referral: r,
            arrived: arrivals
                .iter()
                .filter(|h| h.referral_id == r.id)
                .map(|h| h.at)
                .max(),
        })
        .collect();
    figures(&mut b, &handled);
    Ok(b)
}

/// The figures of one competence across a territory.
#[derive(Debug, Clone, PartialEq)]
pub struct CompetenceFigures {
    /// BANATIC code.
    pub competence_code: String,
    /// The figures of the referrals about the territory's communes for it.
    pub barometer: Barometer,
}

/// The figures by competence of the referrals about `communes` filed in `[from, to)`, whoever
/// handled them, the competences with the most referrals first. "Received" counts the
/// referrals, "transmitted" those that went on from their first handler; times run from the
/// arrival at the handler that answered.
pub async fn of_territory(
    db: &DatabaseConnection,
    communes: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<CompetenceFigures>> {
    let mut rows = Vec::new();
    for chunk in communes.chunks(5_000) {
        rows.extend(
            referral::Entity::find()
                .filter(referral::Column::CommuneId.is_in(chunk.to_vec()))
                .filter(referral::Column::CreatedAt.gte(from))
                .filter(referral::Column::CreatedAt.lt(to))
                .all(db)
                .await?,
        );
    }
    let mut routes: BTreeMap<i64, Vec<referral_hop::Model>> = BTreeMap::new();
    for chunk in rows.chunks(5_000) {
        for hop in referral_hop::Entity::find()
            .filter(referral_hop::Column::ReferralId.is_in(chunk.iter().map(|r| r.id)))
            .all(db)
            .await?
        {
            routes.entry(hop.referral_id).or_default().push(hop);
        }
    }
    let mut by_competence: BTreeMap<&str, Vec<&referral::Model>> = BTreeMap::new();
    for r in &rows {
        by_competence.entry(&r.competence_code).or_default().push(r);
    }
    let mut out: Vec<CompetenceFigures> = by_competence
        .into_iter()
        .map(|(code, group)| {
            let route = |r: &referral::Model| routes.get(&r.id).map_or(&[][..], Vec::as_slice);
            let mut b = Barometer {
                received: group.len() as u64,
                transmitted: group.iter().filter(|r| route(r).len() > 1).count() as u64,
                ..Barometer::default()
            };
            let handled: Vec<Handled<'_>> = group
                .iter()
                .map(|r| Handled {
                    referral: r,
                    arrived: route(r).iter().map(|h| h.at).max(),
                })
                .collect();
            figures(&mut b, &handled);
            CompetenceFigures {
                competence_code: code.to_owned(),
                barometer: b,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.barometer
            .received
            .cmp(&a.barometer.received)
            .then_with(|| a.competence_code.cmp(&b.competence_code))
    });
    Ok(out)
}

/// A referral in the figures, with when it arrived at its handler.
struct Handled<'a> {
    referral: &'a referral::Model,
    arrived: Option<DateTime<Utc>>,
}

/// Fills the figures drawn from the handled referrals, withholding each one drawn from fewer
/// than [`THRESHOLD`].
fn figures(b: &mut Barometer, handled: &[Handled<'_>]) {
    let answered: Vec<&referral::Model> = handled
        .iter()
        .map(|h| h.referral)
        .filter(|r| r.answered_at.is_some())
        .collect();
    b.answered = answered.len() as u64;
    let acknowledged: Vec<f64> = handled
        .iter()
        .filter_map(|h| Some(hours(h.arrived?, h.referral.acknowledged_at?)))
        .collect();
    if acknowledged.len() >= THRESHOLD {
        b.median_hours_to_acknowledge = median(acknowledged);
    }
    if answered.len() >= THRESHOLD {
        b.median_hours_to_answer = median(
            answered
                .iter()
                .filter_map(|r| Some(hours(r.created_at, r.answered_at?)))
                .collect(),
        );
        let in_time = answered
            .iter()
            .filter(|r| r.answered_at.is_some_and(|a| a <= r.answer_due))
            .count();
        b.answered_in_time_share = Some(in_time as f64 / answered.len() as f64);
    } else {
        b.withheld.push(format!(
            "times and punctuality are shown from {THRESHOLD} answered referrals ({} here)",
            answered.len()
        ));
    }
    let rated: Vec<(i32, bool)> = answered
        .iter()
        .filter_map(|r| Some((r.satisfaction?, r.resolved.unwrap_or(false))))
        .collect();
    b.ratings = rated.len() as u64;
    if rated.len() >= THRESHOLD {
        let mut counts = vec![0u64; 5];
        for (score, _) in &rated {
            if let Some(slot) = usize::try_from(score - 1)
                .ok()
                .and_then(|i| counts.get_mut(i))
            {
                *slot += 1;
            }
        }
        b.satisfaction_mean =
            Some(rated.iter().map(|(s, _)| f64::from(*s)).sum::<f64>() / rated.len() as f64);
        b.satisfaction_distribution = Some(counts);
        b.resolved_share =
            Some(rated.iter().filter(|(_, r)| *r).count() as f64 / rated.len() as f64);
    } else {
        b.withheld.push(format!(
            "satisfaction is shown from {THRESHOLD} ratings ({} here), so that no person can be \
             singled out",
            rated.len()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
