//! Bulk exports: whole datasets from one snapshot, counts equal to the API's, RFC 4180 CSV,
//! NDJSON with the GraphQL field names, and the feed cursor to follow on from.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use entity::membership;
use http_body_util::BodyExt;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestApp, token};

/// Status, `x-feed-cursor` and body of an export.
async fn export(app: &TestApp, path: &str) -> (StatusCode, Option<String>, String) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
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
    let (status, cursor, body) = export(&app, "/export/organisations.ndjson?at=2026-01-01").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        cursor.is_none(),
        "no change yet: a mirror follows the feed from its start"
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
    assert_eq!(lines.next(), Some("member,group,kind,validFrom,validTo"));
    assert_eq!(lines.count() as u64, expected);

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
        .graphql_as(Some(&editor), add, declare("2027-01-01"))
        .await;
    let first_id = first["data"]["declareCompetence"]["assignment"]["id"].clone();
    let (_, cursor, body) = export(&app, "/export/assignments.ndjson?at=2027-06-01").await;
    let rows: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], first_id);
    assert_eq!(rows[0]["role"], "LEAD");

    let (_, second) = app
        .graphql_as(Some(&editor), add, declare("2028-01-01"))
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
