//! Lookups by ID and official code, as-of answers, successions and bad input.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::common::{TestApp, error_code};

const ORG: &str = "id kind name inseeCode siren population validFrom validTo";

#[tokio::test]
async fn commune_by_insee_code_with_its_groups() {
    let app = TestApp::new().await;
    let data = app
        .query(
            &format!(
                "{{ organisation(inseeCode: \"35238\", at: \"2026-06-01\") {{ {ORG}
                   epci {{ name kind siren }} departement {{ name inseeCode }} region {{ name inseeCode }}
                   memberOf {{ kind group {{ name kind }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let rennes = &data["organisation"];
    assert_eq!(rennes["name"], "Rennes");
    assert_eq!(rennes["kind"], "COMMUNE");
    assert_eq!(rennes["siren"], "213502388");
    assert_eq!(rennes["epci"]["name"], "Rennes Métropole");
    assert_eq!(rennes["epci"]["kind"], "METROPOLE");
    assert_eq!(rennes["epci"]["siren"], "243500139");
    assert_eq!(rennes["departement"]["name"], "Ille-et-Vilaine");
    assert_eq!(rennes["region"]["name"], "Bretagne");
    assert_eq!(rennes["region"]["inseeCode"], "53");
    let kinds: Vec<&str> = rennes["memberOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"MEMBER") && kinds.contains(&"LOCATED_IN"));
}

/// An organisation's fields come in the order the query asks for them (the spec's serialized
/// map ordering), not in the order they resolve: here the contact points and resources are
/// read from the database while the name and code are at hand.
#[tokio::test]
async fn an_organisations_fields_come_in_the_order_asked() {
    let app = TestApp::new().await;
    let query = "{ organisation(inseeCode: \"35238\") { contactPoints { kind } resources { name }
                   name inseeCode memberOf { kind group { kind name } } } }";
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request");
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).expect("UTF-8 answer");
    assert!(
        text.contains(r#"{"organisation":{"contactPoints":["#),
        "{text}"
    );
    let at = |key: &str| {
        text.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing from {text}"))
    };
    let order = [
        "contactPoints",
        "resources",
        "name",
        "inseeCode",
        "memberOf",
    ]
    .map(at);
    assert!(order.is_sorted(), "fields out of order: {text}");
    assert!(text.contains(r#""memberOf":[{"kind":""#), "{text}");
    assert!(text.contains(r#""group":{"kind":""#), "{text}");
}

#[tokio::test]
async fn lookup_by_siren_and_by_id_agree() {
    let app = TestApp::new().await;
    let by_siren = app
        .query(
            "{ organisation(siren: \"243500139\") { id name kind members(first: 100) { totalCount } } }",
            json!({}),
        )
        .await;
    let metropole = &by_siren["organisation"];
    assert_eq!(metropole["name"], "Rennes Métropole");
    assert_eq!(metropole["members"]["totalCount"], 43);
    let id = metropole["id"].as_str().unwrap();
    let by_id = app
        .query(
            "query($id: ID!) { organisation(id: $id) { name } node(id: $id) { id ... on Organisation { siren } } nodes(ids: [$id, $id]) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(by_id["organisation"]["name"], "Rennes Métropole");
    assert_eq!(by_id["node"]["siren"], "243500139");
    assert_eq!(by_id["nodes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn shared_codes_prefer_commune_then_departement_then_region() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ d: organisation(inseeCode: \"11\") { kind name }
               r: organisation(inseeCode: \"11\", kind: REGION) { kind name }
               c: organisation(inseeCode: \"75056\") { kind name }
               p: organisation(inseeCode: \"75\") { kind name } }",
            json!({}),
        )
        .await;
    assert_eq!(data["d"]["kind"], "DEPARTEMENT");
    assert_eq!(data["d"]["name"], "Aude");
    assert_eq!(data["r"]["name"], "Île-de-France");
    assert_eq!(data["c"]["name"], "Paris");
    assert_eq!(data["p"]["kind"], "DEPARTEMENT");
}

#[tokio::test]
async fn merged_commune_answers_as_of_2024_and_names_its_successor() {
    let app = TestApp::new().await;
    // Le Mont-Dieu (08300) merged into Tannay-le-Mont-Dieu (08439) on 2025-01-01.
    let data = app
        .query(
            "{ before: organisation(inseeCode: \"08300\", at: \"2024-06-01\") {
                 kind name validTo epci { name siren } successors { name inseeCode siren validFrom } }
               after: organisation(inseeCode: \"08300\", at: \"2025-06-01\") { kind name }
               merged: organisation(inseeCode: \"08439\", at: \"2025-06-01\") {
                 name siren epci { name } predecessors { name inseeCode } } }",
            json!({}),
        )
        .await;
    let before = &data["before"];
    assert_eq!(before["kind"], "COMMUNE");
    assert_eq!(before["name"], "Le Mont-Dieu");
    assert_eq!(before["validTo"], "2025-01-01");
    assert_eq!(before["epci"]["name"], "CC des Portes du Luxembourg");
    assert_eq!(before["epci"]["siren"], "240800847");
    let successors = before["successors"].as_array().unwrap();
    assert_eq!(successors.len(), 1);
    assert_eq!(successors[0]["name"], "Tannay-le-Mont-Dieu");
    assert_eq!(successors[0]["siren"], "934658964");
    assert_eq!(successors[0]["validFrom"], "2025-01-01");

    // No commune déléguée kept the code: the latest organisation that had it answers.
    let after = &data["after"];
    assert_eq!(after["kind"], "COMMUNE");
    assert_eq!(after["name"], "Le Mont-Dieu");

    let merged = &data["merged"];
    assert_eq!(merged["name"], "Tannay-le-Mont-Dieu");
    assert_eq!(merged["epci"]["name"], "CC de l'Argonne Ardennaise");
    let predecessors: Vec<&str> = merged["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["inseeCode"].as_str().unwrap())
        .collect();
    assert!(predecessors.contains(&"08300"), "{predecessors:?}");
    assert!(
        predecessors.contains(&"08439"),
        "the old Tannay: {predecessors:?}"
    );
}

#[tokio::test]
async fn a_merged_code_living_on_as_commune_deleguee_resolves_to_it_today() {
    let app = TestApp::new().await;
    // Ruffieu (01330) merged into Haut Valromey (01187) on 2025-01-01.
    let data = app
        .query(
            "{ now: organisation(inseeCode: \"01330\") { kind name validFrom memberOf { kind group { inseeCode } } }
               then: organisation(inseeCode: \"01330\", at: \"2024-12-31\") { kind name successors { inseeCode } } }",
            json!({}),
        )
        .await;
    let then = &data["then"];
    assert_eq!(then["kind"], "COMMUNE");
    assert_eq!(then["successors"][0]["inseeCode"], "01187");
    let now = &data["now"];
    assert_eq!(now["kind"], "COMMUNE_DELEGUEE");
    assert_eq!(now["name"], "Ruffieu");
    assert_eq!(now["validFrom"], "2025-01-01");
    assert_eq!(now["memberOf"][0]["kind"], "PART_OF");
    assert_eq!(now["memberOf"][0]["group"]["inseeCode"], "01187");
}

#[tokio::test]
async fn prefectures_are_named_with_their_article_and_seated_in_the_chef_lieu() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ ain: organisations(filter: {kinds: [STATE_SERVICE], departement: \"01\"}) {
                 nodes { name territory { name kind } memberOf { kind group { name inseeCode } } } }
               nord: organisations(filter: {kinds: [STATE_SERVICE], departement: \"59\"}) { nodes { name } }
               all: organisations(filter: {kinds: [STATE_SERVICE]}) { totalCount } }",
            json!({}),
        )
        .await;
    let ain = &data["ain"]["nodes"][0];
    assert_eq!(ain["name"], "Préfecture de l'Ain");
    assert_eq!(ain["territory"]["name"], "Ain");
    assert_eq!(ain["memberOf"][0]["group"]["name"], "Bourg-en-Bresse");
    let nord: Vec<&str> = data["nord"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(nord.contains(&"Préfecture du Nord"), "{nord:?}");
    assert!(
        nord.contains(&"Préfecture de région des Hauts-de-France"),
        "{nord:?}"
    );
    assert_eq!(data["all"]["totalCount"], 101 + 18);
}

#[tokio::test]
async fn malformed_codes_are_bad_user_input_naming_the_argument() {
    let app = TestApp::new().await;
    for (query, argument) in [
        (
            "{ organisation(inseeCode: \"3523\") { name } }",
            "inseeCode",
        ),
        (
            "{ organisation(inseeCode: \"2C004\") { name } }",
            "inseeCode",
        ),
        ("{ organisation(siren: \"243500138\") { name } }", "siren"),
        ("{ organisation(siren: \"24350013\") { name } }", "siren"),
        ("{ organisation(id: \"not-an-id\") { name } }", "id"),
        ("{ organisation { name } }", "id"),
        (
            "{ organisation(inseeCode: \"35238\", siren: \"243500139\") { name } }",
            "id",
        ),
    ] {
        let response = app.graphql(query, json!({})).await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{query}");
        assert_eq!(
            response["errors"][0]["extensions"]["argument"], argument,
            "{query}"
        );
        let request_id = response["errors"][0]["extensions"]["requestId"].as_str();
        assert!(request_id.is_some_and(|id| !id.is_empty()), "{response}");
        assert!(response["data"]["organisation"].is_null());
    }
}

#[tokio::test]
async fn unknown_codes_are_null_and_dates_before_the_data_are_empty() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ a: organisation(inseeCode: \"99999\") { name }
               b: organisation(siren: \"123456782\") { name }
               c: organisation(inseeCode: \"35238\", at: \"1900-01-01\") { name }
               d: organisations(at: \"1900-01-01\") { totalCount nodes { name } }
               e: organisation(inseeCode: \"35238\") { memberOf(at: \"1900-01-01\") { kind } epci(at: \"1900-01-01\") { name } } }",
            json!({}),
        )
        .await;
    assert!(data["a"].is_null());
    assert!(data["b"].is_null());
    assert!(data["c"].is_null());
    assert_eq!(data["d"]["totalCount"], 0);
    assert_eq!(data["d"]["nodes"], json!([]));
    assert_eq!(data["e"]["memberOf"], json!([]));
    assert!(data["e"]["epci"].is_null());
}
