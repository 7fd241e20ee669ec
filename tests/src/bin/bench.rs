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
use memchr::memmem;
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
    /// Benchmark this server binary instead of building the workspace's (to compare builds).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Seconds of the mixed read/write workload.
    #[arg(long, default_value_t = 60)]
    mix_seconds: u64,
    /// Clients of the wide run that follows the table: the GET workloads (cached) and Q1 (0:
    /// none).
    #[arg(long, default_value_t = 64)]
    wide_clients: usize,
    /// An option passed on to `maillage serve` (repeatable), e.g. `--server-arg=--response-cache-mb=0`.
    #[arg(long, allow_hyphen_values = true)]
    server_arg: Vec<String>,
    /// With `--postgres`: also run Q1, Q2 and Q3 as bare SQL through pgbench (prepared
    /// statements, the same clients and seconds) on the loaded database, side by side.
    #[arg(long, requires = "postgres")]
    bare_sql: bool,
}

/// The development secret the benchmarked server verifies tokens with.
const SECRET: &str = "bench-secret-of-maillage-at-least-32-bytes";

/// A request: a fixed body, a write whose `{n}` is replaced by a fresh number each time, or
/// a query over GET (its path and query string).
#[derive(Clone)]
enum Req {
    Fixed(Bytes),
    Write(Arc<str>),
    Get(Arc<str>),
}

/// The GET form of a query (`/graphql?query=…&variables=…`), as Apollo's clients send reads.
fn get_path(query: &str, variables: &Value) -> Arc<str> {
    let pairs = [
        ("query", query.to_owned()),
        ("variables", variables.to_string()),
    ];
    let encoded = serde_urlencoded::to_string(pairs).expect("encodable");
    format!("/graphql?{encoded}").into()
}

/// What came back for one request: an answer, or why none came.
enum Answer {
    Body(hyper::StatusCode, Bytes),
    Failed(String),
}

/// What a successful answer is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 2xx without errors.
    Data,
    /// A refusal: an error, 4xx or 200, never 5xx.
    Refusal,
    /// 2xx without errors nor `userErrors`: the write happened.
    Filed,
}

struct Workload {
    name: &'static str,
    what: &'static str,
    /// Request bodies, used in rotation.
    bodies: Vec<Req>,
    /// Sent with writes.
    token: Option<String>,
    expect: Expect,
}

impl Workload {
    fn reads(name: &'static str, what: &'static str, bodies: Vec<Bytes>) -> Self {
        Self {
            name,
            what,
            bodies: bodies.into_iter().map(Req::Fixed).collect(),
            token: None,
            expect: Expect::Data,
        }
    }
}

fn body(query: &str, variables: Value) -> Bytes {
    Bytes::from(json!({ "query": query, "variables": variables }).to_string())
}

fn workloads() -> Vec<Workload> {
    let snapshot = Snapshot::decode(reference::snapshot::SHIPPED).expect("shipped snapshot");
    let codes = commune_codes(&snapshot);
    let mut rng = StdRng::seed_from_u64(2026);
    let q1 = "query($c: String!) { organisation(inseeCode: $c) { name inseeCode population
                epci { name siren kind } departement { name inseeCode } region { name inseeCode } } }";
    let q1_codes = q1_codes(&codes, &mut rng);
    let q1_bodies = q1_codes
        .iter()
        .map(|c| body(q1, json!({ "c": c })))
        .collect();
    let q1_gets = q1_codes
        .iter()
        .map(|c| Req::Get(get_path(q1, &json!({ "c": c }))))
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
    let rejections = rejected_documents()
        .into_iter()
        .map(|q| Req::Fixed(body(&q, json!({}))))
        .collect();
    vec![
        Workload::reads(
            "Q1",
            "commune by INSEE code (1,000 random) with EPCI, département, région",
            q1_bodies,
        ),
        Workload::reads(
            "Q2",
            "EPCIs of département 35 (50), each with 100 member communes",
            vec![body(q2, json!({}))],
        ),
        Workload::reads(
            "Q3",
            "names starting with \"Saint-\" (20), with kind and département",
            vec![body(q3, json!({}))],
        ),
        Workload::reads(
            "Q4",
            "responsibilities (1,000 random commune × competence pairs)",
            q4_bodies,
        ),
        Workload::reads(
            "Q4N",
            "responsibilities (100,000 random pairs over every commune: mostly cache misses)",
            q4n_bodies,
        ),
        Workload::reads(
            "Q5",
            "territoryProfile of a commune (1,000 random): 118 competences",
            q5_bodies,
        ),
        Workload {
            name: "Q1G",
            what: "Q1 over GET without a token: public answers, kept by the response cache",
            bodies: q1_gets,
            token: None,
            expect: Expect::Data,
        },
        Workload {
            name: "Q3G",
            what: "Q3 over GET without a token: public answers, kept by the response cache",
            bodies: vec![Req::Get(get_path(q3, &json!({})))],
            token: None,
            expect: Expect::Data,
        },
        Workload {
            name: "R",
            what: "hostile documents up to 64 KB, refused by the limits",
            bodies: rejections,
            token: None,
            expect: Expect::Refusal,
        },
    ]
}

/// The 1,000 communes Q1 asks for, drawn from `rng` (seeded 2026 by the workloads).
fn q1_codes<'a>(codes: &[&'a str], rng: &mut StdRng) -> Vec<&'a str> {
    (0..1000).map(|_| *codes.choose(rng).unwrap()).collect()
}

/// A validity condition on `t` (an organisation or membership) for today.
macro_rules! valid {
    ($t:literal) => {
        concat!(
            "(",
            $t,
            ".valid_from IS NULL OR ",
            $t,
            ".valid_from <= CURRENT_DATE) AND (",
            $t,
            ".valid_to IS NULL OR ",
            $t,
            ".valid_to > CURRENT_DATE)"
        )
    };
}

/// Q1, Q2 and Q3 as one SQL statement each over Maillage's tables (pgbench scripts): what
/// the API's answers hold, read by the bare database. Q1's communes are looked up in
/// `bench_codes` (the same 1,000 as the API's workload) by a random number.
const BARE_SQL: [(&str, &str); 3] = [
    (
        "Q1",
        concat!(
            "\\set n random(1, 1000)\n",
            "SELECT c.name, c.insee_code, c.population, e.name, e.siren, e.kind, d.name, d.insee_code, r.name, r.insee_code ",
            "FROM bench_codes b JOIN organisation c ON c.insee_code = b.code AND c.kind = 'COMMUNE' AND ",
            valid!("c"),
            " LEFT JOIN LATERAL (SELECT g.name, g.siren, g.kind FROM membership m JOIN organisation g ON g.id = m.group_id",
            " WHERE m.member_id = c.id AND m.kind = 'MEMBER' AND g.kind IN ('CC', 'CA', 'CU', 'METROPOLE', 'METROPOLE_LYON') AND ",
            valid!("m"),
            " LIMIT 1) e ON true",
            " LEFT JOIN organisation d ON d.kind = 'DEPARTEMENT' AND d.insee_code = c.departement_code AND ",
            valid!("d"),
            " LEFT JOIN organisation r ON r.kind = 'REGION' AND r.insee_code = c.region_code AND ",
            valid!("r"),
            " WHERE b.n = :n;\n"
        ),
    ),
    (
        "Q2",
        concat!(
            "SELECT e.name, e.siren, c.name, c.insee_code, c.population FROM (SELECT o.id, o.name, o.siren, o.search_name",
            " FROM organisation o WHERE o.departement_code = '35' AND o.kind IN ('CC', 'CA', 'CU', 'METROPOLE', 'METROPOLE_LYON') AND ",
            valid!("o"),
            " ORDER BY o.search_name, o.id LIMIT 50) e",
            " LEFT JOIN LATERAL (SELECT c.name, c.insee_code, c.population, c.search_name, c.id FROM membership m JOIN organisation c ON c.id = m.member_id",
            " WHERE m.group_id = e.id AND m.kind = 'MEMBER' AND ",
            valid!("m"),
            " AND ",
            valid!("c"),
            " ORDER BY c.search_name, c.id LIMIT 100) c ON true ORDER BY e.search_name, e.id, c.search_name, c.id;\n"
        ),
    ),
    (
        "Q3",
        concat!(
            "SELECT o.name, o.kind, o.departement_code, d.name FROM organisation o",
            " LEFT JOIN organisation d ON d.kind = 'DEPARTEMENT' AND d.insee_code = o.departement_code AND ",
            valid!("d"),
            " WHERE o.search_name >= 'saint ' AND o.search_name < 'saint ~' AND ",
            valid!("o"),
            " ORDER BY o.search_name, o.id LIMIT 20;\n"
        ),
    ),
];

/// Runs [`BARE_SQL`] through pgbench on the loaded database `url` and prints its rate and
/// mean latency (pgbench reports no percentiles).
fn bare_sql(url: &str, args: &Args) {
    let snapshot = Snapshot::decode(reference::snapshot::SHIPPED).expect("shipped snapshot");
    let codes = commune_codes(&snapshot);
    let rows: Vec<String> = q1_codes(&codes, &mut StdRng::seed_from_u64(2026))
        .iter()
        .enumerate()
        .map(|(n, c)| format!("({}, '{c}')", n + 1))
        .collect();
    let setup = format!(
        "CREATE TABLE bench_codes (n int PRIMARY KEY, code text NOT NULL); INSERT INTO bench_codes VALUES {}; ANALYZE",
        rows.join(", ")
    );
    let ok = Command::new("psql")
        .args([url, "-qc", &setup])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cannot create bench_codes");
    println!(
        "\nBare SQL through pgbench -M prepared, {} clients, {} s:\n",
        args.clients, args.seconds
    );
    println!("| query | req/s | mean ms |");
    println!("| --- | ---: | ---: |");
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, script) in BARE_SQL {
        let file = dir.path().join(format!("{name}.sql"));
        std::fs::write(&file, script).expect("script");
        let out = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .args([
                "-c",
                &args.clients.to_string(),
                "-T",
                &args.seconds.to_string(),
            ])
            .arg("-f")
            .arg(&file)
            .arg(url)
            .output()
            .expect("pgbench (Debian's postgresql-client)");
        let text = String::from_utf8_lossy(&out.stdout);
        let figure = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        };
        match (figure("tps = "), figure("latency average = ")) {
            (Some(tps), Some(mean)) => println!("| {name} bare SQL | {tps:.0} | {mean:.2} |"),
            _ => println!(
                "| {name} bare SQL | failed: {} | |",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}

/// The INSEE codes of today's communes in the shipped reference.
fn commune_codes(snapshot: &Snapshot) -> Vec<&str> {
    snapshot
        .organisations
        .iter()
        .filter(|o| o.kind == entity::OrganisationKind::Commune && o.valid_to.is_none())
        .filter_map(|o| o.insee_code.as_deref())
        .collect()
}

/// Documents the limits refuse, up to 64 KB: alias, directive and token floods, deep
/// nesting, a fragment cycle, an oversized document.
fn rejected_documents() -> Vec<String> {
    let aliases: String = (0..40)
        .map(|i| format!("a{i}: organisation(inseeCode: \"35238\") {{ name }} "))
        .collect();
    let mut nested = String::from("name");
    for _ in 0..30 {
        nested = format!("memberOf {{ group {{ {nested} }} }}");
    }
    vec![
        format!("{{ {aliases} }}"),
        format!("{{ {} }}", "a ".repeat(16_000)),
        format!("{{ __typename {} }}", "@include(if: true) ".repeat(1_500)),
        format!("{{ organisation(inseeCode: \"35238\") {{ {nested} }} }}"),
        "{ organisation(inseeCode: \"35238\") { ...A } } fragment A on Organisation { memberOf { group { ...B } } } fragment B on Organisation { memberOf { group { ...A } } }".to_owned(),
        format!("{{ __typename }} # {}", "x".repeat(64 * 1024 - 20)),
    ]
}

/// 90% reads (Q1, Q3, Q4 bodies), 10% writes with an editor's token (contact points added to
/// `org`).
fn mixed(reads: &[Workload], org: &str) -> Workload {
    let pool: Vec<&Req> = reads
        .iter()
        .filter(|w| matches!(w.name, "Q1" | "Q3" | "Q4"))
        .flat_map(|w| w.bodies.iter().take(300))
        .collect();
    let write = json!({
        "query": "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { contactPoint { id } userErrors { code message } } }",
        "variables": { "i": { "organisationId": org, "kind": "EMAIL", "value": "mix-{n}@bench.test" } }
    })
    .to_string();
    let write: Arc<str> = write.into();
    let mut bodies = Vec::new();
    for (i, read) in pool.into_iter().enumerate() {
        if i % 9 == 0 {
            bodies.push(Req::Write(write.clone()));
        }
        bodies.push(read.clone());
    }
    Workload {
        name: "MIX",
        what: "90% reads (Q1, Q3, Q4), 10% writes with a token (addContactPoint)",
        bodies,
        token: Some(rennes_editor()),
        expect: Expect::Data,
    }
}

/// A token of an editor of Rennes, signed with the benchmark's secret.
fn rennes_editor() -> String {
    let config = api::auth::AuthConfig {
        jwt_secret: Some(SECRET.into()),
        jwt_issuer: "maillage".into(),
        jwt_audience: "maillage-api".into(),
        ..api::auth::AuthConfig::default()
    };
    api::auth::dev_token(
        &config,
        "bench@rennes.fr",
        Some("213502388"),
        &["editor".into()],
        3600,
    )
    .expect("token")
}

/// Referrals filed by Rennes's reception (`org`) about 1,000 random communes, for household
/// waste collection or school catering, each with its own idempotency key: every request is
/// a routed, stored, audited filing.
fn filings(org: &str) -> Workload {
    let snapshot = Snapshot::decode(reference::snapshot::SHIPPED).expect("shipped snapshot");
    let codes = commune_codes(&snapshot);
    let mut rng = StdRng::seed_from_u64(17);
    let bodies = (0..1000)
        .map(|_| {
            let code = codes.choose(&mut rng).unwrap();
            let competence = ["C2080", "C5010"].choose(&mut rng).unwrap();
            Req::Write(
                json!({
                    "query": "mutation($i: FileReferralInput!) { fileReferral(input: $i) { referral { id status handler { name } answerDue } userErrors { code message } } }",
                    "variables": { "i": { "inseeCode": code, "competence": competence,
                        "subject": "Demande transmise par l'accueil", "message": "Message de la personne",
                        "contact": "contact@bench.test", "filerId": org, "idempotencyKey": "ref-{n}" } }
                })
                .to_string()
                .into(),
            )
        })
        .collect();
    Workload {
        name: "REF",
        what: "fileReferral (1,000 random communes, waste or school catering) by a commune's staff",
        bodies,
        token: Some(rennes_editor()),
        expect: Expect::Filed,
    }
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
        extra: &[String],
    ) -> (Server, Duration) {
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            // Cost is charged and reported on every request, as in production; the sixteen
            // clients share one address, so their budget is set out of reach.
            .env("MAILLAGE_COST_BUDGET_ANONYMOUS", "4000000000")
            .env("MAILLAGE_JWT_SECRET", SECRET)
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

    /// CPU seconds (user + system) the server process has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime and stime are the
        // 12th and 13th, in clock ticks.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        let per_second = clock_ticks();
        match (ticks(11), ticks(12)) {
            (Some(user), Some(system)) => (user + system) / per_second,
            _ => 0.0,
        }
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

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Outcome {
    /// CPU seconds the server process spent over the run (user + system).
    server_cpu: f64,
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
    let writes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Every run numbers its writes afresh: the run's own prefix keeps them from replaying
    // an earlier run's (the warm-up's) idempotency keys.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let (expect, name, token) = (
        workload.expect,
        workload.name,
        workload.token.clone().map(Arc::<str>::from),
    );
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, bodies, uri) = (client.clone(), bodies.clone(), uri.clone());
        let (writes, token) = (writes.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = c * 7919;
            while started.elapsed() < duration {
                let mut request =
                    hyper::Request::post(uri.clone()).header("content-type", "application/json");
                let body = match &bodies[i % bodies.len()] {
                    Req::Get(path) => {
                        request = hyper::Request::get(format!("http://127.0.0.1:{port}{path}"))
                            .header("accept", "application/json");
                        Bytes::new()
                    }
                    Req::Fixed(b) => b.clone(),
                    Req::Write(template) => {
                        if let Some(t) = &token {
                            request = request.header("authorization", format!("Bearer {t}"));
                        }
                        let n = writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Bytes::from(template.replace("{n}", &format!("{run_id}-{c}-{n}")))
                    }
                };
                i += 1;
                let request = request.body(Full::new(body)).unwrap();
                let sent = Instant::now();
                // The answer is only copied for the report when it is wrong: the clients
                // share the server's cores, and a profile is 70 KB.
                let (ok, answer) = match client.request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let bytes = response
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let has_errors = |b: &Bytes| memmem::find(b, b"\"errors\":").is_some();
                        let ok = match expect {
                            Expect::Data => status.is_success() && !has_errors(&bytes),
                            Expect::Filed => {
                                status.is_success()
                                    && !has_errors(&bytes)
                                    && memmem::find(&bytes, b"\"userErrors\":[]").is_some()
                            }
                            Expect::Refusal => {
                                !status.is_server_error()
                                    && (status == hyper::StatusCode::PAYLOAD_TOO_LARGE
                                        || has_errors(&bytes))
                            }
                        };
                        (ok, Answer::Body(status, bytes))
                    }
                    Err(e) => (false, Answer::Failed(e.to_string())),
                };
                latencies.push(sent.elapsed().as_micros() as u64);
                if !ok {
                    if errors == 0 {
                        // Said once per client: what an error column counts.
                        let answer = match answer {
                            Answer::Body(status, bytes) => {
                                format!("{status} {}", String::from_utf8_lossy(&bytes))
                            }
                            Answer::Failed(e) => e,
                        };
                        eprintln!("{name}: unexpected answer: {answer:.300}");
                    }
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut outcome = Outcome {
        server_cpu: 0.0,
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

const HEADER: &str = "| workload | req/s | p50 ms | p99 ms | server CPU µs/req | errors | requests |\n\
                      | --- | ---: | ---: | ---: | ---: | ---: | ---: |";

/// One row of a table: the workload's name and what it is, then its figures. The server's
/// CPU time per request does not depend on how much of the machine the clients took, so it
/// compares builds on a noisy machine better than the rate does.
fn print_row(label: &str, o: &Outcome) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} | {:.0} | {} | {} |",
        o.requests as f64 / o.seconds,
        percentile(&o.latencies_us, 0.50),
        percentile(&o.latencies_us, 0.99),
        o.server_cpu * 1e6 / o.requests.max(1) as f64,
        o.errors,
        o.requests
    );
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
    let (server, ready) = Server::start(binary, url, workdir, &args.server_arg);
    println!(
        "\n## {label}: first start to ready (migrations + national import): {:.2} s",
        ready.as_secs_f64()
    );
    println!("{HEADER}");
    let mut all = workloads();
    let org = rennes_id(server.port).await;
    let mix = mixed(&all, &org);
    all.push(mix);
    all.push(filings(&org));
    for w in all {
        if !args.only.is_empty() && !args.only.iter().any(|o| o.eq_ignore_ascii_case(w.name)) {
            continue;
        }
        // Warm-up, then the measured run.
        run(server.port, &w, args.clients, Duration::from_secs(1)).await;
        let seconds = if w.name == "MIX" {
            args.mix_seconds
        } else {
            args.seconds
        };
        let cpu = server.cpu_seconds();
        let mut o = run(server.port, &w, args.clients, Duration::from_secs(seconds)).await;
        o.server_cpu = server.cpu_seconds() - cpu;
        print_row(&format!("{} {}", w.name, w.what), &o);
    }
    if args.wide_clients > 0 {
        println!("\n{} clients:\n", args.wide_clients);
        println!("{HEADER}");
        for w in workloads()
            .into_iter()
            .filter(|w| matches!(w.name, "Q1" | "Q1G" | "Q3G"))
            .filter(|w| {
                args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(w.name))
            })
        {
            run(server.port, &w, args.wide_clients, Duration::from_secs(1)).await;
            let cpu = server.cpu_seconds();
            let mut o = run(
                server.port,
                &w,
                args.wide_clients,
                Duration::from_secs(args.seconds),
            )
            .await;
            o.server_cpu = server.cpu_seconds() - cpu;
            print_row(&format!("{} ({} clients)", w.name, args.wide_clients), &o);
        }
    }
    println!("server peak RSS: {:.0} MB", server.peak_rss_mb());
    if args.bare_sql && label == "PostgreSQL" {
        bare_sql(url, args);
    }
}

/// The global ID of Rennes on the server under test.
async fn rennes_id(port: u16) -> String {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let request = hyper::Request::post(format!("http://127.0.0.1:{port}/graphql"))
        .header("content-type", "application/json")
        .body(Full::new(body(
            "{ organisation(siren: \"213502388\") { id } }",
            json!({}),
        )))
        .unwrap();
    let response = client.request(request).await.expect("lookup");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let v: Value = serde_json::from_slice(&bytes).expect("JSON");
    v["data"]["organisation"]["id"]
        .as_str()
        .expect("Rennes")
        .to_owned()
}

fn maillage_binary() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        // The whole workspace, as the tests build it: the same features, nothing rebuilt.
        .args(["build", "--release", "-q", "--workspace", "--all-targets"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "cannot build maillage");
    dir.join("maillage")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let binary = args.server.clone().unwrap_or_else(maillage_binary);
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
