//! Agreements: the full lifecycle through GraphQL, a délégation de compétence showing in
//! "who does what here", direct booking for beneficiaries, illegal transitions and the
//! permission matrix.

use entity::{agreement, assignment, consent};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};
use crate::resources::{BREST, METRO, RENNES, hour, id_of, published, request};

pub(crate) const DRAFT: &str = "mutation($i: DraftAgreementInput!) { draftAgreement(input: $i) {
    agreement { id version status kind title parties { role organisation { siren } }
                competences { code role } documents { title url } resources { id } }
    userErrors { field code message } } }";

const FIELDS: &str = "agreement { id version status validTo terminationReason
    consents { decision party { siren } } } userErrors { field code message }";

pub(crate) async fn run(app: &TestApp, tok: &str, mutation: &str, input: Value) -> Value {
    let q = format!(
        "mutation($i: {}Input!) {{ {mutation}(input: $i) {{ {FIELDS} }} }}",
        input_type(mutation)
    );
    app.graphql_as(Some(tok), &q, json!({ "i": input })).await.1
}

fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "proposeAgreement" => "ProposeAgreement",
        "signAgreement" | "rejectAgreement" => "DecideAgreement",
        "terminateAgreement" => "TerminateAgreement",
        "updateAgreement" => "UpdateAgreement",
        _ => panic!("unknown mutation {mutation}"),
    }
}

pub(crate) fn out<'a>(r: &'a Value, mutation: &str) -> &'a Value {
    &r["data"][mutation]["agreement"]
}

fn user_error(r: &Value, mutation: &str) -> String {
    r["data"][mutation]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no user error: {r:#}"))
        .to_owned()
}

/// Who implements `competence` for `commune` on `at`: (SIREN, layer, basis).
async fn implementers(
    app: &TestApp,
    commune: &str,
    competence: &str,
    at: &str,
) -> Vec<(String, String, String)> {
    app.query(
        "query($c: String!, $k: String!, $at: Date) {
           responsibilities(inseeCode: $c, competence: $k, at: $at) {
             role layer basis organisation { siren } } }",
        json!({ "c": commune, "k": competence, "at": at }),
    )
    .await["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "IMPLEMENTER")
        .map(|r| {
            (
                r["organisation"]["siren"].as_str().unwrap_or("").to_owned(),
                r["layer"].as_str().unwrap().to_owned(),
                r["basis"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        agreement::Entity::find().count(&app.db).await.unwrap(),
        consent::Entity::find().count(&app.db).await.unwrap(),
        assignment::Entity::find().count(&app.db).await.unwrap(),
    )
}

#[tokio::test]
async fn a_delegation_is_drafted_signed_by_all_active_then_terminated() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let rennes_admin = token("maire@rennes.fr", Some(RENNES), &["admin"]);
    let metro_admin = token("president@metropole.fr", Some(METRO), &["admin"]);

    let r = app
        .graphql_as(
            Some(&rennes_editor),
            DRAFT,
            json!({ "i": {
                "draftingPartyId": rennes, "kind": "DELEGATION_COMPETENCE",
                "title": "Délégation de la restauration scolaire",
                "legalBasis": "CGCT L1111-8",
                "parties": [ { "organisationId": rennes, "role": "DELEGATOR" },
                             { "organisationId": metro, "role": "DELEGATEE" } ],
                "validFrom": "2026-01-01",
                "competences": [ { "code": "C5010" } ],
                "documents": [ { "title": "Convention", "url": "https://rennes.fr/conv.pdf" } ] } }),
        )
        .await
        .1;
    let a = &r["data"]["draftAgreement"]["agreement"];
    assert_eq!(a["status"], "DRAFT", "{r:#}");
    assert_eq!(
        a["competences"][0],
        json!({ "code": "C5010", "role": "IMPLEMENTER" })
    );
    let id = a["id"].as_str().unwrap().to_owned();
    // Nothing changes in "who does what" before it is signed.
    let before = implementers(&app, "35238", "C5010", "2026-06-01").await;
    assert!(
        before.iter().all(|(siren, _, _)| siren != METRO),
        "{before:?}"
    );

    let r = run(
        &app,
        &rennes_editor,
        "proposeAgreement",
        json!({ "id": id, "version": 1 }),
    )
    .await;
    assert_eq!(out(&r, "proposeAgreement")["status"], "PROPOSED", "{r:#}");
    let r = run(
        &app,
        &rennes_admin,
        "signAgreement",
        json!({ "id": id, "party": rennes }),
    )
    .await;
    let a = out(&r, "signAgreement");
    assert_eq!(a["status"], "PROPOSED", "{r:#}");
    assert_eq!(
        a["consents"],
        json!([ { "decision": "APPROVED", "party": { "siren": RENNES } },
                { "decision": "PENDING", "party": { "siren": METRO } } ])
    );
    let r = run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    assert_eq!(out(&r, "signAgreement")["status"], "ACTIVE", "{r:#}");

    // The delegatee now implements it for Rennes, declared by delegation; not for Brest,
    // and not before the agreement's start.
    let during = implementers(&app, "35238", "C5010", "2026-06-01").await;
    assert!(
        during.contains(&(METRO.into(), "DECLARED".into(), "DELEGATION".into())),
        "{during:?}"
    );
    let through = app
        .query(
            "{ responsibilities(inseeCode: \"35238\", competence: \"C5010\", at: \"2026-06-01\") {
                 basis assignment { agreement { id title } } } }",
            json!({}),
        )
        .await;
    let delegated: Vec<&Value> = through["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["basis"] == "DELEGATION")
        .collect();
    assert_eq!(delegated[0]["assignment"]["agreement"]["id"], id);
    let elsewhere = implementers(&app, "29019", "C5010", "2026-06-01").await;
    assert!(elsewhere.iter().all(|(s, _, _)| s != METRO));
    let earlier = implementers(&app, "35238", "C5010", "2025-06-01").await;
    assert!(earlier.iter().all(|(s, _, _)| s != METRO));

    // Both parties list it as active; an outsider sees it too, a signed convention is public.
    let listed = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Organisation {
               agreements(status: [ACTIVE]) { id } } } }",
            json!({ "id": metro }),
        )
        .await;
    assert_eq!(listed["node"]["agreements"][0]["id"], id);

    // Terminated early by a party's admin: the delegation stops that day, the past stays.
    let version = out(&r, "signAgreement")["version"].as_i64().unwrap();
    let r = run(
        &app,
        &metro_admin,
        "terminateAgreement",
        json!({ "id": id, "version": version, "reason": "Reprise en régie", "effectiveDate": date(0, 12, 1) }),
    )
    .await;
    let a = out(&r, "terminateAgreement");
    assert_eq!(a["status"], "TERMINATED", "{r:#}");
    assert_eq!(a["validTo"], date(0, 12, 1));
    assert_eq!(a["terminationReason"], "Reprise en régie");
    let still = implementers(&app, "35238", "C5010", &date(0, 11, 30)).await;
    assert!(
        still
            .iter()
            .any(|(s, _, b)| s == METRO && b == "DELEGATION")
    );
    let gone = implementers(&app, "35238", "C5010", &date(0, 12, 1)).await;
    assert!(gone.iter().all(|(s, _, _)| s != METRO), "{gone:?}");
    // A terminated agreement is final.
    let r = run(
        &app,
        &metro_admin,
        "terminateAgreement",
        json!({ "id": id, "version": version + 1, "reason": "encore" }),
    )
    .await;
    assert_eq!(user_error(&r, "terminateAgreement"), "ILLEGAL_TRANSITION");
}

#[tokio::test]
async fn a_rejection_returns_a_proposal_to_draft_and_illegal_steps_are_refused() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let metro_admin = token("president@metropole.fr", Some(METRO), &["admin"]);
    let rennes_admin = token("maire@rennes.fr", Some(RENNES), &["admin"]);
    let r = app
        .graphql_as(
            Some(&metro_editor),
            DRAFT,
            json!({ "i": {
                "draftingPartyId": metro, "kind": "SERVICE_COMMUN",
                "title": "Service commun d'instruction du droit des sols",
                "legalBasis": "CGCT L5211-4-2",
                "parties": [ { "organisationId": metro, "role": "PROVIDER" } ] } }),
        )
        .await
        .1;
    let id = r["data"]["draftAgreement"]["agreement"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();
    let before = counts(&app).await;
    // Incomplete: one party, no start.
    let r = run(
        &app,
        &metro_editor,
        "proposeAgreement",
        json!({ "id": id, "version": 1 }),
    )
    .await;
    assert_eq!(user_error(&r, "proposeAgreement"), "BAD_USER_INPUT");
    // A draft cannot be signed or terminated.
    let r = run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    assert_eq!(user_error(&r, "signAgreement"), "ILLEGAL_TRANSITION");
    let r = run(
        &app,
        &metro_admin,
        "terminateAgreement",
        json!({ "id": id, "version": 1, "reason": "x" }),
    )
    .await;
    assert_eq!(user_error(&r, "terminateAgreement"), "ILLEGAL_TRANSITION");
    assert_eq!(counts(&app).await, before, "refused steps changed nothing");

    let r = run(
        &app,
        &metro_editor,
        "updateAgreement",
        json!({ "id": id, "version": 1, "validFrom": date(1, 1, 1),
                "parties": [ { "organisationId": metro, "role": "PROVIDER" },
                             { "organisationId": rennes, "role": "BENEFICIARY" } ] }),
    )
    .await;
    assert_eq!(out(&r, "updateAgreement")["version"], 2, "{r:#}");
    let r = run(
        &app,
        &metro_editor,
        "proposeAgreement",
        json!({ "id": id, "version": 2 }),
    )
    .await;
    assert_eq!(out(&r, "proposeAgreement")["status"], "PROPOSED", "{r:#}");
    // Frozen while proposed; a party decides once; a rejection says why.
    let r = run(
        &app,
        &metro_editor,
        "updateAgreement",
        json!({ "id": id, "version": 3, "title": "Autre" }),
    )
    .await;
    assert_eq!(user_error(&r, "updateAgreement"), "ILLEGAL_TRANSITION");
    let r = run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    assert_eq!(out(&r, "signAgreement")["status"], "PROPOSED");
    let r = run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    assert_eq!(user_error(&r, "signAgreement"), "CONFLICT");
    let r = run(
        &app,
        &rennes_admin,
        "rejectAgreement",
        json!({ "id": id, "party": rennes }),
    )
    .await;
    assert_eq!(user_error(&r, "rejectAgreement"), "BAD_USER_INPUT");
    let r = run(
        &app,
        &rennes_admin,
        "rejectAgreement",
        json!({ "id": id, "party": rennes, "reason": "Tarif à revoir" }),
    )
    .await;
    let a = out(&r, "rejectAgreement");
    assert_eq!(a["status"], "DRAFT", "{r:#}");
    assert_eq!(
        a["consents"],
        json!([]),
        "signatures of the rejected text are withdrawn"
    );
    // Why stays in the audit log, with the party that said it.
    let (_, log) = app
        .graphql_as(
            Some(&token("s@prefecture.gouv.fr", None, &["state"])),
            r#"{ auditLog(filter: { entityType: "Agreement" }) { nodes { action after } } }"#,
            json!({}),
        )
        .await;
    let rejection = log["data"]["auditLog"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["action"] == "rejectAgreement"))
        .map(|n| n["after"]["rejection"].clone());
    assert_eq!(
        rejection,
        Some(json!({ "partyId": rennes, "reason": "Tarif à revoir" })),
        "{log}"
    );
    // Editable again, proposable again, and every party asked anew.
    let v = a["version"].as_i64().unwrap();
    let r = run(
        &app,
        &metro_editor,
        "updateAgreement",
        json!({ "id": id, "version": v, "financialTerms": "12 € par dossier" }),
    )
    .await;
    let v = out(&r, "updateAgreement")["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{r:#}"));
    let r = run(
        &app,
        &metro_editor,
        "proposeAgreement",
        json!({ "id": id, "version": v }),
    )
    .await;
    assert_eq!(
        out(&r, "proposeAgreement")["consents"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let r = run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    assert_eq!(out(&r, "signAgreement")["status"], "PROPOSED");
    let r = run(
        &app,
        &rennes_admin,
        "signAgreement",
        json!({ "id": id, "party": rennes }),
    )
    .await;
    // Signed by all, in force from next year: signed, not active yet.
    assert_eq!(out(&r, "signAgreement")["status"], "SIGNED", "{r:#}");
}

#[tokio::test]
async fn who_may_draft_sign_terminate_and_see() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let input = json!({ "i": {
        "draftingPartyId": metro, "kind": "ENTENTE", "title": "Entente voirie",
        "validFrom": "2026-01-01",
        "parties": [ { "organisationId": metro, "role": "PARTNER" },
                     { "organisationId": rennes, "role": "PARTNER" } ] } });
    // Drafting takes an editor of the drafting party.
    for tok in [
        token("e@rennes.fr", Some(RENNES), &["editor"]),
        token("app@partner.fr", Some(METRO), &["partner"]),
    ] {
        let r = app.graphql_as(Some(&tok), DRAFT, input.clone()).await.1;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    let r = app.graphql_as(None, DRAFT, input.clone()).await.1;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    let r = app.graphql_as(Some(&metro_editor), DRAFT, input).await.1;
    let id = r["data"]["draftAgreement"]["agreement"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A draft is for its parties.
    let see = |tok: Option<String>| {
        let (app, id) = (&app, id.clone());
        async move {
            app.graphql_as(
                tok.as_deref(),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await
            .1["data"]["node"]
                .clone()
        }
    };
    assert_eq!(see(None).await, Value::Null);
    assert_eq!(
        see(Some(token("e@brest.fr", Some(BREST), &["editor"]))).await,
        Value::Null
    );
    assert_ne!(
        see(Some(token("e@rennes.fr", Some(RENNES), &["editor"]))).await,
        Value::Null
    );

    let r = run(
        &app,
        &metro_editor,
        "proposeAgreement",
        json!({ "id": id, "version": 1 }),
    )
    .await;
    assert_eq!(out(&r, "proposeAgreement")["status"], "PROPOSED");
    // Signing takes an admin of that very party.
    for (tok, party) in [
        (metro_editor.clone(), metro.clone()),
        (
            token("president@metropole.fr", Some(METRO), &["admin"]),
            rennes.clone(),
        ),
        (
            token("agent@prefecture.gouv.fr", None, &["state"]),
            rennes.clone(),
        ),
    ] {
        let r = run(
            &app,
            &tok,
            "signAgreement",
            json!({ "id": id, "party": party }),
        )
        .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    // A stranger's admin cannot even see a proposal to sign it.
    let brest = id_of(&app, BREST).await;
    let brest_admin = token("maire@brest.fr", Some(BREST), &["admin"]);
    let r = run(
        &app,
        &brest_admin,
        "signAgreement",
        json!({ "id": id, "party": brest }),
    )
    .await;
    assert_eq!(user_error(&r, "signAgreement"), "NOT_FOUND");
    let metro_admin = token("president@metropole.fr", Some(METRO), &["admin"]);
    run(
        &app,
        &metro_admin,
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    let r = run(
        &app,
        &token("maire@rennes.fr", Some(RENNES), &["admin"]),
        "signAgreement",
        json!({ "id": id, "party": rennes }),
    )
    .await;
    let a = out(&r, "signAgreement");
    assert_eq!(a["status"], "ACTIVE", "{r:#}");
    let version = a["version"].as_i64().unwrap();
    // Signed, it is a public act.
    assert_ne!(see(None).await, Value::Null);
    // Terminating takes an admin of a party.
    for tok in [metro_editor.clone(), brest_admin] {
        let r = run(
            &app,
            &tok,
            "terminateAgreement",
            json!({ "id": id, "version": version, "reason": "fin" }),
        )
        .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    let r = run(
        &app,
        &metro_admin,
        "terminateAgreement",
        json!({ "id": id, "version": version, "reason": "Fin des travaux" }),
    )
    .await;
    assert_eq!(
        out(&r, "terminateAgreement")["status"],
        "TERMINATED",
        "{r:#}"
    );
}

#[tokio::test]
async fn an_agreement_lets_its_beneficiary_book_a_linked_resource_directly() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let brest = id_of(&app, BREST).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let brest_editor = token("e@brest.fr", Some(BREST), &["editor"]);
    // Shared with nobody by coverage, decided by the owner.
    let resource = published(
        &app,
        &metro_editor,
        json!({ "ownerId": metro, "kind": "EXPERTISE", "name": "Ingénierie cyclable",
                "capacity": 5, "unit": "day", "costModel": "COST_SHARING",
                "bookingPolicy": "APPROVAL" }),
    )
    .await;
    let ask = || {
        let (app, tok, resource, brest) =
            (&app, brest_editor.clone(), resource.clone(), brest.clone());
        async move {
            request(
                app,
                &tok,
                json!({ "resourceId": resource, "requesterId": brest, "quantity": 2,
                        "from": hour(10, 0), "to": hour(12, 0), "purpose": "Schéma vélo" }),
            )
            .await
        }
    };
    let r = ask().await;
    assert_eq!(
        r["data"]["requestReservation"]["userErrors"][0]["field"], "input.requesterId",
        "{r:#}"
    );
    let available = || {
        let (app, brest) = (&app, brest.clone());
        async move {
            app.query(
                "query($o: ID!, $f: DateTime!, $t: DateTime!) {
                   availableResources(forOrganisation: $o, from: $f, to: $t) { id } }",
                json!({ "o": brest, "f": hour(10, 0), "t": hour(12, 0) }),
            )
            .await["availableResources"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(available().await, 0);

    let r = app
        .graphql_as(
            Some(&metro_editor),
            DRAFT,
            json!({ "i": {
                "draftingPartyId": metro, "kind": "MISE_A_DISPOSITION",
                "title": "Mise à disposition d'ingénierie cyclable", "validFrom": "2026-01-01",
                "parties": [ { "organisationId": metro, "role": "PROVIDER" },
                             { "organisationId": brest, "role": "BENEFICIARY" } ],
                "resources": [ resource ], "directBooking": true } }),
        )
        .await
        .1;
    let a = &r["data"]["draftAgreement"]["agreement"];
    assert_eq!(a["resources"][0]["id"], resource, "{r:#}");
    let id = a["id"].as_str().unwrap().to_owned();
    run(
        &app,
        &metro_editor,
        "proposeAgreement",
        json!({ "id": id, "version": 1 }),
    )
    .await;
    // Proposed is not in force: still no use.
    assert_eq!(available().await, 0);
    run(
        &app,
        &token("p@metropole.fr", Some(METRO), &["admin"]),
        "signAgreement",
        json!({ "id": id, "party": metro }),
    )
    .await;
    let r = run(
        &app,
        &token("maire@brest.fr", Some(BREST), &["admin"]),
        "signAgreement",
        json!({ "id": id, "party": brest }),
    )
    .await;
    assert_eq!(out(&r, "signAgreement")["status"], "ACTIVE", "{r:#}");

    assert_eq!(available().await, 1);
    let r = ask().await;
    let booking = &r["data"]["requestReservation"]["reservation"];
    assert_eq!(booking["status"], "APPROVED", "{r:#}");
    assert_eq!(booking["agreement"]["id"], id);
}

#[tokio::test]
async fn nested_resources_and_agreements_of_a_list_cost_a_fixed_number_of_statements() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let d35 = crate::resources::departement(&app, "35").await;
    // Every EPCI of Ille-et-Vilaine shares a room and drafts an agreement with Rennes.
    let epcis = app
        .query(
            "{ organisations(filter: {departement: \"35\", kinds: [CC, CA, CU, METROPOLE]}, first: 50) {
                 nodes { id siren } } }",
            json!({}),
        )
        .await;
    for epci in epcis["organisations"]["nodes"].as_array().unwrap() {
        let (owner, siren) = (
            epci["id"].as_str().unwrap(),
            epci["siren"].as_str().unwrap(),
        );
        let editor = token("e@epci.fr", Some(siren), &["editor"]);
        let resource = published(
            &app,
            &editor,
            json!({ "ownerId": owner, "kind": "BUILDING", "name": "Salle", "capacity": 1,
                    "unit": "room", "costModel": "FREE", "bookingPolicy": "APPROVAL",
                    "location": "35238",
                    "coverage": { "territories": [d35], "organisations": [rennes] } }),
        )
        .await;
        let r = app
            .graphql_as(
                Some(&editor),
                DRAFT,
                json!({ "i": { "draftingPartyId": owner, "kind": "CONVENTION_MUTUALISATION",
                    "title": "Prêt de salle", "validFrom": "2026-01-01", "resources": [resource],
                    "parties": [ { "organisationId": owner, "role": "PROVIDER" },
                                 { "organisationId": rennes, "role": "BENEFICIARY" } ] } }),
            )
            .await
            .1;
        assert!(
            r["data"]["draftAgreement"]["agreement"]["id"].is_string(),
            "{r:#}"
        );
    }
    let q = "query($first: Int) { organisations(filter: {departement: \"35\", kinds: [CC, CA, CU, METROPOLE]}, first: $first) {
               nodes { name resources { name owner { name } location { name }
                                        coverage { territories { name } organisations { name } } }
                       agreements { title status parties { role organisation { name } }
                                    resources { name } consents { decision } } } } }";
    // Rennes is party to every draft: its staff see them all.
    let editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    app.take_statements();
    let (_, small) = app
        .graphql_as(Some(&editor), q, json!({ "first": 2 }))
        .await;
    let small_statements = app.take_statements();
    let (_, large) = app
        .graphql_as(Some(&editor), q, json!({ "first": 50 }))
        .await;
    let large_statements = app.take_statements();
    assert!(large.get("errors").is_none(), "{large:#}");
    let nodes = large["data"]["organisations"]["nodes"].as_array().unwrap();
    let with_resources = nodes
        .iter()
        .filter(|n| n["resources"].as_array().unwrap().len() == 1)
        .count();
    let with_agreements = nodes
        .iter()
        .filter(|n| !n["agreements"].as_array().unwrap().is_empty())
        .count();
    assert!(nodes.len() > 10);
    assert_eq!(with_resources, nodes.len(), "{large:#}");
    assert_eq!(with_agreements, nodes.len(), "{large:#}");
    assert!(small.get("errors").is_none());
    // Batches at one depth may merge or not with those of another as the tasks interleave,
    // so the count may move by a statement or two; one query a row would add dozens.
    assert!(
        large_statements <= small_statements + 3,
        "nested lists load in batches, not one query per organisation: \
         {small_statements} statements for 2, {large_statements} for {}",
        nodes.len()
    );
}
