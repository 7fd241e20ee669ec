//! Mandates: one partner application token acts for every organisation that mandated it, with
//! the roles granted, for the period granted, until revoked; bad grants change nothing.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, token};

const RENNES: &str = "213502388";
const VITRE: &str = "213503600";
const FOUGERES: &str = "213501158";

const REGISTER: &str = "mutation($input: RegisterPartnerOrganisationInput!) {
    registerPartnerOrganisation(input: $input) { organisation { id } userErrors { message } } }";
const GRANT: &str = "mutation($input: GrantMandateInput!) { grantMandate(input: $input) {
    mandate { id version roles inForce validTo grantor { name } grantee { name } }
    userErrors { field code message } } }";
const REVOKE: &str = "mutation($input: RevokeMandateInput!) { revokeMandate(input: $input) {
    mandate { id version inForce revokedAt revocationReason } userErrors { field code message } } }";
const ADD_CONTACT: &str =
    "mutation($input: AddContactPointInput!) { addContactPoint(input: $input) {
    contactPoint { id organisation { name } } userErrors { field code message } } }";

fn admin_of(siren: &str) -> String {
    token(&format!("admin@{siren}.fr"), Some(siren), &["admin"])
}

/// Registers the application's organisation (an association, by a test RNA number) and returns its ID and a token of it.
pub(crate) async fn application(app: &TestApp) -> (String, String) {
    let (_, body) = app
        .graphql_as(
            Some(&token("state@prefecture.gouv.fr", None, &["state"])),
            REGISTER,
            json!({ "input": { "kind": "ASSOCIATION", "name": "Guichet Connect", "rna": "W353000001" } }),
        )
        .await;
    let id = body["data"]["registerPartnerOrganisation"]["organisation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let app_token = token("api@guichet-connect.example", Some(&id), &["partner"]);
    (id, app_token)
}

/// Grants a mandate as `as_token`; the whole response.
pub(crate) async fn grant(app: &TestApp, as_token: &str, input: Value) -> Value {
    let (_, body) = app
        .graphql_as(Some(as_token), GRANT, json!({ "input": input }))
        .await;
    body
}

/// Adds a contact point to `org` as `as_token`: the organisation's name, or the error code.
async fn add_contact(app: &TestApp, as_token: &str, org: &str) -> Result<String, String> {
    let (_, body) = app
        .graphql_as(
            Some(as_token),
            ADD_CONTACT,
            json!({ "input": { "organisationId": org, "kind": "EMAIL", "value": "accueil@example.org" } }),
        )
        .await;
    match body["data"]["addContactPoint"]["contactPoint"]["organisation"]["name"].as_str() {
        Some(name) => Ok(name.to_owned()),
        None if body["errors"].is_array() => Err(error_code(&body).to_owned()),
        None => Err(body["data"]["addContactPoint"]["userErrors"][0]["code"].to_string()),
    }
}

#[tokio::test]
async fn one_application_token_acts_for_every_organisation_that_mandated_it() {
    let app = TestApp::new().await;
    let (app_id, app_token) = application(&app).await;
    assert_eq!(
        add_contact(&app, &app_token, VITRE).await,
        Err("FORBIDDEN".into())
    );

    for commune in [VITRE, RENNES] {
        let body = grant(
            &app,
            &admin_of(commune),
            json!({ "grantorId": commune, "granteeId": app_id, "roles": ["EDITOR", "PARTNER"] }),
        )
        .await;
        let mandate = &body["data"]["grantMandate"]["mandate"];
        assert_eq!(mandate["inForce"], true, "{body}");
        assert_eq!(mandate["grantee"]["name"], "Guichet Connect");
    }
    assert_eq!(add_contact(&app, &app_token, VITRE).await.unwrap(), "Vitré");
    assert_eq!(
        add_contact(&app, &app_token, RENNES).await.unwrap(),
        "Rennes"
    );
    // Not for an organisation that did not mandate it.
    assert_eq!(
        add_contact(&app, &app_token, FOUGERES).await,
        Err("FORBIDDEN".into())
    );
    // A mandate never passes on admin powers: the application cannot mandate in turn.
    let body = grant(
        &app,
        &app_token,
        json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"] }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // The application sees what it received; Vitré's staff see what Vitré granted; others
    // see nothing.
    let received = app
        .graphql_as(
            Some(&app_token),
            "query($id: ID!) { node(id: $id) { ... on Organisation { mandates(granted: false) { grantor { name } roles } } } }",
            json!({ "id": app_id }),
        )
        .await
        .1;
    let mut grantors: Vec<&str> = received["data"]["node"]["mandates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["grantor"]["name"].as_str().unwrap())
        .collect();
    grantors.sort_unstable();
    assert_eq!(grantors, ["Rennes", "Vitré"], "{received}");
    let listed = |t: Option<String>| {
        let app = &app;
        async move {
            app.graphql_as(
                t.as_deref(),
                r#"{ organisation(siren: "213503600") { mandates { id version grantee { name } } } }"#,
                json!({}),
            )
            .await
            .1["data"]["organisation"]["mandates"]
                .clone()
        }
    };
    let vitre_mandates = listed(Some(admin_of(VITRE))).await;
    assert_eq!(
        vitre_mandates.as_array().unwrap().len(),
        1,
        "{vitre_mandates}"
    );
    assert_eq!(listed(None).await, json!([]));
    assert_eq!(listed(Some(admin_of(FOUGERES))).await, json!([]));

    // Vitré revokes: from the next request the application no longer acts for it.
    let (_, body) = app
        .graphql_as(
            Some(&admin_of(VITRE)),
            REVOKE,
            json!({ "input": { "id": vitre_mandates[0]["id"], "version": vitre_mandates[0]["version"], "reason": "Contrat terminé" } }),
        )
        .await;
    let revoked = &body["data"]["revokeMandate"]["mandate"];
    assert_eq!(revoked["inForce"], false, "{body}");
    assert_eq!(revoked["revocationReason"], "Contrat terminé");
    assert_eq!(
        add_contact(&app, &app_token, VITRE).await,
        Err("FORBIDDEN".into())
    );
    assert_eq!(
        add_contact(&app, &app_token, RENNES).await.unwrap(),
        "Rennes"
    );
    // A stale revocation changes nothing.
    let (_, body) = app
        .graphql_as(
            Some(&admin_of(VITRE)),
            REVOKE,
            json!({ "input": { "id": vitre_mandates[0]["id"], "version": vitre_mandates[0]["version"] } }),
        )
        .await;
    assert_eq!(
        body["data"]["revokeMandate"]["userErrors"][0]["code"], "CONFLICT",
        "{body}"
    );

    // Both steps are in the audit trail, with the mandating organisation as owner.
    let actions = mandate_audit(&app).await;
    assert!(
        actions.iter().any(|a| a == "grantMandate") && actions.iter().any(|a| a == "revokeMandate"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_mandate_ends_on_its_date() {
    let app = TestApp::new().await;
    let (app_id, app_token) = application(&app).await;
    let until = app.clock.now() + chrono::Duration::days(30);
    let body = grant(
        &app,
        &admin_of(VITRE),
        json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"], "validTo": until.to_rfc3339() }),
    )
    .await;
    assert!(
        body["data"]["grantMandate"]["mandate"]["id"].is_string(),
        "{body}"
    );
    assert_eq!(add_contact(&app, &app_token, VITRE).await.unwrap(), "Vitré");
    app.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        add_contact(&app, &app_token, VITRE).await,
        Err("FORBIDDEN".into())
    );
}

#[tokio::test]
async fn bad_grants_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let (app_id, app_token) = application(&app).await;
    let admin = admin_of(VITRE);
    let past = (app.clock.now() - chrono::Duration::days(1)).to_rfc3339();
    // (input, field at fault, code)
    let cases = [
        (
            json!({ "grantorId": VITRE, "granteeId": app_id, "roles": [] }),
            "input.roles",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "grantorId": VITRE, "granteeId": VITRE, "roles": ["EDITOR"] }),
            "input.granteeId",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"], "validTo": past }),
            "input.validTo",
            "BAD_USER_INPUT",
        ),
        (
            // An INSEE code that names no commune.
            json!({ "grantorId": VITRE, "granteeId": "35999", "roles": ["EDITOR"] }),
            "input.granteeId",
            "BAD_USER_INPUT",
        ),
    ];
    for (input, field, code) in cases {
        let body = grant(&app, &admin, input.clone()).await;
        let error = &body["data"]["grantMandate"]["userErrors"][0];
        assert_eq!(error["field"], field, "{input}: {body}");
        assert_eq!(error["code"], code, "{input}: {body}");
    }
    // Only the grantor's own admins: an editor of Vitré, an admin of Rennes are refused.
    for who in [
        token("e@vitre.fr", Some(VITRE), &["editor"]),
        admin_of(RENNES),
    ] {
        let body = grant(
            &app,
            &who,
            json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"] }),
        )
        .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    // Nothing was granted by any of these.
    let listed = app
        .graphql_as(
            Some(&admin),
            r#"{ organisation(siren: "213503600") { mandates(includeEnded: true) { id } } }"#,
            json!({}),
        )
        .await
        .1;
    assert_eq!(
        listed["data"]["organisation"]["mandates"],
        json!([]),
        "{listed}"
    );

    // One mandate in force per pair; a retried grant with its key replays the first.
    let input = json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["PARTNER"], "idempotencyKey": "m-1" });
    let first = grant(&app, &admin, input.clone()).await;
    let again = grant(&app, &admin, input).await;
    assert_eq!(
        first["data"]["grantMandate"]["mandate"]["id"],
        again["data"]["grantMandate"]["mandate"]["id"],
        "{again}"
    );
    // A mandate for PARTNER only grants no editor's power.
    assert_eq!(
        add_contact(&app, &app_token, VITRE).await,
        Err("FORBIDDEN".into())
    );
    let other = grant(
        &app,
        &admin,
        json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"] }),
    )
    .await;
    assert_eq!(
        other["data"]["grantMandate"]["userErrors"][0]["code"], "CONFLICT",
        "{other}"
    );
}

/// The actions of the audit records of Vitré's mandates (Vitré owns them as the grantor).
async fn mandate_audit(app: &TestApp) -> Vec<String> {
    let vitre = app
        .query(r#"{ organisation(siren: "213503600") { id } }"#, json!({}))
        .await["organisation"]["id"]
        .clone();
    let (_, audit) = app
        .graphql_as(
            Some(&admin_of(VITRE)),
            "query($o: ID!) { auditLog(first: 100, filter: { organisation: $o, entityType: \"Mandate\" }) { nodes { action } } }",
            json!({ "o": vitre }),
        )
        .await;
    audit["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit}"))
        .iter()
        .filter_map(|n| n["action"].as_str().map(str::to_owned))
        .collect()
}

/// The same grant sent many times at once gives one mandate; revocations of it sent at once,
/// all based on the version read, revoke it once: the others are conflicts, and the audit
/// trail records one revocation. The races are real on PostgreSQL (SQLite serialises writers).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_mandate_granted_and_revoked_many_times_at_once_is_granted_and_revoked_once() {
    let app = TestApp::new().await;
    let (app_id, _) = application(&app).await;
    let vitre = admin_of(VITRE);
    const ROUNDS: usize = 4;
    for round in 1..=ROUNDS {
        let grants = join_all((0..6).map(|_| {
            grant(
                &app,
                &vitre,
                json!({ "grantorId": VITRE, "granteeId": app_id, "roles": ["EDITOR"] }),
            )
        }))
        .await;
        let granted: Vec<&Value> = grants
            .iter()
            .map(|b| &b["data"]["grantMandate"]["mandate"])
            .filter(|m| m.is_object())
            .collect();
        assert_eq!(granted.len(), 1, "round {round}: {grants:#?}");
        for b in grants
            .iter()
            .filter(|b| !b["data"]["grantMandate"]["mandate"].is_object())
        {
            assert_eq!(
                b["data"]["grantMandate"]["userErrors"][0]["code"], "CONFLICT",
                "{b}"
            );
        }
        let m = granted[0];
        let revocations = join_all((0..6).map(|i| {
            app.graphql_as(
                Some(&vitre),
                REVOKE,
                json!({ "input": { "id": m["id"], "version": m["version"], "reason": format!("Révocation {i}") } }),
            )
        }))
        .await;
        let mut landed = 0;
        for (_, b) in &revocations {
            match b["data"]["revokeMandate"]["mandate"]["inForce"].as_bool() {
                Some(false) => landed += 1,
                _ => assert_eq!(
                    b["data"]["revokeMandate"]["userErrors"][0]["code"], "CONFLICT",
                    "{b}"
                ),
            }
        }
        assert_eq!(landed, 1, "round {round}: {revocations:#?}");
        let audited = mandate_audit(&app).await;
        assert_eq!(
            audited.iter().filter(|a| *a == "revokeMandate").count(),
            round,
            "{audited:?}"
        );
    }
}
