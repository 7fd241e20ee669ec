//! The GraphQL schema: one module per area, merged into one `Query`.

pub mod agreements;
pub mod batch;
pub mod competences;
pub mod context;
pub mod cost;
pub mod federation;
pub mod governance;
pub mod guard;
pub mod ids;
pub mod loaders;
pub mod parse_cache;
pub mod payload;
pub mod price;
pub mod projects;
pub mod referrals;
pub mod registry;
pub mod resources;
pub mod scalars;

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::config::Limits;

/// Every query entry point.
#[derive(MergedObject, Default)]
pub struct Query(
    registry::RegistryQuery,
    competences::CompetenceQuery,
    governance::GovernanceQuery,
    governance::FeedQuery,
    resources::ResourceQuery,
    federation::FederationQuery,
    referrals::ReferralQuery,
    projects::ProjectQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    registry::RegistryMutation,
    competences::CompetenceMutation,
    resources::ResourceMutation,
    agreements::AgreementMutation,
    governance::MandateMutation,
    referrals::ReferralMutation,
    referrals::ReferralDeadlinesMutation,
    projects::ProjectMutation,
);

/// The executable schema.
/// Live subscriptions, merged from the areas.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    governance::FeedSubscription,
    referrals::ReferralSubscription,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Builds the schema with `limits`; the state comes with each request.
pub fn build_schema(limits: &Limits) -> AppSchema {
    // Prices are read from the schema's own SDL (the same types, without the extensions).
    let prices = price::Prices::from_sdl(
        &Schema::build(
            Query::default(),
            Mutation::default(),
            Subscription::default(),
        )
        .finish()
        .sdl(),
    );
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    );
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions || !limits.introspection {
        builder = builder.disable_suggestions();
    }
    builder
        .enable_federation()
        // The guard refuses nesting past `guard::MAX_SELECTION_NESTING` (32) as a depth limit;
        // this bound only stops fragment chains and cycles, followed while parsing.
        .limit_recursive_depth(2 * guard::MAX_SELECTION_NESTING)
        .extension(guard::Guard::new(limits))
        // Prices every document, parsed or taken from the cache: it wraps the cache.
        .extension(cost::CostLimit::new(limits, prices))
        .extension(parse_cache::ParseCache::new(512))
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(&Limits::default()).sdl()
}

/// The schema as an Apollo Federation v2 subgraph (what `_service { sdl }` answers).
pub fn subgraph_sdl() -> String {
    build_schema(&Limits::default())
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
