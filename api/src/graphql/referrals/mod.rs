//! Referrals in GraphQL: filing, the handler's steps, the filer's rating, erasure.

mod barometer;
mod deadlines;
mod inbox;
mod referral;

pub use barometer::{CompetenceBarometer, ReferralQuery, ServiceBarometer};
pub use deadlines::{ReferralDeadlines, ReferralDeadlinesMutation};
pub(crate) use inbox::page;
pub use inbox::{ReferralConnection, ReferralSubscription};

pub use referral::{Referral, ReferralHop, ReferralPayload, ReferralStatus};

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::domain::referrals::{self, NewReferral, Step};
use crate::graphql::context::{organisation_id, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::payload::split;

/// Which of an organisation's referrals to list.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralRole {
    /// Those it handles now.
    Handler,
    /// Those it filed.
    Filer,
}

impl From<ReferralRole> for referrals::Side {
    fn from(r: ReferralRole) -> Self {
        match r {
            ReferralRole::Handler => referrals::Side::Handler,
            ReferralRole::Filer => referrals::Side::Filer,
        }
    }
}

/// A referral to file.
#[derive(InputObject)]
pub struct FileReferralInput {
    /// INSEE code of the commune the request is about.
    pub insee_code: String,
    /// A BANATIC competence code (`C2080`), or the words people use ("ordures ménagères").
    pub competence: String,
    /// Subject line (no personal data).
    pub subject: String,
    /// The person's message (personal data).
    pub message: Option<String>,
    /// The filing organisation (its global ID, INSEE code or SIREN): a France services desk,
    /// a commune's reception, a partner application's organisation.
    pub filer_id: ID,
    /// How to reach the person for the answer (personal data).
    pub contact: Option<String>,
    /// Retrying with the same key and input replays the first result.
    pub idempotency_key: Option<String>,
}

/// A step that needs only the referral.
#[derive(InputObject)]
pub struct ReferralStepInput {
    /// The referral.
    pub id: ID,
    /// The `version` the step is based on.
    pub version: i64,
}

/// The handler's answer.
#[derive(InputObject)]
pub struct AnswerReferralInput {
    /// The referral.
    pub id: ID,
    /// The `version` the step is based on.
    pub version: i64,
    /// The answer, for the person.
    pub answer: String,
}

/// A transmission to the competent organisation.
#[derive(InputObject)]
pub struct TransmitReferralInput {
    /// The referral.
    pub id: ID,
    /// The `version` the step is based on.
    pub version: i64,
    /// Where it goes (global ID, INSEE code or SIREN); never an organisation it has been at.
    pub to_id: ID,
    /// Why this organisation is the competent one.
    pub reason: String,
}

/// The person's rating, recorded by the filer after the answer.
#[derive(InputObject)]
pub struct RateReferralInput {
    /// The referral.
    pub id: ID,
    /// The `version` the step is based on.
    pub version: i64,
    /// 1 (very unsatisfied) to 5 (very satisfied).
    pub satisfaction: i32,
    /// Whether the person's request was resolved.
    pub resolved: bool,
}

/// Referral mutations.
#[derive(Default)]
pub struct ReferralMutation;

async fn take(ctx: &Context<'_>, id: &ID, version: i64, step: Step) -> Result<ReferralPayload> {
    let req = request(ctx)?;
    let db = &state(ctx)?.db;
    let outcome = async {
        let id = ids::decode_as("input.id", id, NodeType::Referral)?;
        referrals::step(db, &req.write_context(), id, version, step).await
    };
    let (referral, user_errors) = split(outcome.await)?;
    Ok(ReferralPayload {
        referral: referral.map(Referral),
        user_errors,
    })
}

#[Object]
impl ReferralMutation {
    /// Files a person's request and routes it at once to the organisation that serves the
    /// commune for the competence today (the implementer where there is one, else the holder,
    /// as `responsibilities` answers), recording the route's layer and legal source. For the
    /// filing organisation's staff and partner applications.
    async fn file_referral(
        &self,
        ctx: &Context<'_>,
        input: FileReferralInput,
    ) -> Result<ReferralPayload> {
        let req = request(ctx)?;
        let st = state(ctx)?;
        let outcome = async {
            let filer_id = organisation_id(ctx, "input.filerId", &input.filer_id).await?;
            let new = NewReferral {
                insee_code: input.insee_code,
                competence: input.competence,
                subject: input.subject,
                message: input.message,
                filer_id,
                contact: input.contact,
            };
            referrals::file(
                st,
                &req.write_context(),
                new,
                input.idempotency_key.as_deref(),
            )
            .await
        };
        let (referral, user_errors) = split(outcome.await)?;
        Ok(ReferralPayload {
            referral: referral.map(Referral),
            user_errors,
        })
    }

    /// The handler acknowledges the referral.
    async fn acknowledge_referral(
        &self,
        ctx: &Context<'_>,
        input: ReferralStepInput,
    ) -> Result<ReferralPayload> {
        take(ctx, &input.id, input.version, Step::Acknowledge).await
    }

    /// The handler answers the referral.
    async fn answer_referral(
        &self,
        ctx: &Context<'_>,
        input: AnswerReferralInput,
    ) -> Result<ReferralPayload> {
        take(ctx, &input.id, input.version, Step::Answer(input.answer)).await
    }

    /// The handler, not competent, transmits the referral to the competent organisation with a
    /// reason (CRPA L114-2); the route keeps every hop and never goes back round.
    async fn transmit_referral(
        &self,
        ctx: &Context<'_>,
        input: TransmitReferralInput,
    ) -> Result<ReferralPayload> {
        let to = match organisation_id(ctx, "input.toId", &input.to_id).await {
            Ok(to) => to,
            Err(e) => {
                let (_, user_errors) = split::<()>(Err(e))?;
                return Ok(ReferralPayload {
                    referral: None,
                    user_errors,
                });
            }
        };
        let step = Step::Transmit {
            to,
            reason: input.reason,
        };
        take(ctx, &input.id, input.version, step).await
    }

    /// The handler or the filer closes the referral.
    async fn close_referral(
        &self,
        ctx: &Context<'_>,
        input: ReferralStepInput,
    ) -> Result<ReferralPayload> {
        take(ctx, &input.id, input.version, Step::Close).await
    }

    /// The filer records the person's satisfaction and whether it was resolved (once, after
    /// the answer).
    async fn rate_referral(
        &self,
        ctx: &Context<'_>,
        input: RateReferralInput,
    ) -> Result<ReferralPayload> {
        let step = Step::Rate {
            satisfaction: input.satisfaction,
            resolved: input.resolved,
        };
        take(ctx, &input.id, input.version, step).await
    }

    /// Erases the referral's personal data (message, contact, answer) on the person's request
    /// (the filer or the handler); the rest stays for the figures, and the audit trail records
    /// the erasure without the erased content.
    async fn erase_referral_personal_data(
        &self,
        ctx: &Context<'_>,
        input: ReferralStepInput,
    ) -> Result<ReferralPayload> {
        take(ctx, &input.id, input.version, Step::Erase).await
    }
}
