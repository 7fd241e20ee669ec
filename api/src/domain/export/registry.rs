//! Pages of the registry's datasets: organisations, memberships, the competence catalogue,
//! declared assignments.

use chrono::NaiveDate;
use entity::{assignment, assignment_scope, competence, membership, organisation};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Field, PAGE, Page, Ref, v};
use crate::domain::valid_at;
use crate::error::AppResult;

/// Organisations valid at `at`.
pub(super) async fn organisations(
    txn: &DatabaseTransaction,
    at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let rows = organisation::Entity::find()
        .filter(organisation::Column::Id.gt(after))
        .filter(valid_at(
            organisation::Column::ValidFrom,
            organisation::Column::ValidTo,
            at,
        ))
        .order_by_asc(organisation::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |o| o.id);
    let out = rows
        .into_iter()
        .map(|o| {
            vec![
                Field::Ref(Ref::Organisation(o.id)),
                v(o.kind),
                v(o.name),
                v(o.insee_code),
                v(o.siren),
                v(o.population),
                v(o.departement_code),
                v(o.region_code),
                v(o.valid_from),
                v(o.valid_to),
            ]
        })
        .collect();
    Ok((out, last))
}

/// Memberships valid at `at`.
pub(super) async fn memberships(
    txn: &DatabaseTransaction,
    at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let rows = membership::Entity::find()
        .filter(membership::Column::Id.gt(after))
        .filter(valid_at(
            membership::Column::ValidFrom,
            membership::Column::ValidTo,
            at,
        ))
        .order_by_asc(membership::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |m| m.id);
    // Both ends by their official codes too: partners know those, not our IDs.
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|m| [m.member_id, m.group_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let codes: std::collections::HashMap<i64, (Option<String>, Option<String>)> =
        organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(ids))
            .all(txn)
            .await?
            .into_iter()
            .map(|o| (o.id, (o.insee_code, o.siren)))
            .collect();
    let code = |id: i64| codes.get(&id).cloned().unwrap_or_default();
    let out = rows
        .into_iter()
        .map(|m| {
            let (member_insee, member_siren) = code(m.member_id);
            let (group_insee, group_siren) = code(m.group_id);
            vec![
                Field::Ref(Ref::Organisation(m.member_id)),
                v(member_insee),
                v(member_siren),
                Field::Ref(Ref::Organisation(m.group_id)),
                v(group_insee),
                v(group_siren),
                v(m.kind),
                v(m.valid_from),
                v(m.valid_to),
            ]
        })
        .collect();
    Ok((out, last))
}

/// The competence catalogue (whatever the date).
pub(super) async fn competences(
    txn: &DatabaseTransaction,
    _at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let rows = competence::Entity::find()
        // The key is the position plus one, so that 0 starts before the first.
        .filter(competence::Column::Position.gte(after as i32))
        .order_by_asc(competence::Column::Position)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |c| i64::from(c.position) + 1);
    let out = rows
        .into_iter()
        .map(|c| vec![v(c.code), v(c.label), v(c.category), v(c.nomenclature)])
        .collect();
    Ok((out, last))
}

/// Declared assignments valid at `at`, with their scopes.
pub(super) async fn assignments(
    txn: &DatabaseTransaction,
    at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let rows = assignment::Entity::find()
        .filter(assignment::Column::Id.gt(after))
        .filter(valid_at(
            assignment::Column::ValidFrom,
            assignment::Column::ValidTo,
            at,
        ))
        .order_by_asc(assignment::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |a| a.id);
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let scopes: Vec<(i64, i64)> = assignment_scope::Entity::find()
        .select_only()
        .column(assignment_scope::Column::AssignmentId)
        .column(assignment_scope::Column::CommuneId)
        .filter(assignment_scope::Column::AssignmentId.is_in(ids))
        .into_tuple()
        .all(txn)
        .await?;
    let out = rows
        .into_iter()
        .map(|a| {
            let scope = scopes
                .iter()
                .filter(|(id, _)| *id == a.id)
                .map(|(_, c)| Ref::Organisation(*c))
                .collect();
            vec![
                Field::Ref(Ref::Assignment(a.id)),
                Field::Ref(Ref::Organisation(a.organisation_id)),
                v(a.competence_code),
                v(a.role),
                v(a.basis),
                v(a.whole_territory),
                Field::Refs(scope),
                v(a.valid_from),
                v(a.valid_to),
                v(a.legal_reference),
            ]
        })
        .collect();
    Ok((out, last))
}
