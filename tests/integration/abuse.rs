//! The abuse corpus: hundreds of hostile requests (deep nesting, alias and directive floods,
//! fragment cycles, oversized documents, token floods, huge pages, batches, bad JSON and
//! UTF-8, variable type confusion, introspection and suggestion probes, mutations over GET,
//! garbage). Each gets a clear 4xx or a typed GraphQL error, never a 5xx, and none reaches
//! the database: the statement counter stays at zero.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::common::{TestApp, urlencode};

/// One hostile request and what must come back.
struct Case {
    what: String,
    request: Request<Body>,
    /// Acceptable status codes.
    statuses: &'static [u16],
    /// The error code expected, when the request reaches GraphQL.
    code: Option<&'static str>,
}

fn post_body(
    what: String,
    body: Vec<u8>,
    statuses: &'static [u16],
    code: Option<&'static str>,
) -> Case {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    Case {
        what,
        request,
        statuses,
        code,
    }
}

fn doc(what: String, query: &str, variables: Value, code: &'static str) -> Case {
    let body = json!({ "query": query, "variables": variables })
        .to_string()
        .into_bytes();
    post_body(what, body, &[200], Some(code))
}

fn nested(depth: usize) -> String {
    let mut q = String::from("name");
    for _ in 0..depth {
        q = format!("memberOf {{ group {{ {q} }} }}");
    }
    format!("{{ organisation(inseeCode: \"35238\") {{ {q} }} }}")
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut rng = StdRng::seed_from_u64(7);
    // Deep nesting (the depth limit is 12).
    for depth in (6..=100).step_by(5) {
        cases.push(doc(
            format!("nesting {depth}"),
            &nested(depth),
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Alias floods (the limit is 30).
    for n in (31..=1000).step_by(50) {
        let fields: String = (0..n)
            .map(|i| format!("a{i}: organisation(inseeCode: \"35238\") {{ name }} "))
            .collect();
        cases.push(doc(
            format!("{n} aliases"),
            &format!("{{ {fields} }}"),
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Directive floods (the limit is 20).
    for n in (21..=2000).step_by(100) {
        let directives = "@include(if: true) ".repeat(n);
        cases.push(doc(
            format!("{n} directives"),
            &format!("{{ __typename {directives} }}"),
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Fragment cycles.
    for n in 2..22 {
        let frags: String = (0..n)
            .map(|i| {
                format!(
                    "fragment F{i} on Organisation {{ memberOf {{ group {{ ...F{} }} }} }} ",
                    (i + 1) % n
                )
            })
            .collect();
        let q = format!("{{ organisation(inseeCode: \"35238\") {{ ...F0 }} }} {frags}");
        cases.push(doc(
            format!("fragment cycle of {n}"),
            &q,
            json!({}),
            "ANY_REQUEST_ERROR",
        ));
    }
    // Oversized documents: past the document limit (32 KiB), and past the body limit.
    for kib in [33, 40, 48, 64, 100, 200] {
        let q = format!("{{ __typename }} # {}", "x".repeat(kib * 1024));
        cases.push(doc(
            format!("{kib} KiB document"),
            &q,
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    for kib in [257, 300, 512, 1024, 1024 * 4] {
        let q = format!("{{ __typename }} # {}", "x".repeat(kib * 1024));
        let body = json!({ "query": q }).to_string().into_bytes();
        cases.push(post_body(format!("{kib} KiB body"), body, &[413], None));
    }
    // Token floods within the length limit (the limit is 4,000 tokens).
    for n in (4_001..=16_001).step_by(1_000) {
        let q = format!("{{ {}}}", "a ".repeat(n));
        cases.push(doc(format!("{n} tokens"), &q, json!({}), "LIMIT_EXCEEDED"));
    }
    for n in 0..8 {
        let q = "{ ".repeat(4_500 + n * 1_000);
        cases.push(doc(
            format!("brace flood {n}"),
            &q,
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Huge pages and complexity.
    for first in [101, 500, 1000, 10_000, 2_147_483_647, -1, -2_147_483_648] {
        let q = format!("{{ organisations(first: {first}) {{ nodes {{ name }} }} }}");
        // A refused page size stops before any query.
        cases.push(doc(
            format!("first: {first}"),
            &q,
            json!({}),
            "BAD_USER_INPUT",
        ));
    }
    for k in 0..13 {
        let inner = "members(first: 100) { nodes { member { name ".repeat(k % 3 + 1)
            + &"} } } ".repeat(k % 3 + 1);
        let q = format!(
            "{{ organisations(first: 100) {{ nodes {{ members(first: 100) {{ nodes {{ member {{ {inner} }} }} }} }} }} }}"
        );
        cases.push(doc(
            format!("complexity {k}"),
            &q,
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Batches (not accepted).
    for n in (2..=200).step_by(10) {
        let batch: Vec<Value> = (0..n)
            .map(|_| json!({ "query": "{ __typename }" }))
            .collect();
        cases.push(post_body(
            format!("batch of {n}"),
            Value::Array(batch).to_string().into_bytes(),
            &[400],
            None,
        ));
    }
    // Bad JSON, bad UTF-8, wrong parameter types.
    let bad_bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"null".to_vec(),
        b"42".to_vec(),
        b"\"query\"".to_vec(),
        b"{\"query\":".to_vec(),
        b"{\"query\": \"{ __typename }\"".to_vec(),
        b"{'query': '{ __typename }'}".to_vec(),
        b"{\"query\": 1}".to_vec(),
        b"{\"query\": []}".to_vec(),
        b"{\"query\": {}}".to_vec(),
        b"{\"query\": true}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"variables\": \"x\"}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"variables\": []}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"variables\": 3}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"operationName\": 3}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"operationName\": []}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"extensions\": \"x\"}".to_vec(),
        b"{\"query\": \"{ __typename }\", \"extensions\": [1]}".to_vec(),
        b"{\"query\": \"\xff\xfe\"}".to_vec(),
        b"\xff\xff\xff\xff".to_vec(),
        b"{\"query\": \"\xc3\x28\"}".to_vec(),
        b"{\"query\": \"\xed\xa0\x80\"}".to_vec(),
        b"\x00\x00\x00".to_vec(),
        b"{\"query\": \"\\ud800\"}".to_vec(),
        b"{\"extensions\": {}}".to_vec(),
        b"{\"variables\": {}}".to_vec(),
        b"{\"operationName\": \"x\"}".to_vec(),
        b"{\"query\": null}".to_vec(),
    ];
    for (i, body) in bad_bodies.into_iter().enumerate() {
        cases.push(post_body(format!("bad body {i}"), body, &[400], None));
    }
    for (i, content_type) in [
        "text/plain",
        "application/graphql",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "",
        "application/jsonx",
    ]
    .iter()
    .enumerate()
    {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, *content_type)
            .body(Body::from("{\"query\":\"{ __typename }\"}"))
            .unwrap();
        cases.push(Case {
            what: format!("content type {i}"),
            request,
            statuses: &[415],
            code: None,
        });
    }
    // Variable type confusion: coercion fails before anything runs.
    let confusions: [(&str, &str, Vec<Value>); 4] = [
        (
            "query($c: String!) { organisation(inseeCode: $c) { name } }",
            "c",
            vec![
                json!(null),
                json!(5),
                json!(1.5),
                json!(true),
                json!([1, 2]),
                json!({ "a": 1 }),
            ],
        ),
        (
            "query($n: Int) { organisations(first: $n) { totalCount } }",
            "n",
            vec![
                json!(1.5),
                json!(true),
                json!("x"),
                json!([1, 2]),
                json!({ "a": 1 }),
                json!(99_999_999_999i64),
            ],
        ),
        (
            "query($k: [OrganisationKind!]) { organisations(filter: {kinds: $k}) { totalCount } }",
            "k",
            vec![
                json!(5),
                json!(true),
                json!("x"),
                json!(["COMMUNE", 3]),
                json!({ "a": 1 }),
                json!([null]),
            ],
        ),
        (
            "query($d: Date) { organisation(inseeCode: \"35238\", at: $d) { name } }",
            "d",
            vec![
                json!(5),
                json!(true),
                json!([1, 2]),
                json!("2026-13-45"),
                json!({ "a": 1 }),
                json!("x"),
            ],
        ),
    ];
    for (q, var, values) in confusions {
        for value in values {
            let vars = json!({ var: value });
            cases.push(doc(format!("{q} with {vars}"), q, vars, "ANY_INPUT_ERROR"));
        }
    }
    cases.push(doc(
        "undeclared variable".into(),
        "{ organisation(inseeCode: $c) { name } }",
        json!({ "c": "35238" }),
        "GRAPHQL_VALIDATION_FAILED",
    ));
    cases.push(doc(
        "unused variable type".into(),
        "query($c: Foo) { __typename }",
        json!({}),
        "GRAPHQL_VALIDATION_FAILED",
    ));
    // Introspection abuse: `ofType` chains deeper than the standard introspection queries'
    // (nine) are cut by the introspection depth limit (16 fields deep).
    for depth in 12..32 {
        let mut t = String::from("name");
        for _ in 0..depth {
            t = format!("ofType {{ {t} }}");
        }
        let q = format!("{{ __schema {{ types {{ fields {{ type {{ {t} }} }} }} }} }}");
        cases.push(doc(
            format!("introspection depth {depth}"),
            &q,
            json!({}),
            "LIMIT_EXCEEDED",
        ));
    }
    // Suggestion probes: misspelt fields are validation errors.
    for name in [
        "organisaton",
        "organisationz",
        "organisatio",
        "searh",
        "node_",
        "nodez",
        "changez",
        "resourcess",
        "agreement",
        "viewr",
        "organisations_",
        "responsibilitiess",
        "competencess",
        "feedCursr",
        "serch",
        "orgnisation",
        "Organisation",
        "ORGANISATION",
        "__schem",
        "__typenam",
    ] {
        cases.push(doc(
            format!("probe {name}"),
            &format!("{{ {name} }}"),
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ));
    }
    // Mutations over GET.
    for name in [
        "addContactPoint",
        "removeContactPoint",
        "publishResource",
        "draftAgreement",
        "requestReservation",
    ] {
        for shape in 0..4 {
            let q = match shape {
                0 => format!("mutation {{ {name} }}"),
                1 => format!("mutation M {{ {name}(input: {{}}) {{ __typename }} }}"),
                2 => format!("query Q {{ __typename }} mutation M {{ {name} }}"),
                _ => format!("mutation {{ __typename }} # {name}"),
            };
            let path = format!("/graphql?query={}", urlencode(&q));
            let mut request = Request::get(path).header(header::ACCEPT, "application/json");
            if shape == 2 {
                request = Request::get(format!("/graphql?operationName=M&query={}", urlencode(&q)))
                    .header(header::ACCEPT, "application/json");
            }
            cases.push(Case {
                what: format!("GET {q}"),
                request: request.body(Body::empty()).unwrap(),
                statuses: &[405],
                code: Some("METHOD_NOT_ALLOWED"),
            });
        }
    }
    // Garbage.
    let alphabet: Vec<char> =
        "{}()[]:!$@#.,=|&\"\\ \n\tquerymutationfragment on_0123456789éß😀\u{0}"
            .chars()
            .collect();
    for i in 0..40 {
        let len = rng.random_range(1..400);
        let q: String = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        cases.push(doc(
            format!("garbage {i}"),
            &q,
            json!({}),
            "ANY_REQUEST_ERROR",
        ));
    }
    cases
}

#[tokio::test]
async fn the_abuse_corpus_is_refused_without_touching_the_database() {
    let app = TestApp::new().await;
    let cases = corpus();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let mut failures = Vec::new();
    app.take_statements();
    for case in cases {
        let (status, body) = app.send(case.request).await;
        let statements = app.take_statements();
        let text = String::from_utf8_lossy(&body);
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let code = value["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        let mut wrong = Vec::new();
        if !case.statuses.contains(&status.as_u16()) {
            wrong.push(format!("status {status}"));
        }
        let code_ok = match case.code {
            Some("ANY_REQUEST_ERROR") => matches!(
                code,
                "GRAPHQL_PARSE_FAILED" | "GRAPHQL_VALIDATION_FAILED" | "LIMIT_EXCEEDED"
            ),
            Some("ANY_INPUT_ERROR") => {
                matches!(code, "GRAPHQL_VALIDATION_FAILED" | "BAD_USER_INPUT")
            }
            Some(expected) => code == expected,
            None => true,
        };
        if !code_ok {
            wrong.push(format!("code {code:?}"));
        }
        if value.get("errors").is_none_or(|e| !e.is_array())
            && status != StatusCode::PAYLOAD_TOO_LARGE
        {
            wrong.push("no errors".into());
        }
        if value["data"]
            .as_object()
            .is_some_and(|d| d.values().any(|v| !v.is_null()))
        {
            wrong.push("data was produced".into());
        }
        if statements > 0 {
            wrong.push(format!("{statements} statements ran"));
        }
        if !wrong.is_empty() {
            let excerpt: String = text.chars().take(300).collect();
            failures.push(format!(
                "{}: {} — {excerpt}",
                case.what.chars().take(120).collect::<String>(),
                wrong.join(", ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The server is still fine.
    let data = app
        .query("{ organisation(inseeCode: \"35238\") { name } }", json!({}))
        .await;
    assert_eq!(data["organisation"]["name"], "Rennes");
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let app = TestApp::new().await;
    let r = app.graphql("{ organisaton { name } }", json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{r}"
    );
    let r = app
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "Query");

    let closed = TestApp::with_limits(api::config::Limits {
        introspection: false,
        suggestions: false,
        ..api::config::Limits::default()
    })
    .await;
    let r = closed.graphql("{ organisaton { name } }", json!({})).await;
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    let r = closed
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(
        r["errors"].is_array() || r["data"]["__schema"].is_null(),
        "{r}"
    );
    let r = closed
        .graphql("{ organisation(inseeCode: \"35238\") { name } }", json!({}))
        .await;
    assert_eq!(r["data"]["organisation"]["name"], "Rennes");
}
