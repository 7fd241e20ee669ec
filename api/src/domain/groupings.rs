//! Registering groupings the national reference does not hold (syndicats, PETR) with their
//! members, as the préfecture's arrêté creating them says.

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, membership, organisation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

use super::audit::{Change, Operation, WriteContext};
use super::registry::{self, Organisation};
use super::text::fold;
use super::{authz, codes, contains, valid_at};
use crate::error::{AppError, AppResult};

/// Most members a grouping may be registered with.
pub const MAX_MEMBERS: usize = 2000;

/// Kinds a member of a grouping may be.
const MEMBER_KINDS: [OrganisationKind; 10] = [
    OrganisationKind::Commune,
    OrganisationKind::Cc,
    OrganisationKind::Ca,
    OrganisationKind::Cu,
    OrganisationKind::Metropole,
    OrganisationKind::MetropoleLyon,
    OrganisationKind::Ept,
    OrganisationKind::Syndicat,
    OrganisationKind::Departement,
    OrganisationKind::Region,
];

/// A grouping to register.
#[derive(Debug, Clone)]
pub struct NewGrouping {
    /// `SYNDICAT` or `PETR`.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// SIREN.
    pub siren: String,
    /// Member organisations (ids).
    pub members: Vec<i64>,
    /// First day of existence and of the memberships.
    pub valid_from: NaiveDate,
    /// Département of its seat (COG code).
    pub departement: Option<String>,
}

/// Registers a grouping and its memberships, in one transaction.
pub async fn register(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewGrouping,
) -> AppResult<Organisation> {
    authz::require_register_grouping(&ctx.actor)?;
    if !matches!(
        new.kind,
        OrganisationKind::Syndicat | OrganisationKind::Petr
    ) {
        return Err(AppError::bad_input(
            "input.kind",
            "a grouping is a SYNDICAT or a PETR",
        ));
    }
    let name = codes::check_text("input.name", &new.name, 2, 300)?;
    codes::check_siren("input.siren", &new.siren)?;
    if let Some(d) = &new.departement {
        codes::check_departement_code("input.departement", d)?;
    }
    let mut members = new.members.clone();
    members.sort_unstable();
    members.dedup();
    if members.is_empty() || members.len() > MAX_MEMBERS {
        return Err(AppError::bad_input(
            "input.members",
            format!("a grouping has 1 to {MAX_MEMBERS} members"),
        ));
    }

    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    crate::domain::lock_registry(&txn).await?;
    let found = registry::by_ids_in(&txn, &members).await?;
    for id in &members {
        let Some(m) = found.iter().find(|o| o.id == *id) else {
            return Err(AppError::bad_input(
                "input.members",
                format!("unknown member {id}"),
            ));
        };
        if !MEMBER_KINDS.contains(&m.kind) || !contains(m.valid_from, m.valid_to, new.valid_from) {
            return Err(AppError::bad_input(
                "input.members",
                format!(
                    "{} cannot be a member on {} (a commune, an EPCI, a syndicat, a département \
                     or a région existing then)",
                    m.name, new.valid_from
                ),
            ));
        }
    }
    let taken = organisation::Entity::find()
        .filter(organisation::Column::Siren.eq(new.siren.as_str()))
        .filter(valid_at(
            organisation::Column::ValidFrom,
            organisation::Column::ValidTo,
            new.valid_from,
        ))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict(
            "an organisation with this SIREN is already registered".into(),
        ));
    }
    let now = ctx.now;
    let created = organisation::Entity::insert(organisation::ActiveModel {
        kind: Set(new.kind),
        name: Set(name.clone()),
        search_name: Set(fold(&name)),
        siren: Set(Some(new.siren.clone())),
        departement_code: Set(new.departement.clone()),
        valid_from: Set(Some(new.valid_from)),
        source: Set("DECLARED".into()),
        registered_by_id: Set(ctx.actor.organisation_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    membership::Entity::insert_many(members.iter().map(|&m| membership::ActiveModel {
        member_id: Set(m),
        group_id: Set(created.id),
        kind: Set(MembershipKind::Member),
        valid_from: Set(Some(new.valid_from)),
        source: Set("DECLARED".into()),
        ..Default::default()
    }))
    .exec_without_returning(&txn)
    .await?;
    txn.record(Change {
        action: "registerGrouping",
        entity_type: "Organisation",
        entity_id: created.id,
        owner: Some(created.id),
        operation: Operation::Created,
        before: None,
        after: Some(json!({
            "kind": created.kind, "name": created.name, "siren": created.siren,
            "validFrom": created.valid_from, "members": members,
        })),
    })
    .await?;
    // Each member's `memberOf` changed: a mirror following the feed must hear of it.
    for &member in &members {
        txn.record(Change {
            action: "registerGrouping",
            entity_type: "Organisation",
            entity_id: member,
            owner: Some(member),
            operation: Operation::Updated,
            before: None,
            after: Some(json!({ "groupId": created.id, "validFrom": created.valid_from })),
        })
        .await?;
    }
    txn.commit().await?;
    registry::by_ids(db, &[created.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)
}
