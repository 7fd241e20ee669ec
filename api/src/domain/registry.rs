//! The registry: organisations, memberships and successions, read as of a date.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, membership, organisation, succession};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, JoinType,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationTrait,
    Select,
};
use serde::{Deserialize, Serialize};

use super::pagination::{decode_cursor, encode_cursor};
use super::text::{fold, fold_prefix};
use super::{codes, contains, valid_at};
use crate::error::{AppError, AppResult};

/// The columns of an organisation that reads need (never the import bookkeeping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Internal identifier.
    pub id: i64,
    /// Kind.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// INSEE COG code.
    pub insee_code: Option<String>,
    /// SIREN.
    pub siren: Option<String>,
    /// Population.
    pub population: Option<i64>,
    /// Start (inclusive).
    pub valid_from: Option<NaiveDate>,
    /// End (exclusive).
    pub valid_to: Option<NaiveDate>,
    /// Département code.
    pub departement_code: Option<String>,
    /// Région code.
    pub region_code: Option<String>,
    /// Territory served by a State service.
    pub territory_id: Option<i64>,
    /// Provenance source.
    pub source: String,
    /// Provenance vintages.
    pub vintages: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Folded name (sort key).
    pub search_name: String,
}

const ORGANISATION_COLUMNS: [organisation::Column; 15] = [
    organisation::Column::Id,
    organisation::Column::Kind,
    organisation::Column::Name,
    organisation::Column::InseeCode,
    organisation::Column::Siren,
    organisation::Column::Population,
    organisation::Column::ValidFrom,
    organisation::Column::ValidTo,
    organisation::Column::DepartementCode,
    organisation::Column::RegionCode,
    organisation::Column::TerritoryId,
    organisation::Column::Source,
    organisation::Column::Vintages,
    organisation::Column::Version,
    organisation::Column::SearchName,
];

/// The columns of a membership that reads need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Internal identifier.
    pub id: i64,
    /// Member.
    pub member_id: i64,
    /// Group.
    pub group_id: i64,
    /// Kind.
    pub kind: MembershipKind,
    /// Start (inclusive).
    pub valid_from: Option<NaiveDate>,
    /// End (exclusive).
    pub valid_to: Option<NaiveDate>,
    /// Provenance source.
    pub source: String,
    /// Provenance vintages.
    pub vintages: Option<String>,
}

const MEMBERSHIP_COLUMNS: [membership::Column; 8] = [
    membership::Column::Id,
    membership::Column::MemberId,
    membership::Column::GroupId,
    membership::Column::Kind,
    membership::Column::ValidFrom,
    membership::Column::ValidTo,
    membership::Column::Source,
    membership::Column::Vintages,
];

/// A membership with the organisation at its other end.
#[derive(Debug, Clone)]
pub struct MembershipWith {
    /// The membership.
    pub membership: Membership,
    /// The member or the group, whichever the query started from the other.
    pub organisation: Organisation,
}

// Rows are decoded by position: by name, sea-orm formats a column name per value read.
impl Organisation {
    fn from_row(res: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get_by_index(at)?,
            kind: res.try_get_by_index(at + 1)?,
            name: res.try_get_by_index(at + 2)?,
            insee_code: res.try_get_by_index(at + 3)?,
            siren: res.try_get_by_index(at + 4)?,
            population: res.try_get_by_index(at + 5)?,
            valid_from: res.try_get_by_index(at + 6)?,
            valid_to: res.try_get_by_index(at + 7)?,
            departement_code: res.try_get_by_index(at + 8)?,
            region_code: res.try_get_by_index(at + 9)?,
            territory_id: res.try_get_by_index(at + 10)?,
            source: res.try_get_by_index(at + 11)?,
            vintages: res.try_get_by_index(at + 12)?,
            version: res.try_get_by_index(at + 13)?,
            search_name: res.try_get_by_index(at + 14)?,
        })
    }
}

impl FromQueryResult for Organisation {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Self::from_row(res, 0)
    }
}

impl FromQueryResult for MembershipWith {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            membership: Membership {
                id: res.try_get_by_index(0)?,
                member_id: res.try_get_by_index(1)?,
                group_id: res.try_get_by_index(2)?,
                kind: res.try_get_by_index(3)?,
                valid_from: res.try_get_by_index(4)?,
                valid_to: res.try_get_by_index(5)?,
                source: res.try_get_by_index(6)?,
                vintages: res.try_get_by_index(7)?,
            },
            organisation: Organisation::from_row(res, MEMBERSHIP_COLUMNS.len())?,
        })
    }
}

/// Organisations, reading only the columns of [`Organisation`].
fn organisations() -> Select<organisation::Entity> {
    organisation::Entity::find()
        .select_only()
        .columns(ORGANISATION_COLUMNS)
}

/// Memberships joined with the organisation at `other` end, aliased for [`MembershipWith`].
fn memberships_with(other: membership::Relation) -> Select<membership::Entity> {
    let mut query = membership::Entity::find()
        .select_only()
        .join(JoinType::InnerJoin, other.def());
    for c in MEMBERSHIP_COLUMNS {
        query = query.column(c);
    }
    for c in ORGANISATION_COLUMNS {
        query = query.column(c);
    }
    query
}

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
        .into_model::<Organisation>()
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
    Ok(organisations()
        .filter(organisation::Column::Id.is_in(ids.to_vec()))
        .into_model::<Organisation>()
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
    let mut query = organisations().filter(organisation::Column::InseeCode.eq(code));
    if let Some(kind) = kind {
        query = query.filter(organisation::Column::Kind.eq(kind));
    }
    Ok(pick_at(query.into_model().all(db).await?, at))
}

/// The organisation with SIREN `siren` at `at`.
pub async fn by_siren(
    db: &DatabaseConnection,
    siren: &str,
    kind: Option<OrganisationKind>,
    at: NaiveDate,
) -> AppResult<Option<Organisation>> {
    codes::check_siren("siren", siren)?;
    let mut query = organisations().filter(organisation::Column::Siren.eq(siren));
    if let Some(kind) = kind {
        query = query.filter(organisation::Column::Kind.eq(kind));
    }
    Ok(pick_at(query.into_model().all(db).await?, at))
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
    let mut query = organisations().filter(valid_at(C::ValidFrom, C::ValidTo, at));
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
        .into_model::<Organisation>()
        .all(db)
        .await?)
}

/// The memberships of each member in `member_ids` (valid at `at` when given), with their group.
pub async fn memberships_of(
    db: &DatabaseConnection,
    member_ids: &[i64],
    at: Option<NaiveDate>,
) -> AppResult<HashMap<i64, Vec<MembershipWith>>> {
    use membership::Column as M;
    let mut query = memberships_with(membership::Relation::Group)
        .filter(M::MemberId.is_in(member_ids.to_vec()));
    if let Some(at) = at {
        query = query.filter(valid_at(M::ValidFrom, M::ValidTo, at));
    }
    let rows = query
        .order_by(M::ValidFrom, Order::Asc)
        .order_by(M::Id, Order::Asc)
        .into_model::<MembershipWith>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for row in rows {
        out.entry(row.membership.member_id).or_default().push(row);
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
    let mut query = memberships_with(membership::Relation::Member)
        .filter(M::GroupId.is_in(group_ids.to_vec()))
        .filter(valid_at(M::ValidFrom, M::ValidTo, at));
    if !kinds.is_empty() {
        query = query.filter(organisation::Column::Kind.is_in(kinds.to_vec()));
    }
    let rows = query
        .order_by(organisation::Column::SearchName, Order::Asc)
        .order_by(organisation::Column::Id, Order::Asc)
        .into_model::<MembershipWith>()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<MembershipWith>> = HashMap::new();
    for row in rows {
        out.entry(row.membership.group_id).or_default().push(row);
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
    let this = match direction {
        Direction::Predecessors => S::SuccessorId,
        Direction::Successors => S::PredecessorId,
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
