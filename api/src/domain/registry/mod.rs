//! The registry: organisations, memberships and successions, read as of a date.

mod lease;
mod links;
mod list;
mod memory;
mod reads;
mod rows;

use chrono::NaiveDate;
use entity::{OrganisationKind, organisation};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};

pub use lease::{LEASE, RENEW_EVERY, wait_for_readers};
pub use links::{Direction, members_of, memberships_of, successions_of};
pub use list::{
    OrderField, OrganisationFilter, OrganisationOrder, OrganisationPage, count, cursor_of, list,
    normalise_filter, search,
};
pub use reads::{Reads, RegistryCache, version};
pub(crate) use rows::organisations;
pub use rows::{Membership, MembershipWith, Organisation};

use super::{codes, contains};
use crate::error::AppResult;

/// Organisations by id, in no particular order.
pub async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> AppResult<Vec<Organisation>> {
    Ok(organisations()
        .filter(organisation::Column::Id.is_in(ids.to_vec()))
        .into_model::<Organisation>()
        .all(db)
        .await?)
}

/// Organisations by id on any connection (a transaction too), in no particular order.
pub async fn by_ids_in<C: sea_orm::ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<Vec<Organisation>> {
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

/// The organisation the law data added under `source` (`law:KEY`), valid at `at`.
pub async fn by_source(
    db: &DatabaseConnection,
    source: &str,
    at: NaiveDate,
) -> AppResult<Option<Organisation>> {
    let found = organisations()
        .filter(organisation::Column::Source.eq(source))
        .into_model()
        .all(db)
        .await?;
    Ok(pick_at(found, at).filter(|o| contains(o.valid_from, o.valid_to, at)))
}

/// The State services serving each of `territories` (départements, régions) at `at`, by id.
pub async fn state_services_serving(
    db: &DatabaseConnection,
    territories: &[Organisation],
    at: NaiveDate,
) -> AppResult<Vec<Organisation>> {
    let ids: Vec<i64> = territories
        .iter()
        .filter(|t| {
            matches!(
                t.kind,
                OrganisationKind::Departement | OrganisationKind::Region
            )
        })
        .map(|t| t.id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(organisations()
        .filter(organisation::Column::Kind.eq(OrganisationKind::StateService))
        .filter(organisation::Column::TerritoryId.is_in(ids))
        .filter(crate::domain::valid_at(
            organisation::Column::ValidFrom,
            organisation::Column::ValidTo,
            at,
        ))
        .order_by_asc(organisation::Column::Id)
        .into_model()
        .all(db)
        .await?)
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
