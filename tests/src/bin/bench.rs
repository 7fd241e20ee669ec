//! The benchmark: starts `maillage serve` on a fresh database (SQLite, and PostgreSQL when
//! `--postgres` is given), measures the first start, then runs each workload over HTTP with
//! concurrent clients and prints requests per second, p50, p99 and the server's peak RSS.
//!
//! `cargo run --release -p tests --bin bench` (see the README).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::reference::{self, Snapshot};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::seq::IndexedRandom;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

/// Benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per workload.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Also benchmark PostgreSQL: an admin URL (a scratch database is created and dropped).
    #[arg(long)]
    postgres: Option<String>,
    /// Only these workloads (comma-separated names, e.g. `Q1,Q3`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

struct Workload {
    name: &'static str,
    what: &'static str,
    /// Request bodies, used in rotation.
    bodies: Vec<Bytes>,
}

fn body(query: &str, variables: Value) -> Bytes {
    Bytes::from(json!({ "query": query, "variables": variables }).to_string())
}

fn workloads() -> Vec<Workload> {
    let snapshot = Snapshot::decode(reference::snapshot::SHIPPED).expect("shipped snapshot");
    let codes: Vec<&str> = snapshot
        .organisations
        .iter()
        .filter(|o| o.kind == entity::OrganisationKind::Commune && o.valid_to.is_none())
        .filter_map(|o| o.insee_code.as_deref())
        .collect();
    let mut rng = StdRng::seed_from_u64(2026);
    let q1 = "query($c: String!) { organisation(inseeCode: $c) { name inseeCode population
                epci { name siren kind } departement { name inseeCode } region { name inseeCode } } }";
    let q1_bodies = (0..1000)
        .map(|_| body(q1, json!({ "c": codes.choose(&mut rng).unwrap() })))
        .collect();
    let q2 = "{ organisations(filter: {departement: \"35\", kinds: [CC, CA, CU, METROPOLE, METROPOLE_LYON]}, first: 50) {
                nodes { name siren members(first: 100) { nodes { member { name inseeCode population } } } } } }";
    let q3 = "{ organisations(filter: {nameStartsWith: \"Saint-\"}, first: 20) {
                nodes { name kind departementCode departement { name } } } }";
    let catalogue = reference::competences::parse(&reference::competences::SHIPPED)
        .expect("shipped competences");
    let competences: Vec<&str> = catalogue
        .competences
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    let q4 = "query($c: String!, $k: String!) { responsibilities(inseeCode: $c, competence: $k) {
                role layer basis source organisation { name kind siren } } }";
    let q4_bodies = (0..1000)
        .map(|_| {
            body(
                q4,
                json!({ "c": codes.choose(&mut rng).unwrap(), "k": competences.choose(&mut rng).unwrap() }),
            )
        })
        .collect();
    // Every commune of France, so that most requests miss the chain cache.
    let q4n_bodies = (0..100_000)
        .map(|_| {
            body(
                q4,
                json!({ "c": codes.choose(&mut rng).unwrap(), "k": competences.choose(&mut rng).unwrap() }),
            )
        })
        .collect();
    let q5 = "query($c: String!) { territoryProfile(inseeCode: $c) { competence { code label }
                responsibilities { role layer basis organisation { name kind } } } }";
    let q5_bodies = (0..1000)
        .map(|_| body(q5, json!({ "c": codes.choose(&mut rng).unwrap() })))
        .collect();
    vec![
        Workload {
            name: "Q1",
            what: "commune by INSEE code (1,000 random) with EPCI, département, région",
            bodies: q1_bodies,
        },
        Workload {
            name: "Q2",
            what: "EPCIs of département 35 (50), each with 100 member communes",
            bodies: vec![body(q2, json!({}))],
        },
        Workload {
            name: "Q3",
            what: "names starting with \"Saint-\" (20), with kind and département",
            bodies: vec![body(q3, json!({}))],
        },
        Workload {
            name: "Q4",
            what: "responsibilities (1,000 random commune × competence pairs)",
            bodies: q4_bodies,
        },
        Workload {
            name: "Q4N",
            what: "responsibilities (100,000 random pairs over every commune: mostly cache misses)",
            bodies: q4n_bodies,
        },
        Workload {
            name: "Q5",
            what: "territoryProfile of a commune (1,000 random): 118 competences",
            bodies: q5_bodies,
        },
    ]
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(
        binary: &PathBuf,
        database_url: &str,
        workdir: &std::path::Path,
    ) -> (Server, Duration) {
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            // Cost is charged and reported on every request, as in production; the sixteen
            // clients share one address, so their budget is set out of reach.
            .env("MAILLAGE_COST_BUDGET_ANONYMOUS", "4000000000")
            .current_dir(workdir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start maillage");
        let server = Server { child, port };
        loop {
            if started.elapsed() > Duration::from_secs(120) {
                panic!("server not ready after 120 s");
            }
            if let Ok(out) = Command::new("curl")
                .args(["-sf", &format!("http://127.0.0.1:{port}/readyz")])
                .output()
                && out.status.success()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let ready = started.elapsed();
        (server, ready)
    }

    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Outcome {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

async fn run(port: u16, workload: &Workload, clients: usize, duration: Duration) -> Outcome {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let bodies = Arc::new(workload.bodies.clone());
    let uri: hyper::Uri = format!("http://127.0.0.1:{port}/graphql").parse().unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, bodies, uri) = (client.clone(), bodies.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = c * 7919;
            while started.elapsed() < duration {
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let request = hyper::Request::post(uri.clone())
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                    .unwrap();
                let sent = Instant::now();
                let ok = match client.request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
                        status.is_success()
                            && bytes.is_ok_and(|b| !b.windows(9).any(|w| w == b"\"errors\":"))
                    }
                    Err(_) => false,
                };
                latencies.push(sent.elapsed().as_micros() as u64);
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    for t in tasks {
        let (latencies, errors) = t.await.unwrap();
        outcome.requests += latencies.len();
        outcome.errors += errors;
        outcome.latencies_us.extend(latencies);
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome.latencies_us.sort_unstable();
    outcome
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn bench_backend(
    label: &str,
    binary: &PathBuf,
    url: &str,
    workdir: &std::path::Path,
    args: &Args,
) {
    let (server, ready) = Server::start(binary, url, workdir);
    println!(
        "\n## {label}: first start to ready (migrations + national import): {:.2} s",
        ready.as_secs_f64()
    );
    println!("| workload | req/s | p50 ms | p99 ms | errors | requests |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for w in workloads() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o.eq_ignore_ascii_case(w.name)) {
            continue;
        }
        // Warm-up, then the measured run.
        run(server.port, &w, args.clients, Duration::from_secs(1)).await;
        let o = run(
            server.port,
            &w,
            args.clients,
            Duration::from_secs(args.seconds),
        )
        .await;
        println!(
            "| {} {} | {:.0} | {:.2} | {:.2} | {} | {} |",
            w.name,
            w.what,
            o.requests as f64 / o.seconds,
            percentile(&o.latencies_us, 0.50),
            percentile(&o.latencies_us, 0.99),
            o.errors,
            o.requests
        );
    }
    println!("server peak RSS: {:.0} MB", server.peak_rss_mb());
}

fn maillage_binary() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "api", "--bin", "maillage"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "cannot build maillage");
    dir.join("maillage")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let binary = maillage_binary();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "# Maillage benchmark: {} clients, {} s per workload, {} CPUs, server and clients on one machine",
        args.clients, args.seconds, cpus
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    bench_backend("SQLite", &binary, &sqlite, dir.path(), &args).await;

    if let Some(admin) = &args.postgres {
        let name = format!("maillage_bench_{}", std::process::id());
        let psql = |sql: &str| {
            Command::new("psql")
                .args([admin.as_str(), "-qc", sql])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        assert!(
            psql(&format!("CREATE DATABASE {name}")),
            "cannot create {name}"
        );
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        bench_backend(
            "PostgreSQL",
            &binary,
            &format!("{base}/{name}"),
            dir.path(),
            &args,
        )
        .await;
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
