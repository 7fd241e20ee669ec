//! GraphQL enums of the registry, mirrored from the entity value types.

use async_graphql::Enum;

/// What kind of institution an organisation is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::OrganisationKind")]
pub enum OrganisationKind {
    /// Commune (commune actuelle of the COG).
    Commune,
    /// Commune déléguée of a commune nouvelle.
    CommuneDeleguee,
    /// Commune associée.
    CommuneAssociee,
    /// Arrondissement municipal of Paris, Lyon or Marseille.
    ArrondissementMunicipal,
    /// Communauté de communes.
    Cc,
    /// Communauté d'agglomération.
    Ca,
    /// Communauté urbaine.
    Cu,
    /// Métropole.
    Metropole,
    /// Métropole de Lyon.
    MetropoleLyon,
    /// Établissement public territorial of the Métropole du Grand Paris.
    Ept,
    /// Syndicat intercommunal or mixte.
    Syndicat,
    /// Pôle d'équilibre territorial et rural.
    Petr,
    /// Département.
    Departement,
    /// Région.
    Region,
    /// Collectivité d'outre-mer (Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin…).
    CollectiviteOutreMer,
    /// Collectivité à statut particulier or collectivité territoriale unique exercising the
    /// competences of départements or régions (Corse, Alsace, Guyane, Martinique).
    CollectiviteStatutParticulier,
    /// A State service (préfecture…).
    StateService,
    /// Another public body.
    PublicBody,
    /// Association.
    Association,
    /// Company.
    Company,
    /// Anything else.
    Other,
}

/// How a member relates to a group.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::MembershipKind")]
pub enum MembershipKind {
    /// Member of a grouping: commune in an EPCI or EPT, EPCI in a syndicat.
    Member,
    /// Territorial location: commune in its département, département in its région, a State
    /// service in the commune where it sits.
    LocatedIn,
    /// Part of: commune déléguée or associée in its commune, arrondissement municipal in its city.
    PartOf,
}

/// How organisations succeeded one another.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::SuccessionKind")]
pub enum SuccessionKind {
    /// Several organisations merged into one (commune nouvelle, EPCI merger).
    Merger,
    /// One organisation split into several.
    Split,
    /// The same institution under a new name.
    Renaming,
    /// The same territory re-founded as a new legal entity or kind.
    Transformation,
}

/// Sort key of an organisation list.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrganisationOrderField {
    /// Name, accent- and case-insensitive.
    #[default]
    Name,
    /// Population.
    Population,
    /// INSEE code.
    InseeCode,
}

/// Sort direction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// Who may see a contact point.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::Visibility")]
pub enum Visibility {
    /// Everyone, including anonymous clients.
    Public,
    /// Authenticated partners and public actors.
    Partners,
    /// The owning organisation and State services only.
    Restricted,
}

/// What a contact point is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(remote = "entity::ContactKind")]
pub enum ContactKind {
    /// Email address.
    Email,
    /// Telephone number.
    Phone,
    /// Web page.
    Website,
    /// Postal address.
    Address,
}
