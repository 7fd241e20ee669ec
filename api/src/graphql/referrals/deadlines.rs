//! An organisation's referral terms: read on the organisation, set by its admins.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::domain::referrals::{self, Deadlines};
use crate::graphql::context::{organisation_id, request, state};
use crate::graphql::payload::{UserError, split};

/// The terms an organisation commits to for the referrals it handles.
#[derive(Clone, Copy, Debug)]
pub struct ReferralDeadlines(pub(crate) Deadlines);

/// The terms an organisation commits to for the referrals it handles: the defaults (7 days to
/// acknowledge, the CRPA's two months to answer) unless its admins set shorter ones.
#[Object]
impl ReferralDeadlines {
    /// Days to acknowledge a referral, from its arrival.
    async fn acknowledge_days(&self) -> i32 {
        self.0.acknowledge_days
    }

    /// Days to answer, from the first filing; null: the CRPA's two months (L231-1). The two
    /// months apply whenever they are shorter.
    async fn answer_days(&self) -> Option<i32> {
        self.0.answer_days
    }

    /// Whether these are the defaults (the organisation set none).
    async fn is_default(&self) -> bool {
        self.0.version == 0
    }

    /// Optimistic-concurrency version (0 until first set); `setReferralDeadlines` must carry it.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// New terms for an organisation's referrals.
#[derive(InputObject)]
pub struct SetReferralDeadlinesInput {
    /// The organisation (global ID, INSEE code or SIREN).
    pub organisation_id: ID,
    /// Days to acknowledge, from arrival: 1 to 30.
    pub acknowledge_days: i32,
    /// Days to answer from the first filing (1 to 62; the two months apply whenever shorter);
    /// null for the CRPA's two months.
    pub answer_days: Option<i32>,
    /// The `version` read (0 when never set).
    pub version: i64,
}

/// Result of `setReferralDeadlines`.
#[derive(SimpleObject)]
pub struct ReferralDeadlinesPayload {
    /// The terms as they now stand; null when nothing changed.
    pub deadlines: Option<ReferralDeadlines>,
    /// Why nothing changed.
    pub user_errors: Vec<UserError>,
}

/// Referral terms mutations.
#[derive(Default)]
pub struct ReferralDeadlinesMutation;

/// Referral terms mutations.
#[Object]
impl ReferralDeadlinesMutation {
    /// Sets the terms an organisation commits to for the referrals it handles (its admins):
    /// they apply to referrals arriving from now on.
    async fn set_referral_deadlines(
        &self,
        ctx: &Context<'_>,
        input: SetReferralDeadlinesInput,
    ) -> Result<ReferralDeadlinesPayload> {
        let req = request(ctx)?;
        let db = &state(ctx)?.db;
        let outcome = async {
            let org = organisation_id(ctx, "input.organisationId", &input.organisation_id).await?;
            referrals::deadlines::set(
                db,
                &req.write_context(),
                org,
                input.acknowledge_days,
                input.answer_days,
                input.version,
            )
            .await
        };
        let (deadlines, user_errors) = split(outcome.await)?;
        Ok(ReferralDeadlinesPayload {
            deadlines: deadlines.map(ReferralDeadlines),
            user_errors,
        })
    }
}
