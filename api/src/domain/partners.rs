//! Registering partner organisations (associations, companies, State services, public bodies)
//! with validated identifiers.

use entity::{OrganisationKind, organisation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

use super::audit::{Change, Operation, WriteContext};
use super::registry::{self, Organisation};
use super::text::fold;
use super::{authz, codes, idempotency, valid_at};
use crate::error::{AppError, AppResult};

/// Kinds a partner may be registered as.
pub const PARTNER_KINDS: [OrganisationKind; 5] = [
    OrganisationKind::Association,
    OrganisationKind::Company,
    OrganisationKind::StateService,
    OrganisationKind::PublicBody,
    OrganisationKind::Other,
];

/// A partner to register.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewPartner {
    /// Kind.
    pub kind: OrganisationKind,
    /// Name.
    pub name: String,
    /// SIREN.
    pub siren: Option<String>,
    /// SIRET.
    pub siret: Option<String>,
    /// RNA number.
    pub rna: Option<String>,
    /// Département it is based in.
    pub departement: Option<String>,
}

/// Registers a partner organisation; a retried `idempotency_key` replays the first result.
pub async fn register(
    db: &DatabaseConnection,
    ctx: &WriteContext,
    new: NewPartner,
    idempotency_key: Option<&str>,
) -> AppResult<Organisation> {
    authz::require_register_partner(&ctx.actor)?;
    if !PARTNER_KINDS.contains(&new.kind) {
        return Err(AppError::bad_input(
            "input.kind",
            "a partner is an ASSOCIATION, COMPANY, STATE_SERVICE, PUBLIC_BODY or OTHER",
        ));
    }
    let name = codes::check_text("input.name", &new.name, 2, 300)?;
    if let Some(siren) = &new.siren {
        codes::check_siren("input.siren", siren)?;
    }
    if let Some(siret) = &new.siret {
        codes::check_siret("input.siret", siret)?;
        if new.siren.as_deref().is_some_and(|s| !siret.starts_with(s)) {
            return Err(AppError::bad_input(
                "input.siret",
                "the SIRET must start with the SIREN",
            ));
        }
    }
    if let Some(rna) = &new.rna {
        codes::check_rna("input.rna", rna)?;
    }
    if let Some(d) = &new.departement {
        codes::check_departement_code("input.departement", d)?;
    }
    let siren = new
        .siren
        .clone()
        .or_else(|| new.siret.as_ref().map(|s| s[..9].to_owned()));
    if siren.is_none() && new.rna.is_none() {
        return Err(AppError::bad_input(
            "input.siren",
            "give at least one identifier: SIREN, SIRET or RNA",
        ));
    }
    let hash = idempotency::input_hash(&serde_json::to_value(&new).unwrap_or_default());

    let txn = crate::domain::UnitOfWork::begin(db, ctx).await?;
    if let Some(id) = txn
        .replay(idempotency_key, "registerPartnerOrganisation", &hash)
        .await?
    {
        txn.commit().await?;
        return registry::by_ids(db, &[id])
            .await?
            .pop()
            .ok_or(AppError::Internal);
    }
    crate::domain::lock_registry(&txn).await?;
    let today = ctx.now.date_naive();
    let taken = match &siren {
        Some(s) => {
            organisation::Entity::find()
                .filter(organisation::Column::Siren.eq(s.as_str()))
                .filter(valid_at(
                    organisation::Column::ValidFrom,
                    organisation::Column::ValidTo,
                    today,
                ))
                .count(&txn)
                .await?
                > 0
        }
        None => false,
    };
    let rna_taken = match &new.rna {
        Some(r) => {
            organisation::Entity::find()
                .filter(organisation::Column::Rna.eq(r.as_str()))
                .count(&txn)
                .await?
                > 0
        }
        None => false,
    };
    if taken || rna_taken {
        return Err(AppError::Conflict(
            "an organisation with this identifier is already registered".into(),
        ));
    }
    let now = ctx.now;
    let created = organisation::Entity::insert(organisation::ActiveModel {
        kind: Set(new.kind),
        name: Set(name.clone()),
        search_name: Set(fold(&name)),
        siren: Set(siren),
        siret: Set(new.siret.clone()),
        rna: Set(new.rna.clone()),
        departement_code: Set(new.departement.clone()),
        valid_from: Set(Some(today)),
        source: Set("DECLARED".into()),
        registered_by_id: Set(ctx.actor.organisation_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    txn.remember(
        idempotency_key,
        "registerPartnerOrganisation",
        &hash,
        created.id,
    )
    .await?;
    txn.record(Change {
        action: "registerPartnerOrganisation",
        entity_type: "Organisation",
        entity_id: created.id,
        owner: Some(created.id),
        operation: Operation::Created,
        before: None,
        after: Some(json!({
            "kind": created.kind, "name": created.name, "siren": created.siren,
            "siret": created.siret, "rna": created.rna,
        })),
    })
    .await?;
    txn.commit().await?;
    registry::by_ids(db, &[created.id])
        .await?
        .pop()
        .ok_or(AppError::Internal)
}
