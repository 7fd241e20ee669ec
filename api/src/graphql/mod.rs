//! The GraphQL schema: one module per area, merged into one `Query`.

pub mod agreements;
pub mod batch;
pub mod competences;
pub mod context;
pub mod cost;
pub mod direct;
pub mod federation;
pub mod governance;
pub mod guard;
pub mod ids;
pub mod loaders;
pub mod parse_cache;
pub mod payload;
pub mod pipeline;
pub mod price;
pub mod projects;
pub mod referrals;
pub mod registry;
pub mod resources;
pub mod revalidation;
pub mod scalars;

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::config::Limits;
use context::RequestContext;
use guard::OperationSlot;
pub use pipeline::Answer;
use pipeline::{OperationSchemas, Pipeline, Stages};

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

/// Live subscriptions, merged from the areas.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    governance::FeedSubscription,
    referrals::ReferralSubscription,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema, configured by `limits`, before extensions.
fn builder(limits: &Limits) -> SchemaBuilder<Query, Mutation, Subscription> {
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
}

/// The schema and the steps every operation goes through around it ([`pipeline`]).
#[derive(Clone)]
pub struct Executor {
    /// Without extensions: HTTP operations run on them, inside the pipeline.
    operations: Arc<OperationSchemas>,
    /// With the pipeline as its extension: streams (WebSocket, SSE) run on it.
    streams: AppSchema,
    pipeline: Arc<Pipeline>,
}

impl Executor {
    /// The schema with `limits`; the state comes with each request.
    pub fn new(limits: &Limits) -> Self {
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
        let pipeline = Arc::new(Pipeline::new(limits, prices));
        let operations = OperationSchemas {
            strict: builder(limits).finish(),
            revalidated: builder(limits)
                .validation_mode(async_graphql::ValidationMode::Fast)
                .finish(),
        };
        Self {
            operations: Arc::new(operations),
            streams: builder(limits).extension(Stages(pipeline.clone())).finish(),
            pipeline,
        }
    }

    /// Runs one query or mutation through the pipeline. `slot` and `req` are the request's
    /// data (also attached to `request`).
    pub async fn execute(
        &self,
        request: async_graphql::Request,
        slot: &OperationSlot,
        req: &RequestContext,
    ) -> Answer {
        self.pipeline
            .execute(&self.operations, request, slot, req)
            .await
    }

    /// The schema streams run on (its extension runs the pipeline).
    pub fn streams(&self) -> &AppSchema {
        &self.streams
    }

    /// The SDL of the schema.
    pub fn sdl(&self) -> String {
        self.operations.strict.sdl()
    }
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Executor::new(&Limits::default()).sdl()
}

/// The schema as an Apollo Federation v2 subgraph (what `_service { sdl }` answers).
pub fn subgraph_sdl() -> String {
    builder(&Limits::default())
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
