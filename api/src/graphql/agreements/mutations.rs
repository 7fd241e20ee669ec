//! Agreement mutations: draft, edit, propose, sign or reject, terminate. Each takes one
//! `input` and returns a payload with `userErrors`.

use crate::graphql::context::organisation_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::agreement::Agreement;
use super::enums::{AgreementKind, PartyRole};
use crate::domain::agreements::lifecycle::{self, AgreementContent, AgreementEdit};
use crate::error::AppResult;
use crate::graphql::competences::CompetenceRole;
use crate::graphql::context::{request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, maybe, split};
use crate::graphql::scalars::Date;

/// A party and its role.
#[derive(InputObject)]
pub struct AgreementPartyInput {
    /// The organisation (its global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// Its role.
    pub role: PartyRole,
}

/// A competence the agreement covers.
#[derive(InputObject)]
pub struct AgreementCompetenceInput {
    /// Competence code (BANATIC).
    pub code: String,
    /// The role a delegation gives the delegatee (not `HOLDER`: the delegator keeps it).
    #[graphql(default_with = "CompetenceRole::Implementer")]
    pub role: CompetenceRole,
}

/// A document of the agreement.
#[derive(InputObject)]
pub struct AgreementDocumentInput {
    /// Title.
    pub title: String,
    /// Where it is published (http or https).
    pub url: String,
}

/// An agreement to draft.
#[derive(InputObject)]
pub struct DraftAgreementInput {
    /// The drafting party (its global ID, INSEE code or SIREN); the caller is one of its editors or admins.
    pub drafting_party_id: ID,
    /// Legal form.
    pub kind: AgreementKind,
    /// Title.
    pub title: String,
    /// Legal basis (e.g. CGCT L5211-4-2).
    pub legal_basis: Option<String>,
    /// Parties and roles, the drafting party among them.
    pub parties: Vec<AgreementPartyInput>,
    /// First day in force (required to propose).
    pub valid_from: Option<Date>,
    /// Day after the last in force; null while open.
    pub valid_to: Option<Date>,
    /// Financial terms.
    pub financial_terms: Option<String>,
    /// Whether beneficiaries book the linked resources without the owner's approval.
    #[graphql(default)]
    pub direct_booking: bool,
    /// Linked resources (global IDs), owned by parties.
    #[graphql(default)]
    pub resources: Vec<ID>,
    /// Linked competences.
    #[graphql(default)]
    pub competences: Vec<AgreementCompetenceInput>,
    /// Documents.
    #[graphql(default)]
    pub documents: Vec<AgreementDocumentInput>,
    /// Idempotency key: a retry with the same key and input returns the first result.
    pub idempotency_key: Option<String>,
}

/// Changes to a draft; omitted fields stay as they are, lists are replaced whole.
#[derive(InputObject)]
pub struct UpdateAgreementInput {
    /// The agreement (its global ID).
    pub id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// Legal form.
    pub kind: Option<AgreementKind>,
    /// Title.
    pub title: Option<String>,
    /// Legal basis; `null` clears it.
    pub legal_basis: MaybeUndefined<String>,
    /// Parties and roles.
    pub parties: Option<Vec<AgreementPartyInput>>,
    /// First day in force; `null` clears it.
    pub valid_from: MaybeUndefined<Date>,
    /// Day after the last; `null` opens it.
    pub valid_to: MaybeUndefined<Date>,
    /// Financial terms; `null` clears them.
    pub financial_terms: MaybeUndefined<String>,
    /// Direct booking of linked resources.
    pub direct_booking: Option<bool>,
    /// Linked resources.
    pub resources: Option<Vec<ID>>,
    /// Linked competences.
    pub competences: Option<Vec<AgreementCompetenceInput>>,
    /// Documents.
    pub documents: Option<Vec<AgreementDocumentInput>>,
}

/// An agreement to propose or terminate, at a version.
#[derive(InputObject)]
pub struct ProposeAgreementInput {
    /// The agreement (its global ID).
    pub id: ID,
    /// The `version` the proposal is based on.
    pub version: i64,
}

/// A party's signature or rejection.
#[derive(InputObject)]
pub struct DecideAgreementInput {
    /// The agreement (its global ID).
    pub id: ID,
    /// The party deciding (its global ID, INSEE code or SIREN); the caller is one of its admins.
    pub party: ID,
    /// Why (required to reject; 1 to 1,000 characters). A rejection's reason stays in the
    /// audit log (`rejection` in the record's `after`).
    pub reason: Option<String>,
}

/// An early end.
#[derive(InputObject)]
pub struct TerminateAgreementInput {
    /// The agreement (its global ID).
    pub id: ID,
    /// The `version` the termination is based on.
    pub version: i64,
    /// Why.
    pub reason: String,
    /// First day no longer in force (default today).
    pub effective_date: Option<Date>,
}

/// Result of an agreement mutation.
#[derive(SimpleObject)]
pub struct AgreementPayload {
    /// The agreement as it is now; null when nothing changed.
    pub agreement: Option<Agreement>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

async fn parties(
    ctx: &Context<'_>,
    list: Vec<AgreementPartyInput>,
) -> AppResult<Vec<(i64, entity::PartyRole)>> {
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        let id = organisation_id(ctx, "input.parties", &p.organisation_id).await?;
        out.push((id, p.role.into()));
    }
    Ok(out)
}

fn resources(list: Vec<ID>) -> AppResult<Vec<i64>> {
    list.iter()
        .map(|id| ids::decode_as("input.resources", id, NodeType::Resource))
        .collect()
}

fn competences(list: Vec<AgreementCompetenceInput>) -> Vec<(String, entity::CompetenceRole)> {
    list.into_iter().map(|c| (c.code, c.role.into())).collect()
}

fn documents(list: Vec<AgreementDocumentInput>) -> Vec<(String, String)> {
    list.into_iter().map(|d| (d.title, d.url)).collect()
}

fn payload(
    today: chrono::NaiveDate,
    outcome: AppResult<crate::domain::agreements::Agreement>,
) -> Result<AgreementPayload> {
    let (a, user_errors) = split(outcome)?;
    Ok(AgreementPayload {
        agreement: a.map(|a| Agreement::new(a, today)),
        user_errors,
    })
}

/// Agreement mutations.
#[derive(Default)]
pub struct AgreementMutation;

/// Agreement mutations.
#[Object]
impl AgreementMutation {
    /// Drafts an agreement (an editor or admin of the drafting party).
    async fn draft_agreement(
        &self,
        ctx: &Context<'_>,
        input: DraftAgreementInput,
    ) -> Result<AgreementPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let drafted_by =
                organisation_id(ctx, "input.draftingPartyId", &input.drafting_party_id).await?;
            let content = AgreementContent {
                kind: input.kind.into(),
                title: input.title,
                legal_basis: input.legal_basis,
                parties: parties(ctx, input.parties).await?,
                valid_from: input.valid_from.map(|d| d.0),
                valid_to: input.valid_to.map(|d| d.0),
                financial_terms: input.financial_terms,
                direct_booking: input.direct_booking,
                resources: resources(input.resources)?,
                competences: competences(input.competences),
                documents: documents(input.documents),
            };
            lifecycle::draft(
                &st.db,
                &st.catalogue,
                &req.write_context(),
                drafted_by,
                content,
                input.idempotency_key,
            )
            .await
        };
        payload(req.today, outcome.await)
    }

    /// Edits a draft (the drafting party's editors and admins).
    async fn update_agreement(
        &self,
        ctx: &Context<'_>,
        input: UpdateAgreementInput,
    ) -> Result<AgreementPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Agreement)?;
            let edit = AgreementEdit {
                kind: input.kind.map(Into::into),
                title: input.title,
                legal_basis: maybe(input.legal_basis),
                parties: match input.parties {
                    Some(list) => Some(parties(ctx, list).await?),
                    None => None,
                },
                valid_from: maybe(input.valid_from).map(|d| d.map(|d| d.0)),
                valid_to: maybe(input.valid_to).map(|d| d.map(|d| d.0)),
                financial_terms: maybe(input.financial_terms),
                direct_booking: input.direct_booking,
                resources: input.resources.map(resources).transpose()?,
                competences: input.competences.map(competences),
                documents: input.documents.map(documents),
            };
            lifecycle::update(
                &st.db,
                &st.catalogue,
                &req.write_context(),
                id,
                input.version,
                edit,
            )
            .await
        };
        payload(req.today, outcome.await)
    }

    /// Proposes a complete draft to every party (the drafting party's editors and admins):
    /// it is frozen, and each party is asked to sign.
    async fn propose_agreement(
        &self,
        ctx: &Context<'_>,
        input: ProposeAgreementInput,
    ) -> Result<AgreementPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Agreement)?;
            lifecycle::propose(db, &req.write_context(), id, input.version).await
        };
        payload(req.today, outcome.await)
    }

    /// Signs a proposal for one party (an admin of that party). The last signature makes it
    /// `SIGNED` (`ACTIVE` from its start) and applies its effects.
    async fn sign_agreement(
        &self,
        ctx: &Context<'_>,
        input: DecideAgreementInput,
    ) -> Result<AgreementPayload> {
        decide(ctx, input, true).await
    }

    /// Rejects a proposal for one party (an admin of that party), with a reason: it returns
    /// to `DRAFT` and every signature is withdrawn.
    async fn reject_agreement(
        &self,
        ctx: &Context<'_>,
        input: DecideAgreementInput,
    ) -> Result<AgreementPayload> {
        decide(ctx, input, false).await
    }

    /// Terminates a signed agreement early (an admin of a party), with a reason; its
    /// effects stop on the effective date.
    async fn terminate_agreement(
        &self,
        ctx: &Context<'_>,
        input: TerminateAgreementInput,
    ) -> Result<AgreementPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Agreement)?;
            lifecycle::terminate(
                db,
                &req.write_context(),
                id,
                input.version,
                input.reason,
                input.effective_date.map_or(req.today, |d| d.0),
                req.today,
            )
            .await
        };
        payload(req.today, outcome.await)
    }
}

async fn decide(
    ctx: &Context<'_>,
    input: DecideAgreementInput,
    approve: bool,
) -> Result<AgreementPayload> {
    let req = request(ctx)?;
    let st = state(ctx)?;
    let outcome = async {
        let id = ids::decode_as("input.id", &input.id, NodeType::Agreement)?;
        let party = organisation_id(ctx, "input.party", &input.party).await?;
        lifecycle::decide(
            &st.db,
            &st.catalogue,
            &req.write_context(),
            id,
            party,
            approve,
            input.reason,
        )
        .await
    };
    payload(req.today, outcome.await)
}
