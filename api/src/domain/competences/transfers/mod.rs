//! Transfers: a competence moves between an organisation and a group it belongs to at an
//! effective date, once its parties have decided; the old holders' assignments end and the
//! new ones start on that date, in one transaction.
//!
//! Two rules decide, as the law makes them. Between a member and a syndicat, or a group
//! handing a competence back to one member, both parties approve. To an EPCI à fiscalité
//! propre, the EPCI proposes for all its member communes, whose councils decide by qualified
//! majority within three months, silence being approval (CGCT L5211-17); the result applies
//! to every member. An EPCI à fiscalité propre hands a competence the law does not impose
//! back to all its members the same way, silence then being refusal (CGCT L5211-17-1).

mod complete;
mod decide;
mod propose;
mod restitution;

use std::collections::HashMap;

use entity::{CompetenceRole, TransferRule, TransferStatus, organisation, transfer};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

pub use decide::{decide, settle, withdraw};
pub use propose::{NewTransfer, propose};
pub use restitution::{NewRestitution, propose_restitution};

use crate::domain::audit::{self, Change, Operation, WriteContext};
use crate::domain::consent::majority::{self, Council, Silence, Standing};
use crate::domain::consent::{self, Subject};
use crate::error::{AppError, AppResult};

/// The roles a transfer moves: the competence whole (decide, carry out, pay).
pub const MOVED_ROLES: [CompetenceRole; 3] = [
    CompetenceRole::Holder,
    CompetenceRole::Implementer,
    CompetenceRole::Financer,
];

/// A transfer with its consents.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The row.
    pub model: transfer::Model,
    /// Each party's consent.
    pub consents: Vec<entity::consent::Model>,
    /// Under a qualified majority, where the member councils stand.
    pub majority: Option<Standing>,
}

/// How the member councils decide under `rule`: what their silence counts as once the time to
/// decide has passed, and the article saying so; `None` where the parties decide unanimously.
pub fn by_councils(rule: TransferRule) -> Option<(Silence, &'static str)> {
    match rule {
        TransferRule::Unanimity => None,
        TransferRule::QualifiedMajority => Some((Silence::Approves, majority::REFERENCE)),
        TransferRule::Restitution => Some((Silence::Refuses, majority::RESTITUTION_REFERENCE)),
    }
}

fn snapshot(t: &transfer::Model) -> serde_json::Value {
    json!({
        "competence": t.competence_code, "fromId": t.from_id, "toId": t.to_id,
        "effectiveDate": t.effective_date, "wholeTerritory": t.whole_territory,
        "rule": t.rule, "decisionDeadline": t.decision_deadline,
        "status": t.status, "reason": t.reason, "version": t.version,
    })
}

/// The legal populations of `ids` (0 where none is shipped), read at once.
async fn populations<C: ConnectionTrait>(db: &C, ids: Vec<i64>) -> AppResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .column(organisation::Column::Population)
        .filter(organisation::Column::Id.is_in(ids))
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, p)| (id, p.unwrap_or(0)))
        .collect())
}

/// The member councils deciding by majority, each with its commune's legal population.
fn councils(consents: &[entity::consent::Model], populations: &HashMap<i64, i64>) -> Vec<Council> {
    consents
        .iter()
        .map(|c| Council {
            party: c.party_id,
            population: populations.get(&c.party_id).copied().unwrap_or(0),
            decision: c.decision,
        })
        .collect()
}

/// Where the member councils' `decisions` leave a transfer decided by majority.
async fn majority_tally<C: ConnectionTrait>(
    db: &C,
    decisions: &[entity::consent::Model],
    deadline_passed: bool,
    silence: Silence,
) -> AppResult<consent::Tally> {
    let populations = populations(db, decisions.iter().map(|c| c.party_id).collect()).await?;
    Ok(majority::outcome(
        &councils(decisions, &populations),
        deadline_passed,
        silence,
    ))
}

async fn with_consents<C: ConnectionTrait>(
    db: &C,
    rows: Vec<transfer::Model>,
) -> AppResult<Vec<Transfer>> {
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let mut consents: HashMap<i64, Vec<entity::consent::Model>> = HashMap::new();
    for c in consent::of(db, Subject::Transfer, &ids).await? {
        consents.entry(c.subject_id).or_default().push(c);
    }
    let by_majority = |t: &transfer::Model| by_councils(t.rule).is_some();
    let councillors: Vec<i64> = rows
        .iter()
        .filter(|t| by_majority(t))
        .flat_map(|t| {
            consents
                .get(&t.id)
                .into_iter()
                .flatten()
                .map(|c| c.party_id)
        })
        .collect();
    let populations = populations(db, councillors).await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let consents = consents.remove(&model.id).unwrap_or_default();
            let majority =
                by_majority(&model).then(|| majority::standing(&councils(&consents, &populations)));
            Transfer {
                model,
                consents,
                majority,
            }
        })
        .collect())
}

/// Transfers `ids` with their consents.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> AppResult<Vec<Transfer>> {
    let rows = transfer::Entity::find()
        .filter(transfer::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(transfer::Column::Id)
        .all(db)
        .await?;
    with_consents(db, rows).await
}

/// The transfers organisation `org` is a party to (giver, receiver, or a member council
/// asked), oldest first, with their consents.
pub async fn of_organisation(db: &DatabaseConnection, org: i64) -> AppResult<Vec<Transfer>> {
    let asked = consent::subjects_of(db, Subject::Transfer, org).await?;
    let rows = transfer::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(transfer::Column::FromId.eq(org))
                .add(transfer::Column::ToId.eq(org))
                .add(transfer::Column::Id.is_in(asked)),
        )
        .order_by_asc(transfer::Column::Id)
        .all(db)
        .await?;
    with_consents(db, rows).await
}

/// Transfer `id` with its consents, locked until the transaction ends: parties deciding at
/// once take turns, each seeing the decisions committed before it.
async fn one<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Transfer> {
    crate::domain::lock_row::<transfer::Entity, _>(db, id).await?;
    by_ids(db, &[id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound(format!("transfer {id} not found")))
}

async fn record<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: Option<&transfer::Model>,
    after: &transfer::Model,
    operation: Operation,
) -> AppResult<()> {
    audit::record(
        txn,
        ctx,
        Change {
            action,
            entity_type: "Transfer",
            entity_id: after.id,
            owner: Some(after.from_id),
            operation,
            before: before.map(snapshot),
            after: Some(snapshot(after)),
        },
    )
    .await?;
    Ok(())
}

async fn set_status<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    action: &str,
    before: &transfer::Model,
    status: TransferStatus,
    reason: Option<String>,
) -> AppResult<()> {
    let res = transfer::Entity::update_many()
        .col_expr(transfer::Column::Status, status.into())
        .col_expr(transfer::Column::Reason, reason.into())
        .col_expr(transfer::Column::Version, (before.version + 1).into())
        .col_expr(transfer::Column::UpdatedAt, ctx.now.into())
        .filter(transfer::Column::Id.eq(before.id))
        .filter(transfer::Column::Status.eq(TransferStatus::Proposed))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the transfer is no longer proposed".into(),
        ));
    }
    let after = one(txn, before.id).await?.model;
    record(txn, ctx, action, Some(before), &after, Operation::Updated).await
}
