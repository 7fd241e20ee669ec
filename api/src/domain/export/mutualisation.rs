//! Pages of the mutualisation datasets: shared resources and agreements, as the reader may
//! see them.

use chrono::NaiveDate;
use entity::{AgreementStatus, agreement, agreement_party, resource};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Field, PAGE, Page, Ref, v};
use crate::auth::{Actor, Role};
use crate::domain::agreements;
use crate::domain::resources::{from_milli, visible_to};
use crate::error::AppResult;

/// Resources the actor may see, as they are in the snapshot.
pub(super) async fn resources(
    txn: &DatabaseTransaction,
    actor: &Actor,
    after: i64,
) -> AppResult<Page> {
    let rows = resource::Entity::find()
        .filter(resource::Column::Id.gt(after))
        .filter(visible_to(actor))
        .order_by_asc(resource::Column::Id)
        .limit(PAGE)
        .all(txn)
        .await?;
    let last = rows.last().map_or(after, |r| r.id);
    let out = rows
        .into_iter()
        .map(|r| {
            vec![
                Field::Ref(Ref::Resource(r.id)),
                Field::Ref(Ref::Organisation(r.owner_id)),
                v(r.kind),
                v(r.name),
                v(r.description),
                v(from_milli(r.capacity_milli)),
                v(r.unit),
                r.location_id
                    .map_or(v(None::<String>), |l| Field::Ref(Ref::Organisation(l))),
                v(r.cost_model),
                v(r.cost_amount_cents.map(|c| c as f64 / 100.0)),
                v(r.conditions),
                v(r.visibility),
                v(r.status),
                v(r.booking_policy),
            ]
        })
        .collect();
    Ok((out, last))
}

/// Agreements the actor may see (signed ones are public acts; drafts and proposals are for
/// their parties and the State), with their status at `at`.
pub(super) async fn agreements(
    txn: &DatabaseTransaction,
    actor: &Actor,
    at: NaiveDate,
    after: i64,
) -> AppResult<Page> {
    let mut query = agreement::Entity::find().filter(agreement::Column::Id.gt(after));
    if !(actor.has(Role::State) || actor.has(Role::Superadmin)) {
        let mut visible = Condition::any().add(
            agreement::Column::Status.is_in([AgreementStatus::Signed, AgreementStatus::Terminated]),
        );
        if let Some(org) = actor.organisation_id
            && !actor.roles.is_empty()
        {
            visible = visible.add(
                agreement::Column::Id.in_subquery(
                    Query::select()
                        .column(agreement_party::Column::AgreementId)
                        .from(agreement_party::Entity)
                        .and_where(agreement_party::Column::OrganisationId.eq(org))
                        .to_owned(),
                ),
            );
        }
        query = query.filter(visible);
    }
    let ids: Vec<i64> = query
        .select_only()
        .column(agreement::Column::Id)
        .order_by_asc(agreement::Column::Id)
        .limit(PAGE)
        .into_tuple()
        .all(txn)
        .await?;
    let last = ids.last().copied().unwrap_or(after);
    let out = agreements::by_ids(txn, &ids)
        .await?
        .into_iter()
        .map(|a| {
            vec![
                Field::Ref(Ref::Agreement(a.model.id)),
                v(a.model.kind),
                v(&a.model.title),
                v(&a.model.legal_basis),
                v(a.status(at)),
                Field::Ref(Ref::Organisation(a.model.drafted_by_id)),
                Field::Parties(
                    a.parties
                        .iter()
                        .map(|p| (p.organisation_id, p.role))
                        .collect(),
                ),
                v(a.model.valid_from),
                v(a.end()),
                v(a.model.direct_booking),
                Field::Refs(a.resources.iter().map(|&r| Ref::Resource(r)).collect()),
                Field::Texts(
                    a.competences
                        .iter()
                        .map(|c| c.competence_code.clone())
                        .collect(),
                ),
            ]
        })
        .collect();
    Ok((out, last))
}
