//! The registry's two root lookups, by code or ID and as a filtered list: what the
//! `organisation` and `organisations` fields answer, for their resolvers and for the direct
//! answers ([`crate::graphql::direct`]) alike.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{ID, Result};

use super::{
    OrderDirection, Organisation, OrganisationConnection, OrganisationCursor, OrganisationFilter,
    OrganisationKind, OrganisationListInfo, OrganisationOrder, OrganisationOrderField,
};
use crate::domain::pagination::page_size;
use crate::domain::registry::{
    self, OrderField, OrganisationFilter as Filter, OrganisationOrder as Order,
};
use crate::error::AppError;
use crate::graphql::context::Scope;
use crate::graphql::ids::{self, NodeType};
use crate::graphql::scalars::Date;

/// `organisation(id, inseeCode, siren, kind, at)`: exactly one of the first three.
pub(crate) async fn organisation(
    scope: Scope<'_>,
    id: Option<ID>,
    insee_code: Option<String>,
    siren: Option<String>,
    kind: Option<OrganisationKind>,
    at: Option<Date>,
) -> Result<Option<Organisation>> {
    let at = at.map_or(scope.request.today, |d| d.0);
    let reads = &scope.loaders.registry;
    let kind = kind.map(Into::into);
    let before = scope.before_data(at);
    let found = match (id, insee_code, siren) {
        (Some(id), None, None) => {
            let n = ids::decode_as("id", &id, NodeType::Organisation)?;
            scope
                .loaders
                .organisations
                .load(n)
                .await?
                .filter(|o| kind.is_none_or(|k| o.kind == k))
        }
        (None, Some(code), None) => {
            let found = reads.by_insee_code(&code, kind, at).await?;
            found.filter(|_| !before).map(Arc::new)
        }
        (None, None, Some(siren)) => {
            let found = reads.by_siren(&siren, kind, at).await?;
            found.filter(|_| !before).map(Arc::new)
        }
        _ => {
            return Err(AppError::bad_input(
                "id",
                "give exactly one of `id`, `inseeCode`, `siren`",
            )
            .into());
        }
    };
    Ok(found.map(|o| Organisation::new(o, at)))
}

/// `organisations(filter, orderBy, first, after, at)`: a page of the list.
pub(crate) async fn organisations(
    scope: Scope<'_>,
    filter: Option<OrganisationFilter>,
    order_by: Option<OrganisationOrder>,
    first: Option<i32>,
    after: Option<String>,
    at: Option<Date>,
) -> Result<OrganisationConnection> {
    let at = at.map_or(scope.request.today, |d| d.0);
    let first = page_size(first)?;
    let filter = filter.unwrap_or_default();
    let member_of = match &filter.member_of {
        Some(id) => Some(ids::decode_as(
            "filter.memberOf",
            id,
            NodeType::Organisation,
        )?),
        None => None,
    };
    let filter = registry::normalise_filter(Filter {
        kinds: filter
            .kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        departement: filter.departement,
        region: filter.region,
        member_of,
        name_contains: filter.name_contains,
        name_starts_with: filter.name_starts_with,
    })?;
    let order = order_by.map_or_else(Order::default, |o| Order {
        field: match o.field {
            OrganisationOrderField::Name => OrderField::Name,
            OrganisationOrderField::Population => OrderField::Population,
            OrganisationOrderField::InseeCode => OrderField::InseeCode,
        },
        descending: o.direction == OrderDirection::Desc,
    });
    let empty = scope.before_data(at);
    let page = if empty {
        registry::OrganisationPage {
            rows: Vec::new(),
            order: order.field,
            has_next: false,
        }
    } else {
        scope
            .loaders
            .registry
            .list(&filter, order, at, first, after.as_deref())
            .await?
    };
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        page.has_next,
        OrganisationListInfo { filter, at, empty },
    );
    connection.edges.extend(page.rows.into_iter().map(|o| {
        let cursor = OrganisationCursor::Row(page.order, o.clone());
        Edge::new(cursor, Organisation::new(o, at))
    }));
    Ok(connection)
}
