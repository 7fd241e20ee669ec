//! The `Resource` type and its coverage.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::CoverageScope;

use super::enums::{BookingPolicy, CostModel, ResourceKind, ResourceStatus};
use crate::domain::resources::{self, Period, from_milli};
use crate::graphql::context::{loaders, organisation};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::registry::Visibility;
use crate::graphql::scalars::DateTime;

/// Something an organisation shares: staff, equipment, rooms, a service commun, data…
#[derive(Clone)]
pub struct Resource {
    pub(crate) inner: resources::Resource,
    pub(crate) at: NaiveDate,
    /// Free capacity already computed (by `availableResources`) for its period.
    pub(crate) free: Option<i64>,
}

impl Resource {
    /// Wraps a domain resource; nested organisations answer as of `at`.
    pub fn new(inner: resources::Resource, at: NaiveDate) -> Self {
        Self {
            inner,
            at,
            free: None,
        }
    }
}

/// Something an organisation shares: staff, equipment, rooms, a service commun, data…
#[Object]
impl Resource {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Resource, self.inner.model.id)
    }

    /// The organisation sharing it.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.inner.model.owner_id, self.at).await
    }

    /// What it is.
    async fn kind(&self) -> ResourceKind {
        self.inner.model.kind.into()
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.inner.model.name
    }

    /// Description.
    async fn description(&self) -> Option<&str> {
        self.inner.model.description.as_deref()
    }

    /// Capacity, in `unit`s (e.g. 2 vehicles, 0.5 FTE, 1 room).
    async fn capacity(&self) -> f64 {
        from_milli(self.inner.model.capacity_milli)
    }

    /// Unit of the capacity.
    async fn unit(&self) -> &str {
        &self.inner.model.unit
    }

    /// The commune where it is.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.inner.model.location_id {
            Some(id) => organisation(ctx, id, self.at).await,
            None => Ok(None),
        }
    }

    /// Who it may serve besides its owner.
    async fn coverage(&self) -> Coverage {
        Coverage(self.inner.clone(), self.at)
    }

    /// What using it costs.
    async fn cost_model(&self) -> CostModel {
        self.inner.model.cost_model.into()
    }

    /// The flat fee, in euros, for `FLAT_FEE`.
    async fn cost_amount(&self) -> Option<f64> {
        self.inner.model.cost_amount_cents.map(|c| c as f64 / 100.0)
    }

    /// Conditions of use.
    async fn conditions(&self) -> Option<&str> {
        self.inner.model.conditions.as_deref()
    }

    /// Who may see it.
    async fn visibility(&self) -> Visibility {
        self.inner.model.visibility.into()
    }

    /// Whether it takes requests.
    async fn status(&self) -> ResourceStatus {
        self.inner.model.status.into()
    }

    /// How requests are decided.
    async fn booking_policy(&self) -> BookingPolicy {
        self.inner.model.booking_policy.into()
    }

    /// Capacity not taken by approved reservations at any instant of `[from, to)`; without
    /// a period, as computed by `availableResources` (null elsewhere).
    async fn free_capacity(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime>,
        to: Option<DateTime>,
    ) -> Result<Option<f64>> {
        match (from, to) {
            (Some(from), Some(to)) => {
                let period = Period::new(from.0, to.0, "to")?;
                let free = loaders(ctx)?
                    .free_capacity
                    .load((self.inner.model.id, period.from, period.to))
                    .await?;
                Ok(free.map(from_milli))
            }
            (None, None) => Ok(self.free.map(from_milli)),
            _ => Err(crate::error::AppError::bad_input("to", "give both `from` and `to`").into()),
        }
    }

    /// Optimistic-concurrency version.
    async fn version(&self) -> i64 {
        self.inner.model.version
    }

    /// Last change.
    async fn updated_at(&self) -> DateTime {
        self.inner.model.updated_at.into()
    }
}

/// Who a resource may serve besides its owner.
pub struct Coverage(resources::Resource, NaiveDate);

/// Who a resource may serve besides its owner.
#[Object]
impl Coverage {
    /// Whether it serves the owner's members (directly or through their groups).
    async fn owner_members(&self) -> bool {
        self.0
            .coverage
            .iter()
            .any(|c| c.scope == CoverageScope::OwnerMembers)
    }

    /// Territories whose organisations it serves (départements, EPCI…).
    async fn territories(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        self.named(ctx, CoverageScope::Territory).await
    }

    /// Organisations it serves by name.
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        self.named(ctx, CoverageScope::Organisation).await
    }
}

impl Coverage {
    async fn named(&self, ctx: &Context<'_>, scope: CoverageScope) -> Result<Vec<Organisation>> {
        let ids: Vec<i64> = self
            .0
            .coverage
            .iter()
            .filter(|c| c.scope == scope)
            .filter_map(|c| c.organisation_id)
            .collect();
        let found = loaders(ctx)?.organisations.load_many(ids.clone()).await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| found.get(&id).cloned())
            .map(|o| Organisation::new(o, self.1))
            .collect())
    }
}
