//! Compiles upstream vintages into one timeline: what appears or disappears between two
//! vintages starts or ends on 1 January of the vintage that shows it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, SuccessionKind};

mod finish;
mod successions;

use super::ReferenceError;
use super::snapshot::Snapshot;
use super::upstream::{Commune, Grouping, Vintage};

/// A family of facts observed by the same upstream file, hence over the same vintages
/// (the EPT file is absent from the 2022 vintage: its absence says nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Cog,
    Ept,
}

#[derive(Debug)]
struct OrgBuild {
    kind: OrganisationKind,
    code: String,
    family: Family,
    first_year: i32,
    years: BTreeSet<i32>,
    name: String,
    insee_code: Option<String>,
    siren: Option<String>,
    population: Option<i64>,
    postal_codes: Vec<String>,
    departement: Option<String>,
    region: Option<String>,
    territory: Option<usize>,
}

#[derive(Default)]
struct Builder {
    windows: HashMap<Family, Vec<i32>>,
    orgs: Vec<OrgBuild>,
    /// Latest organisation observed for an identity (kind, code).
    current: HashMap<(OrganisationKind, String), usize>,
    memberships: BTreeMap<(usize, usize, MembershipKind), BTreeSet<i32>>,
    membership_family: HashMap<(usize, usize, MembershipKind), Family>,
    successions: BTreeMap<(usize, usize), (i32, SuccessionKind)>,
    /// Same code, new legal entity: (old, new, year).
    refoundations: Vec<(usize, usize, i32)>,
    /// Per year: commune-level organisations by (kind, code).
    by_year: HashMap<i32, HashMap<(OrganisationKind, String), usize>>,
}

/// Compiles vintages (oldest first) into a snapshot.
pub fn compile(vintages: &[Vintage]) -> Result<Snapshot, ReferenceError> {
    let mut b = Builder::default();
    let cog_years: Vec<i32> = vintages.iter().map(|v| v.year).collect();
    let ept_years: Vec<i32> = vintages
        .iter()
        .filter(|v| v.ept.is_some())
        .map(|v| v.year)
        .collect();
    b.windows.insert(Family::Cog, cog_years.clone());
    b.windows.insert(Family::Ept, ept_years);

    for v in vintages {
        b.observe_vintage(v)?;
    }
    b.derive_successions(vintages);
    Ok(b.finish(cog_years))
}

fn epci_kind(kind: &str) -> Option<OrganisationKind> {
    Some(match kind {
        "CC" => OrganisationKind::Cc,
        "CA" => OrganisationKind::Ca,
        "CU" => OrganisationKind::Cu,
        "METRO" => OrganisationKind::Metropole,
        "MET69" => OrganisationKind::MetropoleLyon,
        "EPT" => OrganisationKind::Ept,
        _ => return None,
    })
}

fn commune_kind(kind: &str) -> Option<OrganisationKind> {
    Some(match kind {
        "commune-actuelle" => OrganisationKind::Commune,
        "commune-deleguee" => OrganisationKind::CommuneDeleguee,
        "commune-associee" => OrganisationKind::CommuneAssociee,
        "arrondissement-municipal" => OrganisationKind::ArrondissementMunicipal,
        _ => return None,
    })
}

/// "de l'Ain", "du Nord", "de la Charente", "des Ardennes", "d'Île-de-France", "de Paris":
/// the INSEE "type de nom en clair" says which article the name takes.
pub fn with_article(name: &str, type_liaison: Option<u8>) -> String {
    match type_liaison {
        Some(1) => format!("d'{name}"),
        Some(2) => format!("du {name}"),
        Some(3) => format!("de la {name}"),
        Some(4) | Some(6) => format!("des {name}"),
        Some(5) => format!("de l'{name}"),
        _ => format!("de {name}"),
    }
}

fn jan_first(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default()
}

impl Builder {
    fn window(&self, family: Family) -> &[i32] {
        self.windows.get(&family).map(Vec::as_slice).unwrap_or(&[])
    }

    fn previous_year(&self, family: Family, year: i32) -> Option<i32> {
        self.window(family)
            .iter()
            .copied()
            .rev()
            .find(|y| *y < year)
    }

    /// Records that identity (kind, code) exists in `year`; returns its organisation.
    /// A gap, or a different SIREN under the same code, starts a new organisation.
    fn observe(
        &mut self,
        kind: OrganisationKind,
        code: &str,
        siren: Option<&str>,
        family: Family,
        year: i32,
    ) -> usize {
        let identity = (kind, code.to_owned());
        let prev = self.previous_year(family, year);
        if let Some(&idx) = self.current.get(&identity) {
            let org = &self.orgs[idx];
            let contiguous = org.years.contains(&year) || org.years.last().copied() == prev;
            let same_entity = match (org.siren.as_deref(), siren) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if contiguous && same_entity {
                let org = &mut self.orgs[idx];
                org.years.insert(year);
                if siren.is_some() {
                    org.siren = siren.map(str::to_owned);
                }
                return idx;
            }
            if contiguous {
                self.refoundations.push((idx, self.orgs.len(), year));
            }
        }
        let idx = self.orgs.len();
        self.orgs.push(OrgBuild {
            kind,
            code: code.to_owned(),
            family,
            first_year: year,
            years: BTreeSet::from([year]),
            name: String::new(),
            insee_code: None,
            siren: siren.map(str::to_owned),
            population: None,
            postal_codes: Vec::new(),
            departement: None,
            region: None,
            territory: None,
        });
        self.current.insert(identity, idx);
        idx
    }

    fn link(
        &mut self,
        member: usize,
        group: usize,
        kind: MembershipKind,
        family: Family,
        year: i32,
    ) {
        self.memberships
            .entry((member, group, kind))
            .or_default()
            .insert(year);
        self.membership_family.insert((member, group, kind), family);
    }

    fn observe_vintage(&mut self, v: &Vintage) -> Result<(), ReferenceError> {
        let year = v.year;
        // Régions and collectivités d'outre-mer (listed both as régions and départements).
        let mut regions = HashMap::new();
        for r in &v.regions {
            let is_com = r.zone.as_deref() == Some("com");
            let kind = if is_com {
                OrganisationKind::CollectiviteOutreMer
            } else {
                OrganisationKind::Region
            };
            let idx = self.observe(kind, &r.code, None, Family::Cog, year);
            let org = &mut self.orgs[idx];
            org.name = r.nom.clone();
            org.insee_code = Some(r.code.clone());
            org.region = (!is_com).then(|| r.code.clone());
            regions.insert(r.code.clone(), idx);
        }
        let mut departements = HashMap::new();
        for d in &v.departements {
            if d.zone.as_deref() == Some("com") {
                if let Some(&idx) = regions.get(&d.code) {
                    departements.insert(d.code.clone(), idx);
                }
                continue;
            }
            let idx = self.observe(
                OrganisationKind::Departement,
                &d.code,
                None,
                Family::Cog,
                year,
            );
            let org = &mut self.orgs[idx];
            org.name = d.nom.clone();
            org.insee_code = Some(d.code.clone());
            org.departement = Some(d.code.clone());
            org.region = d.region.clone();
            departements.insert(d.code.clone(), idx);
            if let Some(&region) = d.region.as_ref().and_then(|r| regions.get(r)) {
                self.link(idx, region, MembershipKind::LocatedIn, Family::Cog, year);
            }
        }

        // Communes, in two passes: PART_OF needs the communes of the same vintage.
        let mut communes: HashMap<(OrganisationKind, String), usize> = HashMap::new();
        for c in &v.communes {
            let Some(kind) = commune_kind(&c.kind) else {
                return Err(ReferenceError::Invalid(format!(
                    "{year}: commune {} has unknown type {}",
                    c.code, c.kind
                )));
            };
            let idx = self.observe(kind, &c.code, c.siren.as_deref(), Family::Cog, year);
            let org = &mut self.orgs[idx];
            org.name = c.nom.clone();
            org.insee_code = Some(c.code.clone());
            org.population = c.population.or(org.population);
            if !c.codes_postaux.is_empty() {
                org.postal_codes = c.codes_postaux.clone();
            }
            org.departement = c.departement.clone();
            org.region = c.region.clone();
            communes.insert((kind, c.code.clone()), idx);
        }
        for c in &v.communes {
            let Some(kind) = commune_kind(&c.kind) else {
                continue;
            };
            let idx = communes[&(kind, c.code.clone())];
            let parent = match kind {
                OrganisationKind::Commune => {
                    if let Some(&d) = c.departement.as_ref().and_then(|d| departements.get(d)) {
                        self.link(idx, d, MembershipKind::LocatedIn, Family::Cog, year);
                    }
                    None
                }
                OrganisationKind::ArrondissementMunicipal => c.commune.as_ref(),
                _ => c.chef_lieu.as_ref(),
            };
            if let Some(&p) =
                parent.and_then(|p| communes.get(&(OrganisationKind::Commune, p.clone())))
            {
                self.link(idx, p, MembershipKind::PartOf, Family::Cog, year);
            }
        }

        self.observe_groupings(&v.epci, Family::Cog, year, &communes, v)?;
        if let Some(ept) = &v.ept {
            self.observe_groupings(ept, Family::Ept, year, &communes, v)?;
        }
        self.observe_prefectures(v, &departements, &regions, &communes);
        self.by_year.insert(year, communes);
        Ok(())
    }

    fn observe_groupings(
        &mut self,
        groupings: &[Grouping],
        family: Family,
        year: i32,
        communes: &HashMap<(OrganisationKind, String), usize>,
        v: &Vintage,
    ) -> Result<(), ReferenceError> {
        let commune_records: HashMap<&str, &Commune> = v
            .communes
            .iter()
            .filter(|c| c.kind == "commune-actuelle")
            .map(|c| (c.code.as_str(), c))
            .collect();
        for g in groupings {
            let kind = epci_kind(&g.kind).ok_or_else(|| {
                ReferenceError::Invalid(format!(
                    "{year}: grouping {} has unknown type {}",
                    g.code, g.kind
                ))
            })?;
            let idx = self.observe(kind, &g.code, Some(&g.code), family, year);
            // The seat is not in the data: the département of the most populous member stands for it.
            let seat = g
                .membres
                .iter()
                .filter_map(|m| commune_records.get(m.code.as_str()))
                .max_by_key(|c| (c.population.unwrap_or(0), std::cmp::Reverse(c.code.clone())));
            let org = &mut self.orgs[idx];
            org.name = g.nom.clone();
            org.population = g.population_totale.or(org.population);
            if let Some(seat) = seat {
                org.departement = seat.departement.clone();
                org.region = seat.region.clone();
            }
            for m in &g.membres {
                if let Some(&c) = communes.get(&(OrganisationKind::Commune, m.code.clone())) {
                    self.link(c, idx, MembershipKind::Member, family, year);
                }
            }
        }
        Ok(())
    }

    /// One préfecture per département and one préfecture de région per région, seated in
    /// the chef-lieu the data names.
    fn observe_prefectures(
        &mut self,
        v: &Vintage,
        departements: &HashMap<String, usize>,
        regions: &HashMap<String, usize>,
        communes: &HashMap<(OrganisationKind, String), usize>,
    ) {
        struct Seat<'a> {
            code: String,
            name: String,
            territory: Option<usize>,
            chef_lieu: Option<&'a String>,
            region: Option<String>,
        }
        let mut seats = Vec::new();
        for d in v
            .departements
            .iter()
            .filter(|d| d.zone.as_deref() != Some("com"))
        {
            seats.push(Seat {
                code: format!("D{}", d.code),
                name: format!("Préfecture {}", with_article(&d.nom, d.type_liaison)),
                territory: departements.get(&d.code).copied(),
                chef_lieu: d.chef_lieu.as_ref(),
                region: d.region.clone(),
            });
        }
        for r in v
            .regions
            .iter()
            .filter(|r| r.zone.as_deref() != Some("com"))
        {
            seats.push(Seat {
                code: format!("R{}", r.code),
                name: format!(
                    "Préfecture de région {}",
                    with_article(&r.nom, r.type_liaison)
                ),
                territory: regions.get(&r.code).copied(),
                chef_lieu: r.chef_lieu.as_ref(),
                region: Some(r.code.clone()),
            });
        }
        for seat in seats {
            let Some(territory) = seat.territory else {
                continue;
            };
            let idx = self.observe(
                OrganisationKind::StateService,
                &seat.code,
                None,
                Family::Cog,
                v.year,
            );
            let commune = seat.chef_lieu.and_then(|c| {
                communes
                    .get(&(OrganisationKind::Commune, c.clone()))
                    .copied()
            });
            let departement = commune.and_then(|c| self.orgs[c].departement.clone());
            let org = &mut self.orgs[idx];
            org.name = seat.name;
            org.territory = Some(territory);
            org.departement = departement;
            org.region = seat.region;
            if let Some(commune) = commune {
                self.link(idx, commune, MembershipKind::LocatedIn, Family::Cog, v.year);
            }
        }
    }
}
