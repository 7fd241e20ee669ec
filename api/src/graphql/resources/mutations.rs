//! Mutations of resources and reservations. Each takes one `input` and returns a payload
//! with `userErrors`.

use crate::graphql::context::organisation_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::enums::{BookingPolicy, CostModel, ResourceKind, ResourceStatus};
use super::reservation::Reservation;
use super::resource::Resource;
use crate::domain::resources::publish::{
    self, Coverage, NewResource, ResourceChanges, ResourceFields,
};
use crate::domain::resources::reservations::{self, Decision, NewReservation};
use crate::domain::resources::{Period, to_milli};
use crate::error::{AppError, AppResult};
use crate::graphql::context::{request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, maybe, split};
use crate::graphql::registry::Visibility;
use crate::graphql::scalars::DateTime;

/// Who a resource may serve besides its owner.
#[derive(InputObject, Default)]
pub struct CoverageInput {
    /// Serve the owner's members (directly or through their groups).
    #[graphql(default)]
    pub owner_members: bool,
    /// Serve every organisation within these territories (départements, EPCI…; global IDs, INSEE codes or SIRENs).
    #[graphql(default)]
    pub territories: Vec<ID>,
    /// Serve these organisations (global IDs, INSEE codes or SIRENs).
    #[graphql(default)]
    pub organisations: Vec<ID>,
}

impl CoverageInput {
    /// The organisations named, each once however often (or in however many ways) it is
    /// named.
    async fn decode(self, ctx: &Context<'_>) -> AppResult<Coverage> {
        Ok(Coverage {
            owner_members: self.owner_members,
            territories: named(ctx, "input.coverage.territories", &self.territories).await?,
            organisations: named(ctx, "input.coverage.organisations", &self.organisations).await?,
        })
    }
}

/// The organisations `ids` name, in order, each once.
async fn named(ctx: &Context<'_>, field: &str, ids: &[ID]) -> AppResult<Vec<i64>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let n = organisation_id(ctx, field, id).await?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// The largest flat fee, in euros.
const MAX_FEE_EUROS: f64 = 1e9;

/// A flat fee in euros as cents: from 0 to [`MAX_FEE_EUROS`], with at most two decimals as
/// written (the shortest decimal that reads back as the same number: `123456789.01` is two
/// decimals, though a hundred times it is not a whole number in binary).
fn cents(amount: Option<f64>) -> AppResult<Option<i64>> {
    let bad = |why: &str| AppError::bad_input("input.costAmount", why.to_owned());
    amount
        .map(|a| {
            if !a.is_finite() || !(0.0..=MAX_FEE_EUROS).contains(&a) {
                return Err(bad("an amount in euros from 0 to 1,000,000,000"));
            }
            let written = a.to_string();
            let decimals = written.split_once('.').map_or(0, |(_, d)| d.len());
            if decimals > 2 {
                return Err(bad("an amount in euros with at most two decimals"));
            }
            Ok((a * 100.0).round() as i64)
        })
        .transpose()
}

/// A resource to publish.
#[derive(InputObject)]
pub struct PublishResourceInput {
    /// The owner (its global ID, INSEE code or SIREN); the caller is one of its editors or admins.
    pub owner_id: ID,
    /// What it is.
    pub kind: ResourceKind,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Capacity in `unit`s (at most three decimals: 0.5 FTE).
    pub capacity: f64,
    /// Unit of the capacity (vehicle, FTE, room…).
    pub unit: String,
    /// INSEE code of the commune where it is.
    pub location: Option<String>,
    /// What using it costs.
    pub cost_model: CostModel,
    /// The flat fee in euros (0 to 1,000,000,000, at most two decimals), for `FLAT_FEE` only.
    pub cost_amount: Option<f64>,
    /// Conditions of use.
    pub conditions: Option<String>,
    /// Who may see it (default `PUBLIC`).
    #[graphql(default_with = "Visibility::Public")]
    pub visibility: Visibility,
    /// How requests are decided.
    pub booking_policy: BookingPolicy,
    /// Who it may serve besides its owner (default: its owner only).
    pub coverage: Option<CoverageInput>,
    /// Idempotency key: a retry with the same key and input returns the first result.
    pub idempotency_key: Option<String>,
}

/// Changes to a resource; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateResourceInput {
    /// The resource (its global ID).
    pub id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// Name.
    pub name: Option<String>,
    /// Description; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// Capacity (never below what is approved at once from now on).
    pub capacity: Option<f64>,
    /// Unit.
    pub unit: Option<String>,
    /// INSEE code of the commune where it is; `null` clears it.
    pub location: MaybeUndefined<String>,
    /// Cost model.
    pub cost_model: Option<CostModel>,
    /// Flat fee in euros (0 to 1,000,000,000, at most two decimals); `null` clears it.
    pub cost_amount: MaybeUndefined<f64>,
    /// Conditions; `null` clears them.
    pub conditions: MaybeUndefined<String>,
    /// Who may see it.
    pub visibility: Option<Visibility>,
    /// How requests are decided.
    pub booking_policy: Option<BookingPolicy>,
    /// Who it may serve (replaces the whole coverage).
    pub coverage: Option<CoverageInput>,
    /// `SUSPENDED` closes it to new requests, `RETIRED` for good.
    pub status: Option<ResourceStatus>,
}

/// Result of a resource mutation.
#[derive(SimpleObject)]
pub struct ResourcePayload {
    /// The resource as it is now; null when nothing changed.
    pub resource: Option<Resource>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// A reservation to request.
#[derive(InputObject)]
pub struct RequestReservationInput {
    /// The resource (its global ID).
    pub resource_id: ID,
    /// The organisation requesting (its global ID, INSEE code or SIREN): the caller's own.
    pub requester_id: ID,
    /// Quantity in the resource's unit.
    #[graphql(default = 1.0)]
    pub quantity: f64,
    /// Start (inclusive).
    pub from: DateTime,
    /// End (exclusive).
    pub to: DateTime,
    /// What it is for.
    pub purpose: String,
    /// Idempotency key: a retry with the same key and input returns the first result.
    pub idempotency_key: Option<String>,
}

/// A decision on a reservation.
#[derive(InputObject)]
pub struct DecideReservationInput {
    /// The reservation (its global ID).
    pub id: ID,
    /// The `version` the decision is based on.
    pub version: i64,
    /// Why (required to decline).
    pub reason: Option<String>,
}

/// Result of a reservation mutation.
#[derive(SimpleObject)]
pub struct ReservationPayload {
    /// The reservation as it is now; null when nothing changed.
    pub reservation: Option<Reservation>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Resource and reservation mutations.
#[derive(Default)]
pub struct ResourceMutation;

/// Resource and reservation mutations.
#[Object]
impl ResourceMutation {
    /// Publishes a resource the organisation shares (its editors and admins).
    async fn publish_resource(
        &self,
        ctx: &Context<'_>,
        input: PublishResourceInput,
    ) -> Result<ResourcePayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let new = NewResource {
                owner_id: organisation_id(ctx, "input.ownerId", &input.owner_id).await?,
                kind: input.kind.into(),
                fields: ResourceFields {
                    name: input.name,
                    description: input.description,
                    capacity_milli: to_milli("input.capacity", input.capacity)?,
                    unit: input.unit,
                    location: input.location,
                    cost_model: input.cost_model.into(),
                    cost_amount_cents: cents(input.cost_amount)?,
                    conditions: input.conditions,
                    visibility: input.visibility.into(),
                    booking_policy: input.booking_policy.into(),
                    coverage: match input.coverage {
                        Some(c) => c.decode(ctx).await?,
                        None => Coverage::default(),
                    },
                },
                idempotency_key: input.idempotency_key,
            };
            publish::publish(db, &req.write_context(), new, req.today).await
        };
        let (r, user_errors) = split(outcome.await)?;
        Ok(ResourcePayload {
            resource: r.map(|r| Resource::new(r, req.today)),
            user_errors,
        })
    }

    /// Changes a resource or its status (its owner's editors and admins).
    async fn update_resource(
        &self,
        ctx: &Context<'_>,
        input: UpdateResourceInput,
    ) -> Result<ResourcePayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Resource)?;
            let changes = ResourceChanges {
                name: input.name,
                description: maybe(input.description),
                capacity_milli: input
                    .capacity
                    .map(|c| to_milli("input.capacity", c))
                    .transpose()?,
                unit: input.unit,
                location: maybe(input.location),
                cost_model: input.cost_model.map(Into::into),
                cost_amount_cents: match maybe(input.cost_amount) {
                    None => None,
                    Some(a) => Some(cents(a)?),
                },
                conditions: maybe(input.conditions),
                visibility: input.visibility.map(Into::into),
                booking_policy: input.booking_policy.map(Into::into),
                coverage: match input.coverage {
                    Some(c) => Some(c.decode(ctx).await?),
                    None => None,
                },
                status: input.status.map(Into::into),
            };
            publish::update(
                db,
                &req.write_context(),
                id,
                input.version,
                changes,
                req.today,
            )
            .await
        };
        let (r, user_errors) = split(outcome.await)?;
        Ok(ResourcePayload {
            resource: r.map(|r| Resource::new(r, req.today)),
            user_errors,
        })
    }

    /// Requests a quantity of a resource over `[from, to)` for an organisation (its editors,
    /// admins, or a partner app acting for it). Approved at once under `AUTOMATIC` booking or
    /// an agreement's direct booking; otherwise the owner decides.
    async fn request_reservation(
        &self,
        ctx: &Context<'_>,
        input: RequestReservationInput,
    ) -> Result<ReservationPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let new = NewReservation {
                resource_id: ids::decode_as(
                    "input.resourceId",
                    &input.resource_id,
                    NodeType::Resource,
                )?,
                requester_id: organisation_id(ctx, "input.requesterId", &input.requester_id)
                    .await?,
                quantity_milli: to_milli("input.quantity", input.quantity)?,
                period: Period::new(input.from.0, input.to.0, "input.to")?,
                purpose: input.purpose,
                idempotency_key: input.idempotency_key,
            };
            reservations::request(db, &req.write_context(), new).await
        };
        reservation_payload(req.today, outcome.await)
    }

    /// Approves a request (the owner's editors and admins), if it still fits the capacity.
    async fn approve_reservation(
        &self,
        ctx: &Context<'_>,
        input: DecideReservationInput,
    ) -> Result<ReservationPayload> {
        decide(ctx, input, Decision::Approve).await
    }

    /// Declines a request with a reason (the owner's editors and admins).
    async fn decline_reservation(
        &self,
        ctx: &Context<'_>,
        input: DecideReservationInput,
    ) -> Result<ReservationPayload> {
        decide(ctx, input, Decision::Decline).await
    }

    /// Cancels a request or an approved reservation not yet over (the requester's staff,
    /// or the owner's editors and admins); its quantity is freed.
    async fn cancel_reservation(
        &self,
        ctx: &Context<'_>,
        input: DecideReservationInput,
    ) -> Result<ReservationPayload> {
        decide(ctx, input, Decision::Cancel).await
    }
}

fn reservation_payload(
    today: chrono::NaiveDate,
    outcome: AppResult<entity::reservation::Model>,
) -> Result<ReservationPayload> {
    let (r, user_errors) = split(outcome)?;
    Ok(ReservationPayload {
        reservation: r.map(|r| Reservation::new(r, today)),
        user_errors,
    })
}

async fn decide(
    ctx: &Context<'_>,
    input: DecideReservationInput,
    decision: Decision,
) -> Result<ReservationPayload> {
    let req = request(ctx)?;
    let db = &state(ctx)?.db;
    let outcome = async {
        let id = ids::decode_as("input.id", &input.id, NodeType::Reservation)?;
        reservations::decide(
            db,
            &req.write_context(),
            id,
            input.version,
            decision,
            input.reason,
        )
        .await
    };
    reservation_payload(req.today, outcome.await)
}
