//! Mutualisation in GraphQL: resources, their availability, and reservations.

mod enums;
mod mutations;
mod reservation;
mod resource;

use crate::graphql::context::organisation_id;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result};
use sea_orm::Select;

pub use enums::{BookingPolicy, CostModel, ReservationSide, ReservationStatus, ResourceKind};
pub use mutations::ResourceMutation;
pub use reservation::Reservation;
pub use resource::Resource;

use crate::domain::codes;
use crate::domain::pagination::{encode_cursor, page_size};
use crate::domain::resources::availability::{self, AvailabilityQuery};
use crate::domain::resources::list::{self, ResourceFilter as Filter};
use crate::domain::resources::reservations::Side;
use crate::domain::resources::{Period, to_milli};
use crate::graphql::context::{actor, loaders, registry_reads, request, state};
use crate::graphql::scalars::DateTime;

/// Which resources to list.
#[derive(InputObject, Default)]
pub struct ResourceFilter {
    /// Only these kinds.
    pub kinds: Option<Vec<ResourceKind>>,
    /// Only this owner's (its global ID, INSEE code or SIREN).
    pub owner: Option<ID>,
    /// Only those that may serve this commune (INSEE code): its coverage names it, one of
    /// its groups or territories, or its owner serves its members.
    pub covering_commune: Option<String>,
    /// Only these cost models.
    pub cost_models: Option<Vec<CostModel>>,
    /// Only these statuses (default: all but `RETIRED`).
    pub statuses: Option<Vec<enums::ResourceStatus>>,
    /// Words in the name, description or conditions (accent- and case-insensitive).
    pub text: Option<String>,
}

/// Fields of a resource list beyond its page.
pub struct ResourceListInfo {
    query: Option<Select<entity::resource::Entity>>,
}

/// Fields of a resource list beyond its page.
#[Object]
impl ResourceListInfo {
    /// Number of resources in the whole list.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        match &self.query {
            Some(q) => Ok(list::count(&state(ctx)?.db, q.clone()).await? as i64),
            None => Ok(0),
        }
    }
}

/// A page of resources.
pub type ResourceConnection = Connection<String, Resource, ResourceListInfo>;

/// Resource queries.
#[derive(Default)]
pub struct ResourceQuery;

/// Resource queries.
#[Object]
impl ResourceQuery {
    /// Shared resources the caller may see, oldest first.
    async fn resources(
        &self,
        ctx: &Context<'_>,
        filter: Option<ResourceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ResourceConnection> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let first = page_size(first)?;
        let f = filter.unwrap_or_default();
        let covering = match &f.covering_commune {
            None => None,
            Some(code) => {
                codes::check_insee_code("filter.coveringCommune", code)?;
                match registry_reads(ctx)?
                    .by_insee_code(code, Some(entity::OrganisationKind::Commune), req.today)
                    .await?
                {
                    Some(c) => Some(c.id),
                    // An unknown commune is served by nothing.
                    None => {
                        return Ok(Connection::with_additional_fields(
                            false,
                            false,
                            ResourceListInfo { query: None },
                        ));
                    }
                }
            }
        };
        let filter = Filter {
            kinds: f
                .kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            owner: match &f.owner {
                Some(id) => Some(organisation_id(ctx, "filter.owner", id).await?),
                None => None,
            },
            covering,
            cost_models: f
                .cost_models
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            statuses: f
                .statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            text: f.text,
        };
        let query = list::query(db, &req.actor, &filter, req.today).await?;
        let page = list::page(db, query.clone(), first, after.as_deref()).await?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            ResourceListInfo { query: Some(query) },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|r| Edge::new(encode_cursor(&r.model.id), Resource::new(r, req.today))),
        );
        Ok(connection)
    }

    /// The resources organisation `forOrganisation` (its global ID, INSEE code or SIREN) may
    /// use (their coverage includes it, or
    /// an agreement in force over the period links it as beneficiary), available, with at
    /// least `quantity` free at every instant of `[from, to)`; each with `freeCapacity`.
    // Each GraphQL argument is a parameter: the schema, not the function, sets their number.
    #[allow(clippy::too_many_arguments)]
    async fn available_resources(
        &self,
        ctx: &Context<'_>,
        kind: Option<ResourceKind>,
        for_organisation: ID,
        from: DateTime,
        to: DateTime,
        #[graphql(default = 1.0)] quantity: f64,
        first: Option<i32>,
    ) -> Result<Vec<Resource>> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let query = AvailabilityQuery {
            kind: kind.map(Into::into),
            for_organisation: organisation_id(ctx, "forOrganisation", &for_organisation).await?,
            period: Period::new(from.0, to.0, "to")?,
            quantity_milli: to_milli("quantity", quantity)?,
        };
        let found = availability::available(db, actor(ctx)?, &query, page_size(first)?).await?;
        Ok(found
            .into_iter()
            .map(|(r, free)| {
                let mut r = Resource::new(r, req.today);
                r.free = Some(free);
                r
            })
            .collect())
    }
}

/// The resources organisation `org` owns that the caller may see, oldest first.
pub async fn of_organisation(
    ctx: &Context<'_>,
    org: i64,
    at: chrono::NaiveDate,
) -> Result<Vec<Resource>> {
    let all = loaders(ctx)?
        .resources_of
        .load(org)
        .await?
        .unwrap_or_default();
    Ok(all.into_iter().map(|r| Resource::new(r, at)).collect())
}

/// The reservations of organisation `org` on `side`, newest first: for its own staff and
/// State services only.
pub async fn reservations_of(
    ctx: &Context<'_>,
    org: i64,
    side: ReservationSide,
    statuses: Option<Vec<ReservationStatus>>,
    first: Option<i32>,
    at: chrono::NaiveDate,
) -> Result<Vec<Reservation>> {
    let actor = actor(ctx)?;
    // The organisation's staff on either side see it; others are refused outright.
    if !crate::domain::authz::can_see_reservation(actor, org, org) {
        return Err(crate::error::AppError::Forbidden(
            "reservations are for the organisation's own staff and State services".into(),
        )
        .into());
    }
    let first = page_size(first)?;
    let side = match side {
        ReservationSide::Owner => Side::Owner,
        ReservationSide::Requester => Side::Requester,
    };
    let statuses: Vec<entity::ReservationStatus> = statuses
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect();
    let all = loaders(ctx)?
        .reservations_of
        .load((org, side))
        .await?
        .unwrap_or_default();
    Ok(all
        .into_iter()
        .filter(|r| statuses.is_empty() || statuses.contains(&r.status))
        .take(first)
        .map(|r| Reservation::new(r, at))
        .collect())
}
