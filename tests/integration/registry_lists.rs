//! Lists, counts against the official data, pagination, search, and batching.

use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

async fn count(app: &TestApp, kinds: &str, at: &str) -> i64 {
    let data = app
        .query(
            &format!(
                "{{ organisations(filter: {{kinds: [{kinds}]}}, at: \"{at}\") {{ totalCount }} }}"
            ),
            json!({}),
        )
        .await;
    data["organisations"]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn counts_match_the_official_data() {
    let app = TestApp::new().await;
    assert_eq!(count(&app, "COMMUNE", "2026-01-01").await, 34_969);
    assert_eq!(
        count(&app, "CC, CA, CU, METROPOLE, METROPOLE_LYON", "2026-01-01").await,
        1_255
    );
    assert_eq!(count(&app, "CC", "2026-01-01").await, 989);
    assert_eq!(count(&app, "DEPARTEMENT", "2026-01-01").await, 101);
    assert_eq!(count(&app, "REGION", "2026-01-01").await, 18);
    assert_eq!(count(&app, "EPT", "2026-01-01").await, 11);
    // 68 communes disappeared into communes nouvelles on 2025-01-01 and 8 appeared.
    let before = count(&app, "COMMUNE", "2024-12-31").await;
    let after = count(&app, "COMMUNE", "2025-01-01").await;
    assert_eq!(before - after, 68 - 8);
}

#[tokio::test]
async fn members_of_an_epci_change_across_2024_2025() {
    let app = TestApp::new().await;
    let q = "query($at: Date) { organisation(siren: \"240800847\", at: $at) {
               name members(first: 100) { totalCount nodes { member { inseeCode } } } } }";
    let codes = |data: &Value| -> Vec<String> {
        data["organisation"]["members"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["member"]["inseeCode"].as_str().unwrap().to_owned())
            .collect()
    };
    let in_2024 = app.query(q, json!({ "at": "2024-06-01" })).await;
    let in_2025 = app.query(q, json!({ "at": "2025-06-01" })).await;
    assert!(codes(&in_2024).contains(&"08300".to_owned()));
    assert!(!codes(&in_2025).contains(&"08300".to_owned()));
}

#[tokio::test]
async fn pagination_is_stable_and_bounded() {
    let app = TestApp::new().await;
    let q = "query($after: String, $first: Int) { organisations(filter: {departement: \"35\", kinds: [COMMUNE]},
               orderBy: {field: POPULATION, direction: DESC}, first: $first, after: $after) {
               totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
               edges { cursor node { name population } } } }";
    let six = app.query(q, json!({ "first": 6 })).await;
    let first3 = app.query(q, json!({ "first": 3 })).await;
    let cursor = first3["organisations"]["pageInfo"]["endCursor"].clone();
    let next3 = app.query(q, json!({ "first": 3, "after": cursor })).await;
    let names = |d: &Value| -> Vec<String> {
        d["organisations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut joined = names(&first3);
    joined.extend(names(&next3));
    assert_eq!(joined, names(&six));
    assert_eq!(names(&six)[0], "Rennes");
    assert_eq!(next3["organisations"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(six["organisations"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(six["organisations"]["totalCount"], 332);

    let default = app.query(q, json!({})).await;
    assert_eq!(
        default["organisations"]["edges"].as_array().unwrap().len(),
        20
    );
    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "after": "garbage" }), "after"),
    ] {
        let response = app.graphql(q, vars).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT");
        assert_eq!(response["errors"][0]["extensions"]["argument"], field);
    }
}

#[tokio::test]
async fn walking_every_page_yields_every_row_once() {
    let app = TestApp::new().await;
    let q = "query($after: String) { organisations(filter: {region: \"53\", kinds: [CC, CA, CU, METROPOLE]},
               first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }";
    let mut after = Value::Null;
    let mut seen = std::collections::HashSet::new();
    let total = loop {
        let data = app.query(q, json!({ "after": after })).await;
        let total = data["organisations"]["totalCount"].as_i64().unwrap();
        for n in data["organisations"]["nodes"].as_array().unwrap() {
            assert!(
                seen.insert(n["id"].as_str().unwrap().to_owned()),
                "duplicate row"
            );
        }
        if data["organisations"]["pageInfo"]["hasNextPage"] != true {
            break total;
        }
        after = data["organisations"]["pageInfo"]["endCursor"].clone();
    };
    assert_eq!(seen.len() as i64, total);
    assert!(total > 40, "Bretagne has some sixty EPCI");
}

#[tokio::test]
async fn search_is_accent_and_case_insensitive_largest_first() {
    let app = TestApp::new().await;
    for text in ["saint etienne", "SAINT-ÉTIENNE", "Saint Étienne"] {
        let data = app
            .query(
                "query($t: String!) { search(text: $t, first: 5) { name kind inseeCode } }",
                json!({ "t": text }),
            )
            .await;
        let first = &data["search"][0];
        assert_eq!(first["name"], "Saint-Étienne", "{text}");
        assert_eq!(first["inseeCode"], "42218");
    }
    let data = app
        .query(
            "{ search(text: \"rennes\", kinds: [METROPOLE]) { name } starts: organisations(filter: {nameStartsWith: \"Saint-\"}, first: 5) { totalCount nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["search"][0]["name"], "Rennes Métropole");
    assert_eq!(data["search"].as_array().unwrap().len(), 1);
    for n in data["starts"]["nodes"].as_array().unwrap() {
        assert!(n["name"].as_str().unwrap().starts_with("Saint"), "{n}");
    }
    // "Saint-" is a prefix with its hyphen: Saintes (17415) does not start with it.
    let charente = app
        .query(
            "{ organisations(filter: {nameStartsWith: \"Saint-\", departement: \"17\", kinds: [COMMUNE]}, first: 100) { totalCount nodes { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = charente["organisations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("Saint-") || n.starts_with("Saint ")),
        "{names:?}"
    );
    assert!(data["starts"]["totalCount"].as_i64().unwrap() > 3000);
    let response = app
        .graphql("{ search(text: \"--\") { name } }", json!({}))
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    let long = "a".repeat(201);
    for (query, argument) in [
        ("query($t: String!) { search(text: $t) { name } }", "text"),
        (
            "query($t: String!) { organisations(filter: {nameContains: $t}) { totalCount } }",
            "filter.nameContains",
        ),
        (
            "query($t: String!) { organisations(filter: {nameStartsWith: $t}) { totalCount } }",
            "filter.nameStartsWith",
        ),
    ] {
        let response = app.graphql(query, json!({ "t": long })).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{query}");
        assert_eq!(response["errors"][0]["extensions"]["argument"], argument);
    }
}

#[tokio::test]
async fn nested_lists_are_batched_not_one_query_per_row() {
    // SQL: one statement per loader and level. In memory: one version check per batch.
    nested_lists_cost_a_fixed_number_of_statements(TestApp::sql_only().await).await;
    nested_lists_cost_a_fixed_number_of_statements(TestApp::new().await).await;
}

async fn nested_lists_cost_a_fixed_number_of_statements(app: TestApp) {
    let q = "query($first: Int) { organisations(filter: {departement: \"35\", kinds: [CC, CA, CU, METROPOLE]}, first: $first) {
               nodes { name memberOf { kind group { name } } successors { name } epci { name } region { name }
                 members(first: 100) { nodes { member { name inseeCode population memberOf { group { name } } departement { name } } } } } } }";
    app.take_statements();
    let small = app.query(q, json!({ "first": 2 })).await;
    let small_statements = app.take_statements();
    let large = app.query(q, json!({ "first": 50 })).await;
    let large_statements = app.take_statements();
    assert_eq!(small["organisations"]["nodes"].as_array().unwrap().len(), 2);
    let epcis = large["organisations"]["nodes"].as_array().unwrap().len();
    assert!(
        epcis > 10,
        "Ille-et-Vilaine has some eighteen EPCI, got {epcis}"
    );
    let members: usize = large["organisations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["members"]["nodes"].as_array().unwrap().len())
        .sum();
    assert!(members > 300, "{members} member communes");
    // One statement per loader and nesting level, whatever the number of rows: a few more
    // for 50 groupings and 330 communes than for 2 groupings (batches split by data shape),
    // never one per row.
    assert!(
        large_statements <= small_statements + 4 && large_statements <= 12,
        "{small_statements} statements for 2 rows, {large_statements} for {epcis} rows"
    );
}
