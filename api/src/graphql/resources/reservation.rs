//! The `Reservation` type.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::reservation;

use super::enums::ReservationStatus;
use super::resource::Resource;
use crate::domain::resources::from_milli;
use crate::graphql::context::{loaders, organisation};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::DateTime;

/// A request by an organisation for a quantity of a resource over `[from, to)`.
#[derive(Clone)]
pub struct Reservation {
    pub(crate) inner: reservation::Model,
    pub(crate) at: NaiveDate,
}

impl Reservation {
    /// Wraps a row; nested organisations answer as of `at`.
    pub fn new(inner: reservation::Model, at: NaiveDate) -> Self {
        Self { inner, at }
    }
}

/// A request by an organisation for a quantity of a resource over `[from, to)`.
#[Object]
impl Reservation {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Reservation, self.inner.id)
    }

    /// The resource.
    async fn resource(&self, ctx: &Context<'_>) -> Result<Option<Resource>> {
        Ok(loaders(ctx)?
            .resources
            .load(self.inner.resource_id)
            .await?
            .map(|r| Resource::new(r, self.at)))
    }

    /// The organisation requesting it.
    async fn requester(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.requester_id, self.at).await
    }

    /// Quantity, in the resource's unit.
    async fn quantity(&self) -> f64 {
        from_milli(self.inner.quantity_milli)
    }

    /// Start of the period (inclusive).
    async fn from(&self) -> DateTime {
        self.inner.starts_at.into()
    }

    /// End of the period (exclusive).
    async fn to(&self) -> DateTime {
        self.inner.ends_at.into()
    }

    /// What it is for.
    async fn purpose(&self) -> &str {
        &self.inner.purpose
    }

    /// Where it stands.
    async fn status(&self) -> ReservationStatus {
        self.inner.status.into()
    }

    /// Why it was declined or cancelled.
    async fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }

    /// The agreement that lets the requester use the resource, if any.
    async fn agreement(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::agreements::Agreement>> {
        crate::graphql::agreements::load(ctx, self.inner.agreement_id, self.at).await
    }

    /// Token subject of who decided; null when the system did (automatic booking).
    async fn decided_by(&self) -> Option<&str> {
        self.inner.decided_by.as_deref()
    }

    /// When it was decided.
    async fn decided_at(&self) -> Option<DateTime> {
        self.inner.decided_at.map(Into::into)
    }

    /// When it was requested.
    async fn created_at(&self) -> DateTime {
        self.inner.created_at.into()
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.inner.version
    }
}
