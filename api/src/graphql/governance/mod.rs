//! Governance: who the caller is, the audit trail, the change feed, and mandates.

mod feed;
mod mandates;
mod subscription;

pub use feed::{ChangeEvent, ChangeOperation, ChangePage, FeedQuery};
pub use mandates::{Mandate, MandateMutation};
pub use subscription::FeedSubscription;
pub(crate) use subscription::follow;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::audit_record;

use crate::domain::audit_log::{self, AuditFilter as Filter};
use crate::domain::pagination::page_size;
use crate::error::AppError;
use crate::graphql::context::{actor, loaders, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::registry::Organisation;
use crate::graphql::scalars::DateTime;

/// A role a token may carry.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Role")]
pub enum ActorRole {
    /// Edits its own organisation's data.
    Editor,
    /// Edits, signs and consents for its own organisation.
    Admin,
    /// A partner application.
    Partner,
    /// A State service.
    State,
    /// Reference data administration.
    Superadmin,
}

/// Who the caller is, as its token says.
#[derive(SimpleObject)]
pub struct Viewer {
    /// Whether the request carries a valid token.
    pub authenticated: bool,
    /// Token subject.
    pub subject: Option<String>,
    /// Roles.
    pub roles: Vec<ActorRole>,
    /// The organisation acted for, when the registry knows it.
    pub organisation: Option<Organisation>,
}

/// Which audit records to list.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Only records about this organisation's data (required unless the caller is a State
    /// service or superadmin).
    pub organisation: Option<ID>,
    /// Only this entity type (`Organisation`, `ContactPoint`…).
    pub entity_type: Option<String>,
    /// Only this action (`updateOrganisationProfile`…).
    pub action: Option<String>,
    /// Only records at or after this time (RFC 3339).
    pub since: Option<DateTime>,
}

/// One audited change.
pub struct AuditRecord(audit_record::Model);

fn parse_json(text: &Option<String>) -> Option<serde_json::Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// One audited change: who, when, what, from what to what. Audit records cannot be changed.
#[Object]
impl AuditRecord {
    /// Opaque global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::AuditRecord, self.0.id)
    }
    /// When the change was committed.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
    /// Token subject of the person or application.
    async fn actor_subject(&self) -> Option<&str> {
        self.0.actor_subject.as_deref()
    }
    /// Roles the actor held, comma-separated.
    async fn actor_roles(&self) -> &str {
        &self.0.actor_roles
    }
    /// Organisation the actor acted for.
    async fn actor_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        org(ctx, self.0.actor_organisation_id).await
    }
    /// Organisation whose data changed.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        org(ctx, self.0.organisation_id).await
    }
    /// The mutation (`updateOrganisationProfile`…).
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// Type of the changed entity.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// Global ID of the changed entity.
    async fn entity_id(&self) -> Result<ID> {
        let kind = NodeType::from_name(&self.0.entity_type).ok_or_else(|| {
            tracing::error!(entity_type = %self.0.entity_type, "audit record of an unknown type");
            AppError::Internal
        })?;
        Ok(ids::encode(kind, self.0.entity_id))
    }
    /// State before the change (JSON, organisations and other objects named by their global
    /// IDs); null for a creation.
    async fn before(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        parse_json(&self.0.before).map(|v| async_graphql::Json(ids::globalise(v)))
    }
    /// State after the change (JSON, organisations and other objects named by their global
    /// IDs); null for a removal.
    async fn after(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        parse_json(&self.0.after).map(|v| async_graphql::Json(ids::globalise(v)))
    }
    /// Id of the request that made the change.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
}

async fn org(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Organisation>> {
    let Some(id) = id else { return Ok(None) };
    let today = request(ctx)?.today;
    Ok(loaders(ctx)?
        .organisations
        .load(id)
        .await?
        .map(|o| Organisation::new(o, today)))
}

/// Fields of the audit log beyond its page.
pub struct AuditLogInfo(Filter);

/// Fields of the audit log beyond its page.
#[Object]
impl AuditLogInfo {
    /// Number of records matching the filter.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(audit_log::count(&state(ctx)?.db, actor(ctx)?, &self.0).await? as i64)
    }
}

/// A page of audit records, newest first.
pub type AuditRecordConnection = Connection<String, AuditRecord, AuditLogInfo>;

/// Governance entry points.
#[derive(Default)]
pub struct GovernanceQuery;

/// Governance entry points.
#[Object]
impl GovernanceQuery {
    /// Who the caller is.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let actor = actor(ctx)?;
        Ok(Viewer {
            authenticated: actor.is_authenticated(),
            subject: actor.subject.clone(),
            roles: actor.roles.iter().copied().map(Into::into).collect(),
            organisation: org(ctx, actor.organisation_id).await?,
        })
    }

    /// The audit trail, newest first: an organisation's admins see their organisation's
    /// records, State services and superadmins see all.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditRecordConnection> {
        let first = page_size(first)?;
        let filter = filter.unwrap_or_default();
        let actor = actor(ctx)?;
        let organisation = match &filter.organisation {
            Some(id) => Some(ids::decode_as(
                "filter.organisation",
                id,
                NodeType::Organisation,
            )?),
            None => None,
        };
        let filter = Filter {
            organisation: audit_log::scope(actor, organisation),
            entity_type: filter.entity_type,
            action: filter.action,
            since: filter.since.map(|s| s.0),
        };
        let (rows, more) =
            audit_log::list(&state(ctx)?.db, actor, &filter, first, after.as_deref()).await?;
        let mut connection =
            Connection::with_additional_fields(after.is_some(), more, AuditLogInfo(filter));
        connection
            .edges
            .extend(rows.into_iter().map(|(c, r)| Edge::new(c, AuditRecord(r))));
        Ok(connection)
    }
}
