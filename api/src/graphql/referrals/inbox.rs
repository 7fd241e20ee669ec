//! An organisation's referrals: the paged list with its count, and the live inbox.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, Subscription};
use futures_util::{Stream, StreamExt};

use super::Referral;
use crate::auth::Role;
use crate::domain::feed::FeedFilter;
use crate::domain::pagination::{decode_cursor, encode_cursor, page_size};
use crate::domain::referrals::{self, ListQuery};
use crate::error::AppError;
use crate::graphql::context::{actor, organisation_id, request, state};

/// Fields of a list of referrals beyond its page.
pub struct ReferralListInfo {
    org: i64,
    query: ListQuery,
}

/// Fields of a list of referrals beyond its page.
#[Object]
impl ReferralListInfo {
    /// How many referrals the list holds, every page included.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let req = request(ctx)?;
        Ok(referrals::count_of_organisation(
            &state(ctx)?.db,
            &req.actor,
            self.org,
            &self.query,
            req.now,
        )
        .await?)
    }
}

/// A page of referrals, newest first.
pub type ReferralConnection = Connection<String, Referral, ReferralListInfo>;

/// The page of `org`'s referrals that `query`, `first` and `after` select.
pub(crate) async fn page(
    ctx: &Context<'_>,
    org: i64,
    query: ListQuery,
    first: Option<i32>,
    after: Option<String>,
) -> Result<ReferralConnection> {
    let req = request(ctx)?;
    let first = page_size(first)?;
    let after_id = after.as_deref().map(decode_cursor::<i64>).transpose()?;
    let (rows, more) = referrals::of_organisation(
        &state(ctx)?.db,
        &req.actor,
        org,
        &query,
        (first, after_id),
        req.now,
    )
    .await?;
    let mut connection =
        Connection::with_additional_fields(after.is_some(), more, ReferralListInfo { org, query });
    connection.edges.extend(
        rows.into_iter()
            .map(|r| Edge::new(encode_cursor(&r.model.id), Referral(r))),
    );
    Ok(connection)
}

/// Referral subscriptions.
#[derive(Default)]
pub struct ReferralSubscription;

/// Referral subscriptions.
#[Subscription]
impl ReferralSubscription {
    /// An organisation's inbox, live: each referral that arrives there (filed to it or
    /// transmitted to it) or changes while it handles it, as it now stands, on this instance
    /// or any other sharing the database. For its staff and the applications it mandated.
    async fn referral_inbox(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
    ) -> Result<impl Stream<Item = Result<Referral>> + use<>> {
        let org = organisation_id(ctx, "organisation", &organisation).await?;
        let actor = actor(ctx)?.clone();
        if !actor.acts_for(org, &[Role::Editor, Role::Admin, Role::Partner]) {
            return Err(AppError::Forbidden(
                "an inbox is for the organisation's staff and the applications it mandated".into(),
            )
            .into());
        }
        let state = state(ctx)?.clone();
        let filter = FeedFilter {
            entity_types: vec!["Referral".into()],
            organisation: Some(org),
        };
        let events = crate::graphql::governance::follow(state.clone(), actor, filter, None).await?;
        Ok(events.filter_map(move |event| {
            let db = state.db.clone();
            async move {
                let id = match event {
                    Ok(e) => e.entity_id,
                    Err(e) => return Some(Err(e)),
                };
                match referrals::by_ids_in(&db, &[id]).await {
                    // Changes after it moved on belong to another inbox.
                    Ok(mut found) => found
                        .pop()
                        .filter(|r| r.model.handler_id == org)
                        .map(|r| Ok(Referral(r))),
                    Err(e) => Some(Err(e.into())),
                }
            }
        }))
    }
}
