//! The HTTP surface: health, readiness, GraphiQL.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::common::TestApp;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn every_graphql_response_names_its_request() {
    let app = TestApp::new().await;
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"query":"{ viewer { authenticated } }"}"#))
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!id.is_empty());
}

#[tokio::test]
async fn mutations_are_refused_over_get() {
    let app = TestApp::new().await;
    let (status, body) = app
        .get("/graphql?query=mutation%7BremoveContactPoint(input%3A%7Bid%3A%22x%22%2Cversion%3A1%7D)%7BuserErrors%7Bcode%7D%7D%7D")
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
}

#[tokio::test]
async fn graphiql_for_browsers_and_queries_over_get() {
    let app = TestApp::new().await;
    let request = Request::get("/graphql")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("graphiql"));

    let (status, body) = app
        .get("/graphql?query=%7Borganisation(inseeCode%3A%2235238%22)%7Bname%7D%7D")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Rennes"), "{body}");
}
