//! The `ContactPoint` type.

use async_graphql::{Context, ID, Object, Result};
use entity::contact_point;

use super::enums::{ContactKind, Visibility};
use super::organisation::Organisation;
use crate::graphql::context::{loaders, request};
use crate::graphql::ids::{self, NodeType};

/// A way to reach an organisation, visible to whom its owner chose.
#[derive(Clone, Debug)]
pub struct ContactPoint(pub(crate) contact_point::Model);

/// A way to reach an organisation (email, phone, website, address), visible to whom its
/// owner chose.
#[Object]
impl ContactPoint {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ContactPoint, self.0.id)
    }

    /// What it is.
    async fn kind(&self) -> ContactKind {
        self.0.kind.into()
    }

    /// A label ("Accueil", "Service urbanisme"…).
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }

    /// The address, number or URL.
    async fn value(&self) -> &str {
        &self.0.value
    }

    /// Who may see it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }

    /// Optimistic-concurrency version; updates must carry it.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// The organisation it belongs to.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let today = request(ctx)?.today;
        Ok(loaders(ctx)?
            .organisations
            .load(self.0.organisation_id)
            .await?
            .map(|o| Organisation::new(o, today)))
    }
}
