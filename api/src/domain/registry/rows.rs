//! The rows registry reads return: only the columns reads need, decoded by position.

use std::sync::Arc;

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, membership, organisation};
use sea_orm::{
    DbErr, EntityTrait, FromQueryResult, JoinType, QueryResult, QuerySelect, RelationTrait, Select,
};

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
    /// Folded alternate names, which search matches too.
    pub search_aliases: Option<String>,
    /// A commune's postal codes, space-separated; search matches them too.
    pub postal_codes: Option<String>,
}

const ORGANISATION_COLUMNS: [organisation::Column; 17] = [
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
    organisation::Column::SearchAliases,
    organisation::Column::PostalCodes,
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
    /// Provenance source (shared with the in-memory registry's interned copy: a commune's
    /// memberships are read for each of its EPCI, département and région).
    pub source: Arc<str>,
    /// Provenance vintages.
    pub vintages: Option<Arc<str>>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipWith {
    /// The membership.
    pub membership: Membership,
    /// The member or the group, whichever the query started from the other (shared with
    /// the in-memory registry's row: a commune's memberships name a dozen groups, whose
    /// copies were a tenth of a list's cost).
    pub organisation: Arc<Organisation>,
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
            search_aliases: res.try_get_by_index(at + 15)?,
            postal_codes: res.try_get_by_index(at + 16)?,
        })
    }
}

impl FromQueryResult for Organisation {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Self::from_row(res, 0)
    }
}

impl Membership {
    fn from_row(res: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            id: res.try_get_by_index(0)?,
            member_id: res.try_get_by_index(1)?,
            group_id: res.try_get_by_index(2)?,
            kind: res.try_get_by_index(3)?,
            valid_from: res.try_get_by_index(4)?,
            valid_to: res.try_get_by_index(5)?,
            source: res.try_get_by_index::<String>(6)?.into(),
            vintages: res.try_get_by_index::<Option<String>>(7)?.map(Into::into),
        })
    }
}

impl FromQueryResult for Membership {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Self::from_row(res)
    }
}

impl FromQueryResult for MembershipWith {
    fn from_query_result(res: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            membership: Membership::from_row(res)?,
            organisation: Arc::new(Organisation::from_row(res, MEMBERSHIP_COLUMNS.len())?),
        })
    }
}

/// Organisations, reading only the columns of [`Organisation`].
pub(crate) fn organisations() -> Select<organisation::Entity> {
    organisation::Entity::find()
        .select_only()
        .columns(ORGANISATION_COLUMNS)
}

/// Memberships, reading only the columns of [`Membership`].
pub(super) fn memberships() -> Select<membership::Entity> {
    membership::Entity::find()
        .select_only()
        .columns(MEMBERSHIP_COLUMNS)
}

/// Memberships joined with the organisation at `other` end, aliased for [`MembershipWith`].
pub(super) fn memberships_with(other: membership::Relation) -> Select<membership::Entity> {
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
