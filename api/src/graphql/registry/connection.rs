//! Relay connections of the registry: organisations and memberships.

use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;

use super::membership::Membership;
use super::organisation::Organisation;
use crate::domain::pagination::{decode_cursor, encode_cursor, page_size};
use crate::domain::registry::{self, OrderField, OrganisationFilter};
use crate::graphql::context::{before_data, loaders, registry_reads};
use crate::graphql::loaders::MembersKey;

/// Fields of a membership list beyond its page.
#[derive(SimpleObject)]
pub struct MembershipListInfo {
    /// Number of memberships in the whole list.
    pub total_count: i64,
}

/// A page of memberships.
pub type MembershipConnection = Connection<String, Membership, MembershipListInfo>;

/// The members of `group` at `at`, paginated in memory: a group has at most a few thousand
/// members, all fetched in one batched query.
pub async fn members_page(
    ctx: &Context<'_>,
    group: i64,
    at: NaiveDate,
    kinds: Vec<entity::OrganisationKind>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<MembershipConnection> {
    let first = page_size(first)?;
    let start_after: Option<i64> = after.as_deref().map(decode_cursor).transpose()?;
    let rows = if before_data(ctx, at)? {
        Default::default()
    } else {
        loaders(ctx)?
            .members
            .load(MembersKey { group, at, kinds })
            .await?
            .unwrap_or_default()
    };
    let rows: &[_] = rows.as_slice();
    let total = rows.len();
    let start = match start_after {
        Some(id) => rows
            .iter()
            .position(|r| r.membership.id == id)
            .map_or(total, |i| i + 1),
        None => 0,
    };
    let end = (start + first).min(total);
    let mut connection = Connection::with_additional_fields(
        start > 0,
        end < total,
        MembershipListInfo {
            total_count: total as i64,
        },
    );
    for row in rows[start..end].iter().cloned() {
        let node = Membership::with_member(row.membership, row.organisation, at);
        connection
            .edges
            .push(Edge::new(encode_cursor(&node.row_id()), node));
    }
    Ok(connection)
}

/// Fields of an organisation list beyond its page.
pub struct OrganisationListInfo {
    pub(crate) filter: OrganisationFilter,
    pub(crate) at: NaiveDate,
    /// The list is empty by construction (a date before the data).
    pub(crate) empty: bool,
}

/// Fields of an organisation list beyond its page.
#[Object]
impl OrganisationListInfo {
    /// Number of organisations in the whole list (counted only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        if self.empty {
            return Ok(0);
        }
        Ok(registry_reads(ctx)?.count(&self.filter, self.at).await? as i64)
    }
}

/// An organisation's cursor in a list, encoded only when a client asks for it: most pages
/// are read without their cursors, and encoding them was a thirtieth of a list's cost.
#[derive(Clone, Debug)]
pub enum OrganisationCursor {
    /// The row and the list's order, which the cursor encodes.
    Row(OrderField, Arc<registry::Organisation>),
    /// A cursor already encoded.
    Encoded(String),
}

impl CursorType for OrganisationCursor {
    type Error = Infallible;

    fn decode_cursor(s: &str) -> Result<Self, Infallible> {
        Ok(Self::Encoded(s.to_owned()))
    }

    fn encode_cursor(&self) -> String {
        match self {
            Self::Row(order, row) => registry::cursor_of(*order, row),
            Self::Encoded(s) => s.clone(),
        }
    }
}

/// A page of organisations.
pub type OrganisationConnection =
    Connection<OrganisationCursor, Organisation, OrganisationListInfo>;
