//! The registry held in memory at one version of the database: every organisation, membership,
//! succession and declared assignment, indexed for each read the API makes, answering exactly as the SQL reads do
//! (a test compares the two on the national data).

mod build;
mod declared;
mod lists;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, succession};

use super::rows::{Membership, MembershipWith, Organisation};
use super::{Direction, pick_at};
use crate::domain::{codes, contains};
use crate::error::AppResult;

pub use build::load;
pub use declared::{Declared, Found};

/// A membership whose ends are positions in the organisation table, its provenance interned.
#[derive(Debug, Clone)]
struct Link {
    id: i64,
    member: u32,
    group: u32,
    kind: MembershipKind,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    source: u32,
    vintages: Option<u32>,
}

/// Lists per owner in two flat arrays (compressed sparse rows): `items[starts[o]..starts[o + 1]]`.
#[derive(Debug, Default)]
struct Groups {
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl Groups {
    /// Groups `(owner, item)` pairs by owner, keeping the pairs' order within each owner.
    fn new(owners: usize, pairs: &[(u32, u32)]) -> Self {
        let mut starts = vec![0u32; owners + 1];
        for &(owner, _) in pairs {
            starts[owner as usize + 1] += 1;
        }
        for i in 0..owners {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut items = vec![0u32; pairs.len()];
        for &(owner, item) in pairs {
            items[next[owner as usize] as usize] = item;
            next[owner as usize] += 1;
        }
        Self { starts, items }
    }

    fn of(&self, owner: u32) -> &[u32] {
        let o = owner as usize;
        match (self.starts.get(o), self.starts.get(o + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// The registry at one version of the database.
#[derive(Debug)]
pub struct MemoryRegistry {
    /// The `registry_version` it copies.
    pub version: i64,
    /// Organisations by id.
    orgs: Vec<Arc<Organisation>>,
    links: Vec<Link>,
    /// Interned provenance texts of the links.
    texts: Vec<Arc<str>>,
    /// Each member's links, open starts first, then by start and id.
    of_member: Groups,
    /// Each group's links, by the member's folded name and id, then link id.
    of_group: Groups,
    successions: Vec<succession::Model>,
    /// Each successor's successions, by date and id.
    predecessors: Groups,
    /// Each predecessor's successions, by date and id.
    successors: Groups,
    by_insee: HashMap<String, Vec<u32>>,
    by_siren: HashMap<String, Vec<u32>>,
    by_departement: HashMap<String, Vec<u32>>,
    by_region: HashMap<String, Vec<u32>>,
    /// State services by the territory they serve: every answer about a commune asks for them.
    state_services: HashMap<i64, Vec<u32>>,
    /// Organisations by provenance source, for those the law data adds (`law:KEY`).
    by_law_source: HashMap<String, Vec<u32>>,
    /// Positions in every list order.
    orders: lists::Orders,
    /// The declared assignments.
    pub declared: Declared,
}

impl MemoryRegistry {
    fn position(&self, id: i64) -> Option<u32> {
        self.orgs
            .binary_search_by_key(&id, |o| o.id)
            .ok()
            .map(|p| p as u32)
    }

    fn org(&self, position: u32) -> &Arc<Organisation> {
        &self.orgs[position as usize]
    }

    fn membership(&self, link: &Link) -> Membership {
        Membership {
            id: link.id,
            member_id: self.org(link.member).id,
            group_id: self.org(link.group).id,
            kind: link.kind,
            valid_from: link.valid_from,
            valid_to: link.valid_to,
            source: self.texts[link.source as usize].clone(),
            vintages: link.vintages.map(|v| self.texts[v as usize].clone()),
        }
    }

    /// Organisations by id, in no particular order.
    pub fn by_ids(&self, ids: &[i64]) -> Vec<Organisation> {
        ids.iter().filter_map(|&id| self.by_id(id)).collect()
    }

    /// The organisation with id `id`.
    pub fn by_id(&self, id: i64) -> Option<Organisation> {
        self.shared(id).map(|o| Organisation::clone(&o))
    }

    /// The organisation with id `id`, shared with this copy.
    pub fn shared(&self, id: i64) -> Option<Arc<Organisation>> {
        self.position(id).map(|p| self.org(p).clone())
    }

    fn by_code(
        &self,
        index: &HashMap<String, Vec<u32>>,
        code: &str,
        kind: Option<OrganisationKind>,
        at: NaiveDate,
    ) -> Option<Organisation> {
        let candidates = index
            .get(code)
            .map(|ps| {
                ps.iter()
                    .map(|&p| self.org(p))
                    .filter(|o| kind.is_none_or(|k| o.kind == k))
                    .map(|o| Organisation::clone(o))
                    .collect()
            })
            .unwrap_or_default();
        pick_at(candidates, at)
    }

    /// The organisation with INSEE code `code` at `at` (as [`super::by_insee_code`]).
    pub fn by_insee_code(
        &self,
        code: &str,
        kind: Option<OrganisationKind>,
        at: NaiveDate,
    ) -> AppResult<Option<Organisation>> {
        codes::check_insee_code("inseeCode", code)?;
        Ok(self.by_code(&self.by_insee, code, kind, at))
    }

    /// The organisation with SIREN `siren` at `at` (as [`super::by_siren`]).
    pub fn by_siren(
        &self,
        siren: &str,
        kind: Option<OrganisationKind>,
        at: NaiveDate,
    ) -> AppResult<Option<Organisation>> {
        codes::check_siren("siren", siren)?;
        Ok(self.by_code(&self.by_siren, siren, kind, at))
    }

    /// The organisation the law data added under `source` (`law:KEY`), valid at `at` (as
    /// [`super::by_source`]).
    pub fn by_source(&self, source: &str, at: NaiveDate) -> Option<Organisation> {
        let candidates = self
            .by_law_source
            .get(source)
            .map(|ps| {
                ps.iter()
                    .map(|&p| Organisation::clone(self.org(p)))
                    .collect()
            })
            .unwrap_or_default();
        pick_at(candidates, at).filter(|o: &Organisation| contains(o.valid_from, o.valid_to, at))
    }

    /// The State services serving each of `territories` (départements, régions) at `at` (as
    /// [`super::state_services_serving`]).
    pub fn state_services_serving(
        &self,
        territories: &[Organisation],
        at: NaiveDate,
    ) -> Vec<Organisation> {
        let mut out = Vec::new();
        for t in territories {
            if !matches!(
                t.kind,
                OrganisationKind::Departement | OrganisationKind::Region
            ) {
                continue;
            }
            for &p in self.state_services.get(&t.id).into_iter().flatten() {
                let o = self.org(p);
                if contains(o.valid_from, o.valid_to, at) {
                    out.push(Organisation::clone(o));
                }
            }
        }
        out.sort_by_key(|o| o.id);
        out.dedup_by_key(|o| o.id);
        out
    }

    /// The memberships of each member (valid at `at` when given), with their group (as
    /// [`super::memberships_of`]).
    pub fn memberships_of(
        &self,
        member_ids: &[i64],
        at: Option<NaiveDate>,
    ) -> HashMap<i64, Vec<MembershipWith>> {
        member_ids
            .iter()
            .map(|&id| (id, self.memberships_of_member(id, at)))
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }

    /// The memberships of one member (valid at `at` when given), with their group.
    pub fn memberships_of_member(&self, id: i64, at: Option<NaiveDate>) -> Vec<MembershipWith> {
        let Some(p) = self.position(id) else {
            return Vec::new();
        };
        self.of_member
            .of(p)
            .iter()
            .map(|&l| &self.links[l as usize])
            .filter(|l| at.is_none_or(|at| contains(l.valid_from, l.valid_to, at)))
            .map(|l| MembershipWith {
                membership: self.membership(l),
                organisation: self.org(l.group).clone(),
            })
            .collect()
    }

    /// Positions of the members of the group at `position` valid at `at`, by folded name.
    fn member_links(&self, position: u32, at: NaiveDate) -> impl Iterator<Item = &Link> {
        self.of_group
            .of(position)
            .iter()
            .map(|&l| &self.links[l as usize])
            .filter(move |l| contains(l.valid_from, l.valid_to, at))
    }

    /// The members of each group valid at `at`, with the member organisation, by folded name
    /// (as [`super::members_of`]).
    pub fn members_of(
        &self,
        group_ids: &[i64],
        at: NaiveDate,
        kinds: &[OrganisationKind],
    ) -> HashMap<i64, Vec<MembershipWith>> {
        group_ids
            .iter()
            .map(|&id| (id, self.members_of_group(id, at, kinds)))
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }

    /// The members of one group valid at `at` (of `kinds`, unless empty), by folded name.
    fn members_of_group(
        &self,
        id: i64,
        at: NaiveDate,
        kinds: &[OrganisationKind],
    ) -> Vec<MembershipWith> {
        let Some(p) = self.position(id) else {
            return Vec::new();
        };
        self.member_links(p, at)
            .filter(|l| kinds.is_empty() || kinds.contains(&self.org(l.member).kind))
            .map(|l| MembershipWith {
                membership: self.membership(l),
                organisation: self.org(l.member).clone(),
            })
            .collect()
    }

    /// The successions of each organisation, with the organisation at the other end (as
    /// [`super::successions_of`]).
    pub fn successions_of(
        &self,
        ids: &[i64],
        direction: Direction,
    ) -> HashMap<i64, Vec<(succession::Model, Organisation)>> {
        let index = match direction {
            Direction::Predecessors => &self.predecessors,
            Direction::Successors => &self.successors,
        };
        let mut out = HashMap::new();
        for &id in ids {
            let Some(p) = self.position(id) else {
                continue;
            };
            let rows: Vec<(succession::Model, Organisation)> = index
                .of(p)
                .iter()
                .map(|&s| &self.successions[s as usize])
                .filter_map(|s| {
                    let other = match direction {
                        Direction::Predecessors => s.predecessor_id,
                        Direction::Successors => s.successor_id,
                    };
                    let other = self.position(other)?;
                    Some((s.clone(), Organisation::clone(self.org(other))))
                })
                .collect();
            if !rows.is_empty() {
                out.insert(id, rows);
            }
        }
        out
    }
}
