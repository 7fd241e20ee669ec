//! The registry: organisations, memberships and successions, read as of a date.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, membership, organisation, succession};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select,
};
use serde::{Deserialize, Serialize};

use super::pagination::{decode_cursor, encode_cursor};
use super::text::fold;
use super::{codes, contains, valid_at};
use crate::error::{AppError, AppResult};

/// An organisation row.
pub type Organisation = organisation::Model;

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
enum SortValue {
    Int(i64),
    Text(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Position {
    v: SortValue,
    id: i64,
}

/// One page of organisations.
#[derive(Debug, Clone)]
pub struct OrganisationPage {
    /// The rows, each with its cursor.
    pub rows: Vec<(String, Organisation)>,
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

/// Checks a filter's codes and folds its texts.
pub fn normalise_filter(mut filter: OrganisationFilter) -> AppResult<OrganisationFilter> {
    if let Some(d) = &filter.departement {
        codes::check_insee_code("filter.departement", d)?;
    }
    if let Some(r) = &filter.region {
        codes::check_insee_code("filter.region", r)?;
    }
    filter.name_contains = filter.name_contains.map(|t| fold(&t));
    filter.name_starts_with = filter.name_starts_with.map(|t| fold(&t));
    Ok(filter)
}

fn filtered(filter: &OrganisationFilter, at: NaiveDate) -> Select<organisation::Entity> {
    use organisation::Column as C;
    let mut query = organisation::Entity::find().filter(valid_at(C::ValidFrom, C::ValidTo, at));
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
fn escape_like(text: &str) -> String {
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
    if let Some(after) = after {
        let pos: Position = decode_cursor(after)?;
        let value = match (&pos.v, order.field) {
            (SortValue::Int(i), OrderField::Population) => Expr::val(*i),
            (SortValue::Text(s), OrderField::Name | OrderField::InseeCode) => Expr::val(s.clone()),
            _ => {
                return Err(AppError::bad_input(
                    "after",
                    "`after` belongs to another order",
                ));
            }
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
        .all(db)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok(OrganisationPage {
        rows: rows
            .into_iter()
            .map(|o| {
                let cursor = encode_cursor(&Position {
                    v: sort_value(order.field, &o),
                    id: o.id,
                });
                (cursor, o)
            })
            .collect(),
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

/// Organisations by id, in no particular order.
pub async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> AppResult<Vec<Organisation>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

/// Rank of a kind when a code names several organisations: commune, département, région, others.
fn code_preference(kind: OrganisationKind) -> u8 {
    match kind {
        OrganisationKind::Commune => 0,
        OrganisationKind::Departement => 1,
        OrganisationKind::Region => 2,
        _ => 3,
    }
}

/// Among organisations sharing a code: the one valid at `at` (by kind preference), else the
/// latest one that existed before `at`.
fn pick_at(mut candidates: Vec<Organisation>, at: NaiveDate) -> Option<Organisation> {
    candidates.sort_by_key(|o| (code_preference(o.kind), o.kind, o.id));
    if let Some(i) = candidates
        .iter()
        .position(|o| contains(o.valid_from, o.valid_to, at))
    {
        return Some(candidates.swap_remove(i));
    }
    candidates
        .into_iter()
        .filter(|o| o.valid_from.is_none_or(|f| f <= at))
        .max_by_key(|o| (o.valid_to, std::cmp::Reverse(code_preference(o.kind))))
}

/// The organisation with INSEE code `code` at `at` (see the schema for the preference rules).
pub async fn by_insee_code(
    db: &DatabaseConnection,
    code: &str,
    kind: Option<OrganisationKind>,
    at: NaiveDate,
) -> AppResult<Option<Organisation>> {
    codes::check_insee_code("inseeCode", code)?;
    let mut query = organisation::Entity::find().filter(organisation::Column::InseeCode.eq(code));
    if let Some(kind) = kind {
        query = query.filter(organisation::Column::Kind.eq(kind));
    }
    Ok(pick_at(query.all(db).await?, at))
}

/// The organisation with SIREN `siren` at `at`.
pub async fn by_siren(
    db: &DatabaseConnection,
    siren: &str,
    kind: Option<OrganisationKind>,
    at: NaiveDate,
) -> AppResult<Option<Organisation>> {
    codes::check_siren("siren", siren)?;
    let mut query = organisation::Entity::find().filter(organisation::Column::Siren.eq(siren));
    if let Some(kind) = kind {
        query = query.filter(organisation::Column::Kind.eq(kind));
    }
    Ok(pick_at(query.all(db).await?, at))
}

/// Organisations valid at `at` whose folded name contains every word of `text`: exact
/// matches first, then names starting with the text, then the rest; larger populations
/// first within each.
pub async fn search(
    db: &DatabaseConnection,
    text: &str,
    kinds: &[OrganisationKind],
    first: usize,
    at: NaiveDate,
) -> AppResult<Vec<Organisation>> {
    use organisation::Column as C;
    let folded = fold(text);
    if folded.is_empty() {
        return Err(AppError::bad_input(
            "text",
            "`text` must contain a letter or digit",
        ));
    }
    let mut query = organisation::Entity::find().filter(valid_at(C::ValidFrom, C::ValidTo, at));
    for word in folded.split(' ') {
        query = query.filter(C::SearchName.like(format!("%{word}%")));
    }
    if !kinds.is_empty() {
        query = query.filter(C::Kind.is_in(kinds.to_vec()));
    }
    let rank: Expr = Expr::case(Expr::col(C::SearchName).eq(folded.as_str()), 0)
        .case(Expr::col(C::SearchName).like(format!("{folded}%")), 1)
        .case(Expr::col(C::SearchName).like(format!("%{folded}%")), 2)
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
        .all(db)
        .await?)
}

/// A membership with the organisation at its other end.
pub type MembershipWith = (membership::Model, Organisation);

/// The memberships of each member in `member_ids` (valid at `at` when given), with their group.
pub async fn memberships_of(
    db: &DatabaseConnection,
    member_ids: &[i64],
    at: Option<NaiveDate>,
) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
    use membership::Column as M;
    let mut query = membership::Entity::find()
        .join(JoinType::InnerJoin, membership::Relation::Group.def())
        .filter(M::MemberId.is_in(member_ids.to_vec()));
    if let Some(at) = at {
        query = query.filter(valid_at(M::ValidFrom, M::ValidTo, at));
    }
    let rows = query
        .select_also(organisation::Entity)
        .order_by(M::ValidFrom, Order::Asc)
        .order_by(M::Id, Order::Asc)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for (m, group) in rows {
        if let Some(group) = group {
            out.entry(m.member_id).or_default().push((m, group));
        }
    }
    Ok(out)
}

/// The members of each group in `group_ids` valid at `at`, with the member organisation,
/// ordered by folded name.
pub async fn members_of(
    db: &DatabaseConnection,
    group_ids: &[i64],
    at: NaiveDate,
    kinds: &[OrganisationKind],
) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
    use membership::Column as M;
    let mut query = membership::Entity::find()
        .join(JoinType::InnerJoin, membership::Relation::Member.def())
        .filter(M::GroupId.is_in(group_ids.to_vec()))
        .filter(valid_at(M::ValidFrom, M::ValidTo, at));
    if !kinds.is_empty() {
        query = query.filter(organisation::Column::Kind.is_in(kinds.to_vec()));
    }
    let rows = query
        .select_also(organisation::Entity)
        .order_by(organisation::Column::SearchName, Order::Asc)
        .order_by(organisation::Column::Id, Order::Asc)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for (m, member) in rows {
        if let Some(member) = member {
            out.entry(m.group_id).or_default().push((m, member));
        }
    }
    Ok(out)
}

/// Which side of a succession to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a successor to its predecessors.
    Predecessors,
    /// From a predecessor to its successors.
    Successors,
}

/// The successions of each organisation in `ids`, with the organisation at the other end.
pub async fn successions_of(
    db: &DatabaseConnection,
    ids: &[i64],
    direction: Direction,
) -> AppResult<HashMap<i64, Vec<(succession::Model, Organisation)>>> {
    use succession::Column as S;
    let (this, other) = match direction {
        Direction::Predecessors => (S::SuccessorId, S::PredecessorId),
        Direction::Successors => (S::PredecessorId, S::SuccessorId),
    };
    let rows = succession::Entity::find()
        .filter(this.is_in(ids.to_vec()))
        .order_by(S::Date, Order::Asc)
        .order_by(S::Id, Order::Asc)
        .all(db)
        .await?;
    let other_ids: Vec<i64> = rows
        .iter()
        .map(|s| match direction {
            Direction::Predecessors => s.predecessor_id,
            Direction::Successors => s.successor_id,
        })
        .collect();
    let _ = other;
    let orgs: HashMap<i64, Organisation> = by_ids(db, &other_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut out: HashMap<i64, Vec<(succession::Model, Organisation)>> = HashMap::new();
    for s in rows {
        let (key, other) = match direction {
            Direction::Predecessors => (s.successor_id, s.predecessor_id),
            Direction::Successors => (s.predecessor_id, s.successor_id),
        };
        if let Some(o) = orgs.get(&other) {
            out.entry(key).or_default().push((s, o.clone()));
        }
    }
    Ok(out)
}

/// Kinds of membership, re-exported for callers.
pub use entity::MembershipKind as Kind;

/// Whether `kind` of membership is in `kinds` (empty: all).
pub fn kind_selected(kinds: &[MembershipKind], kind: MembershipKind) -> bool {
    kinds.is_empty() || kinds.contains(&kind)
}
