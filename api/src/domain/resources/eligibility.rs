//! Who may use a resource: its owner, what its coverage names (the owner's members, a
//! territory, organisations), and the beneficiaries of an active agreement linking it.

use chrono::NaiveDate;
use entity::{CoverageScope, OrganisationKind, organisation};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Resource;
use crate::domain::territory::groups_of;
use crate::domain::valid_at;
use crate::error::AppResult;

/// Every organisation a coverage rule may name to include `org` at `at`: `org` itself
/// (first), the groups above it through memberships, and the département and région it
/// lies in (an EPCI's or a partner's seat, as the registry records it).
pub async fn reach<C: ConnectionTrait>(db: &C, org: i64, at: NaiveDate) -> AppResult<Vec<i64>> {
    let mut out = vec![org];
    out.extend(
        groups_of(db, &[org], at)
            .await?
            .into_iter()
            .filter(|&g| g != org),
    );
    let seat: Option<(Option<String>, Option<String>)> = organisation::Entity::find_by_id(org)
        .select_only()
        .column(organisation::Column::DepartementCode)
        .column(organisation::Column::RegionCode)
        .into_tuple()
        .one(db)
        .await?;
    if let Some((dep, reg)) = seat {
        let mut by_code = Condition::any();
        if let Some(dep) = dep {
            by_code = by_code.add(
                Condition::all()
                    .add(organisation::Column::Kind.eq(OrganisationKind::Departement))
                    .add(organisation::Column::InseeCode.eq(dep)),
            );
        }
        if let Some(reg) = reg {
            by_code = by_code.add(
                Condition::all()
                    .add(organisation::Column::Kind.eq(OrganisationKind::Region))
                    .add(organisation::Column::InseeCode.eq(reg)),
            );
        }
        if !by_code.is_empty() {
            let territories: Vec<i64> = organisation::Entity::find()
                .select_only()
                .column(organisation::Column::Id)
                .filter(by_code)
                .filter(valid_at(
                    organisation::Column::ValidFrom,
                    organisation::Column::ValidTo,
                    at,
                ))
                .into_tuple()
                .all(db)
                .await?;
            for t in territories {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    Ok(out)
}

/// Whether the coverage of `resource` includes the organisation whose reach is `reach`
/// (`reach[0]` being the organisation itself).
pub fn covered(resource: &Resource, reach: &[i64]) -> bool {
    let Some(&org) = reach.first() else {
        return false;
    };
    org == resource.model.owner_id
        || resource.coverage.iter().any(|rule| match rule.scope {
            CoverageScope::Organisation => rule.organisation_id == Some(org),
            CoverageScope::Territory => rule.organisation_id.is_some_and(|t| reach.contains(&t)),
            CoverageScope::OwnerMembers => reach.contains(&resource.model.owner_id),
        })
}
