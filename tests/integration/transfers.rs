//! Transfers as the law makes them: between a member and its syndicat with both parties'
//! consent; to an EPCI à fiscalité propre from all its members by the qualified majority of
//! their councils, silence for three months being approval (CGCT L5211-17, L5211-5).

use entity::assignment;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};
use crate::competence_changes::{declare, id_of, rows, who};

const RENNES: &str = "213502388";
const METRO: &str = "243500139";
pub(crate) const BREST: &str = "212900195";

const PROPOSE: &str =
    "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
    transfer { id status wholeTerritory rule consents { party { siren } decision } }
    userErrors { field code message } } }";
pub(crate) const APPROVE: &str = "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
    transfer { status consents { party { siren } decision decidedBy } } userErrors { code message } } }";
pub(crate) const REJECT: &str =
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

pub(crate) async fn decide(
    app: &TestApp,
    tok: &str,
    mutation: &str,
    tid: &str,
    party: &str,
) -> Value {
    let (_, r) = app
        .graphql_as(
            Some(tok),
            mutation,
            json!({ "i": { "transferId": tid, "party": party } }),
        )
        .await;
    r
}

const SYNDICAT: &str = "253599997";

/// Rennes and Cesson-Sévigné in a syndicat of the test fixture, with its global ID.
async fn rennes_and_syndicat(app: &TestApp) -> (String, String) {
    let rennes = id_of(app, RENNES).await;
    let cesson = app
        .query("{ organisation(inseeCode: \"35051\") { id } }", json!({}))
        .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let syndicat = syndicat(app, &[rennes.clone(), cesson]).await;
    (rennes, syndicat)
}

#[tokio::test]
async fn a_transfer_takes_effect_when_every_party_approved_and_not_before_its_date() {
    let app = TestApp::new().await;
    let (rennes, syndicat) = rennes_and_syndicat(&app).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let rennes_admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let syndicat_admin = token("a@syndicat.fr", Some(SYNDICAT), &["admin"]);
    let effective = date(1, 1, 1);

    let response = propose(
        &app,
        &rennes_editor,
        "C3035",
        &rennes,
        &syndicat,
        &effective,
    )
    .await;
    let t = &response["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "PROPOSED", "{response:#}");
    assert_eq!(t["rule"], "UNANIMITY");
    assert_eq!(t["wholeTerritory"], true);
    assert_eq!(t["consents"].as_array().unwrap().len(), 2);
    let tid = t["id"].as_str().unwrap().to_owned();

    // Nothing changes while consent is incomplete.
    let first = decide(&app, &rennes_admin, APPROVE, &tid, &rennes).await;
    assert_eq!(
        first["data"]["approveCompetenceTransfer"]["transfer"]["status"],
        "PROPOSED"
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        RENNES
    );
    // A party decides once.
    let twice = decide(&app, &rennes_admin, APPROVE, &tid, &rennes).await;
    assert_eq!(
        twice["data"]["approveCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );

    let last = decide(&app, &syndicat_admin, APPROVE, &tid, &syndicat).await;
    let t = &last["data"]["approveCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "COMPLETED", "{last:#}");
    assert_eq!(t["consents"][1]["decidedBy"], "a@syndicat.fr");

    assert_eq!(
        who(&app, "35238", "C3035", &date(0, 12, 31), "HOLDER").await,
        vec![(RENNES.into(), "LEGAL_DEFAULT".into(), "LAW".into())]
    );
    for role in ["HOLDER", "IMPLEMENTER", "FINANCER"] {
        assert_eq!(
            who(&app, "35238", "C3035", &date(1, 1, 1), role).await,
            vec![(SYNDICAT.into(), "DECLARED".into(), "TRANSFER".into())],
            "{role}"
        );
    }
    // The other member keeps its own.
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
               syndicat: organisation(siren: \"253599997\") { competences(at: $after) { competence { code } role basis } } }",
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
        data["syndicat"]["competences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| { r["competence"]["code"] == "C3035" && r["basis"] == "TRANSFER" })
    );

    // Handing it back from the syndicat to Rennes a year later covers Rennes only.
    let syndicat_editor = token("e@syndicat.fr", Some(SYNDICAT), &["editor"]);
    let later = date(2, 1, 1);
    let back = propose(&app, &syndicat_editor, "C3035", &syndicat, &rennes, &later).await;
    let t = &back["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["wholeTerritory"], false, "{back:#}");
    let tid = t["id"].as_str().unwrap().to_owned();
    for (tok, party) in [(&syndicat_admin, &syndicat), (&rennes_admin, &rennes)] {
        let r = decide(&app, tok, APPROVE, &tid, party).await;
        assert_eq!(
            r["data"]["approveCompetenceTransfer"]["userErrors"],
            json!([]),
            "{r:#}"
        );
    }
    assert_eq!(
        who(&app, "35238", "C3035", &later, "HOLDER").await,
        vec![(RENNES.into(), "DECLARED".into(), "TRANSFER".into())]
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        SYNDICAT
    );
}

/// A transfer whose last approval comes after the date it proposed takes effect on the day of
/// that approval: the days in between keep their holder (an act is not retroactive).
#[tokio::test]
async fn a_transfer_decided_after_its_date_takes_effect_on_the_day_it_is_decided() {
    let app = TestApp::new().await;
    let (rennes, syndicat) = rennes_and_syndicat(&app).await;
    let proposed = crate::common::today() + chrono::Duration::days(10);
    let r = propose(
        &app,
        &token("e@rennes.fr", Some(RENNES), &["editor"]),
        "C3035",
        &rennes,
        &syndicat,
        &proposed.to_string(),
    )
    .await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned();
    let rennes_admin = token("a@rennes.fr", Some(RENNES), &["admin"]);
    let r = decide(&app, &rennes_admin, APPROVE, &tid, &rennes).await;
    assert_eq!(
        r["data"]["approveCompetenceTransfer"]["userErrors"],
        json!([]),
        "{r:#}"
    );

    // The syndicat's council decides a month later, twenty days after the date proposed.
    app.clock.advance(chrono::Duration::days(30));
    let decided = crate::common::today() + chrono::Duration::days(30);
    let r = app
        .graphql_as(
            Some(&token("a@syndicat.fr", Some(SYNDICAT), &["admin"])),
            "mutation($i: DecideCompetenceTransferInput!) { approveCompetenceTransfer(input: $i) {
               transfer { status effectiveDate } userErrors { code } } }",
            json!({ "i": { "transferId": tid, "party": syndicat } }),
        )
        .await
        .1;
    let t = &r["data"]["approveCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "COMPLETED", "{r:#}");
    assert_eq!(t["effectiveDate"], decided.to_string().as_str(), "{r:#}");

    // Rennes held it on the date proposed and up to the eve of the decision, as answered then.
    for day in [proposed, decided - chrono::Duration::days(1)] {
        assert_eq!(
            who(&app, "35238", "C3035", &day.to_string(), "HOLDER").await,
            vec![(RENNES.into(), "LEGAL_DEFAULT".into(), "LAW".into())],
            "{day}"
        );
    }
    assert_eq!(
        who(&app, "35238", "C3035", &decided.to_string(), "HOLDER").await,
        vec![(SYNDICAT.into(), "DECLARED".into(), "TRANSFER".into())]
    );
    // The audit trail keeps the date proposed and the date it took effect.
    let (_, log) = app
        .graphql_as(
            Some(&token("s@prefecture.gouv.fr", None, &["state"])),
            r#"{ auditLog(filter: { entityType: "Transfer", action: "approveCompetenceTransfer" }) {
                   nodes { before after } } }"#,
            json!({}),
        )
        .await;
    let completed = log["data"]["auditLog"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["after"]["status"] == "COMPLETED"))
        .map(|n| {
            (
                n["before"]["effectiveDate"].clone(),
                n["after"]["effectiveDate"].clone(),
            )
        });
    assert_eq!(
        completed,
        Some((json!(proposed.to_string()), json!(decided.to_string()))),
        "{log}"
    );
}

#[tokio::test]
async fn rejected_withdrawn_or_unconsented_transfers_change_nothing() {
    let app = TestApp::new().await;
    let (rennes, syndicat) = rennes_and_syndicat(&app).await;
    let metro = id_of(&app, METRO).await;
    let brest = id_of(&app, BREST).await;
    let rennes_editor = token("e@rennes.fr", Some(RENNES), &["editor"]);
    let syndicat_admin = token("a@syndicat.fr", Some(SYNDICAT), &["admin"]);
    let syndicat_editor = token("e@syndicat.fr", Some(SYNDICAT), &["editor"]);
    let metro_editor = token("e@metropole.fr", Some(METRO), &["editor"]);

    // Bad proposals.
    let next_year = date(1, 1, 1);
    let next_year = next_year.as_str();
    for (tok, c, from, to, eff, field) in [
        (
            &rennes_editor,
            "C3035",
            &rennes,
            &brest,
            next_year,
            "input.toId",
        ),
        (
            &rennes_editor,
            "C3035",
            &rennes,
            &rennes,
            next_year,
            "input.toId",
        ),
        // Rennes does not hold waste collection: its métropole does.
        (
            &rennes_editor,
            "C2080",
            &rennes,
            &syndicat,
            next_year,
            "input.fromId",
        ),
        // A commune does not transfer to its EPCI à fiscalité propre alone…
        (
            &rennes_editor,
            "C3035",
            &rennes,
            &metro,
            next_year,
            "input.fromId",
        ),
        // …nor does such an EPCI hand a competence back to one member.
        (
            &metro_editor,
            "C2080",
            &metro,
            &rennes,
            next_year,
            "input.toId",
        ),
        (
            &rennes_editor,
            "C3035",
            &rennes,
            &syndicat,
            "2020-01-01",
            "input.effectiveDate",
        ),
        (
            &rennes_editor,
            "C9999",
            &rennes,
            &syndicat,
            next_year,
            "input.competence",
        ),
    ] {
        let before = rows(&app).await;
        let r = propose(&app, tok, c, from, to, eff).await;
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
            json!({ "i": { "competence": "C3035", "fromId": rennes, "toId": syndicat, "effectiveDate": date(1, 1, 1) } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");

    // Rejected.
    let r = propose(&app, &rennes_editor, "C3035", &rennes, &syndicat, next_year).await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let same = propose(&app, &rennes_editor, "C3035", &rennes, &syndicat, next_year).await;
    assert_eq!(
        same["data"]["proposeCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    // Deciding takes an admin of that party.
    for tok in [
        syndicat_editor.clone(),
        token("a@brest.fr", Some(BREST), &["admin"]),
        token("dgcl@i.fr", None, &["state"]),
    ] {
        let r = decide(&app, &tok, APPROVE, &tid, &syndicat).await;
        assert_eq!(error_code(&r), "FORBIDDEN");
    }
    let (_, r) = app
        .graphql_as(
            None,
            APPROVE,
            json!({ "i": { "transferId": tid, "party": syndicat } }),
        )
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    let (_, r) = app
        .graphql_as(
            Some(&syndicat_admin),
            REJECT,
            json!({ "i": { "transferId": tid, "party": syndicat, "reason": "pas cette année" } }),
        )
        .await;
    assert_eq!(
        r["data"]["rejectCompetenceTransfer"]["transfer"]["status"], "REJECTED",
        "{r:#}"
    );
    let r = decide(
        &app,
        &token("a@rennes.fr", Some(RENNES), &["admin"]),
        APPROVE,
        &tid,
        &rennes,
    )
    .await;
    assert_eq!(
        r["data"]["approveCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );

    // Withdrawn.
    let r = propose(&app, &rennes_editor, "C3035", &rennes, &syndicat, next_year).await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let withdraw = "mutation($i: WithdrawCompetenceTransferInput!) { withdrawCompetenceTransfer(input: $i) { transfer { status } } }";
    let (_, w) = app
        .graphql_as(
            Some(&syndicat_editor),
            withdraw,
            json!({ "i": { "transferId": tid } }),
        )
        .await;
    assert_eq!(error_code(&w), "FORBIDDEN", "only the proposer withdraws");
    let (_, w) = app
        .graphql_as(
            Some(&rennes_editor),
            withdraw,
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

/// A real EPCI à fiscalité propre of five communes: CC Pays de Châteaugiron Communauté.
/// Châteaugiron (35069) has 10,845 of its 28,367 inhabitants: more than a quarter.
pub(crate) const CC: &str = "243500659";

pub(crate) const PROPOSE_ALL: &str =
    "mutation($i: ProposeCompetenceTransferInput!) { proposeCompetenceTransfer(input: $i) {
    transfer { id status rule from { id } to { siren } decisionDeadline
      consents { party { inseeCode } decision decidedBy reason }
      majority { councils approved rejected population populationApproved
                 requiredCouncil { inseeCode } reached possible legalReference } }
    userErrors { field code message } } }";
pub(crate) const SETTLE: &str =
    "mutation($i: SettleCompetenceTransferInput!) { settleCompetenceTransfer(input: $i) {
    transfer { status reason effectiveDate consents { party { inseeCode } decision decidedBy reason }
               majority { approved reached } }
    userErrors { field code message } } }";

/// The member communes of the CC: INSEE code → global ID.
pub(crate) async fn councils(app: &TestApp) -> std::collections::BTreeMap<String, String> {
    let data = app
        .query(
            "query($s: String!) { organisation(siren: $s) {
               members(kinds: [COMMUNE], first: 50) { nodes { member { id inseeCode } } } } }",
            json!({ "s": CC }),
        )
        .await;
    data["organisation"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member"]["inseeCode"].as_str().unwrap().to_owned(),
                m["member"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn mayor(insee: &str, commune: &str) -> String {
    token(&format!("maire@{insee}"), Some(commune), &["admin"])
}

pub(crate) async fn propose_to_members(app: &TestApp, tok: &str, c: &str, to: &str) -> Value {
    app.graphql_as(
        Some(tok),
        PROPOSE_ALL,
        json!({ "i": { "competence": c, "toId": to, "effectiveDate": date(1, 1, 1),
                       "legalReference": "délibération du conseil communautaire" } }),
    )
    .await
    .1
}

#[tokio::test]
async fn a_transfer_to_an_epci_a_fiscalite_propre_is_decided_by_the_qualified_majority() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    assert_eq!(members.len(), 5);
    let cc_editor = token("dgs@cc.fr", Some(CC), &["editor"]);

    let r = propose_to_members(&app, &cc_editor, "C3035", &cc).await;
    let t = &r["data"]["proposeCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "PROPOSED", "{r:#}");
    assert_eq!(t["rule"], "QUALIFIED_MAJORITY");
    assert_eq!(t["from"], Value::Null, "the givers are every member");
    assert_eq!(t["to"]["siren"], CC);
    let deadline = crate::common::today()
        .checked_add_months(chrono::Months::new(3))
        .unwrap();
    assert_eq!(t["decisionDeadline"], deadline.to_string());
    assert_eq!(t["consents"].as_array().unwrap().len(), 5);
    let m = &t["majority"];
    assert_eq!(
        (
            &m["councils"],
            &m["population"],
            &m["requiredCouncil"]["inseeCode"]
        ),
        (&json!(5), &json!(28367), &json!("35069")),
        "{m:#}"
    );
    assert_eq!(
        (&m["reached"], &m["possible"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(m["legalReference"], "CGCT L5211-17, L5211-5");
    let tid = t["id"].as_str().unwrap().to_owned();

    // Châteaugiron and Noyal-sur-Vilaine: 2 of 5 councils, not yet a majority.
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
    assert_eq!(
        who(&app, "35099", "C3035", &date(1, 6, 1), "HOLDER").await[0].1,
        "LEGAL_DEFAULT"
    );
    // Servon-sur-Vilaine: 3 of 5 councils holding 21,266 inhabitants, three quarters:
    // half of the councils with two thirds of the population, the most populous among them.
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
    // It applies to every member, those whose council did not decide included.
    for insee in members.keys() {
        assert_eq!(
            who(&app, insee, "C3035", &date(1, 1, 1), "HOLDER").await,
            vec![(CC.into(), "DECLARED".into(), "TRANSFER".into())],
            "{insee}"
        );
        assert_eq!(
            who(&app, insee, "C3035", &date(0, 12, 31), "HOLDER").await[0].1,
            "LEGAL_DEFAULT",
            "{insee}"
        );
    }
    // Once decided, a late council's decision changes nothing.
    let late = decide(
        &app,
        &mayor("35099", &members["35099"]),
        REJECT,
        &tid,
        &members["35099"],
    )
    .await;
    assert_eq!(
        late["data"]["rejectCompetenceTransfer"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    // A member finds the decision it was asked for.
    let listed = app
        .query(
            "query($o: ID!) { competenceTransfers(organisation: $o) { status rule } }",
            json!({ "o": members["35099"] }),
        )
        .await;
    assert_eq!(
        listed["competenceTransfers"],
        json!([{ "status": "COMPLETED", "rule": "QUALIFIED_MAJORITY" }])
    );
    let held = app
        .query(
            "query($at: Date) { organisation(siren: \"243500659\") { competences(at: $at) { competence { code } role basis } } }",
            json!({ "at": date(1, 1, 1) }),
        )
        .await;
    assert!(
        held["organisation"]["competences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["competence"]["code"] == "C3035"
                && r["role"] == "HOLDER"
                && r["basis"] == "TRANSFER"),
        "{held:#}"
    );
}

#[tokio::test]
async fn the_most_populous_council_above_a_quarter_stops_it() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    let r = propose_to_members(
        &app,
        &token("dgs@cc.fr", Some(CC), &["editor"]),
        "C3035",
        &cc,
    )
    .await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The four others approving would hold 17,522 of 28,367 inhabitants, but without
    // Châteaugiron (above a quarter) no majority can be made: its refusal ends it.
    let r = decide(
        &app,
        &mayor("35069", &members["35069"]),
        REJECT,
        &tid,
        &members["35069"],
    )
    .await;
    let t = &r["data"]["rejectCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "REJECTED", "{r:#}");
    assert!(
        t["reason"].as_str().unwrap().contains("CGCT L5211-17"),
        "{r:#}"
    );
    assert_eq!(assignment::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        who(&app, "35207", "C3035", &date(1, 6, 1), "HOLDER").await[0].1,
        "LEGAL_DEFAULT"
    );
}

#[tokio::test]
async fn silence_for_three_months_is_approval() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    let r = propose_to_members(
        &app,
        &token("dgs@cc.fr", Some(CC), &["editor"]),
        "C3035",
        &cc,
    )
    .await;
    let tid = r["data"]["proposeCompetenceTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = decide(
        &app,
        &mayor("35207", &members["35207"]),
        APPROVE,
        &tid,
        &members["35207"],
    )
    .await;
    assert_eq!(
        r["data"]["approveCompetenceTransfer"]["userErrors"],
        json!([]),
        "{r:#}"
    );
    let r = decide(
        &app,
        &mayor("35099", &members["35099"]),
        REJECT,
        &tid,
        &members["35099"],
    )
    .await;
    assert_eq!(
        r["data"]["rejectCompetenceTransfer"]["transfer"]["status"], "PROPOSED",
        "one refusal does not end it: {r:#}"
    );
    let state = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let settle = |tok: String| {
        let app = &app;
        let tid = tid.clone();
        async move {
            app.graphql_as(Some(&tok), SETTLE, json!({ "i": { "transferId": tid } }))
                .await
                .1
        }
    };
    // Before the deadline there is nothing to settle.
    let early = settle(state.clone()).await;
    assert_eq!(
        early["data"]["settleCompetenceTransfer"]["userErrors"][0]["field"], "input.transferId",
        "{early:#}"
    );
    // Someone outside may not settle it.
    let outsider = settle(token("a@brest.fr", Some(BREST), &["admin"])).await;
    assert_eq!(error_code(&outsider), "FORBIDDEN");
    // A member settles through its admin, not its editor; the EPCI through its editor too.
    // Permission is checked first: those allowed are told it is too early.
    let member_editor = settle(token("dgs@35220", Some(&members["35220"]), &["editor"])).await;
    assert_eq!(error_code(&member_editor), "FORBIDDEN", "{member_editor:#}");
    for allowed in [
        mayor("35220", &members["35220"]),
        token("dgs@cc.fr", Some(CC), &["editor"]),
    ] {
        let r = settle(allowed).await;
        assert_eq!(
            r["data"]["settleCompetenceTransfer"]["userErrors"][0]["field"], "input.transferId",
            "{r:#}"
        );
    }

    app.clock.advance(chrono::Duration::days(93));
    // Past the deadline, a council can no longer decide…
    let r = decide(
        &app,
        &mayor("35220", &members["35220"]),
        REJECT,
        &tid,
        &members["35220"],
    )
    .await;
    assert_eq!(
        r["data"]["rejectCompetenceTransfer"]["userErrors"][0]["code"], "CONFLICT",
        "{r:#}"
    );
    // …and settling records the silent ones as approving: 4 of 5 councils.
    let r = settle(state).await;
    let t = &r["data"]["settleCompetenceTransfer"]["transfer"];
    assert_eq!(t["status"], "COMPLETED", "{r:#}");
    assert_eq!(t["majority"], json!({ "approved": 4, "reached": true }));
    for c in t["consents"].as_array().unwrap() {
        let insee = c["party"]["inseeCode"].as_str().unwrap();
        match insee {
            "35207" => assert_eq!(c["decision"], "APPROVED"),
            "35099" => assert_eq!(c["decision"], "REJECTED"),
            _ => {
                assert_eq!(
                    (&c["decision"], &c["decidedBy"]),
                    (&json!("APPROVED"), &json!("silence")),
                    "{c:#}"
                );
                assert!(c["reason"].as_str().unwrap().contains("L5211-17"));
            }
        }
    }
    // It takes effect on the date proposed (next 1 January), or on the day it was settled
    // if that came later (not retroactively): which, depends on today's date.
    let settled = crate::common::today() + chrono::Duration::days(93);
    let proposed = chrono::NaiveDate::parse_from_str(&date(1, 1, 1), "%Y-%m-%d").unwrap();
    let effective = proposed.max(settled).to_string();
    assert_eq!(t["effectiveDate"], effective.as_str(), "{r:#}");
    // Domloup refused, but the majority's decision applies to it too.
    assert_eq!(
        who(&app, "35099", "C3035", &effective, "HOLDER").await,
        vec![(CC.into(), "DECLARED".into(), "TRANSFER".into())]
    );
}

#[tokio::test]
async fn proposals_to_all_members_follow_the_law() {
    let app = TestApp::new().await;
    let cc = id_of(&app, CC).await;
    let members = councils(&app).await;
    let (_, syndicat) = rennes_and_syndicat(&app).await;
    let cc_editor = token("dgs@cc.fr", Some(CC), &["editor"]);
    for (tok, c, to, field) in [
        // The CC holds waste collection by law already (CGCT L5214-16).
        (&cc_editor, "C2080", &cc, "input.competence"),
        // No member commune holds collèges: the département does (Code de l'éducation L213-2).
        (&cc_editor, "C5025", &cc, "input.competence"),
        // Only an EPCI à fiscalité propre asks all its members.
        (
            &token("e@syndicat.fr", Some(SYNDICAT), &["editor"]),
            "C3035",
            &syndicat,
            "input.fromId",
        ),
    ] {
        let before = rows(&app).await;
        let r = propose_to_members(&app, tok, c, to).await;
        let errors = &r["data"]["proposeCompetenceTransfer"]["userErrors"];
        assert_eq!(errors[0]["field"], field, "{c}: {r:#}");
        assert_eq!(rows(&app).await, before);
    }
    // The EPCI proposes, not a member.
    let r = propose_to_members(&app, &mayor("35069", &members["35069"]), "C3035", &cc).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // A member cannot transfer alone.
    let r = propose(
        &app,
        &token("e@35069", Some(&members["35069"]), &["editor"]),
        "C3035",
        &members["35069"],
        &cc,
        &date(1, 1, 1),
    )
    .await;
    let error = &r["data"]["proposeCompetenceTransfer"]["userErrors"][0];
    assert_eq!(error["field"], "input.fromId", "{r:#}");
    assert!(error["message"].as_str().unwrap().contains("L5211-17"));
}
