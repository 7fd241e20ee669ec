//! The competence catalogue and its legal presumptions, held in memory: 118 competences and a
//! few hundred rules, read on every resolution, changed only by a reference import.

use std::collections::HashMap;

use entity::{CompetenceRole, OrganisationKind, RuleLayer, competence, legal_rule};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};

use super::law::{self, Scope, Status};
use crate::domain::registry::Organisation;
use crate::domain::text::fold;

/// A level of government a default rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The commune itself.
    Commune,
    /// Its département.
    Departement,
    /// Its région.
    Region,
    /// The State (its préfecture in the département).
    State,
}

impl Level {
    /// The level a rule or a status names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "COMMUNE" => Some(Self::Commune),
            "DEPARTEMENT" => Some(Self::Departement),
            "REGION" => Some(Self::Region),
            "STATE" => Some(Self::State),
            _ => None,
        }
    }
}

/// Who a rule gives the competence to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Beneficiary {
    /// Every grouping of this kind (EPCI à fiscalité propre, EPT).
    EpciKind(OrganisationKind),
    /// The one grouping with this SIREN, which the law gives competences of its own (the
    /// Métropole du Grand Paris): the rules of its kind do not apply to it.
    Named(String),
    /// A level of government.
    Level(Level),
}

/// One legal presumption.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Baseline or default.
    pub layer: RuleLayer,
    /// Who it gives the competence to.
    pub beneficiary: Beneficiary,
    /// Roles it gives.
    pub roles: Vec<CompetenceRole>,
    /// A condition the law attaches.
    pub condition: Option<String>,
    /// The legal reference.
    pub source: String,
    /// Whether the law reserves the competence to the level the rule names.
    pub reserved: bool,
}

/// The catalogue and its rules.
#[derive(Debug, Default)]
pub struct Catalogue {
    competences: Vec<competence::Model>,
    folded: Vec<String>,
    index: HashMap<String, usize>,
    baseline: Vec<Vec<Rule>>,
    defaults: Vec<Vec<Rule>>,
    residual: Vec<Rule>,
    /// SIRENs of the groupings the law names.
    named: Vec<String>,
    /// The special statuses of territories.
    statuses: Vec<Status>,
}

/// The words people use for competences, shipped as data (`code,words` with words separated
/// by `;`).
const SEARCH_WORDS: &str = include_str!("../../../data/competences/search-words.csv");

/// The search words of competence `code`.
fn search_words(code: &str) -> Vec<&'static str> {
    SEARCH_WORDS
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(','))
        .filter(|(c, _)| *c == code)
        .flat_map(|(_, words)| words.split(';'))
        .collect()
}

/// Whether every word of `query` is a word of `folded`, or begins one when it is longer than
/// three letters.
fn matches_words(folded: &str, query: &[String]) -> bool {
    query.iter().all(|q| {
        folded
            .split(' ')
            .any(|w| w == q || (q.len() > 3 && w.starts_with(q.as_str())))
    })
}

fn parse_roles(text: &str) -> Vec<CompetenceRole> {
    text.split(',')
        .filter_map(|r| serde_json::from_value(serde_json::Value::String(r.to_owned())).ok())
        .collect()
}

impl Catalogue {
    /// Builds the catalogue from its rows.
    pub fn new(mut competences: Vec<competence::Model>, rules: Vec<legal_rule::Model>) -> Self {
        competences.sort_by_key(|c| c.position);
        let index: HashMap<String, usize> = competences
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let n = competences.len();
        let mut catalogue = Self {
            folded: competences
                .iter()
                .map(|c| {
                    let words = search_words(&c.code).join(" ");
                    fold(&format!("{} {} {words}", c.code, c.label))
                })
                .collect(),
            competences,
            index,
            baseline: vec![Vec::new(); n],
            defaults: vec![Vec::new(); n],
            residual: Vec::new(),
            named: Vec::new(),
            statuses: law::shipped(),
        };
        for row in rules {
            let beneficiary = match row.layer {
                RuleLayer::LegalBaseline => match row.applies_to.strip_prefix("SIREN:") {
                    Some(siren) => {
                        if !catalogue.named.iter().any(|n| n == siren) {
                            catalogue.named.push(siren.to_owned());
                        }
                        Beneficiary::Named(siren.to_owned())
                    }
                    None => match serde_json::from_value(serde_json::Value::String(
                        row.applies_to.clone(),
                    )) {
                        Ok(kind) => Beneficiary::EpciKind(kind),
                        Err(_) => continue,
                    },
                },
                RuleLayer::LegalDefault => match Level::parse(&row.applies_to) {
                    Some(level) => Beneficiary::Level(level),
                    None => continue,
                },
            };
            let rule = Rule {
                layer: row.layer,
                beneficiary,
                roles: parse_roles(&row.roles),
                condition: row.condition,
                source: row.source,
                reserved: row.reserved,
            };
            if row.competence_code == "*" {
                catalogue.residual.push(rule);
                continue;
            }
            let Some(&i) = catalogue.index.get(&row.competence_code) else {
                continue;
            };
            match row.layer {
                RuleLayer::LegalBaseline => catalogue.baseline[i].push(rule),
                RuleLayer::LegalDefault => catalogue.defaults[i].push(rule),
            }
        }
        catalogue
    }

    /// Reads the catalogue from the database.
    pub async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let competences = competence::Entity::find()
            .order_by_asc(competence::Column::Position)
            .all(db)
            .await?;
        let rules = legal_rule::Entity::find()
            .order_by_asc(legal_rule::Column::Id)
            .all(db)
            .await?;
        Ok(Self::new(competences, rules))
    }

    /// Every competence, in nomenclature order.
    pub fn all(&self) -> &[competence::Model] {
        &self.competences
    }

    /// Position of `code` in the catalogue.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// The competence `code`.
    pub fn get(&self, code: &str) -> Option<&competence::Model> {
        self.index_of(code).map(|i| &self.competences[i])
    }

    /// The competence at position `i`.
    pub fn at(&self, i: usize) -> &competence::Model {
        &self.competences[i]
    }

    /// Number of competences.
    pub fn len(&self) -> usize {
        self.competences.len()
    }

    /// Whether the catalogue is empty (no reference loaded).
    pub fn is_empty(&self) -> bool {
        self.competences.is_empty()
    }

    /// The baseline rules of competence `i` for grouping `o`: those the law gives it by name,
    /// else those of its kind.
    pub fn baseline<'a>(&'a self, i: usize, o: &'a Organisation) -> impl Iterator<Item = &'a Rule> {
        let named = o
            .siren
            .as_deref()
            .filter(|s| self.named.iter().any(|n| n == s));
        self.baseline[i]
            .iter()
            .filter(move |r| match (&r.beneficiary, named) {
                (Beneficiary::Named(siren), Some(mine)) => siren == mine,
                (Beneficiary::EpciKind(kind), None) => *kind == o.kind,
                _ => false,
            })
    }

    /// The special statuses of territories.
    pub fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    /// The statuses that give competence `code` whole to another organisation.
    pub fn special(&self, code: &str) -> impl Iterator<Item = (usize, &Status)> {
        self.statuses.iter().enumerate().filter(
            move |(_, s)| matches!(&s.scope, Scope::Competences(c) if c.iter().any(|c| c == code)),
        )
    }

    /// The rule reserving competence `i` to a level, if the law reserves it.
    pub fn reservation(&self, i: usize) -> Option<&Rule> {
        self.defaults[i].iter().find(|r| r.reserved)
    }

    /// The default rules of competence `i`: its own, else the residual rule.
    pub fn defaults(&self, i: usize) -> &[Rule] {
        if self.defaults[i].is_empty() {
            &self.residual
        } else {
            &self.defaults[i]
        }
    }

    /// Competences whose category is `category` and whose code, label or search words (the
    /// words people use: "PLU", "ordures ménagères", "cantine"…) match `text`, accent- and
    /// case-insensitive: every word of `text` is a word of them, or begins one when it has
    /// more than three letters ("PLU" is not "pluviales"; "assainis" finds "assainissement").
    pub fn filter<'a>(
        &'a self,
        category: Option<&'a str>,
        text: Option<&'a str>,
    ) -> impl Iterator<Item = &'a competence::Model> + 'a {
        let needle: Option<Vec<String>> =
            text.map(|t| fold(t).split(' ').map(str::to_owned).collect());
        self.competences
            .iter()
            .zip(&self.folded)
            .filter(move |(c, f)| {
                category.is_none_or(|cat| c.category == cat)
                    && needle.as_ref().is_none_or(|words| matches_words(f, words))
            })
            .map(|(c, _)| c)
    }
}
