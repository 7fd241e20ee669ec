//! Shared resources and reservations: the full lifecycle, the capacity invariant under
//! concurrent requests and approvals, illegal transitions, the permission matrix, and
//! availability checked against brute force.

use chrono::{DateTime, Duration, DurationRound, Utc};
use entity::{ReservationStatus, reservation, resource};
use futures_util::future::join_all;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, clock_start, error_code, token};

pub const RENNES: &str = "213502388";
pub const METRO: &str = "243500139";
pub const BREST: &str = "212900195";
pub const VAL_D_ILLE: &str = "243500667";

pub async fn id_of(app: &TestApp, siren: &str) -> String {
    app.query(
        "query($s: String!) { organisation(siren: $s) { id } }",
        json!({ "s": siren }),
    )
    .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn departement(app: &TestApp, code: &str) -> String {
    app.query(
        "query($c: String!) { organisation(inseeCode: $c, kind: DEPARTEMENT) { id } }",
        json!({ "c": code }),
    )
    .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A whole hour some days from the tests' clock start.
pub fn hour(days: i64, hours: i64) -> DateTime<Utc> {
    clock_start().duration_trunc(Duration::hours(1)).unwrap()
        + Duration::days(days)
        + Duration::hours(hours)
}

const PUBLISH: &str = "mutation($i: PublishResourceInput!) { publishResource(input: $i) {
    resource { id version name capacity status kind costModel costAmount bookingPolicy
               coverage { ownerMembers territories { id } organisations { id } } }
    userErrors { field code message } } }";

pub async fn publish(app: &TestApp, tok: &str, input: Value) -> Value {
    app.graphql_as(Some(tok), PUBLISH, json!({ "i": input }))
        .await
        .1
}

/// Publishes and returns the new resource's id.
pub async fn published(app: &TestApp, tok: &str, input: Value) -> String {
    let r = publish(app, tok, input).await;
    r["data"]["publishResource"]["resource"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not published: {r:#}"))
        .to_owned()
}

const REQUEST: &str = "mutation($i: RequestReservationInput!) { requestReservation(input: $i) {
    reservation { id version status quantity from to agreement { id } requester { siren } }
    userErrors { field code message } } }";

pub async fn request(app: &TestApp, tok: &str, input: Value) -> Value {
    app.graphql_as(Some(tok), REQUEST, json!({ "i": input }))
        .await
        .1
}

async fn decide(app: &TestApp, tok: &str, which: &str, input: Value) -> Value {
    let q = format!(
        "mutation($i: DecideReservationInput!) {{ {which}(input: $i) {{
           reservation {{ id version status reason }} userErrors {{ field code message }} }} }}"
    );
    app.graphql_as(Some(tok), &q, json!({ "i": input })).await.1
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        resource::Entity::find().count(&app.db).await.unwrap(),
        reservation::Entity::find().count(&app.db).await.unwrap(),
        entity::change_event::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
    )
}

fn user_error(r: &Value, mutation: &str) -> (String, String) {
    let e = &r["data"][mutation]["userErrors"][0];
    (
        e["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no user error: {r:#}"))
            .to_owned(),
        e["field"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn a_resource_is_published_discovered_requested_approved_and_cancelled() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let r = publish(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "VEHICLE", "name": "Minibus électrique",
                "capacity": 2, "unit": "vehicle", "location": "35238", "costModel": "FLAT_FEE",
                "costAmount": 25.5, "bookingPolicy": "APPROVAL",
                "coverage": { "ownerMembers": true } }),
    )
    .await;
    let res = &r["data"]["publishResource"]["resource"];
    assert_eq!(res["status"], "AVAILABLE", "{r:#}");
    assert_eq!(res["capacity"], 2.0);
    assert_eq!(res["costAmount"], 25.5);
    assert_eq!(res["coverage"]["ownerMembers"], true);
    let id = res["id"].as_str().unwrap().to_owned();

    // Discovery: by the commune it may serve, by text (accents folded), by kind.
    let found = |filter: Value| {
        let app = &app;
        async move {
            app.query(
                "query($f: ResourceFilter) { resources(filter: $f) { totalCount nodes { id } } }",
                json!({ "f": filter }),
            )
            .await["resources"]
                .clone()
        }
    };
    assert_eq!(
        found(json!({ "coveringCommune": "35238" })).await["totalCount"],
        1
    );
    assert_eq!(
        found(json!({ "coveringCommune": "29019" })).await["totalCount"],
        0
    );
    assert_eq!(
        found(json!({ "text": "electrique" })).await["nodes"][0]["id"],
        id
    );
    assert_eq!(found(json!({ "kinds": ["STAFF"] })).await["totalCount"], 0);

    let (from, to) = (hour(3, 9), hour(3, 12));
    let r = request(
        &app,
        &rennes_editor,
        json!({ "resourceId": id, "requesterId": rennes, "quantity": 1, "from": from,
                "to": to, "purpose": "Sortie scolaire" }),
    )
    .await;
    let booking = &r["data"]["requestReservation"]["reservation"];
    assert_eq!(booking["status"], "REQUESTED", "{r:#}");
    let booking_id = booking["id"].as_str().unwrap().to_owned();

    let r = decide(
        &app,
        &metro_editor,
        "approveReservation",
        json!({ "id": booking_id, "version": 1 }),
    )
    .await;
    assert_eq!(
        r["data"]["approveReservation"]["reservation"]["status"], "APPROVED",
        "{r:#}"
    );

    // The approved quantity is taken over its period only.
    let free = app
        .query(
            "query($id: ID!, $f: DateTime!, $t: DateTime!, $f2: DateTime!, $t2: DateTime!) {
               node(id: $id) { ... on Resource { during: freeCapacity(from: $f, to: $t)
                                               after: freeCapacity(from: $f2, to: $t2) } } }",
            json!({ "id": id, "f": from, "t": to, "f2": to, "t2": hour(3, 15) }),
        )
        .await;
    assert_eq!(free["node"]["during"], 1.0);
    assert_eq!(free["node"]["after"], 2.0);

    // Both sides see it in their lists.
    let lists = app
        .graphql_as(
            Some(&rennes_editor),
            "query($r: ID!) { node(id: $r) { ... on Organisation {
                 reservations(as: REQUESTER) { id status resource { name } } } } }",
            json!({ "r": rennes }),
        )
        .await
        .1;
    assert_eq!(
        lists["data"]["node"]["reservations"][0]["id"], booking_id,
        "{lists:#}"
    );
    assert_eq!(
        lists["data"]["node"]["reservations"][0]["resource"]["name"],
        "Minibus électrique"
    );

    let r = decide(
        &app,
        &rennes_editor,
        "cancelReservation",
        json!({ "id": booking_id, "version": 2, "reason": "Sortie annulée" }),
    )
    .await;
    assert_eq!(
        r["data"]["cancelReservation"]["reservation"]["status"], "CANCELLED",
        "{r:#}"
    );

    // Every step is traced in the audit trail and the change feed.
    let actions: Vec<String> = entity::audit_record::Entity::find()
        .filter(entity::audit_record::Column::EntityType.is_in(["Resource", "Reservation"]))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        [
            "publishResource",
            "requestReservation",
            "approveReservation",
            "cancelReservation"
        ]
    );
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    let feed = app
        .graphql_as(
            Some(&state),
            "{ changes(entityTypes: [\"Resource\", \"Reservation\"]) { events { entityType operation } } }",
            json!({}),
        )
        .await
        .1;
    assert_eq!(
        feed["data"]["changes"]["events"].as_array().map(Vec::len),
        Some(4),
        "{feed:#}"
    );
}

#[tokio::test]
async fn capacity_holds_under_fifty_concurrent_requests_and_approvals() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let (from, to) = (hour(5, 8), hour(5, 18));

    // First come, first served: 50 requests of 1 for a capacity of 10, overlapping periods.
    let auto = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "EQUIPMENT", "name": "Barrières de sécurité",
                "capacity": 10, "unit": "lot", "costModel": "FREE",
                "bookingPolicy": "AUTOMATIC", "coverage": { "ownerMembers": true } }),
    )
    .await;
    let outcomes = join_all((0..50).map(|i| {
        let (app, tok, auto, rennes) = (&app, &rennes_editor, &auto, &rennes);
        async move {
            request(
                app,
                tok,
                json!({ "resourceId": auto, "requesterId": rennes, "quantity": 1,
                        "from": from + Duration::minutes(i % 7), "to": to,
                        "purpose": format!("Événement {i}") }),
            )
            .await
        }
    }))
    .await;
    let approved = outcomes
        .iter()
        .filter(|r| r["data"]["requestReservation"]["reservation"]["status"] == "APPROVED")
        .count();
    let refused = outcomes
        .iter()
        .filter(|r| r["data"]["requestReservation"]["userErrors"][0]["code"] == "CONFLICT")
        .count();
    assert_eq!((approved, refused), (10, 40));
    let in_db = reservation::Entity::find()
        .filter(reservation::Column::Status.eq(ReservationStatus::Approved))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(in_db, 10);

    // Decided by the owner: 50 requests wait, 50 approvals race, 10 win.
    let manual = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "BUILDING", "name": "Salle polyvalente",
                "capacity": 10, "unit": "place", "costModel": "FREE",
                "bookingPolicy": "APPROVAL", "coverage": { "ownerMembers": true } }),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..50 {
        let r = request(
            &app,
            &rennes_editor,
            json!({ "resourceId": manual, "requesterId": rennes, "quantity": 1,
                    "from": from, "to": to, "purpose": format!("Réunion {i}") }),
        )
        .await;
        ids.push(
            r["data"]["requestReservation"]["reservation"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{r:#}"))
                .to_owned(),
        );
    }
    let outcomes = join_all(ids.iter().map(|id| {
        decide(
            &app,
            &metro_editor,
            "approveReservation",
            json!({ "id": id, "version": 1 }),
        )
    }))
    .await;
    let approved = outcomes
        .iter()
        .filter(|r| r["data"]["approveReservation"]["reservation"]["status"] == "APPROVED")
        .count();
    assert_eq!(approved, 10, "{:#}", outcomes[0]);
    let in_db = reservation::Entity::find()
        .filter(reservation::Column::Status.eq(ReservationStatus::Approved))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(in_db, 20);
}

#[tokio::test]
async fn bad_requests_and_illegal_transitions_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let brest = id_of(&app, BREST).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let brest_editor = token("e@brest.fr", Some(BREST), &["editor"]);
    let id = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "STAFF", "name": "Juriste marchés publics",
                "capacity": 0.5, "unit": "FTE", "costModel": "COST_SHARING",
                "bookingPolicy": "APPROVAL", "coverage": { "ownerMembers": true } }),
    )
    .await;
    let before = counts(&app).await;
    let ask =
        |tok: String, requester: String, quantity: f64, from: DateTime<Utc>, to: DateTime<Utc>| {
            let (app, id) = (&app, id.clone());
            async move {
                request(
                    app,
                    &tok,
                    json!({ "resourceId": id, "requesterId": requester, "quantity": quantity,
                        "from": from, "to": to, "purpose": "Appui juridique" }),
                )
                .await
            }
        };
    let cases = [
        // Outside coverage: Brest is no member of Rennes Métropole.
        (
            ask(
                brest_editor.clone(),
                brest.clone(),
                0.5,
                hour(2, 0),
                hour(3, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.requesterId",
        ),
        // More than the capacity.
        (
            ask(
                rennes_editor.clone(),
                rennes.clone(),
                1.0,
                hour(2, 0),
                hour(3, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.quantity",
        ),
        // Empty and reversed periods.
        (
            ask(
                rennes_editor.clone(),
                rennes.clone(),
                0.5,
                hour(2, 0),
                hour(2, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.to",
        ),
        (
            ask(
                rennes_editor.clone(),
                rennes.clone(),
                0.5,
                hour(3, 0),
                hour(2, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.to",
        ),
        // Over already.
        (
            ask(
                rennes_editor.clone(),
                rennes.clone(),
                0.5,
                hour(-3, 0),
                hour(-2, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.to",
        ),
        // Too precise a quantity.
        (
            ask(
                rennes_editor.clone(),
                rennes.clone(),
                0.0001,
                hour(2, 0),
                hour(3, 0),
            )
            .await,
            "BAD_USER_INPUT",
            "input.quantity",
        ),
    ];
    for (r, code, field) in &cases {
        assert_eq!(
            user_error(r, "requestReservation"),
            (code.to_string(), field.to_string()),
            "{r:#}"
        );
    }
    assert_eq!(
        counts(&app).await,
        before,
        "refused requests changed nothing"
    );

    let r = ask(
        rennes_editor.clone(),
        rennes.clone(),
        0.5,
        hour(2, 0),
        hour(3, 0),
    )
    .await;
    let booking = r["data"]["requestReservation"]["reservation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Declining says why; a stale version conflicts.
    let r = decide(
        &app,
        &metro_editor,
        "declineReservation",
        json!({ "id": booking, "version": 1 }),
    )
    .await;
    assert_eq!(user_error(&r, "declineReservation").0, "BAD_USER_INPUT");
    let r = decide(
        &app,
        &metro_editor,
        "approveReservation",
        json!({ "id": booking, "version": 7 }),
    )
    .await;
    assert_eq!(user_error(&r, "approveReservation").0, "CONFLICT");
    let r = decide(
        &app,
        &metro_editor,
        "declineReservation",
        json!({ "id": booking, "version": 1, "reason": "Agent en congé" }),
    )
    .await;
    assert_eq!(
        r["data"]["declineReservation"]["reservation"]["status"],
        "DECLINED"
    );
    // A declined request is final.
    for which in [
        "approveReservation",
        "declineReservation",
        "cancelReservation",
    ] {
        let r = decide(
            &app,
            &metro_editor,
            which,
            json!({ "id": booking, "version": 2, "reason": "encore" }),
        )
        .await;
        assert_eq!(
            user_error(&r, which).0,
            "ILLEGAL_TRANSITION",
            "{which}: {r:#}"
        );
    }

    // Retired is final, and a retired resource takes no requests.
    let retire = |status: &'static str, version: i64| {
        let (app, tok, id) = (&app, metro_editor.clone(), id.clone());
        async move {
            app.graphql_as(
                Some(&tok),
                "mutation($i: UpdateResourceInput!) { updateResource(input: $i) {
                   resource { status version } userErrors { code field } } }",
                json!({ "i": { "id": id, "version": version, "status": status } }),
            )
            .await
            .1
        }
    };
    let r = retire("RETIRED", 1).await;
    assert_eq!(
        r["data"]["updateResource"]["resource"]["status"], "RETIRED",
        "{r:#}"
    );
    let r = retire("AVAILABLE", 2).await;
    assert_eq!(user_error(&r, "updateResource").0, "ILLEGAL_TRANSITION");
    let r = ask(
        rennes_editor.clone(),
        rennes.clone(),
        0.5,
        hour(2, 0),
        hour(3, 0),
    )
    .await;
    assert_eq!(
        user_error(&r, "requestReservation"),
        ("BAD_USER_INPUT".into(), "input.resourceId".into())
    );

    // Malformed ids are typed errors.
    let r = decide(
        &app,
        &metro_editor,
        "approveReservation",
        json!({ "id": "nope", "version": 1 }),
    )
    .await;
    assert_eq!(
        user_error(&r, "approveReservation"),
        ("BAD_USER_INPUT".into(), "input.id".into())
    );
}

#[tokio::test]
async fn who_may_publish_request_decide_and_see() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let input = json!({ "ownerId": metro, "kind": "EXPERTISE", "name": "Conseil en énergie partagé",
                        "capacity": 3, "unit": "day", "costModel": "FREE",
                        "bookingPolicy": "APPROVAL", "coverage": { "ownerMembers": true } });
    let before = counts(&app).await;
    for (tok, code) in [
        (token("e@rennes.fr", Some(RENNES), &["editor"]), "FORBIDDEN"),
        (
            token("app@partner.fr", Some(METRO), &["partner"]),
            "FORBIDDEN",
        ),
        (
            token("agent@prefecture.gouv.fr", None, &["state"]),
            "FORBIDDEN",
        ),
    ] {
        let r = publish(&app, &tok, input.clone()).await;
        assert_eq!(error_code(&r), code, "{r:#}");
    }
    let (_, r) = app
        .graphql_as(None, PUBLISH, json!({ "i": input.clone() }))
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    assert_eq!(counts(&app).await, before);
    let id = published(&app, &metro_editor, input).await;

    let ask = |tok: String| {
        let (app, id, rennes) = (&app, id.clone(), rennes.clone());
        async move {
            request(
                app,
                &tok,
                json!({ "resourceId": id, "requesterId": rennes, "quantity": 1,
                        "from": hour(4, 0), "to": hour(5, 0), "purpose": "Audit énergétique" }),
            )
            .await
        }
    };
    // Only the requester's staff or a partner app acting for it may request for it.
    let r = ask(metro_editor.clone()).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = ask(token("e@brest.fr", Some(BREST), &["editor"])).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = ask(token("app@france-services.fr", Some(RENNES), &["partner"])).await;
    let booking = r["data"]["requestReservation"]["reservation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();

    // Only the owner's editors decide; the requester may cancel; strangers see nothing.
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let r = decide(
        &app,
        &rennes_editor,
        "approveReservation",
        json!({ "id": booking, "version": 1 }),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let brest_editor = token("e@brest.fr", Some(BREST), &["editor"]);
    let r = decide(
        &app,
        &brest_editor,
        "cancelReservation",
        json!({ "id": booking, "version": 1 }),
    )
    .await;
    assert_eq!(user_error(&r, "cancelReservation").0, "NOT_FOUND");
    let seen = app
        .graphql_as(
            Some(&brest_editor),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": booking }),
        )
        .await
        .1;
    assert_eq!(seen["data"]["node"], Value::Null);
    let r = app
        .graphql_as(
            Some(&brest_editor),
            "query($id: ID!) { node(id: $id) { ... on Organisation { reservations(as: REQUESTER) { id } } } }",
            json!({ "id": rennes }),
        )
        .await
        .1;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = decide(
        &app,
        &metro_editor,
        "approveReservation",
        json!({ "id": booking, "version": 1 }),
    )
    .await;
    assert_eq!(
        r["data"]["approveReservation"]["reservation"]["status"], "APPROVED",
        "{r:#}"
    );
    let r = decide(
        &app,
        &rennes_editor,
        "cancelReservation",
        json!({ "id": booking, "version": 2 }),
    )
    .await;
    assert_eq!(
        r["data"]["cancelReservation"]["reservation"]["status"], "CANCELLED",
        "{r:#}"
    );

    // A restricted resource is invisible to others, even by id.
    let hidden = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "DATA", "name": "Fichier des agents", "capacity": 1,
                "unit": "accès", "costModel": "FREE", "bookingPolicy": "APPROVAL",
                "visibility": "RESTRICTED" }),
    )
    .await;
    let seen = app
        .graphql_as(
            Some(&rennes_editor),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": hidden }),
        )
        .await
        .1;
    assert_eq!(seen["data"]["node"], Value::Null);
    let listed = app.query("{ resources { totalCount } }", json!({})).await;
    assert_eq!(listed["resources"]["totalCount"], 1);
}

#[tokio::test]
async fn an_idempotent_request_is_replayed_not_repeated() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let id = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "VEHICLE", "name": "Balayeuse", "capacity": 1,
                "unit": "vehicle", "costModel": "FREE", "bookingPolicy": "AUTOMATIC",
                "coverage": { "ownerMembers": true } }),
    )
    .await;
    let input = json!({ "resourceId": id, "requesterId": rennes, "from": hour(6, 0),
                        "to": hour(6, 4), "purpose": "Marché de Noël", "idempotencyKey": "k-1" });
    let first = request(&app, &rennes_editor, input.clone()).await;
    let again = request(&app, &rennes_editor, input.clone()).await;
    assert_eq!(
        first["data"]["requestReservation"]["reservation"]["id"],
        again["data"]["requestReservation"]["reservation"]["id"]
    );
    assert_eq!(reservation::Entity::find().count(&app.db).await.unwrap(), 1);
    let mut other = input;
    other["purpose"] = json!("Autre chose");
    let r = request(&app, &rennes_editor, other).await;
    assert_eq!(
        user_error(&r, "requestReservation"),
        ("BAD_USER_INPUT".into(), "idempotencyKey".into())
    );
}

/// What the test knows of the official registry, independently of the code under test:
/// the groups and territories each organisation lies in.
struct Place {
    id: String,
    within: Vec<String>,
}

#[tokio::test]
async fn availability_matches_brute_force_on_random_data() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let brest = id_of(&app, BREST).await;
    let val = id_of(&app, VAL_D_ILLE).await;
    let d35 = departement(&app, "35").await;
    let d29 = departement(&app, "29").await;
    // Rennes is a member of Rennes Métropole and lies in Ille-et-Vilaine; the two EPCI
    // have their seat there; Brest lies in Finistère.
    let places = [
        Place {
            id: rennes.clone(),
            within: vec![metro.clone(), d35.clone()],
        },
        Place {
            id: metro.clone(),
            within: vec![d35.clone()],
        },
        Place {
            id: val.clone(),
            within: vec![d35.clone()],
        },
        Place {
            id: brest.clone(),
            within: vec![d29.clone()],
        },
    ];
    let owners = [
        (metro.clone(), METRO),
        (val.clone(), VAL_D_ILLE),
        (brest.clone(), BREST),
    ];
    let kinds = ["VEHICLE", "BUILDING", "EQUIPMENT"];
    let mut rng = StdRng::seed_from_u64(20261122);

    // Random resources: owner, kind, capacity, coverage.
    struct Res {
        id: String,
        owner: String,
        kind: &'static str,
        capacity: i64,
        owner_members: bool,
        territories: Vec<String>,
        organisations: Vec<String>,
    }
    let mut resources = Vec::new();
    for n in 0..14 {
        let (owner, siren) = owners[rng.random_range(0..owners.len())].clone();
        let kind = kinds[rng.random_range(0..kinds.len())];
        let capacity = rng.random_range(1..=4);
        let owner_members = rng.random_bool(0.5);
        let territories = if rng.random_bool(0.3) {
            vec![[d35.clone(), d29.clone()][rng.random_range(0..2)].clone()]
        } else {
            vec![]
        };
        let organisations = if rng.random_bool(0.3) {
            vec![places[rng.random_range(0..places.len())].id.clone()]
        } else {
            vec![]
        };
        let tok = token("e@owner.fr", Some(siren), &["editor"]);
        let id = published(
            &app,
            &tok,
            json!({ "ownerId": owner, "kind": kind, "name": format!("Ressource {n}"),
                    "capacity": capacity, "unit": "u", "costModel": "FREE",
                    "bookingPolicy": "AUTOMATIC",
                    "coverage": { "ownerMembers": owner_members, "territories": territories,
                                  "organisations": organisations } }),
        )
        .await;
        resources.push(Res {
            id,
            owner,
            kind,
            capacity,
            owner_members,
            territories,
            organisations,
        });
    }

    // Random bookings on a grid of hours over four days; those that do not fit are refused.
    let sirens = [
        (rennes.clone(), RENNES),
        (metro.clone(), METRO),
        (val.clone(), VAL_D_ILLE),
        (brest.clone(), BREST),
    ];
    let mut booked: Vec<(usize, i64, i64, i64)> = Vec::new();
    for _ in 0..60 {
        let r = rng.random_range(0..resources.len());
        let (org, siren) = sirens[rng.random_range(0..sirens.len())].clone();
        let start = rng.random_range(0..90);
        let end = start + rng.random_range(1..8);
        let q = rng.random_range(1..=2);
        let tok = token("e@requester.fr", Some(siren), &["editor"]);
        let out = request(
            &app,
            &tok,
            json!({ "resourceId": resources[r].id, "requesterId": org, "quantity": q,
                    "from": hour(2, start), "to": hour(2, end), "purpose": "test" }),
        )
        .await;
        if out["data"]["requestReservation"]["reservation"]["status"] == "APPROVED" {
            booked.push((r, start, end, q));
        }
    }
    assert!(
        booked.len() >= 10,
        "too few bookings landed: {}",
        booked.len()
    );

    let may_use = |res: &Res, place: &Place| {
        res.owner == place.id
            || res.organisations.contains(&place.id)
            || res.territories.iter().any(|t| place.within.contains(t))
            || (res.owner_members && place.within.contains(&res.owner))
    };
    let free = |i: usize, start: i64, end: i64| {
        let peak = (start..end)
            .map(|h| {
                booked
                    .iter()
                    .filter(|(r, s, e, _)| *r == i && *s <= h && h < *e)
                    .map(|(_, _, _, q)| q)
                    .sum::<i64>()
            })
            .max()
            .unwrap_or(0);
        resources[i].capacity - peak
    };
    // The queries must exercise both filters: some answers non-empty, some usable
    // resources left out for want of free capacity.
    let (mut answered, mut full) = (0, 0);
    for _ in 0..40 {
        let place = &places[rng.random_range(0..places.len())];
        let kind = if rng.random_bool(0.3) {
            None
        } else {
            Some(kinds[rng.random_range(0..kinds.len())])
        };
        let start = rng.random_range(0..95);
        let end = start + rng.random_range(1..10);
        let q = rng.random_range(1..=3);
        let mut expected: Vec<(String, f64)> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| kind.is_none_or(|k| r.kind == k))
            .filter(|(_, r)| may_use(r, place))
            .map(|(i, r)| (r.id.clone(), free(i, start, end)))
            .filter(|(_, f)| {
                full += usize::from(*f < q);
                *f >= q
            })
            .map(|(id, f)| (id, f as f64))
            .collect();
        expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let data = app
            .query(
                "query($k: ResourceKind, $o: ID!, $f: DateTime!, $t: DateTime!, $q: Float!) {
                   availableResources(kind: $k, forOrganisation: $o, from: $f, to: $t,
                                      quantity: $q, first: 100) { id freeCapacity } }",
                json!({ "k": kind, "o": place.id, "f": hour(2, start), "t": hour(2, end), "q": q }),
            )
            .await;
        let mut got: Vec<(String, f64)> = data["availableResources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r["freeCapacity"].as_f64().unwrap(),
                )
            })
            .collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            got, expected,
            "kind {kind:?}, hours {start}..{end}, quantity {q}"
        );
        answered += usize::from(!got.is_empty());
    }
    assert!(
        answered >= 10 && full >= 5,
        "weak sample: {answered} answered, {full} full"
    );
}

#[tokio::test]
async fn a_flat_fee_is_euros_and_cents_and_a_coverage_names_each_organisation_once() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let input = |amount: Value| {
        json!({ "ownerId": metro, "kind": "BUILDING", "name": "Salle du conseil", "capacity": 1,
                "unit": "salle", "costModel": "FLAT_FEE", "costAmount": amount,
                "bookingPolicy": "APPROVAL",
                "coverage": { "organisations": [rennes, "35238", rennes] } })
    };
    // Two decimals, past a hundred million euros (a hundred times it is not whole in binary).
    let r = publish(&app, &editor, input(json!(123_456_789.01))).await;
    let res = &r["data"]["publishResource"]["resource"];
    assert_eq!(res["costAmount"], 123_456_789.01, "{r:#}");
    // Rennes, named three times in two ways, is covered once.
    assert_eq!(res["coverage"]["organisations"], json!([{ "id": rennes }]));
    let before = counts(&app).await;
    for (amount, says) in [
        (json!(1_000_000_000.5), "from 0 to 1,000,000,000"),
        (json!(-1), "from 0 to 1,000,000,000"),
        (json!(12.345), "at most two decimals"),
    ] {
        let r = publish(&app, &editor, input(amount.clone())).await;
        assert_eq!(
            user_error(&r, "publishResource"),
            ("BAD_USER_INPUT".into(), "input.costAmount".into()),
            "{amount}: {r:#}"
        );
        let message = r["data"]["publishResource"]["userErrors"][0]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains(says), "{amount}: {message}");
    }
    assert_eq!(counts(&app).await, before);
}
