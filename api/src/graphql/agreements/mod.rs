//! Agreements in GraphQL: the type, and the mutations of its lifecycle.

mod agreement;
mod enums;
mod mutations;

use async_graphql::{Context, Result};
use chrono::NaiveDate;

pub use agreement::{Agreement, AgreementCompetence, AgreementDocument, AgreementParty};
pub use enums::{AgreementKind, AgreementStatus, PartyRole};
pub use mutations::AgreementMutation;

use crate::graphql::context::loaders;

/// Agreement `id` if there is one and the caller may see it.
pub async fn load(ctx: &Context<'_>, id: Option<i64>, at: NaiveDate) -> Result<Option<Agreement>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)?
        .agreements
        .load(id)
        .await?
        .map(|a| Agreement::new(a, at)))
}

/// The agreements organisation `org` is party to that the caller may see, oldest first,
/// with `statuses` (as of today) and in force on `at` when given.
pub async fn of_organisation(
    ctx: &Context<'_>,
    org: i64,
    statuses: Option<Vec<AgreementStatus>>,
    at: Option<NaiveDate>,
) -> Result<Vec<Agreement>> {
    let today = crate::graphql::context::request(ctx)?.today;
    let statuses: Vec<entity::AgreementStatus> = statuses
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    let all = loaders(ctx)?
        .agreements_of
        .load(org)
        .await?
        .unwrap_or_default();
    Ok(all
        .into_iter()
        .filter(|a| statuses.is_empty() || statuses.contains(&a.status(today)))
        .filter(|a| at.is_none_or(|day| a.in_force(day)))
        .map(|a| Agreement::new(a, at.unwrap_or(today)))
        .collect())
}
