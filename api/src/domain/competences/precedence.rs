//! The one precedence of "who does what for a commune": what organisations declared, then
//! the special statuses the law gives some territories, then the legal baseline of the
//! commune's groupings, then the levels of government by default (as a special status may
//! substitute them), then the commune's general competence. A pure function of the commune's
//! ancestors and of the declarations covering it: every answer about competences goes through
//! it (`responsibilities`, `territoryProfile`, `holders`, `Organisation.competences`).

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{AssignmentBasis, CompetenceRole, OrganisationKind, assignment};

use super::catalogue::{Beneficiary, Catalogue, Level, Rule};
use super::law::Status;
use super::{Layer, Responsibility};
use crate::domain::registry::Organisation;

/// The roles a whole competence comes with.
const WHOLE: [CompetenceRole; 3] = [
    CompetenceRole::Holder,
    CompetenceRole::Implementer,
    CompetenceRole::Financer,
];

/// How an organisation stands above a commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The commune itself.
    Itself,
    /// A chain of memberships this long.
    Membership(i32),
    /// A State service serving its département or région.
    StateService,
    /// The special status at this position of the catalogue's statuses.
    Status(usize),
}

/// An organisation above the commune at the date, with the validity of what leads to it.
#[derive(Debug, Clone)]
pub struct Ancestor {
    /// The organisation.
    pub organisation: Organisation,
    /// How it stands above the commune.
    pub via: Via,
    /// Start of what leads to it (membership, status).
    pub link_from: Option<NaiveDate>,
    /// End of what leads to it.
    pub link_to: Option<NaiveDate>,
}

impl Ancestor {
    /// Whether it is one of the commune's groups (or the commune), not a State service or a
    /// status.
    pub fn is_group(&self) -> bool {
        matches!(self.via, Via::Itself | Via::Membership(_))
    }
}

fn responsibility(
    i: usize,
    organisation_id: i64,
    role: CompetenceRole,
    layer: Layer,
    (valid_from, valid_to): (Option<NaiveDate>, Option<NaiveDate>),
    condition: Option<String>,
    source: String,
) -> Responsibility {
    Responsibility {
        organisation_id,
        competence: i,
        role,
        layer,
        basis: Some(AssignmentBasis::Law),
        valid_from,
        valid_to,
        assignment_id: None,
        condition,
        source,
    }
}

/// The organisation exercising `level` for the commune, and the special status (with its
/// reference) that makes it so, if any.
fn level_organisation<'a>(
    catalogue: &'a Catalogue,
    level: Level,
    commune: &Organisation,
    ancestors: &'a [Ancestor],
) -> Option<(&'a Ancestor, Option<&'a Status>)> {
    let statuses = catalogue.statuses();
    let substitute = ancestors.iter().find_map(|a| match a.via {
        Via::Status(s) if statuses.get(s).is_some_and(|s| s.covers_level(level)) => {
            Some((a, statuses.get(s)))
        }
        _ => None,
    });
    if substitute.is_some() {
        return substitute;
    }
    let of_kind = |k: OrganisationKind| {
        ancestors
            .iter()
            .filter(|a| a.organisation.kind == k && a.is_group())
            .min_by_key(|a| match a.via {
                Via::Membership(d) => d,
                _ => 0,
            })
    };
    let found = match level {
        Level::Commune => ancestors.iter().find(|a| a.organisation.id == commune.id),
        Level::Departement => of_kind(OrganisationKind::Departement),
        Level::Region => of_kind(OrganisationKind::Region),
        Level::State => {
            // The préfecture of the département, else that of the région.
            let serving = |t: Option<&Ancestor>| {
                let t = t?.organisation.id;
                ancestors
                    .iter()
                    .find(|a| a.via == Via::StateService && a.organisation.territory_id == Some(t))
            };
            serving(of_kind(OrganisationKind::Departement))
                .or_else(|| serving(of_kind(OrganisationKind::Region)))
        }
    };
    found.map(|a| (a, None))
}

fn cited(rule: &Rule, status: Option<&Status>) -> String {
    match status {
        Some(s) => format!("{}; {}", rule.source, s.reference),
        None => rule.source.clone(),
    }
}

/// Who plays which role in competence `i` for `commune`, given its ancestors and the declared
/// assignments for that competence covering it; by role, layer and organisation.
///
/// Each role goes to the most specific layer that gives it. A declared holder takes the
/// whole competence from the presumptions (implementing and paying go with deciding, unless
/// they are declared too).
pub fn precedence(
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
    if covered.contains(&CompetenceRole::Holder) {
        covered.extend(WHOLE);
    }
    let mut add = |layer_out: Vec<Responsibility>, covered: &mut HashSet<CompetenceRole>| {
        covered.extend(layer_out.iter().map(|r| r.role));
        out.extend(layer_out);
    };

    // Special statuses giving the competence whole (Île-de-France Mobilités…).
    let code = catalogue.at(i).code.as_str();
    let mut layer = Vec::new();
    for (s, status) in catalogue.special(code) {
        for a in ancestors.iter().filter(|a| a.via == Via::Status(s)) {
            for &role in WHOLE.iter().filter(|r| !covered.contains(r)) {
                layer.push(responsibility(
                    i,
                    a.organisation.id,
                    role,
                    Layer::SpecialStatus,
                    (a.link_from, a.link_to),
                    None,
                    status.reference.clone(),
                ));
            }
        }
    }
    add(layer, &mut covered);

    // The legal baseline of the commune's groupings (the catalogue has rules for EPCI à
    // fiscalité propre, EPT and the Métropole de Lyon only).
    let mut layer = Vec::new();
    for a in ancestors.iter().filter(|a| a.is_group()) {
        for rule in catalogue.baseline(i, &a.organisation) {
            for &role in rule.roles.iter().filter(|r| !covered.contains(r)) {
                layer.push(responsibility(
                    i,
                    a.organisation.id,
                    role,
                    Layer::LegalBaseline,
                    (a.link_from, a.link_to),
                    rule.condition.clone(),
                    rule.source.clone(),
                ));
            }
        }
    }
    add(layer, &mut covered);

    // The levels of government by default, each as a special status may substitute it.
    let mut layer = Vec::new();
    for rule in catalogue.defaults(i) {
        let Beneficiary::Level(level) = rule.beneficiary else {
            continue;
        };
        let Some((holder, status)) = level_organisation(catalogue, level, commune, ancestors)
        else {
            continue;
        };
        let validity = match status {
            Some(_) => (holder.link_from, holder.link_to),
            None => (holder.organisation.valid_from, holder.organisation.valid_to),
        };
        for &role in rule.roles.iter().filter(|r| !covered.contains(r)) {
            layer.push(responsibility(
                i,
                holder.organisation.id,
                role,
                Layer::LegalDefault,
                validity,
                rule.condition.clone(),
                cited(rule, status),
            ));
        }
    }
    add(layer, &mut covered);
    out.sort_by_key(|r| (r.role, r.layer, r.organisation_id));
    out
}
