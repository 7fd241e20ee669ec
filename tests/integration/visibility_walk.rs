//! No leak, wherever a caller looks: fixtures hold restricted data marked with secrets, and
//! for every role every object type reachable from `node`/`nodes`, organisations, lists, the
//! change feed, exports, federation `_entities` and subscriptions is read with every field the
//! schema offers (selections generated from introspection). Each secret must appear exactly
//! for the roles allowed to see it: absent is a leak test, present proves the walk reaches it.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestApp, clock_start, token};
use crate::resources::{BREST, METRO, RENNES, id_of, published};

/// The schema's object and interface types: name → fields (name, type, required arguments).
struct Types(HashMap<String, Value>);

impl Types {
    async fn load(app: &TestApp) -> Types {
        let data = app
            .query(
                "{ __schema { types { name kind possibleTypes { name }
                   fields { name args { type { kind } }
                            type { kind name ofType { kind name ofType { kind name
                                   ofType { kind name ofType { kind name } } } } } } } } }",
                json!({}),
            )
            .await;
        Types(
            data["__schema"]["types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
                .collect(),
        )
    }

    /// Every field of `name` that takes no required argument, `depth` levels down.
    fn selection(&self, name: &str, depth: usize) -> String {
        let t = &self.0[name];
        match t["kind"].as_str().unwrap() {
            "UNION" | "INTERFACE" => {
                if depth == 0 {
                    return "__typename".into();
                }
                let mut out = vec!["__typename".to_owned()];
                for p in t["possibleTypes"].as_array().unwrap() {
                    let p = p["name"].as_str().unwrap();
                    out.push(format!("... on {p} {{ {} }}", self.selection(p, depth - 1)));
                }
                out.join(" ")
            }
            _ => {
                let mut out = vec!["__typename".to_owned()];
                for f in t["fields"].as_array().unwrap() {
                    let required = f["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a["type"]["kind"] == "NON_NULL");
                    let fname = f["name"].as_str().unwrap();
                    if required || fname.starts_with("__") {
                        continue;
                    }
                    let mut ty = &f["type"];
                    while ty["kind"] == "NON_NULL" || ty["kind"] == "LIST" {
                        ty = &ty["ofType"];
                    }
                    let inner = ty["name"].as_str().unwrap();
                    match ty["kind"].as_str().unwrap() {
                        "SCALAR" | "ENUM" => out.push(fname.to_owned()),
                        _ if depth > 0 => out.push(format!(
                            "{fname} {{ {} }}",
                            self.selection(inner, depth - 1)
                        )),
                        _ => {}
                    }
                }
                out.join(" ")
            }
        }
    }
}

/// The secrets of the fixtures, and who may see each.
const RESTRICTED_CONTACT: &str = "secret-astreinte@rennes.fr";
const PARTNERS_CONTACT: &str = "partners-only@rennes.fr";
const RESTRICTED_RESOURCE: &str = "SECRET-RESOURCE nacelle";
const RESTRICTED_CONDITIONS: &str = "SECRET-CONDITIONS badge";
const RESERVATION_PURPOSE: &str = "SECRET-PURPOSE élagage";
const DRAFT_TITLE: &str = "SECRET-DRAFT convention";
const DECIDER: &str = "secret-decider@rennes.fr";

struct Fixtures {
    ids: Vec<String>,
    organisations: Vec<String>,
    cursor: Value,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let rennes = id_of(app, RENNES).await;
    let metro = id_of(app, METRO).await;
    let brest = id_of(app, BREST).await;
    let cursor = app.query("{ feedCursor }", json!({})).await["feedCursor"].clone();
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let rennes_admin = token(DECIDER, Some(RENNES), &["admin"]);
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let mut ids = Vec::new();
    let run = |tok: String, q: &'static str, v: Value| async move {
        let (_, r) = app.graphql_as(Some(&tok), q, v).await;
        assert!(r.get("errors").is_none(), "{r:#}");
        r
    };
    for (value, visibility) in [
        (RESTRICTED_CONTACT, "RESTRICTED"),
        (PARTNERS_CONTACT, "PARTNERS"),
    ] {
        let r = run(
            rennes_editor.clone(),
            "mutation($i: AddContactPointInput!) { addContactPoint(input: $i) {
               contactPoint { id } userErrors { message } } }",
            json!({ "i": { "organisationId": rennes, "kind": "EMAIL", "value": value,
                           "visibility": visibility } }),
        )
        .await;
        ids.push(
            r["data"]["addContactPoint"]["contactPoint"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let resource = published(
        app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "EQUIPMENT", "name": RESTRICTED_RESOURCE,
                "conditions": RESTRICTED_CONDITIONS, "capacity": 1, "unit": "machine",
                "costModel": "FREE", "bookingPolicy": "AUTOMATIC",
                "coverage": { "ownerMembers": true } }),
    )
    .await;
    ids.push(resource.clone());
    let from = clock_start() + chrono::Duration::days(3);
    let r = run(
        rennes_editor.clone(),
        "mutation($i: RequestReservationInput!) { requestReservation(input: $i) {
           reservation { id } userErrors { message } } }",
        json!({ "i": { "resourceId": resource, "requesterId": rennes, "quantity": 1,
                       "from": from, "to": from + chrono::Duration::hours(4),
                       "purpose": RESERVATION_PURPOSE } }),
    )
    .await;
    ids.push(
        r["data"]["requestReservation"]["reservation"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    // Then the resource is restricted: the requester keeps its reservation, not the resource.
    run(
        metro_editor.clone(),
        "mutation($i: UpdateResourceInput!) { updateResource(input: $i) { userErrors { message } } }",
        json!({ "i": { "id": resource, "version": 1, "visibility": "RESTRICTED" } }),
    )
    .await;
    let r = run(
        rennes_editor.clone(),
        "mutation($i: DraftAgreementInput!) { draftAgreement(input: $i) {
           agreement { id } userErrors { message } } }",
        json!({ "i": { "draftingPartyId": rennes, "kind": "CONVENTION_MUTUALISATION",
                       "title": DRAFT_TITLE, "validFrom": "2026-01-01",
                       "parties": [ { "organisationId": rennes, "role": "BENEFICIARY" },
                                    { "organisationId": metro, "role": "PROVIDER" } ] } }),
    )
    .await;
    ids.push(
        r["data"]["draftAgreement"]["agreement"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    // A pending transfer to the métropole from all its members, decided by one council:
    // who decided is for the parties.
    let r = run(
        metro_editor,
        "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
           transfer { id } userErrors { message } } }",
        json!({ "i": { "competence": "C3035", "toId": metro,
                       "effectiveDate": crate::common::date(1, 1, 1) } }),
    )
    .await;
    let transfer = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(
        rennes_admin,
        "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
           userErrors { message } } }",
        json!({ "i": { "transferId": transfer, "party": rennes } }),
    )
    .await;
    ids.push(transfer);
    Fixtures {
        ids,
        organisations: vec![rennes, metro, brest],
        cursor,
    }
}

/// Everything `tok` can read of the fixtures, through every entry point, as one text.
async fn read_everything(app: &TestApp, types: &Types, f: &Fixtures, tok: Option<&str>) -> String {
    let node = types.selection("Node", 3);
    let organisation = types.selection("Organisation", 2);
    let mut texts = Vec::new();
    let ask = |q: String, v: Value| {
        let q2 = q.clone();
        async move {
            let (_, r) = app.graphql_as(tok, &q2, v).await;
            assert!(
                r.get("data").is_some_and(|d| !d.is_null()),
                "{q2:.200}: {r:#}"
            );
            r.to_string()
        }
    };
    for id in &f.ids {
        texts.push(
            ask(
                format!("query($id: ID!) {{ node(id: $id) {{ {node} }} }}"),
                json!({ "id": id }),
            )
            .await,
        );
    }
    texts.push(
        ask(
            format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {node} }} }}"),
            json!({ "ids": f.ids }),
        )
        .await,
    );
    for id in &f.organisations {
        texts.push(
            ask(
                format!(
                    "query($id: ID!) {{ organisation(id: $id) {{ {organisation}
                       asOwner: reservations(as: OWNER) {{ {reservation} }}
                       asRequester: reservations(as: REQUESTER) {{ {reservation} }} }} }}",
                    reservation = types.selection("Reservation", 2)
                ),
                json!({ "id": id }),
            )
            .await,
        );
        texts.push(
            ask(
                format!(
                    "query($id: ID!) {{ competenceTransfers(organisation: $id) {{ {} }} }}",
                    types.selection("Transfer", 2)
                ),
                json!({ "id": id }),
            )
            .await,
        );
    }
    let resource = types.selection("Resource", 2);
    texts.push(
        ask(
            format!("{{ resources(first: 100) {{ nodes {{ {resource} }} }} }}"),
            json!({}),
        )
        .await,
    );
    let from = clock_start() + chrono::Duration::days(3);
    texts.push(
        ask(
            format!(
                "query($o: ID!, $from: DateTime!, $to: DateTime!) {{
                   availableResources(forOrganisation: $o, from: $from, to: $to) {{ {resource} }} }}"
            ),
            json!({ "o": f.organisations[0], "from": from, "to": from + chrono::Duration::hours(1) }),
        )
        .await,
    );
    let event = types.selection("ChangeEvent", 3);
    texts.push(
        ask(
            format!(
                "query($a: String) {{ changes(after: $a, first: 100) {{ events {{ {event} }} }} }}"
            ),
            json!({ "a": f.cursor }),
        )
        .await,
    );
    let entity = types.selection("_Entity", 3);
    let representations: Vec<Value> = f
        .organisations
        .iter()
        .map(|id| json!({ "__typename": "Organisation", "id": id }))
        .collect();
    texts.push(
        ask(
            format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ {entity} }} }}"),
            json!({ "r": representations }),
        )
        .await,
    );
    for file in ["resources", "agreements"] {
        let mut request = Request::get(format!("/export/{file}.ndjson"));
        if let Some(t) = tok {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (_, body) = app.send(request.body(Body::empty()).unwrap()).await;
        texts.push(String::from_utf8(body).unwrap());
    }
    texts.push(subscription(app, tok, &event, &f.cursor).await);
    texts.join("\n")
}

/// What a live subscription from `cursor` delivers over SSE within a short while.
async fn subscription(app: &TestApp, tok: Option<&str>, event: &str, cursor: &Value) -> String {
    let mut request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream");
    if let Some(t) = tok {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = json!({
        "query": format!("subscription($a: String) {{ changes(after: $a) {{ {event} }} }}"),
        "variables": { "a": cursor },
    })
    .to_string();
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let mut body = response.into_body();
    let mut text = String::new();
    // Every event after the cursor is already there: read until the stream goes quiet.
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(1500), body.frame()).await
    {
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}

#[tokio::test]
async fn no_role_reads_what_it_may_not_see_on_any_path() {
    // Generated selections are large documents: the request limits are tested elsewhere.
    let app = TestApp::with_limits(api::config::Limits {
        max_document_bytes: 1 << 20,
        max_tokens: 200_000,
        max_depth: 64,
        max_complexity: usize::MAX / 2,
        max_body_bytes: 1 << 22,
        cost_budget_anonymous: u32::MAX / 2,
        cost_budget_member: u32::MAX / 2,
        cost_budget_state: u32::MAX / 2,
        ..api::config::Limits::default()
    })
    .await;
    let types = Types::load(&app).await;
    let f = fixtures(&app).await;
    // Who may see each secret.
    let roles: Vec<(&str, Option<String>, Vec<&str>)> = vec![
        ("anonymous", None, vec![]),
        (
            "a partner app of Brest",
            Some(token("app@partner.fr", Some(BREST), &["partner"])),
            vec![PARTNERS_CONTACT],
        ),
        (
            "an editor of Brest",
            Some(token("e@brest.fr", Some(BREST), &["editor"])),
            vec![PARTNERS_CONTACT],
        ),
        (
            "an editor of Rennes",
            Some(token("e2@rennes.fr", Some(RENNES), &["editor"])),
            vec![
                RESTRICTED_CONTACT,
                PARTNERS_CONTACT,
                RESERVATION_PURPOSE,
                DRAFT_TITLE,
                DECIDER,
            ],
        ),
        (
            "an editor of Rennes Métropole",
            Some(token("e2@metropole.fr", Some(METRO), &["editor"])),
            vec![
                PARTNERS_CONTACT,
                RESTRICTED_RESOURCE,
                RESTRICTED_CONDITIONS,
                RESERVATION_PURPOSE,
                DRAFT_TITLE,
                DECIDER,
            ],
        ),
        (
            "a State service",
            Some(token("agent@prefecture.gouv.fr", None, &["state"])),
            vec![
                RESTRICTED_CONTACT,
                PARTNERS_CONTACT,
                RESTRICTED_RESOURCE,
                RESTRICTED_CONDITIONS,
                RESERVATION_PURPOSE,
                DRAFT_TITLE,
                DECIDER,
            ],
        ),
    ];
    let secrets = [
        RESTRICTED_CONTACT,
        PARTNERS_CONTACT,
        RESTRICTED_RESOURCE,
        RESTRICTED_CONDITIONS,
        RESERVATION_PURPOSE,
        DRAFT_TITLE,
        DECIDER,
    ];
    for (role, tok, allowed) in roles {
        let seen = read_everything(&app, &types, &f, tok.as_deref()).await;
        for secret in secrets {
            // JSON escapes no character of these secrets but `é`, which stays as it is.
            assert_eq!(
                seen.contains(secret),
                allowed.contains(&secret),
                "{role} and {secret:?}: {}",
                if allowed.contains(&secret) {
                    "not reached"
                } else {
                    "leaked"
                }
            );
        }
    }
}

#[tokio::test]
async fn hidden_objects_answer_as_missing_ones() {
    let app = TestApp::new().await;
    let f = fixtures(&app).await;
    let brest = token("e@brest.fr", Some(BREST), &["editor"]);
    for id in &f.ids {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(id).unwrap()).unwrap();
        let kind = text.split_once(':').unwrap().0;
        let missing = engine.encode(format!("{kind}:987654321"));
        let answer = |id: String| {
            let (app, brest) = (&app, brest.clone());
            async move {
                let (status, mut r) = app
                    .graphql_as(
                        Some(&brest),
                        "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }",
                        json!({ "id": id }),
                    )
                    .await;
                r.as_object_mut().unwrap().remove("extensions");
                (status, r)
            }
        };
        let (hidden, absent) = (answer(id.clone()).await, answer(missing).await);
        if kind == "ContactPoint" && hidden.1["data"]["node"].is_object() {
            // The PARTNERS contact point is Brest's to see.
            continue;
        }
        if kind == "Transfer" {
            // Transfers are public: the law of who does what is.
            continue;
        }
        assert_eq!(hidden, absent, "{kind}");
    }
}
