//! Apollo Federation v2: `Organisation` is an entity that other subgraphs can extend, keyed
//! by `id`, `siren` or `inseeCode`; a gateway resolves references through `_entities`.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::context::{loaders, registry_reads, request};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;

/// The entity resolvers (only reachable through `_entities`).
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// An organisation referenced by its global ID.
    #[graphql(entity)]
    async fn organisation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        let today = request(ctx)?.today;
        let id = ids::decode_as("id", &id, NodeType::Organisation)?;
        Ok(loaders(ctx)?
            .organisations
            .load(id)
            .await?
            .map(|o| Organisation::new(o, today)))
    }

    /// An organisation referenced by SIREN (valid today, else the latest that was).
    #[graphql(entity)]
    async fn organisation_by_siren(
        &self,
        ctx: &Context<'_>,
        siren: String,
    ) -> Result<Option<Organisation>> {
        let today = request(ctx)?.today;
        let found = registry_reads(ctx)?.by_siren(&siren, None, today).await?;
        Ok(found.map(|o| Organisation::new(o, today)))
    }

    /// An organisation referenced by INSEE code (a commune first, as `organisation` does).
    #[graphql(entity)]
    async fn organisation_by_insee_code(
        &self,
        ctx: &Context<'_>,
        insee_code: String,
    ) -> Result<Option<Organisation>> {
        let today = request(ctx)?.today;
        let found = registry_reads(ctx)?
            .by_insee_code(&insee_code, None, today)
            .await?;
        Ok(found.map(|o| Organisation::new(o, today)))
    }
}
