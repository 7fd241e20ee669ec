//! Registry queries: lookups by ID and official code, lists, search.

mod connection;
mod contact_point;
mod enums;
pub(crate) mod lookups;
mod membership;
mod mutations;
mod organisation;

use async_graphql::{Context, ID, InputObject, Interface, Object, Result};

pub use connection::{
    MembershipConnection, OrganisationConnection, OrganisationCursor, OrganisationListInfo,
};
pub use contact_point::ContactPoint;
pub use enums::{
    MembershipKind, OrderDirection, OrganisationKind, OrganisationOrderField, SuccessionKind,
    Visibility,
};
pub use membership::Membership;
pub use mutations::RegistryMutation;
pub use organisation::{Organisation, Provenance};

use crate::domain::pagination::{MAX_FIRST, page_size};
use crate::domain::profile;
use crate::error::AppError;
use crate::graphql::agreements::{self, Agreement};
use crate::graphql::competences::{Assignment, Transfer};
use crate::graphql::context::{Scope, actor, loaders, registry_reads, request, state};
use crate::graphql::governance::Mandate;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::resources::{Reservation, Resource};
use crate::graphql::scalars::Date;

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID."))]
pub enum Node {
    /// An organisation.
    Organisation(Organisation),
    /// A contact point.
    ContactPoint(ContactPoint),
    /// A declared competence assignment.
    Assignment(Assignment),
    /// A competence transfer.
    Transfer(Transfer),
    /// A shared resource.
    Resource(Resource),
    /// A reservation of a resource.
    Reservation(Reservation),
    /// An agreement between organisations.
    Agreement(Agreement),
    /// A mandate to act for an organisation.
    Mandate(Mandate),
    /// A referral of a person's request.
    Referral(crate::graphql::referrals::Referral),
    /// A territorial project.
    TerritorialProject(crate::graphql::projects::TerritorialProject),
    /// An indicator of a territorial project.
    Indicator(crate::graphql::projects::Indicator),
}

/// Which organisations a list returns.
#[derive(InputObject, Default)]
pub struct OrganisationFilter {
    /// Only these kinds.
    pub kinds: Option<Vec<OrganisationKind>>,
    /// Only those in this département (COG code, e.g. `35`, `2A`, `974`).
    pub departement: Option<String>,
    /// Only those in this région (COG code, e.g. `53`).
    pub region: Option<String>,
    /// Only members of this organisation (by ID) at the date.
    pub member_of: Option<ID>,
    /// Only names containing this text (accent- and case-insensitive).
    pub name_contains: Option<String>,
    /// Only names starting with this text (accent- and case-insensitive, e.g. `Saint-`).
    pub name_starts_with: Option<String>,
}

/// Sort order of an organisation list.
#[derive(InputObject)]
pub struct OrganisationOrder {
    /// Sort key.
    pub field: OrganisationOrderField,
    /// Direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Registry entry points.
#[derive(Default)]
pub struct RegistryQuery;

/// The object behind a global ID, with the visibility rules of `node(id:)`.
pub(crate) async fn load_node(ctx: &Context<'_>, argument: &str, id: &str) -> Result<Option<Node>> {
    let (kind, n) = ids::decode(argument, id)?;
    let today = request(ctx)?.today;
    match kind {
        NodeType::Organisation => Ok(loaders(ctx)?
            .organisations
            .load(n)
            .await?
            .map(|o| Node::Organisation(Organisation::new(o, today)))),
        // The domain's reads and the loaders return only what the caller may see.
        NodeType::ContactPoint => {
            Ok(
                profile::visible_contact_point(&state(ctx)?.db, actor(ctx)?, n)
                    .await?
                    .map(|c| Node::ContactPoint(ContactPoint(c))),
            )
        }
        NodeType::AuditRecord => Ok(None),
        NodeType::Assignment => Ok(loaders(ctx)?
            .assignments
            .load(n)
            .await?
            .map(|a| Node::Assignment(Assignment::new(a, today)))),
        NodeType::Transfer => Ok(loaders(ctx)?
            .transfers
            .load(n)
            .await?
            .map(|t| Node::Transfer(Transfer::new(t, today)))),
        NodeType::Resource => Ok(loaders(ctx)?
            .resources
            .load(n)
            .await?
            .map(|r| Node::Resource(Resource::new(r, today)))),
        NodeType::Reservation => Ok(loaders(ctx)?
            .reservations
            .load(n)
            .await?
            .map(|r| Node::Reservation(Reservation::new(r, today)))),
        NodeType::Referral => {
            Ok(
                crate::domain::referrals::visible(&state(ctx)?.db, actor(ctx)?, n)
                    .await?
                    .map(|r| Node::Referral(crate::graphql::referrals::Referral(r))),
            )
        }
        NodeType::Mandate => Ok(
            crate::domain::mandates::visible(&state(ctx)?.db, actor(ctx)?, n)
                .await?
                .map(|m| Node::Mandate(Mandate(m))),
        ),
        NodeType::Agreement => Ok(agreements::load(ctx, Some(n), today)
            .await?
            .map(Node::Agreement)),
        NodeType::TerritorialProject => Ok(crate::graphql::projects::load(ctx, n, today)
            .await?
            .map(Node::TerritorialProject)),
        NodeType::Indicator => {
            Ok(
                crate::domain::projects::indicators::visible(&state(ctx)?.db, actor(ctx)?, n)
                    .await?
                    .map(|(i, _)| Node::Indicator(crate::graphql::projects::Indicator(i, today))),
            )
        }
        // Reached through their project and indicator.
        NodeType::ProjectAction | NodeType::Measurement => Ok(None),
    }
}

/// Registry entry points.
#[Object]
impl RegistryQuery {
    /// Fetches any object by its global ID; null when it does not exist.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        load_node(ctx, "id", &id).await
    }

    /// Fetches objects by global ID (at most 100), in the order asked; null where none exists.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_FIRST {
            return Err(AppError::bad_input("ids", format!("at most {MAX_FIRST} ids")).into());
        }
        let lookups = ids.iter().map(|id| load_node(ctx, "ids", id));
        futures_util::future::try_join_all(lookups).await
    }

    /// Exactly one of id, inseeCode (INSEE COG code), siren. Codes are reused over time (a
    /// merged commune's code lives on as a commune déléguée; région 11 and département 11
    /// share a code): by code, the organisation valid at `at` (default today), preferring
    /// commune, then département, then région, then other kinds, unless `kind` says which;
    /// where none is valid then, the latest one that was.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        insee_code: Option<String>,
        siren: Option<String>,
        kind: Option<OrganisationKind>,
        at: Option<Date>,
    ) -> Result<Option<Organisation>> {
        lookups::organisation(Scope::of(ctx)?, id, insee_code, siren, kind, at).await
    }

    /// Organisations valid at `at` (default today), filtered and ordered (default by name).
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrganisationFilter>,
        order_by: Option<OrganisationOrder>,
        first: Option<i32>,
        after: Option<String>,
        at: Option<Date>,
    ) -> Result<OrganisationConnection> {
        lookups::organisations(Scope::of(ctx)?, filter, order_by, first, after, at).await
    }

    /// Accent- and case-insensitive search among organisations that exist today: exact
    /// names first, then names starting with the text, then names containing every word;
    /// larger populations first among equal matches. Usual abbreviations are spelt out
    /// ("St-Malo", "ste", "sts").
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        kinds: Option<Vec<OrganisationKind>>,
        first: Option<i32>,
    ) -> Result<Vec<Organisation>> {
        let today = request(ctx)?.today;
        let first = page_size(first)?;
        let kinds: Vec<entity::OrganisationKind> = kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(registry_reads(ctx)?
            .search(&text, &kinds, first, today)
            .await?
            .into_iter()
            .map(|o| Organisation::new(o, today))
            .collect())
    }
}
