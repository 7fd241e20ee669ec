//! The change feed: total order, resumable from any cursor, nothing skipped when writers run
//! concurrently, visibility applied, bad arguments refused.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{TestApp, error_code, token};

const RENNES: &str = "213502388";

const FEED: &str = "query($a: String, $t: [String!], $o: ID) {
  changes(after: $a, first: 100, entityTypes: $t, organisation: $o) {
    endCursor hasNextPage events { cursor entityType entityId operation } } }";

/// Reads the feed from `after` to its current end: (events, cursor to resume from).
async fn drain(
    app: &TestApp,
    tok: Option<&str>,
    after: Option<String>,
) -> (Vec<Value>, Option<String>) {
    let mut cursor = after;
    let mut events = Vec::new();
    loop {
        let (_, r) = app.graphql_as(tok, FEED, json!({ "a": cursor })).await;
        assert!(r.get("errors").is_none(), "{r:#}");
        let page = &r["data"]["changes"];
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        if page["endCursor"].is_string() {
            cursor = page["endCursor"].as_str().map(str::to_owned);
        }
        if page["hasNextPage"] == false {
            return (events, cursor);
        }
    }
}

/// The feed's newest cursor now (the reference import's events come before it).
pub(crate) async fn head(app: &TestApp) -> Option<String> {
    let r = app.query("{ feedCursor }", json!({})).await;
    r["feedCursor"].as_str().map(str::to_owned)
}

/// The feed after `from` once it holds `n` events (on PostgreSQL an event shows once every
/// older transaction of the cluster has ended).
async fn settled(
    app: &TestApp,
    tok: Option<&str>,
    from: Option<String>,
    n: usize,
) -> (Vec<Value>, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (events, end) = drain(app, tok, from.clone()).await;
        if events.len() >= n || Instant::now() > deadline {
            return (events, end);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const ADD: &str = "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) {
    contactPoint { id } userErrors { message } } }";

#[tokio::test]
async fn concurrent_writers_are_read_exactly_once_from_any_cursor() {
    let app = TestApp::new().await;
    let rennes = app
        .query("{ organisation(siren: \"213502388\") { id } }", json!({}))
        .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    // A State service mirrors, with the budget of one: an anonymous poller this busy would
    // be rate-limited, as it should.
    let mirror = token("miroir@dgcl.gouv.fr", None, &["state"]);
    let (writers, each) = (8, 200);
    let done = AtomicBool::new(false);
    let start = head(&app).await;
    assert!(start.is_some(), "the reference import is in the feed");

    let write = |w: usize| {
        let (app, editor, rennes) = (&app, &editor, &rennes);
        async move {
            let mut ids = Vec::new();
            for i in 0..each {
                let (_, r) = app
                    .graphql_as(
                        Some(editor),
                        ADD,
                        json!({ "i": { "organisationId": rennes, "kind": "PHONE",
                                       "value": format!("+33 2 99 {w:02} {:02} {:02}", i / 100, i % 100) } }),
                    )
                    .await;
                ids.push(
                    r["data"]["addContactPoint"]["contactPoint"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            ids
        }
    };
    // A reader follows the feed while the writers run.
    let read = async {
        let mut deadline = None;
        let mut seen = Vec::new();
        let mut cursor = start.clone();
        loop {
            let finished = done.load(Ordering::SeqCst);
            let (events, next) = drain(&app, Some(&mirror), cursor.clone()).await;
            seen.extend(events);
            cursor = next;
            // On PostgreSQL an event shows once every older transaction of the cluster has
            // ended (other tests create databases beside this one): ask again until all are
            // in, or give up after 30 s.
            if finished {
                let deadline =
                    *deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
                if seen.len() >= writers * each || Instant::now() > deadline {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::task::yield_now().await;
        }
    };
    let writes = async {
        let ids = futures_util::future::join_all((0..writers).map(write)).await;
        done.store(true, Ordering::SeqCst);
        ids
    };
    let (created, seen) = tokio::join!(writes, read);
    let created: HashSet<String> = created.into_iter().flatten().collect();
    assert_eq!(created.len(), writers * each);

    let seen_ids: Vec<String> = seen
        .iter()
        .filter(|e| e["entityType"] == "ContactPoint")
        .map(|e| e["entityId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        seen_ids.len(),
        writers * each,
        "every event once, none twice"
    );
    assert_eq!(seen_ids.iter().cloned().collect::<HashSet<_>>(), created);

    // Resuming from any cursor yields exactly what follows it.
    let (all, _) = drain(&app, Some(&mirror), start.clone()).await;
    assert_eq!(
        all, seen,
        "a live reader and a late one read the same sequence"
    );
    for k in (0..20).map(|i| (i * 7919 + 13) % all.len()) {
        let cursor = all[k]["cursor"].as_str().unwrap().to_owned();
        let (rest, _) = drain(&app, Some(&mirror), Some(cursor)).await;
        assert_eq!(rest, all[k + 1..].to_vec(), "resumed after event {k}");
    }
}

#[tokio::test]
async fn the_feed_filters_hides_what_the_caller_may_not_see_and_refuses_bad_arguments() {
    let app = TestApp::new().await;
    let rennes = app
        .query("{ organisation(siren: \"213502388\") { id } }", json!({}))
        .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let start = head(&app).await;
    for (value, visibility) in [
        ("accueil@rennes.fr", "PUBLIC"),
        ("dgs@rennes.fr", "RESTRICTED"),
    ] {
        let (_, r) = app
            .graphql_as(
                Some(&editor),
                ADD,
                json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": value, "visibility": visibility } }),
            )
            .await;
        assert!(
            r["data"]["addContactPoint"]["contactPoint"]["id"].is_string(),
            "{r:#}"
        );
    }
    let state = token("dgcl@i.fr", None, &["state"]);
    let (all, end) = settled(&app, Some(&state), start.clone(), 2).await;
    assert_eq!(all.len(), 2);
    let (public, _) = drain(&app, None, start.clone()).await;
    assert_eq!(public.len(), 1, "{public:#?}");
    assert_eq!(all[0]["operation"], "CREATED");
    // Nothing new: the same cursor comes back, with nothing after it.
    let (none, same) = drain(&app, Some(&state), end.clone()).await;
    assert!(none.is_empty());
    assert_eq!(same, end);

    // Filters.
    let (_, r) = app
        .graphql_as(
            Some(&state),
            FEED,
            json!({ "a": start, "t": ["Organisation"] }),
        )
        .await;
    assert!(
        r["data"]["changes"]["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, r) = app
        .graphql_as(Some(&state), FEED, json!({ "a": start, "o": rennes }))
        .await;
    assert_eq!(r["data"]["changes"]["events"].as_array().unwrap().len(), 2);

    for (vars, argument) in [
        (json!({ "a": "not-a-cursor" }), "after"),
        (json!({ "t": ["Commune"] }), "entityTypes"),
        (json!({ "o": "nope" }), "organisation"),
    ] {
        let (_, r) = app.graphql_as(None, FEED, vars.clone()).await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{vars}");
        assert_eq!(r["errors"][0]["extensions"]["argument"], argument, "{r:#}");
    }
}

mod live {
    use std::time::Duration;

    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

    use super::{ADD, RENNES, settled};
    use crate::common::{TestApp, post_graphql, token};

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn subscribe(addr: std::net::SocketAddr, after: Option<&str>) -> Socket {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let mut ws = tokio_tungstenite::connect_async(request).await.unwrap().0;
        let send = |v: Value| Message::Text(v.to_string().into());
        ws.send(send(json!({ "type": "connection_init", "payload": {} })))
            .await
            .unwrap();
        assert_eq!(next(&mut ws, 5).await.unwrap()["type"], "connection_ack");
        ws.send(send(json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription($a: String) { changes(after: $a, entityTypes: [\"ContactPoint\"]) { cursor entityId operation } }",
            "variables": { "a": after } } })))
            .await
            .unwrap();
        ws
    }

    async fn next(ws: &mut Socket, secs: u64) -> Option<Value> {
        let msg = tokio::time::timeout(Duration::from_secs(secs), ws.next())
            .await
            .ok()?;
        match msg {
            Some(Ok(Message::Text(t))) => Some(serde_json::from_str(&t).unwrap()),
            _ => None,
        }
    }

    /// The next event delivered, within `secs`.
    async fn event(ws: &mut Socket, secs: u64) -> Value {
        let m = next(ws, secs).await.expect("an event in time");
        assert_eq!(m["type"], "next", "{m:#}");
        m["payload"]["data"]["changes"].clone()
    }

    async fn add(router: &axum::Router, rennes: &str, value: &str) -> String {
        let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
        let v = post_graphql(
            router,
            Some(&editor),
            ADD,
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": value } }),
        )
        .await;
        v["data"]["addContactPoint"]["contactPoint"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn rennes(app: &TestApp) -> String {
        app.query("{ organisation(siren: \"213502388\") { id } }", json!({}))
            .await["organisation"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn a_subscriber_resumes_from_its_cursor_and_misses_nothing() {
        let app = TestApp::new().await;
        let rennes = rennes(&app).await;
        let addr = app.spawn_server().await;
        // Subscribe from a known position: "from now" would race with the first change.
        let before = super::head(&app).await;
        add(&app.router, &rennes, "zero@rennes.fr").await;
        let (_, start) = settled(&app, None, before, 1).await;
        let mut ws = subscribe(addr, start.as_deref()).await;
        let first = add(&app.router, &rennes, "a@rennes.fr").await;
        let got = event(&mut ws, 30).await;
        assert_eq!(got["entityId"], first.as_str());
        assert_eq!(got["operation"], "CREATED");
        let cursor = got["cursor"].as_str().unwrap().to_owned();
        drop(ws);

        // Changes made while disconnected arrive, in order, after reconnecting.
        let mut missed = Vec::new();
        for i in 0..3 {
            missed.push(add(&app.router, &rennes, &format!("b{i}@rennes.fr")).await);
        }
        let mut ws = subscribe(addr, Some(&cursor)).await;
        for id in &missed {
            assert_eq!(event(&mut ws, 30).await["entityId"], id.as_str());
        }
        let live = add(&app.router, &rennes, "c@rennes.fr").await;
        assert_eq!(event(&mut ws, 30).await["entityId"], live.as_str());
    }

    #[tokio::test]
    async fn a_change_made_on_another_instance_reaches_the_subscriber() {
        let app = TestApp::new().await;
        let rennes = rennes(&app).await;
        let other = app.second_instance().await;
        let addr = app.spawn_server().await;
        let before = super::head(&app).await;
        add(&app.router, &rennes, "zero@rennes.fr").await;
        let (_, start) = settled(&app, None, before, 1).await;
        let mut ws = subscribe(addr, start.as_deref()).await;
        // On PostgreSQL, the write's commit notifies every listener on the database.
        let mut listener = if app.on_postgres() {
            let pool = app.db.get_postgres_connection_pool();
            let mut l = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
                .await
                .unwrap();
            l.listen("maillage_changes").await.unwrap();
            Some(l)
        } else {
            None
        };
        let id = add(&other, &rennes, "x@rennes.fr").await;
        if let Some(l) = listener.as_mut() {
            let heard = tokio::time::timeout(Duration::from_secs(2), l.recv()).await;
            assert!(matches!(heard, Ok(Ok(_))), "NOTIFY at commit: {heard:?}");
        }
        let got = event(&mut ws, 30).await;
        assert_eq!(got["entityId"], id.as_str());
    }
}
