//! Which operations are answered directly, and what they ask: read once from a document that
//! passed validation, kept with its other findings by the parse cache.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

use crate::graphql::guard::chosen_operation;

/// Fields under their response keys, in the order asked.
pub(super) type Fields<T> = Vec<(String, T)>;

/// A field's arguments as written (literals, or variables read at each request).
pub(super) type Arguments = Vec<(Name, async_graphql_value::Value)>;

/// A root field answered directly.
pub(super) enum RootAsk {
    /// `__typename`.
    Typename,
    /// `organisation(...)`.
    Organisation(Arguments, Fields<OrganisationAsk>),
    /// `organisations(...)`.
    Organisations(Arguments, Fields<ListAsk>),
}

/// A field of an organisation list answered directly.
pub(super) enum ListAsk {
    /// `__typename`.
    Typename,
    /// `nodes`.
    Nodes(Fields<OrganisationAsk>),
}

/// A field of an organisation answered directly: its own values, and the places it lies in
/// as of the date it was looked up at.
pub(super) enum OrganisationAsk {
    Typename,
    Id,
    Kind,
    Name,
    InseeCode,
    Siren,
    Population,
    PostalCodes,
    ValidFrom,
    ValidTo,
    DepartementCode,
    RegionCode,
    Version,
    Epci(Fields<OrganisationAsk>),
    Departement(Fields<OrganisationAsk>),
    Region(Fields<OrganisationAsk>),
}

impl OrganisationAsk {
    /// Whether answering it may read the database (rows of a list then resolve together, so
    /// their reads are batched).
    pub(super) fn reads(&self) -> bool {
        matches!(self, Self::Epci(_) | Self::Departement(_) | Self::Region(_))
    }
}

/// What a qualifying operation asks.
pub struct Plan {
    pub(super) roots: Fields<RootAsk>,
    /// The defaults of its variables, which stand in for values not sent.
    pub(super) defaults: Vec<(Name, Value)>,
}

impl Plan {
    /// The plan of the operation `operation` of `doc` when it qualifies: a query without
    /// directives or fragments, whose every field is one the direct answers know, with no
    /// response key given twice in one selection (async-graphql merges those).
    pub fn of(doc: &ExecutableDocument, operation: Option<&str>) -> Option<Self> {
        let (_, op) = chosen_operation(doc, operation)?;
        if op.ty != OperationType::Query || !op.directives.is_empty() {
            return None;
        }
        let roots = fields(&op.selection_set, root)?;
        let defaults = op
            .variable_definitions
            .iter()
            .filter_map(|d| {
                let default = d.node.default_value.as_ref()?;
                Some((d.node.name.node.clone(), default.node.clone()))
            })
            .collect();
        Some(Self { roots, defaults })
    }
}

/// The fields of `set`, each planned by `plan`; `None` when one of them does not qualify.
fn fields<T>(
    set: &Positioned<SelectionSet>,
    plan: impl Fn(&Field) -> Option<T>,
) -> Option<Fields<T>> {
    let mut out: Fields<T> = Vec::with_capacity(set.node.items.len());
    for item in &set.node.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let field = &field.node;
        let key = field.response_key().node.as_str();
        if !field.directives.is_empty() || out.iter().any(|(k, _)| k == key) {
            return None;
        }
        out.push((key.to_owned(), plan(field)?));
    }
    Some(out)
}

fn arguments(field: &Field) -> Arguments {
    field
        .arguments
        .iter()
        .map(|(name, value)| (name.node.clone(), value.node.clone()))
        .collect()
}

fn root(field: &Field) -> Option<RootAsk> {
    Some(match field.name.node.as_str() {
        "__typename" => RootAsk::Typename,
        "organisation" => RootAsk::Organisation(
            arguments(field),
            fields(&field.selection_set, organisation)?,
        ),
        "organisations" => {
            RootAsk::Organisations(arguments(field), fields(&field.selection_set, list)?)
        }
        _ => return None,
    })
}

fn list(field: &Field) -> Option<ListAsk> {
    Some(match field.name.node.as_str() {
        "__typename" => ListAsk::Typename,
        "nodes" => ListAsk::Nodes(fields(&field.selection_set, organisation)?),
        _ => return None,
    })
}

fn organisation(field: &Field) -> Option<OrganisationAsk> {
    use OrganisationAsk as A;
    // The places' own `at` argument is left to the executor.
    if !field.arguments.is_empty() {
        return None;
    }
    let nested = || fields(&field.selection_set, organisation);
    Some(match field.name.node.as_str() {
        "__typename" => A::Typename,
        "id" => A::Id,
        "kind" => A::Kind,
        "name" => A::Name,
        "inseeCode" => A::InseeCode,
        "siren" => A::Siren,
        "population" => A::Population,
        "postalCodes" => A::PostalCodes,
        "validFrom" => A::ValidFrom,
        "validTo" => A::ValidTo,
        "departementCode" => A::DepartementCode,
        "regionCode" => A::RegionCode,
        "version" => A::Version,
        "epci" => A::Epci(nested()?),
        "departement" => A::Departement(nested()?),
        "region" => A::Region(nested()?),
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn plans(query: &str) -> bool {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        Plan::of(&doc, None).is_some()
    }

    #[test]
    fn plain_lookups_qualify() {
        assert!(plans(
            "query($c: String!) { organisation(inseeCode: $c) { name inseeCode population \
             epci { name siren kind } departement { name inseeCode } region { name } } }"
        ));
        assert!(plans(
            "{ __typename list: organisations(filter: {nameStartsWith: \"Saint-\"}, first: 20) \
             { __typename nodes { __typename id nom: name kind departementCode departement { name } } } }"
        ));
    }

    #[test]
    fn anything_else_is_left_to_the_executor() {
        // Other fields, fragments, directives, arguments of a place, a key given twice,
        // mutations.
        assert!(!plans(
            "{ organisation(inseeCode: \"35238\") { name provenance { label } } }"
        ));
        assert!(!plans("{ organisations { edges { node { name } } } }"));
        assert!(!plans("{ organisations { totalCount } }"));
        assert!(!plans(
            "{ organisation(inseeCode: \"35238\") { ... on Organisation { name } } }"
        ));
        assert!(!plans(
            "{ organisation(inseeCode: \"35238\") { name @include(if: true) } }"
        ));
        assert!(!plans(
            "{ organisation(inseeCode: \"35238\") { epci(at: \"2020-01-01\") { name } } }"
        ));
        assert!(!plans(
            "{ organisation(inseeCode: \"35238\") { name name } }"
        ));
        assert!(!plans(
            "{ a: organisation(inseeCode: \"35238\") { name } a: organisation(inseeCode: \"35047\") { name } }"
        ));
        assert!(!plans("{ search(text: \"Rennes\") { name } }"));
        assert!(!plans("mutation { organisation { name } }"));
    }
}
