//! Referrals: a person's request routed to whoever is competent (the same resolution as
//! `responsibilities`), transmitted onward without loops, tracked to its answer and rated, its
//! personal data seen only along its route and erasable; concurrent steps land once.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, token};

pub(crate) const VITRE: &str = "213503600";
pub(crate) const CA_VITRE: &str = "200039022";
pub(crate) const RENNES: &str = "213502388";
pub(crate) const RENNES_METROPOLE: &str = "243500139";

const FIELDS: &str = "referral { id version status subject message contact answer
    handler { name siren } filer { name } hops { from { name } to { name } reason }
    acknowledgeDue answerDue filedAt overdue satisfaction resolved erasedAt }
    userErrors { field code message }";

pub(crate) fn staff(siren: &str) -> String {
    token(&format!("agent@{siren}.fr"), Some(siren), &["editor"])
}

pub(crate) async fn call(app: &TestApp, as_token: &str, mutation: &str, input: Value) -> Value {
    let document = format!(
        "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ {FIELDS} }} }}",
        input_type(mutation)
    );
    let (_, body) = app
        .graphql_as(Some(as_token), &document, json!({ "input": input }))
        .await;
    body
}

fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "fileReferral" => "FileReferral",
        "answerReferral" => "AnswerReferral",
        "transmitReferral" => "TransmitReferral",
        "rateReferral" => "RateReferral",
        _ => "ReferralStep",
    }
}

/// The payload's referral (panics with the response when there is none).
pub(crate) fn referral<'a>(body: &'a Value, mutation: &str) -> &'a Value {
    let r = &body["data"][mutation]["referral"];
    assert!(r.is_object(), "{mutation}: {body}");
    r
}

pub(crate) fn user_error<'a>(body: &'a Value, mutation: &str) -> &'a Value {
    &body["data"][mutation]["userErrors"][0]
}

pub(crate) async fn file(app: &TestApp, insee: &str, competence: &str) -> Value {
    let body = call(
        app,
        &staff(VITRE),
        "fileReferral",
        json!({ "inseeCode": insee, "competence": competence, "subject": "Bac non collecté",
                "message": "Mon bac n'a pas été vidé depuis trois semaines.",
                "contact": "06 00 00 00 00", "filerId": VITRE }),
    )
    .await;
    referral(&body, "fileReferral").clone()
}

#[tokio::test]
async fn a_request_is_routed_to_whoever_is_competent_and_tracked_to_its_rating() {
    let app = TestApp::new().await;
    let filed = file(&app, "35360", "C2080").await;
    // Household waste in Vitré: CA Vitré Communauté, by law, and the route says so.
    assert_eq!(filed["status"], "FILED");
    assert_eq!(filed["handler"]["siren"], CA_VITRE, "{filed}");
    assert_eq!(filed["hops"][0]["from"], Value::Null);
    let reason = filed["hops"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("CGCT L5216-5"), "{reason}");
    // Two months to answer from the filing (CRPA).
    let filed_at =
        chrono::DateTime::parse_from_rfc3339(filed["filedAt"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(filed["answerDue"].as_str().unwrap()).unwrap();
    assert_eq!(
        due,
        filed_at.checked_add_months(chrono::Months::new(2)).unwrap()
    );

    // Words people use are matched to competences; ambiguous words are a question back.
    let body = call(
        &app,
        &staff(VITRE),
        "fileReferral",
        json!({ "inseeCode": "35360", "competence": "ordures", "subject": "Déchets", "filerId": VITRE }),
    )
    .await;
    let error = user_error(&body, "fileReferral");
    assert_eq!(error["field"], "input.competence", "{body}");
    assert!(
        error["message"].as_str().unwrap().contains("C2080"),
        "{body}"
    );

    // Someone off the route sees nothing and can do nothing.
    let (_, seen) = app
        .graphql_as(
            Some(&staff(RENNES)),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": filed["id"] }),
        )
        .await;
    assert_eq!(seen["data"]["node"], Value::Null, "{seen}");
    let body = call(
        &app,
        &staff(RENNES),
        "acknowledgeReferral",
        json!({ "id": filed["id"], "version": filed["version"] }),
    )
    .await;
    assert_eq!(
        user_error(&body, "acknowledgeReferral")["code"],
        "NOT_FOUND",
        "{body}"
    );
    // The filer cannot answer in the handler's place.
    let body = call(
        &app,
        &staff(VITRE),
        "acknowledgeReferral",
        json!({ "id": filed["id"], "version": filed["version"] }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // The handler acknowledges, then answers; the filer rates once.
    let handler = staff(CA_VITRE);
    let body = call(
        &app,
        &handler,
        "acknowledgeReferral",
        json!({ "id": filed["id"], "version": 1 }),
    )
    .await;
    assert_eq!(
        referral(&body, "acknowledgeReferral")["status"],
        "ACKNOWLEDGED"
    );
    let body = call(
        &app,
        &staff(VITRE),
        "rateReferral",
        json!({ "id": filed["id"], "version": 2, "satisfaction": 5, "resolved": true }),
    )
    .await;
    assert_eq!(
        user_error(&body, "rateReferral")["code"],
        "ILLEGAL_TRANSITION",
        "{body}"
    );
    let body = call(
        &app,
        &handler,
        "answerReferral",
        json!({ "id": filed["id"], "version": 2, "answer": "Le bac sera vidé jeudi." }),
    )
    .await;
    let answered = referral(&body, "answerReferral");
    assert_eq!(answered["status"], "ANSWERED");
    assert_eq!(
        answered["message"],
        "Mon bac n'a pas été vidé depuis trois semaines."
    );
    let body = call(
        &app,
        &staff(VITRE),
        "rateReferral",
        json!({ "id": filed["id"], "version": 3, "satisfaction": 6, "resolved": true }),
    )
    .await;
    assert_eq!(
        user_error(&body, "rateReferral")["field"],
        "input.satisfaction",
        "{body}"
    );
    let body = call(
        &app,
        &staff(VITRE),
        "rateReferral",
        json!({ "id": filed["id"], "version": 3, "satisfaction": 4, "resolved": true }),
    )
    .await;
    let rated = referral(&body, "rateReferral");
    assert_eq!(
        (rated["satisfaction"].as_i64(), rated["resolved"].as_bool()),
        (Some(4), Some(true))
    );

    // In the handler's feed, not in a stranger's.
    let feed = |t: String| {
        let app = &app;
        async move {
            app.graphql_as(
                Some(&t),
                r#"{ changes(first: 100, entityTypes: ["Referral"]) { events { operation } } }"#,
                json!({}),
            )
            .await
            .1
            .pointer("/data/changes/events")
            .and_then(Value::as_array)
            .map(Vec::len)
            .expect("a page of events")
        }
    };
    assert_eq!(feed(staff(CA_VITRE)).await, 4);
    assert_eq!(feed(staff(RENNES)).await, 0);
    assert_eq!(
        feed(token("s@prefecture.gouv.fr", None, &["state"])).await,
        0
    );
}

#[tokio::test]
async fn a_request_at_the_wrong_door_is_transmitted_and_never_goes_back_round() {
    let app = TestApp::new().await;
    let filed = file(&app, "35238", "C2080").await;
    assert_eq!(filed["handler"]["siren"], RENNES_METROPOLE, "{filed}");
    let body = call(
        &app,
        &staff(RENNES_METROPOLE),
        "transmitReferral",
        json!({ "id": filed["id"], "version": 1, "toId": RENNES,
                "reason": "Dépôt sauvage sur la voirie communale : pouvoir de police du maire" }),
    )
    .await;
    let moved = referral(&body, "transmitReferral");
    assert_eq!(moved["handler"]["siren"], RENNES);
    assert_eq!(moved["status"], "FILED");
    assert_eq!(moved["hops"].as_array().unwrap().len(), 2);
    assert_eq!(moved["hops"][1]["from"]["name"], "Rennes Métropole");
    // The answer's term runs from the first filing.
    assert_eq!(moved["answerDue"], filed["answerDue"]);

    // Back to where it has been: refused, nothing changes.
    let body = call(
        &app,
        &staff(RENNES),
        "transmitReferral",
        json!({ "id": filed["id"], "version": 2, "toId": RENNES_METROPOLE, "reason": "Pas pour nous" }),
    )
    .await;
    assert_eq!(
        user_error(&body, "transmitReferral")["field"],
        "input.toId",
        "{body}"
    );
    // The organisation it passed through still sees it, but no longer handles it.
    let body = call(
        &app,
        &staff(RENNES_METROPOLE),
        "acknowledgeReferral",
        json!({ "id": filed["id"], "version": 2 }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Past its acknowledgement date, it is overdue in the handler's inbox.
    app.clock.advance(chrono::Duration::days(8));
    let (_, inbox) = app
        .graphql_as(
            Some(&staff(RENNES)),
            r#"{ organisation(siren: "213502388") {
                   referrals(role: HANDLER, overdue: true) { totalCount edges { node { id overdue } } } } }"#,
            json!({}),
        )
        .await;
    let list = &inbox["data"]["organisation"]["referrals"];
    assert_eq!(list["totalCount"], 1, "{inbox}");
    assert_eq!(list["edges"][0]["node"]["overdue"], true);
}

#[tokio::test]
async fn erasure_removes_the_personal_data_and_keeps_the_figures() {
    let app = TestApp::new().await;
    let filed = file(&app, "35360", "C2080").await;
    let body = call(
        &app,
        &staff(VITRE),
        "eraseReferralPersonalData",
        json!({ "id": filed["id"], "version": 1 }),
    )
    .await;
    let erased = referral(&body, "eraseReferralPersonalData");
    assert_eq!(erased["message"], Value::Null);
    assert_eq!(erased["contact"], Value::Null);
    assert!(erased["erasedAt"].is_string());
    assert_eq!(erased["subject"], "Bac non collecté");
    // The audit trail never held the content.
    let (_, audit) = app
        .graphql_as(
            Some(&token("s@prefecture.gouv.fr", None, &["state"])),
            r#"{ auditLog(filter: { entityType: "Referral" }) { totalCount nodes { action before after } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(audit["data"]["auditLog"]["totalCount"], 2, "{audit}");
    let text = audit.to_string();
    assert!(
        !text.contains("trois semaines") && !text.contains("06 00"),
        "{text}"
    );
    // An answer would be personal data that no erasure or purge ever removes: refused.
    let body = call(
        &app,
        &staff(CA_VITRE),
        "answerReferral",
        json!({ "id": filed["id"], "version": 2, "answer": "M. Dupont, votre bac sera vidé jeudi." }),
    )
    .await;
    assert_eq!(
        user_error(&body, "answerReferral")["code"],
        "ILLEGAL_TRANSITION",
        "{body}"
    );
    let body = call(
        &app,
        &staff(CA_VITRE),
        "closeReferral",
        json!({ "id": filed["id"], "version": 2 }),
    )
    .await;
    assert_eq!(referral(&body, "closeReferral")["answer"], Value::Null);
    assert_eq!(referral(&body, "closeReferral")["status"], "CLOSED");
}

#[tokio::test]
async fn concurrent_steps_on_one_version_land_once() {
    let app = TestApp::new().await;
    let filed = file(&app, "35360", "C2080").await;
    let handler = staff(CA_VITRE);
    let answers = join_all((0..6).map(|i| {
        let app = &app;
        let handler = handler.clone();
        let id = filed["id"].clone();
        async move {
            if i % 2 == 0 {
                call(
                    app,
                    &handler,
                    "acknowledgeReferral",
                    json!({ "id": id, "version": 1 }),
                )
                .await
            } else {
                call(
                    app,
                    &handler,
                    "answerReferral",
                    json!({ "id": id, "version": 1, "answer": format!("Réponse {i}") }),
                )
                .await
            }
        }
    }))
    .await;
    let landed = answers
        .iter()
        .filter(|b| {
            ["acknowledgeReferral", "answerReferral"]
                .iter()
                .any(|m| b["data"][m]["referral"].is_object())
        })
        .count();
    assert_eq!(landed, 1, "{answers:?}");
    for b in &answers {
        for m in ["acknowledgeReferral", "answerReferral"] {
            if b["data"][m]["userErrors"][0].is_object() {
                assert_eq!(b["data"][m]["userErrors"][0]["code"], "CONFLICT", "{b}");
            }
        }
    }
    let (_, now) = app
        .graphql_as(
            Some(&handler),
            "query($id: ID!) { node(id: $id) { ... on Referral { version hops { reason } } } }",
            json!({ "id": filed["id"] }),
        )
        .await;
    assert_eq!(now["data"]["node"]["version"], 2, "{now}");
}

#[tokio::test]
async fn a_declared_holder_receives_the_requests_of_the_communes_it_serves() {
    let app = TestApp::new().await;
    // Before: C3035 in Rennes is the commune's own, by law.
    let before = file(&app, "35238", "C3035").await;
    assert_eq!(before["handler"]["siren"], RENNES, "{before}");
    // Rennes Métropole declares it holds C3035 for Rennes, by its statutes.
    let metro = crate::competence_changes::id_of(&app, RENNES_METROPOLE).await;
    let declared = crate::competence_changes::declare(
        &app,
        &staff(RENNES_METROPOLE),
        json!({ "organisationId": metro, "competence": "C3035", "role": "HOLDER",
                "basis": "STATUTES", "scope": ["35238"], "validFrom": crate::common::date(0, 1, 1),
                "legalReference": "Statuts, art. 5" }),
    )
    .await;
    assert!(
        declared["data"]["declareCompetence"]["assignment"].is_object(),
        "{declared}"
    );
    let after = file(&app, "35238", "C3035").await;
    assert_eq!(after["handler"]["siren"], RENNES_METROPOLE, "{after}");
    let reason = after["hops"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("Declared"), "{reason}");
}

#[tokio::test]
async fn the_barometer_shows_satisfaction_only_from_five_ratings() {
    let app = TestApp::new().await;
    let mut filed = Vec::new();
    for _ in 0..6 {
        filed.push(file(&app, "35360", "C2080").await);
    }
    app.clock.advance(chrono::Duration::hours(48));
    let handler = staff(CA_VITRE);
    for r in &filed {
        let body = call(
            &app,
            &handler,
            "answerReferral",
            json!({ "id": r["id"], "version": 1, "answer": "Réglé." }),
        )
        .await;
        referral(&body, "answerReferral");
    }
    let barometer = || async {
        app.query(
            r#"{ serviceBarometer(organisation: "200039022", competence: "C2080") {
                received transmitted answered medianHoursToAnswer answeredInTimeShare
                ratings satisfactionMean satisfactionDistribution resolvedShare withheld } }"#,
            json!({}),
        )
        .await["serviceBarometer"]
            .clone()
    };
    for (i, r) in filed.iter().take(4).enumerate() {
        let body = call(
            &app,
            &staff(VITRE),
            "rateReferral",
            json!({ "id": r["id"], "version": 2, "satisfaction": 5 - (i as i64 % 2), "resolved": i != 3 }),
        )
        .await;
        referral(&body, "rateReferral");
    }
    // Four ratings: the satisfaction is withheld, the rest is shown (anonymous caller).
    let b = barometer().await;
    assert_eq!(
        (b["received"].as_i64(), b["answered"].as_i64()),
        (Some(6), Some(6)),
        "{b}"
    );
    assert_eq!(b["medianHoursToAnswer"], 48.0);
    assert_eq!(b["answeredInTimeShare"], 1.0);
    assert_eq!(b["ratings"], 4);
    assert_eq!(b["satisfactionMean"], Value::Null);
    assert!(
        b["withheld"][0].as_str().unwrap().contains("5 ratings"),
        "{b}"
    );
    // The fifth rating shows them.
    let body = call(
        &app,
        &staff(VITRE),
        "rateReferral",
        json!({ "id": filed[4]["id"], "version": 2, "satisfaction": 3, "resolved": true }),
    )
    .await;
    referral(&body, "rateReferral");
    let b = barometer().await;
    assert_eq!(b["satisfactionDistribution"], json!([0, 0, 1, 2, 2]), "{b}");
    assert_eq!(b["satisfactionMean"], 4.2);
    assert_eq!(b["resolvedShare"], 0.8);
    assert_eq!(b["withheld"], json!([]));
}
