//! Declared assignments and consented transfers: effective dates, scopes, conflicts, the
//! permission matrix, and that refused changes change nothing.

use entity::{assignment, audit_record, transfer};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};

const RENNES: &str = "213502388";
const METRO: &str = "243500139";
const BREST: &str = "212900195";

pub(crate) async fn id_of(app: &TestApp, siren: &str) -> String {
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
pub(crate) async fn who(
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

pub(crate) async fn declare(app: &TestApp, tok: &str, input: Value) -> Value {
    let (_, response) = app
        .graphql_as(Some(tok), DECLARE, json!({ "i": input }))
        .await;
    response
}

pub(crate) async fn rows(app: &TestApp) -> (u64, u64, u64) {
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
