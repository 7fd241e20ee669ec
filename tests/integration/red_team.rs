//! The red team's defects, each with the test that would have caught it: hidden data through
//! relations, control characters in text, tokens that panic or contradict themselves, audit
//! records naming the wrong type, hidden and missing objects told apart, error messages that
//! echo whole inputs, dates without bounds, and member feed events of a new grouping.

use entity::{contact_point, resource};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, clock_start, error_code, token};
use crate::resources::{METRO, RENNES, id_of, published, request};

/// A whole hour `days` after the tests' clock start.
fn hour(days: i64, hour: i64) -> String {
    (clock_start() + chrono::Duration::days(days) + chrono::Duration::hours(hour))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string()
}

const UPDATE_RESOURCE: &str = "mutation($i: UpdateResourceInput!) { updateResource(input: $i) {
    resource { version visibility } userErrors { field code message } } }";

#[tokio::test]
async fn a_booked_resource_that_became_restricted_is_hidden_from_the_requester() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let id = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "EQUIPMENT", "name": "Nacelle élévatrice",
                "capacity": 1, "unit": "machine", "costModel": "FREE",
                "conditions": "Clés à l'accueil des services techniques",
                "bookingPolicy": "AUTOMATIC", "coverage": { "ownerMembers": true } }),
    )
    .await;
    let r = request(
        &app,
        &rennes_editor,
        json!({ "resourceId": id, "requesterId": rennes, "quantity": 1,
                "from": hour(2, 8), "to": hour(2, 12), "purpose": "Élagage" }),
    )
    .await;
    let booking = r["data"]["requestReservation"]["reservation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();
    let seen = |tok: String| {
        let (app, booking) = (&app, booking.clone());
        async move {
            app.graphql_as(
                Some(&tok),
                "query($id: ID!, $s: String!) {
                   node(id: $id) { ... on Reservation { status resource { name conditions } } }
                   organisation(siren: $s) { reservations(as: REQUESTER) { resource { name } } } }",
                json!({ "id": booking, "s": RENNES }),
            )
            .await
            .1
        }
    };
    let before = seen(rennes_editor.clone()).await;
    assert_eq!(
        before["data"]["node"]["resource"]["name"], "Nacelle élévatrice",
        "{before:#}"
    );

    let (_, r) = app
        .graphql_as(
            Some(&metro_editor),
            UPDATE_RESOURCE,
            json!({ "i": { "id": id, "version": 1, "visibility": "RESTRICTED" } }),
        )
        .await;
    assert_eq!(
        r["data"]["updateResource"]["resource"]["visibility"], "RESTRICTED",
        "{r:#}"
    );
    let after = seen(rennes_editor).await;
    // The reservation stays the requester's to see; the resource does not.
    assert_eq!(after["data"]["node"]["status"], "APPROVED", "{after:#}");
    assert_eq!(after["data"]["node"]["resource"], Value::Null, "{after:#}");
    assert_eq!(
        after["data"]["organisation"]["reservations"][0]["resource"],
        Value::Null,
        "{after:#}"
    );
    // Its owner still sees it.
    let owner = seen(metro_editor).await;
    assert_eq!(
        owner["data"]["node"]["resource"]["name"], "Nacelle élévatrice",
        "{owner:#}"
    );
}

const ADD_CONTACT: &str = "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) {
    contactPoint { id version } userErrors { field code message } } }";

#[tokio::test]
async fn control_characters_in_text_are_refused_naming_the_field_and_change_nothing() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let before = (
        contact_point::Entity::find().count(&app.db).await.unwrap(),
        resource::Entity::find().count(&app.db).await.unwrap(),
    );
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "a contact value",
            ADD_CONTACT,
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL",
                           "value": "accueil\u{0}@rennes.fr" } }),
            "i.value",
        ),
        (
            "an idempotency key",
            ADD_CONTACT,
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL",
                           "value": "accueil@rennes.fr", "idempotencyKey": "k\u{1b}[2J" } }),
            "i.idempotencyKey",
        ),
        (
            "a resource name",
            "mutation($i: PublishResourceInput!) { publishResource(input: $i) {
               resource { id } userErrors { code } } }",
            json!({ "i": { "ownerId": rennes, "kind": "EQUIPMENT", "name": "Tente\u{7}",
                           "capacity": 1, "unit": "tent", "costModel": "FREE",
                           "bookingPolicy": "APPROVAL" } }),
            "i.name",
        ),
        (
            "an audit log filter",
            "query($a: String) { auditLog(filter: { action: $a }) { totalCount } }",
            json!({ "a": "add\u{0}ContactPoint" }),
            "a",
        ),
    ];
    for (case, query, variables, argument) in cases {
        let (_, r) = app.graphql_as(Some(&admin), query, variables).await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{case}: {r:#}");
        assert_eq!(
            r["errors"][0]["extensions"]["argument"], argument,
            "{case}: {r:#}"
        );
    }
    // Written in the document rather than in a variable.
    let (_, r) = app
        .graphql_as(
            Some(&editor),
            &format!(
                "mutation {{ addContactPoint(input: {{ organisationId: \"{rennes}\", kind: PHONE,
                   value: \"02 23 62 10 10\\u0000\" }}) {{ contactPoint {{ id }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT", "{r:#}");
    assert_eq!(r["errors"][0]["extensions"]["argument"], "input.value");
    // Tabs and line breaks are text.
    let (_, r) = app
        .graphql_as(
            Some(&editor),
            ADD_CONTACT,
            json!({ "i": { "organisationId": rennes, "kind": "WEBSITE",
                           "label": "Mairie\tde Rennes", "value": "https://metropole.rennes.fr" } }),
        )
        .await;
    assert_eq!(
        r["data"]["addContactPoint"]["userErrors"],
        json!([]),
        "{r:#}"
    );
    assert_eq!(
        (
            contact_point::Entity::find().count(&app.db).await.unwrap(),
            resource::Entity::find().count(&app.db).await.unwrap(),
        ),
        (before.0 + 1, before.1)
    );
}

/// A token signed with the tests' secret carrying `claims` (standard claims added).
fn signed(mut claims: Value) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let object = claims.as_object_mut().unwrap();
    object.insert("iss".into(), json!("maillage"));
    object.insert("aud".into(), json!("maillage-api"));
    object.insert("exp".into(), json!(now + 600));
    object.entry("sub").or_insert(json!("agent@rennes.fr"));
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(crate::common::SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn tokens_that_panicked_or_contradicted_themselves_are_refused() {
    let app = TestApp::new().await;
    for (case, claims) in [
        (
            "a non-ASCII SIRET",
            json!({ "siret": "2135023é800011", "roles": ["editor"] }),
        ),
        (
            "a SIRET of multibyte characters",
            json!({ "siret": "éééééééééééééé", "roles": ["editor"] }),
        ),
        (
            "roles and role disagree",
            json!({ "org": RENNES, "roles": ["editor"], "role": "superadmin" }),
        ),
        (
            "a subject with a NUL byte",
            json!({ "org": RENNES, "roles": ["editor"], "sub": "agent\u{0}@rennes.fr" }),
        ),
    ] {
        let (status, body) = app
            .graphql_as(
                Some(&signed(claims)),
                "{ viewer { authenticated roles } }",
                json!({}),
            )
            .await;
        assert_eq!(status.as_u16(), 401, "{case}: {body:#}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{case}");
    }
    // A well-formed SIRET names the organisation; `role` alone, or agreeing, is read.
    for claims in [
        json!({ "siret": "21350238800019", "role": "editor" }),
        json!({ "siret": "21350238800019", "roles": ["editor"], "role": "Editor" }),
    ] {
        let (status, body) = app
            .graphql_as(
                Some(&signed(claims.clone())),
                "{ viewer { authenticated roles organisation { siren } } }",
                json!({}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{claims}: {body:#}");
        assert_eq!(
            body["data"]["viewer"]["roles"],
            json!(["EDITOR"]),
            "{body:#}"
        );
        assert_eq!(body["data"]["viewer"]["organisation"]["siren"], RENNES);
    }
}

#[tokio::test]
async fn audit_records_name_their_entity_and_its_links_by_global_id() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let admin = token("a@metropole.fr", Some(METRO), &["admin"]);
    let id = published(
        &app,
        &editor,
        json!({ "ownerId": metro, "kind": "STAFF", "name": "Juriste marchés publics",
                "capacity": 0.5, "unit": "FTE", "location": "35238", "costModel": "COST_SHARING",
                "bookingPolicy": "APPROVAL" }),
    )
    .await;
    let log = app
        .graphql_as(
            Some(&admin),
            "query($o: ID) { auditLog(filter: { organisation: $o, entityType: \"Resource\" }) {
               nodes { entityId entityType after } } }",
            json!({ "o": metro }),
        )
        .await
        .1;
    let record = &log["data"]["auditLog"]["nodes"][0];
    assert_eq!(record["entityId"], id, "{log:#}");
    assert_eq!(record["after"]["ownerId"], metro, "{log:#}");
    let location = record["after"]["locationId"].as_str().unwrap();
    let node = app
        .query(
            "query($a: ID!, $b: ID!) { a: node(id: $a) { __typename }
               b: node(id: $b) { ... on Organisation { inseeCode } } }",
            json!({ "a": record["entityId"], "b": location }),
        )
        .await;
    assert_eq!(node["a"]["__typename"], "Resource");
    assert_eq!(node["b"]["inseeCode"], "35238");
}

#[tokio::test]
async fn what_a_caller_may_not_see_answers_as_what_does_not_exist() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let (_, r) = app
        .graphql_as(
            Some(&rennes_editor),
            ADD_CONTACT,
            json!({ "i": { "organisationId": rennes, "kind": "PHONE", "value": "02 23 62 00 00",
                           "label": "Astreinte du maire", "visibility": "RESTRICTED" } }),
        )
        .await;
    let hidden = r["data"]["addContactPoint"]["contactPoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same id with its number changed: one that does not exist.
    let missing = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("ContactPoint:987654321")
    };
    let update = |id: String| {
        let (app, tok) = (&app, metro_editor.clone());
        async move {
            let (_, r) = app
                .graphql_as(
                    Some(&tok),
                    "mutation($i: UpdateContactPointInput!) { updateContactPoint(input: $i) {
                       contactPoint { id } userErrors { code message } } }",
                    json!({ "i": { "id": id, "version": 1, "value": "06 00 00 00 00" } }),
                )
                .await;
            r["data"]["updateContactPoint"]["userErrors"][0]["code"].clone()
        }
    };
    assert_eq!(update(hidden.clone()).await, "NOT_FOUND");
    assert_eq!(update(missing.clone()).await, "NOT_FOUND");
    assert_eq!(
        app.graphql_as(
            Some(&metro_editor),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": hidden })
        )
        .await
        .1["data"]["node"],
        Value::Null
    );

    // A restricted resource named in a draft answers as one that does not exist.
    let restricted = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "BUILDING", "name": "Salle du conseil",
                "capacity": 1, "unit": "room", "costModel": "FREE",
                "bookingPolicy": "APPROVAL", "visibility": "RESTRICTED" }),
    )
    .await;
    let nowhere = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Resource:987654321")
    };
    let draft = |resource: String| {
        let (app, tok, rennes, metro) =
            (&app, rennes_editor.clone(), rennes.clone(), metro.clone());
        async move {
            let (_, r) = app
                .graphql_as(
                    Some(&tok),
                    "mutation($i: DraftAgreementInput!) { draftAgreement(input: $i) {
                       agreement { id } userErrors { field code message } } }",
                    json!({ "i": { "draftingPartyId": rennes, "kind": "MISE_A_DISPOSITION",
                                   "title": "Prêt de salle",
                                   "parties": [ { "organisationId": rennes, "role": "BENEFICIARY" },
                                                { "organisationId": metro, "role": "PROVIDER" } ],
                                   "validFrom": "2026-01-01", "resources": [resource] } }),
                )
                .await;
            let e = &r["data"]["draftAgreement"]["userErrors"][0];
            let message = e["message"].as_str().unwrap_or_default();
            // The message names the resource by the id the caller sent; compare the rest.
            (
                e["code"].clone(),
                message.split(" does not exist").nth(1).map(str::to_owned),
            )
        }
    };
    let (a, b) = (draft(restricted).await, draft(nowhere).await);
    assert_eq!(a.0, "BAD_USER_INPUT");
    assert_eq!(a, b);
}

#[tokio::test]
async fn the_deciding_subject_is_shown_to_the_parties_and_the_state_only() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    // The métropole proposes for all its member communes; Rennes' council decides first.
    let editor = token("dgs@metropole.fr", Some(METRO), &["editor"]);
    let admin = token("maire@rennes.fr", Some(RENNES), &["admin"]);
    let (_, r) = app
        .graphql_as(
            Some(&editor),
            "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
               transfer { id } userErrors { code message } } }",
            json!({ "i": { "competence": "C3035", "toId": metro,
                           "effectiveDate": crate::common::date(1, 1, 1) } }),
        )
        .await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();
    app.graphql_as(
        Some(&admin),
        "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
           userErrors { code } } }",
        json!({ "i": { "transferId": tid, "party": rennes } }),
    )
    .await;
    let decided_by = |tok: Option<String>| {
        let (app, tid) = (&app, tid.clone());
        async move {
            app.graphql_as(
                tok.as_deref(),
                "query($id: ID!) { node(id: $id) { ... on Transfer {
                   consents { party { siren } decision decidedBy } } } }",
                json!({ "id": tid }),
            )
            .await
            .1["data"]["node"]["consents"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["party"]["siren"] == RENNES)
                .cloned()
                .unwrap()
        }
    };
    let anonymous = decided_by(None).await;
    assert_eq!(anonymous["decision"], "APPROVED");
    assert_eq!(anonymous["party"]["siren"], RENNES);
    assert_eq!(anonymous["decidedBy"], Value::Null);
    let brest = token("e@brest.fr", Some("212900195"), &["editor"]);
    assert_eq!(decided_by(Some(brest)).await["decidedBy"], Value::Null);
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    assert_eq!(
        decided_by(Some(metro_editor)).await["decidedBy"],
        "maire@rennes.fr"
    );
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    assert_eq!(
        decided_by(Some(state)).await["decidedBy"],
        "maire@rennes.fr"
    );
}

#[tokio::test]
async fn long_inputs_are_quoted_short_and_dates_are_bounded() {
    let app = TestApp::new().await;
    let long = "9".repeat(100_000);
    let (_, r) = app
        .graphql_as(
            None,
            "query($s: String!) { organisation(siren: $s) { id } }",
            json!({ "s": long }),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT", "{:.300}", r.to_string());
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(message.len() < 200, "{:.300}", message);
    assert!(message.contains("9999999999"), "{message}");

    for date in ["0001-01-01", "1799-12-31", "2200-01-01", "9999-12-31"] {
        let (_, r) = app
            .graphql_as(
                None,
                "query($at: Date) { organisation(inseeCode: \"35238\", at: $at) { name } }",
                json!({ "at": date }),
            )
            .await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{date}: {r:#}");
    }
    // The bounds themselves are dates.
    for date in ["1800-01-01", "2199-12-31"] {
        let (_, r) = app
            .graphql_as(
                None,
                "query($at: Date) { organisation(inseeCode: \"35238\", at: $at) { name } }",
                json!({ "at": date }),
            )
            .await;
        assert!(r.get("errors").is_none(), "{date}: {r:#}");
    }

    // A reservation lasts at most a year and starts within five.
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let id = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "VEHICLE", "name": "Camion benne",
                "capacity": 1, "unit": "vehicle", "costModel": "FREE",
                "bookingPolicy": "AUTOMATIC", "coverage": { "ownerMembers": true } }),
    )
    .await;
    for (from, to, field) in [
        (hour(1, 8), hour(400, 8), "input.to"),
        (hour(2000, 8), hour(2001, 8), "input.from"),
        (hour(1, 8), "9999-01-01T00:00:00Z".to_owned(), "input.to"),
    ] {
        let r = request(
            &app,
            &rennes_editor,
            json!({ "resourceId": id, "requesterId": rennes, "quantity": 1,
                    "from": from, "to": to, "purpose": "Déménagement" }),
        )
        .await;
        let e = &r["data"]["requestReservation"]["userErrors"][0];
        assert_eq!(e["code"], "BAD_USER_INPUT", "{r:#}");
        assert_eq!(e["field"], field, "{r:#}");
    }
}

#[tokio::test]
async fn registering_a_grouping_tells_the_feed_about_each_member() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let state = token("agent@prefecture.gouv.fr", None, &["state"]);
    let cursor = app.query("{ feedCursor }", json!({})).await["feedCursor"].clone();
    let (_, r) = app
        .graphql_as(
            Some(&state),
            "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) {
               organisation { id } userErrors { field code message } } }",
            // A test fixture: a made-up syndicat (its SIREN passes the Luhn check).
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai",
                           "siren": "253599997", "members": [rennes, metro],
                           "validFrom": "2026-01-01", "departement": "35" } }),
        )
        .await;
    let grouping = r["data"]["registerGrouping"]["organisation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();
    let feed = app
        .query(
            "query($after: String) { changes(after: $after, first: 10) {
               events { entityId operation } } }",
            json!({ "after": cursor }),
        )
        .await;
    let mut seen: Vec<(String, String)> = feed["changes"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["entityId"].as_str().unwrap().to_owned(),
                n["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (grouping, "CREATED".to_owned()),
        (rennes, "UPDATED".to_owned()),
        (metro, "UPDATED".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{feed:#}");
}

mod websocket {
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::Message;

    use crate::common::{TestApp, WsClient as Socket, auth_config, ws_connect as connect};

    async fn send(ws: &mut Socket, message: Value) {
        ws.send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Messages until the server closes: the texts received, and the close code.
    async fn until_closed(ws: &mut Socket, within: Duration) -> (Vec<Value>, Option<u16>) {
        let mut texts = Vec::new();
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, ws.next()).await {
                Err(_) => return (texts, None),
                Ok(Some(Ok(Message::Text(t)))) => texts.push(serde_json::from_str(&t).unwrap()),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return (texts, frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
                Ok(_) => return (texts, None),
            }
        }
    }

    #[tokio::test]
    async fn a_connection_does_not_outlive_its_token() {
        let config = api::auth::AuthConfig {
            jwt_leeway_secs: 0,
            ..auth_config()
        };
        let app = TestApp::with_auth(config.clone()).await;
        let addr = app.spawn_server().await;
        let roles = vec!["partner".to_owned()];
        let short =
            api::auth::dev_token(&config, "app@partner.fr", Some("213502388"), &roles, 2).unwrap();
        let mut ws = connect(addr).await;
        send(
            &mut ws,
            json!({ "type": "connection_init",
                    "payload": { "Authorization": format!("Bearer {short}") } }),
        )
        .await;
        let started = Instant::now();
        send(
            &mut ws,
            json!({ "id": "feed", "type": "subscribe",
                    "payload": { "query": "subscription { changes { cursor } }" } }),
        )
        .await;
        send(
            &mut ws,
            json!({ "id": "me", "type": "subscribe",
                    "payload": { "query": "{ viewer { authenticated } }" } }),
        )
        .await;
        let (texts, code) = until_closed(&mut ws, Duration::from_secs(10)).await;
        assert_eq!(texts[0]["type"], "connection_ack", "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t["payload"]["data"]["viewer"]["authenticated"] == true),
            "{texts:?}"
        );
        // Closed once the token expired (2 s, no skew tolerated here), running
        // subscriptions with it.
        assert_eq!(code, Some(4403), "{texts:?}");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_refused_connection_init_closes_with_4403() {
        let app = TestApp::new().await;
        let addr = app.spawn_server().await;
        let mut ws = connect(addr).await;
        send(
            &mut ws,
            json!({ "type": "connection_init", "payload": { "Authorization": "Bearer x.y.z" } }),
        )
        .await;
        let (texts, code) = until_closed(&mut ws, Duration::from_secs(5)).await;
        assert!(texts.is_empty(), "{texts:?}");
        assert_eq!(code, Some(4403));
    }
}

#[tokio::test]
async fn an_anonymous_mutation_is_told_to_authenticate() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let (_, r) = app
        .graphql_as(
            None,
            ADD_CONTACT,
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL",
                           "value": "accueil@rennes.fr" } }),
        )
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED", "{r:#}");
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("authentication required"), "{message}");
}
