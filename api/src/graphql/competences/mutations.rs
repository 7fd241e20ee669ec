//! Competence mutations: declared assignments and consented transfers. Each takes one `input`
//! and returns a payload with `userErrors`.

use crate::graphql::context::organisation_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::assignment::{Assignment, Transfer};
use super::enums::{AssignmentBasis, CompetenceRole};
use crate::domain::competences::assignments::{self, AssignmentChanges, NewAssignment};
use crate::domain::competences::transfers::{self, NewRestitution, NewTransfer};
use crate::graphql::context::{registry_reads, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::{UserError, maybe, split};
use crate::graphql::scalars::Date;

/// A competence an organisation declares it exercises.
#[derive(InputObject)]
pub struct DeclareCompetenceInput {
    /// The organisation (its global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// Competence code (BANATIC, e.g. `C2080`).
    pub competence: String,
    /// Its role.
    pub role: CompetenceRole,
    /// What gives it the competence (`TRANSFER` only through `proposeCompetenceTransfer`).
    pub basis: AssignmentBasis,
    /// INSEE codes of the member communes covered; null for the whole territory.
    pub scope: Option<Vec<String>>,
    /// First day.
    pub valid_from: Date,
    /// Day after the last; null while open.
    pub valid_to: Option<Date>,
    /// Legal reference (deliberation, arrêté, article of the statutes).
    pub legal_reference: Option<String>,
}

/// Changes to a declared assignment; omitted fields stay as they are.
#[derive(InputObject)]
pub struct AmendCompetenceAssignmentInput {
    /// The assignment (its global ID).
    pub id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// INSEE codes of the member communes covered; `null` for the whole territory.
    pub scope: MaybeUndefined<Vec<String>>,
    /// First day.
    pub valid_from: Option<Date>,
    /// Day after the last; `null` opens it.
    pub valid_to: MaybeUndefined<Date>,
    /// Legal reference; `null` clears it.
    pub legal_reference: MaybeUndefined<String>,
}

/// A declared assignment to end.
#[derive(InputObject)]
pub struct EndCompetenceAssignmentInput {
    /// The assignment (its global ID).
    pub id: ID,
    /// The `version` the change is based on.
    pub version: i64,
    /// First day it no longer applies.
    pub end_date: Date,
}

/// Result of an assignment mutation.
#[derive(SimpleObject)]
pub struct AssignmentPayload {
    /// The assignment as it is now; null when nothing changed.
    pub assignment: Option<Assignment>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// A transfer to propose.
#[derive(InputObject)]
pub struct ProposeCompetenceTransferInput {
    /// Competence code (BANATIC).
    pub competence: String,
    /// The organisation giving it (its global ID, INSEE code or SIREN). Left out when an EPCI
    /// à fiscalité propre proposes the transfer for all its member communes, whose councils
    /// then decide by qualified majority (CGCT L5211-17); a single commune cannot transfer to
    /// such an EPCI alone.
    pub from_id: Option<ID>,
    /// The organisation receiving it: a group the giver belongs to, or one of its members
    /// (never one member of an EPCI à fiscalité propre alone: CGCT L5211-17-1).
    pub to_id: ID,
    /// First day the receiver holds it (today or later).
    pub effective_date: Date,
    /// Legal reference (deliberations, arrêté).
    pub legal_reference: Option<String>,
}

/// A restitution to propose.
#[derive(InputObject)]
pub struct ProposeCompetenceRestitutionInput {
    /// Competence code (BANATIC).
    pub competence: String,
    /// The EPCI à fiscalité propre handing it back (its global ID or SIREN).
    pub epci_id: ID,
    /// First day the member communes hold it again (today or later).
    pub effective_date: Date,
    /// Legal reference (the council's deliberation).
    pub legal_reference: Option<String>,
}

/// A party's decision on a transfer.
#[derive(InputObject)]
pub struct DecideCompetenceTransferInput {
    /// The transfer (its global ID).
    pub transfer_id: ID,
    /// The party deciding (its global ID, INSEE code or SIREN); the caller must be one of its admins.
    pub party: ID,
    /// Why (for a rejection).
    pub reason: Option<String>,
}

/// A transfer to settle once its deadline has passed.
#[derive(InputObject)]
pub struct SettleCompetenceTransferInput {
    /// The transfer (its global ID).
    pub transfer_id: ID,
}

/// A proposed transfer to withdraw.
#[derive(InputObject)]
pub struct WithdrawCompetenceTransferInput {
    /// The transfer (its global ID).
    pub transfer_id: ID,
    /// Why.
    pub reason: Option<String>,
}

/// Result of a transfer mutation.
#[derive(SimpleObject)]
pub struct TransferPayload {
    /// The transfer as it is now; null when nothing changed.
    pub transfer: Option<Transfer>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Competence mutations.
#[derive(Default)]
pub struct CompetenceMutation;

/// Competence mutations.
#[Object]
impl CompetenceMutation {
    /// Declares a competence an organisation exercises (its editors and admins only).
    async fn declare_competence(
        &self,
        ctx: &Context<'_>,
        input: DeclareCompetenceInput,
    ) -> Result<AssignmentPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let organisation_id =
                organisation_id(ctx, "input.organisationId", &input.organisation_id).await?;
            let new = NewAssignment {
                organisation_id,
                competence: input.competence,
                role: input.role.into(),
                basis: input.basis.into(),
                scope: input.scope,
                valid_from: input.valid_from.0,
                valid_to: input.valid_to.map(|d| d.0),
                legal_reference: input.legal_reference,
            };
            assignments::declare(&st.db, &st.catalogue, &req.write_context(), new).await
        };
        let (a, user_errors) = split(outcome.await)?;
        Ok(AssignmentPayload {
            assignment: a.map(|a| Assignment::new(a, req.today)),
            user_errors,
        })
    }

    /// Amends a declared assignment's scope, validity or legal reference (its organisation's
    /// editors and admins only; assignments from transfers change through transfers).
    async fn amend_competence_assignment(
        &self,
        ctx: &Context<'_>,
        input: AmendCompetenceAssignmentInput,
    ) -> Result<AssignmentPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Assignment)?;
            let changes = AssignmentChanges {
                scope: maybe(input.scope),
                valid_from: input.valid_from.map(|d| d.0),
                valid_to: maybe(input.valid_to).map(|d| d.map(|d| d.0)),
                legal_reference: maybe(input.legal_reference),
            };
            assignments::amend(db, &req.write_context(), id, input.version, changes).await
        };
        let (a, user_errors) = split(outcome.await)?;
        Ok(AssignmentPayload {
            assignment: a.map(|a| Assignment::new(a, req.today)),
            user_errors,
        })
    }

    /// Ends a declared assignment on a date (its organisation's editors and admins only).
    async fn end_competence_assignment(
        &self,
        ctx: &Context<'_>,
        input: EndCompetenceAssignmentInput,
    ) -> Result<AssignmentPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.id", &input.id, NodeType::Assignment)?;
            assignments::end(
                db,
                &req.write_context(),
                id,
                input.version,
                input.end_date.0,
            )
            .await
        };
        let (a, user_errors) = split(outcome.await)?;
        Ok(AssignmentPayload {
            assignment: a.map(|a| Assignment::new(a, req.today)),
            user_errors,
        })
    }

    /// Proposes to transfer a competence between an organisation and a group it belongs to
    /// (an editor or admin of either party), both parties then approving; or, from an EPCI
    /// à fiscalité propre (one of its editors or admins) for all its member communes, whose
    /// councils decide by qualified majority within three months (CGCT L5211-17).
    async fn propose_competence_transfer(
        &self,
        ctx: &Context<'_>,
        input: ProposeCompetenceTransferInput,
    ) -> Result<TransferPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let reads = registry_reads(ctx)?;
        let outcome = async {
            let new = NewTransfer {
                competence: input.competence,
                from_id: match &input.from_id {
                    Some(from) => Some(organisation_id(ctx, "input.fromId", from).await?),
                    None => None,
                },
                to_id: organisation_id(ctx, "input.toId", &input.to_id).await?,
                effective_date: input.effective_date.0,
                legal_reference: input.legal_reference,
            };
            transfers::propose(
                &st.db,
                reads,
                &st.catalogue,
                &req.write_context(),
                new,
                req.today,
            )
            .await
        };
        let (t, user_errors) = split(outcome.await)?;
        Ok(TransferPayload {
            transfer: t.map(|t| Transfer::new(t, req.today)),
            user_errors,
        })
    }

    /// Proposes that an EPCI à fiscalité propre (one of its editors or admins) hand a
    /// competence the law does not impose on it back to all its member communes, whose
    /// councils decide by qualified majority within three months, silence being refusal
    /// (CGCT L5211-17-1). Decided with `approveCompetenceTransfer` and the other transfer
    /// mutations.
    async fn propose_competence_restitution(
        &self,
        ctx: &Context<'_>,
        input: ProposeCompetenceRestitutionInput,
    ) -> Result<TransferPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let reads = registry_reads(ctx)?;
        let outcome = async {
            let new = NewRestitution {
                competence: input.competence,
                epci_id: organisation_id(ctx, "input.epciId", &input.epci_id).await?,
                effective_date: input.effective_date.0,
                legal_reference: input.legal_reference,
            };
            transfers::propose_restitution(
                &st.db,
                reads,
                &st.catalogue,
                &req.write_context(),
                new,
                req.today,
            )
            .await
        };
        let (t, user_errors) = split(outcome.await)?;
        Ok(TransferPayload {
            transfer: t.map(|t| Transfer::new(t, req.today)),
            user_errors,
        })
    }

    /// Approves a transfer for one party (an admin of that party). The approval that makes
    /// the decision (the last one, or the one that reaches the qualified majority) completes
    /// it: the assignments change on its effective date, atomically (on the day of the
    /// decision if that date has passed).
    async fn approve_competence_transfer(
        &self,
        ctx: &Context<'_>,
        input: DecideCompetenceTransferInput,
    ) -> Result<TransferPayload> {
        decide(ctx, input, true).await
    }

    /// Rejects a transfer for one party (an admin of that party): nothing changes.
    async fn reject_competence_transfer(
        &self,
        ctx: &Context<'_>,
        input: DecideCompetenceTransferInput,
    ) -> Result<TransferPayload> {
        decide(ctx, input, false).await
    }

    /// Settles a transfer to an EPCI à fiscalité propre once the member councils' three
    /// months have passed: the silent ones are recorded as approving, as the law deems them
    /// (CGCT L5211-17), and the transfer completes or ends. An editor or admin of the EPCI,
    /// an admin of a member commune, or a State service may settle it.
    async fn settle_competence_transfer(
        &self,
        ctx: &Context<'_>,
        input: SettleCompetenceTransferInput,
    ) -> Result<TransferPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.transferId", &input.transfer_id, NodeType::Transfer)?;
            transfers::settle(db, &req.write_context(), id).await
        };
        let (t, user_errors) = split(outcome.await)?;
        Ok(TransferPayload {
            transfer: t.map(|t| Transfer::new(t, req.today)),
            user_errors,
        })
    }

    /// Withdraws a proposed transfer (an editor or admin of the proposing party).
    async fn withdraw_competence_transfer(
        &self,
        ctx: &Context<'_>,
        input: WithdrawCompetenceTransferInput,
    ) -> Result<TransferPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let id = ids::decode_as("input.transferId", &input.transfer_id, NodeType::Transfer)?;
            transfers::withdraw(db, &req.write_context(), id, input.reason).await
        };
        let (t, user_errors) = split(outcome.await)?;
        Ok(TransferPayload {
            transfer: t.map(|t| Transfer::new(t, req.today)),
            user_errors,
        })
    }
}

async fn decide(
    ctx: &Context<'_>,
    input: DecideCompetenceTransferInput,
    approve: bool,
) -> Result<TransferPayload> {
    let req = request(ctx)?;
    let db = &state(ctx)?.db;
    let outcome = async {
        let id = ids::decode_as("input.transferId", &input.transfer_id, NodeType::Transfer)?;
        let party = organisation_id(ctx, "input.party", &input.party).await?;
        transfers::decide(db, &req.write_context(), id, party, approve, input.reason).await
    };
    let (t, user_errors) = split(outcome.await)?;
    Ok(TransferPayload {
        transfer: t.map(|t| Transfer::new(t, req.today)),
        user_errors,
    })
}
