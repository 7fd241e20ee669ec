//! HTTP caching of public reads over GET: an entity tag every write changes at once on every
//! instance, `304 Not Modified` while it holds, and nothing that depends on a token cacheable.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::json;

use crate::common::{TestApp, token, urlencode};

const RENNES: &str = "213502388";

fn read_path() -> String {
    format!(
        "/graphql?query={}",
        urlencode("{ organisation(siren: \"213502388\") { name contactPoints { value } } }")
    )
}

async fn get(
    router: &axum::Router,
    path: &str,
    headers: &[(header::HeaderName, String)],
) -> (StatusCode, HeaderMap, String) {
    use tower::ServiceExt;
    let mut request = Request::get(path).header(header::ACCEPT, "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn etag(headers: &HeaderMap) -> String {
    headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

#[tokio::test]
async fn public_reads_revalidate_with_an_etag_every_write_changes_on_every_instance() {
    let app = TestApp::new().await;
    let path = read_path();
    // A request is tagged once it has been answered without error (what fails or is refused
    // never costs a database read): the first answer has no tag and is not kept by a cache.
    let (status, headers, _) = get(&app.router, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::ETAG).is_none());
    assert_eq!(headers[header::CACHE_CONTROL], "public, no-cache");
    let (status, headers, body_first) = get(&app.router, &path, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body_first}");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=0, must-revalidate"
    );
    assert!(
        headers[header::VARY]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    let first = etag(&headers);
    // nginx keeps it, already expired: it revalidates on every request (docs/operations.md).
    assert_eq!(headers["x-accel-expires"], "@1");
    // A shared answer tells nobody what the first caller's request cost or has left.
    assert!(!body_first.contains("\"extensions\""), "{body_first}");
    // While it holds, the answer is not sent again (nor computed).
    let (status, headers, body) = get(
        &app.router,
        &path,
        &[(header::IF_NONE_MATCH, first.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(body, "");
    assert_eq!(etag(&headers), first);
    assert!(headers.contains_key("x-request-id"), "{headers:?}");
    // Asked again without a tag, the answer comes from the response cache.
    let (status, _, again) = get(&app.router, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, body_first);
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("maillage_not_modified_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("maillage_response_cache_hits_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("maillage_response_cache_misses_total 1"),
        "{metrics}"
    );
    // Another query has another tag.
    let other = format!(
        "/graphql?query={}",
        urlencode("{ organisation(siren: \"213502388\") { siren } }")
    );
    get(&app.router, &other, &[]).await;
    let (_, headers, _) = get(&app.router, &other, &[]).await;
    assert_ne!(etag(&headers), first);
    // A request that fails is never tagged.
    let failing = format!(
        "/graphql?query={}",
        urlencode("{ organisation(siren: \"12\") { siren } }")
    );
    for _ in 0..2 {
        let (_, headers, _) = get(&app.router, &failing, &[]).await;
        assert!(headers.get(header::ETAG).is_none());
    }

    // An answer to a token is the caller's only.
    let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let bearer = (header::AUTHORIZATION, format!("Bearer {editor}"));
    let (status, headers, _) = get(
        &app.router,
        &path,
        &[bearer.clone(), (header::IF_NONE_MATCH, first.clone())],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a token's answer is never a 304 of the public one"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    assert!(headers.get(header::ETAG).is_none());
    assert!(headers.get("x-accel-expires").is_none());

    // A write through any instance changes the tag at once, on every instance.
    let rennes = app
        .query("{ organisation(siren: \"213502388\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    let (_, r) = app
        .graphql_as(
            Some(&editor),
            "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { contactPoint { id } userErrors { message } } }",
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": "accueil-cache@rennes.fr" } }),
        )
        .await;
    assert!(
        r["data"]["addContactPoint"]["contactPoint"].is_object(),
        "{r}"
    );
    let second = app.second_instance().await;
    // The second instance learns the request is public from its own first answer.
    get(&second, &path, &[]).await;
    for router in [&app.router, &second] {
        let (status, headers, body) =
            get(router, &path, &[(header::IF_NONE_MATCH, first.clone())]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("accueil-cache@rennes.fr"), "{body}");
        assert_ne!(etag(&headers), first);
    }
    let (_, headers, _) = get(&app.router, &path, &[]).await;
    let now = etag(&headers);
    let (status, _, _) = get(&second, &path, &[(header::IF_NONE_MATCH, now.clone())]).await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "both instances tag the same data alike"
    );
    // Answers depend on the day too (`at` defaults to today).
    app.clock.advance(chrono::Duration::days(1));
    let (status, _, _) = get(&app.router, &path, &[(header::IF_NONE_MATCH, now)]).await;
    assert_eq!(status, StatusCode::OK);
}
