//! Who may change what: the permission matrix of every mutation, visibility of restricted
//! fields, the audit trail, optimistic concurrency and idempotency keys.

use entity::{audit_record, contact_point, organisation};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, token};

const RENNES: &str = "213502388";
const BREST: &str = "212900195";

/// Every kind of caller of the matrix, with its token.
fn callers() -> Vec<(&'static str, Option<String>)> {
    vec![
        ("anonymous", None),
        (
            "editor of the owner",
            Some(token("e@rennes.fr", Some(RENNES), &["editor"])),
        ),
        (
            "editor of another",
            Some(token("e@brest.fr", Some(BREST), &["editor"])),
        ),
        (
            "admin of the owner",
            Some(token("a@rennes.fr", Some(RENNES), &["admin"])),
        ),
        (
            "partner",
            Some(token("app@partner.fr", Some(BREST), &["partner"])),
        ),
        (
            "state",
            Some(token("dgcl@interieur.gouv.fr", None, &["state"])),
        ),
        (
            "superadmin",
            Some(token("ops@maillage.fr", None, &["superadmin"])),
        ),
    ]
}

async fn rennes(app: &TestApp) -> (String, i64) {
    let data = app
        .query(
            "{ organisation(siren: \"213502388\") { id version } }",
            json!({}),
        )
        .await;
    (
        data["organisation"]["id"].as_str().unwrap().to_owned(),
        data["organisation"]["version"].as_i64().unwrap(),
    )
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        audit_record::Entity::find().count(&app.db).await.unwrap(),
        contact_point::Entity::find().count(&app.db).await.unwrap(),
        organisation::Entity::find().count(&app.db).await.unwrap(),
    )
}

/// Runs `query` as each caller; `allowed` names who may. Denied calls are top-level
/// UNAUTHENTICATED/FORBIDDEN errors that change nothing.
async fn check_matrix(
    app: &TestApp,
    name: &str,
    query: &str,
    vars: impl Fn() -> Value,
    allowed: &[&str],
    payload: &str,
) {
    for (who, token) in callers() {
        let before = counts(app).await;
        let (_, body) = app.graphql_as(token.as_deref(), query, vars()).await;
        if allowed.contains(&who) {
            assert!(body.get("errors").is_none(), "{name} as {who}: {body}");
            assert_eq!(
                body["data"][payload]["userErrors"],
                json!([]),
                "{name} as {who}"
            );
        } else {
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default();
            let expected = if who == "anonymous" {
                "UNAUTHENTICATED"
            } else {
                "FORBIDDEN"
            };
            assert_eq!(code, expected, "{name} as {who}: {body}");
            assert_eq!(
                counts(app).await,
                before,
                "{name} as {who} changed something"
            );
        }
    }
}

const UPDATE_PROFILE: &str = "mutation($input: UpdateOrganisationProfileInput!) {
    updateOrganisationProfile(input: $input) { organisation { version profile { website } } userErrors { field code message } } }";
const ADD_CONTACT: &str = "mutation($input: AddContactPointInput!) {
    addContactPoint(input: $input) { contactPoint { id version value visibility } userErrors { field code message } } }";
const UPDATE_CONTACT: &str = "mutation($input: UpdateContactPointInput!) {
    updateContactPoint(input: $input) { contactPoint { id version value } userErrors { field code message } } }";
const REMOVE_CONTACT: &str = "mutation($input: RemoveContactPointInput!) {
    removeContactPoint(input: $input) { contactPoint { id } userErrors { field code message } } }";
const REGISTER: &str = "mutation($input: RegisterPartnerOrganisationInput!) {
    registerPartnerOrganisation(input: $input) { organisation { id kind name siren } userErrors { field code message } } }";

fn editor() -> String {
    token("e@rennes.fr", Some(RENNES), &["editor"])
}

async fn add_contact(app: &TestApp, org: &str, value: &str, visibility: &str) -> (String, i64) {
    let (_, body) = app
        .graphql_as(
            Some(&editor()),
            ADD_CONTACT,
            json!({ "input": { "organisationId": org, "kind": "EMAIL", "value": value, "visibility": visibility } }),
        )
        .await;
    let cp = &body["data"]["addContactPoint"]["contactPoint"];
    (
        cp["id"].as_str().unwrap().to_owned(),
        cp["version"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn permission_matrix_of_every_mutation() {
    let app = TestApp::new().await;
    let (org, _) = rennes(&app).await;
    let owners = ["editor of the owner", "admin of the owner", "superadmin"];

    let version = || async { rennes(&app).await.1 };
    // Profile updates: the version is read afresh for each caller.
    for (who, token) in callers() {
        let v = version().await;
        let before = counts(&app).await;
        let (_, body) = app
            .graphql_as(
                token.as_deref(),
                UPDATE_PROFILE,
                json!({ "input": { "organisationId": org, "version": v, "website": format!("https://www.rennes.fr/{v}") } }),
            )
            .await;
        if owners.contains(&who) {
            assert_eq!(
                body["data"]["updateOrganisationProfile"]["userErrors"],
                json!([]),
                "{who}: {body}"
            );
            assert_eq!(
                body["data"]["updateOrganisationProfile"]["organisation"]["version"],
                v + 1
            );
        } else {
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default();
            assert_eq!(
                code,
                if who == "anonymous" {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                },
                "{who}"
            );
            assert_eq!(counts(&app).await, before, "{who} changed something");
            assert_eq!(version().await, v, "{who} bumped the version");
        }
    }

    let org2 = org.clone();
    check_matrix(
        &app,
        "addContactPoint",
        ADD_CONTACT,
        || json!({ "input": { "organisationId": org2, "kind": "PHONE", "value": "+33 2 23 62 10 10" } }),
        &owners,
        "addContactPoint",
    )
    .await;

    // Update and remove: a fresh contact point per caller, so that each allowed call succeeds.
    for (who, token) in callers() {
        let (id, v) = add_contact(&app, &org, "accueil@rennes.fr", "PUBLIC").await;
        let before = counts(&app).await;
        let (_, updated) = app
            .graphql_as(
                token.as_deref(),
                UPDATE_CONTACT,
                json!({ "input": { "id": id, "version": v, "value": "mairie@rennes.fr" } }),
            )
            .await;
        let (_, removed) = app
            .graphql_as(
                token.as_deref(),
                REMOVE_CONTACT,
                json!({ "input": { "id": id, "version": v + 1 } }),
            )
            .await;
        if owners.contains(&who) {
            assert_eq!(
                updated["data"]["updateContactPoint"]["contactPoint"]["value"], "mairie@rennes.fr",
                "{who}"
            );
            assert_eq!(
                removed["data"]["removeContactPoint"]["userErrors"],
                json!([]),
                "{who}: {removed}"
            );
        } else {
            for body in [&updated, &removed] {
                let code = body["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default();
                assert_eq!(
                    code,
                    if who == "anonymous" {
                        "UNAUTHENTICATED"
                    } else {
                        "FORBIDDEN"
                    },
                    "{who}: {body}"
                );
            }
            assert_eq!(counts(&app).await, before, "{who} changed something");
        }
    }

    let registered = std::sync::atomic::AtomicUsize::new(0);
    check_matrix(
        &app,
        "registerPartnerOrganisation",
        REGISTER,
        || {
            let n = registered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json!({ "input": { "kind": "ASSOCIATION", "name": format!("Les Amis du Thabor {n}"), "rna": format!("W35{n:07}") } })
        },
        &["admin of the owner", "state", "superadmin"],
        "registerPartnerOrganisation",
    )
    .await;
}

#[tokio::test]
async fn contact_points_are_shown_by_visibility_on_every_path() {
    let app = TestApp::new().await;
    let (org, _) = rennes(&app).await;
    add_contact(&app, &org, "public@rennes.fr", "PUBLIC").await;
    add_contact(&app, &org, "partners@rennes.fr", "PARTNERS").await;
    let (restricted, _) = add_contact(&app, &org, "crise@rennes.fr", "RESTRICTED").await;

    let query = "query($id: ID!, $cp: ID!) { organisation(id: $id) { contactPoints { value } }
                   node(id: $cp) { id }
                   organisations(filter: {departement: \"35\", kinds: [COMMUNE], nameStartsWith: \"Rennes\"}) { nodes { contactPoints { value } } } }";
    for (who, token, visible) in [
        ("anonymous", None, 1),
        (
            "partner",
            Some(token("app@partner.fr", Some(BREST), &["partner"])),
            2,
        ),
        (
            "editor of another",
            Some(token("e@brest.fr", Some(BREST), &["editor"])),
            2,
        ),
        ("editor of the owner", Some(editor()), 3),
        (
            "state",
            Some(token("dgcl@interieur.gouv.fr", None, &["state"])),
            3,
        ),
        (
            "admin of the owner",
            Some(token("a@rennes.fr", Some(RENNES), &["admin"])),
            3,
        ),
        (
            "admin of another",
            Some(token("a@brest.fr", Some(BREST), &["admin"])),
            2,
        ),
        (
            "superadmin",
            Some(token("ops@maillage.fr", None, &["superadmin"])),
            3,
        ),
    ] {
        let (_, body) = app
            .graphql_as(
                token.as_deref(),
                query,
                json!({ "id": org, "cp": restricted }),
            )
            .await;
        let direct = body["data"]["organisation"]["contactPoints"]
            .as_array()
            .unwrap()
            .len();
        let nested = body["data"]["organisations"]["nodes"][0]["contactPoints"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(direct, visible, "{who}: {body}");
        assert_eq!(nested, visible, "{who} through a list");
        assert_eq!(
            body["data"]["node"].is_null(),
            visible < 3,
            "{who}: node(id) of a restricted point"
        );
    }
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_for_its_admins_and_the_state() {
    let app = TestApp::new().await;
    let (org, v) = rennes(&app).await;
    let (_, body) = app
        .graphql_as(
            Some(&editor()),
            UPDATE_PROFILE,
            json!({ "input": { "organisationId": org, "version": v,
            "alternateNames": ["Roazhon"], "description": "Capitale de la Bretagne" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrganisationProfile"]["userErrors"],
        json!([]),
        "{body}"
    );
    // Search finds it by its new alternate name at once.
    let found = app
        .query(
            "{ search(text: \"roazhon\", first: 1) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(found["search"][0]["name"], "Rennes", "{found}");

    let log = "{ auditLog(first: 5) { totalCount nodes { action entityType actorSubject actorRoles before after requestId organisation { name } } } }";
    let admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let (_, body) = app.graphql_as(Some(&admin), log, json!({})).await;
    let record = &body["data"]["auditLog"]["nodes"][0];
    assert_eq!(body["data"]["auditLog"]["totalCount"], 1, "{body}");
    assert_eq!(record["action"], "updateOrganisationProfile");
    assert_eq!(record["actorSubject"], "e@rennes.fr");
    assert_eq!(record["actorRoles"], "editor");
    assert_eq!(record["organisation"]["name"], "Rennes");
    assert_eq!(record["before"]["alternateNames"], json!([]));
    assert_eq!(record["after"]["alternateNames"], json!(["Roazhon"]));
    assert!(!record["requestId"].as_str().unwrap().is_empty());

    let (_, state) = app
        .graphql_as(Some(&token("dgcl", None, &["state"])), log, json!({}))
        .await;
    assert_eq!(state["data"]["auditLog"]["totalCount"], 1);
    for denied in [
        None,
        Some(editor()),
        Some(token("a@brest.fr", Some(BREST), &["admin"])),
    ] {
        let filtered = "query($o: ID) { auditLog(filter: {organisation: $o}) { totalCount nodes { action } } }";
        let (_, body) = app
            .graphql_as(denied.as_deref(), filtered, json!({ "o": org }))
            .await;
        assert!(
            body["errors"][0]["extensions"]["code"].as_str().is_some(),
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    // The API offers no way to change or delete an audit record.
    let sdl = api::graphql::sdl();
    assert!(!sdl.contains("deleteAudit") && !sdl.contains("updateAudit"));
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_that_changes_nothing() {
    let app = TestApp::new().await;
    let (org, v) = rennes(&app).await;
    let update = |version: i64, site: &str| json!({ "input": { "organisationId": org, "version": version, "website": site } });
    let (_, ok) = app
        .graphql_as(
            Some(&editor()),
            UPDATE_PROFILE,
            update(v, "https://a.rennes.fr"),
        )
        .await;
    assert_eq!(
        ok["data"]["updateOrganisationProfile"]["organisation"]["version"],
        v + 1
    );
    let (_, stale) = app
        .graphql_as(
            Some(&editor()),
            UPDATE_PROFILE,
            update(v, "https://b.rennes.fr"),
        )
        .await;
    let errors = &stale["data"]["updateOrganisationProfile"]["userErrors"];
    assert_eq!(errors[0]["code"], "CONFLICT", "{stale}");
    assert!(stale["data"]["updateOrganisationProfile"]["organisation"].is_null());
    let data = app
        .query(
            "{ organisation(siren: \"213502388\") { version profile { website } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["organisation"]["profile"]["website"],
        "https://a.rennes.fr"
    );
    assert_eq!(data["organisation"]["version"], v + 1);
}

#[tokio::test]
async fn concurrent_conflicting_updates_lose_nothing() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let (org, v) = rennes(&app).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (app, org) = (app.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let (_, body) = app
                .graphql_as(
                    Some(&editor()),
                    UPDATE_PROFILE,
                    json!({ "input": { "organisationId": org, "version": v,
                    "website": format!("https://w{i}.rennes.fr") } }),
                )
                .await;
            body
        }));
    }
    let mut winners = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let body = t.await.unwrap();
        let payload = &body["data"]["updateOrganisationProfile"];
        if payload["userErrors"] == json!([]) {
            winners.push(i);
        } else {
            assert_eq!(payload["userErrors"][0]["code"], "CONFLICT", "{body}");
        }
    }
    assert_eq!(winners.len(), 1, "exactly one update wins");
    let data = app
        .query(
            "{ organisation(siren: \"213502388\") { version profile { website } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["organisation"]["version"], v + 1);
    assert_eq!(
        data["organisation"]["profile"]["website"],
        format!("https://w{}.rennes.fr", winners[0])
    );
    assert_eq!(
        audit_record::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_result() {
    let app = TestApp::new().await;
    let (org, _) = rennes(&app).await;
    let input = |value: &str| json!({ "input": { "organisationId": org, "kind": "EMAIL", "value": value, "idempotencyKey": "k-1" } });
    let (_, first) = app
        .graphql_as(Some(&editor()), ADD_CONTACT, input("a@rennes.fr"))
        .await;
    let (_, again) = app
        .graphql_as(Some(&editor()), ADD_CONTACT, input("a@rennes.fr"))
        .await;
    assert_eq!(
        first["data"]["addContactPoint"]["contactPoint"]["id"],
        again["data"]["addContactPoint"]["contactPoint"]["id"]
    );
    assert_eq!(
        contact_point::Entity::find().count(&app.db).await.unwrap(),
        1
    );
    let (_, reused) = app
        .graphql_as(Some(&editor()), ADD_CONTACT, input("b@rennes.fr"))
        .await;
    let errors = &reused["data"]["addContactPoint"]["userErrors"];
    assert_eq!(errors[0]["field"], "idempotencyKey", "{reused}");
    assert_eq!(
        contact_point::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn bad_input_is_a_user_error_naming_the_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let (org, v) = rennes(&app).await;
    let admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let before = counts(&app).await;
    for (query, input, field) in [
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "ACME", "siren": "123456789" }),
            "input.siren",
        ),
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "ACME", "siret": "73282932000075" }),
            "input.siret",
        ),
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "ACME", "siren": "732829320", "siret": "21350238800019" }),
            "input.siret",
        ),
        // A commune's code where a département's is asked.
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "ACME", "siren": "732829320", "departement": "35238" }),
            "input.departement",
        ),
        // A valid SIRET checksum whose first nine digits are not a SIREN.
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "ACME", "siret": "12345678900007" }),
            "input.siret",
        ),
        (
            REGISTER,
            json!({ "kind": "ASSOCIATION", "name": "Club", "rna": "X12345678" }),
            "input.rna",
        ),
        (
            REGISTER,
            json!({ "kind": "ASSOCIATION", "name": "Club" }),
            "input.siren",
        ),
        (
            REGISTER,
            json!({ "kind": "COMMUNE", "name": "Fake", "siren": "732829320" }),
            "input.kind",
        ),
        (
            REGISTER,
            json!({ "kind": "COMPANY", "name": "A", "siren": "732829320" }),
            "input.name",
        ),
        (
            ADD_CONTACT,
            json!({ "organisationId": org, "kind": "EMAIL", "value": "not-an-email" }),
            "input.value",
        ),
        (
            ADD_CONTACT,
            json!({ "organisationId": org, "kind": "WEBSITE", "value": "javascript:alert(1)" }),
            "input.value",
        ),
        (
            ADD_CONTACT,
            json!({ "organisationId": "garbage", "kind": "PHONE", "value": "0223621010" }),
            "input.organisationId",
        ),
        (
            UPDATE_PROFILE,
            json!({ "organisationId": org, "version": v, "website": "ftp://x" }),
            "input.website",
        ),
    ] {
        let (_, body) = app
            .graphql_as(Some(&admin), query, json!({ "input": input }))
            .await;
        let payload = body["data"].as_object().unwrap().values().next().unwrap();
        assert_eq!(
            payload["userErrors"][0]["code"], "BAD_USER_INPUT",
            "{input}: {body}"
        );
        assert_eq!(payload["userErrors"][0]["field"], field, "{input}");
    }
    assert_eq!(counts(&app).await, before);

    // A SIREN already in the registry is a conflict.
    let (_, dup) = app
        .graphql_as(
            Some(&admin),
            REGISTER,
            json!({ "input": { "kind": "COMPANY", "name": "Pas Rennes", "siren": RENNES } }),
        )
        .await;
    assert_eq!(
        dup["data"]["registerPartnerOrganisation"]["userErrors"][0]["code"], "CONFLICT",
        "{dup}"
    );
    let (_, ok) = app
        .graphql_as(Some(&admin), REGISTER, json!({ "input": { "kind": "COMPANY", "name": "Google France", "siret": "73282932000074", "departement": "75" } }))
        .await;
    let created = &ok["data"]["registerPartnerOrganisation"]["organisation"];
    assert_eq!(created["siren"], "732829320", "{ok}");
    assert_eq!(created["kind"], "COMPANY");
}
