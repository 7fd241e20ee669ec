//! Competences seen from organisations — what one organisation exercises at a date, and who
//! holds a competence where — answered by the one precedence over the communes concerned:
//! an organisation exercises what the precedence gives it for some commune.
//!
//! Communes whose ancestors are the same and that no declaration names get the same answer
//! (up to the commune itself, which plays the same part in each), so one commune answers for
//! each such class: a région is some hundreds of evaluations, France some thousands.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{CompetenceRole, OrganisationKind, assignment};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use super::ancestry::{ancestors_of, named};
use super::catalogue::Catalogue;
use super::declarations::Declarations;
use super::law::Named;
use super::precedence::{Ancestor, Via, precedence};
use super::{Layer, Responsibility};
use crate::domain::contains;
use crate::domain::registry::{Organisation, Reads};
use crate::error::AppResult;

/// Deepest chain of memberships followed down to communes (région → département → commune;
/// syndicat mixte → syndicat → EPCI → commune).
const MAX_DEPTH: usize = 4;

/// The communes valid at `at` under each of `orgs`: itself for a commune, the members of a
/// grouping or a territory (through other groups), the territories of a special status for
/// the organisation it names, the territory a State service serves.
async fn communes_under(
    reads: &Reads,
    catalogue: &Catalogue,
    orgs: &[Organisation],
    at: NaiveDate,
) -> AppResult<HashMap<i64, Vec<Organisation>>> {
    let mut roots: HashMap<i64, Vec<i64>> = HashMap::new();
    for o in orgs {
        let mut mine = vec![o.id];
        if let Some(t) = o
            .territory_id
            .filter(|_| o.kind == OrganisationKind::StateService)
        {
            mine.push(t);
        }
        for status in catalogue.statuses().iter().filter(|s| s.applies_at(at)) {
            let exercised = match &status.exercised_by {
                Named::Collectivity(key) => o.source == Named::source_of(key),
                _ => false,
            };
            if exercised && let Some(t) = named(reads, &status.territory, at).await? {
                mine.push(t.id);
            }
        }
        roots.insert(o.id, mine);
    }
    let mut below: HashMap<i64, Vec<Organisation>> = HashMap::new();
    let mut frontier: Vec<i64> = roots.values().flatten().copied().collect();
    for _ in 0..MAX_DEPTH {
        frontier.retain(|id| !below.contains_key(id));
        frontier.sort_unstable();
        frontier.dedup();
        if frontier.is_empty() {
            break;
        }
        let members = reads.members_of(&frontier, at, &[]).await?;
        let mut next = Vec::new();
        for id in &frontier {
            let rows: Vec<Organisation> = members
                .get(id)
                .into_iter()
                .flatten()
                .map(|m| Organisation::clone(&m.organisation))
                .collect();
            // A commune's parts (communes déléguées…) exercise nothing of their own.
            next.extend(
                rows.iter()
                    .filter(|m| m.kind != OrganisationKind::Commune)
                    .map(|m| m.id),
            );
            below.insert(*id, rows);
        }
        frontier = next;
    }
    let mut out = HashMap::new();
    for o in orgs {
        let mut found: BTreeMap<i64, Organisation> = BTreeMap::new();
        if o.kind == OrganisationKind::Commune && contains(o.valid_from, o.valid_to, at) {
            found.insert(o.id, o.clone());
        } else {
            let mut level: Vec<i64> = roots.get(&o.id).cloned().unwrap_or_default();
            let mut seen: HashSet<i64> = level.iter().copied().collect();
            for _ in 0..MAX_DEPTH {
                let mut next = Vec::new();
                for id in &level {
                    for m in below.get(id).into_iter().flatten() {
                        if !seen.insert(m.id) {
                            continue;
                        }
                        if m.kind == OrganisationKind::Commune {
                            found.insert(m.id, m.clone());
                        } else {
                            next.push(m.id);
                        }
                    }
                }
                level = next;
            }
        }
        out.insert(o.id, found.into_values().collect());
    }
    Ok(out)
}

/// One evaluation of the precedence: a commune, what stands above it, and the communes that
/// share its answer.
struct Class {
    commune: Organisation,
    ancestors: Vec<Ancestor>,
    groups: Vec<i64>,
    members: Vec<Organisation>,
}

/// The communes under any of `orgs` (see [`communes_under`]), grouped into classes that
/// share one answer.
async fn classes(
    reads: &Reads,
    catalogue: &Catalogue,
    declarations: &Declarations,
    orgs: &[Organisation],
    at: NaiveDate,
) -> AppResult<Vec<Class>> {
    let mut unique: BTreeMap<i64, Organisation> = BTreeMap::new();
    for c in communes_under(reads, catalogue, orgs, at)
        .await?
        .into_values()
        .flatten()
    {
        unique.insert(c.id, c);
    }
    let communes: Vec<Organisation> = unique.into_values().collect();
    let all = ancestors_of(reads, catalogue, &communes, at).await?;
    let mut out: Vec<Class> = Vec::new();
    let mut index: HashMap<Vec<(i64, u8)>, usize> = HashMap::new();
    for (commune, ancestors) in communes.into_iter().zip(all) {
        let groups: Vec<i64> = ancestors
            .iter()
            .filter(|a| a.is_group())
            .map(|a| a.organisation.id)
            .collect();
        let mut key: Vec<(i64, u8)> = ancestors
            .iter()
            .filter(|a| a.via != Via::Itself)
            .map(|a| {
                let via = match a.via {
                    Via::Status(_) if a.organisation.id == commune.id => 3,
                    Via::Status(_) => 2,
                    Via::StateService => 1,
                    _ => 0,
                };
                (a.organisation.id, via)
            })
            .collect();
        key.sort_unstable();
        let alone = declarations.name_commune(commune.id)
            || ancestors
                .iter()
                .any(|a| a.via != Via::Itself && a.organisation.id == commune.id);
        match index.get(&key).filter(|_| !alone) {
            Some(&i) => out[i].members.push(commune),
            None => {
                if !alone {
                    index.insert(key, out.len());
                }
                out.push(Class {
                    members: vec![commune.clone()],
                    commune,
                    ancestors,
                    groups,
                });
            }
        }
    }
    Ok(out)
}

/// What the precedence gives for competence `i` to the communes of `class`, whose commune the
/// declarations `covering` cover: the answer of its commune, and for each other member the
/// same answer with the member in the commune's part.
fn answers(
    catalogue: &Catalogue,
    covering: &[&assignment::Model],
    class: &Class,
    i: usize,
) -> Vec<(i64, Responsibility)> {
    let code = catalogue.at(i).code.as_str();
    let declared: Vec<&assignment::Model> = covering
        .iter()
        .copied()
        .filter(|a| a.competence_code == code)
        .collect();
    let found = precedence(catalogue, i, &class.commune, &class.ancestors, &declared);
    let mut out = Vec::new();
    for member in &class.members {
        for r in &found {
            let mut r = r.clone();
            if r.organisation_id == class.commune.id {
                r.organisation_id = member.id;
                r.valid_from = member.valid_from;
                r.valid_to = member.valid_to;
            }
            out.push((member.id, r));
        }
    }
    out
}

fn key(r: &Responsibility) -> (usize, CompetenceRole, Layer, i64, Option<i64>, String) {
    (
        r.competence,
        r.role,
        r.layer,
        r.organisation_id,
        r.assignment_id,
        r.source.clone(),
    )
}

/// What each of `orgs` exercises at `at`: its declared assignments, and what the precedence
/// gives it for some commune of its territory.
pub async fn of_organisations<C: ConnectionTrait>(
    db: &C,
    reads: &Reads,
    catalogue: &Catalogue,
    orgs: &[Organisation],
    at: NaiveDate,
) -> AppResult<HashMap<i64, Vec<Responsibility>>> {
    let declarations = Declarations::in_effect(db, reads, at, None).await?;
    let wanted: HashSet<i64> = orgs.iter().map(|o| o.id).collect();
    let classes = classes(reads, catalogue, &declarations, orgs, at).await?;
    let mut found: HashMap<i64, Vec<Responsibility>> = HashMap::new();
    let mut seen = HashSet::new();
    for a in declarations
        .all()
        .iter()
        .filter(|a| wanted.contains(&a.organisation_id))
    {
        if let Some(i) = catalogue.index_of(&a.competence_code) {
            let r = Responsibility::declared(i, a);
            if seen.insert(key(&r)) {
                found.entry(r.organisation_id).or_default().push(r);
            }
        }
    }
    for class in &classes {
        // Once per class, not per competence.
        let covering = declarations.covering(class.commune.id, &class.groups);
        for i in 0..catalogue.len() {
            for (_, r) in answers(catalogue, &covering, class, i) {
                if r.layer != Layer::Declared
                    && wanted.contains(&r.organisation_id)
                    && seen.insert(key(&r))
                {
                    found.entry(r.organisation_id).or_default().push(r);
                }
            }
        }
    }
    for list in found.values_mut() {
        list.sort_by_key(|r| (r.competence, r.role, r.layer, r.assignment_id));
    }
    Ok(found)
}

/// Position in a holders list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HolderCursor {
    /// Layer rank (0 declared, 1 special status, 2 baseline, 3 default).
    pub layer: u8,
    /// Organisation id.
    pub organisation: i64,
    /// Assignment id (declared layer), else 0.
    pub assignment: i64,
}

/// One holder of a competence.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The responsibility.
    pub responsibility: Responsibility,
    /// The organisation holding it.
    pub organisation: Organisation,
    /// Its position in the list.
    pub cursor: HolderCursor,
}

/// A page of holders.
#[derive(Debug, Clone)]
pub struct HolderPage {
    /// The holders.
    pub holders: Vec<Holder>,
    /// Whether more follow.
    pub has_next: bool,
    /// Size of the whole list.
    pub total: u64,
}

fn rank(layer: Layer) -> u8 {
    match layer {
        Layer::Declared => 0,
        Layer::SpecialStatus => 1,
        Layer::LegalBaseline => 2,
        Layer::LegalDefault => 3,
    }
}

/// Who holds competence `i` (role `HOLDER`) at `at` for some commune — of département
/// `departement` when given: by layer (declared, special status, baseline, default), then
/// organisation.
#[allow(clippy::too_many_arguments)]
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    reads: &Reads,
    catalogue: &Catalogue,
    i: usize,
    at: NaiveDate,
    departement: Option<&str>,
    first: usize,
    after: Option<HolderCursor>,
) -> AppResult<HolderPage> {
    let code = catalogue.at(i).code.clone();
    let declarations = Declarations::in_effect(db, reads, at, Some(&code)).await?;
    let territories: Vec<Organisation> = match departement {
        Some(d) => reads
            .by_insee_code(d, Some(OrganisationKind::Departement), at)
            .await?
            .into_iter()
            .collect(),
        None => {
            // Every commune lies in a département or a collectivité d'outre-mer.
            let filter = crate::domain::registry::OrganisationFilter {
                kinds: vec![
                    OrganisationKind::Departement,
                    OrganisationKind::CollectiviteOutreMer,
                ],
                ..Default::default()
            };
            let page = reads
                .list(&filter, Default::default(), at, 500, None)
                .await?;
            page.rows.into_iter().map(Arc::unwrap_or_clone).collect()
        }
    };
    let classes = classes(reads, catalogue, &declarations, &territories, at).await?;
    let mut holders: BTreeMap<HolderCursor, Responsibility> = BTreeMap::new();
    for class in &classes {
        let covering = declarations.covering(class.commune.id, &class.groups);
        for (_, r) in answers(catalogue, &covering, class, i) {
            if r.role != CompetenceRole::Holder {
                continue;
            }
            let cursor = HolderCursor {
                layer: rank(r.layer),
                organisation: r.organisation_id,
                assignment: r.assignment_id.unwrap_or(0),
            };
            holders.entry(cursor).or_insert(r);
        }
    }
    let total = holders.len() as u64;
    let page: Vec<(HolderCursor, Responsibility)> = holders
        .into_iter()
        .filter(|(c, _)| after.is_none_or(|a| *c > a))
        .take(first + 1)
        .collect();
    let has_next = page.len() > first;
    let ids: Vec<i64> = page.iter().map(|(c, _)| c.organisation).collect();
    let orgs: HashMap<i64, Organisation> = reads
        .by_ids(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let holders = page
        .into_iter()
        .take(first)
        .filter_map(|(cursor, responsibility)| {
            Some(Holder {
                organisation: orgs.get(&cursor.organisation)?.clone(),
                responsibility,
                cursor,
            })
        })
        .collect();
    Ok(HolderPage {
        holders,
        has_next,
        total,
    })
}
