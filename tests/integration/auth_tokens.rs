//! Forged and malformed tokens never get in: each is refused with HTTP 401 and
//! `UNAUTHENTICATED`, never silently treated as anonymous.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};

use crate::common::{SECRET, TestApp, token};

fn now() -> u64 {
    get_current_timestamp()
}

fn claims() -> Value {
    json!({ "sub": "agent@rennes.fr", "iss": "maillage", "aud": "maillage-api",
            "exp": now() + 600, "org": "213502388", "roles": ["editor"] })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

fn hs(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn signed(claims: &Value) -> String {
    hs(Algorithm::HS256, SECRET.as_bytes(), claims)
}

/// A token with a hand-written header, signed with the right secret.
fn raw_header(header: Value, claims: &Value) -> String {
    use jsonwebtoken::crypto::sign;
    let h = B64.encode(header.to_string());
    let p = B64.encode(claims.to_string());
    let message = format!("{h}.{p}");
    let sig = sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{sig}")
}

fn unsigned(alg: &str, claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(json!({ "alg": alg, "typ": "JWT" }).to_string()),
        B64.encode(claims.to_string())
    )
}

fn tamper_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(claims.to_string()),
        parts[2]
    )
}

/// The forged-token corpus, shared with the WebSocket tests.
pub fn corpus() -> Vec<(&'static str, String)> {
    let c = claims();
    let valid = signed(&c);
    let parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let hs_header = json!({ "alg": "HS256", "typ": "JWT" });
    let with_header = |k: &str, v: Value| {
        let mut h = hs_header.clone();
        h[k] = v;
        raw_header(h, &c)
    };
    vec![
        ("alg none", unsigned("none", &c)),
        ("alg None", unsigned("None", &c)),
        ("alg NONE", unsigned("NONE", &c)),
        ("alg nOnE", unsigned("nOnE", &c)),
        (
            "alg none with a signature",
            format!(
                "{}.{}",
                &unsigned("none", &c)[..unsigned("none", &c).len() - 1],
                parts[2]
            ),
        ),
        (
            "wrong secret",
            hs(
                Algorithm::HS256,
                b"another-secret-that-is-also-32-bytes-long!",
                &c,
            ),
        ),
        (
            "secret prefix",
            hs(Algorithm::HS256, &SECRET.as_bytes()[..31], &c),
        ),
        (
            "HS384 with the secret",
            hs(Algorithm::HS384, SECRET.as_bytes(), &c),
        ),
        (
            "HS512 with the secret",
            hs(Algorithm::HS512, SECRET.as_bytes(), &c),
        ),
        (
            "RS256 header, HMAC signature (confusion)",
            with_header("alg", json!("RS256")),
        ),
        (
            "ES256 header, HMAC signature (confusion)",
            with_header("alg", json!("ES256")),
        ),
        ("missing exp", signed(&without(c.clone(), "exp"))),
        (
            "expired exp",
            signed(&with(c.clone(), "exp", json!(now() - 3600))),
        ),
        (
            "expired beyond the leeway",
            signed(&with(c.clone(), "exp", json!(now() - 90))),
        ),
        (
            "exp as a string",
            signed(&with(c.clone(), "exp", json!("tomorrow"))),
        ),
        ("missing iss", signed(&without(c.clone(), "iss"))),
        ("wrong iss", signed(&with(c.clone(), "iss", json!("evil")))),
        (
            "iss with a trailing space",
            signed(&with(c.clone(), "iss", json!("maillage "))),
        ),
        ("missing aud", signed(&without(c.clone(), "aud"))),
        (
            "wrong aud",
            signed(&with(c.clone(), "aud", json!("other-api"))),
        ),
        (
            "aud list without ours",
            signed(&with(c.clone(), "aud", json!(["a", "b"]))),
        ),
        ("missing sub", signed(&without(c.clone(), "sub"))),
        ("empty sub", signed(&with(c.clone(), "sub", json!("")))),
        (
            "future nbf",
            signed(&with(c.clone(), "nbf", json!(now() + 3600))),
        ),
        (
            "tampered roles",
            tamper_payload(&valid, &with(c.clone(), "roles", json!(["superadmin"]))),
        ),
        (
            "tampered organisation",
            tamper_payload(&valid, &with(c.clone(), "org", json!("212900195"))),
        ),
        (
            "tampered header",
            format!(
                "{}.{}.{}",
                B64.encode(json!({"alg":"HS256","typ":"JWT","x":1}).to_string()),
                parts[1],
                parts[2]
            ),
        ),
        ("unknown kid", with_header("kid", json!("prod-2026"))),
        (
            "kid on the development secret",
            with_header("kid", json!("dev")),
        ),
        (
            "jku header",
            with_header("jku", json!("http://127.0.0.1:1/jwks.json")),
        ),
        (
            "x5u header",
            with_header("x5u", json!("http://127.0.0.1:1/cert.pem")),
        ),
        (
            "jwk header",
            with_header("jwk", json!({"kty":"oct","k":B64.encode(b"attacker-key")})),
        ),
        ("x5c header", with_header("x5c", json!(["MIIB"]))),
        ("crit header", with_header("crit", json!(["exp"]))),
        ("garbage", "not-a-token".into()),
        ("three dots of garbage", "a.b.c".into()),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("four segments", format!("{valid}.extra")),
        ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
        (
            "non-base64 characters",
            format!("{}.{}.{}", parts[0], "%%%%", parts[2]),
        ),
        (
            "payload not JSON",
            format!("{}.{}.{}", parts[0], B64.encode("not json"), parts[2]),
        ),
        (
            "header not JSON",
            format!("{}.{}.{}", B64.encode("not json"), parts[1], parts[2]),
        ),
        (
            "100 KB token",
            format!("{}.{}.{}", parts[0], "A".repeat(100 * 1024), parts[2]),
        ),
    ]
}

#[tokio::test]
async fn a_valid_token_authenticates() {
    let app = TestApp::new().await;
    let t = token("agent@rennes.fr", Some("213502388"), &["editor"]);
    let (status, body) = app
        .graphql_as(
            Some(&t),
            "{ viewer { authenticated subject roles organisation { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["viewer"]["authenticated"], true);
    assert_eq!(body["data"]["viewer"]["roles"], json!(["EDITOR"]));
    assert_eq!(body["data"]["viewer"]["organisation"]["name"], "Rennes");
    let (_, anonymous) = app
        .graphql_as(None, "{ viewer { authenticated } }", json!({}))
        .await;
    assert_eq!(anonymous["data"]["viewer"]["authenticated"], false);
}

#[tokio::test]
async fn identity_federation_claims_name_the_organisation() {
    let app = TestApp::new().await;
    // An agent token carrying only a SIRET of the commune of Rennes (SIREN 213502388).
    let claims = without(with(claims(), "siret", json!("21350238800019")), "org");
    let (status, body) = app
        .graphql_as(
            Some(&signed(&claims)),
            "{ viewer { organisation { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["viewer"]["organisation"]["name"], "Rennes");
}

#[tokio::test]
async fn forged_tokens_never_get_in() {
    let app = TestApp::new().await;
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{} cases", corpus.len());
    for (case, forged) in corpus {
        let (status, body) = app
            .graphql_as(Some(&forged), "{ viewer { authenticated } }", json!({}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{case}"
        );
        assert!(body.get("data").is_none(), "{case}: nothing executed");
        assert_eq!(
            body["errors"][0]["message"], "invalid credentials",
            "{case}: no detail"
        );
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_refused() {
    let app = TestApp::new().await;
    let valid = token("agent@rennes.fr", Some("213502388"), &["editor"]);
    for header in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        &valid,
        &format!("Token {valid}"),
    ] {
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", header)
            .body(axum::body::Body::from(
                json!({"query": "{ viewer { authenticated } }"}).to_string(),
            ))
            .unwrap();
        let (status, _) = app.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:.20}");
    }
}

mod websocket {
    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::Message;

    use crate::common::{TestApp, WsClient as Socket, token, ws_connect as connect};

    /// The next message, or `None` when the server closed the connection.
    async fn next(ws: &mut Socket) -> Option<Value> {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("server answers in time");
        match msg {
            Some(Ok(Message::Text(t))) => Some(serde_json::from_str(&t).unwrap()),
            _ => None,
        }
    }

    async fn init(ws: &mut Socket, payload: Value) -> Option<Value> {
        ws.send(Message::Text(
            json!({ "type": "connection_init", "payload": payload })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        next(ws).await
    }

    #[tokio::test]
    async fn connection_init_follows_the_same_rules() {
        let app = TestApp::new().await;
        let addr = app.spawn_server().await;

        let mut ws = connect(addr).await;
        let t = token("agent@rennes.fr", Some("213502388"), &["editor"]);
        let ack = init(&mut ws, json!({ "Authorization": format!("Bearer {t}") })).await;
        assert_eq!(ack.unwrap()["type"], "connection_ack");
        ws.send(Message::Text(
            json!({ "id": "1", "type": "subscribe",
            "payload": { "query": "{ viewer { authenticated subject } }" } })
            .to_string()
            .into(),
        ))
        .await
        .unwrap();
        let data = next(&mut ws).await.unwrap();
        assert_eq!(
            data["payload"]["data"]["viewer"]["subject"], "agent@rennes.fr",
            "{data}"
        );

        let mut anonymous = connect(addr).await;
        assert_eq!(
            init(&mut anonymous, json!({})).await.unwrap()["type"],
            "connection_ack"
        );

        for (case, forged) in super::corpus() {
            let mut ws = connect(addr).await;
            let answer = init(
                &mut ws,
                json!({ "Authorization": format!("Bearer {forged}") }),
            )
            .await;
            assert!(answer.is_none(), "{case}: {answer:?}");
        }
        for payload in [
            json!({ "authToken": "garbage" }),
            json!({ "Authorization": 42 }),
            json!({ "authorization": "Basic x" }),
        ] {
            let mut ws = connect(addr).await;
            assert!(init(&mut ws, payload.clone()).await.is_none(), "{payload}");
        }
    }
}

#[tokio::test]
async fn a_database_outage_while_authenticating_is_not_an_authentication_failure() {
    let app = TestApp::new().await;
    let t = token("agent@rennes.fr", Some("213502388"), &["editor"]);
    app.db.clone().close().await.unwrap();
    let (status, body) = app
        .graphql_as(Some(&t), "{ viewer { authenticated } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "SERVICE_UNAVAILABLE"
    );
}
