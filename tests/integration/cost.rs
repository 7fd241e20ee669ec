//! Cost accounting and rate limiting by cost: what each response says it cost, connections
//! weighted by their page size, budgets per actor, and HTTP 429 with when to retry.

use api::config::Limits;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, token};

const ONE: &str = "{ organisation(inseeCode: \"35238\") { name } }";

fn cost(response: &Value) -> &Value {
    &response["extensions"]["cost"]
}

#[tokio::test]
async fn every_response_says_what_it_cost_and_pages_weigh_by_their_size() {
    let app = TestApp::new().await;
    let (status, r) = app.graphql_as(None, ONE, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["data"]["organisation"]["name"], "Rennes");
    assert_eq!(cost(&r)["requested"], 2, "{r:#}");
    assert_eq!(cost(&r)["actual"], 2);
    assert_eq!(
        cost(&r)["remaining"],
        Limits::default().cost_budget_anonymous - 2
    );
    assert!(cost(&r)["resetAt"].as_str().unwrap().ends_with('Z'));

    let page = |first: i32| {
        let app = &app;
        async move {
            app.graphql(
                "query($f: Int) { organisations(first: $f) { nodes { name } } }",
                json!({ "f": first }),
            )
            .await
        }
    };
    let (ten, fifty) = (page(10).await, page(50).await);
    let (ten, fifty) = (
        cost(&ten)["requested"].as_u64().unwrap(),
        cost(&fifty)["requested"].as_u64().unwrap(),
    );
    assert!(
        fifty >= 5 * (ten - 1),
        "a page of 50 costs five pages of 10: {ten}, {fifty}"
    );
    // What was resolved: the list field, and `nodes` and `name` for each of 50.
    let r = page(50).await;
    assert_eq!(cost(&r)["actual"], 1 + 1 + 50);
}

#[tokio::test]
async fn over_budget_is_429_with_when_to_retry_and_nothing_runs() {
    let app = TestApp::with_limits(Limits {
        cost_budget_anonymous: 10,
        cost_budget_member: 4,
        ..Limits::default()
    })
    .await;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let (status, r) = app.graphql_as(None, ONE, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{r:#}");
        remaining.push(cost(&r)["remaining"].as_u64().unwrap());
    }
    assert_eq!(remaining, [8, 6, 4, 2, 0]);
    let (status, r) = app.graphql_as(None, ONE, json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{r:#}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    let retry = r["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap();
    assert!((1..=60).contains(&retry), "retry after {retry} s");
    assert!(
        r.get("data").is_none_or(Value::is_null),
        "nothing ran: {r:#}"
    );

    // Another actor has a budget of its own; an operation over a whole budget never runs.
    let tok = token("app@partner.fr", Some("213502388"), &["partner"]);
    let (status, r) = app.graphql_as(Some(&tok), ONE, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{r:#}");
    let (status, r) = app
        .graphql_as(
            Some(&tok),
            "{ organisations(first: 5) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{r:#}");
    assert!(r["errors"][0]["extensions"].get("retryAfter").is_none());
}

/// Lists without a page are charged for what they can return, not once: a hundred ids, a
/// commune's whole competence profile, an organisation's resources and contact points.
#[tokio::test]
async fn every_list_is_charged_for_what_it_can_return() {
    let app = TestApp::new().await;
    let requested = |r: &Value| cost(r)["requested"].as_u64().unwrap();
    let rennes = app
        .query("{ organisation(inseeCode: \"35238\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    let ids: Vec<Value> = (0..100).map(|_| rennes.clone()).collect();
    let r = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert!(requested(&r) >= 100, "{r:#}");
    let r = app
        .graphql(
            "{ territoryProfile(inseeCode: \"35238\") { competence { code label } } }",
            json!({}),
        )
        .await;
    let items = r["data"]["territoryProfile"].as_array().unwrap().len() as u64;
    assert!(requested(&r) >= items * 3, "{items} items: {r:#}");
    for field in ["resources { id name }", "contactPoints { value label }"] {
        let one = app
            .graphql(
                &format!("{{ organisation(inseeCode: \"35238\") {{ {field} }} }}"),
                json!({}),
            )
            .await;
        assert!(requested(&one) >= 10 * 2, "{field}: {one:#}");
    }
    // What was charged is never less than what was resolved.
    assert!(
        requested(&r) >= cost(&r)["actual"].as_u64().unwrap(),
        "{r:#}"
    );
}
