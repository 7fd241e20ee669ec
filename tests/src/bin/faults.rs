//! Fault injection on PostgreSQL, against a real `maillage serve`:
//!
//! 1. writers add contact points while PostgreSQL is restarted with
//!    `pg_ctlcluster … restart -m immediate`: every failure must be a fast, retryable
//!    `SERVICE_UNAVAILABLE` (HTTP 503), the server must recover on its own, and every write it
//!    acknowledged must be in the database afterwards (a ledger, compared row by row);
//! 2. a session holds a lock the writers need: their statements are cut by `statement_timeout`,
//!    the pool (two connections) never hangs a request past its acquire timeout, and the
//!    connections come back: writes succeed again once the lock is gone.
//!
//! It restarts the cluster, so it runs alone, after the test suites:
//! `target/release/faults --postgres postgres://postgres@127.0.0.1:5432/test` (in `.ci/run`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Options.
#[derive(Debug, Parser)]
struct Args {
    /// PostgreSQL admin URL (a scratch database is created and dropped).
    #[arg(long)]
    postgres: String,
    /// Concurrent writers.
    #[arg(long, default_value_t = 4)]
    writers: usize,
}

const SECRET: &str = "faults-secret-of-maillage-at-least-32-bytes";
/// The longest a failed request may take to fail.
const FAIL_FAST: Duration = Duration::from_secs(5);
/// The longest the server may take to serve writes again once PostgreSQL is back.
const RECOVERY: Duration = Duration::from_secs(15);

type Http = Client<HttpConnector, Full<Bytes>>;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One write's outcome.
#[derive(Debug)]
enum Outcome {
    Acknowledged(String),
    Failed { code: String, took: Duration },
}

async fn graphql(
    http: &Http,
    port: u16,
    token: &str,
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let request = hyper::Request::post(format!("http://127.0.0.1:{port}/graphql"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(
            json!({ "query": query, "variables": variables }).to_string(),
        )))
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(30), http.request(request)).await {
        Ok(Ok(response)) => {
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        Ok(Err(e)) => (0, json!({ "transport": e.to_string() })),
        Err(_) => (0, json!({ "transport": "no answer within 30 s" })),
    }
}

const ADD: &str = "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { contactPoint { id value } userErrors { code } } }";

async fn write(http: &Http, port: u16, token: &str, org: &str, value: &str) -> Outcome {
    let started = Instant::now();
    let (status, body) = graphql(
        http,
        port,
        token,
        ADD,
        json!({ "i": {
        "organisationId": org, "kind": "EMAIL", "value": value } }),
    )
    .await;
    if body["data"]["addContactPoint"]["contactPoint"]["value"] == value {
        return Outcome::Acknowledged(value.to_owned());
    }
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status} {body}"));
    Outcome::Failed {
        code,
        took: started.elapsed(),
    }
}

/// Where and as whom the writers write.
struct Target {
    http: Http,
    port: u16,
    token: String,
    org: String,
}

/// `n` writers running until `stop`: every outcome with its time since `t0`.
async fn writers(
    n: usize,
    target: Arc<Target>,
    tag: &'static str,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> Vec<(Duration, Outcome)> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..n)
        .map(|w| {
            let (target, stop, log) = (target.clone(), stop.clone(), log.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let value = format!("{tag}-{w}-{i}@faults.test");
                    i += 1;
                    let t = &target;
                    let outcome = write(&t.http, t.port, &t.token, &t.org, &value).await;
                    log.lock().await.push((t0.elapsed(), outcome));
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(log).unwrap().into_inner()
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-Atc", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn restart_postgres() -> Duration {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL cluster")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .next()
        .expect("a cluster version");
    let started = Instant::now();
    let status = Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "restart",
            "-m",
            "immediate",
        ])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart failed");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let binary: PathBuf = dir.join("maillage");
    assert!(
        binary.exists(),
        "build the server first: cargo build --release --workspace --all-targets"
    );
    let name = format!("maillage_tfaults_{}", std::process::id());
    psql(&args.postgres, &format!("CREATE DATABASE {name}"));
    let base = args
        .postgres
        .rsplit_once('/')
        .map_or(args.postgres.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let failures = run(&args, &binary, &url).await;
    psql(
        &args.postgres,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    if failures.is_empty() {
        println!("faults: all checks passed");
    } else {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        std::process::exit(1);
    }
}

async fn run(args: &Args, binary: &PathBuf, url: &str) -> Vec<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let work = tempfile::tempdir().unwrap();
    let _server = Server(
        Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("MAILLAGE_JWT_SECRET", SECRET)
            .env("MAILLAGE_POOL_SIZE", "2")
            .env("MAILLAGE_POOL_TIMEOUT_SECS", "2")
            .env("MAILLAGE_STATEMENT_TIMEOUT_MS", "1000")
            .env("RUST_LOG", "error")
            .current_dir(work.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("start maillage"),
    );
    let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let ready = Instant::now();
    while Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/readyz")])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        assert!(
            ready.elapsed() < Duration::from_secs(120),
            "server not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let config = api::auth::AuthConfig {
        jwt_secret: Some(SECRET.into()),
        jwt_issuer: "maillage".into(),
        jwt_audience: "maillage-api".into(),
        ..api::auth::AuthConfig::default()
    };
    let token = api::auth::dev_token(
        &config,
        "faults@rennes.fr",
        Some("213502388"),
        &["editor".into()],
        3600,
    )
    .unwrap();
    let (_, r) = graphql(
        &http,
        port,
        &token,
        "{ organisation(siren: \"213502388\") { id } }",
        json!({}),
    )
    .await;
    let org = r["data"]["organisation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("Rennes: {r}"))
        .to_owned();
    let target = Arc::new(Target {
        http,
        port,
        token,
        org,
    });
    let mut failures = Vec::new();

    // 1. PostgreSQL restarted under load.
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let load = tokio::spawn(writers(
        args.writers,
        target.clone(),
        "restart",
        stop.clone(),
        t0,
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let down_at = t0.elapsed();
    let took = tokio::task::spawn_blocking(restart_postgres).await.unwrap();
    let up_at = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.store(true, Ordering::SeqCst);
    let log = load.await.unwrap();
    let acknowledged: Vec<&str> = log
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Acknowledged(v) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    let failed: Vec<(&Duration, &String, &Duration)> = log
        .iter()
        .filter_map(|(at, o)| match o {
            Outcome::Failed { code, took } => Some((at, code, took)),
            _ => None,
        })
        .collect();
    let recovered_at = log
        .iter()
        .filter(|(at, o)| *at > up_at && matches!(o, Outcome::Acknowledged(_)))
        .map(|(at, _)| *at)
        .min();
    let slowest_failure = failed
        .iter()
        .map(|(_, _, took)| **took)
        .max()
        .unwrap_or_default();
    println!(
        "## PostgreSQL restarted (-m immediate) under {} writers",
        args.writers
    );
    println!(
        "restart took {:.2} s (down at {:.1} s); writes: {} acknowledged, {} failed; slowest failure {:.2} s; writes again {:.2} s after PostgreSQL was back",
        took.as_secs_f64(),
        down_at.as_secs_f64(),
        acknowledged.len(),
        failed.len(),
        slowest_failure.as_secs_f64(),
        recovered_at.map_or(f64::NAN, |r| (r - up_at).as_secs_f64())
    );
    let codes: HashSet<&str> = failed.iter().map(|(_, c, _)| c.as_str()).collect();
    println!("failure codes: {codes:?}");
    if codes.iter().any(|c| *c != "SERVICE_UNAVAILABLE") {
        failures.push(format!(
            "failures other than SERVICE_UNAVAILABLE: {codes:?}"
        ));
    }
    if slowest_failure > FAIL_FAST {
        failures.push(format!("a failure took {slowest_failure:?}"));
    }
    match recovered_at {
        Some(r) if r - up_at <= RECOVERY => {}
        other => failures.push(format!("no recovery within {RECOVERY:?}: {other:?}")),
    }
    if failed.is_empty() {
        failures.push("the restart went unnoticed: the test did not test anything".into());
    }
    let stored: HashSet<String> = psql(
        url,
        "SELECT value FROM contact_point WHERE value LIKE 'restart-%@faults.test'",
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let lost: Vec<&&str> = acknowledged
        .iter()
        .filter(|v| !stored.contains(**v))
        .collect();
    println!(
        "ledger: {} acknowledged writes, {} in the database, {} lost, {} stored though unacknowledged",
        acknowledged.len(),
        stored.len(),
        lost.len(),
        stored.len().saturating_sub(acknowledged.len() - lost.len())
    );
    if !lost.is_empty() {
        failures.push(format!(
            "{} acknowledged writes lost: {:?}",
            lost.len(),
            lost.iter().take(5).collect::<Vec<_>>()
        ));
    }

    // 2. A lock held elsewhere: statements are cut, the pool does not hang, then recovers.
    let holder = Command::new("psql")
        .args([
            url,
            "-qc",
            "BEGIN; LOCK TABLE contact_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("psql lock holder");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let t1 = Instant::now();
    let load = tokio::spawn(writers(
        args.writers * 2,
        target.clone(),
        "lock",
        stop.clone(),
        t1,
    ));
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::SeqCst);
    let log = load.await.unwrap();
    let _ = tokio::task::spawn_blocking(move || {
        let mut h = holder;
        h.wait()
    })
    .await;
    let during: Vec<&(Duration, Outcome)> = log
        .iter()
        .filter(|(at, _)| *at < Duration::from_secs(3))
        .collect();
    let slowest = log
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Failed { took, .. } => Some(*took),
            _ => None,
        })
        .max()
        .unwrap_or_default();
    let codes: HashSet<&str> = log
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Failed { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .collect();
    let after = log
        .iter()
        .filter(|(at, o)| *at > Duration::from_secs(4) && matches!(o, Outcome::Acknowledged(_)))
        .count();
    println!(
        "## A lock held for 4 s on the writers' table, pool of 2, statement_timeout 1 s, acquire timeout 2 s"
    );
    println!(
        "{} requests while locked, all failed: {}; slowest failure {:.2} s; codes {codes:?}; {after} writes acknowledged once the lock was released",
        during.len(),
        during
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Failed { .. })),
        slowest.as_secs_f64()
    );
    if codes.iter().any(|c| *c != "SERVICE_UNAVAILABLE") {
        failures.push(format!(
            "lock: failures other than SERVICE_UNAVAILABLE: {codes:?}"
        ));
    }
    if slowest > FAIL_FAST {
        failures.push(format!("lock: a request took {slowest:?} to fail"));
    }
    if during.is_empty() || after == 0 {
        failures.push(format!(
            "lock: {} requests while locked, {after} after",
            during.len()
        ));
    }
    failures
}
