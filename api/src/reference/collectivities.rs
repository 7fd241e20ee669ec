//! The collectivities the law data adds to the registry (`api/data/competences/
//! collectivities.csv`): those a special status makes exercise competences and that the COG
//! does not list as organisations (Collectivité européenne d'Alsace, Collectivité de Corse,
//! collectivités territoriales de Guyane and de Martinique, Île-de-France Mobilités), and the
//! names the law gives organisations the COG lists ("Ville de Paris"). Synchronised at every
//! start; never a SIREN the data does not ship.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{OrganisationKind, organisation};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::ReferenceError;
use super::events::{self, Touched};
use crate::domain::competences::law::Named;
use crate::domain::text::{aliases, fold};

/// The shipped file.
const SHIPPED: &str = include_str!("../../data/competences/collectivities.csv");

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collectivity {
    /// Its key (`cea`), or the organisation of the COG it names (`COMMUNE:75056`).
    pub key: String,
    /// Official name (empty for a COG organisation).
    pub name: String,
    /// Kind.
    pub kind: Option<OrganisationKind>,
    /// Since when it exists.
    pub since: Option<NaiveDate>,
    /// Départements it covers (the first is its own).
    pub departements: Vec<String>,
    /// Its région.
    pub region: Option<String>,
    /// Other names people use.
    pub alternate_names: Vec<String>,
    /// The legal reference that creates it.
    pub reference: String,
}

/// Parses the file.
pub fn parse(text: &str) -> Result<Vec<Collectivity>, ReferenceError> {
    let invalid = |line: usize, e: String| {
        ReferenceError::Invalid(format!("collectivities line {}: {e}", line + 2))
    };
    let mut out = Vec::new();
    for (line, rec) in csv::Reader::from_reader(text.as_bytes())
        .records()
        .enumerate()
    {
        let rec = rec.map_err(|e| invalid(line, e.to_string()))?;
        let cell = |i: usize| rec.get(i).map(str::trim).unwrap_or_default().to_owned();
        let list = |i: usize| -> Vec<String> {
            cell(i)
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let kind = match cell(2).as_str() {
            "" => None,
            k => Some(
                serde_json::from_value(serde_json::Value::String(k.to_owned()))
                    .map_err(|_| invalid(line, format!("unknown kind {k}")))?,
            ),
        };
        let since = match cell(3).as_str() {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|e| invalid(line, format!("{d}: {e}")))?,
            ),
        };
        let row = Collectivity {
            key: cell(0),
            name: cell(1),
            kind,
            since,
            departements: list(4),
            region: Some(cell(5)).filter(|r| !r.is_empty()),
            alternate_names: list(6),
            reference: cell(7),
        };
        let new = !row.key.contains(':');
        if new && (row.name.is_empty() || row.kind.is_none()) {
            return Err(invalid(
                line,
                "a new collectivity needs a name and a kind".into(),
            ));
        }
        if row.reference.is_empty() {
            return Err(invalid(line, "no legal reference".into()));
        }
        out.push(row);
    }
    Ok(out)
}

fn names_json(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| serde_json::Value::from(names.to_vec()).to_string())
}

/// Adds or updates the shipped collectivities, in one transaction; organisations of the COG
/// get the law's names only where they have none. Returns how many rows changed.
pub async fn sync(
    db: &DatabaseConnection,
    rows: &[Collectivity],
    now: DateTime<Utc>,
) -> Result<usize, ReferenceError> {
    let txn = crate::domain::begin_write(db).await?;
    let mut touched = Touched::default();
    for row in rows {
        let Some((kind, code)) = row.key.split_once(':') else {
            let source = Named::source_of(&row.key);
            let existing = organisation::Entity::find()
                .filter(organisation::Column::Source.eq(&source))
                .one(&txn)
                .await?;
            let description = format!("{} ({})", row.name, row.reference);
            let active = organisation::ActiveModel {
                kind: Set(row.kind.unwrap_or(OrganisationKind::Other)),
                name: Set(row.name.clone()),
                search_name: Set(fold(&row.name)),
                valid_from: Set(row.since),
                departement_code: Set(row.departements.first().cloned()),
                region_code: Set(row.region.clone()),
                alternate_names: Set(names_json(&row.alternate_names)),
                search_aliases: Set(aliases(&row.alternate_names)),
                description: Set(Some(description.clone())),
                updated_at: Set(now),
                ..Default::default()
            };
            match existing {
                None => {
                    let id = organisation::Entity::insert(organisation::ActiveModel {
                        source: Set(source.clone()),
                        reference_key: Set(Some(source)),
                        version: Set(1),
                        created_at: Set(now),
                        ..active
                    })
                    .exec(&txn)
                    .await?
                    .last_insert_id;
                    touched.created.insert(id);
                }
                Some(m)
                    if m.name != row.name
                        || Some(m.kind) != row.kind
                        || m.valid_from != row.since
                        || m.region_code != row.region
                        || m.departement_code.as_ref() != row.departements.first()
                        || m.alternate_names != names_json(&row.alternate_names)
                        || m.search_aliases != aliases(&row.alternate_names)
                        || m.description.as_deref() != Some(description.as_str()) =>
                {
                    organisation::Entity::update(organisation::ActiveModel {
                        id: Set(m.id),
                        version: Set(m.version + 1),
                        ..active
                    })
                    .exec(&txn)
                    .await?;
                    touched.updated.insert(m.id);
                }
                Some(_) => {}
            }
            continue;
        };
        let kind = match kind {
            "COMMUNE" => OrganisationKind::Commune,
            "DEPARTEMENT" => OrganisationKind::Departement,
            "REGION" => OrganisationKind::Region,
            other => {
                return Err(ReferenceError::Invalid(format!(
                    "collectivities: cannot name a {other}"
                )));
            }
        };
        let found = organisation::Entity::find()
            .filter(organisation::Column::InseeCode.eq(code))
            .filter(organisation::Column::Kind.eq(kind))
            .filter(organisation::Column::AlternateNames.is_null())
            .all(&txn)
            .await?;
        for m in found {
            organisation::Entity::update(organisation::ActiveModel {
                id: Set(m.id),
                alternate_names: Set(names_json(&row.alternate_names)),
                search_aliases: Set(aliases(&row.alternate_names)),
                version: Set(m.version + 1),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            touched.updated.insert(m.id);
        }
    }
    // Alternate names recorded before search read them: fold them once.
    let unfolded = organisation::Entity::find()
        .filter(organisation::Column::AlternateNames.is_not_null())
        .filter(organisation::Column::SearchAliases.is_null())
        .all(&txn)
        .await?;
    for m in unfolded {
        let names: Vec<String> = m
            .alternate_names
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        if let Some(folded) = aliases(&names) {
            organisation::Entity::update_many()
                .col_expr(organisation::Column::SearchAliases, Some(folded).into())
                .filter(organisation::Column::Id.eq(m.id))
                .exec(&txn)
                .await?;
        }
    }
    // Changes of the registry are in the change feed, as an import's are (no actor).
    let changed = events::record(&txn, &touched, now).await?;
    txn.commit().await?;
    Ok(changed)
}

/// Synchronises the shipped collectivities.
pub async fn sync_shipped(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, ReferenceError> {
    sync(db, &parse(SHIPPED)?, now).await
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_collectivities_are_read_and_carry_no_siren() {
        let rows = parse(SHIPPED).expect("shipped collectivities");
        assert!(
            rows.iter()
                .any(|r| r.name == "Collectivité européenne d'Alsace")
        );
        assert!(
            rows.iter()
                .any(|r| r.key == "COMMUNE:75056" && r.alternate_names == ["Ville de Paris"])
        );
        // The file has no SIREN column: none is ever invented.
        assert!(!SHIPPED.lines().next().unwrap_or_default().contains("siren"));
    }
}
