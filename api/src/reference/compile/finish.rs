//! Turning what the vintages observed into dated records: a run of consecutive vintages
//! becomes one validity period, open where it reaches the first or last vintage.

use std::collections::HashMap;

use entity::OrganisationKind;

use super::{Builder, Family, jan_first};
use crate::reference::snapshot::{
    MembershipRecord, OrganisationRecord, Snapshot, SuccessionRecord,
};

impl Builder {
    pub(super) fn finish(self, cog_years: Vec<i32>) -> Snapshot {
        let interval = |family: Family, first: i32, last: i32| {
            let window = self.window(family);
            let from = (window.first() != Some(&first)).then(|| jan_first(first));
            let to = window.iter().find(|y| **y > last).map(|y| jan_first(*y));
            (from, to)
        };
        // Départements and régions have no population of their own in the data: the sum of
        // their communes' in the latest vintage stands for it.
        let mut sums: HashMap<(OrganisationKind, String), i64> = HashMap::new();
        let latest = cog_years.last().copied();
        for o in self
            .orgs
            .iter()
            .filter(|o| o.kind == OrganisationKind::Commune)
        {
            if o.years.last().copied() != latest {
                continue;
            }
            let p = o.population.unwrap_or(0);
            if let Some(d) = &o.departement {
                *sums
                    .entry((OrganisationKind::Departement, d.clone()))
                    .or_default() += p;
            }
            if let Some(r) = &o.region {
                *sums
                    .entry((OrganisationKind::Region, r.clone()))
                    .or_default() += p;
            }
        }
        let organisations = self
            .orgs
            .iter()
            .map(|o| {
                let first = *o.years.first().unwrap_or(&o.first_year);
                let last = *o.years.last().unwrap_or(&o.first_year);
                let (valid_from, valid_to) = interval(o.family, first, last);
                let kind_name = serde_json::to_value(o.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let population = o
                    .population
                    .or_else(|| sums.get(&(o.kind, o.code.clone())).copied());
                OrganisationRecord {
                    key: format!("{kind_name}:{}:{}", o.code, o.first_year),
                    kind: o.kind,
                    name: o.name.clone(),
                    insee_code: o.insee_code.clone(),
                    siren: o.siren.clone(),
                    population,
                    postal_codes: o.postal_codes.clone(),
                    valid_from,
                    valid_to,
                    departement: o.departement.clone(),
                    region: o.region.clone(),
                    territory: o.territory,
                    vintages: o.years.iter().copied().collect(),
                }
            })
            .collect();

        let mut memberships = Vec::new();
        for (&(member, group, kind), years) in &self.memberships {
            let family = self.membership_family[&(member, group, kind)];
            let window = self.window(family);
            // Split the observed years into runs of consecutive vintages.
            let mut run: Vec<i32> = Vec::new();
            let mut flush = |run: &mut Vec<i32>| {
                if let (Some(&first), Some(&last)) = (run.first(), run.last()) {
                    let (valid_from, valid_to) = interval(family, first, last);
                    memberships.push(MembershipRecord {
                        member,
                        group,
                        kind,
                        valid_from,
                        valid_to,
                        vintages: std::mem::take(run),
                    });
                }
            };
            for &y in years {
                let prev = window.iter().copied().rev().find(|w| *w < y);
                if run.last().copied() != prev {
                    flush(&mut run);
                }
                run.push(y);
            }
            flush(&mut run);
        }

        let successions = self
            .successions
            .iter()
            .map(
                |(&(predecessor, successor), &(year, kind))| SuccessionRecord {
                    predecessor,
                    successor,
                    date: jan_first(year),
                    kind,
                },
            )
            .collect();
        Snapshot {
            vintages: cog_years,
            organisations,
            memberships,
            successions,
        }
    }
}
