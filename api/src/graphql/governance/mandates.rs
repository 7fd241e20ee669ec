//! Mandates in GraphQL: the `Mandate` type, `grantMandate` and `revokeMandate`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::mandate;

use crate::auth::Role;
use crate::domain::mandates::{self, NewMandate};
use crate::graphql::context::{loaders, organisation_id, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, split};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::DateTime;

/// A role a mandate may grant.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandateRole {
    /// Edit the organisation's data (profile, contact points, resources, declarations).
    Editor,
    /// Act as its partner application: request reservations for it, read what partners read.
    Partner,
}

impl From<MandateRole> for Role {
    fn from(r: MandateRole) -> Self {
        match r {
            MandateRole::Editor => Role::Editor,
            MandateRole::Partner => Role::Partner,
        }
    }
}

/// An organisation's grant to another (a partner application serving many communes, say) to
/// act for it with some roles, for a period, until revoked.
#[derive(Clone, Debug)]
pub struct Mandate(pub(crate) mandate::Model);

/// An organisation's grant to another to act for it with some roles, for a period, until
/// revoked: a token of the grantee acts for the grantor within the roles granted.
#[Object]
impl Mandate {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Mandate, self.0.id)
    }

    /// The organisation acted for, which granted the mandate.
    async fn grantor(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.grantor_id).await
    }

    /// The organisation that acts for it (a token of this organisation acts for the grantor).
    async fn grantee(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.grantee_id).await
    }

    /// The roles granted.
    async fn roles(&self) -> Vec<MandateRole> {
        mandates::roles_of(&self.0)
            .into_iter()
            .filter_map(|r| match r {
                Role::Editor => Some(MandateRole::Editor),
                Role::Partner => Some(MandateRole::Partner),
                _ => None,
            })
            .collect()
    }

    /// Start (inclusive).
    async fn valid_from(&self) -> DateTime {
        DateTime(self.0.valid_from)
    }

    /// End (exclusive); null while open-ended.
    async fn valid_to(&self) -> Option<DateTime> {
        self.0.valid_to.map(DateTime)
    }

    /// When it was revoked; null unless revoked.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }

    /// Why it was revoked, as the revoker said.
    async fn revocation_reason(&self) -> Option<&str> {
        self.0.revocation_reason.as_deref()
    }

    /// Whether it is in force now.
    async fn in_force(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(mandates::in_force(&self.0, request(ctx)?.now))
    }

    /// Optimistic-concurrency version; `revokeMandate` must carry it.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

async fn organisation(ctx: &Context<'_>, id: i64) -> Result<Option<Organisation>> {
    let today = request(ctx)?.today;
    Ok(loaders(ctx)?
        .organisations
        .load(id)
        .await?
        .map(|o| Organisation::new(o, today)))
}

/// A mandate to grant.
#[derive(InputObject)]
pub struct GrantMandateInput {
    /// The organisation acted for (its global ID, INSEE code or SIREN); the caller must be
    /// one of its own admins.
    pub grantor_id: ID,
    /// The organisation that will act for it (its global ID, INSEE code or SIREN).
    pub grantee_id: ID,
    /// The roles granted.
    pub roles: Vec<MandateRole>,
    /// Start; now when omitted.
    pub valid_from: Option<DateTime>,
    /// End (exclusive); open-ended when omitted.
    pub valid_to: Option<DateTime>,
    /// Retrying with the same key and input replays the first result.
    pub idempotency_key: Option<String>,
}

/// A mandate to revoke.
#[derive(InputObject)]
pub struct RevokeMandateInput {
    /// The mandate.
    pub id: ID,
    /// The `version` the revocation is based on.
    pub version: i64,
    /// Why, for the other party and the audit trail.
    pub reason: Option<String>,
}

/// Result of `grantMandate` and `revokeMandate`.
#[derive(SimpleObject)]
pub struct MandatePayload {
    /// The mandate as it now stands; null when nothing changed.
    pub mandate: Option<Mandate>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Mandate mutations.
#[derive(Default)]
pub struct MandateMutation;

#[Object]
impl MandateMutation {
    /// Lets another organisation act for yours with some roles (your organisation's admins
    /// only): one token of a partner application then serves every organisation that
    /// mandated it. Audited; in the change feed.
    async fn grant_mandate(
        &self,
        ctx: &Context<'_>,
        input: GrantMandateInput,
    ) -> Result<MandatePayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let grantor_id = organisation_id(ctx, "input.grantorId", &input.grantor_id).await?;
            let grantee_id = organisation_id(ctx, "input.granteeId", &input.grantee_id).await?;
            let new = NewMandate {
                grantor_id,
                grantee_id,
                roles: input.roles.into_iter().map(Role::from).collect(),
                valid_from: input.valid_from.map(|d| d.0),
                valid_to: input.valid_to.map(|d| d.0),
            };
            mandates::grant(
                db,
                &req.write_context(),
                new,
                input.idempotency_key.as_deref(),
            )
            .await
        };
        let (mandate, user_errors) = split(outcome.await)?;
        Ok(MandatePayload {
            mandate: mandate.map(Mandate),
            user_errors,
        })
    }

    /// Revokes a mandate (the granting organisation's admins, or the mandated organisation
    /// giving it up); it stops from the next request. Audited; in the change feed.
    async fn revoke_mandate(
        &self,
        ctx: &Context<'_>,
        input: RevokeMandateInput,
    ) -> Result<MandatePayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Mandate)?;
            mandates::revoke(db, &req.write_context(), id, input.version, input.reason).await
        };
        let (mandate, user_errors) = split(outcome.await)?;
        Ok(MandatePayload {
            mandate: mandate.map(Mandate),
            user_errors,
        })
    }
}
