//! Registry mutations: an organisation's own profile and contact points, and partner
//! registration. Each takes one `input` and returns a payload with `userErrors`.

use crate::graphql::context::organisation_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::contact_point::ContactPoint;
use super::enums::{ContactKind, OrganisationKind, Visibility};
use super::organisation::Organisation;
use crate::domain::groupings::{self, NewGrouping};
use crate::domain::partners::{self, NewPartner};
use crate::domain::profile::{self, ContactPointChanges, NewContactPoint, ProfileChanges};
use crate::graphql::context::{request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, maybe, split};
use crate::graphql::scalars::Date;

/// Changes to an organisation's profile; omitted fields stay as they are, `null` clears.
#[derive(InputObject)]
pub struct UpdateOrganisationProfileInput {
    /// The organisation (its global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// Other names it is known by (replaces the list).
    pub alternate_names: Option<Vec<String>>,
    /// A short public description.
    pub description: MaybeUndefined<String>,
    /// Public website (http or https).
    pub website: MaybeUndefined<String>,
}

/// Result of `updateOrganisationProfile`.
#[derive(SimpleObject)]
pub struct UpdateOrganisationProfilePayload {
    /// The organisation as changed; null when nothing changed.
    pub organisation: Option<Organisation>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// A contact point to add.
#[derive(InputObject)]
pub struct AddContactPointInput {
    /// The organisation (its global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// What it is.
    pub kind: ContactKind,
    /// A label ("Accueil"…).
    pub label: Option<String>,
    /// The address, number or URL.
    pub value: String,
    /// Who may see it (default `PUBLIC`).
    #[graphql(default_with = "Visibility::Public")]
    pub visibility: Visibility,
    /// Retrying with the same key and input replays the first result.
    pub idempotency_key: Option<String>,
}

/// Changes to a contact point; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateContactPointInput {
    /// The contact point (its global ID).
    pub id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// Label (`null` clears it).
    pub label: MaybeUndefined<String>,
    /// The address, number or URL.
    pub value: Option<String>,
    /// Who may see it.
    pub visibility: Option<Visibility>,
}

/// A contact point to remove.
#[derive(InputObject)]
pub struct RemoveContactPointInput {
    /// The contact point (its global ID).
    pub id: ID,
    /// The `version` the removal is based on.
    pub version: i64,
}

/// Result of a contact point mutation.
#[derive(SimpleObject)]
pub struct ContactPointPayload {
    /// The contact point as it is now (as it was, for a removal); null when nothing changed.
    pub contact_point: Option<ContactPoint>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// A partner organisation to register.
#[derive(InputObject)]
pub struct RegisterPartnerOrganisationInput {
    /// `ASSOCIATION`, `COMPANY`, `STATE_SERVICE`, `PUBLIC_BODY` or `OTHER`.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// SIREN (9 digits, Luhn).
    pub siren: Option<String>,
    /// SIRET (14 digits, Luhn; starts with the SIREN).
    pub siret: Option<String>,
    /// RNA number of an association (`W` and 9 characters).
    pub rna: Option<String>,
    /// Département it is based in (COG code).
    pub departement: Option<String>,
    /// Retrying with the same key and input replays the first result.
    pub idempotency_key: Option<String>,
}

/// Result of `registerPartnerOrganisation`.
#[derive(SimpleObject)]
pub struct RegisterPartnerOrganisationPayload {
    /// The registered organisation; null when nothing was registered.
    pub organisation: Option<Organisation>,
    /// Why nothing was registered.
    pub user_errors: Vec<UserError>,
}

/// A syndicat or PETR to register, with its members.
#[derive(InputObject)]
pub struct RegisterGroupingInput {
    /// `SYNDICAT` or `PETR`.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// SIREN (9 digits, Luhn).
    pub siren: String,
    /// Its members (global IDs, INSEE codes or SIRENs): communes, EPCIs, syndicats, départements, régions.
    pub members: Vec<ID>,
    /// First day of existence (the arrêté's date), and of the memberships.
    pub valid_from: Date,
    /// Département of its seat (COG code).
    pub departement: Option<String>,
}

/// Result of `registerGrouping`.
#[derive(SimpleObject)]
pub struct RegisterGroupingPayload {
    /// The registered grouping; null when nothing was registered.
    pub organisation: Option<Organisation>,
    /// Why nothing was registered.
    pub user_errors: Vec<UserError>,
}

/// Registry mutations.
#[derive(Default)]
pub struct RegistryMutation;

/// Registry mutations.
#[Object]
impl RegistryMutation {
    /// Updates an organisation's own profile (its editors and admins only).
    async fn update_organisation_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganisationProfileInput,
    ) -> Result<UpdateOrganisationProfilePayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = organisation_id(ctx, "input.organisationId", &input.organisation_id).await?;
            let changes = ProfileChanges {
                alternate_names: input.alternate_names,
                description: maybe(input.description),
                website: maybe(input.website),
            };
            profile::update_profile(db, &req.write_context(), id, input.version, changes).await
        };
        let (org, user_errors) = split(outcome.await)?;
        Ok(UpdateOrganisationProfilePayload {
            organisation: org.map(|o| Organisation::new(o, req.today)),
            user_errors,
        })
    }

    /// Adds a contact point to an organisation (its editors and admins only).
    async fn add_contact_point(
        &self,
        ctx: &Context<'_>,
        input: AddContactPointInput,
    ) -> Result<ContactPointPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = organisation_id(ctx, "input.organisationId", &input.organisation_id).await?;
            let new = NewContactPoint {
                organisation_id: id,
                kind: input.kind.into(),
                label: input.label,
                value: input.value,
                visibility: input.visibility.into(),
            };
            profile::add_contact_point(
                db,
                &req.write_context(),
                new,
                input.idempotency_key.as_deref(),
            )
            .await
        };
        let (cp, user_errors) = split(outcome.await)?;
        Ok(ContactPointPayload {
            contact_point: cp.map(ContactPoint),
            user_errors,
        })
    }

    /// Changes a contact point (its organisation's editors and admins only).
    async fn update_contact_point(
        &self,
        ctx: &Context<'_>,
        input: UpdateContactPointInput,
    ) -> Result<ContactPointPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::ContactPoint)?;
            let changes = ContactPointChanges {
                label: maybe(input.label),
                value: input.value,
                visibility: input.visibility.map(Into::into),
            };
            profile::update_contact_point(db, &req.write_context(), id, input.version, changes)
                .await
        };
        let (cp, user_errors) = split(outcome.await)?;
        Ok(ContactPointPayload {
            contact_point: cp.map(ContactPoint),
            user_errors,
        })
    }

    /// Removes a contact point (its organisation's editors and admins only).
    async fn remove_contact_point(
        &self,
        ctx: &Context<'_>,
        input: RemoveContactPointInput,
    ) -> Result<ContactPointPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::ContactPoint)?;
            profile::remove_contact_point(db, &req.write_context(), id, input.version).await
        };
        let (cp, user_errors) = split(outcome.await)?;
        Ok(ContactPointPayload {
            contact_point: cp.map(ContactPoint),
            user_errors,
        })
    }

    /// Registers a syndicat or PETR and its members, as the préfecture's arrêté creating it
    /// says (State services and superadmins).
    async fn register_grouping(
        &self,
        ctx: &Context<'_>,
        input: RegisterGroupingInput,
    ) -> Result<RegisterGroupingPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let mut members = Vec::with_capacity(input.members.len());
            for (i, id) in input.members.iter().enumerate() {
                members.push(organisation_id(ctx, &format!("input.members[{i}]"), id).await?);
            }
            let new = NewGrouping {
                kind: input.kind.into(),
                name: input.name,
                siren: input.siren,
                members,
                valid_from: input.valid_from.0,
                departement: input.departement,
            };
            groupings::register(&st.db, &req.write_context(), new).await
        };
        let (org, user_errors) = split(outcome.await)?;
        Ok(RegisterGroupingPayload {
            organisation: org.map(|o| Organisation::new(o, req.today)),
            user_errors,
        })
    }

    /// Registers a partner organisation (association, company, State service, public body)
    /// with validated identifiers: an organisation admin, a State service or a superadmin.
    async fn register_partner_organisation(
        &self,
        ctx: &Context<'_>,
        input: RegisterPartnerOrganisationInput,
    ) -> Result<RegisterPartnerOrganisationPayload> {
        let req = request(ctx)?;
        let new = NewPartner {
            kind: input.kind.into(),
            name: input.name,
            siren: input.siren,
            siret: input.siret,
            rna: input.rna,
            departement: input.departement,
        };
        let outcome = partners::register(
            &state(ctx)?.db,
            &req.write_context(),
            new,
            input.idempotency_key.as_deref(),
        )
        .await;
        let (org, user_errors) = split(outcome)?;
        Ok(RegisterPartnerOrganisationPayload {
            organisation: org.map(|o| Organisation::new(o, req.today)),
            user_errors,
        })
    }
}
