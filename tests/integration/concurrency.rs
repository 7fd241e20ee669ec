//! Every multi-party decision is right when all parties act at once: transfers approved by
//! both parties together, every member council of an EPCI deciding together (on a transfer,
//! then on its restitution), agreements signed by every party together, the same transfer
//! proposed many times together, the same organisation registered many times together, a
//! create retried with its idempotency key while it runs. Each outcome is checked in the database, repeatedly; the
//! races are real on PostgreSQL (SQLite serialises writers, so there they pass trivially).

use entity::{ConsentDecision, TransferStatus, consent, transfer};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, date, token};

const METRO: &str = "243500139";
const SYNDICAT: &str = "253599997";

const PROPOSE: &str =
    "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
    transfer { id status } userErrors { field code message } } }";
const APPROVE: &str =
    "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
    transfer { status } userErrors { code message } } }";

/// Communes of Rennes Métropole: (global ID, INSEE code).
const RESTITUTE: &str =
    "mutation($i: ProposeCompetenceRestitutionInput!) { proposeCompetenceRestitution(input: $i) {
    transfer { id status } userErrors { field code message } } }";

async fn member_communes(app: &TestApp, n: usize) -> Vec<(String, String)> {
    let data = app
        .query(
            "query($s: String!, $n: Int) { organisation(siren: $s) {
               members(kinds: [COMMUNE], first: $n) { nodes { member { id inseeCode } } } } }",
            json!({ "s": METRO, "n": n }),
        )
        .await;
    data["organisation"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member"]["id"].as_str().unwrap().to_owned(),
                m["member"]["inseeCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn metro_id(app: &TestApp) -> String {
    app.query(
        "query($s: String!) { organisation(siren: $s) { id } }",
        json!({ "s": METRO }),
    )
    .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A syndicat of the test fixture (made-up SIREN) grouping `communes`, by its global ID.
async fn syndicat_of(app: &TestApp, communes: &[(String, String)]) -> String {
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let members: Vec<&String> = communes.iter().map(|(id, _)| id).collect();
    let (_, r) = app
        .graphql_as(
            Some(&state),
            "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) {
               organisation { id } userErrors { message } } }",
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": SYNDICAT,
                           "members": members, "validFrom": "2026-01-01", "departement": "35" } }),
        )
        .await;
    r["data"]["registerGrouping"]["organisation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned()
}

fn internal_id(global: &str) -> i64 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transfer_approved_by_both_parties_at_once_is_completed() {
    let app = TestApp::new().await;
    let communes = member_communes(&app, 8).await;
    assert_eq!(communes.len(), 8);
    let syndicat = syndicat_of(&app, &communes).await;
    let syndicat_admin = token("president@syndicat.fr", Some(&syndicat), &["admin"]);
    for (commune, insee) in &communes {
        let editor = token(&format!("e@{insee}"), Some(commune), &["editor"]);
        let admin = token(&format!("maire@{insee}"), Some(commune), &["admin"]);
        let (_, proposed) = app
            .graphql_as(
                Some(&editor),
                PROPOSE,
                json!({ "i": { "competence": "C3035", "fromId": commune, "toId": syndicat,
                               "effectiveDate": date(1, 1, 1) } }),
            )
            .await;
        let tid = proposed["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not proposed: {proposed:#}"))
            .to_owned();
        let both = join_all([
            app.graphql_as(
                Some(&admin),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": commune } }),
            ),
            app.graphql_as(
                Some(&syndicat_admin),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": syndicat } }),
            ),
        ])
        .await;
        for (_, answer) in &both {
            assert_eq!(
                answer["data"]["approveCompetenceTransfer"]["userErrors"],
                json!([]),
                "{answer:#}"
            );
        }
        // One of the two saw the other's approval and completed the transfer.
        let statuses: Vec<&Value> = both
            .iter()
            .map(|(_, a)| &a["data"]["approveCompetenceTransfer"]["transfer"]["status"])
            .collect();
        assert!(statuses.contains(&&json!("COMPLETED")), "{statuses:?}");
        let row = transfer::Entity::find_by_id(internal_id(&tid))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, TransferStatus::Completed, "{insee}");
        let approved = consent::Entity::find()
            .filter(consent::Column::SubjectType.eq("Transfer"))
            .filter(consent::Column::SubjectId.eq(row.id))
            .filter(consent::Column::Decision.eq(ConsentDecision::Approved))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(approved, 2);
        // And "who does what" follows: the syndicat holds it for that commune from then.
        let r = app
            .query(
                "query($c: String!, $at: Date) { responsibilities(inseeCode: $c,
                   competence: \"C3035\", at: $at) { role organisation { siren } } }",
                json!({ "c": insee, "at": date(1, 6, 1) }),
            )
            .await;
        let holders: Vec<&Value> = r["responsibilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["role"] == "HOLDER")
            .map(|x| &x["organisation"]["siren"])
            .collect();
        assert_eq!(holders, vec![&json!(SYNDICAT)], "{insee}: {r:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_transfer_proposed_many_times_at_once_is_pending_once() {
    let app = TestApp::new().await;
    let communes = member_communes(&app, 3).await;
    let syndicat = syndicat_of(&app, &communes).await;
    for (commune, insee) in communes {
        let editor = token(&format!("e@{insee}"), Some(&commune), &["editor"]);
        let answers = join_all((0..8).map(|_| {
            app.graphql_as(
                Some(&editor),
                PROPOSE,
                json!({ "i": { "competence": "C3035", "fromId": commune, "toId": syndicat,
                               "effectiveDate": date(1, 1, 1) } }),
            )
        }))
        .await;
        let created = answers
            .iter()
            .filter(|(_, a)| a["data"]["proposeCompetenceTransfer"]["transfer"].is_object())
            .count();
        assert_eq!(created, 1, "{insee}: {answers:#?}");
        for (_, a) in &answers {
            let errors = &a["data"]["proposeCompetenceTransfer"]["userErrors"];
            if errors != &json!([]) {
                assert_eq!(errors[0]["code"], "CONFLICT", "{a:#}");
            }
        }
        let pending = transfer::Entity::find()
            .filter(transfer::Column::FromId.eq(internal_id(&commune)))
            .filter(transfer::Column::Status.eq(TransferStatus::Proposed))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(pending, 1, "{insee}");
    }
}

const DRAFT: &str = "mutation($i: DraftAgreementInput!) { draftAgreement(input: $i) {
    agreement { id } userErrors { field code message } } }";
const PROPOSE_AGREEMENT: &str =
    "mutation($i: ProposeAgreementInput!) { proposeAgreement(input: $i) {
    agreement { status } userErrors { field code message } } }";
const SIGN: &str = "mutation($i: DecideAgreementInput!) { signAgreement(input: $i) {
    agreement { status } userErrors { code message } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agreement_signed_by_every_party_at_once_is_signed() {
    let app = TestApp::new().await;
    let metro = metro_id(&app).await;
    let metro_admin = token("president@metropole.fr", Some(&metro), &["admin"]);
    let communes = member_communes(&app, 3).await;
    for round in 0..4 {
        let mut parties = vec![json!({ "organisationId": metro, "role": "PROVIDER" })];
        let mut admins = vec![(metro.clone(), metro_admin.clone())];
        for (commune, insee) in &communes {
            parties.push(json!({ "organisationId": commune, "role": "BENEFICIARY" }));
            admins.push((
                commune.clone(),
                token(&format!("maire@{insee}"), Some(commune), &["admin"]),
            ));
        }
        let metro_editor = token("e@metropole.fr", Some(&metro), &["editor"]);
        let (_, drafted) = app
            .graphql_as(
                Some(&metro_editor),
                DRAFT,
                json!({ "i": { "draftingPartyId": metro, "kind": "CONVENTION_MUTUALISATION",
                               "title": format!("Groupement de commandes {round}"),
                               "parties": parties, "validFrom": date(1, 1, 1) } }),
            )
            .await;
        let id = drafted["data"]["draftAgreement"]["agreement"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not drafted: {drafted:#}"))
            .to_owned();
        let (_, proposed) = app
            .graphql_as(
                Some(&metro_editor),
                PROPOSE_AGREEMENT,
                json!({ "i": { "id": id, "version": 1 } }),
            )
            .await;
        assert_eq!(
            proposed["data"]["proposeAgreement"]["agreement"]["status"], "PROPOSED",
            "{proposed:#}"
        );
        let signed = join_all(admins.iter().map(|(party, tok)| {
            app.graphql_as(
                Some(tok),
                SIGN,
                json!({ "i": { "id": id, "party": party } }),
            )
        }))
        .await;
        for (_, s) in &signed {
            assert_eq!(s["data"]["signAgreement"]["userErrors"], json!([]), "{s:#}");
        }
        let row = entity::agreement::Entity::find_by_id(internal_id(&id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, entity::AgreementStatus::Signed, "round {round}");
        assert!(row.signed_at.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_member_council_deciding_at_once_completes_the_transfer_and_the_restitution_once() {
    let app = TestApp::new().await;
    // Two real CC of Ille-et-Vilaine: Pays de Châteaugiron (5 communes), Montfort (8).
    for epci in ["243500659", "243500550"] {
        let data = app
            .query(
                "query($s: String!) { organisation(siren: $s) { id
                   members(kinds: [COMMUNE], first: 50) { nodes { member { id inseeCode } } } } }",
                json!({ "s": epci }),
            )
            .await;
        let epci_id = data["organisation"]["id"].as_str().unwrap().to_owned();
        let (_, proposed) = app
            .graphql_as(
                Some(&token("dgs@cc.fr", Some(epci), &["editor"])),
                PROPOSE,
                json!({ "i": { "competence": "C3035", "toId": epci_id,
                               "effectiveDate": date(1, 1, 1) } }),
            )
            .await;
        let tid = proposed["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not proposed: {proposed:#}"))
            .to_owned();
        let members: Vec<(String, String)> = data["organisation"]["members"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["member"]["id"].as_str().unwrap().to_owned(),
                    m["member"]["inseeCode"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // Applied once: one assignment per moved role.
        every_council_approves_at_once(&app, &tid, &members, 3).await;
        for (_, insee) in &members {
            assert_eq!(
                holder(&app, insee, &date(1, 6, 1)).await,
                json!(epci),
                "{insee}"
            );
        }

        // Then all of them decide at once on handing it back (CGCT L5211-17-1).
        let (_, proposed) = app
            .graphql_as(
                Some(&token("dgs@cc.fr", Some(epci), &["editor"])),
                RESTITUTE,
                json!({ "i": { "competence": "C3035", "epciId": epci_id,
                               "effectiveDate": date(2, 1, 1) } }),
            )
            .await;
        let rid = proposed["data"]["proposeCompetenceRestitution"]["transfer"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not proposed: {proposed:#}"))
            .to_owned();
        // Applied once: each member holds each moved role.
        every_council_approves_at_once(&app, &rid, &members, 3 * members.len() as u64).await;
        for (_, insee) in &members {
            let back = holder(&app, insee, &date(2, 6, 1)).await;
            let own = app
                .query(
                    "query($c: String!) { organisation(inseeCode: $c) { siren } }",
                    json!({ "c": insee }),
                )
                .await;
            assert_eq!(back, own["organisation"]["siren"], "{insee}");
        }
    }
}

/// Every member council approves `tid` at once: exactly one decision completes it, the
/// others counted or told it was made, and it is applied once (`assignments` rows created).
async fn every_council_approves_at_once(
    app: &TestApp,
    tid: &str,
    members: &[(String, String)],
    assignments: u64,
) {
    let answers = join_all(members.iter().map(|(commune, insee)| {
        let tok = token(&format!("maire@{insee}"), Some(commune), &["admin"]);
        async move {
            app.graphql_as(
                Some(&tok),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": commune } }),
            )
            .await
        }
    }))
    .await;
    let mut completed = 0;
    for (_, a) in &answers {
        let errors = &a["data"]["approveCompetenceTransfer"]["userErrors"];
        if errors == &json!([]) {
            completed += usize::from(
                a["data"]["approveCompetenceTransfer"]["transfer"]["status"] == "COMPLETED",
            );
        } else {
            assert_eq!(errors[0]["code"], "CONFLICT", "{a:#}");
        }
    }
    assert_eq!(completed, 1, "{tid}: exactly one decision completes it");
    let row = transfer::Entity::find_by_id(internal_id(tid))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, TransferStatus::Completed);
    let applied = entity::assignment::Entity::find()
        .filter(entity::assignment::Column::TransferId.eq(row.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(applied, assignments, "{tid}");
}

/// The SIREN of who holds C3035 in commune `insee` on `at`.
async fn holder(app: &TestApp, insee: &str, at: &str) -> Value {
    let r = app
        .query(
            "query($c: String!, $at: Date) { responsibilities(inseeCode: $c,
               competence: \"C3035\", at: $at) { role organisation { siren } } }",
            json!({ "c": insee, "at": at }),
        )
        .await;
    r["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["role"] == "HOLDER")
        .map(|x| x["organisation"]["siren"].clone())
        .unwrap_or_default()
}

/// Registers with `document` eight times at once (each its own request, no idempotency key):
/// one organisation is created, every other answer is a conflict, and the registry holds
/// one organisation with `siren`.
async fn registered_once(app: &TestApp, document: &str, mutation: &str, input: Value, siren: &str) {
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let answers = join_all(
        (0..8).map(|_| app.graphql_as(Some(&state), document, json!({ "i": input.clone() }))),
    )
    .await;
    let created = answers
        .iter()
        .filter(|(_, a)| a["data"][mutation]["organisation"].is_object())
        .count();
    assert_eq!(created, 1, "{answers:#?}");
    for (_, a) in &answers {
        let errors = &a["data"][mutation]["userErrors"];
        if errors != &json!([]) {
            assert_eq!(errors[0]["code"], "CONFLICT", "{a:#}");
        }
    }
    let rows = entity::organisation::Entity::find()
        .filter(entity::organisation::Column::Siren.eq(siren))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1, "{siren}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_organisation_registered_many_times_at_once_is_registered_once() {
    let app = TestApp::new().await;
    registered_once(
        &app,
        "mutation($i: RegisterPartnerOrganisationInput!) { registerPartnerOrganisation(input: $i) {
           organisation { id } userErrors { code message } } }",
        "registerPartnerOrganisation",
        json!({ "kind": "COMPANY", "name": "Google France", "siret": "73282932000074" }),
        "732829320",
    )
    .await;
    let communes = member_communes(&app, 2).await;
    let members: Vec<&String> = communes.iter().map(|(id, _)| id).collect();
    registered_once(
        &app,
        "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) {
           organisation { id } userErrors { code message } } }",
        "registerGrouping",
        json!({ "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": SYNDICAT,
                "members": members, "validFrom": "2026-01-01", "departement": "35" }),
        SYNDICAT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_create_retried_while_it_runs_replays_its_first_result() {
    let app = TestApp::new().await;
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let input = json!({ "kind": "COMPANY", "name": "Google France", "siret": "73282932000074",
                        "idempotencyKey": "register-google-1" });
    let answers = join_all((0..8).map(|_| {
        app.graphql_as(
            Some(&state),
            "mutation($i: RegisterPartnerOrganisationInput!) { registerPartnerOrganisation(input: $i) {
               organisation { id } userErrors { code message } } }",
            json!({ "i": input.clone() }),
        )
    }))
    .await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|(_, a)| &a["data"]["registerPartnerOrganisation"]["organisation"]["id"])
        .collect();
    assert!(ids[0].is_string(), "{answers:#?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{answers:#?}");
    let rows = entity::organisation::Entity::find()
        .filter(entity::organisation::Column::Siren.eq("732829320"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}
