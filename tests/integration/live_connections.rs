//! Live connections: a subscriber that stops reading is closed with a close code and resumes
//! from its cursor; shutdown closes subscriptions with a close frame; GraphQL over SSE.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use tower::ServiceExt;

use crate::common::{TestApp, auth_config, token};

type Ws = WebSocketStream<tokio::net::TcpStream>;

/// A graphql-transport-ws connection, acknowledged; with a small receive buffer when asked,
/// so that a client that does not read is felt by the server soon.
async fn connect(addr: SocketAddr, receive_buffer: Option<u32>) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await;
    match ws.next().await {
        Some(Ok(Message::Text(t))) => {
            assert_eq!(
                serde_json::from_str::<Value>(&t).unwrap()["type"],
                "connection_ack"
            )
        }
        other => panic!("no ack: {other:?}"),
    }
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

async fn subscribe(ws: &mut Ws, query: &str, after: &str) {
    send(
        ws,
        json!({ "type": "subscribe", "id": "1",
                "payload": { "query": query, "variables": { "a": after } } }),
    )
    .await;
}

/// What arrives within `secs`: the events delivered, then the close frame if one came.
async fn read_until_closed(ws: &mut Ws, secs: u64) -> (Vec<Value>, Option<CloseFrame>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let m: Value = serde_json::from_str(&t).unwrap();
                assert_eq!(m["type"], "next", "{m:#}");
                events.push(m["payload"]["data"]["changes"].clone());
            }
            Ok(Some(Ok(Message::Close(frame)))) => return (events, frame),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => return (events, None),
        }
    }
}

/// The cursor of the feed's first event (the reference import's events follow it).
async fn first_cursor(app: &TestApp) -> String {
    let r = app
        .query("{ changes(first: 1) { events { cursor } } }", json!({}))
        .await;
    r["changes"]["events"][0]["cursor"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_and_resumes_from_its_cursor() {
    let app = TestApp::with_limits(api::config::Limits {
        subscriber_stall_secs: 1,
        ..api::config::Limits::default()
    })
    .await;
    let addr = app.spawn_server().await;
    let start = first_cursor(&app).await;
    // Tens of thousands of events wait behind the first one: the national import.
    let mut ws = connect(addr, Some(4096)).await;
    subscribe(
        &mut ws,
        "subscription($a: String) { changes(after: $a) { cursor entityId
           node { ... on Organisation { name kind inseeCode population } } } }",
        &start,
    )
    .await;
    // Do not read until the server has given up on this client.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, metrics) = app.get("/metrics").await;
        if metrics.contains("maillage_slow_subscribers_closed_total 1") {
            break;
        }
        assert!(Instant::now() < deadline, "never closed:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (events, close) = read_until_closed(&mut ws, 30).await;
    let close = close.expect("a close frame after what was already sent");
    assert_eq!(u16::from(close.code), 1013, "{close:?}");
    assert!(close.reason.contains("cursor"), "{close:?}");
    assert!(!events.is_empty());
    let total: u64 = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::change_event::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    assert!(
        (events.len() as u64) < total - 1,
        "closed before the end: {} of {total}",
        events.len()
    );

    // Resuming from the last cursor received yields exactly the next event.
    let last = events.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = app
        .query(
            "query($a: String) { changes(after: $a, first: 2) { events { entityId } } }",
            json!({ "a": last }),
        )
        .await["changes"]["events"]
        .clone();
    let mut ws = connect(addr, None).await;
    subscribe(
        &mut ws,
        "subscription($a: String) { changes(after: $a) { cursor entityId } }",
        &last,
    )
    .await;
    for want in expected.as_array().unwrap() {
        let m = match ws.next().await {
            Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(&t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            m["payload"]["data"]["changes"]["entityId"],
            want["entityId"]
        );
    }
}

#[tokio::test]
async fn shutdown_lets_requests_finish_and_closes_subscriptions_with_a_close_frame() {
    let app = TestApp::new().await;
    let state = api::AppState::load(
        app.db.clone(),
        api::config::Limits::default(),
        api::auth::Authenticator::new(&auth_config()).unwrap(),
    )
    .await
    .unwrap()
    .with_clock(app.clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let mut ws = connect(addr, None).await;
    let start = first_cursor(&app).await;
    // From the newest event: nothing to send until something changes.
    let head = app.query("{ feedCursor }", json!({})).await["feedCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(start, head);
    subscribe(
        &mut ws,
        "subscription($a: String) { changes(after: $a) { cursor } }",
        &head,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A request in flight when shutdown begins: a whole national export, streamed.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<axum::body::Bytes>>();
    let export = client
        .get(
            format!("http://{addr}/export/organisations.ndjson")
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    stop.send(()).unwrap();
    let body = export.into_body().collect().await.unwrap().to_bytes();
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        lines.len() > 35_000,
        "the export finished: {} lines",
        lines.len()
    );
    let last: Value = serde_json::from_slice(lines.last().unwrap()).unwrap();
    assert!(last["id"].is_string());
    let (events, close) = read_until_closed(&mut ws, 10).await;
    assert!(events.is_empty());
    let close = close.expect("a close frame at shutdown");
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops once its connections are closed")
        .unwrap()
        .unwrap();
}

/// Sends a GraphQL request asking for an event stream; the response and its body.
async fn sse(
    app: &TestApp,
    tok: Option<&str>,
    query: &str,
    variables: Value,
) -> axum::response::Response {
    let mut request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream");
    if let Some(t) = tok {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    app.router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap()
}

/// Reads the event stream until `events` events of type `next` or `complete` arrived.
async fn events_of(body: &mut Body, events: usize) -> Vec<(String, String)> {
    let mut text = String::new();
    let mut out = Vec::new();
    while out.len() < events {
        let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        text.push_str(std::str::from_utf8(&data).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim_start().to_owned())
            };
            if let Some(kind) = field("event:") {
                out.push((kind, field("data:").unwrap_or_default()));
            }
        }
    }
    out
}

#[tokio::test]
async fn graphql_over_server_sent_events() {
    let app = TestApp::new().await;
    // A query: one result, then complete.
    let response = sse(
        &app,
        None,
        "{ organisation(inseeCode: \"35238\") { name } }",
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body();
    let events = events_of(&mut body, 2).await;
    assert_eq!(events[0].0, "next");
    let result: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(result["data"]["organisation"]["name"], "Rennes");
    assert_eq!(events[1].0, "complete");

    // A subscription: the change made after it started arrives.
    let head = app.query("{ feedCursor }", json!({})).await["feedCursor"].clone();
    let response = sse(
        &app,
        None,
        "subscription($a: String) { changes(after: $a) { entityType operation node { id } } }",
        json!({ "a": head }),
    )
    .await;
    let mut body = response.into_body();
    let rennes = app
        .query("{ organisation(siren: \"213502388\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    let editor = token("e@rennes.fr", Some("213502388"), &["editor"]);
    let (_, r) = app
        .graphql_as(
            Some(&editor),
            "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { contactPoint { id } } }",
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": "sse@rennes.fr" } }),
        )
        .await;
    let created = r["data"]["addContactPoint"]["contactPoint"]["id"].clone();
    assert!(created.is_string(), "{r:#}");
    let events = events_of(&mut body, 1).await;
    assert_eq!(events[0].0, "next");
    let change: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(change["data"]["changes"]["entityType"], "ContactPoint");
    assert_eq!(change["data"]["changes"]["node"]["id"], created);

    // Bad input is an error result, then complete.
    let response = sse(
        &app,
        None,
        "subscription { changes(entityTypes: [\"Commune\"]) { cursor } }",
        json!({}),
    )
    .await;
    let mut body = response.into_body();
    let events = events_of(&mut body, 2).await;
    let result: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(
        result["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{result:#}"
    );
    assert_eq!(events[1].0, "complete");
}

#[tokio::test]
async fn websocket_errors_carry_a_code_and_the_request_id() {
    let app = TestApp::new().await;
    let addr = app.spawn_server().await;
    let mut ws = connect(addr, None).await;
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription { changes(entityTypes: [\"Commune\"]) { cursor } }" } }),
    )
    .await;
    let message = match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).unwrap(),
        other => panic!("{other:?}"),
    };
    // A resolver's refusal comes as a result with errors, a request error as `error`.
    let errors = match message["type"].as_str() {
        Some("next") => message["payload"]["errors"].clone(),
        Some("error") => message["payload"].clone(),
        _ => panic!("{message:#}"),
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "BAD_USER_INPUT",
        "{message:#}"
    );
    assert!(
        errors[0]["extensions"]["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{message:#}"
    );
}
