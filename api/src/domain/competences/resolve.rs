//! "Who does competence C for commune X on date D": the layered resolution, set-based (one
//! query for the commune's groups, one for the declared assignments covering it, whatever the
//! number of competences asked for).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{
    AssignmentBasis, CompetenceRole, MembershipKind, OrganisationKind, assignment, organisation,
};
use sea_orm::{ActiveEnum, ColumnTrait, DatabaseConnection, QueryFilter};

use super::catalogue::{Beneficiary, Catalogue, Level};
use super::chains::{Chain, ChainCache};
use super::{Layer, Responsibility};
use crate::domain::registry::{self, Direction, Organisation};
use crate::domain::{codes, contains};
use crate::error::{AppError, AppResult};

/// EPCI kinds the legal baseline can name.
pub const EPCI_KINDS: [OrganisationKind; 5] = [
    OrganisationKind::Cc,
    OrganisationKind::Ca,
    OrganisationKind::Cu,
    OrganisationKind::Metropole,
    OrganisationKind::MetropoleLyon,
];

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

/// Deepest chain of memberships followed.
const MAX_DEPTH: i32 = 6;
/// Depth given to the State services serving the commune's territories.
const STATE_DEPTH: i32 = 99;

/// An organisation above the commune at the date, with the validity of the link to it.
#[derive(Debug, Clone)]
pub struct Ancestor {
    /// The organisation.
    pub organisation: Organisation,
    /// Memberships from the commune to it (0: the commune; 99: a State service).
    pub depth: i32,
    /// Start of the membership that leads to it.
    pub link_from: Option<NaiveDate>,
    /// End of the membership that leads to it.
    pub link_to: Option<NaiveDate>,
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
pub async fn subject(
    db: &DatabaseConnection,
    code: &str,
    at: NaiveDate,
) -> AppResult<Option<Subject>> {
    check_commune_code(code)?;
    let Some(requested) = registry::by_insee_code(db, code, None, at).await? else {
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
                let next = registry::successions_of(db, &current, Direction::Successors).await?;
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
            let links = registry::memberships_of(db, &[requested.id], Some(at)).await?;
            let parent = links
                .get(&requested.id)
                .into_iter()
                .flatten()
                .find(|l| {
                    l.membership.kind == MembershipKind::PartOf
                        && l.organisation.kind == OrganisationKind::Commune
                })
                .map(|l| l.organisation.clone());
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

/// The groups the commune belongs to at `at`, directly or through other groups, and the
/// State services serving its département or région; the commune itself at depth 0.
///
/// Walked level by level (one indexed query per level, three for the national map): SQLite
/// plans a recursive CTE over `membership` with a Bloom filter built from the whole table,
/// some 8 ms a call.
pub(crate) async fn ancestors(
    db: &DatabaseConnection,
    commune: &Organisation,
    at: NaiveDate,
) -> AppResult<Vec<Ancestor>> {
    let mut out = vec![Ancestor {
        organisation: commune.clone(),
        depth: 0,
        link_from: None,
        link_to: None,
    }];
    let mut seen: HashSet<i64> = HashSet::from([commune.id]);
    let mut frontier = vec![commune.id];
    // Commune → EPCI → syndicat → syndicat mixte is as deep as France goes.
    for depth in 1..=MAX_DEPTH {
        if frontier.is_empty() {
            break;
        }
        let links = registry::memberships_of(db, &frontier, Some(at)).await?;
        frontier.clear();
        for link in links.into_values().flatten() {
            if seen.insert(link.organisation.id) {
                frontier.push(link.organisation.id);
                out.push(Ancestor {
                    organisation: link.organisation,
                    depth,
                    link_from: link.membership.valid_from,
                    link_to: link.membership.valid_to,
                });
            }
        }
    }
    let territories: Vec<i64> = out
        .iter()
        .filter(|a| {
            matches!(
                a.organisation.kind,
                OrganisationKind::Departement | OrganisationKind::Region
            )
        })
        .map(|a| a.organisation.id)
        .collect();
    if !territories.is_empty() {
        let services: Vec<Organisation> = registry::organisations()
            .filter(organisation::Column::Kind.eq(OrganisationKind::StateService))
            .filter(organisation::Column::TerritoryId.is_in(territories))
            .filter(crate::domain::valid_at(
                organisation::Column::ValidFrom,
                organisation::Column::ValidTo,
                at,
            ))
            .into_model()
            .all(db)
            .await?;
        out.extend(services.into_iter().map(|organisation| Ancestor {
            organisation,
            depth: STATE_DEPTH,
            link_from: None,
            link_to: None,
        }));
    }
    Ok(out)
}

/// Declared assignments covering `commune` at `at`: whole-territory assignments of the
/// commune or any of its groups, and assignments whose scope names it; for `competence` only
/// when given.
pub(crate) async fn declared(
    db: &DatabaseConnection,
    commune: i64,
    groups: &[i64],
    at: NaiveDate,
    competence: Option<&str>,
) -> AppResult<Vec<assignment::Model>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    use sea_orm::{Condition, EntityTrait};
    let scoped = Query::select()
        .expr(Expr::val(1))
        .from(entity::assignment_scope::Entity)
        .and_where(
            Expr::col((
                entity::assignment_scope::Entity,
                entity::assignment_scope::Column::AssignmentId,
            ))
            .equals((assignment::Entity, assignment::Column::Id)),
        )
        .and_where(entity::assignment_scope::Column::CommuneId.eq(commune))
        .to_owned();
    let mut query = assignment::Entity::find()
        .filter(crate::domain::valid_at(
            assignment::Column::ValidFrom,
            assignment::Column::ValidTo,
            at,
        ))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(assignment::Column::WholeTerritory.eq(true))
                        .add(assignment::Column::OrganisationId.is_in(groups.to_vec())),
                )
                .add(Expr::exists(scoped)),
        );
    if let Some(code) = competence {
        query = query.filter(assignment::Column::CompetenceCode.eq(code));
    }
    Ok(query.all(db).await?)
}

/// The organisation a level of government names for the commune.
fn level_organisation<'a>(
    level: Level,
    commune: &'a Organisation,
    ancestors: &'a [Ancestor],
) -> Option<&'a Ancestor> {
    let of_kind = |k: OrganisationKind| {
        ancestors
            .iter()
            .filter(|a| a.organisation.kind == k)
            .min_by_key(|a| a.depth)
    };
    match level {
        Level::Commune => ancestors.iter().find(|a| a.organisation.id == commune.id),
        Level::Departement => of_kind(OrganisationKind::Departement),
        Level::Region => of_kind(OrganisationKind::Region),
        Level::State => {
            // The préfecture of the département, else that of the région.
            let dept = of_kind(OrganisationKind::Departement).map(|a| a.organisation.id);
            let region = of_kind(OrganisationKind::Region).map(|a| a.organisation.id);
            let serving = |t: Option<i64>| {
                ancestors.iter().find(|a| {
                    a.organisation.kind == OrganisationKind::StateService
                        && t.is_some()
                        && a.organisation.territory_id == t
                })
            };
            serving(dept).or_else(|| serving(region))
        }
    }
}

/// The layered answer for competence `i`, given the commune's groups and the declared
/// assignments for that competence covering it.
pub(crate) fn layered(
    catalogue: &Catalogue,
    i: usize,
    commune: &Organisation,
    ancestors: &[Ancestor],
    declared: &[&assignment::Model],
) -> Vec<Responsibility> {
    let mut out: Vec<Responsibility> = declared
        .iter()
        .map(|a| Responsibility::declared(i, a))
        .collect();
    let mut covered: HashSet<CompetenceRole> = out.iter().map(|r| r.role).collect();

    let mut baseline = Vec::new();
    for a in ancestors
        .iter()
        .filter(|a| EPCI_KINDS.contains(&a.organisation.kind))
    {
        for rule in catalogue.baseline(i, a.organisation.kind) {
            for &role in rule.roles.iter().filter(|r| !covered.contains(r)) {
                baseline.push(Responsibility {
                    organisation_id: a.organisation.id,
                    competence: i,
                    role,
                    layer: Layer::LegalBaseline,
                    basis: Some(AssignmentBasis::Law),
                    valid_from: a.link_from,
                    valid_to: a.link_to,
                    assignment_id: None,
                    condition: rule.condition.clone(),
                    source: rule.source.clone(),
                });
            }
        }
    }
    covered.extend(baseline.iter().map(|r| r.role));
    out.extend(baseline);

    for rule in catalogue.defaults(i) {
        let Beneficiary::Level(level) = rule.beneficiary else {
            continue;
        };
        let Some(holder) = level_organisation(level, commune, ancestors) else {
            continue;
        };
        for &role in rule.roles.iter().filter(|r| !covered.contains(r)) {
            out.push(Responsibility {
                organisation_id: holder.organisation.id,
                competence: i,
                role,
                layer: Layer::LegalDefault,
                basis: Some(AssignmentBasis::Law),
                valid_from: holder.organisation.valid_from,
                valid_to: holder.organisation.valid_to,
                assignment_id: None,
                condition: rule.condition.clone(),
                source: rule.source.clone(),
            });
        }
    }
    out.sort_by_key(|r| (r.role, r.layer, r.organisation_id));
    out
}

/// The commune `code` names at `at` and its groups, from `cache` when fresh.
async fn chain(
    db: &DatabaseConnection,
    cache: &ChainCache,
    code: &str,
    at: NaiveDate,
) -> AppResult<Option<Arc<Chain>>> {
    if let Some(found) = cache.get(code, at) {
        return Ok(found);
    }
    let chain = match subject(db, code, at).await? {
        Some(subject) => {
            let ancestors = ancestors(db, &subject.commune, at).await?;
            Some(Arc::new(Chain { subject, ancestors }))
        }
        None => None,
    };
    cache.put(code, at, chain.clone());
    Ok(chain)
}

/// Resolves `competences` (catalogue positions; all when `None`) for the commune `code`
/// names at `at`. `None` when the code names no commune then.
pub async fn resolve(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    cache: &ChainCache,
    code: &str,
    competence: Option<usize>,
    at: NaiveDate,
) -> AppResult<Option<Resolution>> {
    check_commune_code(code)?;
    let Some(chain) = chain(db, cache, code, at).await? else {
        return Ok(None);
    };
    let commune = &chain.subject.commune;
    let ancestors = &chain.ancestors;
    let groups: Vec<i64> = ancestors
        .iter()
        .filter(|a| a.depth < STATE_DEPTH)
        .map(|a| a.organisation.id)
        .collect();
    let competence_code = competence.map(|i| catalogue.at(i).code.as_str());
    let declared = declared(db, commune.id, &groups, at, competence_code).await?;

    let mut by_code: HashMap<&str, Vec<&assignment::Model>> = HashMap::new();
    for a in &declared {
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
            (i, layered(catalogue, i, commune, ancestors, mine))
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
        for o in registry::by_ids(db, &missing).await? {
            organisations.insert(o.id, o);
        }
    }
    Ok(Some(Resolution {
        subject: chain.subject.clone(),
        by_competence,
        organisations,
    }))
}
