//! What a document costs, from one policy for every field: a field costs one point plus what
//! it selects, and a field that returns many values pays its selection once for each value
//! it can return — its page (`first`, default 20, at most 100; the lists inside a page,
//! `nodes`, `edges`, `events`, are that page), the ids or representations it is given, or,
//! for a list without either, [`UNPAGED_LIST`] values ([`LONG_LISTS`] name the longer ones).
//! Prices are read from the schema itself (its SDL), so a new list field is charged without
//! anyone writing a formula.

use std::cell::Cell;
use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet, Type,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value, Variables};

use crate::domain::pagination::{DEFAULT_FIRST, MAX_FIRST};

/// What a short list without `first`, ids or representations is charged for (an
/// organisation's groups, contact points, a competence's holders, an agreement's parties…).
pub const UNPAGED_LIST: usize = 10;

/// Lists without a page that can return more: (type, field, values charged).
pub const LONG_LISTS: [(&str, &str, usize); 5] = [
    // The competence catalogue, about 120 entries.
    ("Query", "territoryProfile", 150),
    ("Organisation", "competences", 150),
    ("Query", "competenceTransfers", MAX_FIRST / 2),
    ("Organisation", "resources", MAX_FIRST / 2),
    ("Organisation", "agreements", MAX_FIRST / 2),
];

/// One field of the schema, as priced.
#[derive(Debug, Clone)]
struct Field {
    /// The named type it returns (lists and non-null unwrapped).
    returns: String,
    /// Whether it returns a list.
    list: bool,
    /// Whether it takes `first`.
    paged: bool,
    /// Values charged for a list without page or ids.
    unpaged: usize,
}

/// The schema's fields, by type and name.
#[derive(Debug, Default)]
pub struct Prices {
    /// Fields by their type, then by name (looked up by `&str`, without allocating, for
    /// every field of every request).
    fields: HashMap<String, HashMap<String, Field>>,
    roots: [Option<String>; 3],
}

fn unwrap(ty: &Type) -> (&str, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.as_str(), false),
        BaseType::List(inner) => (unwrap(inner).0, true),
    }
}

impl Prices {
    /// The prices of the schema written as `sdl`.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut prices = Prices {
            roots: [
                Some("Query".into()),
                Some("Mutation".into()),
                Some("Subscription".into()),
            ],
            ..Prices::default()
        };
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            tracing::error!("the schema's own SDL does not parse: every field costs one point");
            return prices;
        };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(t) = definition else {
                continue;
            };
            let fields = match &t.node.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => continue,
            };
            for f in fields {
                let (returns, list) = unwrap(&f.node.ty.node);
                let paged = f.node.arguments.iter().any(|a| a.node.name.node == "first");
                let (owner, name) = (t.node.name.node.to_string(), f.node.name.node.to_string());
                let unpaged = LONG_LISTS
                    .iter()
                    .find(|(t, n, _)| *t == owner && *n == name)
                    .map_or(UNPAGED_LIST, |l| l.2);
                prices.fields.entry(owner).or_default().insert(
                    name,
                    Field {
                        returns: returns.to_owned(),
                        list,
                        paged,
                        unpaged,
                    },
                );
            }
        }
        prices
    }

    /// List fields the schema has, and what each is charged for per value when selected
    /// without arguments: (type, field, multiplier). For tests and documentation.
    pub fn lists(&self) -> Vec<(String, String, usize)> {
        let mut out: Vec<_> = self
            .fields
            .iter()
            .flat_map(|(t, fields)| fields.iter().map(move |(n, f)| (t, n, f)))
            .filter(|(_, _, f)| f.list || f.paged)
            .map(|(t, n, f)| {
                let per = if f.paged { DEFAULT_FIRST } else { f.unpaged };
                (t.clone(), n.clone(), per)
            })
            .collect();
        out.sort();
        out
    }

    /// The cost of the operation `doc` runs with `variables` (`operation`: its name, if the
    /// document has several).
    pub fn cost(
        &self,
        doc: &ExecutableDocument,
        operation: Option<&str>,
        variables: &Variables,
    ) -> Price {
        let op = match &doc.operations {
            DocumentOperations::Single(op) => Some(op),
            DocumentOperations::Multiple(ops) => match operation {
                Some(name) => ops.get(name),
                None => ops.values().next(),
            },
        };
        let Some(op) = op else {
            return Price {
                points: 0,
                reads_variables: false,
            };
        };
        let index = match op.node.ty {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        let root = self.roots[index].as_deref().unwrap_or("Query");
        let mut walk = Walk {
            prices: self,
            doc,
            variables,
            read_variable: Cell::new(false),
            fragments: HashMap::new(),
        };
        let points = walk.set(root, &op.node.selection_set.node, 0, false);
        Price {
            points,
            reads_variables: walk.read_variable.get(),
        }
    }
}

/// What an operation costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// Points charged.
    pub points: usize,
    /// Whether a variable set a list's size: the same document may cost otherwise with
    /// other variables.
    pub reads_variables: bool,
}

struct Walk<'a> {
    prices: &'a Prices,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Set once a variable's value is read.
    read_variable: Cell<bool>,
    /// Cost of each fragment, computed once (it depends only on whether it is spread in a
    /// page).
    fragments: HashMap<(Name, bool), usize>,
}

/// Deepest walk: documents deeper than this were refused before (nesting limits).
const MAX_WALK: usize = 64;

impl Walk<'_> {
    /// The cost of `set` selected on `parent`; `in_page`: `set` is the selection of a page,
    /// whose lists are the page already paid for.
    fn set(&mut self, parent: &str, set: &SelectionSet, depth: usize, in_page: bool) -> usize {
        if depth > MAX_WALK {
            return 0;
        }
        let mut total = 0usize;
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let prices = self.prices;
                    let field = prices
                        .fields
                        .get(parent)
                        .and_then(|fields| fields.get(f.name.node.as_str()));
                    let child_type = field.map_or("", |d| d.returns.as_str());
                    let paged = field.is_some_and(|d| d.paged);
                    let child = if f.selection_set.node.items.is_empty() {
                        0
                    } else {
                        self.set(child_type, &f.selection_set.node, depth + 1, paged)
                    };
                    let variables = self.variables;
                    let read_variable = &self.read_variable;
                    // An argument's value, variables substituted.
                    let count = |name: &str| {
                        f.arguments
                            .iter()
                            .find(|(n, _)| n.node == name)
                            .map(|(_, v)| {
                                v.node
                                    .clone()
                                    .into_const_with(|var| {
                                        read_variable.set(true);
                                        Ok::<_, std::convert::Infallible>(
                                            variables.get(&var).cloned().unwrap_or(Value::Null),
                                        )
                                    })
                                    .unwrap_or(Value::Null)
                            })
                    };
                    let values = if f.name.node == "_entities" {
                        list_len(count("representations"))
                    } else {
                        match field {
                            Some(d) if d.list && in_page && !d.paged => 1,
                            Some(d) if d.paged => match count("first") {
                                Some(Value::Number(n)) => n.as_i64().map_or(DEFAULT_FIRST, |n| {
                                    n.clamp(0, MAX_FIRST as i64) as usize
                                }),
                                _ => DEFAULT_FIRST,
                            },
                            Some(d) if d.list => match count("ids") {
                                Some(ids) => list_len(Some(ids)),
                                None => d.unpaged,
                            },
                            _ => 1,
                        }
                    };
                    1usize.saturating_add(values.saturating_mul(child))
                }
                Selection::InlineFragment(f) => {
                    let on = f
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.set(on, &f.node.selection_set.node, depth + 1, in_page)
                }
                Selection::FragmentSpread(s) => {
                    let key = (s.node.fragment_name.node.clone(), in_page);
                    if let Some(&cost) = self.fragments.get(&key) {
                        cost
                    } else if let Some(fragment) = self.doc.fragments.get(&key.0) {
                        // A cycle meets its own entry, priced 0 until known.
                        self.fragments.insert(key.clone(), 0);
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        let cost =
                            self.set(on, &fragment.node.selection_set.node, depth + 1, in_page);
                        self.fragments.insert(key, cost);
                        cost
                    } else {
                        0
                    }
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }
}

fn list_len(value: Option<Value>) -> usize {
    match value {
        Some(Value::List(items)) => items.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { a(first: Int): AConnection! b: [B!]! c: C
        nodes(ids: [ID!]!): [B]! }
        type AConnection { nodes: [B!]! totalCount: Int! }
        type B { x: Int y: Int }
        type C { b: [B!]! x: Int }";

    fn price(query: &str, variables: serde_json::Value) -> Price {
        let prices = Prices::from_sdl(SDL);
        let doc = async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        let variables = Variables::from_json(variables);
        prices.cost(&doc, None, &variables)
    }

    fn cost(query: &str, variables: serde_json::Value) -> usize {
        price(query, variables).points
    }

    #[test]
    fn a_price_says_whether_variables_set_it() {
        let paged = "query($n: Int) { a(first: $n) { totalCount } }";
        assert!(price(paged, serde_json::json!({ "n": 5 })).reads_variables);
        // A variable that sets no list's size leaves the price the document's own.
        let included = "query($x: Boolean!) { a(first: 3) @include(if: $x) { totalCount } }";
        assert!(!price(included, serde_json::json!({ "x": true })).reads_variables);
        // Read, even where the size does not depend on it.
        let listed = "query($x: ID!) { nodes(ids: [$x]) { x } }";
        assert!(price(listed, serde_json::json!({ "x": "1" })).reads_variables);
        let in_ids = "query($ids: [ID!]!) { nodes(ids: $ids) { x } }";
        assert!(price(in_ids, serde_json::json!({ "ids": ["1", "2"] })).reads_variables);
        assert!(
            !price(
                "{ a(first: 2) { nodes { x } } b { y } }",
                serde_json::json!({})
            )
            .reads_variables
        );
    }

    #[test]
    fn every_list_pays_for_what_it_can_return() {
        // A page pays its selection once per value it may hold; its own list is the page.
        assert_eq!(
            cost("{ a(first: 10) { totalCount } }", serde_json::json!({})),
            1 + 10
        );
        assert_eq!(
            cost("{ a(first: 10) { nodes { x y } } }", serde_json::json!({})),
            1 + 10 * (1 + 2)
        );
        assert_eq!(cost("{ a { totalCount } }", serde_json::json!({})), 1 + 20);
        assert_eq!(
            cost(
                "query($n: Int) { a(first: $n) { totalCount } }",
                serde_json::json!({"n": 5})
            ),
            6
        );
        assert_eq!(
            cost("{ a(first: 1000) { totalCount } }", serde_json::json!({})),
            101
        );
        // A list without a page pays for as many values as it may return.
        assert_eq!(
            cost("{ b { x y } }", serde_json::json!({})),
            1 + UNPAGED_LIST * 2
        );
        assert_eq!(
            cost("{ c { b { x } } }", serde_json::json!({})),
            1 + 1 + UNPAGED_LIST
        );
        // Ids: one selection each.
        assert_eq!(
            cost(
                "{ nodes(ids: [\"1\", \"2\", \"3\"]) { x } }",
                serde_json::json!({})
            ),
            1 + 3
        );
        // Fragments cost what they select, wherever spread.
        assert_eq!(
            cost(
                "{ c { ...F ...F } } fragment F on C { x }",
                serde_json::json!({})
            ),
            1 + 2
        );
    }
}
