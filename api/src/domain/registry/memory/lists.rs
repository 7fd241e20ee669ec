//! Lists, counts and search over the in-memory registry, with the filters, orders and
//! cursors of the SQL reads.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use entity::OrganisationKind;

use super::MemoryRegistry;
use crate::domain::contains;
use crate::domain::registry::list::{
    Position, SortValue, escape_like, position_after, search_text,
};
use crate::domain::registry::rows::Organisation;
use crate::domain::registry::{
    OrderField, OrganisationFilter, OrganisationOrder, OrganisationPage,
};
use crate::error::AppResult;

/// Largest index set worth sorting rather than scanning a list order for.
const SORT_AT_MOST: usize = 4096;

/// Every organisation's position in each list order, and by kind.
#[derive(Debug)]
pub(super) struct Orders {
    /// Indexed by [`slot`].
    sorted: [Vec<u32>; 6],
    by_kind: HashMap<OrganisationKind, Vec<u32>>,
}

fn slot(order: OrganisationOrder) -> usize {
    let field = match order.field {
        OrderField::Name => 0,
        OrderField::Population => 1,
        OrderField::InseeCode => 2,
    };
    field * 2 + usize::from(order.descending)
}

const ORDERS: [OrganisationOrder; 6] = {
    const fn o(field: OrderField, descending: bool) -> OrganisationOrder {
        OrganisationOrder { field, descending }
    }
    [
        o(OrderField::Name, false),
        o(OrderField::Name, true),
        o(OrderField::Population, false),
        o(OrderField::Population, true),
        o(OrderField::InseeCode, false),
        o(OrderField::InseeCode, true),
    ]
};

impl Orders {
    pub(super) fn new(orgs: &[Organisation]) -> Self {
        let sorted = ORDERS.map(|order| {
            let mut positions: Vec<u32> = (0..orgs.len() as u32).collect();
            positions.sort_by(|&a, &b| compare(order, &orgs[a as usize], &orgs[b as usize]));
            positions
        });
        let mut by_kind: HashMap<OrganisationKind, Vec<u32>> = HashMap::new();
        for (p, o) in orgs.iter().enumerate() {
            by_kind.entry(o.kind).or_default().push(p as u32);
        }
        Self { sorted, by_kind }
    }
}

/// The SQL sort keys: folded name; population, unknown as -1; INSEE code, none as "".
fn key_order(field: OrderField, a: &Organisation, b: &Organisation) -> Ordering {
    match field {
        OrderField::Name => a.search_name.cmp(&b.search_name),
        OrderField::Population => a.population.unwrap_or(-1).cmp(&b.population.unwrap_or(-1)),
        OrderField::InseeCode => insee_key(a).cmp(insee_key(b)),
    }
}

fn insee_key(o: &Organisation) -> &str {
    o.insee_code.as_deref().unwrap_or("")
}

/// List order: the key (reversed when descending), then id ascending.
fn compare(order: OrganisationOrder, a: &Organisation, b: &Organisation) -> Ordering {
    let key = key_order(order.field, a, b);
    let key = if order.descending { key.reverse() } else { key };
    key.then(a.id.cmp(&b.id))
}

/// Where `o` falls against a cursor position, in list order.
fn against(order: OrganisationOrder, o: &Organisation, pos: &Position) -> Ordering {
    let key = match (&pos.v, order.field) {
        (SortValue::Int(v), OrderField::Population) => o.population.unwrap_or(-1).cmp(v),
        (SortValue::Text(v), OrderField::Name) => o.search_name.as_str().cmp(v.as_str()),
        (SortValue::Text(v), OrderField::InseeCode) => insee_key(o).cmp(v.as_str()),
        // `position_after` refuses a cursor of another order.
        _ => Ordering::Greater,
    };
    let key = if order.descending { key.reverse() } else { key };
    key.then(o.id.cmp(&pos.id))
}

/// A list filter, applied to one organisation.
struct Matcher<'a> {
    filter: &'a OrganisationFilter,
    at: NaiveDate,
    /// Positions of the members of `filter.member_of`, sorted.
    members: Option<Vec<u32>>,
    contains: Option<String>,
    /// The filter's name prefix and the end of its range, `prefix~` (as in SQL).
    starts: Option<(&'a str, String)>,
}

impl Matcher<'_> {
    fn matches(&self, p: u32, o: &Organisation) -> bool {
        let f = self.filter;
        contains(o.valid_from, o.valid_to, self.at)
            && (f.kinds.is_empty() || f.kinds.contains(&o.kind))
            && f.departement
                .as_deref()
                .is_none_or(|d| o.departement_code.as_deref() == Some(d))
            && f.region
                .as_deref()
                .is_none_or(|r| o.region_code.as_deref() == Some(r))
            && self
                .members
                .as_ref()
                .is_none_or(|m| m.binary_search(&p).is_ok())
            && self
                .contains
                .as_deref()
                .is_none_or(|t| o.search_name.contains(t))
            && self.starts.as_ref().is_none_or(|(prefix, end)| {
                o.search_name.as_str() >= *prefix && o.search_name < *end
            })
    }
}

impl MemoryRegistry {
    fn matcher<'a>(&self, filter: &'a OrganisationFilter, at: NaiveDate) -> Matcher<'a> {
        let members = filter.member_of.map(|group| {
            let mut found: Vec<u32> = self
                .position(group)
                .map(|g| self.member_links(g, at).map(|l| l.member).collect())
                .unwrap_or_default();
            found.sort_unstable();
            found.dedup();
            found
        });
        let contains = filter
            .name_contains
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(escape_like);
        // The SQL range `[prefix, prefix~)` on the folded name.
        let starts = filter
            .name_starts_with
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|prefix| (prefix, format!("{prefix}~")));
        Matcher {
            filter,
            at,
            members,
            contains,
            starts,
        }
    }

    /// The smallest unordered set of positions an index gives for the filter, if any does.
    fn candidates(&self, m: &Matcher<'_>) -> Option<Vec<u32>> {
        let f = m.filter;
        let mut sets: Vec<Vec<u32>> = Vec::new();
        if let Some(members) = &m.members {
            sets.push(members.clone());
        }
        let lookup = |index: &HashMap<String, Vec<u32>>, key: &str| {
            index.get(key).cloned().unwrap_or_default()
        };
        if let Some(d) = &f.departement {
            sets.push(lookup(&self.by_departement, d));
        }
        if let Some(r) = &f.region {
            sets.push(lookup(&self.by_region, r));
        }
        if !f.kinds.is_empty() {
            let mut kinds = f.kinds.clone();
            kinds.sort_unstable();
            kinds.dedup();
            sets.push(
                kinds
                    .iter()
                    .flat_map(|k| self.orders.by_kind.get(k).into_iter().flatten().copied())
                    .collect(),
            );
        }
        sets.into_iter().min_by_key(Vec::len)
    }

    /// Positions in list order that may match: the names starting with the filter's prefix
    /// when sorting by name (a range of the order), else the whole order.
    fn ordered(&self, f: &OrganisationFilter, order: OrganisationOrder) -> &[u32] {
        let sorted = &self.orders.sorted[slot(order)];
        let Some(prefix) = f.name_starts_with.as_deref().filter(|t| !t.is_empty()) else {
            return sorted;
        };
        if order.field != OrderField::Name {
            return sorted;
        }
        let upper = format!("{prefix}~");
        let name = |p: u32| self.org(p).search_name.as_str();
        let (lo, hi) = if order.descending {
            (
                sorted.partition_point(|&p| name(p) >= upper.as_str()),
                sorted.partition_point(|&p| name(p) >= prefix),
            )
        } else {
            (
                sorted.partition_point(|&p| name(p) < prefix),
                sorted.partition_point(|&p| name(p) < upper.as_str()),
            )
        };
        &sorted[lo..hi.max(lo)]
    }

    /// A page of organisations in the given order, after `after` (as [`super::super::list`]).
    pub fn list(
        &self,
        filter: &OrganisationFilter,
        order: OrganisationOrder,
        at: NaiveDate,
        first: usize,
        after: Option<&str>,
    ) -> AppResult<OrganisationPage> {
        let pos = position_after(after, order.field)?;
        let m = self.matcher(filter, at);
        let ordered = self.ordered(filter, order);
        let owned;
        // A small index set sorted beats scanning the order; a large one does not.
        let sequence: &[u32] = match self.candidates(&m) {
            Some(mut c) if c.len() <= SORT_AT_MOST && c.len() < ordered.len() => {
                c.sort_by(|&a, &b| compare(order, self.org(a), self.org(b)));
                owned = c;
                &owned
            }
            _ => ordered,
        };
        let start = pos.as_ref().map_or(0, |pos| {
            sequence.partition_point(|&p| against(order, self.org(p), pos) != Ordering::Greater)
        });
        let mut rows: Vec<&Arc<Organisation>> = sequence[start..]
            .iter()
            .map(|&p| (p, self.org(p)))
            .filter(|(p, o)| m.matches(*p, o))
            .map(|(_, o)| o)
            .take(first + 1)
            .collect();
        let has_next = rows.len() > first;
        rows.truncate(first);
        Ok(OrganisationPage {
            rows: rows.into_iter().cloned().collect(),
            order: order.field,
            has_next,
        })
    }

    /// How many organisations match (as [`super::super::count`]).
    pub fn count(&self, filter: &OrganisationFilter, at: NaiveDate) -> u64 {
        let m = self.matcher(filter, at);
        let ordered = self.ordered(filter, OrganisationOrder::default());
        let count = |ps: &[u32]| ps.iter().filter(|&&p| m.matches(p, self.org(p))).count();
        match self.candidates(&m) {
            Some(c) if c.len() < ordered.len() => count(&c) as u64,
            _ => count(ordered) as u64,
        }
    }

    /// Organisations valid at `at` whose folded name, alternate names or postal codes contain
    /// every word of `text`, ranked as [`super::super::search`] ranks them.
    pub fn search(
        &self,
        text: &str,
        kinds: &[OrganisationKind],
        first: usize,
        at: NaiveDate,
    ) -> AppResult<Vec<Organisation>> {
        let folded = search_text(text)?;
        let words: Vec<&str> = folded.split(' ').collect();
        let mut hits: Vec<(u8, Reverse<i64>, i64, u32)> = self
            .orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                contains(o.valid_from, o.valid_to, at)
                    && (kinds.is_empty() || kinds.contains(&o.kind))
                    && words.iter().all(|w| {
                        o.search_name.contains(w)
                            || o.search_aliases.as_deref().is_some_and(|a| a.contains(w))
                            || o.postal_codes
                                .as_deref()
                                .is_some_and(|c| c.split(' ').any(|c| c.starts_with(w)))
                    })
            })
            .map(|(p, o)| {
                // As the SQL read: the best of the name's and the alternate names' ranks.
                let rank_of = |name: &str| {
                    if name == folded {
                        0
                    } else if name.starts_with(&folded) {
                        1
                    } else if name.contains(&folded) {
                        2
                    } else {
                        3
                    }
                };
                let one_code = o
                    .postal_codes
                    .as_deref()
                    .is_some_and(|codes| codes.split(' ').any(|c| c == folded));
                let rank = if one_code {
                    0
                } else {
                    rank_of(&o.search_name).min(o.search_aliases.as_deref().map_or(3, rank_of))
                };
                (rank, Reverse(o.population.unwrap_or(-1)), o.id, p as u32)
            })
            .collect();
        hits.sort_unstable();
        Ok(hits
            .into_iter()
            .take(first)
            .map(|(.., p)| Organisation::clone(self.org(p)))
            .collect())
    }
}
