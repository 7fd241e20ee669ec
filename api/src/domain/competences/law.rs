//! The special statuses of French territories as data (`api/data/competences/
//! special-statuses.csv`): where an organisation other than the usual one exercises the
//! competences of a level of government (the Ville de Paris those of the département, the
//! Métropole de Lyon those of the Rhône on its territory, the Collectivité de Corse those of
//! the départements and the région…), from which date, by which article.

use chrono::NaiveDate;
use entity::OrganisationKind;

use super::catalogue::Level;

/// The shipped statuses.
const SHIPPED: &str = include_str!("../../../data/competences/special-statuses.csv");

/// An organisation named by the law data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// The commune with this INSEE code.
    Commune(String),
    /// The département with this code.
    Departement(String),
    /// The région with this code.
    Region(String),
    /// The grouping with this SIREN.
    Epci(String),
    /// A collectivity of `collectivities.csv`, by key (its organisation's source is `law:KEY`).
    Collectivity(String),
}

impl Named {
    fn parse(text: &str) -> Result<Self, String> {
        let named = match text.split_once(':') {
            Some(("COMMUNE", c)) => Self::Commune(c.to_owned()),
            Some(("DEPARTEMENT", c)) => Self::Departement(c.to_owned()),
            Some(("REGION", c)) => Self::Region(c.to_owned()),
            Some(("EPCI", c)) => Self::Epci(c.to_owned()),
            None if !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase()) => {
                Self::Collectivity(text.to_owned())
            }
            _ => return Err(format!("`{text}` names no organisation")),
        };
        Ok(named)
    }

    /// Whether it names the organisation of this kind, codes and provenance source.
    pub fn is_organisation(
        &self,
        kind: OrganisationKind,
        insee_code: Option<&str>,
        siren: Option<&str>,
        source: &str,
    ) -> bool {
        match self {
            Self::Commune(c) => kind == OrganisationKind::Commune && insee_code == Some(c.as_str()),
            Self::Departement(c) => {
                kind == OrganisationKind::Departement && insee_code == Some(c.as_str())
            }
            Self::Region(c) => kind == OrganisationKind::Region && insee_code == Some(c.as_str()),
            Self::Epci(s) => kind != OrganisationKind::Commune && siren == Some(s.as_str()),
            Self::Collectivity(key) => source == Self::source_of(key),
        }
    }

    /// The provenance source of a collectivity's organisation.
    pub fn source_of(key: &str) -> String {
        format!("law:{key}")
    }
}

/// What a status gives its organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every competence the rules give these levels.
    Levels(Vec<Level>),
    /// These competences, whoever else the law would otherwise name (the layer
    /// `SPECIAL_STATUS`, above every presumption).
    Competences(Vec<String>),
}

/// One special status.
#[derive(Debug, Clone)]
pub struct Status {
    /// The territory it covers: communes of a département, a région, or a grouping.
    pub territory: Named,
    /// Who exercises the competences there.
    pub exercised_by: Named,
    /// Which competences.
    pub scope: Scope,
    /// Start (inclusive); open when the status precedes the data.
    pub since: Option<NaiveDate>,
    /// End (exclusive).
    pub until: Option<NaiveDate>,
    /// The article that makes it so.
    pub reference: String,
}

impl Status {
    /// Whether it applies on `at`.
    pub fn applies_at(&self, at: NaiveDate) -> bool {
        crate::domain::contains(self.since, self.until, at)
    }

    /// Whether it covers competence `code` through level `level`.
    pub fn covers_level(&self, level: Level) -> bool {
        matches!(&self.scope, Scope::Levels(levels) if levels.contains(&level))
    }
}

fn date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| format!("`{text}`: {e}"))
}

/// Parses statuses from CSV (`territory,exercised_by,levels,competences,since,until,
/// reference`).
pub fn parse(text: &str) -> Result<Vec<Status>, String> {
    let mut out = Vec::new();
    for (line, rec) in csv::Reader::from_reader(text.as_bytes())
        .records()
        .enumerate()
    {
        let rec = rec.map_err(|e| e.to_string())?;
        let cell = |i: usize| rec.get(i).map(str::trim).unwrap_or_default();
        let at = |e: String| format!("special-statuses line {}: {e}", line + 2);
        let scope = if cell(2) == "ALL" {
            let codes: Vec<String> = cell(3).split(';').map(str::to_owned).collect();
            if codes
                .iter()
                .any(|c| !crate::domain::codes::is_competence_code(c))
            {
                return Err(at(format!("bad competences `{}`", cell(3))));
            }
            Scope::Competences(codes)
        } else {
            let levels = cell(2)
                .split(';')
                .map(|l| Level::parse(l).ok_or_else(|| at(format!("unknown level `{l}`"))))
                .collect::<Result<Vec<_>, _>>()?;
            Scope::Levels(levels)
        };
        if cell(6).is_empty() {
            return Err(at("no reference".into()));
        }
        out.push(Status {
            territory: Named::parse(cell(0)).map_err(at)?,
            exercised_by: Named::parse(cell(1)).map_err(at)?,
            scope,
            since: date(cell(4)).map_err(at)?,
            until: date(cell(5)).map_err(at)?,
            reference: cell(6).to_owned(),
        });
    }
    Ok(out)
}

/// The statuses shipped in the binary (none, logged, if they cannot be read: a unit test
/// keeps that from shipping).
pub fn shipped() -> Vec<Status> {
    parse(SHIPPED).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the shipped special statuses cannot be read");
        Vec::new()
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_statuses_are_read_whole() {
        let statuses = parse(SHIPPED).expect("shipped statuses");
        assert_eq!(statuses.len(), SHIPPED.lines().count() - 1);
        let lyon = statuses
            .iter()
            .find(|s| s.territory == Named::Epci("200046977".into()))
            .expect("Métropole de Lyon");
        assert!(lyon.covers_level(Level::Departement));
        assert_eq!(lyon.reference, "CGCT L3641-2");
    }

    #[test]
    fn malformed_statuses_are_refused() {
        let header = "territory,exercised_by,levels,competences,since,until,reference\n";
        for row in [
            "DEPARTEMENT:67,cea,CANTON,,2021-01-01,,CGCT L3431-1",
            "DEPARTEMENT:67,Cea,DEPARTEMENT,,2021-01-01,,CGCT L3431-1",
            "DEPARTEMENT:67,cea,DEPARTEMENT,,2021-13-01,,CGCT L3431-1",
            "DEPARTEMENT:67,cea,DEPARTEMENT,,2021-01-01,,",
            "REGION:11,idfm,ALL,X6000,,,Code des transports L1241-1",
        ] {
            assert!(parse(&format!("{header}{row}\n")).is_err(), "{row}");
        }
    }
}
