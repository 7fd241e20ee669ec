//! Bulk exports: whole datasets from one snapshot, counts equal to the API's, RFC 4180 CSV,
//! NDJSON with the GraphQL field names, and the feed cursor to follow on from.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use entity::membership;
use http_body_util::BodyExt;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestApp, date, token};

/// Status, `x-feed-cursor` and body of an export.
async fn export(app: &TestApp, path: &str) -> (StatusCode, Option<String>, String) {
    export_as(app, None, path).await
}

/// [`export`] with a bearer token.
async fn export_as(
    app: &TestApp,
    tok: Option<&str>,
    path: &str,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get(path);
    if let Some(tok) = tok {
        request = request.header("authorization", format!("Bearer {tok}"));
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let cursor = response
        .headers()
        .get("x-feed-cursor")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, cursor, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn exports_hold_what_the_api_counts() {
    let app = TestApp::new().await;
    let total = app
        .query(
            "{ organisations(at: \"2026-01-01\") { totalCount } }",
            json!({}),
        )
        .await["organisations"]["totalCount"]
        .as_i64()
        .unwrap();
    let head = app.query("{ feedCursor }", json!({})).await["feedCursor"].clone();
    let (status, cursor, body) = export(&app, "/export/organisations.ndjson?at=2026-01-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        cursor.as_deref(),
        head.as_str(),
        "the snapshot holds the reference import: a mirror follows the feed from there"
    );
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as i64, total);
    let rennes = lines
        .iter()
        .find(|o| o["inseeCode"] == "35238" && o["kind"] == "COMMUNE")
        .unwrap();
    assert_eq!(rennes["name"], "Rennes");
    let id = app
        .query("{ organisation(inseeCode: \"35238\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    assert_eq!(rennes["id"], id);

    // Memberships in CSV: a header, then one line per membership valid that day.
    let (status, _, body) = export(&app, "/export/memberships.csv?at=2025-01-01").await;
    assert_eq!(status, StatusCode::OK);
    let at = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let expected = membership::Entity::find()
        .filter(api::domain::valid_at(
            membership::Column::ValidFrom,
            membership::Column::ValidTo,
            at,
        ))
        .count(&app.db)
        .await
        .unwrap();
    let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some(
            "member,memberInseeCode,memberSiren,group,groupInseeCode,groupSiren,kind,validFrom,validTo"
        )
    );
    let lines: Vec<&str> = lines.collect();
    assert_eq!(lines.len() as u64, expected);
    // Both ends carry their official codes: Rennes in Rennes Métropole.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",35238,213502388,") && l.contains(",243500139,MEMBER,")),
        "{:?}",
        &lines[..3]
    );

    // RFC 4180: a label with commas is quoted.
    let (_, _, body) = export(&app, "/export/competences.csv").await;
    assert_eq!(body.split("\r\n").filter(|l| !l.is_empty()).count(), 119);
    assert!(
        body.contains("C5010,\"Construction, entretien et fonctionnement"),
        "{}",
        &body[..300]
    );
}

#[tokio::test]
async fn a_mirror_follows_the_feed_from_the_export_cursor() {
    let app = TestApp::new().await;
    let rennes = app
        .query("{ organisation(siren: \"213502388\") { id } }", json!({}))
        .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor = token("e@rennes.fr", Some("213502388"), &["editor"]);
    let add = "mutation($i: DeclareCompetenceInput!) { declareCompetence(input: $i) { assignment { id } userErrors { message } } }";
    let declare = |from: &str| {
        json!({ "i": { "organisationId": rennes, "competence": "C3035", "role": "LEAD",
                        "basis": "LAW", "validFrom": from, "validTo": format!("{}-12-31", &from[..4]) } })
    };
    let (_, first) = app
        .graphql_as(Some(&editor), add, declare(&date(1, 1, 1)))
        .await;
    let first_id = first["data"]["declareCompetence"]["assignment"]["id"].clone();
    let (_, cursor, body) = export(
        &app,
        &format!("/export/assignments.ndjson?at={}", date(1, 6, 1)),
    )
    .await;
    let rows: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], first_id);
    assert_eq!(rows[0]["role"], "LEAD");

    let (_, second) = app
        .graphql_as(Some(&editor), add, declare(&date(2, 1, 1)))
        .await;
    let second_id = second["data"]["declareCompetence"]["assignment"]["id"].clone();
    // The later change follows the cursor (on PostgreSQL once every older transaction of the
    // cluster has ended). The cursor may lag the snapshot, never lead it: what follows may
    // repeat what the export held, never skip what it did not.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let events = loop {
        let feed = app
            .query(
                "query($a: String) { changes(after: $a) { events { entityId operation } } }",
                json!({ "a": cursor }),
            )
            .await;
        let events = feed["changes"]["events"].as_array().unwrap().clone();
        if events.iter().any(|e| e["entityId"] == second_id) || std::time::Instant::now() > deadline
        {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        events.iter().any(|e| e["entityId"] == second_id),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["entityId"] == second_id || e["entityId"] == first_id)
    );
    if !app.on_postgres() {
        assert_eq!(events.len(), 1, "SQLite's cursor is exact: {events:#?}");
    }
}

#[tokio::test]
async fn unknown_exports_and_bad_dates_are_refused() {
    let app = TestApp::new().await;
    for (path, status) in [
        ("/export/nope.csv", StatusCode::NOT_FOUND),
        ("/export/organisations.xml", StatusCode::NOT_FOUND),
        ("/export/organisations", StatusCode::NOT_FOUND),
        (
            "/export/organisations.csv?at=2026-13-01",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, _, body) = export(&app, path).await;
        assert_eq!(got, status, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["errors"][0]["extensions"]["code"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn resources_and_agreements_export_what_the_reader_may_see() {
    use crate::resources::{METRO, RENNES, id_of, published};
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    for (name, visibility) in [
        ("Nacelle, 12 m", "PUBLIC"),
        ("Fichier \"agents\"", "RESTRICTED"),
    ] {
        published(
            &app,
            &editor,
            json!({ "ownerId": metro, "kind": "EQUIPMENT", "name": name, "capacity": 1,
                    "unit": "u", "costModel": "FREE", "bookingPolicy": "APPROVAL",
                    "visibility": visibility }),
        )
        .await;
    }
    let count = |tok: Option<String>| {
        let app = &app;
        async move {
            app.graphql_as(tok.as_deref(), "{ resources { totalCount } }", json!({}))
                .await
                .1["data"]["resources"]["totalCount"]
                .as_u64()
                .unwrap()
        }
    };
    let (status, _, body) = export(&app, "/export/resources.ndjson").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.lines().count() as u64, count(None).await);
    assert_eq!(body.lines().count(), 1);
    let row: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(row["name"], "Nacelle, 12 m");
    assert_eq!(row["owner"], metro);
    let (_, _, csv) = export_as(&app, Some(&editor), "/export/resources.csv").await;
    assert_eq!(
        csv.lines().count() as u64 - 1,
        count(Some(editor.clone())).await
    );
    assert!(csv.contains("\"Nacelle, 12 m\""), "RFC 4180 quoting: {csv}");
    assert!(csv.contains("\"Fichier \"\"agents\"\"\""), "{csv}");

    // A draft is exported to its parties only, with its parties and roles.
    let r = app
        .graphql_as(
            Some(&editor),
            "mutation($i: DraftAgreementInput!) { draftAgreement(input: $i) { agreement { id } } }",
            json!({ "i": { "draftingPartyId": metro, "kind": "ENTENTE", "title": "Entente",
                "parties": [ { "organisationId": metro, "role": "PROVIDER" },
                             { "organisationId": rennes, "role": "BENEFICIARY" } ] } }),
        )
        .await
        .1;
    let id = r["data"]["draftAgreement"]["agreement"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, public) = export(&app, "/export/agreements.ndjson").await;
    assert_eq!(public, "");
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let (_, _, mine) = export_as(&app, Some(&rennes_editor), "/export/agreements.csv").await;
    let lines: Vec<&str> = mine.lines().collect();
    assert_eq!(lines.len(), 2, "{mine}");
    assert!(lines[0].starts_with("id,kind,title"));
    assert!(lines[1].starts_with(&id));
    assert!(lines[1].contains(&format!("{metro}:PROVIDER")), "{mine}");
    assert!(
        lines[1].contains(&format!("{rennes}:BENEFICIARY")),
        "{mine}"
    );
    assert!(
        lines[1].ends_with(",false,,"),
        "empty lists are empty cells: {mine}"
    );
}
