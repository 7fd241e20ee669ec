//! Registry leases (PostgreSQL): instances read the registry from memory without asking its
//! version, and a write is acknowledged only once every instance holding a lease has seen
//! it. On SQLite there are no leases: every read asks the version, and writers never wait.

use std::time::{Duration, Instant};

use api::AppState;
use api::config::Limits;
use api::domain::registry;
use axum::Router;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::common::{TestApp, date, post_graphql as post, token};

/// A made-up syndicat (test fixture; its SIREN passes the Luhn check).
const SIREN: &str = "253599997";

const REGISTER: &str = "mutation($g: RegisterGroupingInput!) {
    registerGrouping(input: $g) { organisation { siren } userErrors { code } } }";

fn grouping() -> Value {
    json!({ "g": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": SIREN,
                   "members": ["35238"], "validFrom": date(-1, 1, 1), "departement": "35" } })
}

/// Whether `router` finds the syndicat.
async fn finds(router: &Router) -> bool {
    let r = post(
        router,
        None,
        "query($s: String!) { organisation(siren: $s) { siren } }",
        json!({ "s": SIREN }),
    )
    .await;
    r["data"]["organisation"]["siren"] == SIREN
}

fn postgres(app: &TestApp) -> bool {
    app.db.get_database_backend() == DbBackend::Postgres
}

/// Waits until `state`'s lease runs (PostgreSQL: its first renewal is in the background).
async fn lease_of(state: &AppState) {
    for _ in 0..200 {
        if state.registry.lease_running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no registry lease within 2 s");
}

/// Readers hammer a second instance while a write goes through the first: every read that
/// began after the write was acknowledged finds it. On PostgreSQL both instances read under
/// leases, and a read costs no version check.
#[tokio::test]
async fn a_write_is_read_at_once_by_every_reader_of_every_instance() {
    let app = TestApp::new().await;
    let other = app.state_with(Limits::default(), true).await;
    let other_router = api::app(other.clone());
    if postgres(&app) {
        lease_of(&app.state).await;
        lease_of(&other).await;
        // A read under a running lease asks no version (the lease could lapse between the
        // two looks on a loaded machine: then one more try).
        let mut spared = false;
        for _ in 0..5 {
            let checks = other.registry.version_checks();
            assert!(!finds(&other_router).await);
            if other.registry.lease_running() && other.registry.version_checks() == checks {
                spared = true;
                break;
            }
        }
        assert!(spared, "reads under a lease still asked the version");
    } else {
        assert!(
            !app.state.registry.lease_running(),
            "leases are PostgreSQL's"
        );
    }

    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (router, acknowledged) = (other_router.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let mut after = 0;
                // Reads until 30 have begun after the acknowledgement.
                while after < 30 {
                    let began = Instant::now();
                    let found = finds(&router).await;
                    let ack = *acknowledged.lock().unwrap();
                    if ack.is_some_and(|ack| began > ack) {
                        assert!(found, "a read that began after the write missed it");
                        after += 1;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    let r = post(&app.router, Some(&state), REGISTER, grouping()).await;
    *acknowledged.lock().unwrap() = Some(Instant::now());
    assert_eq!(
        r["data"]["registerGrouping"]["organisation"]["siren"], SIREN,
        "{r:#}"
    );
    for reader in readers {
        reader.await.unwrap();
    }
    assert!(finds(&app.router).await);
}

/// A running lease that has not seen a write holds its acknowledgement back until it does:
/// here a reader that never renews (a row of `registry_readers`, as a stalled instance
/// leaves). PostgreSQL only: elsewhere writers never wait.
#[tokio::test]
async fn a_write_waits_for_every_running_lease_to_see_it() {
    let app = TestApp::new().await;
    if !postgres(&app) {
        // No leases: nothing to wait for.
        registry::wait_for_readers(&app.db).await.unwrap();
        return;
    }
    lease_of(&app.state).await;
    let sql = |s: &str| Statement::from_string(DbBackend::Postgres, s.to_owned());
    app.db
        .execute_raw(sql(
            "INSERT INTO registry_readers (id, seen_version, lease_until) \
             SELECT 'stalled', version, now() + interval '1 minute' FROM registry_version",
        ))
        .await
        .unwrap();
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    let router = app.router.clone();
    let write =
        tokio::spawn(async move { post(&router, Some(&state), REGISTER, grouping()).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !write.is_finished(),
        "acknowledged before the stalled reader saw it"
    );
    // The write is committed already: this instance reads it.
    assert!(finds(&app.router).await);
    app.db
        .execute_raw(sql(
            "UPDATE registry_readers SET seen_version = (SELECT version FROM registry_version) \
             WHERE id = 'stalled'",
        ))
        .await
        .unwrap();
    let r = tokio::time::timeout(registry::LEASE, write)
        .await
        .expect("acknowledged once every reader saw it")
        .unwrap();
    assert_eq!(
        r["data"]["registerGrouping"]["organisation"]["siren"], SIREN,
        "{r:#}"
    );

    // A lease that ends is not waited for: the write after it is acknowledged.
    app.db
        .execute_raw(sql(
            "UPDATE registry_readers SET seen_version = 0, lease_until = now() - interval '1 second' \
             WHERE id = 'stalled'",
        ))
        .await
        .unwrap();
    let started = Instant::now();
    registry::wait_for_readers(&app.db).await.unwrap();
    assert!(
        started.elapsed() < registry::LEASE,
        "waited for an ended lease"
    );
}

/// An instance that shuts down gives its lease up: writers stop waiting for it, and its reads
/// ask the version again.
#[tokio::test]
async fn a_released_lease_is_gone() {
    let app = TestApp::new().await;
    if !postgres(&app) {
        return;
    }
    let other = app.state_with(Limits::default(), true).await;
    lease_of(&other).await;
    let leases = || async {
        app.db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) FROM registry_readers WHERE lease_until > now()",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    };
    // One lease an instance (the first renewal of the second is in the background, and a
    // state replaced while built gives its own up in the background too).
    let mut settled = false;
    for _ in 0..200 {
        if leases().await == 2 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(settled, "{} leases for two instances", leases().await);
    other.registry.release().await;
    assert!(!other.registry.lease_running());
    assert_eq!(leases().await, 1);
    let checks = other.registry.version_checks();
    assert!(!finds(&api::app(other.clone())).await);
    assert_eq!(other.registry.version_checks(), checks + 1);
}
