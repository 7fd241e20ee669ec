//! The `Referral` type and its route.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use entity::referral_hop;

use crate::domain::referrals;
use crate::graphql::competences::Competence;
use crate::graphql::context::{loaders, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::DateTime;

/// Where a referral stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ReferralStatus")]
pub enum ReferralStatus {
    /// Filed and routed; its handler has not acknowledged it yet.
    Filed,
    /// Its handler acknowledged it.
    Acknowledged,
    /// Its handler answered it.
    Answered,
    /// Closed by its handler or its filer.
    Closed,
}

/// A person's request about a commune and a competence, routed to whoever is competent,
/// transmitted onward when it lands at the wrong door (CRPA L114-2), tracked to its answer and
/// rated. Seen only by its filer and the organisations it passed through.
#[derive(Clone, Debug)]
pub struct Referral(pub(crate) referrals::Referral);

async fn organisation(ctx: &Context<'_>, id: i64) -> Result<Option<Organisation>> {
    let today = request(ctx)?.today;
    Ok(loaders(ctx)?
        .organisations
        .load(id)
        .await?
        .map(|o| Organisation::new(o, today)))
}

/// A person's request about a commune and a competence, routed to whoever is competent,
/// transmitted onward when it lands at the wrong door (CRPA L114-2), tracked to its answer and
/// rated. Seen only by its filer and the organisations it passed through.
#[Object]
impl Referral {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Referral, self.0.model.id)
    }

    /// Where it stands.
    async fn status(&self) -> ReferralStatus {
        self.0.model.status.into()
    }

    /// The commune it is about.
    async fn commune(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.model.commune_id).await
    }

    /// The competence it is about.
    async fn competence(&self, ctx: &Context<'_>) -> Result<Option<Competence>> {
        let catalogue = state(ctx)?.catalogue.clone();
        Ok(catalogue
            .index_of(&self.0.model.competence_code)
            .map(|index| Competence { catalogue, index }))
    }

    /// Subject line.
    async fn subject(&self) -> &str {
        &self.0.model.subject
    }

    /// The person's message (personal data; null once erased or purged).
    async fn message(&self) -> Option<&str> {
        self.0.model.message.as_deref()
    }

    /// How to reach the person (personal data; null once erased or purged).
    async fn contact(&self) -> Option<&str> {
        self.0.model.contact.as_deref()
    }

    /// The answer (null until answered, and once erased or purged).
    async fn answer(&self) -> Option<&str> {
        self.0.model.answer.as_deref()
    }

    /// The organisation that filed it.
    async fn filer(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.model.filer_id).await
    }

    /// The organisation handling it now.
    async fn handler(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.model.handler_id).await
    }

    /// Its route: the first routing (with the layer and legal source that chose the handler),
    /// then each transmission with its reason.
    async fn hops(&self) -> Vec<ReferralHop> {
        self.0.hops.iter().cloned().map(ReferralHop).collect()
    }

    /// When the handler must acknowledge it: its term (7 days unless it set its own) from the
    /// arrival there.
    async fn acknowledge_due(&self) -> DateTime {
        DateTime(self.0.model.acknowledge_due)
    }

    /// When it must be answered: the handler's term from the first filing, never later than
    /// the CRPA's two months (L231-1), which a transmission does not restart (L114-2).
    async fn answer_due(&self) -> DateTime {
        DateTime(self.0.model.answer_due)
    }

    /// When it was acknowledged.
    async fn acknowledged_at(&self) -> Option<DateTime> {
        self.0.model.acknowledged_at.map(DateTime)
    }

    /// When it was answered.
    async fn answered_at(&self) -> Option<DateTime> {
        self.0.model.answered_at.map(DateTime)
    }

    /// When it was closed.
    async fn closed_at(&self) -> Option<DateTime> {
        self.0.model.closed_at.map(DateTime)
    }

    /// Whether it is past a due date without the step due.
    async fn overdue(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.0.overdue(request(ctx)?.now))
    }

    /// The person's satisfaction, 1 to 5, as the filer recorded it.
    async fn satisfaction(&self) -> Option<i32> {
        self.0.model.satisfaction
    }

    /// Whether the person's request was resolved, as the filer recorded it.
    async fn resolved(&self) -> Option<bool> {
        self.0.model.resolved
    }

    /// When its personal data were erased (on request) or purged (after the retention).
    async fn erased_at(&self) -> Option<DateTime> {
        self.0.model.erased_at.map(DateTime)
    }

    /// When it was filed.
    async fn filed_at(&self) -> DateTime {
        DateTime(self.0.model.created_at)
    }

    /// Optimistic-concurrency version; every step must carry it.
    async fn version(&self) -> i64 {
        self.0.model.version
    }
}

/// One step of a referral's route.
#[derive(Clone, Debug)]
pub struct ReferralHop(referral_hop::Model);

/// One step of a referral's route: the first routing, or a transmission.
#[Object]
impl ReferralHop {
    /// The organisation that transmitted it; null for the first routing.
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match self.0.from_id {
            Some(id) => organisation(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The organisation it went to.
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        organisation(ctx, self.0.to_id).await
    }

    /// Why: for the first routing, the layer, role and legal source that chose the handler;
    /// for a transmission, the transmitter's reason.
    async fn reason(&self) -> &str {
        &self.0.reason
    }

    /// When.
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
}

/// Result of every referral mutation.
#[derive(SimpleObject)]
pub struct ReferralPayload {
    /// The referral as it now stands; null when nothing changed.
    pub referral: Option<Referral>,
    /// Why nothing changed.
    pub user_errors: Vec<crate::graphql::payload::UserError>,
}
