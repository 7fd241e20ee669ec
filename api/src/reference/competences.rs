//! The competence reference: the BANATIC nomenclature and the legal layers (EPCI baseline,
//! default holders, the commune's residual competence), shipped as CSV under
//! `api/data/competences/` and synchronised into the database at start-up.

use chrono::{DateTime, Utc};
use entity::{CompetenceRole, RuleLayer, competence, legal_rule, reference_dataset};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use super::{ReferenceError, digest};

/// Name of the dataset in `reference_dataset`.
pub const DATASET: &str = "banatic";

/// The files shipped in the binary.
pub struct Files<'a> {
    /// Version of the nomenclature (`BANATIC 2025`).
    pub nomenclature: &'a str,
    /// The nomenclature: `code,label,category,category_confirmed`.
    pub catalogue: &'a str,
    /// Mandatory competences by EPCI kind: `code,CC,CA,CU,METRO`.
    pub epci_mandatory: &'a str,
    /// Default holders: `code,level,roles,note`.
    pub default_holders: &'a str,
    /// The residual rule, same columns, code `*`.
    pub residual: &'a str,
}

/// What ships with this build.
pub const SHIPPED: Files<'static> = Files {
    nomenclature: "BANATIC 2025",
    catalogue: include_str!("../../data/competences/banatic-2025.csv"),
    epci_mandatory: include_str!("../../data/competences/epci-mandatory.csv"),
    default_holders: include_str!("../../data/competences/default-holders.csv"),
    residual: include_str!("../../data/competences/residual-holder.csv"),
};

/// The parsed reference.
#[derive(Debug, Clone)]
pub struct CompetenceReference {
    /// The nomenclature, in order.
    pub competences: Vec<competence::Model>,
    /// The legal presumptions.
    pub rules: Vec<legal_rule::Model>,
    /// Content digest.
    pub digest: String,
    /// Nomenclature version.
    pub nomenclature: String,
}

/// What a column of `epci-mandatory.csv` names, and the article that makes its competences
/// mandatory (a row's `reference` replaces it).
const EPCI_COLUMNS: [(&str, &[(&str, &str)]); 6] = [
    ("CC", &[("CC", "CGCT L5214-16")]),
    ("CA", &[("CA", "CGCT L5216-5")]),
    ("CU", &[("CU", "CGCT L5215-20")]),
    (
        "METRO",
        &[
            ("METROPOLE", "CGCT L5217-2"),
            ("METROPOLE_LYON", "CGCT L3641-1"),
        ],
    ),
    ("EPT", &[("EPT", "CGCT L5219-5")]),
    // The Métropole du Grand Paris has an article of its own, and only its competences.
    ("MGP", &[(METROPOLE_DU_GRAND_PARIS, "CGCT L5219-1")]),
];

/// The rule target naming the Métropole du Grand Paris (its SIREN in the COG).
pub const METROPOLE_DU_GRAND_PARIS: &str = "SIREN:200054781";

/// The law transfers a mandatory competence whole (principle of exclusivity): the EPCI
/// decides, carries out and pays.
const BASELINE_ROLES: [CompetenceRole; 3] = [
    CompetenceRole::Holder,
    CompetenceRole::Implementer,
    CompetenceRole::Financer,
];

/// Levels of `default-holders.csv`.
pub const LEVELS: [&str; 4] = ["COMMUNE", "DEPARTEMENT", "REGION", "STATE"];

fn records(name: &str, text: &str) -> Result<Vec<csv::StringRecord>, ReferenceError> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| ReferenceError::Invalid(format!("{name}: {e}")))
}

fn field<'r>(rec: &'r csv::StringRecord, i: usize, name: &str) -> Result<&'r str, ReferenceError> {
    rec.get(i)
        .map(str::trim)
        .ok_or_else(|| ReferenceError::Invalid(format!("{name}: short row {rec:?}")))
}

fn role_of(word: &str) -> Option<CompetenceRole> {
    match word {
        "DECISION" => Some(CompetenceRole::Holder),
        "IMPLEMENTATION" => Some(CompetenceRole::Implementer),
        "FINANCING" => Some(CompetenceRole::Financer),
        "CONSULTATION" => Some(CompetenceRole::Consulted),
        _ => None,
    }
}

/// Roles as stored: comma-separated SCREAMING_SNAKE_CASE names.
pub fn roles_text(roles: &[CompetenceRole]) -> String {
    roles.iter().map(kind_text).collect::<Vec<_>>().join(",")
}

fn kind_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn default_rules(
    name: &str,
    text: &str,
    known: &dyn Fn(&str) -> bool,
    rules: &mut Vec<legal_rule::Model>,
) -> Result<(), ReferenceError> {
    for rec in records(name, text)? {
        let code = field(&rec, 0, name)?;
        let level = field(&rec, 1, name)?;
        if !known(code) {
            return Err(ReferenceError::Invalid(format!(
                "{name}: unknown code {code}"
            )));
        }
        if !LEVELS.contains(&level) {
            return Err(ReferenceError::Invalid(format!(
                "{name}: unknown level {level}"
            )));
        }
        let roles = field(&rec, 2, name)?
            .split(';')
            .map(|w| {
                role_of(w.trim())
                    .ok_or_else(|| ReferenceError::Invalid(format!("{name}: unknown role {w}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(legal_rule::Model {
            id: 0,
            competence_code: code.to_owned(),
            layer: RuleLayer::LegalDefault,
            applies_to: level.to_owned(),
            roles: roles_text(&roles),
            condition: Some(field(&rec, 4, name)?)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            source: field(&rec, 3, name)?.to_owned(),
            reserved: match field(&rec, 5, name)? {
                "" => false,
                "reserved" => true,
                other => {
                    return Err(ReferenceError::Invalid(format!(
                        "{name}: `reserved` column holds {other}"
                    )));
                }
            },
        });
    }
    Ok(())
}

/// Parses `files`, checking that every rule names a competence of the nomenclature.
pub fn parse(files: &Files<'_>) -> Result<CompetenceReference, ReferenceError> {
    let mut competences = Vec::new();
    for (i, rec) in records("catalogue", files.catalogue)?.iter().enumerate() {
        let code = field(rec, 0, "catalogue")?;
        if !crate::domain::codes::is_competence_code(code) {
            return Err(ReferenceError::Invalid(format!(
                "catalogue: bad code {code}"
            )));
        }
        competences.push(competence::Model {
            code: code.to_owned(),
            label: field(rec, 1, "catalogue")?.to_owned(),
            category: field(rec, 2, "catalogue")?.to_owned(),
            category_confirmed: field(rec, 3, "catalogue")? == "yes",
            nomenclature: files.nomenclature.to_owned(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
        });
    }
    let codes: std::collections::HashSet<String> =
        competences.iter().map(|c| c.code.clone()).collect();
    let known = |code: &str| codes.contains(code);

    let mut rules = Vec::new();
    for rec in records("epci-mandatory", files.epci_mandatory)? {
        let code = field(&rec, 0, "epci-mandatory")?;
        if !known(code) {
            return Err(ReferenceError::Invalid(format!(
                "epci-mandatory: unknown code {code}"
            )));
        }
        let reference = field(&rec, EPCI_COLUMNS.len() + 1, "epci-mandatory")?;
        for (col, (_, targets)) in EPCI_COLUMNS.iter().enumerate() {
            let cell = field(&rec, col + 1, "epci-mandatory")?;
            if cell.is_empty() {
                continue;
            }
            for (target, article) in *targets {
                rules.push(legal_rule::Model {
                    id: 0,
                    competence_code: code.to_owned(),
                    layer: RuleLayer::LegalBaseline,
                    applies_to: (*target).to_owned(),
                    roles: roles_text(&BASELINE_ROLES),
                    condition: (cell != "mandatory").then(|| cell.to_owned()),
                    source: if reference.is_empty() {
                        (*article).to_owned()
                    } else {
                        reference.to_owned()
                    },
                    reserved: false,
                });
            }
        }
    }
    default_rules("default-holders", files.default_holders, &known, &mut rules)?;
    default_rules("residual-holder", files.residual, &|c| c == "*", &mut rules)?;

    let mut all = String::new();
    for text in [
        files.nomenclature,
        files.catalogue,
        files.epci_mandatory,
        files.default_holders,
        files.residual,
    ] {
        all.push_str(text);
        all.push('\u{1e}');
    }
    Ok(CompetenceReference {
        competences,
        rules,
        digest: digest(all.as_bytes()),
        nomenclature: files.nomenclature.to_owned(),
    })
}

/// Loads `reference` into `db` unless it is already there; in one transaction: competences
/// are added or updated (never deleted: history refers to them), the rules are replaced.
/// Returns whether anything changed.
pub async fn sync(
    db: &DatabaseConnection,
    reference: &CompetenceReference,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let current = reference_dataset::Entity::find_by_id(DATASET)
        .one(db)
        .await?;
    if current.is_some_and(|c| c.digest == reference.digest) {
        return Ok(false);
    }
    let txn = crate::domain::begin_write(db).await?;
    for chunk in reference.competences.chunks(200) {
        competence::Entity::insert_many(chunk.iter().map(|c| competence::ActiveModel {
            code: Set(c.code.clone()),
            label: Set(c.label.clone()),
            category: Set(c.category.clone()),
            category_confirmed: Set(c.category_confirmed),
            nomenclature: Set(c.nomenclature.clone()),
            position: Set(c.position),
        }))
        .on_conflict(
            OnConflict::column(competence::Column::Code)
                .update_columns([
                    competence::Column::Label,
                    competence::Column::Category,
                    competence::Column::CategoryConfirmed,
                    competence::Column::Nomenclature,
                    competence::Column::Position,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    legal_rule::Entity::delete_many().exec(&txn).await?;
    for chunk in reference.rules.chunks(200) {
        legal_rule::Entity::insert_many(chunk.iter().map(|r| legal_rule::ActiveModel {
            competence_code: Set(r.competence_code.clone()),
            layer: Set(r.layer),
            applies_to: Set(r.applies_to.clone()),
            roles: Set(r.roles.clone()),
            condition: Set(r.condition.clone()),
            source: Set(r.source.clone()),
            reserved: Set(r.reserved),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    reference_dataset::Entity::insert(reference_dataset::ActiveModel {
        name: Set(DATASET.into()),
        digest: Set(reference.digest.clone()),
        vintages: Set(reference.nomenclature.clone()),
        loaded_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(reference_dataset::Column::Name)
            .update_columns([
                reference_dataset::Column::Digest,
                reference_dataset::Column::Vintages,
                reference_dataset::Column::LoadedAt,
            ])
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Loads the shipped competence reference when it is missing or differs, and the
/// collectivities the law data adds.
pub async fn sync_shipped(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<bool, ReferenceError> {
    let reference = parse(&SHIPPED)?;
    let rules = sync(db, &reference, now).await?;
    let collectivities = super::collectivities::sync_shipped(db, now).await?;
    // A new build's reference, loaded while older instances serve: read by them at once.
    crate::domain::registry::wait_for_readers(db).await?;
    Ok(rules || collectivities > 0)
}
