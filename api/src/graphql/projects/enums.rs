//! The enums of territorial projects in GraphQL.

use async_graphql::Enum;

/// The programme or form a territorial project takes.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectKind")]
pub enum ProjectKind {
    /// A projet de territoire of an intercommunality or a group of communes.
    ProjetDeTerritoire,
    /// A contrat pour la réussite de la transition écologique, signed with the State.
    Crte,
    /// The Petites villes de demain programme.
    PetitesVillesDeDemain,
    /// The Action cœur de ville programme.
    ActionCoeurDeVille,
    /// A contrat de réciprocité between urban and rural territories.
    ContratDeReciprocite,
    /// Any other.
    Other,
}

/// Where a project stands on the date asked.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectPhase {
    /// Being drafted by its parties (seen by them only).
    Draft,
    /// Frozen, awaiting every signatory's signature (seen by its parties only).
    Proposed,
    /// Signed by every signatory, not yet in force.
    Signed,
    /// Signed and in force.
    Active,
    /// Signed and past its end.
    Ended,
}

impl From<crate::domain::projects::Phase> for ProjectPhase {
    fn from(p: crate::domain::projects::Phase) -> Self {
        use crate::domain::projects::Phase;
        match p {
            Phase::Draft => ProjectPhase::Draft,
            Phase::Proposed => ProjectPhase::Proposed,
            Phase::Signed => ProjectPhase::Signed,
            Phase::Active => ProjectPhase::Active,
            Phase::Ended => ProjectPhase::Ended,
        }
    }
}

/// A party's role in a project.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectRole")]
pub enum ProjectRole {
    /// Steers the project (its staff plan actions and indicators).
    Pilot,
    /// Signs it.
    Signatory,
    /// Contributes actions or measurements.
    Contributor,
    /// Funds it.
    Funder,
}

/// Where an action stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::ActionStatus")]
pub enum ActionStatus {
    /// Planned, not started.
    Planned,
    /// Under way.
    InProgress,
    /// Done.
    Done,
    /// Given up.
    Abandoned,
}

/// Which way an indicator should move.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Direction")]
pub enum IndicatorDirection {
    /// Higher is better.
    Increase,
    /// Lower is better.
    Decrease,
}

/// How often an indicator is measured; a period starts on the first day of one.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Periodicity")]
pub enum Periodicity {
    /// Each month.
    Monthly,
    /// Each quarter (January, April, July, October).
    Quarterly,
    /// Each calendar year.
    Yearly,
}

/// How the values of the communes make the value of a territory.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::Aggregation")]
pub enum Aggregation {
    /// The sum of the communes' values (counts, tonnes, euros).
    Sum,
    /// The mean of the communes' values weighted by their legal population (INSEE, as
    /// shipped): rates and shares.
    PopulationWeightedMean,
}

/// What feeds an indicator.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::IndicatorKind")]
pub enum IndicatorKind {
    /// Values its responsible party measures.
    Value,
    /// A satisfaction barometer fed by survey results (answers per score, 1 to 5); its
    /// mean is shown from 5 answers.
    SatisfactionSurvey,
    /// A satisfaction barometer fed by the ratings of the referrals about the project's
    /// communes; its mean is shown from 5 ratings.
    ReferralSatisfaction,
}
