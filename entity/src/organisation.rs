//! `organisation`: every institution of the registry, national reference and declared alike.

use sea_orm::entity::prelude::*;

use crate::OrganisationKind;

/// One organisation over one period of legal existence.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    /// Internal identifier.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Kind of institution.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// Name folded for accent- and case-insensitive search.
    pub search_name: String,
    /// INSEE COG code, for territorial collectivities.
    pub insee_code: Option<String>,
    /// SIREN number.
    pub siren: Option<String>,
    /// Legal population (INSEE), where known.
    pub population: Option<i64>,
    /// First day of existence (inclusive); `None` when it predates the data.
    pub valid_from: Option<Date>,
    /// Day it ceased to exist (exclusive); `None` while it exists.
    pub valid_to: Option<Date>,
    /// Code of the département it lies in (or mostly lies in).
    pub departement_code: Option<String>,
    /// Code of the région it lies in.
    pub region_code: Option<String>,
    /// For State services: the territorial organisation they serve.
    pub territory_id: Option<i64>,
    /// Where the fact comes from: `COG` (national reference) or `DECLARED`.
    pub source: String,
    /// Reference vintages that observed it, comma-separated (e.g. `2024,2025`).
    pub vintages: Option<String>,
    /// Stable key of a reference record, used to re-import idempotently.
    #[sea_orm(unique)]
    pub reference_key: Option<String>,
    /// Optimistic-concurrency version, bumped on every update.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last update time.
    pub updated_at: DateTimeUtc,
    /// SIRET of the registered establishment (partners).
    pub siret: Option<String>,
    /// RNA number (associations).
    pub rna: Option<String>,
    /// Other names it is known by, as a JSON array.
    pub alternate_names: Option<String>,
    /// The alternate names folded for search (" / " between them).
    pub search_aliases: Option<String>,
    /// A commune's postal codes (La Poste), space-separated, as the COG lists them.
    pub postal_codes: Option<String>,
    /// A short public description.
    pub description: Option<String>,
    /// Public website.
    pub website: Option<String>,
    /// The organisation that registered it (partners).
    pub registered_by_id: Option<i64>,
}

/// Relations of `organisation`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
