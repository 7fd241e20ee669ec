//! Restitutions as the law makes them (CGCT L5211-17-1): an EPCI à fiscalité propre hands a
//! competence the law does not impose back to all its member communes, whose councils decide
//! by the majority required to create it; silence for three months is refusal.

use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};
use crate::competence_changes::{id_of, who};
use crate::transfers::{
    APPROVE, BREST, CC, REJECT, SETTLE, councils, decide, mayor, propose_to_members,
};

const RESTITUTE: &str =
    "mutation($i: ProposeCompetenceRestitutionInput!) { proposeCompetenceRestitution(input: $i) {
    transfer { id status rule from { siren } to { siren } decisionDeadline
      consents { party { inseeCode } decision }
      majority { councils reached possible legalReference } }
    userErrors { field code message } } }";

async fn restitute(app: &TestApp, tok: &str, c: &str, epci: &str, eff: &str) -> Value {
    app.graphql_as(
        Some(tok),
        RESTITUTE,
        json!({ "i": { "competence": c, "epciId": epci, "effectiveDate": eff,
                       "legalReference": "délibération du conseil communautaire" } }),
    )
    .await
    .1
}

/// Action sociale (C3035) transferred to the CC by its councils' majority, from next year.
async fn transferred(app: &TestApp, members: &std::collections::BTreeMap<String, String>) {
    let cc = id_of(app, CC).await;
    let r = propose_to_members(
        app,
        &token("dgs@cc.fr", Some(CC), &["editor"]),
        "C3035",
        &cc,
    )
    .await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for insee in ["35069", "35207", "35327"] {
        decide(
            app,
            &mayor(insee, &members[insee]),
            APPROVE,
            &tid,
            &members[insee],
        )
        .await;
    }
    assert_eq!(
        who(app, "35099", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        CC
    );
}

/// Who holds `c` in `commune` on `at`: INSEE code or SIREN, layer, basis, source.
async fn holder(app: &TestApp, commune: &str, c: &str, at: &str) -> Vec<Value> {
    let data = app
        .query(
            "query($code: String!, $c: String!, $at: Date) {
               responsibilities(inseeCode: $code, competence: $c, at: $at) {
                 role layer basis source organisation { inseeCode siren } } }",
            json!({ "code": commune, "c": c, "at": at }),
        )
        .await;
    data["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "HOLDER")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_restitution_hands_the_competence_back_to_every_member_by_majority() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    transferred(&app, &members).await;
    let cc_editor = token("dgs@cc.fr", Some(CC), &["editor"]);

    let r = restitute(&app, &cc_editor, "C3035", &cc, &date(2, 1, 1)).await;
    let t = &r["data"]["proposeCompetenceRestitution"]["transfer"];
    assert_eq!(t["status"], "PROPOSED", "{r:#}");
    assert_eq!(t["rule"], "RESTITUTION");
    assert_eq!(t["from"]["siren"], CC);
    assert_eq!(t["to"], Value::Null, "the receivers are every member");
    assert_eq!(t["consents"].as_array().unwrap().len(), 5);
    assert_eq!(
        t["majority"],
        json!({ "councils": 5, "reached": false, "possible": true,
                "legalReference": "CGCT L5211-17-1, L5211-5" })
    );
    let tid = t["id"].as_str().unwrap().to_owned();

    for insee in ["35069", "35207"] {
        let r = decide(
            &app,
            &mayor(insee, &members[insee]),
            APPROVE,
            &tid,
            &members[insee],
        )
        .await;
        assert_eq!(
            r["data"]["approveCompetenceTransfer"]["transfer"]["status"], "PROPOSED",
            "{r:#}"
        );
    }
    // Servon-sur-Vilaine: half of the councils with three quarters of the population.
    let r = decide(
        &app,
        &mayor("35327", &members["35327"]),
        APPROVE,
        &tid,
        &members["35327"],
    )
    .await;
    assert_eq!(
        r["data"]["approveCompetenceTransfer"]["transfer"]["status"], "COMPLETED",
        "{r:#}"
    );
    // Every member holds it again from the effective date, citing the article; the CC until.
    for insee in members.keys() {
        let after = holder(&app, insee, "C3035", &date(2, 1, 1)).await;
        assert_eq!(after.len(), 1, "{insee}: {after:?}");
        assert_eq!(
            (
                &after[0]["organisation"]["inseeCode"],
                &after[0]["layer"],
                &after[0]["basis"]
            ),
            (&json!(insee), &json!("DECLARED"), &json!("TRANSFER")),
            "{insee}"
        );
        assert_eq!(
            after[0]["source"],
            "CGCT L5211-17-1 (délibération du conseil communautaire)"
        );
        let before = holder(&app, insee, "C3035", &date(1, 12, 31)).await;
        assert_eq!(before[0]["organisation"]["siren"], CC, "{insee}");
    }
    let held = app
        .query(
            "query($at: Date) { organisation(siren: \"243500659\") { competences(at: $at) { competence { code } } } }",
            json!({ "at": date(2, 1, 1) }),
        )
        .await;
    assert!(
        !held["organisation"]["competences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["competence"]["code"] == "C3035"),
        "{held:#}"
    );
}

#[tokio::test]
async fn silence_refuses_a_restitution_and_the_law_keeps_what_it_imposes() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    let cc_editor = token("dgs@cc.fr", Some(CC), &["editor"]);
    let eff = date(2, 1, 1);

    // Waste collection is the CC's by law (CGCT L5214-16): it cannot be handed back.
    let r = restitute(&app, &cc_editor, "C2080", &cc, &eff).await;
    let e = &r["data"]["proposeCompetenceRestitution"]["userErrors"][0];
    assert_eq!(e["field"], "input.competence", "{r:#}");
    assert!(
        e["message"].as_str().unwrap().contains("CGCT L5211-17-1"),
        "{e}"
    );
    // Nothing to hand back before the CC holds it.
    let r = restitute(&app, &cc_editor, "C3035", &cc, &eff).await;
    assert_eq!(
        r["data"]["proposeCompetenceRestitution"]["userErrors"][0]["field"], "input.competence",
        "{r:#}"
    );
    // Only an EPCI à fiscalité propre restitutes, through its own editors.
    let r = restitute(
        &app,
        &token("a@brest.fr", Some(BREST), &["editor"]),
        "C3035",
        &id_of(&app, BREST).await,
        &eff,
    )
    .await;
    assert_eq!(
        r["data"]["proposeCompetenceRestitution"]["userErrors"][0]["field"], "input.epciId",
        "{r:#}"
    );

    transferred(&app, &members).await;
    let outsider = restitute(
        &app,
        &token("dgs@35069", Some(&members["35069"]), &["admin"]),
        "C3035",
        &cc,
        &eff,
    )
    .await;
    assert_eq!(error_code(&outsider), "FORBIDDEN", "{outsider:#}");

    let r = restitute(&app, &cc_editor, "C3035", &cc, &eff).await;
    let tid = r["data"]["proposeCompetenceRestitution"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for insee in ["35069", "35207"] {
        decide(
            &app,
            &mayor(insee, &members[insee]),
            APPROVE,
            &tid,
            &members[insee],
        )
        .await;
    }
    app.clock.advance(chrono::Duration::days(93));
    let late = decide(
        &app,
        &mayor("35327", &members["35327"]),
        REJECT,
        &tid,
        &members["35327"],
    )
    .await;
    let message = late["data"]["rejectCompetenceTransfer"]["userErrors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("silence counts as refusal"), "{late:#}");

    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let (_, r) = app
        .graphql_as(Some(&state), SETTLE, json!({ "i": { "transferId": tid } }))
        .await;
    let t = &r["data"]["settleCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "REJECTED", "{r:#}");
    assert!(
        t["reason"].as_str().unwrap().contains("CGCT L5211-17-1"),
        "{t:#}"
    );
    for c in t["consents"].as_array().unwrap() {
        match c["party"]["inseeCode"].as_str().unwrap() {
            "35069" | "35207" => assert_eq!(c["decision"], "APPROVED"),
            _ => {
                assert_eq!(
                    (&c["decision"], &c["decidedBy"]),
                    (&json!("REJECTED"), &json!("silence")),
                    "{c:#}"
                );
                assert!(c["reason"].as_str().unwrap().contains("deemed refusal"));
            }
        }
    }
    // The CC keeps it.
    assert_eq!(
        who(&app, "35099", "C3035", &date(2, 6, 1), "HOLDER").await[0].0,
        CC
    );
}
