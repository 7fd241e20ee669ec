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
    let (status, headers, body) = app.exchange(request).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&body);
    assert!(page.contains("GraphiQL"), "{page}");
    // The page may reach only its own server: no CDN, no other origin.
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"));
    assert!(!page.contains("//"), "an absolute URL in the page: {page}");

    let (status, body) = app
        .get("/graphql?query=%7Borganisation(inseeCode%3A%2235238%22)%7Bname%7D%7D")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Rennes"), "{body}");
}

#[tokio::test]
async fn metrics_count_requests_by_operation_outcome_and_cost() {
    let app = crate::common::TestApp::with_limits(api::config::Limits {
        cost_budget_anonymous: 4,
        ..api::config::Limits::default()
    })
    .await;
    let q = "query Lookup { organisation(inseeCode: \"35238\") { name } }";
    for expected in [200, 200, 429] {
        let (status, _) = app.graphql_as(None, q, serde_json::json!({})).await;
        assert_eq!(status.as_u16(), expected);
    }
    let (status, text) = app.get("/metrics").await;
    assert_eq!(status.as_u16(), 200);
    for line in [
        "maillage_graphql_requests_total{operation=\"Lookup\",outcome=\"ok\"} 2",
        "maillage_graphql_requests_total{operation=\"Lookup\",outcome=\"RATE_LIMITED\"} 1",
        "maillage_rate_limited_total 1",
        // Only what was charged: the refused request never ran.
        "maillage_graphql_request_cost_count 2",
        "maillage_graphql_request_cost_sum 4.0",
        "maillage_graphql_request_duration_seconds_count{operation=\"Lookup\"} 3",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains("maillage_db_pool_connections "), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn readiness_turns_false_once_shutdown_begins() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let state = api::AppState::load(
        app.db.clone(),
        api::config::Limits::default(),
        api::auth::Authenticator::new(&crate::common::auth_config()).unwrap(),
    )
    .await
    .unwrap()
    .with_clock(app.clock.clone());
    let router = api::app(state.clone());
    let readyz = || async {
        router
            .clone()
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
    };
    assert_eq!(readyz().await, StatusCode::OK);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    stop.send(()).unwrap();
    // The server drains and stops; from the moment shutdown begins, readiness is false.
    server.await.unwrap().unwrap();
    assert_eq!(readyz().await, StatusCode::SERVICE_UNAVAILABLE);
}

/// The page's assets, from the page's own references: each is served from the binary,
/// gzipped to browsers and plain to clients that do not take gzip, cached as immutable.
#[tokio::test]
async fn graphiql_assets_are_served_from_the_binary() {
    use std::io::Read;
    let app = TestApp::new().await;
    let (_, page) = app.get("/graphql").await;
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("graphiql/"))
        .collect();
    assert_eq!(assets.len(), 5, "{page}");
    for asset in assets {
        let path = format!("/{asset}");
        let request = Request::get(&path)
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .body(Body::empty())
            .unwrap();
        let (status, headers, zipped) = app.exchange(request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let (_, plain_headers, plain) = app
            .exchange(Request::get(&path).body(Body::empty()).unwrap())
            .await;
        assert!(
            plain_headers.get(header::CONTENT_ENCODING).is_none(),
            "{path}"
        );
        let unzipped = match headers.get(header::CONTENT_ENCODING) {
            Some(coding) => {
                assert_eq!(coding, "gzip");
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&zipped[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            None => zipped,
        };
        assert_eq!(unzipped, plain, "{path}");
        assert!(plain.len() > 1_000, "{path}: {} bytes", plain.len());
        let kind = headers[header::CONTENT_TYPE].to_str().unwrap();
        let expected = if path.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(kind.starts_with(expected), "{path}: {kind}");
    }
    // Another version (a page cached from an older binary) is not served stale bytes.
    let (status, _) = app.get("/graphiql/0.0.0/graphiql.min.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/graphiql/x/../../etc/passwd").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
