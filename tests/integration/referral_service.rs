//! Referrals as a service runs them: terms set per organisation, the inbox as a paged list
//! with its count and live, overdue referrals in the metrics, the retention purge, routing
//! through a syndicat and a delegation, and the barometer of a territory by competence.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{TestApp, date, error_code, token, ws_connect};
use crate::referrals::{CA_VITRE, RENNES, RENNES_METROPOLE, VITRE, call, file, referral, staff};

fn instant(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a date-time: {v}"))
}

const SET: &str = "mutation($i: SetReferralDeadlinesInput!) { setReferralDeadlines(input: $i) {
    deadlines { acknowledgeDays answerDays isDefault version } userErrors { field code } } }";

#[tokio::test]
async fn terms_an_organisation_sets_apply_to_what_arrives_there() {
    let app = TestApp::new().await;
    let read = || async {
        app.query(
            "{ organisation(siren: \"200039022\") { referralDeadlines { acknowledgeDays answerDays isDefault version } } }",
            json!({}),
        )
        .await["organisation"]["referralDeadlines"]
            .clone()
    };
    assert_eq!(
        read().await,
        json!({ "acknowledgeDays": 7, "answerDays": null, "isDefault": true, "version": 0 })
    );
    let admin = token("dgs@vitrecommunaute.fr", Some(CA_VITRE), &["admin"]);
    let set = |tok: String, input: Value| {
        let app = &app;
        async move {
            app.graphql_as(Some(&tok), SET, json!({ "i": input }))
                .await
                .1
        }
    };
    let terms = |ack: i64, answer: Value, version: i64| json!({ "organisationId": CA_VITRE, "acknowledgeDays": ack, "answerDays": answer, "version": version });
    // An editor does not set the service's terms; bad terms and stale versions change nothing.
    let r = set(staff(CA_VITRE), terms(2, json!(30), 0)).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    for (input, field) in [
        (terms(0, json!(30), 0), "input.acknowledgeDays"),
        (terms(2, json!(90), 0), "input.answerDays"),
    ] {
        let r = set(admin.clone(), input).await;
        assert_eq!(
            r["data"]["setReferralDeadlines"]["userErrors"][0]["field"], field,
            "{r}"
        );
    }
    assert_eq!(read().await["isDefault"], true);
    let r = set(admin.clone(), terms(2, json!(30), 0)).await;
    assert_eq!(
        r["data"]["setReferralDeadlines"]["deadlines"],
        json!({ "acknowledgeDays": 2, "answerDays": 30, "isDefault": false, "version": 1 }),
        "{r}"
    );
    let r = set(admin.clone(), terms(3, Value::Null, 0)).await;
    assert_eq!(
        r["data"]["setReferralDeadlines"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );

    // A referral arriving at the CA runs on its terms.
    let filed = file(&app, "35360", "C2080").await;
    let at = instant(&filed["filedAt"]);
    assert_eq!(
        instant(&filed["acknowledgeDue"]),
        at + chrono::Duration::days(2)
    );
    assert_eq!(
        instant(&filed["answerDue"]),
        at + chrono::Duration::days(30)
    );
    // Transmitted to Vitré (the defaults): seven days to acknowledge from its arrival, and
    // the CRPA's two months from the first filing.
    app.clock.advance(chrono::Duration::days(1));
    let body = call(
        &app,
        &staff(CA_VITRE),
        "transmitReferral",
        json!({ "id": filed["id"], "version": 1, "toId": VITRE,
                "reason": "Dépôt sauvage : pouvoir de police du maire" }),
    )
    .await;
    let moved = referral(&body, "transmitReferral");
    // The clock runs on between two requests: within a second of the transmission.
    let since = instant(&moved["acknowledgeDue"]) - (at + chrono::Duration::days(8));
    assert!(since.num_seconds().abs() <= 1, "{moved}");
    assert_eq!(
        instant(&moved["answerDue"]),
        at.checked_add_months(chrono::Months::new(2)).unwrap()
    );
}

#[tokio::test]
async fn an_inbox_pages_with_its_count_streams_arrivals_and_feeds_the_metrics() {
    let app = TestApp::new().await;
    for _ in 0..3 {
        file(&app, "35360", "C2080").await;
    }
    let handler = staff(CA_VITRE);
    let page = |after: Value, status: Value| {
        let app = &app;
        let handler = handler.clone();
        async move {
            app.graphql_as(
                Some(&handler),
                "query($after: String, $status: [ReferralStatus!]) { organisation(siren: \"200039022\") {
                   referrals(role: HANDLER, first: 2, after: $after, status: $status) {
                     totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }",
                json!({ "after": after, "status": status }),
            )
            .await
            .1["data"]["organisation"]["referrals"]
                .clone()
        }
    };
    let first = page(Value::Null, Value::Null).await;
    assert_eq!(first["totalCount"], 3, "{first}");
    assert_eq!(first["edges"].as_array().unwrap().len(), 2);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = page(first["pageInfo"]["endCursor"].clone(), Value::Null).await;
    assert_eq!(second["edges"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_ne!(
        second["edges"][0]["node"]["id"],
        first["edges"][0]["node"]["id"]
    );
    assert_eq!(
        page(Value::Null, json!(["ACKNOWLEDGED"])).await["totalCount"],
        0
    );
    // Someone else's inbox is empty to a stranger.
    let (_, other) = app
        .graphql_as(
            Some(&staff(RENNES)),
            "{ organisation(siren: \"200039022\") { referrals(role: HANDLER) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        other["data"]["organisation"]["referrals"]["totalCount"], 0,
        "{other}"
    );

    // Live: the handler's staff see a new referral arrive; a stranger cannot listen in.
    let addr = app.spawn_server().await;
    let listen = |tok: String| async move {
        let mut ws = ws_connect(addr).await;
        let send = |v: Value| Message::Text(v.to_string().into());
        ws.send(send(json!({ "type": "connection_init",
                             "payload": { "Authorization": format!("Bearer {tok}") } })))
            .await
            .unwrap();
        assert_eq!(next(&mut ws).await["type"], "connection_ack");
        ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { referralInbox(organisation: \"200039022\") { status subject handler { siren } } }" } })))
            .await
            .unwrap();
        ws
    };
    let mut stranger = listen(staff(RENNES)).await;
    let refused = next(&mut stranger).await;
    // A refused subscription is a `next` carrying the error (then `complete`), as
    // graphql-transport-ws says for execution errors.
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let mut ws = listen(handler.clone()).await;
    // Give the subscription time to take its starting point before the filing.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let body = call(
        &app,
        &staff(VITRE),
        "fileReferral",
        json!({ "inseeCode": "35360", "competence": "C2080", "subject": "Encombrants",
                "filerId": VITRE }),
    )
    .await;
    referral(&body, "fileReferral");
    let arrived = next(&mut ws).await;
    assert_eq!(
        arrived["payload"]["data"]["referralInbox"],
        json!({ "status": "FILED", "subject": "Encombrants", "handler": { "siren": CA_VITRE } }),
        "{arrived}"
    );

    // Past their acknowledgement date, the four are overdue, in the metrics too.
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("maillage_referrals_overdue 0"),
        "{metrics}"
    );
    app.clock.advance(chrono::Duration::days(8));
    let (_, metrics) = app.get("/metrics").await;
    assert!(
        metrics.contains("maillage_referrals_overdue 4"),
        "{metrics}"
    );
}

async fn next(ws: &mut crate::common::WsClient) -> Value {
    let msg = tokio::time::timeout(std::time::Duration::from_secs(8), ws.next())
        .await
        .expect("the server answers in time");
    match msg {
        Some(Ok(Message::Text(t))) => serde_json::from_str(&t).unwrap(),
        other => panic!("unexpected message {other:?}"),
    }
}

#[tokio::test]
async fn personal_data_are_purged_after_the_retention_and_the_figures_stay() {
    let app = TestApp::new().await;
    let filed = file(&app, "35360", "C2080").await;
    let body = call(
        &app,
        &staff(CA_VITRE),
        "answerReferral",
        json!({ "id": filed["id"], "version": 1, "answer": "Collecte rattrapée jeudi." }),
    )
    .await;
    referral(&body, "answerReferral");
    let read = || async {
        app.graphql_as(
            Some(&staff(VITRE)),
            "query($id: ID!) { node(id: $id) { ... on Referral { status message contact answer erasedAt version } } }",
            json!({ "id": filed["id"] }),
        )
        .await
        .1["data"]["node"]
            .clone()
    };
    // Within the retention (365 days by default), nothing is purged.
    app.clock.advance(chrono::Duration::days(300));
    api::maintenance::once(&app.state).await;
    let kept = read().await;
    assert_eq!(kept["contact"], "06 00 00 00 00", "{kept}");
    // Past it, the personal data go; the referral and its status stay.
    app.clock.advance(chrono::Duration::days(66));
    api::maintenance::once(&app.state).await;
    let purged = read().await;
    assert_eq!(
        (&purged["message"], &purged["contact"], &purged["answer"]),
        (&Value::Null, &Value::Null, &Value::Null),
        "{purged}"
    );
    assert_eq!(purged["status"], "ANSWERED");
    assert!(purged["erasedAt"].is_string());
    assert_eq!(purged["version"], 3);
    // Again: nothing more to do, nothing changes.
    api::maintenance::once(&app.state).await;
    assert_eq!(read().await["version"], 3);
    // The figures stay; the audit trail records the purge without the content.
    let b = app
        .query(
            "query($from: Date) { serviceBarometer(organisation: \"200039022\", from: $from) { received answered } }",
            json!({ "from": date(-1, 1, 1) }),
        )
        .await;
    assert_eq!(
        b["serviceBarometer"],
        json!({ "received": 1, "answered": 1 })
    );
    let (_, audit) = app
        .graphql_as(
            Some(&token("dgs@vitrecommunaute.fr", Some(CA_VITRE), &["admin"])),
            "{ auditLog(filter: { action: \"purgeReferralPersonalData\" }) { totalCount edges { node { actorSubject before after } } } }",
            json!({}),
        )
        .await;
    let log = &audit["data"]["auditLog"];
    assert_eq!(log["totalCount"], 1, "{audit}");
    assert_eq!(
        log["edges"][0]["node"]["actorSubject"],
        "maillage:retention"
    );
    let record = log["edges"][0]["node"].to_string();
    assert!(
        !record.contains("06 00 00 00 00") && !record.contains("rattrapée"),
        "{record}"
    );

    // The retention is configurable: a shorter one purges sooner.
    let second = file(&app, "35360", "C2080").await;
    app.clock.advance(chrono::Duration::days(31));
    api::maintenance::once(&app.state).await;
    let (_, still) = app
        .graphql_as(
            Some(&staff(VITRE)),
            "query($id: ID!) { node(id: $id) { ... on Referral { contact } } }",
            json!({ "id": second["id"] }),
        )
        .await;
    assert_eq!(still["data"]["node"]["contact"], "06 00 00 00 00");
    api::maintenance::once(&app.state.clone().with_referral_retention(30)).await;
    let (_, gone) = app
        .graphql_as(
            Some(&staff(VITRE)),
            "query($id: ID!) { node(id: $id) { ... on Referral { contact } } }",
            json!({ "id": second["id"] }),
        )
        .await;
    assert_eq!(gone["data"]["node"]["contact"], Value::Null, "{gone}");
}

#[tokio::test]
async fn requests_go_to_the_syndicat_or_the_delegatee_that_serves_the_commune() {
    let app = TestApp::new().await;
    let prefecture = token("pref@ille-et-vilaine.gouv.fr", None, &["state"]);
    let rennes = crate::competence_changes::id_of(&app, RENNES).await;
    let metro = crate::competence_changes::id_of(&app, RENNES_METROPOLE).await;

    // A syndicat (test fixture) of which Rennes is a member implements C3035 there.
    let (_, r) = app
        .graphql_as(
            Some(&prefecture),
            "mutation($i: RegisterGroupingInput!) { registerGrouping(input: $i) { organisation { id } } }",
            json!({ "i": { "kind": "SYNDICAT", "name": "Syndicat mixte d'essai", "siren": "253599997",
                           "members": [rennes], "validFrom": date(0, 1, 1), "departement": "35" } }),
        )
        .await;
    let syndicat = r["data"]["registerGrouping"]["organisation"]["id"].clone();
    assert!(syndicat.is_string(), "{r}");
    let declared = crate::competence_changes::declare(
        &app,
        &token("e@syndicat.fr", Some("253599997"), &["editor"]),
        json!({ "organisationId": syndicat, "competence": "C3035", "role": "IMPLEMENTER",
                "basis": "STATUTES", "validFrom": date(0, 1, 1) }),
    )
    .await;
    assert!(
        declared["data"]["declareCompetence"]["assignment"].is_object(),
        "{declared}"
    );
    let filed = file(&app, "35238", "C3035").await;
    assert_eq!(filed["handler"]["siren"], "253599997", "{filed}");

    // Rennes delegates school catering to Rennes Métropole (CGCT L1111-8), signed by both.
    let rennes_admin = token("maire@rennes.fr", Some(RENNES), &["admin"]);
    let r = app
        .graphql_as(
            Some(&staff(RENNES)),
            crate::agreements::DRAFT,
            json!({ "i": {
                "draftingPartyId": rennes, "kind": "DELEGATION_COMPETENCE",
                "title": "Délégation de la restauration scolaire", "legalBasis": "CGCT L1111-8",
                "parties": [ { "organisationId": rennes, "role": "DELEGATOR" },
                             { "organisationId": metro, "role": "DELEGATEE" } ],
                "validFrom": date(0, 1, 1), "competences": [ { "code": "C5010" } ] } }),
        )
        .await
        .1;
    let id = r["data"]["draftAgreement"]["agreement"]["id"].clone();
    assert!(id.is_string(), "{r}");
    let before = file(&app, "35238", "C5010").await;
    assert_ne!(before["handler"]["siren"], RENNES_METROPOLE, "{before}");
    let r = crate::agreements::run(
        &app,
        &staff(RENNES),
        "proposeAgreement",
        json!({ "id": id, "version": 1 }),
    )
    .await;
    assert_eq!(
        crate::agreements::out(&r, "proposeAgreement")["status"],
        "PROPOSED"
    );
    for (tok, party) in [
        (rennes_admin, rennes.clone()),
        (
            token("president@metropole.fr", Some(RENNES_METROPOLE), &["admin"]),
            metro.clone(),
        ),
    ] {
        crate::agreements::run(
            &app,
            &tok,
            "signAgreement",
            json!({ "id": id, "party": party }),
        )
        .await;
    }
    let after = file(&app, "35238", "C5010").await;
    assert_eq!(after["handler"]["siren"], RENNES_METROPOLE, "{after}");
    let reason = after["hops"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("Implementer"), "{reason}");
}

#[tokio::test]
async fn a_territory_barometer_by_competence_counts_its_communes_only() {
    let app = TestApp::new().await;
    let mut waste = Vec::new();
    for _ in 0..5 {
        waste.push(file(&app, "35360", "C2080").await);
    }
    file(&app, "35238", "C2080").await;
    let other = file(&app, "35360", "C3035").await;
    app.clock.advance(chrono::Duration::hours(24));
    for r in &waste {
        let body = call(
            &app,
            &staff(CA_VITRE),
            "answerReferral",
            json!({ "id": r["id"], "version": 1, "answer": "Fait." }),
        )
        .await;
        referral(&body, "answerReferral");
    }
    let by_competence = |territory: &'static str| {
        let app = &app;
        async move {
            app.query(
                "query($t: ID!) { territoryServiceBarometer(territory: $t) {
                   competenceCode competence { code } barometer { received answered medianHoursToAnswer withheld } } }",
                json!({ "t": territory }),
            )
            .await["territoryServiceBarometer"]
                .clone()
        }
    };
    // CA Vitré Communauté's communes: Vitré's six referrals, not Rennes's.
    let ca = by_competence(CA_VITRE).await;
    assert_eq!(ca.as_array().unwrap().len(), 2, "{ca}");
    assert_eq!(ca[0]["competenceCode"], "C2080");
    assert_eq!(ca[0]["competence"]["code"], "C2080");
    assert_eq!(ca[0]["barometer"]["received"], 5);
    assert_eq!(ca[0]["barometer"]["medianHoursToAnswer"], 24.0);
    assert_eq!(ca[1]["competenceCode"], "C3035", "{other}");
    assert_eq!(ca[1]["barometer"]["received"], 1);
    assert_eq!(ca[1]["barometer"]["medianHoursToAnswer"], Value::Null);
    assert!(
        !ca[1]["barometer"]["withheld"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The département (Ille-et-Vilaine, by its INSEE code) counts Rennes as well.
    let dep = by_competence("35").await;
    assert_eq!(dep[0]["barometer"]["received"], 6, "{dep}");
    // A period before them counts nothing; a period the wrong way round is an error.
    let period = "query($from: Date, $to: Date) {
        territoryServiceBarometer(territory: \"200039022\", from: $from, to: $to) { competenceCode } }";
    let none = app
        .query(
            period,
            json!({ "from": date(-1, 1, 1), "to": date(-1, 12, 31) }),
        )
        .await;
    assert_eq!(none["territoryServiceBarometer"], json!([]));
    let wrong = app
        .graphql(
            period,
            json!({ "from": date(-1, 1, 2), "to": date(-1, 1, 1) }),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT", "{wrong}");
}
