//! The in-memory registry: the same answers as SQL on the national data, and never an answer
//! from before a committed write, whoever wrote it (a writer outside Maillage waits for the
//! readers as Maillage's own do: see `registry_leases`).

use api::domain::registry::{
    self, Direction, OrderField, OrganisationFilter, OrganisationOrder, normalise_filter,
};
use chrono::NaiveDate;
use entity::OrganisationKind as K;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::common::{TestApp, post_graphql};

const RENNES_METROPOLE: &str = "243500139";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Reads of every kind the API makes, for dates around the 2025 merger wave.
const DATES: [&str; 4] = ["2022-06-01", "2024-12-31", "2025-01-01", "2026-06-01"];

async fn strings(app: &TestApp, sql: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("query");
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("text"))
        .collect()
}

async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    let rows = app
        .db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("query");
    rows.iter()
        .map(|r| r.try_get_by_index::<i64>(0).expect("id"))
        .collect()
}

#[tokio::test]
async fn memory_answers_every_read_as_sql_does() {
    let app = TestApp::new().await;
    let db = &app.db;
    let reads = app.state.registry_reads();
    let (_, memory_before, sql_before) = app.state.registry.counts();
    let mut calls = 0u64;

    // Lookups: every code of three départements (Manche merged many communes), every EPCI SIREN.
    let codes = strings(
        &app,
        "SELECT DISTINCT insee_code FROM organisation WHERE insee_code IS NOT NULL \
         AND departement_code IN ('35', '50', '2A') ORDER BY insee_code",
    )
    .await;
    let sirens = strings(
        &app,
        "SELECT DISTINCT siren FROM organisation WHERE siren IS NOT NULL AND departement_code IN ('35', '50') ORDER BY siren",
    )
    .await;
    assert!(
        codes.len() > 1000 && sirens.len() > 500,
        "{} {}",
        codes.len(),
        sirens.len()
    );
    for at in DATES.map(day) {
        for code in &codes {
            for kind in [None, Some(K::Commune)] {
                let sql = registry::by_insee_code(db, code, kind, at).await.unwrap();
                assert_eq!(
                    reads.by_insee_code(code, kind, at).await.unwrap(),
                    sql,
                    "{code} {at}"
                );
                calls += 1;
            }
        }
        for siren in &sirens {
            let sql = registry::by_siren(db, siren, None, at).await.unwrap();
            assert_eq!(
                reads.by_siren(siren, None, at).await.unwrap(),
                sql,
                "{siren} {at}"
            );
            calls += 1;
        }
    }
    // Bad codes are the same typed errors.
    for bad in ["3523", "ABCDE"] {
        assert!(
            reads
                .by_insee_code(bad, None, day("2026-06-01"))
                .await
                .is_err()
        );
    }
    assert!(
        reads
            .by_siren("123456789", None, day("2026-06-01"))
            .await
            .is_err()
    );

    // Links: memberships of the organisations of two départements, members of every group.
    let members = ids(
        &app,
        "SELECT id FROM organisation WHERE departement_code IN ('35', '50') ORDER BY id",
    )
    .await;
    let groups = ids(
        &app,
        "SELECT DISTINCT group_id FROM membership ORDER BY group_id",
    )
    .await;
    let succeeding = ids(
        &app,
        "SELECT predecessor_id FROM succession UNION SELECT successor_id FROM succession",
    )
    .await;
    assert!(
        succeeding.len() > 100,
        "{} organisations in successions",
        succeeding.len()
    );
    assert_eq!(reads.by_ids(&members).await.unwrap().len(), members.len());
    let mut all_at = vec![None];
    all_at.extend(DATES.map(|d| Some(day(d))));
    for at in all_at {
        assert_eq!(
            reads.memberships_of(&members, at).await.unwrap(),
            registry::memberships_of(db, &members, at).await.unwrap(),
            "memberships at {at:?}"
        );
        calls += 1;
    }
    for at in DATES.map(day) {
        for kinds in [vec![], vec![K::Commune], vec![K::Departement]] {
            assert_eq!(
                reads.members_of(&groups, at, &kinds).await.unwrap(),
                registry::members_of(db, &groups, at, &kinds).await.unwrap(),
                "members at {at} of kinds {kinds:?}"
            );
            calls += 1;
        }
    }
    for direction in [Direction::Predecessors, Direction::Successors] {
        assert_eq!(
            reads.successions_of(&succeeding, direction).await.unwrap(),
            registry::successions_of(db, &succeeding, direction)
                .await
                .unwrap()
        );
        calls += 1;
    }

    // Lists: filters × orders × dates, three pages each, and their counts.
    let metro = registry::by_siren(db, RENNES_METROPOLE, None, day("2026-06-01"))
        .await
        .unwrap()
        .unwrap()
        .id;
    let ille_et_vilaine =
        registry::by_insee_code(db, "35", Some(K::Departement), day("2026-06-01"))
            .await
            .unwrap()
            .unwrap()
            .id;
    let f = OrganisationFilter::default;
    let filters = [
        f(),
        OrganisationFilter {
            kinds: vec![K::Commune],
            ..f()
        },
        OrganisationFilter {
            kinds: vec![K::Cc, K::Ca, K::Cu, K::Metropole],
            departement: Some("35".into()),
            ..f()
        },
        OrganisationFilter {
            region: Some("53".into()),
            ..f()
        },
        OrganisationFilter {
            departement: Some("2A".into()),
            ..f()
        },
        OrganisationFilter {
            member_of: Some(metro),
            ..f()
        },
        OrganisationFilter {
            member_of: Some(ille_et_vilaine),
            kinds: vec![K::Commune],
            ..f()
        },
        OrganisationFilter {
            name_contains: Some("sur-Mer".into()),
            ..f()
        },
        OrganisationFilter {
            name_starts_with: Some("Saint-".into()),
            ..f()
        },
        OrganisationFilter {
            name_starts_with: Some("Saint-".into()),
            kinds: vec![K::Commune],
            region: Some("84".into()),
            ..f()
        },
        OrganisationFilter {
            name_contains: Some("val".into()),
            departement: Some("50".into()),
            ..f()
        },
        OrganisationFilter {
            name_starts_with: Some("zzz".into()),
            ..f()
        },
    ];
    let fields = [
        OrderField::Name,
        OrderField::Population,
        OrderField::InseeCode,
    ];
    for filter in filters {
        let filter = normalise_filter(filter).unwrap();
        for at in ["2024-12-31", "2026-06-01"].map(day) {
            assert_eq!(
                reads.count(&filter, at).await.unwrap(),
                registry::count(db, &filter, at).await.unwrap(),
                "count {filter:?} at {at}"
            );
            calls += 1;
            for field in fields {
                for descending in [false, true] {
                    let order = OrganisationOrder { field, descending };
                    let mut after: Option<String> = None;
                    for page in 0..3 {
                        let sql = registry::list(db, &filter, order, at, 25, after.as_deref())
                            .await
                            .unwrap();
                        let memory = reads
                            .list(&filter, order, at, 25, after.as_deref())
                            .await
                            .unwrap();
                        assert_eq!(
                            memory, sql,
                            "page {page} of {filter:?} by {order:?} at {at}"
                        );
                        calls += 1;
                        match sql.rows.last() {
                            Some(row) if sql.has_next => {
                                after = Some(registry::cursor_of(sql.order, row))
                            }
                            _ => break,
                        }
                    }
                }
            }
        }
    }
    // A cursor of another order is refused alike.
    let by_name = registry::list(
        db,
        &f(),
        OrganisationOrder::default(),
        day("2026-06-01"),
        1,
        None,
    )
    .await
    .unwrap();
    let cursor = registry::cursor_of(by_name.order, &by_name.rows[0]);
    let by_population = OrganisationOrder {
        field: OrderField::Population,
        descending: true,
    };
    assert!(
        reads
            .list(&f(), by_population, day("2026-06-01"), 5, Some(&cursor))
            .await
            .is_err()
    );

    // Search.
    for text in [
        "saint etienne",
        "Rennes",
        "sur",
        "ile de france",
        "Ville de Paris",
        "alsace",
        "Val d'Ille",
        "xyzzy",
        "35500",
        "vitre 35500",
        "3550",
        "75001",
    ] {
        for kinds in [vec![], vec![K::Commune], vec![K::Cc, K::Ca]] {
            for at in ["2024-12-31", "2026-06-01"].map(day) {
                assert_eq!(
                    reads.search(text, &kinds, 20, at).await.unwrap(),
                    registry::search(db, text, &kinds, 20, at).await.unwrap(),
                    "search {text:?} {kinds:?} at {at}"
                );
                calls += 1;
            }
        }
    }

    // Every one of those was answered from memory.
    let (_, memory_after, sql_after) = app.state.registry.counts();
    assert_eq!(sql_after, sql_before, "no read fell back to SQL");
    assert!(
        memory_after - memory_before >= calls,
        "{} reads from memory for {calls} calls",
        memory_after - memory_before
    );
}

/// The name `router` gives the organisation with INSEE code `code`.
async fn name_of(router: &axum::Router, code: &str) -> String {
    let value = post_graphql(
        router,
        None,
        "query($c: String!) { organisation(inseeCode: $c) { name } }",
        json!({ "c": code }),
    )
    .await;
    value["data"]["organisation"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_committed_write_is_read_back_at_once_on_every_instance() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    assert_eq!(name_of(&app.router, "35238").await, "Rennes");
    assert_eq!(name_of(&other, "35238").await, "Rennes");
    let version = registry::version(&app.db).await.unwrap();
    let (builds, _, sql_before) = app.state.registry.counts();

    // Any writer, even one outside the API: triggers advance the version in its transaction.
    let backend = app.db.get_database_backend();
    let rename =
        "UPDATE organisation SET name = 'Roazhon' WHERE insee_code = '35238' AND kind = 'COMMUNE'";
    app.db
        .execute_raw(Statement::from_string(backend, rename))
        .await
        .unwrap();
    // What Maillage's own writers do after committing: wait until every instance reading
    // under a registry lease (PostgreSQL) has seen it; immediate on SQLite.
    registry::wait_for_readers(&app.db).await.unwrap();
    assert!(registry::version(&app.db).await.unwrap() > version);
    assert_eq!(name_of(&app.router, "35238").await, "Roazhon");
    assert_eq!(name_of(&other, "35238").await, "Roazhon");
    let (_, _, sql_after) = app.state.registry.counts();
    assert!(sql_after > sql_before, "the stale copy was not used");

    // The copy is rebuilt in the background, started by a read that finds it stale (at most
    // one start a second, so reads keep coming as they would on a server); reads then come
    // from memory again.
    let mut waited = 0;
    while app.state.registry.counts().0 == builds {
        assert!(waited < 300, "no rebuild within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(name_of(&app.router, "35238").await, "Roazhon");
        waited += 1;
    }
    let (_, memory_before, sql_before) = app.state.registry.counts();
    assert_eq!(name_of(&app.router, "35238").await, "Roazhon");
    let (_, memory_after, sql_after) = app.state.registry.counts();
    assert_eq!(sql_after, sql_before);
    assert!(memory_after > memory_before);
    // Both paths show in the metrics.
    let (_, metrics) = app.get("/metrics").await;
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from {metrics}"))
    };
    assert!(value("maillage_registry_in_memory_builds") >= 2);
    assert!(value("maillage_registry_reads_by_sql") >= 1);
    assert!(value("maillage_registry_reads_in_memory") >= 1);
    assert_eq!(
        value("maillage_registry_version_checks"),
        app.state.registry.version_checks()
    );
    if backend == sea_orm::DbBackend::Sqlite {
        // PostgreSQL's reads under a lease ask no version.
        assert!(app.state.registry.version_checks() >= 2);
    }

    // A write rolled back leaves the version, and the copy, as they were.
    let version = registry::version(&app.db).await.unwrap();
    let txn = sea_orm::TransactionTrait::begin(&app.db).await.unwrap();
    txn.execute_raw(Statement::from_string(
        backend,
        "UPDATE organisation SET name = 'Rennes' WHERE insee_code = '35238' AND kind = 'COMMUNE'",
    ))
    .await
    .unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(registry::version(&app.db).await.unwrap(), version);
    assert_eq!(name_of(&app.router, "35238").await, "Roazhon");
}

#[tokio::test]
async fn a_query_reads_the_registry_with_one_statement() {
    let app = TestApp::new().await;
    let q = "query($c: String!) { organisation(inseeCode: $c) { name epci { name } departement { name }
               region { name } memberOf { group { name members(first: 5) { nodes { member { name } } } } } } }";
    app.take_statements();
    let checks = app.state.registry.version_checks();
    let r = app.query(q, json!({ "c": "35238" })).await;
    assert_eq!(r["organisation"]["region"]["name"], "Bretagne", "{r:#}");
    // One version check for the whole query; none under a registry lease (PostgreSQL).
    assert!(
        app.state.registry.version_checks() - checks <= 1,
        "one version check for the whole query"
    );
    // The check is read on the pool directly; nothing else goes to the database.
    assert_eq!(app.take_statements(), 0);
    // Without the copy, the same query is a handful of batched statements.
    let sql = TestApp::sql_only().await;
    sql.take_statements();
    assert_eq!(sql.query(q, json!({ "c": "35238" })).await, r);
    assert!(sql.take_statements() > 1);
}

#[tokio::test]
async fn concurrent_queries_share_version_checks() {
    let app = TestApp::new().await;
    let codes = [
        "35238", "29019", "75056", "13055", "69123", "31555", "44109", "33063",
    ];
    let q = "query($c: String!) { organisation(inseeCode: $c) { inseeCode epci { name } } }";
    app.take_statements();
    let before = app.state.registry.version_checks();
    let answers = futures_util::future::join_all(
        (0..32).map(|i| app.query(q, json!({ "c": codes[i % codes.len()] }))),
    )
    .await;
    assert_eq!(app.take_statements(), 0, "no registry read by SQL");
    let statements = app.state.registry.version_checks() - before;
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["organisation"]["inseeCode"], codes[i % codes.len()]);
        assert!(a["organisation"]["epci"]["name"].is_string(), "{a:#}");
    }
    // One version check at most per query, none of them a registry read by SQL; how many
    // queries share a check depends on scheduling, and is tested deterministically in
    // `domain::registry::reads` (readers arriving during a check share the next one).
    assert!(
        statements <= 32,
        "{statements} statements for 32 concurrent queries"
    );
}

/// Declared assignments are held with the registry: read from memory, they answer as SQL does
/// (whole-territory and scoped ones, past, current and future), and a declaration is seen at
/// once.
#[tokio::test]
async fn declarations_from_memory_answer_as_sql_does() {
    use crate::common::{date, token};
    use api::domain::competences::declarations::Declarations;

    let app = TestApp::new().await;
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let id = |code: &'static str| {
        let app = &app;
        async move {
            app.query(
                "query($c: String!) { organisation(inseeCode: $c) { id } }",
                json!({ "c": code }),
            )
            .await["organisation"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (rennes, cesson, vitre) = (id("35238").await, id("35051").await, id("35360").await);
    let (_, r) = app
        .graphql_as(
            Some(&state),
            "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) { organisation { id } } }",
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": "253599997",
                           "members": [rennes, cesson, vitre], "validFrom": "2026-01-01", "departement": "35" } }),
        )
        .await;
    let syndicat = r["data"]["registerGrouping"]["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let declare = |tok: String, input: serde_json::Value| {
        let app = &app;
        async move {
            let (_, r) = app
                .graphql_as(
                    Some(&tok),
                    "mutation($i: DeclareCompetenceInput!) { declareCompetence(input: $i) {
                       assignment { id } userErrors { message } } }",
                    json!({ "i": input }),
                )
                .await;
            assert!(
                r["data"]["declareCompetence"]["assignment"]["id"].is_string(),
                "{r:#}"
            );
        }
    };
    let syndicat_editor = token("e@syndicat.fr", Some("253599997"), &["editor"]);
    declare(
        syndicat_editor.clone(),
        json!({ "organisationId": syndicat, "competence": "C1030", "role": "HOLDER", "basis": "STATUTES",
                "scope": ["35238", "35360"], "validFrom": date(0, 1, 1), "validTo": date(1, 1, 1) }),
    )
    .await;
    declare(
        syndicat_editor,
        json!({ "organisationId": syndicat, "competence": "C3035", "role": "IMPLEMENTER", "basis": "STATUTES",
                "validFrom": date(1, 1, 1) }),
    )
    .await;
    declare(
        token("e@metropole.fr", Some(RENNES_METROPOLE), &["editor"]),
        json!({ "organisationId": RENNES_METROPOLE, "competence": "C4505",
                "role": "FINANCER", "basis": "STATUTES", "validFrom": date(0, 1, 1) }),
    )
    .await;
    app.state.registry.warm(&app.db).await.unwrap();

    let reads = app.state.registry_reads();
    let (_, _, sql_before) = app.state.registry.counts();
    let communes = ids(
        &app,
        "SELECT id FROM organisation WHERE insee_code IN ('35238', '35051', '35360', '35024') AND kind = 'COMMUNE'",
    )
    .await;
    let sorted = |d: &Declarations| {
        let mut v: Vec<(i64, String)> = d
            .all()
            .iter()
            .map(|a| (a.id, a.competence_code.clone()))
            .collect();
        v.sort();
        v
    };
    let mut seen = 0;
    for at in [date(-1, 6, 1), date(0, 6, 1), date(1, 6, 1)] {
        let at = day(&at);
        for competence in [None, Some("C1030"), Some("C3035"), Some("C2080")] {
            let memory = Declarations::in_effect(&app.db, &reads, at, competence)
                .await
                .unwrap();
            let sql = Declarations::in_effect_by_sql(&app.db, at, competence)
                .await
                .unwrap();
            assert_eq!(sorted(&memory), sorted(&sql), "{at} {competence:?}");
            for &commune in &communes {
                let groups = api::domain::territory::groups_of(&app.db, &[commune], at)
                    .await
                    .unwrap();
                let memory =
                    Declarations::of_commune(&app.db, &reads, commune, &groups, at, competence)
                        .await
                        .unwrap();
                let sql =
                    Declarations::of_commune_by_sql(&app.db, commune, &groups, at, competence)
                        .await
                        .unwrap();
                assert_eq!(
                    sorted(&memory),
                    sorted(&sql),
                    "{commune} {at} {competence:?}"
                );
                let covering = |d: &Declarations| {
                    let mut v: Vec<i64> =
                        d.covering(commune, &groups).iter().map(|a| a.id).collect();
                    v.sort();
                    v
                };
                assert_eq!(
                    covering(&memory),
                    covering(&sql),
                    "{commune} {at} {competence:?}"
                );
                seen += covering(&memory).len();
            }
        }
    }
    assert!(seen > 0, "the declarations covered some commune");
    let (_, _, sql_after) = app.state.registry.counts();
    assert_eq!(sql_after, sql_before, "every read came from memory");
}

/// A mutation's answer reads its own writes: its loaders never answer from the in-memory copy
/// a query would be pinned to, nor keep what an earlier field of the same mutation read (its
/// fields run one after the other, each after its write).
#[tokio::test]
async fn a_mutation_reads_back_its_own_registry_writes() {
    use crate::common::{date, token};

    let app = TestApp::new().await;
    let rennes = app
        .query(
            "{ organisation(inseeCode: \"35238\") { memberOf { group { name } } } }",
            json!({}),
        )
        .await["organisation"]
        .clone();
    let (_, from_memory, _) = app.state.registry.counts();
    assert!(from_memory > 0, "the copy answers queries");
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    let payload = "organisation { name members(first: 5) { nodes { member {
                     inseeCode memberOf { group { name } } } } } }
                   userErrors { field code message }";
    let (_, r) = app
        .graphql_as(
            Some(&state),
            &format!(
                "mutation($a: RegisterGroupingInput!, $b: RegisterGroupingInput!) {{
                   a: registerGrouping(input: $a) {{ {payload} }}
                   b: registerGrouping(input: $b) {{ {payload} }} }}"
            ),
            // Test fixtures: made-up syndicats (their SIRENs pass the Luhn check). Members
            // named by INSEE code are looked up in the registry before each write.
            json!({
                "a": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai",
                       "siren": "253599997", "members": ["35238"],
                       "validFrom": date(-1, 1, 1), "departement": "35" },
                "b": { "kind": "SYNDICAT", "name": "Syndicat intercommunal d'essai",
                       "siren": "253599989", "members": ["35238"],
                       "validFrom": date(-1, 1, 1), "departement": "35" },
            }),
        )
        .await;
    let groups_of_rennes = |field: &str| -> Vec<String> {
        let grouping = &r["data"][field]["organisation"];
        let member = &grouping["members"]["nodes"][0]["member"];
        assert_eq!(member["inseeCode"], "35238", "{r:#}");
        member["memberOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{r:#}"))
            .iter()
            .filter_map(|m| m["group"]["name"].as_str().map(str::to_owned))
            .collect()
    };
    let before = rennes["memberOf"].as_array().map_or(0, Vec::len);
    let (a, b) = (groups_of_rennes("a"), groups_of_rennes("b"));
    assert_eq!(a.len(), before + 1, "{a:?}");
    assert!(a.contains(&"Syndicat mixte d'essai".to_owned()), "{a:?}");
    assert_eq!(b.len(), before + 2, "{b:?}");
    assert!(
        b.contains(&"Syndicat intercommunal d'essai".to_owned()),
        "{b:?}"
    );
}
