//! Declared assignments and consented transfers: effective dates, scopes, conflicts, the
//! permission matrix, and that refused changes change nothing.

use entity::{assignment, audit_record, transfer};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};

const RENNES: &str = "213502388";
const METRO: &str = "243500139";
const BREST: &str = "212900195";

async fn id_of(app: &TestApp, siren: &str) -> String {
    app.query(
        "query($s: String!) { organisation(siren: $s) { id } }",
        json!({ "s": siren }),
    )
    .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The organisations (SIREN or INSEE code) playing `role` in `c` for `commune` on `at`,
/// with their layer and basis.
async fn who(
    app: &TestApp,
    commune: &str,
    c: &str,
    at: &str,
    role: &str,
) -> Vec<(String, String, String)> {
    let data = app
        .query(
            "query($code: String!, $c: String!, $at: Date) {
               responsibilities(inseeCode: $code, competence: $c, at: $at) {
                 role layer basis organisation { siren } } }",
            json!({ "code": commune, "c": c, "at": at }),
        )
        .await;
    data["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == role)
        .map(|r| {
            (
                r["organisation"]["siren"].as_str().unwrap_or("").to_owned(),
                r["layer"].as_str().unwrap().to_owned(),
                r["basis"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

const DECLARE: &str = "mutation($i: DeclareCompetenceInput!) { declareCompetence(input: $i) {
    assignment { id version role basis wholeTerritory scope { inseeCode } validFrom validTo }
    userErrors { field code message } } }";

async fn declare(app: &TestApp, tok: &str, input: Value) -> Value {
    let (_, response) = app
        .graphql_as(Some(tok), DECLARE, json!({ "i": input }))
        .await;
    response
}

async fn rows(app: &TestApp) -> (u64, u64, u64) {
    (
        assignment::Entity::find().count(&app.db).await.unwrap(),
        transfer::Entity::find().count(&app.db).await.unwrap(),
        audit_record::Entity::find().count(&app.db).await.unwrap(),
    )
}

#[tokio::test]
async fn a_declared_assignment_changes_the_answer_from_its_start_only() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    // Action sociale (C3035) is the commune's by default.
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await,
        vec![(RENNES.into(), "LEGAL_DEFAULT".into(), "LAW".into())]
    );
    let response = declare(
        &app,
        &metro_editor,
        json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                "basis": "STATUTES", "scope": ["35238"], "validFrom": date(1, 1, 1),
                "legalReference": "Statuts, art. 5" }),
    )
    .await;
    let created = &response["data"]["declareCompetence"]["assignment"];
    assert_eq!(created["scope"][0]["inseeCode"], "35238", "{response:#}");
    assert_eq!(created["wholeTerritory"], false);

    assert_eq!(
        who(&app, "35238", "C3035", &date(0, 12, 31), "HOLDER").await,
        vec![(RENNES.into(), "LEGAL_DEFAULT".into(), "LAW".into())]
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 1, 1), "HOLDER").await,
        vec![(METRO.into(), "DECLARED".into(), "STATUTES".into())]
    );
    // The declared holder takes the whole competence from the presumption (implementing and
    // paying went with deciding); another commune is not covered.
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 1, 1), "IMPLEMENTER").await,
        vec![]
    );
    assert_eq!(
        who(&app, "35051", "C3035", &date(1, 1, 1), "HOLDER").await[0].1,
        "LEGAL_DEFAULT"
    );

    // Ending it on January 1st in two years gives the commune its default back from then.
    let (_, ended) = app
        .graphql_as(
            Some(&metro_editor),
            "mutation($i: EndCompetenceAssignmentInput!) { endCompetenceAssignment(input: $i) {
               assignment { validTo version } userErrors { code } } }",
            json!({ "i": { "id": created["id"], "version": created["version"], "endDate": date(2, 1, 1) } }),
        )
        .await;
    assert_eq!(
        ended["data"]["endCompetenceAssignment"]["assignment"]["validTo"],
        date(2, 1, 1)
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 12, 31), "HOLDER").await[0].0,
        METRO
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(2, 1, 1), "HOLDER").await[0].0,
        RENNES
    );

    // A stale version is a conflict and changes nothing.
    let before = rows(&app).await;
    let (_, stale) = app
        .graphql_as(
            Some(&metro_editor),
            "mutation($i: AmendCompetenceAssignmentInput!) { amendCompetenceAssignment(input: $i) {
               assignment { id } userErrors { code } } }",
            json!({ "i": { "id": created["id"], "version": 1, "validTo": null } }),
        )
        .await;
    assert_eq!(
        stale["data"]["amendCompetenceAssignment"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    assert_eq!(rows(&app).await, before);
}

#[tokio::test]
async fn overlapping_holders_conflict_unless_their_scopes_are_disjoint() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let first = declare(
        &app,
        &metro_editor,
        json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                "basis": "STATUTES", "scope": ["35238"], "validFrom": date(1, 1, 1) }),
    )
    .await;
    assert!(
        first["data"]["declareCompetence"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Disjoint scope: fine.
    let disjoint = declare(
        &app,
        &metro_editor,
        json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                "basis": "STATUTES", "scope": ["35051"], "validFrom": date(1, 1, 1) }),
    )
    .await;
    assert!(
        disjoint["data"]["declareCompetence"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{disjoint:#}"
    );

    let before = rows(&app).await;
    // Rennes declaring itself holder over the same dates: conflict.
    let clash = declare(
        &app,
        &rennes_editor,
        json!({ "organisationId": rennes, "competence": "C3035", "role": "HOLDER",
                "basis": "LAW", "validFrom": date(0, 12, 1), "validTo": date(1, 2, 1) }),
    )
    .await;
    assert_eq!(
        clash["data"]["declareCompetence"]["userErrors"][0]["code"], "CONFLICT",
        "{clash:#}"
    );
    // The same scope again: conflict.
    let again = declare(
        &app,
        &metro_editor,
        json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                "basis": "STATUTES", "scope": ["35051", "35047"], "validFrom": date(4, 1, 1) }),
    )
    .await;
    assert_eq!(
        again["data"]["declareCompetence"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    assert_eq!(
        rows(&app).await,
        before,
        "refused declarations change nothing"
    );

    // Before the other starts, or in another role: fine.
    let earlier = declare(
        &app,
        &rennes_editor,
        json!({ "organisationId": rennes, "competence": "C3035", "role": "IMPLEMENTER",
                "basis": "LAW", "validFrom": date(0, 12, 1) }),
    )
    .await;
    assert!(
        earlier["data"]["declareCompetence"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bad_declarations_are_user_errors_and_change_nothing() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let tok = token("e@metropole.fr", Some(METRO), &["editor"]);
    let before = rows(&app).await;
    let base = json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                       "basis": "STATUTES", "validFrom": date(1, 1, 1) });
    let with = |k: &str, v: Value| {
        let mut i = base.clone();
        i[k] = v;
        i
    };
    for (input, field) in [
        (with("competence", json!("C9999")), "input.competence"),
        (with("competence", json!("waste")), "input.competence"),
        (with("scope", json!(["29019"])), "input.scope"),
        (with("scope", json!(["3523"])), "input.scope[0]"),
        (with("scope", json!([])), "input.scope"),
        (with("validTo", json!("2026-01-01")), "input.validTo"),
        (with("basis", json!("TRANSFER")), "input.basis"),
        (with("legalReference", json!("")), "input.legalReference"),
    ] {
        let response = declare(&app, &tok, input.clone()).await;
        let errors = &response["data"]["declareCompetence"]["userErrors"];
        assert_eq!(errors[0]["code"], "BAD_USER_INPUT", "{input}: {response:#}");
        assert_eq!(errors[0]["field"], field, "{input}: {response:#}");
    }
    assert_eq!(rows(&app).await, before);
}

#[tokio::test]
async fn declaring_takes_an_editor_of_the_organisation() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let input = json!({ "organisationId": metro, "competence": "C3035", "role": "LEAD",
                        "basis": "STATUTES", "validFrom": date(1, 1, 1) });
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("anonymous", None, "UNAUTHENTICATED"),
        (
            "editor of another",
            Some(token("e@brest.fr", Some(BREST), &["editor"])),
            "FORBIDDEN",
        ),
        (
            "partner",
            Some(token("app@p.fr", Some(METRO), &["partner"])),
            "FORBIDDEN",
        ),
        (
            "state",
            Some(token("dgcl@i.fr", None, &["state"])),
            "FORBIDDEN",
        ),
        (
            "editor",
            Some(token("e@m.fr", Some(METRO), &["editor"])),
            "OK",
        ),
        (
            "admin",
            Some(token("a@m.fr", Some(METRO), &["admin"])),
            "OK",
        ),
        (
            "superadmin",
            Some(token("ops@m.fr", None, &["superadmin"])),
            "OK",
        ),
    ];
    for (i, (who, tok, expected)) in cases.into_iter().enumerate() {
        let mut input = input.clone();
        // Distinct periods, so that allowed callers do not conflict with each other.
        input["validFrom"] = json!(date(4 + i as i32, 1, 1));
        input["validTo"] = json!(date(5 + i as i32, 1, 1));
        let before = rows(&app).await;
        let (_, response) = app
            .graphql_as(tok.as_deref(), DECLARE, json!({ "i": input }))
            .await;
        if expected == "OK" {
            assert!(
                response["data"]["declareCompetence"]["assignment"]["id"].is_string(),
                "{who}: {response:#}"
            );
        } else {
            assert_eq!(error_code(&response), expected, "{who}");
            assert_eq!(rows(&app).await, before, "{who}");
        }
    }
}

const PROPOSE: &str =
    "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
    transfer { id status wholeTerritory consents { party { siren } decision } }
    userErrors { field code message } } }";
const APPROVE: &str = "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
    transfer { status consents { party { siren } decision decidedBy } } userErrors { code message } } }";
const REJECT: &str =
    "mutation($i: DecideCompetenceTransferInput!) { rejectCompetenceTransfer(input: $i) {
    transfer { status reason } userErrors { code message } } }";

async fn propose(app: &TestApp, tok: &str, c: &str, from: &str, to: &str, eff: &str) -> Value {
    app.graphql_as(
        Some(tok),
        PROPOSE,
        json!({ "i": { "competence": c, "fromId": from, "toId": to, "effectiveDate": eff } }),
    )
    .await
    .1
}

#[tokio::test]
async fn a_transfer_takes_effect_when_every_party_approved_and_not_before_its_date() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let rennes_admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let metro_admin = token("a@metropole.fr", Some(METRO), &["admin"]);
    let effective = date(1, 1, 1);

    let response = propose(&app, &rennes_editor, "C3035", &rennes, &metro, &effective).await;
    let t = &response["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "PROPOSED", "{response:#}");
    assert_eq!(t["wholeTerritory"], true);
    assert_eq!(t["consents"].as_array().unwrap().len(), 2);
    let tid = t["id"].as_str().unwrap().to_owned();

    // Nothing changes while consent is incomplete.
    let (_, first) = app
        .graphql_as(
            Some(&rennes_admin),
            APPROVE,
            json!({ "i": { "transferId": tid, "party": rennes } }),
        )
        .await;
    assert_eq!(
        first["data"]["approveCompetenceTransfer"]["transfer"]["status"],
        "PROPOSED"
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        RENNES
    );
    // A party decides once.
    let (_, twice) = app
        .graphql_as(
            Some(&rennes_admin),
            APPROVE,
            json!({ "i": { "transferId": tid, "party": rennes } }),
        )
        .await;
    assert_eq!(
        twice["data"]["approveCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );

    let (_, last) = app
        .graphql_as(
            Some(&metro_admin),
            APPROVE,
            json!({ "i": { "transferId": tid, "party": metro } }),
        )
        .await;
    let t = &last["data"]["approveCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "COMPLETED", "{last:#}");
    assert_eq!(t["consents"][1]["decidedBy"], "a@metropole.fr");

    assert_eq!(
        who(&app, "35238", "C3035", &date(0, 12, 31), "HOLDER").await,
        vec![(RENNES.into(), "LEGAL_DEFAULT".into(), "LAW".into())]
    );
    for role in ["HOLDER", "IMPLEMENTER", "FINANCER"] {
        assert_eq!(
            who(&app, "35238", "C3035", &date(1, 1, 1), role).await,
            vec![(METRO.into(), "DECLARED".into(), "TRANSFER".into())],
            "{role}"
        );
    }
    // Other communes of the métropole keep theirs.
    assert_eq!(
        who(&app, "35051", "C3035", &date(1, 1, 1), "HOLDER").await[0].1,
        "LEGAL_DEFAULT"
    );
    // The giver no longer lists it from then; the receiver does.
    let data = app
        .query(
            "query($before: Date, $after: Date) {
               rennes: organisation(siren: \"213502388\") { before: competences(at: $before) { competence { code } role }
                                                           after: competences(at: $after) { competence { code } role } }
               metro: organisation(siren: \"243500139\") { competences(at: $after) { competence { code } role basis } } }",
            json!({ "before": date(0, 12, 31), "after": date(1, 1, 1) }),
        )
        .await;
    let lists = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|r| r["competence"]["code"] == "C3035")
    };
    assert!(lists(&data["rennes"]["before"]));
    assert!(!lists(&data["rennes"]["after"]));
    assert!(
        data["metro"]["competences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| { r["competence"]["code"] == "C3035" && r["basis"] == "TRANSFER" })
    );

    // Handing waste collection back from the métropole to Rennes only covers Rennes.
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let back = propose(&app, &metro_editor, "C2080", &metro, &rennes, &effective).await;
    let t = &back["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["wholeTerritory"], false, "{back:#}");
    let tid = t["id"].as_str().unwrap().to_owned();
    for (tok, party) in [(&metro_admin, &metro), (&rennes_admin, &rennes)] {
        let (_, r) = app
            .graphql_as(
                Some(tok),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": party } }),
            )
            .await;
        assert!(
            r["data"]["approveCompetenceTransfer"]["userErrors"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{r:#}"
        );
    }
    assert_eq!(
        who(&app, "35238", "C2080", &date(1, 1, 1), "HOLDER").await,
        vec![(RENNES.into(), "DECLARED".into(), "TRANSFER".into())]
    );
    assert_eq!(
        who(&app, "35238", "C2080", &date(0, 12, 31), "HOLDER").await[0].0,
        METRO
    );
    assert_eq!(
        who(&app, "35051", "C2080", &date(1, 1, 1), "HOLDER").await[0].0,
        METRO
    );
}

#[tokio::test]
async fn rejected_withdrawn_or_unconsented_transfers_change_nothing() {
    let app = TestApp::new().await;
    let rennes = id_of(&app, RENNES).await;
    let metro = id_of(&app, METRO).await;
    let brest = id_of(&app, BREST).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let metro_admin = token("a@metropole.fr", Some(METRO), &["admin"]);
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);

    // Bad proposals.
    let next_year = date(1, 1, 1);
    let next_year = next_year.as_str();
    for (c, from, to, eff, field) in [
        ("C3035", &rennes, &brest, next_year, "input.toId"),
        ("C3035", &rennes, &rennes, next_year, "input.toId"),
        ("C2080", &rennes, &metro, next_year, "input.fromId"),
        (
            "C3035",
            &rennes,
            &metro,
            "2020-01-01",
            "input.effectiveDate",
        ),
        ("C9999", &rennes, &metro, next_year, "input.competence"),
    ] {
        let before = rows(&app).await;
        let r = propose(&app, &rennes_editor, c, from, to, eff).await;
        let errors = &r["data"]["proposeCompetenceTransfer"]["userErrors"];
        assert_eq!(errors[0]["code"], "BAD_USER_INPUT", "{c} {eff}: {r:#}");
        assert_eq!(errors[0]["field"], field, "{r:#}");
        assert_eq!(rows(&app).await, before);
    }
    // Only a party's editors may propose.
    let (_, r) = app
        .graphql_as(
            Some(&token("e@brest.fr", Some(BREST), &["editor"])),
            PROPOSE,
            json!({ "i": { "competence": "C3035", "fromId": rennes, "toId": metro, "effectiveDate": date(1, 1, 1) } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");

    // Rejected.
    let r = propose(&app, &rennes_editor, "C3035", &rennes, &metro, next_year).await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let same = propose(&app, &rennes_editor, "C3035", &rennes, &metro, next_year).await;
    assert_eq!(
        same["data"]["proposeCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    // Deciding takes an admin of that party.
    for tok in [
        metro_editor.clone(),
        token("a@brest.fr", Some(BREST), &["admin"]),
        token("dgcl@i.fr", None, &["state"]),
    ] {
        let (_, r) = app
            .graphql_as(
                Some(&tok),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": metro } }),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN");
    }
    let (_, r) = app
        .graphql_as(
            None,
            APPROVE,
            json!({ "i": { "transferId": tid, "party": metro } }),
        )
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    let (_, r) = app
        .graphql_as(
            Some(&metro_admin),
            REJECT,
            json!({ "i": { "transferId": tid, "party": metro, "reason": "pas cette année" } }),
        )
        .await;
    assert_eq!(
        r["data"]["rejectCompetenceTransfer"]["transfer"]["status"], "REJECTED",
        "{r:#}"
    );
    let (_, r) = app
        .graphql_as(
            Some(&token("a@rennes.fr", Some(RENNES), &["admin"])),
            APPROVE,
            json!({ "i": { "transferId": tid, "party": rennes } }),
        )
        .await;
    assert_eq!(
        r["data"]["approveCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );

    // Withdrawn.
    let r = propose(&app, &rennes_editor, "C3035", &rennes, &metro, next_year).await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, w) = app
        .graphql_as(
            Some(&metro_editor),
            "mutation($i: WithdrawCompetenceTransferInput!) { withdrawCompetenceTransfer(input: $i) { transfer { status } } }",
            json!({ "i": { "transferId": tid } }),
        )
        .await;
    assert_eq!(error_code(&w), "FORBIDDEN", "only the proposer withdraws");
    let (_, w) = app
        .graphql_as(
            Some(&rennes_editor),
            "mutation($i: WithdrawCompetenceTransferInput!) { withdrawCompetenceTransfer(input: $i) { transfer { status } } }",
            json!({ "i": { "transferId": tid } }),
        )
        .await;
    assert_eq!(
        w["data"]["withdrawCompetenceTransfer"]["transfer"]["status"],
        "WITHDRAWN"
    );

    assert_eq!(assignment::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        RENNES
    );
    let listed = app
        .query(
            "query($o: ID!) { competenceTransfers(organisation: $o) { status } }",
            json!({ "o": rennes }),
        )
        .await;
    assert_eq!(listed["competenceTransfers"].as_array().unwrap().len(), 2);
}

const REGISTER_GROUPING: &str =
    "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) {
    organisation { id kind name members { totalCount } } userErrors { field code message } } }";

/// A test fixture: a syndicat (made-up SIREN) of Rennes Métropole and the CC Val d'Ille-Aubigné.
async fn syndicat(app: &TestApp, members: &[String]) -> String {
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let (_, r) = app
        .graphql_as(
            Some(&state),
            REGISTER_GROUPING,
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": "253599997",
                            "members": members, "validFrom": "2026-01-01", "departement": "35" } }),
        )
        .await;
    let org = &r["data"]["registerGrouping"]["organisation"];
    assert_eq!(org["kind"], "SYNDICAT", "{r:#}");
    org["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_epci_transfers_to_a_syndicat_and_a_syndicat_serves_a_la_carte() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let cc = id_of(&app, "243500667").await;
    // Registering a grouping takes a State service.
    let (_, r) = app
        .graphql_as(
            Some(&token("a@metropole.fr", Some(METRO), &["admin"])),
            REGISTER_GROUPING,
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat", "siren": "253599997",
                            "members": [metro], "validFrom": "2026-01-01" } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let syndicat = syndicat(&app, &[metro.clone(), cc.clone()]).await;
    let members = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Organisation { members { totalCount } } } }",
            json!({ "id": syndicat }),
        )
        .await;
    assert_eq!(members["node"]["members"]["totalCount"], 2);

    // The métropole hands water (mandatory for it) to the syndicat.
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let r = propose(
        &app,
        &metro_editor,
        "C1505",
        &metro,
        &syndicat,
        &date(1, 1, 1),
    )
    .await;
    let t = &r["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["wholeTerritory"], true, "{r:#}");
    let tid = t["id"].as_str().unwrap().to_owned();
    let syndicat_siren = "253599997";
    for (tok, party) in [
        (token("a@metropole.fr", Some(METRO), &["admin"]), &metro),
        (
            token("a@syndicat.fr", Some(syndicat_siren), &["admin"]),
            &syndicat,
        ),
    ] {
        let (_, r) = app
            .graphql_as(
                Some(&tok),
                APPROVE,
                json!({ "i": { "transferId": tid, "party": party } }),
            )
            .await;
        assert!(
            r["data"]["approveCompetenceTransfer"]["userErrors"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{r:#}"
        );
    }
    assert_eq!(
        who(&app, "35238", "C1505", &date(1, 1, 1), "HOLDER").await,
        vec![(syndicat_siren.into(), "DECLARED".into(), "TRANSFER".into())]
    );
    assert_eq!(
        who(&app, "35238", "C1505", &date(0, 12, 31), "HOLDER").await[0].0,
        METRO
    );
    // The other member's communes are not covered by the métropole's transfer.
    let cc_commune = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Organisation { members(first: 1, kinds: [COMMUNE]) { nodes { member { inseeCode } } } } } }",
            json!({ "id": cc }),
        )
        .await["node"]["members"]["nodes"][0]["member"]["inseeCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        who(&app, &cc_commune, "C1505", &date(1, 1, 1), "HOLDER").await[0].0,
        syndicat_siren
    );
    let listed = app
        .query(
            "query($at: Date) { organisation(siren: \"243500139\") { competences(at: $at) { competence { code } role } } }",
            json!({ "at": date(1, 1, 1) }),
        )
        .await;
    assert!(
        !listed["organisation"]["competences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["competence"]["code"] == "C1505")
    );

    // À la carte: the syndicat lights the streets of Rennes and of one commune of the CC only.
    let syndicat_editor = token("e@syndicat.fr", Some(syndicat_siren), &["editor"]);
    let carte = declare(
        &app,
        &syndicat_editor,
        json!({ "organisationId": syndicat, "competence": "C1030", "role": "HOLDER", "basis": "STATUTES",
                "scope": ["35238", cc_commune], "validFrom": date(1, 1, 1) }),
    )
    .await;
    assert!(
        carte["data"]["declareCompetence"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{carte:#}"
    );
    assert_eq!(
        who(&app, &cc_commune, "C1030", &date(1, 1, 1), "HOLDER").await[0].0,
        syndicat_siren
    );
    assert_eq!(
        who(&app, "35051", "C1030", &date(1, 1, 1), "HOLDER").await[0].1,
        "LEGAL_DEFAULT"
    );
    // Brest is not a member.
    let outside = declare(
        &app,
        &syndicat_editor,
        json!({ "organisationId": syndicat, "competence": "C1030", "role": "HOLDER", "basis": "STATUTES",
                "scope": ["29019"], "validFrom": date(1, 1, 1) }),
    )
    .await;
    assert_eq!(
        outside["data"]["declareCompetence"]["userErrors"][0]["field"],
        "input.scope"
    );
}

#[tokio::test]
async fn concurrent_holders_of_one_commune_cannot_both_land() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let rennes = id_of(&app, RENNES).await;
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let attempts = (0..8).map(|i| {
        let (tok, input) = if i % 2 == 0 {
            (&metro_editor, json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                                    "basis": "STATUTES", "scope": ["35238"], "validFrom": date(1, i / 2 + 1, 1) }))
        } else {
            (&rennes_editor, json!({ "organisationId": rennes, "competence": "C3035", "role": "HOLDER",
                                     "basis": "LAW", "validFrom": date(1, i / 2 + 1, 1) }))
        };
        let app = &app;
        async move { declare(app, tok, input).await }
    });
    let outcomes = futures_util::future::join_all(attempts).await;
    let landed = outcomes
        .iter()
        .filter(|r| r["data"]["declareCompetence"]["assignment"].is_object())
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|r| r["data"]["declareCompetence"]["userErrors"][0]["code"] == "CONFLICT")
        .count();
    assert_eq!((landed, conflicts), (1, 7), "{outcomes:#?}");
    assert_eq!(assignment::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn amending_and_ending_take_an_editor_of_the_organisation() {
    let app = TestApp::new().await;
    let metro = id_of(&app, METRO).await;
    let response = declare(
        &app,
        &token("e@metropole.fr", Some(METRO), &["editor"]),
        json!({ "organisationId": metro, "competence": "C3035", "role": "LEAD",
                "basis": "STATUTES", "validFrom": date(1, 1, 1) }),
    )
    .await;
    let a = &response["data"]["declareCompetence"]["assignment"];
    let amend = "mutation($i: AmendCompetenceAssignmentInput!) { amendCompetenceAssignment(input: $i) { assignment { version } } }";
    let end = "mutation($i: EndCompetenceAssignmentInput!) { endCompetenceAssignment(input: $i) { assignment { version } } }";
    let before = rows(&app).await;
    for (who, tok, code) in [
        ("anonymous", None, "UNAUTHENTICATED"),
        (
            "editor of another",
            Some(token("e@brest.fr", Some(BREST), &["editor"])),
            "FORBIDDEN",
        ),
        (
            "partner",
            Some(token("app@p.fr", Some(METRO), &["partner"])),
            "FORBIDDEN",
        ),
        (
            "state",
            Some(token("dgcl@i.fr", None, &["state"])),
            "FORBIDDEN",
        ),
    ] {
        let (_, r) = app
            .graphql_as(
                tok.as_deref(),
                amend,
                json!({ "i": { "id": a["id"], "version": a["version"], "validTo": date(4, 1, 1) } }),
            )
            .await;
        assert_eq!(error_code(&r), code, "amend by {who}");
        let (_, r) = app
            .graphql_as(
                tok.as_deref(),
                end,
                json!({ "i": { "id": a["id"], "version": a["version"], "endDate": date(4, 1, 1) } }),
            )
            .await;
        assert_eq!(error_code(&r), code, "end by {who}");
    }
    assert_eq!(rows(&app).await, before, "refused changes change nothing");
    let (_, r) = app
        .graphql_as(
            Some(&token("a@metropole.fr", Some(METRO), &["admin"])),
            amend,
            json!({ "i": { "id": a["id"], "version": a["version"], "validTo": date(4, 1, 1) } }),
        )
        .await;
    assert_eq!(
        r["data"]["amendCompetenceAssignment"]["assignment"]["version"], 2,
        "{r:#}"
    );
}
