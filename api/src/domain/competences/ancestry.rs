//! What stands above communes at a date: their groups (directly or through other groups), the
//! State services serving their département or région, and the organisations special statuses
//! make exercise competences there. Read from the versioned registry, level by level for any
//! number of communes at once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::OrganisationKind;

use super::catalogue::Catalogue;
use super::law::Named;
use super::precedence::{Ancestor, Via};
use crate::domain::registry::{Organisation, Reads};
use crate::error::AppResult;

/// Deepest chain of memberships followed: commune → EPCI → syndicat → syndicat mixte is as
/// deep as France goes.
const MAX_DEPTH: i32 = 6;

/// Communes read at once (all of France is some 35,000).
const CHUNK: usize = 5_000;

/// The ancestors of each of `communes` at `at`, the commune itself first.
pub async fn ancestors_of(
    reads: &Reads,
    catalogue: &Catalogue,
    communes: &[Organisation],
    at: NaiveDate,
) -> AppResult<Vec<Vec<Ancestor>>> {
    // Each organisation's groups, read once for all communes.
    type Up = (i64, Option<NaiveDate>, Option<NaiveDate>);
    let mut up: HashMap<i64, Vec<Up>> = HashMap::new();
    let mut orgs: HashMap<i64, Organisation> = HashMap::new();
    let mut frontier: Vec<i64> = communes.iter().map(|c| c.id).collect();
    for _ in 0..MAX_DEPTH {
        frontier.retain(|id| !up.contains_key(id));
        frontier.sort_unstable();
        frontier.dedup();
        if frontier.is_empty() {
            break;
        }
        // In chunks: SQL reads bind each id (SQLite takes at most 32,766 parameters).
        let mut links = HashMap::new();
        for chunk in frontier.chunks(CHUNK) {
            links.extend(reads.memberships_of(chunk, Some(at)).await?);
        }
        for &id in &frontier {
            up.insert(id, Vec::new());
        }
        let mut next = Vec::new();
        for (member, rows) in links {
            for link in rows {
                let group = link.organisation.id;
                if let Some(list) = up.get_mut(&member) {
                    list.push((group, link.membership.valid_from, link.membership.valid_to));
                }
                next.push(group);
                orgs.entry(group)
                    .or_insert_with(|| Arc::unwrap_or_clone(link.organisation));
            }
        }
        frontier = next;
    }

    let mut all: Vec<Vec<Ancestor>> = communes
        .iter()
        .map(|commune| {
            let mut out = vec![Ancestor {
                organisation: commune.clone(),
                via: Via::Itself,
                link_from: None,
                link_to: None,
            }];
            let mut seen: HashSet<i64> = HashSet::from([commune.id]);
            let mut level = vec![commune.id];
            for depth in 1..=MAX_DEPTH {
                let mut next = Vec::new();
                for id in &level {
                    for &(group, from, to) in up.get(id).into_iter().flatten() {
                        if !seen.insert(group) {
                            continue;
                        }
                        if let Some(o) = orgs.get(&group) {
                            next.push(group);
                            out.push(Ancestor {
                                organisation: o.clone(),
                                via: Via::Membership(depth),
                                link_from: from,
                                link_to: to,
                            });
                        }
                    }
                }
                if next.is_empty() {
                    break;
                }
                level = next;
            }
            out
        })
        .collect();

    // State services, read once for every territory.
    let territories: Vec<Organisation> = orgs
        .values()
        .filter(|o| {
            matches!(
                o.kind,
                OrganisationKind::Departement | OrganisationKind::Region
            )
        })
        .cloned()
        .collect();
    let services = reads.state_services_serving(&territories, at).await?;
    // Each status's organisation, read once.
    let mut exercising: Vec<Option<Organisation>> = Vec::new();
    for status in catalogue.statuses() {
        exercising.push(if status.applies_at(at) {
            named(reads, &status.exercised_by, at).await?
        } else {
            None
        });
    }
    for ancestors in &mut all {
        let served: Vec<Organisation> = services
            .iter()
            .filter(|s| {
                ancestors
                    .iter()
                    .any(|a| a.is_group() && s.territory_id == Some(a.organisation.id))
            })
            .cloned()
            .collect();
        ancestors.extend(served.into_iter().map(|organisation| Ancestor {
            organisation,
            via: Via::StateService,
            link_from: None,
            link_to: None,
        }));
        for (s, status) in catalogue.statuses().iter().enumerate() {
            let Some(Some(organisation)) = exercising.get(s) else {
                continue;
            };
            if ancestors.iter().any(|a| names(&status.territory, a)) {
                ancestors.push(Ancestor {
                    organisation: organisation.clone(),
                    via: Via::Status(s),
                    link_from: status.since,
                    link_to: status.until,
                });
            }
        }
    }
    Ok(all)
}

/// Whether ancestor `a` is the territory `territory` names.
fn names(territory: &Named, a: &Ancestor) -> bool {
    if !a.is_group() {
        return false;
    }
    let o = &a.organisation;
    let code =
        |kind: OrganisationKind, c: &str| o.kind == kind && o.insee_code.as_deref() == Some(c);
    match territory {
        Named::Commune(c) => code(OrganisationKind::Commune, c),
        Named::Departement(c) => code(OrganisationKind::Departement, c),
        Named::Region(c) => code(OrganisationKind::Region, c),
        Named::Epci(siren) => {
            o.kind != OrganisationKind::Commune && o.siren.as_deref() == Some(siren.as_str())
        }
        Named::Collectivity(_) => false,
    }
}

/// The organisation the law data names, valid at `at`.
pub async fn named(reads: &Reads, who: &Named, at: NaiveDate) -> AppResult<Option<Organisation>> {
    let found = match who {
        Named::Commune(c) => {
            reads
                .by_insee_code(c, Some(OrganisationKind::Commune), at)
                .await
        }
        Named::Departement(c) => {
            reads
                .by_insee_code(c, Some(OrganisationKind::Departement), at)
                .await
        }
        Named::Region(c) => {
            reads
                .by_insee_code(c, Some(OrganisationKind::Region), at)
                .await
        }
        Named::Epci(siren) => reads.by_siren(siren, None, at).await,
        Named::Collectivity(key) => reads.by_source(&Named::source_of(key), at).await,
    }?;
    Ok(found.filter(|o| crate::domain::contains(o.valid_from, o.valid_to, at)))
}
