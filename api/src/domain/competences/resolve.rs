//! "Who does competence C for commune X on date D": the commune a code names, what stands
//! above it (read from the versioned registry, so a membership change is answered at once on
//! every instance), the declarations covering it (one query, whatever the number of
//! competences asked for), and the one precedence.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, assignment};
use sea_orm::{ActiveEnum, DatabaseConnection};

use super::Responsibility;
use super::ancestry::ancestors_of;
use super::catalogue::Catalogue;
use super::declarations::Declarations;
use super::precedence::precedence;
use crate::domain::registry::{Direction, Organisation, Reads};
use crate::domain::{codes, contains};
use crate::error::{AppError, AppResult};

/// How the code asked for led to the commune answered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Through {
    /// The code names the commune itself.
    Itself,
    /// The code names a commune déléguée or associée, or an arrondissement municipal, of it.
    PartOf,
    /// The code names a commune that merged into it (or otherwise ended) before that date.
    Succession,
}

/// The commune a question is about, and the organisation its code named.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The commune answered for.
    pub commune: Organisation,
    /// The organisation the code named (the commune itself, or what led to it).
    pub requested: Organisation,
    /// How one led to the other.
    pub through: Through,
}

/// The answer for one commune.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Which commune, and how it was reached.
    pub subject: Subject,
    /// Responsibilities by competence (catalogue position), in catalogue order.
    pub by_competence: Vec<(usize, Vec<Responsibility>)>,
    /// Every organisation the responsibilities name.
    pub organisations: HashMap<i64, Organisation>,
}

/// Checks that `code` has the form of a commune's INSEE code (5 characters).
fn check_commune_code(code: &str) -> AppResult<()> {
    codes::check_insee_code("inseeCode", code)?;
    if code.len() != 5 {
        return Err(AppError::bad_input(
            "inseeCode",
            format!("`{code}` is not a commune's INSEE code: expected 5 characters (e.g. 35238)"),
        ));
    }
    Ok(())
}

/// The commune `code` answers for at `at`: itself, the commune a commune déléguée or an
/// arrondissement belongs to, or the successor of a merged commune. `None` when the code
/// names nothing then.
pub async fn subject(reads: &Reads, code: &str, at: NaiveDate) -> AppResult<Option<Subject>> {
    check_commune_code(code)?;
    let Some(requested) = reads.by_insee_code(code, None, at).await? else {
        return Ok(None);
    };
    let valid = contains(requested.valid_from, requested.valid_to, at);
    match requested.kind {
        OrganisationKind::Commune if valid => Ok(Some(Subject {
            commune: requested.clone(),
            requested,
            through: Through::Itself,
        })),
        OrganisationKind::Commune => {
            // Follow successions (a commune nouvelle may itself have merged again).
            let mut current = vec![requested.id];
            for _ in 0..4 {
                let next = reads
                    .successions_of(&current, Direction::Successors)
                    .await?;
                let successors: Vec<Organisation> =
                    next.into_values().flatten().map(|(_, o)| o).collect();
                if let Some(found) = successors.iter().find(|o| {
                    o.kind == OrganisationKind::Commune && contains(o.valid_from, o.valid_to, at)
                }) {
                    return Ok(Some(Subject {
                        commune: found.clone(),
                        requested,
                        through: Through::Succession,
                    }));
                }
                current = successors.iter().map(|o| o.id).collect();
                if current.is_empty() {
                    break;
                }
            }
            Ok(None)
        }
        OrganisationKind::CommuneDeleguee
        | OrganisationKind::CommuneAssociee
        | OrganisationKind::ArrondissementMunicipal => {
            let links = reads.memberships_of(&[requested.id], Some(at)).await?;
            let parent = links
                .get(&requested.id)
                .into_iter()
                .flatten()
                .find(|l| {
                    l.membership.kind == MembershipKind::PartOf
                        && l.organisation.kind == OrganisationKind::Commune
                })
                .map(|l| Organisation::clone(&l.organisation));
            Ok(parent.map(|commune| Subject {
                commune,
                requested,
                through: Through::PartOf,
            }))
        }
        _ => Err(AppError::bad_input(
            "inseeCode",
            format!(
                "`{code}` names a {}, not a commune",
                requested.kind.to_value()
            ),
        )),
    }
}

/// Resolves `competences` (catalogue positions; all when `None`) for the commune `code`
/// names at `at`. `None` when the code names no commune then.
pub async fn resolve(
    db: &DatabaseConnection,
    reads: &Reads,
    catalogue: &Catalogue,
    code: &str,
    competence: Option<usize>,
    at: NaiveDate,
) -> AppResult<Option<Resolution>> {
    check_commune_code(code)?;
    let Some(subject) = subject(reads, code, at).await? else {
        return Ok(None);
    };
    let commune = &subject.commune;
    let ancestors = ancestors_of(reads, catalogue, std::slice::from_ref(commune), at)
        .await?
        .pop()
        .unwrap_or_default();
    let ancestors = &ancestors;
    let groups: Vec<i64> = ancestors
        .iter()
        .filter(|a| a.is_group())
        .map(|a| a.organisation.id)
        .collect();
    let competence_code = competence.map(|i| catalogue.at(i).code.as_str());
    let declarations =
        Declarations::of_commune(db, reads, commune.id, &groups, at, competence_code).await?;
    let declared = declarations.covering(commune.id, &groups);

    let mut by_code: HashMap<&str, Vec<&assignment::Model>> = HashMap::new();
    for &a in &declared {
        by_code
            .entry(a.competence_code.as_str())
            .or_default()
            .push(a);
    }
    let positions: Vec<usize> = match competence {
        Some(i) => vec![i],
        None => (0..catalogue.len()).collect(),
    };
    let by_competence: Vec<(usize, Vec<Responsibility>)> = positions
        .into_iter()
        .map(|i| {
            let mine = by_code
                .get(catalogue.at(i).code.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            (i, precedence(catalogue, i, commune, ancestors, mine))
        })
        .collect();

    let mut organisations: HashMap<i64, Organisation> = ancestors
        .iter()
        .map(|a| (a.organisation.id, a.organisation.clone()))
        .collect();
    let missing: Vec<i64> = declared
        .iter()
        .map(|a| a.organisation_id)
        .filter(|id| !organisations.contains_key(id))
        .collect();
    if !missing.is_empty() {
        for o in reads.by_ids(&missing).await? {
            organisations.insert(o.id, o);
        }
    }
    Ok(Some(Resolution {
        subject,
        by_competence,
        organisations,
    }))
}
