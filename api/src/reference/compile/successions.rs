//! Successions derived between consecutive vintages: communes absorbed into communes
//! nouvelles (`anciensCodes`), same-code re-foundations (new SIREN), and groupings that
//! disappeared into the groupings their communes joined.

use std::collections::{BTreeSet, HashMap};

use entity::{MembershipKind, OrganisationKind, SuccessionKind};

use super::Builder;
use crate::reference::upstream::Vintage;

impl Builder {
    pub(super) fn derive_successions(&mut self, vintages: &[Vintage]) {
        for pair in vintages.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            let (Some(old), Some(new)) = (
                self.by_year.get(&before.year),
                self.by_year.get(&after.year),
            ) else {
                continue;
            };
            // Communes that disappeared, and the communes that list them in `anciensCodes`.
            let mut absorbed_by: HashMap<&str, Vec<usize>> = HashMap::new();
            for c in after
                .communes
                .iter()
                .filter(|c| c.kind == "commune-actuelle")
            {
                if let Some(&idx) = new.get(&(OrganisationKind::Commune, c.code.clone())) {
                    for a in &c.anciens_codes {
                        absorbed_by.entry(a.as_str()).or_default().push(idx);
                    }
                }
            }
            let mut links = Vec::new();
            for ((kind, code), &idx) in old {
                if *kind != OrganisationKind::Commune
                    || new.get(&(*kind, code.clone())) == Some(&idx)
                {
                    continue;
                }
                let same_code_successor = new.get(&(*kind, code.clone())).copied();
                let successors: BTreeSet<usize> = absorbed_by
                    .get(code.as_str())
                    .into_iter()
                    .flatten()
                    .copied()
                    .chain(same_code_successor)
                    .collect();
                for s in successors {
                    links.push((idx, s));
                }
            }
            let year = after.year;
            let mut predecessors: HashMap<usize, usize> = HashMap::new();
            for &(_, s) in &links {
                *predecessors.entry(s).or_default() += 1;
            }
            for (p, s) in links {
                let kind = if predecessors[&s] > 1 {
                    SuccessionKind::Merger
                } else {
                    SuccessionKind::Transformation
                };
                self.successions.insert((p, s), (year, kind));
            }
            self.derive_grouping_successions(before.year, year);
        }
        for (old, new, year) in std::mem::take(&mut self.refoundations) {
            self.successions
                .entry((old, new))
                .or_insert((year, SuccessionKind::Transformation));
        }
    }

    /// A grouping that disappeared is succeeded by the groupings its communes joined.
    fn derive_grouping_successions(&mut self, before: i32, after: i32) {
        let commune_successor: HashMap<usize, Vec<usize>> = {
            let mut map: HashMap<usize, Vec<usize>> = HashMap::new();
            for (&(p, s), &(y, _)) in &self.successions {
                if y == after {
                    map.entry(p).or_default().push(s);
                }
            }
            map
        };
        let mut members_before: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut group_after: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        for (&(m, g, kind), years) in &self.memberships {
            if kind != MembershipKind::Member {
                continue;
            }
            if years.contains(&before) {
                members_before.entry(g).or_default().push(m);
            }
            if years.contains(&after) {
                group_after.entry(m).or_default().insert(g);
            }
        }
        let mut links: Vec<(usize, usize)> = Vec::new();
        for (&g, members) in &members_before {
            let org = &self.orgs[g];
            if org.years.contains(&after) || !self.window(org.family).contains(&after) {
                continue;
            }
            let mut successors = BTreeSet::new();
            for &m in members {
                let now: Vec<usize> = match commune_successor.get(&m) {
                    Some(s) => s.clone(),
                    None => vec![m],
                };
                for c in now {
                    for &ng in group_after.get(&c).into_iter().flatten() {
                        if self.orgs[ng].family == org.family {
                            successors.insert(ng);
                        }
                    }
                }
            }
            links.extend(successors.into_iter().map(|s| (g, s)));
        }
        let mut out: HashMap<usize, usize> = HashMap::new();
        for &(p, _) in &links {
            *out.entry(p).or_default() += 1;
        }
        for (p, s) in links {
            let kind = if self.orgs[p].code == self.orgs[s].code {
                SuccessionKind::Transformation
            } else if out[&p] > 1 {
                SuccessionKind::Split
            } else {
                SuccessionKind::Merger
            };
            self.successions.insert((p, s), (after, kind));
        }
    }
}
