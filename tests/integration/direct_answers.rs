//! Direct answers (`graphql::direct`): the registry's plain lookups answered without
//! async-graphql's executor give, byte for byte, the executor's answer; anything else is
//! left to the executor.

use api::config::Limits;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::TestApp;

/// One operation, and whether it is answered directly once validated.
struct Case {
    query: &'static str,
    variables: Value,
    direct: bool,
}

fn case(query: &'static str, variables: Value, direct: bool) -> Case {
    Case {
        query,
        variables,
        direct,
    }
}

const COMMUNE: &str = "query($c: String!) { organisation(inseeCode: $c) { __typename id name \
    inseeCode siren population postalCodes validFrom validTo departementCode regionCode version \
    kind epci { name siren kind } departement { name inseeCode } region { name inseeCode } } }";

const SAINTS: &str = "{ __typename list: organisations(filter: {nameStartsWith: \"Saint-\"}, \
    first: 20) { __typename nodes { __typename id nom: name kind departementCode \
    departement { name } region { inseeCode } epci { siren } } } }";

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = [
        // Rennes, Vitré, Paris, its 1st arrondissement (a part of Paris: its places are
        // Paris's), Ajaccio (2A), a code that names nothing.
        "35238", "35360", "75056", "75101", "2A004", "99999",
    ]
    .into_iter()
    .map(|c| case(COMMUNE, json!({ "c": c }), true))
    .collect();
    cases.extend([
        case(SAINTS, json!({}), true),
        // Q3 of the benchmark.
        case(
            "{ organisations(filter: {nameStartsWith: \"Saint-\"}, first: 20) { nodes { name \
             kind departementCode departement { name } } } }",
            json!({}),
            true,
        ),
        // A département and a région: the places of each.
        case(
            "{ d: organisation(inseeCode: \"35\", kind: DEPARTEMENT) { name departement { name } \
             region { name } epci { name } } r: organisation(inseeCode: \"11\", kind: REGION) \
             { name departement { name } region { name } } }",
            json!({}),
            true,
        ),
        // By SIREN: a métropole and a commune.
        case(
            "query($s: String!) { organisation(siren: $s) { name kind epci { name } \
             departement { name } region { name } } }",
            json!({ "s": "243500139" }),
            true,
        ),
        case(
            "query($s: String!) { organisation(siren: $s) { name kind epci { name } } }",
            json!({ "s": "213502388" }),
            true,
        ),
        // Ordered and filtered, with a variable's default standing in.
        case(
            "query($n: Int = 5) { organisations(filter: {departement: \"35\", kinds: [CA, CC, \
             CU, METROPOLE]}, orderBy: {field: POPULATION, direction: DESC}, first: $n) \
             { nodes { name population siren } } }",
            json!({}),
            true,
        ),
        case(
            "query($n: Int) { organisations(filter: {nameStartsWith: \"L'H\"}, first: $n) \
             { nodes { name inseeCode postalCodes } } }",
            json!({ "n": 30 }),
            true,
        ),
        // A past date: Le Mont-Dieu before its merger, its places then; before the data.
        case(
            "{ organisation(inseeCode: \"08300\", at: \"2024-06-01\") { name validTo \
             epci { name } departement { name } } }",
            json!({}),
            true,
        ),
        case(
            "{ o: organisation(inseeCode: \"35238\", at: \"1900-01-01\") { name } \
             l: organisations(at: \"1900-01-01\") { nodes { name } } }",
            json!({}),
            true,
        ),
        case(
            "{ organisations(at: \"1900-01-01\") { nodes { name } } }",
            json!({}),
            true,
        ),
        // Refused by the lookups: the executor answers the error.
        case(
            "{ organisation(inseeCode: \"35238\", siren: \"243500139\") { name } }",
            json!({}),
            false,
        ),
        case(
            "{ organisations(first: 1000) { nodes { name } } }",
            json!({}),
            false,
        ),
        // Not plain lookups.
        case(
            "{ organisation(inseeCode: \"35238\") { name provenance { label } } }",
            json!({}),
            false,
        ),
        case(
            "{ organisation(inseeCode: \"35238\") { ... on Organisation { name } } }",
            json!({}),
            false,
        ),
        case(
            "{ organisation(inseeCode: \"35238\") { epci(at: \"2024-01-01\") { name } } }",
            json!({}),
            false,
        ),
    ]);
    cases
}

async fn post(router: &Router, query: &str, variables: &Value) -> String {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn direct_answers(router: &Router) -> u64 {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("maillage_direct_answers_total "))
        .expect("the direct answers' counter")
        .parse()
        .unwrap()
}

/// `body` without what is not the answer's: the request's id, and what refills with the wall
/// clock (the budget left, when it is full).
fn timeless(body: &str) -> String {
    let mut out = body.to_owned();
    for key in ["\"remaining\":", "\"resetAt\":", "\"requestId\":"] {
        let mut from = 0;
        while let Some(at) = out[from..].find(key) {
            let start = from + at + key.len();
            let end = start + out[start..].find([',', '}']).unwrap();
            out.replace_range(start..end, "0");
            from = start;
        }
    }
    out
}

/// Whether `ours` (a direct answer, or the executor's) is `theirs` (the executor's), byte for
/// byte. The executor writes root fields in the order they complete (they run together);
/// where the operation has several, the direct answer writes them in the order asked, as the
/// spec says, and is otherwise the same.
fn same_answer(ours: &str, theirs: &str, case: &Case) {
    let (ours, theirs) = (timeless(ours), timeless(theirs));
    if ours == theirs {
        return;
    }
    let parsed = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    assert_eq!(
        parsed(&ours),
        parsed(&theirs),
        "{} {}",
        case.query,
        case.variables
    );
    let roots = parsed(&ours)["data"]
        .as_object()
        .map_or(0, |data| data.len());
    assert!(roots > 1, "{ours}\n{theirs}\n{}", case.query);
}

/// Sends every case three times to `direct` and to `executor` (direct answers off), one
/// after the other, and compares the answers. A document's first request is validated in
/// full, by the executor.
async fn compare(direct: &Router, executor: &Router) {
    let mut seen = std::collections::HashSet::new();
    for case in cases() {
        let before = direct_answers(direct).await;
        for _ in 0..3 {
            let ours = post(direct, case.query, &case.variables).await;
            let theirs = post(executor, case.query, &case.variables).await;
            same_answer(&ours, &theirs, &case);
            assert!(ours.starts_with("{\"data\":"), "{ours}");
        }
        let answered = direct_answers(direct).await - before;
        let expected = match (case.direct, seen.insert(case.query)) {
            (false, _) => 0,
            (true, first) => 3 - u64::from(first),
        };
        assert_eq!(answered, expected, "{} {}", case.query, case.variables);
    }
    assert_eq!(direct_answers(executor).await, 0);
}

#[tokio::test]
async fn direct_answers_are_the_executors_byte_for_byte() {
    let app = TestApp::new().await;
    let executor = Limits {
        direct_answers: false,
        ..Limits::default()
    };
    let executor = app.instance_with(executor, true).await;
    compare(&app.router, &executor).await;
    // The answers are not empty shells.
    let rennes: Value =
        serde_json::from_str(&post(&app.router, COMMUNE, &json!({ "c": "35238" })).await).unwrap();
    let rennes = &rennes["data"]["organisation"];
    assert_eq!(rennes["name"], "Rennes");
    assert_eq!(rennes["epci"]["siren"], "243500139");
    assert_eq!(rennes["departement"]["inseeCode"], "35");
    assert_eq!(rennes["region"]["inseeCode"], "53");
    // Root fields in the order asked.
    let two = post(
        &app.router,
        "{ r: organisation(inseeCode: \"35238\") { name } p: organisation(inseeCode: \"75056\") { name } }",
        &json!({}),
    )
    .await;
    assert!(
        two.starts_with("{\"data\":{\"r\":{\"name\":\"Rennes\"},\"p\":"),
        "{two}"
    );
    let saints: Value = serde_json::from_str(&post(&app.router, SAINTS, &json!({})).await).unwrap();
    let nodes = saints["data"]["list"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 20);
    assert!(
        nodes
            .iter()
            .all(|n| n["nom"].as_str().unwrap().starts_with("Saint-"))
    );
}

/// With every registry read in SQL, a page's places are read in batches, as the executor's.
#[tokio::test]
async fn direct_answers_read_by_sql_are_the_executors_too() {
    let app = TestApp::sql_only().await;
    let executor = Limits {
        direct_answers: false,
        ..Limits::default()
    };
    let executor = app.instance_with(executor, false).await;
    let direct = app.instance_with(Limits::default(), false).await;
    compare(&direct, &executor).await;
    // The places of a page's 20 rows are read in as few statements as the executor reads
    // them (batched, not one a row).
    app.take_statements();
    post(&executor, SAINTS, &json!({})).await;
    let theirs = app.take_statements();
    post(&direct, SAINTS, &json!({})).await;
    let ours = app.take_statements();
    assert!(
        ours <= theirs && ours < 20,
        "{ours} statements, {theirs} by the executor"
    );
}
