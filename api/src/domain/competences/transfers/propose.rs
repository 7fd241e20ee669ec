//! Proposing a transfer: between a member and its group with both parties asked, or from an
//! EPCI à fiscalité propre to all its member councils, asked to decide by qualified majority.

use chrono::{Months, NaiveDate};
use entity::{CompetenceRole, OrganisationKind, TransferRule, TransferStatus, transfer};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::{Transfer, one, record};
use crate::auth::Role;
use crate::domain::audit::{Operation, WriteContext};
use crate::domain::competences::catalogue::Catalogue;
use crate::domain::competences::holdings;
use crate::domain::consent::{self, Subject, majority};
use crate::domain::registry::{self, Organisation};
use crate::domain::territory::{communes_of, groups_of};
use crate::domain::{authz, codes};
use crate::error::{AppError, AppResult};

/// The EPCI à fiscalité propre: competences come to them from all their members at once.
pub const FISCAL_KINDS: [OrganisationKind; 4] = [
    OrganisationKind::Cc,
    OrganisationKind::Ca,
    OrganisationKind::Cu,
    OrganisationKind::Metropole,
];

/// How long member councils have to decide (CGCT L5211-17).
const TIME_TO_DECIDE: Months = Months::new(3);

/// A transfer to propose.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Competence code.
    pub competence: String,
    /// The giver; none when an EPCI à fiscalité propre proposes it for all its members.
    pub from_id: Option<i64>,
    /// The receiver.
    pub to_id: i64,
    /// First day the receiver holds it.
    pub effective_date: NaiveDate,
    /// Legal reference.
    pub legal_reference: Option<String>,
}

/// Proposes a transfer. Named giver: an editor or admin of either party proposes and both
/// are asked. No giver: an editor or admin of an EPCI à fiscalité propre proposes it for
/// every member commune, each council asked, the majority counted on legal populations.
pub async fn propose(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: NewTransfer,
    today: NaiveDate,
) -> AppResult<Transfer> {
    authz::require_authenticated(&ctx.actor)?;
    let legal_reference = check_proposal(catalogue, &new, today)?;
    let receiver = reads
        .by_ids(&[new.to_id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("organisation not found".into()))?;
    match new.from_id {
        None => {
            to_members(
                db,
                reads,
                catalogue,
                ctx,
                &new,
                receiver,
                legal_reference,
                today,
            )
            .await
        }
        Some(from) => {
            between(
                db,
                reads,
                catalogue,
                ctx,
                &new,
                from,
                &receiver,
                legal_reference,
            )
            .await
        }
    }
}

/// Checks what a proposal says on its own (the code, the catalogue, the date, the
/// reference); returns the reference as checked.
pub(super) fn check_proposal(
    catalogue: &Catalogue,
    new: &NewTransfer,
    today: NaiveDate,
) -> AppResult<Option<String>> {
    codes::check_competence_code("input.competence", &new.competence)?;
    if catalogue.get(&new.competence).is_none() {
        return Err(AppError::bad_input(
            "input.competence",
            format!("`{}` is not in the competence catalogue", new.competence),
        ));
    }
    if new.effective_date < today {
        return Err(AppError::bad_input(
            "input.effectiveDate",
            "a transfer takes effect today or later",
        ));
    }
    new.legal_reference
        .as_deref()
        .map(|r| codes::check_text("input.legalReference", r, 1, 500))
        .transpose()
}

/// Whether `org` holds `code` on `at`, and the answer's source.
async fn holding(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    orgs: &[Organisation],
    code: &str,
    at: NaiveDate,
) -> AppResult<Vec<(i64, String)>> {
    let held = holdings::of_organisations(db, reads, catalogue, orgs, at).await?;
    Ok(held
        .into_iter()
        .filter_map(|(org, rs)| {
            rs.into_iter()
                .find(|r| {
                    r.role == CompetenceRole::Holder && catalogue.at(r.competence).code == code
                })
                .map(|r| (org, r.source))
        })
        .collect())
}

/// A transfer between two named parties.
#[allow(clippy::too_many_arguments)]
async fn between(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: &NewTransfer,
    from: i64,
    receiver: &Organisation,
    legal_reference: Option<String>,
) -> AppResult<Transfer> {
    let proposer = [from, new.to_id]
        .into_iter()
        .find(|&p| ctx.actor.acts_for(p, &[Role::Editor, Role::Admin]))
        .ok_or_else(|| {
            AppError::Forbidden("only the editors of a party may propose a transfer".into())
        })?;
    if from == new.to_id {
        return Err(AppError::bad_input(
            "input.toId",
            "an organisation cannot transfer to itself",
        ));
    }
    let eff = new.effective_date;
    // What the giver holds is read before the transaction: the registry reads it takes must
    // not wait for a connection that concurrent writers hold.
    let giver = reads
        .by_ids(&[from])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("organisation not found".into()))?;
    if holding(
        db,
        reads,
        catalogue,
        std::slice::from_ref(&giver),
        &new.competence,
        eff,
    )
    .await?
    .is_empty()
    {
        return Err(AppError::bad_input(
            "input.fromId",
            format!("the giver does not hold {} on {eff}", new.competence),
        ));
    }
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let upward = groups_of(&txn, &[from], eff).await?.contains(&new.to_id);
    let downward = !upward && groups_of(&txn, &[new.to_id], eff).await?.contains(&from);
    if !upward && !downward {
        return Err(AppError::bad_input(
            "input.toId",
            "a transfer goes between an organisation and a group it belongs to on the effective date",
        ));
    }
    if upward && FISCAL_KINDS.contains(&receiver.kind) {
        return Err(AppError::bad_input(
            "input.fromId",
            format!(
                "a commune does not transfer a competence to its EPCI à fiscalité propre alone: \
                 {} proposes it for all its members, whose councils decide by qualified majority \
                 ({}); leave fromId out",
                receiver.name,
                majority::REFERENCE
            ),
        ));
    }
    if downward && FISCAL_KINDS.contains(&giver.kind) {
        return Err(AppError::bad_input(
            "input.toId",
            "an EPCI à fiscalité propre does not hand a competence back to one member: a \
             restitution is decided for all of them (CGCT L5211-17-1): use \
             proposeCompetenceRestitution",
        ));
    }
    let model = insert(
        &txn,
        ctx,
        transfer::ActiveModel {
            from_id: Set(from),
            whole_territory: Set(upward),
            rule: Set(TransferRule::Unanimity),
            decision_deadline: Set(None),
            proposed_by_id: Set(proposer),
            ..row(new, legal_reference)
        },
    )
    .await?;
    consent::open(&txn, Subject::Transfer, model.id, &[from, new.to_id]).await?;
    finish(txn, ctx, "proposeCompetenceTransfer", model).await
}

/// A transfer to an EPCI à fiscalité propre from all its member communes.
#[allow(clippy::too_many_arguments)]
async fn to_members(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: &NewTransfer,
    epci: Organisation,
    legal_reference: Option<String>,
    today: NaiveDate,
) -> AppResult<Transfer> {
    if !FISCAL_KINDS.contains(&epci.kind) {
        return Err(AppError::bad_input(
            "input.fromId",
            format!(
                "name the giver: only an EPCI à fiscalité propre proposes a transfer for all \
                 its member communes ({})",
                majority::REFERENCE
            ),
        ));
    }
    if !ctx.actor.acts_for(epci.id, &[Role::Editor, Role::Admin]) {
        return Err(AppError::Forbidden(
            "only the editors of the EPCI may propose a transfer from its members".into(),
        ));
    }
    let eff = new.effective_date;
    if let Some((_, source)) = holding(
        db,
        reads,
        catalogue,
        std::slice::from_ref(&epci),
        &new.competence,
        eff,
    )
    .await?
    .pop()
    {
        return Err(AppError::bad_input(
            "input.competence",
            format!(
                "{} already holds {} on {eff} ({source})",
                epci.name, new.competence
            ),
        ));
    }
    let members = communes_of(db, epci.id, today).await?;
    let communes = reads.by_ids(&members).await?;
    if holding(db, reads, catalogue, &communes, &new.competence, eff)
        .await?
        .is_empty()
    {
        return Err(AppError::bad_input(
            "input.competence",
            format!(
                "no member commune of {} holds {} on {eff}",
                epci.name, new.competence
            ),
        ));
    }
    let councils = Councils {
        epci: epci.id,
        members,
        rule: TransferRule::QualifiedMajority,
        action: "proposeCompetenceTransfer",
    };
    ask_councils(db, ctx, councils, new, legal_reference, today).await
}

/// The member councils of an EPCI à fiscalité propre asked to decide, and how.
pub(super) struct Councils {
    /// The EPCI, proposer and both ends of the row.
    pub epci: i64,
    /// Its member communes, each council asked.
    pub members: Vec<i64>,
    /// How they decide.
    pub rule: TransferRule,
    /// The audited action.
    pub action: &'static str,
}

/// Records `new` as proposed by the EPCI and asks each member council to decide under
/// `councils.rule` within three months (CGCT L5211-17, L5211-17-1).
pub(super) async fn ask_councils(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    councils: Councils,
    new: &NewTransfer,
    legal_reference: Option<String>,
    today: NaiveDate,
) -> AppResult<Transfer> {
    let deadline = today
        .checked_add_months(TIME_TO_DECIDE)
        .ok_or(AppError::Internal)?;
    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    let model = insert(
        &txn,
        ctx,
        transfer::ActiveModel {
            from_id: Set(councils.epci),
            whole_territory: Set(true),
            rule: Set(councils.rule),
            decision_deadline: Set(Some(deadline)),
            proposed_by_id: Set(councils.epci),
            ..row(new, legal_reference)
        },
    )
    .await?;
    consent::open(&txn, Subject::Transfer, model.id, &councils.members).await?;
    finish(txn, ctx, councils.action, model).await
}

fn row(new: &NewTransfer, legal_reference: Option<String>) -> transfer::ActiveModel {
    transfer::ActiveModel {
        competence_code: Set(new.competence.clone()),
        to_id: Set(new.to_id),
        effective_date: Set(new.effective_date),
        status: Set(TransferStatus::Proposed),
        legal_reference: Set(legal_reference),
        version: Set(1),
        ..Default::default()
    }
}

/// Inserts the proposal unless the same one is already waiting.
async fn insert<C: ConnectionTrait>(
    txn: &C,
    ctx: &WriteContext,
    mut row: transfer::ActiveModel,
) -> AppResult<transfer::Model> {
    let already = || AppError::Conflict("the same transfer is already waiting for consent".into());
    let (Set(code), Set(from), Set(to)) = (&row.competence_code, &row.from_id, &row.to_id) else {
        return Err(AppError::Internal);
    };
    let pending = transfer::Entity::find()
        .filter(transfer::Column::CompetenceCode.eq(code.clone()))
        .filter(transfer::Column::FromId.eq(*from))
        .filter(transfer::Column::ToId.eq(*to))
        .filter(transfer::Column::Status.eq(TransferStatus::Proposed))
        .one(txn)
        .await?;
    if pending.is_some() {
        return Err(already());
    }
    row.created_at = Set(ctx.now);
    row.updated_at = Set(ctx.now);
    transfer::Entity::insert(row)
        .exec_with_returning(txn)
        .await
        // A concurrent proposal of the same transfer committed first (the unique index).
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => already(),
            other => other,
        })
}

async fn finish(
    txn: crate::domain::UnitOfWork<'_>,
    ctx: &WriteContext,
    action: &str,
    model: transfer::Model,
) -> AppResult<Transfer> {
    record(&txn, ctx, action, None, &model, Operation::Created).await?;
    let out = one(&txn, model.id).await?;
    txn.commit().await?;
    Ok(out)
}
