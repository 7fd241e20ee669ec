//! Test harness: a fresh database per test (copied from a per-process template holding the
//! national reference), the router driven in-process, and a statement counter.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::auth::{AuthConfig, Authenticator, dev_token};
use api::clock::Clock;
use api::config::{DbConfig, Limits};
use api::{AppState, db, reference};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// The instant every test application's clock starts at, whatever the day the suite runs:
/// "today" for the domain. Dates in tests are taken from it ([`today`], [`date`]).
pub fn clock_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The tests' today: the date of [`clock_start`].
pub fn today() -> NaiveDate {
    clock_start().date_naive()
}

/// `YYYY-MM-DD` of `month`/`day` in the year `years` after today's (0: this year).
pub fn date(years: i32, month: u32, day: u32) -> String {
    NaiveDate::from_ymd_opt(today().year() + years, month, day)
        .expect("a valid date")
        .to_string()
}

/// The development secret of the tests.
pub const SECRET: &str = "test-secret-of-maillage-at-least-32-bytes-long";

/// The authentication settings of the tests.
pub fn auth_config() -> AuthConfig {
    AuthConfig {
        jwt_secret: Some(SECRET.into()),
        jwt_issuer: "maillage".into(),
        jwt_audience: "maillage-api".into(),
        ..AuthConfig::default()
    }
}

/// POSTs `query` with `variables` to `router` (any instance), as the bearer of `token` when
/// given; the JSON answer.
pub async fn post_graphql(
    router: &Router,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).expect("a request"))
        .await
        .expect("router is infallible");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("a JSON answer")
}

/// A valid token for `sub` acting for `org` (SIREN) with `roles`.
pub fn token(sub: &str, org: Option<&str>, roles: &[&str]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    dev_token(&auth_config(), sub, org, &roles, 600).expect("token")
}

/// Environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "MAILLAGE_TEST_POSTGRES_URL";

fn db_config(url: String) -> DbConfig {
    DbConfig {
        database_url: url,
        pool_size: 4,
        pool_timeout_secs: 10,
        statement_timeout_ms: 30_000,
    }
}

enum Template {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

static TEMPLATE: OnceCell<Template> = OnceCell::const_new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn pid() -> u32 {
    std::process::id()
}

/// Replaces the database name at the end of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn load_reference(url: String) {
    let config = db_config(url);
    db::migrate(&config).await.expect("migrate template");
    let conn = db::connect(&config).await.expect("connect template");
    reference::import_shipped(&conn, clock_start())
        .await
        .expect("import reference");
    conn.close().await.expect("close template");
}

async fn template() -> &'static Template {
    TEMPLATE
        .get_or_init(|| async {
            match std::env::var(POSTGRES_ENV) {
                Ok(admin_url) => {
                    let admin = admin(&admin_url).await;
                    drop_stale_databases(&admin).await;
                    let name = format!("maillage_tpl_{}", pid());
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                        .await
                        .expect("drop old template");
                    admin
                        .execute_unprepared(&format!("CREATE DATABASE {name}"))
                        .await
                        .expect("create template database");
                    load_reference(with_database(&admin_url, &name)).await;
                    Template::Postgres { admin_url, name }
                }
                Err(_) => {
                    let dir = std::env::temp_dir().join("maillage-tests");
                    std::fs::create_dir_all(&dir).expect("temp dir");
                    remove_stale_templates(&dir);
                    let path = dir.join(format!("template-{}.db", pid()));
                    let _ = std::fs::remove_file(&path);
                    load_reference(format!("sqlite://{}?mode=rwc", path.display())).await;
                    Template::Sqlite(path)
                }
            }
        })
        .await
}

fn alive(pid: &str) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Templates of test processes that are gone are removed.
fn remove_stale_templates(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("template-")
            .and_then(|n| n.split('.').next())
            && !alive(pid)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

async fn admin(url: &str) -> DatabaseConnection {
    db::connect(&db_config(url.to_owned()))
        .await
        .expect("PostgreSQL must be reachable at MAILLAGE_TEST_POSTGRES_URL")
}

/// Databases left by test processes that are gone are dropped.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    use sea_orm::{FromQueryResult, Statement};
    #[derive(FromQueryResult)]
    struct Name {
        datname: String,
    }
    let rows = Name::find_by_statement(Statement::from_string(
        admin.get_database_backend(),
        "SELECT datname FROM pg_database WHERE datname LIKE 'maillage_t%'",
    ))
    .all(admin)
    .await
    .unwrap_or_default();
    for Name { datname } in rows {
        let owner = datname.split('_').nth(2).unwrap_or_default().to_owned();
        if !owner.is_empty() && !alive(&owner) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                .await;
        }
    }
}

/// Removes the test's database when the test ends, whatever its outcome.
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // A separate thread: the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let admin = admin(&admin_url).await;
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                });
            })
            .join();
        }
    }
}

/// One test's application: its own database, the router, a statement counter.
pub struct TestApp {
    /// The router under test.
    pub router: Router,
    /// The test's database.
    pub db: DatabaseConnection,
    /// The application state behind the router.
    pub state: AppState,
    /// The clock the application reads (starts at [`clock_start`]; tests may advance it).
    pub clock: Clock,
    statements: Arc<AtomicUsize>,
    _cleanup: Cleanup,
}

impl TestApp {
    /// A fresh database holding the national reference, and the router over it, its
    /// in-memory registry built.
    pub async fn new() -> TestApp {
        Self::with_limits(Limits::default()).await
    }

    /// [`TestApp::new`] with other request limits.
    pub async fn with_limits(limits: Limits) -> TestApp {
        Self::build(limits, true, auth_config()).await
    }

    /// [`TestApp::new`] verifying tokens with `auth`.
    pub async fn with_auth(auth: AuthConfig) -> TestApp {
        Self::build(Limits::default(), true, auth).await
    }

    /// [`TestApp::new`] without the in-memory registry: every registry read is SQL.
    pub async fn sql_only() -> TestApp {
        Self::build(Limits::default(), false, auth_config()).await
    }

    async fn build(limits: Limits, in_memory: bool, auth: AuthConfig) -> TestApp {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let (url, cleanup) = match template().await {
            Template::Sqlite(path) => {
                let dir = tempfile::tempdir().expect("temp dir");
                let copy = dir.path().join("test.db");
                std::fs::copy(path, &copy).expect("copy template");
                (
                    format!("sqlite://{}?mode=rwc", copy.display()),
                    Cleanup::Sqlite(dir),
                )
            }
            Template::Postgres { admin_url, name } => {
                let db_name = format!("maillage_t_{}_{n}", pid());
                let admin = admin(admin_url).await;
                let mut attempt = 0;
                loop {
                    let created = admin
                        .execute_unprepared(&format!("CREATE DATABASE {db_name} TEMPLATE {name}"))
                        .await;
                    match created {
                        Ok(_) => break,
                        Err(e) if attempt < 20 => {
                            attempt += 1;
                            eprintln!("retrying CREATE DATABASE: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("cannot create test database: {e}"),
                    }
                }
                let _ = admin.close().await;
                (
                    with_database(admin_url, &db_name),
                    Cleanup::Postgres {
                        admin_url: admin_url.clone(),
                        name: db_name,
                    },
                )
            }
        };
        let mut conn = db::connect(&db_config(url))
            .await
            .expect("connect test database");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let auth = Authenticator::new(&auth).expect("authenticator");
        let clock = Clock::starting_at(clock_start());
        let state = AppState::load(conn.clone(), limits, auth)
            .await
            .expect("state")
            .with_registry_in_memory(in_memory)
            .with_clock(clock.clone());
        state
            .registry
            .warm(&conn)
            .await
            .expect("in-memory registry");
        TestApp {
            router: api::app(state.clone()),
            state,
            clock,
            db: conn,
            statements,
            _cleanup: cleanup,
        }
    }

    /// Another instance of the application on the same database (its own state, caches and
    /// change-feed listener), as a second server process would be.
    pub async fn second_instance(&self) -> Router {
        self.instance_with(Limits::default(), true).await
    }

    /// [`TestApp::second_instance`] with other request limits, its registry in memory or not.
    pub async fn instance_with(&self, limits: Limits, in_memory: bool) -> Router {
        api::app(self.state_with(limits, in_memory).await)
    }

    /// The state of [`TestApp::instance_with`].
    pub async fn state_with(&self, limits: Limits, in_memory: bool) -> AppState {
        let auth = Authenticator::new(&auth_config()).expect("authenticator");
        let state = AppState::load(self.db.clone(), limits, auth)
            .await
            .expect("state")
            .with_registry_in_memory(in_memory)
            .with_clock(self.clock.clone());
        state
            .registry
            .warm(&self.db)
            .await
            .expect("in-memory registry");
        state
    }

    /// Whether the tests run on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.db.get_database_backend() == sea_orm::DbBackend::Postgres
    }

    /// Serves the router on an ephemeral loopback port (for WebSocket tests).
    pub async fn spawn_server(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = self.router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        addr
    }

    /// Statements run since the last call.
    pub fn take_statements(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    /// Sends a request to the router.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let (status, _, body) = self.exchange(request).await;
        (status, body)
    }

    /// Sends a request to the router: status, headers and body.
    pub async fn exchange(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    /// `GET path`: status and body text.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let (status, body) = self.send(request).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs a GraphQL operation; returns the whole response document.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await.1
    }

    /// POSTs a GraphQL operation with an optional bearer token; returns status and document.
    pub async fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut request =
            Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Body::from(
                json!({ "query": query, "variables": variables }).to_string(),
            ))
            .expect("request");
        let (status, body) = self.send(request).await;
        (
            status,
            serde_json::from_slice(&body).expect("JSON response"),
        )
    }

    /// POSTs a GraphQL operation that must succeed; returns `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }
}

/// `text` percent-encoded for a query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response:#}"))
}

/// A WebSocket client of the server at `addr`, speaking graphql-transport-ws.
pub type WsClient =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `/graphql` at `addr` with the graphql-transport-ws subprotocol.
pub async fn ws_connect(addr: std::net::SocketAddr) -> WsClient {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        header::HeaderValue::from_static("graphql-transport-ws"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}
