//! The value types of territorial projects, their actions and indicators.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The programme or form a territorial project takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectKind {
    /// A projet de territoire of an intercommunality or a group of communes.
    #[sea_orm(string_value = "PROJET_DE_TERRITOIRE")]
    ProjetDeTerritoire,
    /// A contrat pour la réussite de la transition écologique, signed with the State.
    #[sea_orm(string_value = "CRTE")]
    Crte,
    /// The Petites villes de demain programme.
    #[sea_orm(string_value = "PETITES_VILLES_DE_DEMAIN")]
    PetitesVillesDeDemain,
    /// The Action cœur de ville programme.
    #[sea_orm(string_value = "ACTION_COEUR_DE_VILLE")]
    ActionCoeurDeVille,
    /// A contrat de réciprocité between urban and rural territories.
    #[sea_orm(string_value = "CONTRAT_DE_RECIPROCITE")]
    ContratDeReciprocite,
    /// Any other.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a project's signature stands (in force and ended follow from the dates).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectStatus {
    /// Being drafted by its parties.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Frozen and awaiting every signatory's signature.
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    /// Signed by every signatory.
    #[sea_orm(string_value = "SIGNED")]
    Signed,
}

/// A party's role in a project (an organisation may hold several).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectRole {
    /// Steers the project.
    #[sea_orm(string_value = "PILOT")]
    Pilot,
    /// Signs it.
    #[sea_orm(string_value = "SIGNATORY")]
    Signatory,
    /// Contributes actions or measurements.
    #[sea_orm(string_value = "CONTRIBUTOR")]
    Contributor,
    /// Funds it.
    #[sea_orm(string_value = "FUNDER")]
    Funder,
}

/// Where an action stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionStatus {
    /// Planned, not started.
    #[sea_orm(string_value = "PLANNED")]
    Planned,
    /// Under way.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Done.
    #[sea_orm(string_value = "DONE")]
    Done,
    /// Given up.
    #[sea_orm(string_value = "ABANDONED")]
    Abandoned,
}

/// Which way an indicator should move.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Higher is better.
    #[sea_orm(string_value = "INCREASE")]
    Increase,
    /// Lower is better.
    #[sea_orm(string_value = "DECREASE")]
    Decrease,
}

/// How often an indicator is measured; a measurement's period starts on the first day of
/// one of these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Periodicity {
    /// Each month.
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    /// Each quarter (January, April, July, October).
    #[sea_orm(string_value = "QUARTERLY")]
    Quarterly,
    /// Each calendar year.
    #[sea_orm(string_value = "YEARLY")]
    Yearly,
}

/// How the values of the communes make the value of a territory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Aggregation {
    /// The sum of the communes' values (counts, tonnes, euros).
    #[sea_orm(string_value = "SUM")]
    Sum,
    /// The mean of the communes' values weighted by their legal population (rates, shares).
    #[sea_orm(string_value = "POPULATION_WEIGHTED_MEAN")]
    PopulationWeightedMean,
}

/// What feeds an indicator.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IndicatorKind {
    /// Values its responsible party measures.
    #[sea_orm(string_value = "VALUE")]
    Value,
    /// A satisfaction barometer fed by survey results: the number of answers per score, 1
    /// to 5.
    #[sea_orm(string_value = "SATISFACTION_SURVEY")]
    SatisfactionSurvey,
    /// A satisfaction barometer fed by the ratings of the referrals about its communes.
    #[sea_orm(string_value = "REFERRAL_SATISFACTION")]
    ReferralSatisfaction,
}
