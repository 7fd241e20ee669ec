//! Prometheus metrics at `GET /metrics`: GraphQL requests by operation and outcome, their
//! latency and cost, rate-limit rejections, the database pool, the in-memory registry and the
//! overdue referrals.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseConnection, DbBackend};

use crate::domain::registry::RegistryCache;

/// Most distinct operation names kept as labels: clients name operations, and a label per
/// name must not grow without bound. Later names count as `other`.
const MAX_OPERATIONS: usize = 200;

type Labels = Vec<(String, String)>;

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// What one GraphQL request did.
pub struct Observation<'a> {
    /// Its operation name, if it gave one.
    pub operation: Option<&'a str>,
    /// `ok`, or the code of its first error.
    pub outcome: &'a str,
    /// How long it took.
    pub elapsed: Duration,
    /// The cost charged, when it was.
    pub cost: Option<u64>,
}

/// The instance's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    cost: Histogram,
    rate_limited: Counter,
    slow_subscribers: Counter,
    pool_connections: Gauge,
    pool_idle: Gauge,
    registry_builds: Gauge,
    registry_reads_memory: Gauge,
    registry_reads_sql: Gauge,
    registry_version_checks: Gauge,
    registry_lease: Gauge,
    referrals_overdue: Gauge,
    not_modified: Counter,
    cache_hits: Counter,
    cache_misses: Counter,
    direct_answers: Counter,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("maillage");
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation name and outcome (ok or the first error's code)",
            requests.clone(),
        );
        let latency =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL request latency by operation name",
            latency.clone(),
        );
        let cost = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        registry.register(
            "graphql_request_cost",
            "Cost points charged per GraphQL request",
            cost.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused for being over their cost budget",
            rate_limited.clone(),
        );
        let slow_subscribers = Counter::default();
        registry.register(
            "slow_subscribers_closed",
            "Subscription connections closed because the client stopped reading",
            slow_subscribers.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Open database connections in the pool",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in the pool",
            pool_idle.clone(),
        );
        let registry_builds = Gauge::default();
        registry.register(
            "registry_in_memory_builds",
            "Builds of the in-memory registry since start",
            registry_builds.clone(),
        );
        let registry_reads_memory = Gauge::default();
        registry.register(
            "registry_reads_in_memory",
            "Registry version checks answered by the in-memory registry since start",
            registry_reads_memory.clone(),
        );
        let registry_reads_sql = Gauge::default();
        registry.register(
            "registry_reads_by_sql",
            "Registry version checks that found the in-memory registry behind (reads by SQL) since start",
            registry_reads_sql.clone(),
        );
        let registry_version_checks = Gauge::default();
        registry.register(
            "registry_version_checks",
            "Registry version reads sent to the database since start (each shared by the requests that arrived before it was sent)",
            registry_version_checks.clone(),
        );
        let registry_lease = Gauge::default();
        registry.register(
            "registry_lease_running",
            "1 while this instance reads the registry under a lease (PostgreSQL: no version read a request), else 0",
            registry_lease.clone(),
        );
        let referrals_overdue = Gauge::default();
        registry.register(
            "referrals_overdue",
            "Referrals past their acknowledgement or answer due date, across every organisation",
            referrals_overdue.clone(),
        );
        let not_modified = Counter::default();
        registry.register(
            "not_modified",
            "Conditional GETs answered 304 Not Modified without running the query",
            not_modified.clone(),
        );
        let (cache_hits, cache_misses) = (Counter::default(), Counter::default());
        registry.register(
            "response_cache_hits",
            "Public GET reads answered from the response cache",
            cache_hits.clone(),
        );
        registry.register(
            "response_cache_misses",
            "Public GET reads the response cache did not hold (run, then kept)",
            cache_misses.clone(),
        );
        let direct_answers = Counter::default();
        registry.register(
            "direct_answers",
            "Plain registry lookups answered without async-graphql's executor",
            direct_answers.clone(),
        );
        Self {
            registry,
            not_modified,
            cache_hits,
            cache_misses,
            direct_answers,
            requests,
            latency,
            cost,
            rate_limited,
            slow_subscribers,
            pool_connections,
            pool_idle,
            registry_builds,
            registry_reads_memory,
            registry_reads_sql,
            registry_version_checks,
            registry_lease,
            referrals_overdue,
            operations: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }) else {
            return "unnamed".into();
        };
        let Ok(mut known) = self.operations.lock() else {
            return "other".into();
        };
        if known.contains(name) || known.len() < MAX_OPERATIONS {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Records one GraphQL request.
    pub fn observe(&self, o: Observation<'_>) {
        let operation = self.operation_label(o.operation);
        self.requests
            .get_or_create(&vec![
                ("operation".into(), operation.clone()),
                ("outcome".into(), o.outcome.to_owned()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("operation".into(), operation)])
            .observe(o.elapsed.as_secs_f64());
        if let Some(cost) = o.cost {
            self.cost.observe(cost as f64);
        }
        if o.outcome == "RATE_LIMITED" {
            self.rate_limited.inc();
        }
    }

    /// Records a conditional GET answered `304 Not Modified`.
    pub fn not_modified(&self) {
        self.not_modified.inc();
    }

    /// Records an operation answered directly (`graphql::direct`).
    pub fn direct_answer(&self) {
        self.direct_answers.inc();
    }

    /// Records a lookup of the response cache.
    pub fn response_cache(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    /// Records a subscription connection closed for being too slow.
    pub fn slow_subscriber(&self) {
        self.slow_subscribers.inc();
    }

    /// Records how many referrals are overdue now (read by the `/metrics` handler).
    pub fn set_referrals_overdue(&self, n: u64) {
        self.referrals_overdue
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The text exposition, with the pool and the in-memory registry's counts read now.
    pub fn render(&self, db: &DatabaseConnection, registry: &RegistryCache) -> String {
        let (builds, memory, sql) = registry.counts();
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.registry_builds.set(gauge(builds));
        self.registry_reads_memory.set(gauge(memory));
        self.registry_reads_sql.set(gauge(sql));
        self.registry_version_checks
            .set(gauge(registry.version_checks()));
        self.registry_lease.set(i64::from(registry.lease_running()));
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => (0, 0),
        };
        self.pool_connections.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}
