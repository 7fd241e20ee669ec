//! Competences seen from organisations: what one organisation holds at a date, and who holds
//! a competence where.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    AssignmentBasis, CompetenceRole, OrganisationKind, assignment, membership, organisation,
    transfer,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};
use serde::{Deserialize, Serialize};

use super::catalogue::{Beneficiary, Catalogue, Level, Rule};
use super::resolve::EPCI_KINDS;
use super::{Layer, Responsibility};
use crate::domain::registry::{self, Organisation};
use crate::domain::valid_at;
use crate::error::AppResult;

/// For each of `orgs`, the competence codes it has transferred away for its whole territory,
/// in effect at `at`: its legal presumptions for them no longer apply.
pub async fn transferred_away<C: ConnectionTrait>(
    db: &C,
    orgs: &[i64],
    at: NaiveDate,
) -> AppResult<HashMap<i64, HashSet<String>>> {
    let rows: Vec<(i64, String)> = transfer::Entity::find()
        .select_only()
        .column(transfer::Column::FromId)
        .column(transfer::Column::CompetenceCode)
        .filter(transfer::Column::FromId.is_in(orgs.to_vec()))
        .filter(transfer::Column::WholeTerritory.eq(true))
        .filter(
            transfer::Column::Id.in_subquery(
                Query::select()
                    .column(assignment::Column::TransferId)
                    .from(assignment::Entity)
                    .cond_where(valid_at(
                        assignment::Column::ValidFrom,
                        assignment::Column::ValidTo,
                        at,
                    ))
                    .and_where(assignment::Column::TransferId.is_not_null())
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, HashSet<String>> = HashMap::new();
    for (org, code) in rows {
        out.entry(org).or_default().insert(code);
    }
    Ok(out)
}

/// The kinds of the EPCIs each of `communes` belongs to at `at`.
async fn epci_kinds_of<C: ConnectionTrait>(
    db: &C,
    communes: &[i64],
    at: NaiveDate,
) -> AppResult<HashMap<i64, Vec<OrganisationKind>>> {
    if communes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, OrganisationKind)> = membership::Entity::find()
        .select_only()
        .column(membership::Column::MemberId)
        .column(organisation::Column::Kind)
        .join(JoinType::InnerJoin, membership::Relation::Group.def())
        .filter(membership::Column::MemberId.is_in(communes.to_vec()))
        .filter(valid_at(
            membership::Column::ValidFrom,
            membership::Column::ValidTo,
            at,
        ))
        .filter(organisation::Column::Kind.is_in(EPCI_KINDS))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<OrganisationKind>> = HashMap::new();
    for (member, kind) in rows {
        out.entry(member).or_default().push(kind);
    }
    Ok(out)
}

/// The level of government an organisation is, for default rules.
fn level_of(o: &Organisation) -> Option<Level> {
    match o.kind {
        OrganisationKind::Commune => Some(Level::Commune),
        OrganisationKind::Departement => Some(Level::Departement),
        OrganisationKind::Region => Some(Level::Region),
        // The State answers through the préfecture of each département.
        OrganisationKind::StateService if o.territory_id.is_some() => Some(Level::State),
        _ => None,
    }
}

fn presumption(i: usize, o: &Organisation, rule: &Rule, role: CompetenceRole) -> Responsibility {
    Responsibility {
        organisation_id: o.id,
        competence: i,
        role,
        layer: match rule.layer {
            entity::RuleLayer::LegalBaseline => Layer::LegalBaseline,
            entity::RuleLayer::LegalDefault => Layer::LegalDefault,
        },
        basis: Some(AssignmentBasis::Law),
        valid_from: o.valid_from,
        valid_to: o.valid_to,
        assignment_id: None,
        condition: rule.condition.clone(),
        source: rule.source.clone(),
    }
}

/// What each of `orgs` exercises at `at`: its declared assignments, and the legal
/// presumptions of its kind that it has neither declared otherwise nor transferred away.
/// Four queries whatever the number of organisations.
pub async fn of_organisations<C: ConnectionTrait>(
    db: &C,
    catalogue: &Catalogue,
    orgs: &[Organisation],
    at: NaiveDate,
) -> AppResult<HashMap<i64, Vec<Responsibility>>> {
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let declared = assignment::Entity::find()
        .filter(assignment::Column::OrganisationId.is_in(ids.clone()))
        .filter(valid_at(
            assignment::Column::ValidFrom,
            assignment::Column::ValidTo,
            at,
        ))
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?;
    let away = transferred_away(db, &ids, at).await?;
    let territories: Vec<i64> = orgs.iter().filter_map(|o| o.territory_id).collect();
    let departements: HashSet<i64> = if territories.is_empty() {
        HashSet::new()
    } else {
        registry::by_ids_in(db, &territories)
            .await?
            .into_iter()
            .filter(|t| t.kind == OrganisationKind::Departement)
            .map(|t| t.id)
            .collect()
    };
    let communes: Vec<i64> = orgs
        .iter()
        .filter(|o| o.kind == OrganisationKind::Commune)
        .map(|o| o.id)
        .collect();
    let epcis = epci_kinds_of(db, &communes, at).await?;
    let mut out = HashMap::new();
    for o in orgs {
        let my_epcis = epcis.get(&o.id).map(Vec::as_slice).unwrap_or_default();
        let mut mine: Vec<Responsibility> = declared
            .iter()
            .filter(|a| a.organisation_id == o.id)
            .filter_map(|a| {
                catalogue
                    .index_of(&a.competence_code)
                    .map(|i| Responsibility::declared(i, a))
            })
            .collect();
        let own: HashSet<(usize, CompetenceRole)> =
            mine.iter().map(|r| (r.competence, r.role)).collect();
        let level = level_of(o).filter(|l| {
            *l != Level::State || o.territory_id.is_some_and(|t| departements.contains(&t))
        });
        let gone = away.get(&o.id);
        for i in 0..catalogue.len() {
            if gone.is_some_and(|g| g.contains(&catalogue.at(i).code)) {
                continue;
            }
            let mut rules: Vec<&Rule> = Vec::new();
            if EPCI_KINDS.contains(&o.kind) {
                rules.extend(catalogue.baseline(i, o.kind));
            }
            // A commune's presumption gives way to its EPCI's legal baseline.
            let epci_holds = catalogue
                .baseline_kinds(i)
                .iter()
                .any(|k| my_epcis.contains(k));
            if let Some(level) = level.filter(|l| *l != Level::Commune || !epci_holds) {
                rules.extend(
                    catalogue
                        .defaults(i)
                        .iter()
                        .filter(|r| r.beneficiary == Beneficiary::Level(level)),
                );
            }
            for rule in rules {
                for &role in &rule.roles {
                    if !own.contains(&(i, role)) {
                        mine.push(presumption(i, o, rule, role));
                    }
                }
            }
        }
        mine.sort_by_key(|r| (r.competence, r.role, r.layer));
        out.insert(o.id, mine);
    }
    Ok(out)
}

/// Position in a holders list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HolderCursor {
    /// Layer rank (0 declared, 1 baseline, 2 default).
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

/// Who holds competence `i` (role `HOLDER`) at `at`, optionally in département `departement`:
/// declared holders, then EPCIs holding it by the baseline, then default holders, each layer
/// by organisation id; presumptions transferred away are left out.
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    catalogue: &Catalogue,
    i: usize,
    at: NaiveDate,
    departement: Option<&str>,
    first: usize,
    after: Option<HolderCursor>,
) -> AppResult<HolderPage> {
    let code = catalogue.at(i).code.clone();
    let dept_filter = |q: Condition| match departement {
        Some(d) => q.add(organisation::Column::DepartementCode.eq(d)),
        None => q,
    };
    let not_away = organisation::Column::Id.not_in_subquery(
        Query::select()
            .column((transfer::Entity, transfer::Column::FromId))
            .from(transfer::Entity)
            .inner_join(
                assignment::Entity,
                Expr::col((assignment::Entity, assignment::Column::TransferId))
                    .equals((transfer::Entity, transfer::Column::Id)),
            )
            .and_where(Expr::col((transfer::Entity, transfer::Column::CompetenceCode)).eq(&code))
            .and_where(Expr::col((transfer::Entity, transfer::Column::WholeTerritory)).eq(true))
            .cond_where(valid_at(
                assignment::Column::ValidFrom,
                assignment::Column::ValidTo,
                at,
            ))
            .to_owned(),
    );
    let org_valid = valid_at(
        organisation::Column::ValidFrom,
        organisation::Column::ValidTo,
        at,
    );

    // Layer 0: declared holders.
    let declared_orgs = Query::select()
        .column(organisation::Column::Id)
        .from(organisation::Entity)
        .cond_where(dept_filter(Condition::all()))
        .to_owned();
    let declared_base = assignment::Entity::find()
        .filter(assignment::Column::CompetenceCode.eq(&code))
        .filter(assignment::Column::Role.eq(CompetenceRole::Holder))
        .filter(valid_at(
            assignment::Column::ValidFrom,
            assignment::Column::ValidTo,
            at,
        ))
        .filter(assignment::Column::OrganisationId.in_subquery(declared_orgs));
    // Layers 1 and 2: presumptions, by kind of organisation.
    let baseline_kinds = catalogue.baseline_kinds(i);
    let mut default_kinds = Vec::new();
    let mut state = false;
    for rule in catalogue.defaults(i) {
        if !rule.roles.contains(&CompetenceRole::Holder) {
            continue;
        }
        match rule.beneficiary {
            Beneficiary::Level(Level::Commune) => default_kinds.push(OrganisationKind::Commune),
            Beneficiary::Level(Level::Departement) => {
                default_kinds.push(OrganisationKind::Departement)
            }
            Beneficiary::Level(Level::Region) => default_kinds.push(OrganisationKind::Region),
            Beneficiary::Level(Level::State) => state = true,
            Beneficiary::EpciKind(_) => {}
        }
    }
    // Communes whose EPCI holds it by the baseline do not hold it by default.
    let in_baseline_epci = organisation::Column::Id.in_subquery(
        Query::select()
            .column((membership::Entity, membership::Column::MemberId))
            .from(membership::Entity)
            .inner_join(
                organisation::Entity,
                Expr::col((organisation::Entity, organisation::Column::Id))
                    .equals((membership::Entity, membership::Column::GroupId)),
            )
            .cond_where(valid_at(
                membership::Column::ValidFrom,
                membership::Column::ValidTo,
                at,
            ))
            .and_where(
                Expr::col((organisation::Entity, organisation::Column::Kind))
                    .is_in(baseline_kinds.clone()),
            )
            .to_owned(),
    );
    let presumed = |kinds: Vec<OrganisationKind>, with_state: bool| {
        let mut who = Condition::any().add(
            Condition::all()
                .add(organisation::Column::Kind.is_in(kinds))
                .add(
                    Condition::any()
                        .add(organisation::Column::Kind.ne(OrganisationKind::Commune))
                        .add(in_baseline_epci.clone().not()),
                ),
        );
        if with_state {
            who = who.add(
                Condition::all()
                    .add(organisation::Column::Kind.eq(OrganisationKind::StateService))
                    .add(
                        organisation::Column::TerritoryId.in_subquery(
                            Query::select()
                                .column(organisation::Column::Id)
                                .from(organisation::Entity)
                                .and_where(
                                    organisation::Column::Kind.eq(OrganisationKind::Departement),
                                )
                                .to_owned(),
                        ),
                    ),
            );
        }
        dept_filter(
            Condition::all()
                .add(who)
                .add(org_valid.clone())
                .add(not_away.clone()),
        )
    };
    let layers = [
        None,
        Some(presumed(baseline_kinds.clone(), false)),
        Some(presumed(default_kinds, state)),
    ];

    let mut total = declared_base.clone().count(db).await?;
    for cond in layers.iter().flatten() {
        total += organisation::Entity::find()
            .filter(cond.clone())
            .count(db)
            .await?;
    }

    let mut holders = Vec::new();
    let start = after.map_or(0, |c| c.layer);
    for (rank, cond) in layers.iter().enumerate() {
        let rank = rank as u8;
        if rank < start || holders.len() > first {
            continue;
        }
        let want = (first + 1 - holders.len()) as u64;
        let resume = after.filter(|c| c.layer == rank);
        match cond {
            None => {
                let mut q = declared_base.clone();
                if let Some(c) = resume {
                    q = q.filter(
                        Condition::any()
                            .add(assignment::Column::OrganisationId.gt(c.organisation))
                            .add(
                                Condition::all()
                                    .add(assignment::Column::OrganisationId.eq(c.organisation))
                                    .add(assignment::Column::Id.gt(c.assignment)),
                            ),
                    );
                }
                let rows = q
                    .order_by_asc(assignment::Column::OrganisationId)
                    .order_by_asc(assignment::Column::Id)
                    .limit(want)
                    .all(db)
                    .await?;
                let ids: Vec<i64> = rows.iter().map(|a| a.organisation_id).collect();
                let orgs = registry::by_ids_in(db, &ids).await?;
                for a in rows {
                    if let Some(o) = orgs.iter().find(|o| o.id == a.organisation_id) {
                        holders.push(Holder {
                            responsibility: Responsibility::declared(i, &a),
                            organisation: o.clone(),
                            cursor: HolderCursor {
                                layer: rank,
                                organisation: o.id,
                                assignment: a.id,
                            },
                        });
                    }
                }
            }
            Some(cond) => {
                let mut q = registry::organisations().filter(cond.clone());
                if let Some(c) = resume {
                    q = q.filter(organisation::Column::Id.gt(c.organisation));
                }
                let rows: Vec<Organisation> = q
                    .order_by_asc(organisation::Column::Id)
                    .limit(want)
                    .into_model()
                    .all(db)
                    .await?;
                for o in rows {
                    // The rule of this layer that names this organisation's kind or level.
                    let level = level_of(&o).map(Beneficiary::Level);
                    let rule = if rank == 1 {
                        catalogue.baseline(i, o.kind).next()
                    } else {
                        catalogue.defaults(i).iter().find(|r| {
                            Some(r.beneficiary) == level
                                && r.roles.contains(&CompetenceRole::Holder)
                        })
                    };
                    if let Some(rule) = rule {
                        holders.push(Holder {
                            responsibility: presumption(i, &o, rule, CompetenceRole::Holder),
                            cursor: HolderCursor {
                                layer: rank,
                                organisation: o.id,
                                assignment: 0,
                            },
                            organisation: o,
                        });
                    }
                }
            }
        }
    }
    let has_next = holders.len() > first;
    holders.truncate(first);
    Ok(HolderPage {
        holders,
        has_next,
        total,
    })
}
