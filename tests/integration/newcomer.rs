//! A newcomer's first questions: search as people type it (abbreviations of place names,
//! postal codes, the words people use for competences, shipped as data), and where parts of
//! communes lie.

use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn place_names_are_found_as_people_type_them() {
    let app = TestApp::new().await;
    // (typed, INSEE code of the first answer)
    let table = [
        ("St-Malo", "35288"),
        ("st malo", "35288"),
        ("st etienne", "42218"),
        ("St-Étienne", "42218"),
        ("Saint-Étienne", "42218"),
        ("vitre", "35360"),
        // An alternate name the law data records.
        ("Ville de Paris", "75056"),
        ("ville de paris", "75056"),
    ];
    for (typed, expected) in table {
        let data = app
            .query(
                "query($t: String!) { search(text: $t, kinds: [COMMUNE], first: 3) { inseeCode } }",
                json!({ "t": typed }),
            )
            .await;
        assert_eq!(data["search"][0]["inseeCode"], expected, "{typed}: {data}");
    }
}

#[tokio::test]
async fn communes_are_found_by_their_postal_codes() {
    let app = TestApp::new().await;
    let data = app
        .query(
            r#"{ organisation(inseeCode: "35360") { name postalCodes } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["organisation"]["postalCodes"],
        json!(["35500"]),
        "{data}"
    );

    // (typed, INSEE code of the first answer, a postal code every answer has or starts with)
    let table = [
        ("35500", "35360", "35500"),
        ("vitre 35500", "35360", "35500"),
        // A code shared by a city and its arrondissement: the city first.
        ("75001", "75056", "75001"),
        // As people type: a prefix of codes.
        ("3550", "35360", "3550"),
    ];
    for (typed, expected, code) in table {
        let data = app
            .query(
                "query($t: String!) { search(text: $t, first: 10) { inseeCode postalCodes } }",
                json!({ "t": typed }),
            )
            .await;
        let hits = data["search"].as_array().unwrap();
        assert_eq!(hits[0]["inseeCode"], expected, "{typed}: {data}");
        for hit in hits {
            let codes = hit["postalCodes"].as_array().unwrap();
            assert!(
                codes.iter().any(|c| c.as_str().unwrap().starts_with(code)),
                "{typed}: {hit}"
            );
        }
    }
    let data = app
        .query(
            r#"{ search(text: "35500", kinds: [COMMUNE], first: 50) { name } }"#,
            json!({}),
        )
        .await;
    // Vitré and the communes around it that share its post office's code.
    assert!(data["search"].as_array().unwrap().len() > 1, "{data}");
}

#[tokio::test]
async fn collectivities_are_found_by_their_names() {
    let app = TestApp::new().await;
    for (typed, expected) in [
        (
            "Collectivité européenne d'Alsace",
            "Collectivité européenne d'Alsace",
        ),
        ("Ville de Paris", "Paris"),
        ("Île-de-France Mobilités", "Île-de-France Mobilités"),
        ("IDFM", "Île-de-France Mobilités"),
    ] {
        let data = app
            .query(
                "query($t: String!) { search(text: $t, first: 3) { name } }",
                json!({ "t": typed }),
            )
            .await;
        assert_eq!(data["search"][0]["name"], expected, "{typed}: {data}");
    }
}

#[tokio::test]
async fn competences_are_found_by_the_words_people_use() {
    let app = TestApp::new().await;
    // (typed, every code expected, in catalogue order)
    let table: [(&str, &[&str]); 10] = [
        ("PLU", &["C5510"]),
        ("ordures", &["C2080", "C2085"]),
        ("ordures ménagères", &["C2080"]),
        ("OM", &["C2080"]),
        ("GEMAPI", &["C2005", "C2010", "C2015", "C2020"]),
        ("assainissement", &["C1510", "C1515"]),
        ("cantine", &["C5045"]),
        ("transport scolaire", &["C6005"]),
        ("eau potable", &["C1505"]),
        ("collèges", &["C5025"]),
    ];
    for (typed, expected) in table {
        let data = app
            .query(
                "query($t: String!) { competences(filter: { text: $t }, first: 100) {
                   nodes { code } } }",
                json!({ "t": typed }),
            )
            .await;
        let codes: Vec<&str> = data["competences"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, expected, "{typed}");
    }
}

#[tokio::test]
async fn parts_of_communes_lie_where_their_commune_lies() {
    let app = TestApp::new().await;
    // (INSEE code, kind, département, région)
    let table = [
        ("75101", "ARRONDISSEMENT_MUNICIPAL", "75", "11"),
        ("13201", "ARRONDISSEMENT_MUNICIPAL", "13", "93"),
        ("41197", "COMMUNE_DELEGUEE", "41", "24"),
    ];
    for (code, kind, departement, region) in table {
        let data = app
            .query(
                &format!(
                    "{{ organisation(inseeCode: \"{code}\", kind: {kind}) {{
                       departementCode departement {{ inseeCode }} region {{ inseeCode }} }} }}"
                ),
                json!({}),
            )
            .await;
        let o = &data["organisation"];
        assert_eq!(o["departementCode"], departement, "{code}: {data}");
        assert_eq!(o["departement"]["inseeCode"], departement, "{code}: {data}");
        assert_eq!(o["region"]["inseeCode"], region, "{code}: {data}");
    }
}

#[tokio::test]
async fn dates_before_the_data_are_empty_in_exports_as_in_the_api() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ organisations(at: \"1900-01-01\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["organisations"]["totalCount"], 0);
    for file in ["organisations.csv", "memberships.ndjson", "assignments.csv"] {
        let (status, body) = app.get(&format!("/export/{file}?at=1900-01-01")).await;
        assert_eq!(status.as_u16(), 200, "{file}");
        let rows = body.lines().filter(|l| !l.is_empty()).count();
        let header = usize::from(file.ends_with(".csv"));
        assert_eq!(rows, header, "{file}: {body:.300}");
    }
    // The same exports on a date within the data are not empty.
    let (_, body) = app.get("/export/organisations.csv?at=2026-01-01").await;
    assert!(body.lines().count() > 30_000);
}

#[tokio::test]
async fn event_streams_carry_their_request_id_and_instants_are_to_the_microsecond() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    let app = TestApp::new().await;
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(Body::from(json!({ "query": "{ __typename }" }).to_string()))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));

    let rennes = crate::resources::id_of(&app, "213502388").await;
    let editor = crate::common::token("e@rennes.fr", Some("213502388"), &["editor"]);
    app.graphql_as(
        Some(&editor),
        "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { userErrors { code } } }",
        json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": "accueil@rennes.fr" } }),
    )
    .await;
    let admin = crate::common::token("a@rennes.fr", Some("213502388"), &["admin"]);
    let (_, r) = app
        .graphql_as(
            Some(&admin),
            "{ auditLog(first: 1) { nodes { at } } }",
            json!({}),
        )
        .await;
    let at = r["data"]["auditLog"]["nodes"][0]["at"].as_str().unwrap();
    let fraction = at.split_once('.').map_or(0, |(_, f)| {
        f.chars().take_while(char::is_ascii_digit).count()
    });
    assert!(fraction <= 6, "{at}");
}

#[tokio::test]
async fn organisations_in_input_are_named_by_id_insee_code_or_siren_alike() {
    let app = TestApp::new().await;
    let metro_editor = crate::common::token("e@metropole.fr", Some("243500139"), &["editor"]);
    // Owner by SIREN, coverage by INSEE code (the département 35) and by SIREN.
    let (_, r) = app
        .graphql_as(
            Some(&metro_editor),
            "mutation($i: PublishResourceInput!) { publishResource(input: $i) {
               resource { id owner { siren } coverage { territories { inseeCode } organisations { siren } } }
               userErrors { field code message } } }",
            json!({ "i": { "ownerId": "243500139", "kind": "VEHICLE", "name": "Balayeuse",
                           "capacity": 1, "unit": "vehicle", "costModel": "FREE",
                           "bookingPolicy": "APPROVAL",
                           "coverage": { "territories": ["35"], "organisations": ["212900195"] } } }),
        )
        .await;
    let resource = &r["data"]["publishResource"]["resource"];
    assert_eq!(resource["owner"]["siren"], "243500139", "{r:#}");
    assert_eq!(resource["coverage"]["territories"][0]["inseeCode"], "35");
    assert_eq!(
        resource["coverage"]["organisations"][0]["siren"],
        "212900195"
    );
    // The same organisation by INSEE code, SIREN or ID: the same answer.
    let rennes_id = crate::resources::id_of(&app, "213502388").await;
    let from = crate::common::clock_start() + chrono::Duration::days(2);
    let mut answers = Vec::new();
    for who in ["35238", "213502388", rennes_id.as_str()] {
        let data = app
            .query(
                "query($o: ID!, $from: DateTime!, $to: DateTime!) {
                   availableResources(forOrganisation: $o, from: $from, to: $to) { name }
                   resources(filter: { owner: \"243500139\" }) { totalCount } }",
                json!({ "o": who, "from": from, "to": from + chrono::Duration::hours(2) }),
            )
            .await;
        answers.push(data);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    assert_eq!(answers[0]["resources"]["totalCount"], 1);
    // What names nothing is the caller's error, naming the field.
    let (_, r) = app
        .graphql_as(
            Some(&metro_editor),
            "mutation($i: PublishResourceInput!) { publishResource(input: $i) {
               resource { id } userErrors { field code message } } }",
            json!({ "i": { "ownerId": "99999", "kind": "VEHICLE", "name": "Balayeuse",
                           "capacity": 1, "unit": "vehicle", "costModel": "FREE",
                           "bookingPolicy": "APPROVAL" } }),
        )
        .await;
    let e = &r["data"]["publishResource"]["userErrors"][0];
    assert_eq!(e["code"], "BAD_USER_INPUT", "{r:#}");
    assert_eq!(e["field"], "input.ownerId", "{r:#}");
}

#[tokio::test]
async fn an_instant_without_its_offset_is_told_what_to_write() {
    let app = TestApp::new().await;
    // Dates from the injected clock: next year's first of January.
    let day = crate::common::date(1, 1, 1);
    let ask = |from: String| {
        let (app, to) = (&app, format!("{day}T10:00:00Z"));
        async move {
            let (_, r) = app
                .graphql_as(
                    None,
                    "query($from: DateTime!, $to: DateTime!) { availableResources(
                       forOrganisation: \"35238\", from: $from, to: $to) { id } }",
                    json!({ "from": from, "to": to }),
                )
                .await;
            r["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    // (typed, what the message must say)
    let table = [
        (format!("{day}T09:00:00"), "has no offset"),
        (format!("{day} 09:00:00"), "has no offset"),
        (day.clone(), "is a date"),
        ("demain".to_owned(), "is not an instant"),
    ];
    for (typed, says) in table {
        let message = ask(typed.clone()).await;
        assert!(message.contains(says), "{typed}: {message}");
        assert!(
            message.contains("T09:00:00Z") || message.contains("T00:00:00Z"),
            "{message}"
        );
    }
    // With its offset it is read, in any zone.
    let (_, r) = app
        .graphql_as(
            None,
            "query($from: DateTime!, $to: DateTime!) { availableResources(
               forOrganisation: \"35238\", from: $from, to: $to) { id } }",
            json!({ "from": format!("{day}T10:00:00+01:00"), "to": format!("{day}T11:00:00Z") }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
}
