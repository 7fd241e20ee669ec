//! When a document may skip async-graphql's structural validation: partner apps send the same
//! few operations with new variables, and the rules (known fields, arguments, fragments,
//! overlapping fields…) gave the same answer for the same text the last time, which was a
//! quarter of a small query's cost.
//!
//! Of those rules only one reads the request beyond the text and the operation's name: that
//! the variables' values fit their arguments. A document validated once (for that operation)
//! is run without the structural rules only when every variable's value is one that async-
//! graphql's own check accepts for its declared type, judged conservatively on the built-in
//! scalars (`String`, `ID`, `Boolean`, `Float`, `Int`) and lists of them. Any other case — an
//! enum, an input object, a custom scalar, a missing value, a null where none is allowed, a
//! negative `Int` — is validated in full as before, so every refusal reads the same.

use async_graphql::Variables;
use async_graphql::parser::types::{BaseType, ExecutableDocument, Type};
use async_graphql::{Name, Value};

use super::guard::chosen_operation;

/// Whether the values of `variables` are certainly valid for the variables `operation` of
/// `doc` declares (see the module). An unknown operation is not.
pub fn variables_certainly_valid(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    variables: &Variables,
) -> bool {
    let Some((_, op)) = chosen_operation(doc, operation) else {
        return false;
    };
    op.variable_definitions.iter().all(|definition| {
        let definition = &definition.node;
        match variables.get(&definition.name.node) {
            // A default stands in (it was checked with the document); without one the
            // executor's handling of the absence is left to the full path.
            None => definition.default_value.is_some(),
            Some(value) => fits(&definition.var_type.node, value),
        }
    })
}

/// Whether `value` is accepted for `ty` by every built-in scalar async-graphql registers
/// under that name (`Int` is `i32`'s or `u64`'s, whichever registered first: only the values
/// both accept).
fn fits(ty: &Type, value: &Value) -> bool {
    if matches!(value, Value::Null) {
        return ty.nullable;
    }
    match &ty.base {
        BaseType::List(inner) => match value {
            Value::List(items) => items.iter().all(|item| fits(inner, item)),
            _ => false,
        },
        BaseType::Named(name) => scalar_fits(name, value),
    }
}

fn scalar_fits(name: &Name, value: &Value) -> bool {
    match (name.as_str(), value) {
        ("String", Value::String(_)) | ("Boolean", Value::Boolean(_)) => true,
        ("ID", Value::String(_)) => true,
        ("ID", Value::Number(n)) => n.is_i64(),
        ("Float", Value::Number(_)) => true,
        ("Int", Value::Number(n)) => n
            .as_i64()
            .is_some_and(|n| (0..=i64::from(i32::MAX)).contains(&n)),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn certain(query: &str, variables: serde_json::Value) -> bool {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        variables_certainly_valid(&doc, None, &Variables::from_json(variables))
    }

    #[test]
    fn built_in_scalars_of_the_right_kind_are_certain() {
        let q = "query($c: String!, $n: Int, $b: Boolean!, $i: ID!, $f: Float, $l: [String!]) \
                 { a(c: $c, n: $n, b: $b, i: $i, f: $f, l: $l) }";
        let ok = serde_json::json!({"c": "35238", "n": 20, "b": true, "i": 7, "f": 1.5,
                                    "l": ["a", "b"]});
        assert!(certain(q, ok));
        let nulls = serde_json::json!({"c": "x", "n": null, "b": false, "i": "x", "f": null,
                                       "l": null});
        assert!(certain(q, nulls));
        assert!(certain("{ a }", serde_json::json!({"unused": 1})));
        assert!(certain(
            "query($n: Int = 5) { a(n: $n) }",
            serde_json::json!({})
        ));
    }

    #[test]
    fn anything_else_goes_through_full_validation() {
        let one = |ty: &str, value: serde_json::Value| {
            certain(
                &format!("query($v: {ty}) {{ a(v: $v) }}"),
                serde_json::json!({ "v": value }),
            )
        };
        assert!(!one("String!", serde_json::json!(5)));
        assert!(!one("String!", serde_json::json!(null)));
        assert!(!one("Int", serde_json::json!(-1)));
        assert!(!one("Int", serde_json::json!(1.5)));
        assert!(!one("Int", serde_json::json!(3_000_000_000u64)));
        assert!(!one("Boolean", serde_json::json!("true")));
        assert!(!one("[String]", serde_json::json!("a")));
        assert!(!one("[String!]", serde_json::json!(["a", null])));
        assert!(!one("Date", serde_json::json!("2026-01-01")));
        assert!(!one("OrganisationKind", serde_json::json!("COMMUNE")));
        assert!(!one("OrganisationFilter", serde_json::json!({})));
        // A required variable left out.
        assert!(!certain(
            "query($c: String!) { a(c: $c) }",
            serde_json::json!({})
        ));
    }
}
