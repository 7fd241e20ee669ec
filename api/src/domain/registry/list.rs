//! Lists of organisations: filters, keyset-paginated orders, counts and search.

use std::sync::Arc;

use chrono::NaiveDate;
use entity::{OrganisationKind, membership, organisation};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use super::rows::{Organisation, organisations};
use crate::domain::pagination::{decode_cursor, encode_cursor};
use crate::domain::text::{fold, fold_prefix};
use crate::domain::{codes, valid_at};
use crate::error::{AppError, AppResult};

/// Which organisations a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OrganisationFilter {
    /// Only these kinds (empty: all).
    pub kinds: Vec<OrganisationKind>,
    /// Only those in this département (COG code).
    pub departement: Option<String>,
    /// Only those in this région (COG code).
    pub region: Option<String>,
    /// Only members (of any membership kind) of this organisation at the date.
    pub member_of: Option<i64>,
    /// Only names containing this text (accent- and case-insensitive).
    pub name_contains: Option<String>,
    /// Only names starting with this text (accent- and case-insensitive).
    pub name_starts_with: Option<String>,
}

/// The sort key of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OrderField {
    /// Folded name.
    #[default]
    Name,
    /// Population (unknown last when ascending).
    Population,
    /// INSEE code.
    InseeCode,
}

/// Sort order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OrganisationOrder {
    /// Sort key.
    pub field: OrderField,
    /// Descending instead of ascending.
    pub descending: bool,
}

/// A keyset position: the sort value and the id of the last row seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum SortValue {
    Int(i64),
    Text(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Position {
    pub(super) v: SortValue,
    pub(super) id: i64,
}

/// The position `after` names in a list of the given order (`BAD_USER_INPUT` when it is not
/// a cursor of this API or belongs to another order).
pub(super) fn position_after(
    after: Option<&str>,
    field: OrderField,
) -> AppResult<Option<Position>> {
    let Some(after) = after else {
        return Ok(None);
    };
    let pos: Position = decode_cursor(after)?;
    match (&pos.v, field) {
        (SortValue::Int(_), OrderField::Population)
        | (SortValue::Text(_), OrderField::Name | OrderField::InseeCode) => Ok(Some(pos)),
        _ => Err(AppError::bad_input(
            "after",
            "`after` belongs to another order",
        )),
    }
}

/// The cursor of `org` in a list of the given order (encoded when a client asks for it:
/// most pages are read without their cursors).
pub fn cursor_of(field: OrderField, org: &Organisation) -> String {
    encode_cursor(&Position {
        v: sort_value(field, org),
        id: org.id,
    })
}

/// One page of organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationPage {
    /// The rows (shared with the in-memory registry's).
    pub rows: Vec<Arc<Organisation>>,
    /// The order of the list, which the rows' cursors encode ([`cursor_of`]).
    pub order: OrderField,
    /// Whether more rows follow.
    pub has_next: bool,
}

fn sort_expr(field: OrderField) -> Expr {
    use organisation::Column as C;
    match field {
        OrderField::Name => Expr::col((organisation::Entity, C::SearchName)),
        OrderField::Population => Func::coalesce([
            Expr::col((organisation::Entity, C::Population)),
            Expr::val(-1i64),
        ])
        .into(),
        OrderField::InseeCode => Func::coalesce([
            Expr::col((organisation::Entity, C::InseeCode)),
            Expr::val(""),
        ])
        .into(),
    }
}

fn sort_value(field: OrderField, org: &Organisation) -> SortValue {
    match field {
        OrderField::Name => SortValue::Text(org.search_name.clone()),
        OrderField::Population => SortValue::Int(org.population.unwrap_or(-1)),
        OrderField::InseeCode => SortValue::Text(org.insee_code.clone().unwrap_or_default()),
    }
}

/// Longest text a name filter or search accepts (the longest commune name has 45 characters).
const MAX_TEXT: usize = 200;

/// Checks a filter's codes and folds its texts.
pub fn normalise_filter(mut filter: OrganisationFilter) -> AppResult<OrganisationFilter> {
    if let Some(d) = &filter.departement {
        codes::check_insee_code("filter.departement", d)?;
    }
    if let Some(r) = &filter.region {
        codes::check_insee_code("filter.region", r)?;
    }
    for (field, text) in [
        ("filter.nameContains", &filter.name_contains),
        ("filter.nameStartsWith", &filter.name_starts_with),
    ] {
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return Err(AppError::bad_input(
                field,
                format!("at most {MAX_TEXT} characters"),
            ));
        }
    }
    filter.name_contains = filter.name_contains.map(|t| fold(&t));
    filter.name_starts_with = filter.name_starts_with.map(|t| fold_prefix(&t));
    Ok(filter)
}

fn filtered(filter: &OrganisationFilter, at: NaiveDate) -> Select<organisation::Entity> {
    use organisation::Column as C;
    let mut query = organisations().filter(valid_at(C::ValidFrom, C::ValidTo, at));
    if !filter.kinds.is_empty() {
        query = query.filter(C::Kind.is_in(filter.kinds.clone()));
    }
    if let Some(d) = &filter.departement {
        query = query.filter(C::DepartementCode.eq(d.as_str()));
    }
    if let Some(r) = &filter.region {
        query = query.filter(C::RegionCode.eq(r.as_str()));
    }
    if let Some(group) = filter.member_of {
        let members = Query::select()
            .column(membership::Column::MemberId)
            .from(membership::Entity)
            .cond_where(
                Condition::all()
                    .add(membership::Column::GroupId.eq(group))
                    .add(valid_at(
                        membership::Column::ValidFrom,
                        membership::Column::ValidTo,
                        at,
                    )),
            )
            .to_owned();
        query = query.filter(C::Id.in_subquery(members));
    }
    if let Some(text) = filter.name_contains.as_deref().filter(|t| !t.is_empty()) {
        query = query.filter(C::SearchName.like(format!("%{}%", escape_like(text))));
    }
    if let Some(prefix) = filter.name_starts_with.as_deref().filter(|t| !t.is_empty()) {
        // Folded names hold only [a-z0-9 ], all below `~`: a range scan on the index.
        query = query
            .filter(C::SearchName.gte(prefix))
            .filter(C::SearchName.lt(format!("{prefix}~")));
    }
    query
}

/// Folded text holds no `%` or `_`, but a caller's raw text might.
pub(super) fn escape_like(text: &str) -> String {
    text.replace(['%', '_'], "")
}

/// A page of organisations in the given order, after `after`.
pub async fn list(
    db: &DatabaseConnection,
    filter: &OrganisationFilter,
    order: OrganisationOrder,
    at: NaiveDate,
    first: usize,
    after: Option<&str>,
) -> AppResult<OrganisationPage> {
    let mut query = filtered(filter, at);
    let key = sort_expr(order.field);
    if let Some(pos) = position_after(after, order.field)? {
        let value = match &pos.v {
            SortValue::Int(i) => Expr::val(*i),
            SortValue::Text(s) => Expr::val(s.clone()),
        };
        let beyond = if order.descending {
            key.clone().lt(value.clone())
        } else {
            key.clone().gt(value.clone())
        };
        query = query.filter(
            Condition::any().add(beyond).add(
                Condition::all()
                    .add(key.clone().eq(value))
                    .add(organisation::Column::Id.gt(pos.id)),
            ),
        );
    }
    let direction = if order.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let mut rows = query
        .order_by(key, direction)
        .order_by(organisation::Column::Id, Order::Asc)
        .limit(first as u64 + 1)
        .into_model::<Organisation>()
        .all(db)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok(OrganisationPage {
        rows: rows.into_iter().map(Arc::new).collect(),
        order: order.field,
        has_next,
    })
}

/// How many organisations match.
pub async fn count(
    db: &DatabaseConnection,
    filter: &OrganisationFilter,
    at: NaiveDate,
) -> AppResult<u64> {
    Ok(filtered(filter, at).count(db).await?)
}

/// The folded text of a search (`BAD_USER_INPUT` when too long or without a letter or digit).
pub(super) fn search_text(text: &str) -> AppResult<String> {
    if text.chars().count() > MAX_TEXT {
        return Err(AppError::bad_input(
            "text",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    let folded = fold(text);
    if folded.is_empty() {
        return Err(AppError::bad_input(
            "text",
            "`text` must contain a letter or digit",
        ));
    }
    Ok(crate::domain::text::spell_out(&folded))
}

/// Organisations valid at `at` whose folded name, alternate names or postal codes contain
/// every word of `text`: exact matches (of a name, or of one postal code) first, then names
/// starting with the text, then the rest; larger populations first within each.
pub async fn search(
    db: &DatabaseConnection,
    text: &str,
    kinds: &[OrganisationKind],
    first: usize,
    at: NaiveDate,
) -> AppResult<Vec<Organisation>> {
    use organisation::Column as C;
    let folded = search_text(text)?;
    let mut query = organisations().filter(valid_at(C::ValidFrom, C::ValidTo, at));
    // Every word in the name or the alternate names, or starting one of the postal codes
    // ("vitre 35500"; "3550" as people type a code, not 83550).
    for word in folded.split(' ') {
        let like = format!("%{word}%");
        query = query.filter(
            Condition::any()
                .add(C::SearchName.like(like.as_str()))
                .add(C::SearchAliases.like(like.as_str()))
                .add(C::PostalCodes.like(format!("{word}%")))
                .add(C::PostalCodes.like(format!("% {word}%"))),
        );
    }
    if !kinds.is_empty() {
        query = query.filter(C::Kind.is_in(kinds.to_vec()));
    }
    let either = |name: Expr, alias: Expr| Condition::any().add(name).add(alias);
    // A postal code typed whole ranks as an exact name: one of the codes is the text.
    let one_code = Condition::any()
        .add(Expr::col(C::PostalCodes).eq(folded.as_str()))
        .add(Expr::col(C::PostalCodes).like(format!("{folded} %")))
        .add(Expr::col(C::PostalCodes).like(format!("% {folded}")))
        .add(Expr::col(C::PostalCodes).like(format!("% {folded} %")));
    let rank: Expr = Expr::case(
        either(
            Expr::col(C::SearchName).eq(folded.as_str()),
            Expr::col(C::SearchAliases).eq(folded.as_str()),
        )
        .add(one_code),
        0,
    )
    .case(
        either(
            Expr::col(C::SearchName).like(format!("{folded}%")),
            Expr::col(C::SearchAliases).like(format!("{folded}%")),
        ),
        1,
    )
    .case(
        either(
            Expr::col(C::SearchName).like(format!("%{folded}%")),
            Expr::col(C::SearchAliases).like(format!("%{folded}%")),
        ),
        2,
    )
    .finally(3)
    .into();
    Ok(query
        .order_by(rank, Order::Asc)
        .order_by(
            Func::coalesce([Expr::col(C::Population), Expr::val(-1i64)]),
            Order::Desc,
        )
        .order_by(C::Id, Order::Asc)
        .limit(first as u64)
        .into_model::<Organisation>()
        .all(db)
        .await?)
}
