//! Proposing a restitution (CGCT L5211-17-1): an EPCI à fiscalité propre hands a competence
//! the law does not impose on it back to all its member communes, whose councils decide by
//! the majority of a transfer, silence being refusal.

use chrono::NaiveDate;
use entity::{CompetenceRole, TransferRule};
use sea_orm::DatabaseConnection;

use super::Transfer;
use super::propose::{Councils, FISCAL_KINDS, NewTransfer, ask_councils, check_proposal};
use crate::auth::Role;
use crate::domain::audit::WriteContext;
use crate::domain::authz;
use crate::domain::competences::catalogue::Catalogue;
use crate::domain::competences::{Layer, holdings};
use crate::domain::consent::majority;
use crate::domain::registry;
use crate::domain::territory::communes_of;
use crate::error::{AppError, AppResult};

/// A restitution to propose (CGCT L5211-17-1).
#[derive(Debug, Clone)]
pub struct NewRestitution {
    /// Competence code.
    pub competence: String,
    /// The EPCI à fiscalité propre handing it back.
    pub epci_id: i64,
    /// First day the member communes hold it again.
    pub effective_date: NaiveDate,
    /// Legal reference (the council's deliberation).
    pub legal_reference: Option<String>,
}

/// Proposes that an EPCI à fiscalité propre (one of its editors or admins) hand a competence
/// the law does not impose on it back to all its member communes; each council is asked, the
/// majority counted on legal populations, silence for three months being refusal.
pub async fn propose_restitution(
    db: &DatabaseConnection,
    reads: &registry::Reads,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    new: NewRestitution,
    today: NaiveDate,
) -> AppResult<Transfer> {
    authz::require_authenticated(&ctx.actor)?;
    let as_transfer = NewTransfer {
        competence: new.competence,
        from_id: Some(new.epci_id),
        to_id: new.epci_id,
        effective_date: new.effective_date,
        legal_reference: new.legal_reference,
    };
    let legal_reference = check_proposal(catalogue, &as_transfer, today)?;
    let epci = reads
        .by_ids(&[new.epci_id])
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("organisation not found".into()))?;
    if !FISCAL_KINDS.contains(&epci.kind) {
        return Err(AppError::bad_input(
            "input.epciId",
            format!(
                "only an EPCI à fiscalité propre restitutes a competence to all its members \
                 ({}); a syndicat hands one back to a member with proposeCompetenceTransfer",
                majority::RESTITUTION_REFERENCE
            ),
        ));
    }
    if !ctx.actor.acts_for(epci.id, &[Role::Editor, Role::Admin]) {
        return Err(AppError::Forbidden(
            "only the editors of the EPCI may propose a restitution".into(),
        ));
    }
    let (code, eff) = (&as_transfer.competence, as_transfer.effective_date);
    let held = holdings::of_organisations(db, reads, catalogue, std::slice::from_ref(&epci), eff)
        .await?
        .into_values()
        .flatten()
        .find(|r| r.role == CompetenceRole::Holder && catalogue.at(r.competence).code == *code);
    match held {
        None => {
            return Err(AppError::bad_input(
                "input.competence",
                format!("{} does not hold {code} on {eff}", epci.name),
            ));
        }
        Some(r) if r.layer != Layer::Declared => {
            return Err(AppError::bad_input(
                "input.competence",
                format!(
                    "the law gives {code} to {} ({}): only a competence the law does not impose \
                     can be restituted ({})",
                    epci.name,
                    r.source,
                    majority::RESTITUTION_REFERENCE
                ),
            ));
        }
        Some(_) => {}
    }
    let councils = Councils {
        epci: epci.id,
        members: communes_of(db, epci.id, today).await?,
        rule: TransferRule::Restitution,
        action: "proposeCompetenceRestitution",
    };
    ask_councils(db, ctx, councils, &as_transfer, legal_reference, today).await
}
