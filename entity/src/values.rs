//! Value types (enumerations) stored as text columns.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of institution an organisation is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrganisationKind {
    /// Commune (commune actuelle of the COG).
    #[sea_orm(string_value = "COMMUNE")]
    Commune,
    /// Commune déléguée of a commune nouvelle.
    #[sea_orm(string_value = "COMMUNE_DELEGUEE")]
    CommuneDeleguee,
    /// Commune associée (fusion-association).
    #[sea_orm(string_value = "COMMUNE_ASSOCIEE")]
    CommuneAssociee,
    /// Arrondissement municipal of Paris, Lyon or Marseille.
    #[sea_orm(string_value = "ARRONDISSEMENT_MUNICIPAL")]
    ArrondissementMunicipal,
    /// Communauté de communes.
    #[sea_orm(string_value = "CC")]
    Cc,
    /// Communauté d'agglomération.
    #[sea_orm(string_value = "CA")]
    Ca,
    /// Communauté urbaine.
    #[sea_orm(string_value = "CU")]
    Cu,
    /// Métropole.
    #[sea_orm(string_value = "METROPOLE")]
    Metropole,
    /// Métropole de Lyon (collectivité à statut particulier).
    #[sea_orm(string_value = "METROPOLE_LYON")]
    MetropoleLyon,
    /// Établissement public territorial of the Métropole du Grand Paris.
    #[sea_orm(string_value = "EPT")]
    Ept,
    /// Syndicat (intercommunal or mixte).
    #[sea_orm(string_value = "SYNDICAT")]
    Syndicat,
    /// Pôle d'équilibre territorial et rural.
    #[sea_orm(string_value = "PETR")]
    Petr,
    /// Département.
    #[sea_orm(string_value = "DEPARTEMENT")]
    Departement,
    /// Région.
    #[sea_orm(string_value = "REGION")]
    Region,
    /// Collectivité d'outre-mer (COG codes 975–989).
    #[sea_orm(string_value = "COLLECTIVITE_OUTRE_MER")]
    CollectiviteOutreMer,
    /// Collectivité à statut particulier or collectivité territoriale unique that exercises
    /// the competences of départements or régions (Collectivité de Corse, Collectivité
    /// européenne d'Alsace, collectivités territoriales de Guyane and de Martinique).
    #[sea_orm(string_value = "COLLECTIVITE_STATUT_PARTICULIER")]
    CollectiviteStatutParticulier,
    /// A State service (préfecture, direction départementale…).
    #[sea_orm(string_value = "STATE_SERVICE")]
    StateService,
    /// Another public body.
    #[sea_orm(string_value = "PUBLIC_BODY")]
    PublicBody,
    /// Association.
    #[sea_orm(string_value = "ASSOCIATION")]
    Association,
    /// Company.
    #[sea_orm(string_value = "COMPANY")]
    Company,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

impl OrganisationKind {
    /// EPCI à fiscalité propre kinds (communautés and métropoles).
    pub const EPCI: [OrganisationKind; 5] = [
        OrganisationKind::Cc,
        OrganisationKind::Ca,
        OrganisationKind::Cu,
        OrganisationKind::Metropole,
        OrganisationKind::MetropoleLyon,
    ];

    /// Whether this kind is an EPCI à fiscalité propre.
    pub fn is_epci(self) -> bool {
        Self::EPCI.contains(&self)
    }

    /// Whether this kind is one of the commune-level kinds of the COG.
    pub fn is_commune_level(self) -> bool {
        matches!(
            self,
            OrganisationKind::Commune
                | OrganisationKind::CommuneDeleguee
                | OrganisationKind::CommuneAssociee
                | OrganisationKind::ArrondissementMunicipal
        )
    }
}

/// How a member relates to a group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MembershipKind {
    /// Member of a grouping: commune in an EPCI or EPT, EPCI in a syndicat.
    #[sea_orm(string_value = "MEMBER")]
    Member,
    /// Territorial location: commune in its département, département in its région,
    /// a State service in the commune where it sits.
    #[sea_orm(string_value = "LOCATED_IN")]
    LocatedIn,
    /// Part of: commune déléguée or associée in its commune, arrondissement municipal in its city.
    #[sea_orm(string_value = "PART_OF")]
    PartOf,
}

/// How organisations succeeded one another.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SuccessionKind {
    /// Several organisations merged into one (commune nouvelle, EPCI merger).
    #[sea_orm(string_value = "MERGER")]
    Merger,
    /// One organisation split into several.
    #[sea_orm(string_value = "SPLIT")]
    Split,
    /// The same institution under a new name.
    #[sea_orm(string_value = "RENAMING")]
    Renaming,
    /// The same territory re-founded as a new legal entity or kind (new SIREN, CC becoming CA…).
    #[sea_orm(string_value = "TRANSFORMATION")]
    Transformation,
}

/// Who may see a contact point.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    /// Everyone, including anonymous clients.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Authenticated partners and public actors.
    #[sea_orm(string_value = "PARTNERS")]
    Partners,
    /// The owning organisation and State services only.
    #[sea_orm(string_value = "RESTRICTED")]
    Restricted,
}

/// What a contact point is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContactKind {
    /// Email address.
    #[sea_orm(string_value = "EMAIL")]
    Email,
    /// Telephone number.
    #[sea_orm(string_value = "PHONE")]
    Phone,
    /// Web page.
    #[sea_orm(string_value = "WEBSITE")]
    Website,
    /// Postal address.
    #[sea_orm(string_value = "ADDRESS")]
    Address,
}
