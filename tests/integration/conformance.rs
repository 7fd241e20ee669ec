//! The ecosystem's expectations: GraphQL over HTTP (media types, status codes, strict
//! parameters), automatic persisted queries, and Apollo Federation's `_service`/`_entities`.
//! (The graphql-http audit, the graphql-ws client and the composition check run from
//! `.ci/run` against a real server.)

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, error_code, urlencode};

async fn post(
    app: &TestApp,
    accept: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, String, Value) {
    let mut request = Request::post("/graphql");
    if let Some(a) = accept {
        request = request.header(header::ACCEPT, a);
    }
    if let Some(c) = content_type {
        request = request.header(header::CONTENT_TYPE, c);
    }
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        request.body(Body::from(body.to_owned())).unwrap(),
    )
    .await
    .unwrap();
    let status = response.status();
    let media = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        media,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const JSON: Option<&str> = Some("application/json");
const GRAPHQL_RESPONSE: Option<&str> = Some("application/graphql-response+json");

#[tokio::test]
async fn graphql_over_http_media_types_and_status_codes() {
    let app = TestApp::new().await;
    let ok = r#"{"query":"{ organisation(inseeCode: \"35238\") { name } }"}"#;
    for (accept, media) in [
        (JSON, "application/json"),
        (GRAPHQL_RESPONSE, "application/graphql-response+json"),
        (Some("*/*"), "application/json"),
        (None, "application/json"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "application/graphql-response+json",
        ),
    ] {
        let (status, got, body) = post(&app, accept, JSON, ok).await;
        assert_eq!(status, StatusCode::OK);
        assert!(got.starts_with(media), "{accept:?}: {got}");
        assert_eq!(body["data"]["organisation"]["name"], "Rennes");
    }
    // Request errors: no `data`; 400 for clients that accept graphql-response+json.
    for (doc, code) in [
        (
            r#"{"query":"{ organisation(inseeCode: "}"#,
            "GRAPHQL_PARSE_FAILED",
        ),
        (r#"{"query":"{ nope }"}"#, "GRAPHQL_VALIDATION_FAILED"),
        // Which operation to run: none named among several, or a name the document lacks.
        (
            r#"{"query":"query A { __typename } query B { __typename }"}"#,
            "BAD_REQUEST",
        ),
        (
            r#"{"query":"query A { __typename }","operationName":"B"}"#,
            "BAD_REQUEST",
        ),
        (
            r#"{"query":"query($c: String!) { organisation(inseeCode: $c) { name } }","variables":{"c":5}}"#,
            "",
        ),
    ] {
        let (status, _, body) = post(&app, GRAPHQL_RESPONSE, JSON, doc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{doc}: {body}");
        assert!(body.get("data").is_none(), "{body}");
        if !code.is_empty() {
            assert_eq!(error_code(&body), code);
        }
        let (status, _, body) = post(&app, JSON, JSON, doc).await;
        assert_eq!(status, StatusCode::OK, "{doc}");
        assert!(body["errors"].is_array());
    }
    // A field error is not a request error: 200 with data.
    let (status, _, body) = post(
        &app,
        GRAPHQL_RESPONSE,
        JSON,
        r#"{"query":"{ organisation(inseeCode: \"3X\") { name } }"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body.get("data").is_some(), "{body}");
    // Malformed requests never reach GraphQL.
    for (content_type, doc, status) in [
        (None, ok, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Some("text/plain"), ok, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (JSON, "{", StatusCode::BAD_REQUEST),
        (JSON, "{}", StatusCode::BAD_REQUEST),
        (JSON, r#"{"query": 1}"#, StatusCode::BAD_REQUEST),
        (
            JSON,
            r#"{"query":"{ __typename }","variables":"{}"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            JSON,
            r#"{"query":"{ __typename }","extensions":[]}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            JSON,
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, _, body) = post(&app, JSON, content_type, doc).await;
        assert_eq!(got, status, "{content_type:?} {doc}: {body}");
        assert!(body["errors"][0]["message"].is_string(), "{body}");
    }
    // Null variables, operationName and extensions are allowed.
    let (status, _, body) = post(&app, JSON, JSON,
        r#"{"query":"query Q { __typename }","operationName":"Q","variables":null,"extensions":null}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["__typename"], "Query");
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// A document validated in full once runs without the structural rules afterwards; its
/// requests still get every refusal a first request would, word for word.
#[tokio::test]
async fn a_document_validated_once_is_refused_as_before() {
    let doc = "query($c: String!, $n: Int) { organisation(inseeCode: $c) { name \
               members(first: $n) { nodes { member { name } } } } }";
    let body = |variables: Value| json!({ "query": doc, "variables": variables }).to_string();
    let bad = [
        json!({ "c": 5 }),
        json!({ "c": null }),
        json!({}),
        json!({ "c": "35238", "n": "20" }),
        json!({ "c": "35238", "n": 2.5 }),
        json!({ "c": "35238", "n": -1 }),
    ];
    // What each refusal reads on an instance that never ran the document.
    let fresh = TestApp::new().await;
    let mut first = Vec::new();
    for variables in &bad {
        let (status, _, mut answer) =
            post(&fresh, GRAPHQL_RESPONSE, JSON, &body(variables.clone())).await;
        strip_request_ids(&mut answer);
        first.push((status, answer));
    }
    let app = TestApp::new().await;
    for _ in 0..3 {
        let (status, _, answer) =
            post(&app, GRAPHQL_RESPONSE, JSON, &body(json!({ "c": "35238" }))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["data"]["organisation"]["name"], "Rennes");
    }
    // The same answer, on the full path (the fresh instance never validated the document
    // with success) and on the shorter one.
    let page = body(json!({ "c": "35238", "n": 2 }));
    let (status, _, mut full) = post(&fresh, GRAPHQL_RESPONSE, JSON, &page).await;
    assert_eq!(status, StatusCode::OK, "{full}");
    let (status, _, mut short) = post(&app, GRAPHQL_RESPONSE, JSON, &page).await;
    assert_eq!(status, StatusCode::OK, "{short}");
    strip_request_ids(&mut full);
    strip_request_ids(&mut short);
    assert_eq!(full, short);
    assert_eq!(
        short["data"]["organisation"]["members"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{short}"
    );
    for (variables, (status, expected)) in bad.iter().zip(&first) {
        let (got, _, mut answer) =
            post(&app, GRAPHQL_RESPONSE, JSON, &body(variables.clone())).await;
        strip_request_ids(&mut answer);
        assert_eq!((got, &answer), (*status, expected), "{variables}");
    }
    assert_eq!(first[0].0, StatusCode::BAD_REQUEST, "{}", first[0].1);
    assert!(first[0].1.get("data").is_none(), "{}", first[0].1);
    // A document that fails validation is refused every time.
    for _ in 0..2 {
        let (status, _, answer) =
            post(&app, GRAPHQL_RESPONSE, JSON, r#"{"query":"{ nope }"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&answer), "GRAPHQL_VALIDATION_FAILED");
    }
}

/// A document's own checks (limits, what its operations are, a price no variable sets) run
/// on its first request only; every request is still checked for what is its own: its
/// variables' text, the operation it names, the transport and a price its variables set.
/// Each answer reads word for word what an instance that never saw the document answers.
/// (`cost::over_budget_is_429_with_when_to_retry_and_nothing_runs` charges one document
/// again and again.)
#[tokio::test]
async fn a_document_checked_once_still_checks_each_request() {
    let doc = "query One($c: String!, $n: Int) { organisation(inseeCode: $c) { name \
               members(first: $n) { nodes { member { name } } } } } \
               query Two { __typename } \
               mutation Three { removeContactPoint(input: {id: \"Q29udGFjdFBvaW50Ojk5OTk5\", \
               version: 1}) { userErrors { code } } }";
    let body = |operation: &str, variables: Value| {
        json!({ "query": doc, "operationName": operation, "variables": variables }).to_string()
    };
    let probes = [
        body("One", json!({ "c": "35238", "n": 2 })),
        body("One", json!({ "c": "35238", "n": 50 })),
        body("One", json!({ "c": "35\u{1}238", "n": 2 })),
        body("Four", json!({ "c": "35238" })),
        body("Two", json!({})),
    ];
    let warm = TestApp::new().await;
    for operation in ["One", "Two", "Three"] {
        let (_, _, answer) =
            post(&warm, JSON, JSON, &body(operation, json!({ "c": "35238" }))).await;
        assert!(answer.get("data").is_some(), "{answer}");
    }
    let mut answers = Vec::new();
    for probe in &probes {
        let cold = TestApp::new().await;
        let (cold_status, _, mut expected) = post(&cold, JSON, JSON, probe).await;
        let (status, _, mut answer) = post(&warm, JSON, JSON, probe).await;
        let requested = |a: &Value| a["extensions"]["cost"]["requested"].clone();
        assert_eq!(requested(&answer), requested(&expected), "{probe}");
        answers.push(answer.clone());
        strip_request_ids(&mut expected);
        strip_request_ids(&mut answer);
        assert_eq!((status, answer), (cold_status, expected), "{probe}");
    }
    let points = |a: &Value| a["extensions"]["cost"]["requested"].as_u64().unwrap_or(0);
    assert!(
        points(&answers[1]) > points(&answers[0]) + 40,
        "{answers:?}"
    );
    assert_eq!(error_code(&answers[2]), "BAD_USER_INPUT", "{}", answers[2]);
    assert_eq!(error_code(&answers[3]), "BAD_REQUEST", "{}", answers[3]);
    assert_eq!(answers[4]["data"]["__typename"], "Query", "{}", answers[4]);
    // Its mutation, admitted over POST, is refused over GET; its query is served.
    let over_get = |operation: &str| {
        format!(
            "/graphql?query={}&operationName={operation}",
            urlencode(doc)
        )
    };
    let (status, text) = warm.get(&over_get("Three")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{text}");
    let (status, text) = warm.get(&over_get("Two")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

fn strip_request_ids(answer: &mut Value) {
    if let Some(errors) = answer["errors"].as_array_mut() {
        for e in errors {
            if let Some(x) = e["extensions"].as_object_mut() {
                x.remove("requestId");
            }
        }
    }
    if let Some(x) = answer.as_object_mut() {
        x.remove("extensions");
    }
}

#[tokio::test]
async fn automatic_persisted_queries() {
    let app = TestApp::new().await;
    let query = "query Rennes { organisation(inseeCode: \"35238\") { name } }";
    let hash = sha256(query);
    let by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
            .to_string();
    let (status, _, body) = post(&app, JSON, JSON, &by_hash).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");

    let with_query = json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }).to_string();
    let (_, _, body) = post(&app, JSON, JSON, &with_query).await;
    assert_eq!(body["data"]["organisation"]["name"], "Rennes", "{body}");
    let (_, _, body) = post(&app, JSON, JSON, &by_hash).await;
    assert_eq!(body["data"]["organisation"]["name"], "Rennes", "{body}");
    // Over GET too, and a wrong hash is refused.
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let path = format!("/graphql?extensions={}", urlencode(&extensions));
    let (status, text) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("Rennes"), "{text}");
    let wrong = json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }).to_string();
    let (_, _, body) = post(&app, JSON, JSON, &wrong).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_HASH_MISMATCH");

    // A persisted mutation stays a mutation: refused over GET.
    let mutation = "mutation { removeContactPoint(input: {id: \"Q29udGFjdFBvaW50Ojk5OTk5\", version: 1}) { userErrors { code } } }";
    let mhash = sha256(mutation);
    let register = json!({ "query": mutation, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": mhash } } }).to_string();
    post(&app, JSON, JSON, &register).await;
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": mhash } }).to_string();
    let (status, text) = app
        .get(&format!("/graphql?extensions={}", urlencode(&extensions)))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{text}");
}

#[tokio::test]
async fn a_federation_subgraph_resolves_organisations_by_each_key() {
    let app = TestApp::new().await;
    let sdl = app.query("{ _service { sdl } }", json!({})).await["_service"]["sdl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sdl.contains(r#"@key(fields: "id") @key(fields: "siren") @key(fields: "inseeCode")"#),
        "{sdl}"
    );
    assert!(sdl.contains("specs.apollo.dev/federation/v2"));
    let id = app
        .query("{ organisation(siren: \"243500139\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    let data = app
        .query(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Organisation { name kind } } }",
            json!({ "r": [
                { "__typename": "Organisation", "siren": "213502388" },
                { "__typename": "Organisation", "inseeCode": "29019" },
                { "__typename": "Organisation", "id": id },
                { "__typename": "Organisation", "siren": "000000000" },
            ] }),
        )
        .await;
    let names: Vec<Value> = data["_entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("Rennes"),
            json!("Brest"),
            json!("Rennes Métropole"),
            Value::Null
        ]
    );
}

/// The introspection query graphql-js 16 sends with every option on (descriptions,
/// `specifiedByURL`, repeatable directives, schema description, deprecated input values,
/// `isOneOf`): nine `ofType` levels, 15 fields deep.
const GRAPHQL_JS_INTROSPECTION: &str = include_str!("../fixtures/graphql-js-introspection.graphql");

#[tokio::test]
async fn standard_introspection_is_answered_and_deeper_schema_walks_are_refused() {
    let app = crate::common::TestApp::new().await;
    let r = app.graphql(GRAPHQL_JS_INTROSPECTION, json!({})).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    assert!(
        r["data"]["__schema"]["types"].as_array().unwrap().len() > 50,
        "{r:#}"
    );
    let mut deep = "kind".to_owned();
    for _ in 0..30 {
        deep = format!("ofType {{ {deep} }}");
    }
    let r = app
        .graphql(
            &format!("{{ __schema {{ types {{ fields {{ type {{ {deep} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(crate::common::error_code(&r), "LIMIT_EXCEEDED", "{r:#}");
    assert_eq!(r["errors"][0]["extensions"]["limit"], "depth");
    // Data queries keep the ordinary depth limit, introspection fields or not.
    let mut nested = "name".to_owned();
    for _ in 0..14 {
        nested = format!("epci {{ {nested} }}");
    }
    let r = app
        .graphql(
            &format!("{{ __typename organisation(inseeCode: \"35238\") {{ {nested} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(crate::common::error_code(&r), "LIMIT_EXCEEDED", "{r:#}");
}
