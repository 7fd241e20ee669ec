//! The upstream format: one folder per vintage of `@etalab/decoupage-administratif`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ReferenceError;

/// A région (or a collectivité d'outre-mer listed as one).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// COG code.
    pub code: String,
    /// Name.
    pub nom: String,
    /// INSEE code of its capital commune.
    pub chef_lieu: Option<String>,
    /// INSEE "type de nom en clair": which article the name takes.
    pub type_liaison: Option<u8>,
    /// `metro`, `drom` or `com`.
    pub zone: Option<String>,
}

/// A département (or a collectivité d'outre-mer listed as one).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Departement {
    /// COG code.
    pub code: String,
    /// Name.
    pub nom: String,
    /// Code of its région.
    pub region: Option<String>,
    /// INSEE code of its capital commune.
    pub chef_lieu: Option<String>,
    /// INSEE "type de nom en clair".
    pub type_liaison: Option<u8>,
    /// `metro`, `drom` or `com`.
    pub zone: Option<String>,
}

/// A commune-level record of the COG.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commune {
    /// INSEE COG code.
    pub code: String,
    /// Name.
    pub nom: String,
    /// `commune-actuelle`, `commune-deleguee`, `commune-associee` or `arrondissement-municipal`.
    #[serde(rename = "type")]
    pub kind: String,
    /// SIREN, where the commune has one.
    pub siren: Option<String>,
    /// Département code.
    pub departement: Option<String>,
    /// Région code.
    pub region: Option<String>,
    /// Legal population.
    pub population: Option<i64>,
    /// For delegated and associated communes: the commune they belong to.
    pub chef_lieu: Option<String>,
    /// For arrondissements municipaux: their city.
    pub commune: Option<String>,
    /// Codes of communes merged into this one.
    #[serde(default)]
    pub anciens_codes: Vec<String>,
    /// Postal codes (La Poste) of the commune's territory.
    #[serde(default)]
    pub codes_postaux: Vec<String>,
}

/// A member commune of an EPCI or EPT.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    /// INSEE code of the commune.
    pub code: String,
}

/// An EPCI à fiscalité propre or an EPT.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grouping {
    /// SIREN.
    pub code: String,
    /// Name.
    pub nom: String,
    /// `CC`, `CA`, `CU`, `METRO`, `MET69` or `EPT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Total population.
    pub population_totale: Option<i64>,
    /// Member communes.
    #[serde(default)]
    pub membres: Vec<Member>,
}

/// One vintage of the map, as of 1 January of `year`.
#[derive(Debug, Clone)]
pub struct Vintage {
    /// Year of the vintage.
    pub year: i32,
    /// Régions and COMs.
    pub regions: Vec<Region>,
    /// Départements and COMs.
    pub departements: Vec<Departement>,
    /// Commune-level records.
    pub communes: Vec<Commune>,
    /// EPCI à fiscalité propre.
    pub epci: Vec<Grouping>,
    /// EPT, when the vintage has them.
    pub ept: Option<Vec<Grouping>>,
}

/// Reads every vintage folder (named by its year) under `dir`, oldest first.
pub fn read_dir(dir: &Path) -> Result<Vec<Vintage>, ReferenceError> {
    let mut years = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| ReferenceError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ReferenceError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(year) = name.parse::<i32>()
            && name.len() == 4
            && entry.path().is_dir()
        {
            years.insert(year, entry.path());
        }
    }
    if years.is_empty() {
        return Err(ReferenceError::Invalid(format!(
            "no vintage folder (e.g. 2026/) under {}",
            dir.display()
        )));
    }
    years
        .into_iter()
        .map(|(year, path)| read_vintage(year, &path))
        .collect()
}

fn read_vintage(year: i32, dir: &Path) -> Result<Vintage, ReferenceError> {
    Ok(Vintage {
        year,
        regions: read_json(dir, "regions")?.ok_or_else(|| missing(dir, "regions"))?,
        departements: read_json(dir, "departements")?
            .ok_or_else(|| missing(dir, "departements"))?,
        communes: read_json(dir, "communes")?.ok_or_else(|| missing(dir, "communes"))?,
        epci: read_json(dir, "epci")?.ok_or_else(|| missing(dir, "epci"))?,
        ept: read_json(dir, "ept")?,
    })
}

fn missing(dir: &Path, name: &str) -> ReferenceError {
    ReferenceError::Invalid(format!("{name}.json(.gz) missing in {}", dir.display()))
}

/// Reads `name.json.gz` (or `name.json`) from `dir`; `None` when neither exists.
fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, ReferenceError> {
    let gz: PathBuf = dir.join(format!("{name}.json.gz"));
    let plain: PathBuf = dir.join(format!("{name}.json"));
    let (path, reader): (PathBuf, Box<dyn Read>) = if gz.exists() {
        let file = File::open(&gz).map_err(|e| ReferenceError::io(&gz, e))?;
        (gz, Box::new(GzDecoder::new(BufReader::new(file))))
    } else if plain.exists() {
        let file = File::open(&plain).map_err(|e| ReferenceError::io(&plain, e))?;
        (plain, Box::new(BufReader::new(file)))
    } else {
        return Ok(None);
    };
    serde_json::from_reader(reader)
        .map(Some)
        .map_err(|e| ReferenceError::Invalid(format!("{}: {e}", path.display())))
}
