//! Territorial projects through the public router: the lifecycle and who sees what, actions
//! piloted by parties, indicators and measurements (checks, corrections kept as history,
//! aggregation on the shipped legal populations, progress), the chart, signatories signing at
//! once and corrections racing.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{TestApp, date, error_code, token};
use crate::referrals::{CA_VITRE, RENNES, VITRE, call, file, staff};

fn admin(siren: &str) -> String {
    token(&format!("dgs@{siren}.fr"), Some(siren), &["admin"])
}

const PROJECT: &str = "project { id version phase communeCount title
    parties { role organisation { siren } } consents { party { siren } decision } }
    userErrors { field code message }";

/// Runs `mutation(input: $i)` as `tok`, selecting `fields`; the whole response.
async fn run(
    app: &TestApp,
    tok: Option<&str>,
    mutation: &str,
    input_type: &str,
    input: Value,
    fields: &str,
) -> Value {
    let doc = format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {fields} }} }}");
    app.graphql_as(tok, &doc, json!({ "i": input })).await.1
}

fn crte(title: &str) -> Value {
    json!({
        "kind": "CRTE", "title": title, "draftedById": CA_VITRE,
        "description": "Contrat pour la réussite de la transition écologique",
        "parties": [
            { "organisationId": CA_VITRE, "role": "PILOT" },
            { "organisationId": CA_VITRE, "role": "SIGNATORY" },
            { "organisationId": VITRE, "role": "SIGNATORY" },
            { "organisationId": VITRE, "role": "CONTRIBUTOR" },
        ],
        "territory": [CA_VITRE],
        "validFrom": date(0, 1, 1), "validTo": date(6, 1, 1),
    })
}

/// Drafts a CRTE of Vitré Communauté (by its staff); the project.
async fn draft(app: &TestApp, title: &str) -> Value {
    let r = run(
        app,
        Some(&staff(CA_VITRE)),
        "draftTerritorialProject",
        "DraftTerritorialProjectInput",
        crte(title),
        PROJECT,
    )
    .await;
    let p = r["data"]["draftTerritorialProject"]["project"].clone();
    assert!(p.is_object(), "{r}");
    p
}

/// Drafts, proposes and has every signatory sign; the signed project.
async fn signed(app: &TestApp) -> Value {
    let p = draft(app, "CRTE de Vitré Communauté").await;
    let r = run(
        app,
        Some(&staff(CA_VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        json!({ "id": p["id"], "version": 1 }),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["proposeTerritorialProject"]["project"]["phase"], "PROPOSED",
        "{r}"
    );
    let mut last = Value::Null;
    for party in [VITRE, CA_VITRE] {
        last = run(
            app,
            Some(&admin(party)),
            "signTerritorialProject",
            "SignTerritorialProjectInput",
            json!({ "id": p["id"], "partyId": party }),
            PROJECT,
        )
        .await;
    }
    let p = last["data"]["signTerritorialProject"]["project"].clone();
    assert_eq!(p["phase"], "ACTIVE", "{last}");
    p
}

async fn projects_of(app: &TestApp, tok: Option<&str>, insee: &str) -> Value {
    let (_, r) = app
        .graphql_as(
            tok,
            "query($c: String!) { territorialProjects(inseeCode: $c) { title phase } }",
            json!({ "c": insee }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["territorialProjects"].clone()
}

/// The project events of the feed `tok` may read.
async fn feed(app: &TestApp, tok: Option<&str>) -> Vec<Value> {
    let (_, r) = app
        .graphql_as(
            tok,
            "{ changes(entityTypes: [\"TerritorialProject\"], first: 50) { events { operation node { ... on TerritorialProject { phase } } } } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["changes"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_crte_is_its_parties_until_every_signatory_signs_then_public() {
    let app = TestApp::new().await;
    // Its territory is the EPCI's communes on its first day, as the registry says.
    let members = app
        .query(
            &format!("{{ organisation(siren: \"{CA_VITRE}\") {{ members(at: \"{}\", kinds: [COMMUNE], first: 100) {{ totalCount }} }} }}", date(0, 1, 1)),
            json!({}),
        )
        .await["organisation"]["members"]["totalCount"]
        .as_i64()
        .unwrap();
    assert!(members > 20);
    // A project needs a signatory, a drafter among its parties, and communes.
    for (change, field) in [
        (
            json!({ "parties": [{ "organisationId": CA_VITRE, "role": "PILOT" }] }),
            "input.parties",
        ),
        (json!({ "draftedById": RENNES }), "input.parties"),
        // A well-formed global ID that names no organisation ("Organisation:999999999").
        (
            json!({ "parties": [{ "organisationId": CA_VITRE, "role": "PILOT" },
                                { "organisationId": CA_VITRE, "role": "SIGNATORY" },
                                { "organisationId": "T3JnYW5pc2F0aW9uOjk5OTk5OTk5OQ", "role": "SIGNATORY" }] }),
            "input.parties",
        ),
        (json!({ "validTo": date(0, 1, 1) }), "input.validTo"),
    ] {
        let mut input = crte("CRTE incomplet");
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        let tok = if field == "input.parties" && change.get("draftedById").is_some() {
            staff(RENNES)
        } else {
            staff(CA_VITRE)
        };
        let r = run(
            &app,
            Some(&tok),
            "draftTerritorialProject",
            "DraftTerritorialProjectInput",
            input,
            PROJECT,
        )
        .await;
        assert_eq!(
            r["data"]["draftTerritorialProject"]["userErrors"][0]["field"], field,
            "{r}"
        );
    }
    // Staff of another organisation do not draft in Vitré Communauté's name.
    let r = run(
        &app,
        Some(&staff(RENNES)),
        "draftTerritorialProject",
        "DraftTerritorialProjectInput",
        crte("CRTE"),
        PROJECT,
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");

    let p = draft(&app, "CRTE de Vitré Communauté").await;
    assert_eq!(p["communeCount"].as_i64(), Some(members), "{p}");
    assert_eq!(p["phase"], "DRAFT");
    // A draft is its parties' own, in the feed too.
    assert_eq!(projects_of(&app, None, "35360").await, json!([]));
    assert_eq!(feed(&app, None).await.len(), 0);
    assert_eq!(feed(&app, Some(&staff(VITRE))).await.len(), 1);
    assert_eq!(
        projects_of(&app, Some(&staff(RENNES)), "35360").await,
        json!([])
    );
    assert_eq!(
        projects_of(&app, Some(&staff(VITRE)), "35360").await,
        json!([{ "title": "CRTE de Vitré Communauté", "phase": "DRAFT" }])
    );
    // Proposing is the drafter's, on the current version.
    let step = json!({ "id": p["id"], "version": 1 });
    let r = run(
        &app,
        Some(&staff(VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        step.clone(),
        PROJECT,
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        json!({ "id": p["id"], "version": 7 }),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["proposeTerritorialProject"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        step,
        PROJECT,
    )
    .await;
    let proposed = &r["data"]["proposeTerritorialProject"]["project"];
    assert_eq!(proposed["phase"], "PROPOSED", "{r}");
    assert_eq!(
        proposed["consents"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    // Signing is each signatory's admins'; a rejection returns it to draft.
    let sign = |party: &str, approve: bool| json!({ "id": p["id"], "partyId": party, "approve": approve, "reason": "à revoir" });
    let r = run(
        &app,
        Some(&staff(VITRE)),
        "signTerritorialProject",
        "SignTerritorialProjectInput",
        sign(VITRE, true),
        PROJECT,
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    // A rejection says why, in at most 1,000 characters; until it does, nothing changes.
    for reason in [Value::Null, json!(" "), json!("x".repeat(1001))] {
        let mut input = sign(VITRE, false);
        input["reason"] = reason;
        let r = run(
            &app,
            Some(&admin(VITRE)),
            "signTerritorialProject",
            "SignTerritorialProjectInput",
            input,
            PROJECT,
        )
        .await;
        let error = &r["data"]["signTerritorialProject"]["userErrors"][0];
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some("input.reason")),
            "{r}"
        );
    }
    let r = run(
        &app,
        Some(&admin(VITRE)),
        "signTerritorialProject",
        "SignTerritorialProjectInput",
        sign(VITRE, false),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["signTerritorialProject"]["project"]["phase"], "DRAFT",
        "{r}"
    );
    // Why stays in the audit log, with the party that said it.
    let (_, log) = app
        .graphql_as(
            Some(&token("s@prefecture.gouv.fr", None, &["state"])),
            r#"{ auditLog(filter: { entityType: "TerritorialProject" }) { nodes { action after } } }"#,
            json!({}),
        )
        .await;
    let rejection = log["data"]["auditLog"]["nodes"]
        .as_array()
        .and_then(|nodes| {
            nodes
                .iter()
                .find(|n| n["action"] == "rejectTerritorialProject")
        })
        .map(|n| n["after"]["rejection"].clone())
        .unwrap_or_default();
    assert_eq!(rejection["reason"], "à revoir", "{log}");
    let vitre = app
        .query(
            "query($s: String!) { organisation(siren: $s) { id } }",
            json!({ "s": VITRE }),
        )
        .await;
    assert_eq!(rejection["partyId"], vitre["organisation"]["id"], "{log}");
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        json!({ "id": p["id"], "version": 3 }),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["proposeTerritorialProject"]["project"]["phase"], "PROPOSED",
        "{r}"
    );
    let r = run(
        &app,
        Some(&admin(VITRE)),
        "signTerritorialProject",
        "SignTerritorialProjectInput",
        sign(VITRE, true),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["signTerritorialProject"]["project"]["phase"], "PROPOSED",
        "{r}"
    );
    let r = run(
        &app,
        Some(&admin(VITRE)),
        "signTerritorialProject",
        "SignTerritorialProjectInput",
        sign(VITRE, true),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["signTerritorialProject"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );
    let r = run(
        &app,
        Some(&admin(CA_VITRE)),
        "signTerritorialProject",
        "SignTerritorialProjectInput",
        sign(CA_VITRE, true),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["signTerritorialProject"]["project"]["phase"], "ACTIVE",
        "{r}"
    );
    // Signed, it is public for every commune it covers, and only there.
    assert_eq!(
        projects_of(&app, None, "35360").await,
        json!([{ "title": "CRTE de Vitré Communauté", "phase": "ACTIVE" }])
    );
    assert_eq!(projects_of(&app, None, "35238").await, json!([]));
    // As of a date past its end, it covers nothing.
    let (_, r) = app
        .graphql_as(
            None,
            "query($at: Date) { territorialProjects(inseeCode: \"35360\", at: $at) { title } }",
            json!({ "at": date(6, 1, 1) }),
        )
        .await;
    assert_eq!(r["data"]["territorialProjects"], json!([]), "{r}");
    // Malformed codes are refused.
    let (_, r) = app
        .graphql_as(
            None,
            "{ territorialProjects(inseeCode: \"3536\") { title } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT", "{r}");
    // Signed, its whole history is in the public feed; the node is the project.
    let events = feed(&app, None).await;
    assert_eq!(
        events.len(),
        6,
        "draft, propose, reject, propose, two signatures: {events:?}"
    );
    assert!(
        events.iter().all(|e| e["node"]["phase"] == "ACTIVE"),
        "{events:?}"
    );
}

const ACTION: &str = "action { id version axis title status pilot { siren } contributors { siren } competences { code } budgetPlanned budgetCommitted }
    userErrors { field code message }";

#[tokio::test]
async fn actions_are_piloted_by_parties_and_edited_by_their_pilot() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let add = |tok: String, input: Value| {
        let app = &app;
        let id = p["id"].clone();
        async move {
            app.graphql_as(
                Some(&tok),
                &format!("mutation($p: ID!, $i: ProjectActionInput!) {{ addProjectAction(projectId: $p, input: $i) {{ {ACTION} }} }}"),
                json!({ "p": id, "i": input }),
            )
            .await
            .1
        }
    };
    let content = |pilot: &str| {
        json!({
            "axis": "Sobriété foncière", "title": "Réhabiliter les friches du centre",
            "pilotId": pilot, "budgetPlanned": 1_200_000, "budgetCommitted": 300_000,
            "startsOn": date(0, 3, 1), "endsOn": date(2, 12, 31),
            "contributorIds": [VITRE], "competences": ["C5510"],
        })
    };
    let r = add(staff(CA_VITRE), content(RENNES)).await;
    assert_eq!(
        r["data"]["addProjectAction"]["userErrors"][0]["field"], "input.pilotId",
        "{r}"
    );
    let mut bad = content(VITRE);
    bad["competences"] = json!(["C9999"]);
    let r = add(staff(CA_VITRE), bad).await;
    assert_eq!(
        r["data"]["addProjectAction"]["userErrors"][0]["field"], "input.competences",
        "{r}"
    );
    let mut bad = content(VITRE);
    bad["endsOn"] = json!(date(0, 1, 1));
    let r = add(staff(CA_VITRE), bad).await;
    assert_eq!(
        r["data"]["addProjectAction"]["userErrors"][0]["field"], "input.endsOn",
        "{r}"
    );
    let mut bad = content(VITRE);
    // A resource ID of the right type that names nothing.
    let nowhere = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        "Resource:999999",
    );
    bad["resourceIds"] = json!([nowhere]);
    let r = add(staff(CA_VITRE), bad).await;
    assert_eq!(
        r["data"]["addProjectAction"]["userErrors"][0]["field"], "input.resourceIds",
        "{r}"
    );
    let r = add(staff(RENNES), content(VITRE)).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    // A party that neither drafted nor pilots the project (Vitré signs and contributes) plans
    // no action.
    let r = add(staff(VITRE), content(VITRE)).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let r = add(staff(CA_VITRE), content(VITRE)).await;
    let action = r["data"]["addProjectAction"]["action"].clone();
    assert_eq!(action["pilot"]["siren"], VITRE, "{r}");
    assert_eq!(action["competences"], json!([{ "code": "C5510" }]));
    assert_eq!(action["version"], 1);

    let update = |tok: String, version: i64, status: &str| {
        let app = &app;
        let id = action["id"].clone();
        let mut input = content(VITRE);
        input["status"] = json!(status);
        async move {
            app.graphql_as(
                Some(&tok),
                &format!("mutation($id: ID!, $v: Int!, $i: ProjectActionInput!) {{ updateProjectAction(id: $id, version: $v, input: $i) {{ {ACTION} }} }}"),
                json!({ "id": id, "v": version, "i": input }),
            )
            .await
            .1
        }
    };
    // The action is its pilot's to edit, on the current version.
    let r = update(staff(CA_VITRE), 1, "IN_PROGRESS").await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let r = update(staff(VITRE), 1, "IN_PROGRESS").await;
    assert_eq!(
        r["data"]["updateProjectAction"]["action"]["status"], "IN_PROGRESS",
        "{r}"
    );
    assert_eq!(r["data"]["updateProjectAction"]["action"]["version"], 2);
    let r = update(staff(VITRE), 1, "DONE").await;
    assert_eq!(
        r["data"]["updateProjectAction"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );
    let read = app
        .query("query($id: ID!) { node(id: $id) { ... on TerritorialProject { actions { status version } } } }", json!({ "id": p["id"] }))
        .await;
    assert_eq!(
        read["node"]["actions"],
        json!([{ "status": "IN_PROGRESS", "version": 2 }])
    );
}

const INDICATOR: &str = "indicator { id name unit baselineValue targets { dueOn value } }
    userErrors { field code message }";

/// Defines an indicator of `project` measured by Vitré Communauté.
async fn indicator(app: &TestApp, project: &Value, unit: &str, aggregation: &str) -> Value {
    let input = json!({
        "projectId": project["id"], "name": "Part des ménages raccordés", "unit": unit,
        "direction": "INCREASE", "periodicity": "YEARLY", "method": "raccordements / ménages",
        "source": "Rapport annuel du service", "responsibleId": CA_VITRE,
        "aggregation": aggregation, "baselineValue": 10.0, "baselinePeriod": date(-2, 1, 1),
        "targets": [{ "dueOn": date(2, 1, 1), "value": 50.0 }],
    });
    let r = run(
        app,
        Some(&staff(CA_VITRE)),
        "defineIndicator",
        "DefineIndicatorInput",
        input,
        INDICATOR,
    )
    .await;
    let i = r["data"]["defineIndicator"]["indicator"].clone();
    assert!(i.is_object(), "{r}");
    i
}

const MEASUREMENT: &str =
    "measurement { id period value corrects supersededAt commune { inseeCode } }
    userErrors { field code message }";

async fn measure(app: &TestApp, tok: &str, input: Value) -> Value {
    run(
        app,
        Some(tok),
        "recordMeasurement",
        "RecordMeasurementInput",
        input,
        MEASUREMENT,
    )
    .await
}

/// The legal population the API gives for commune `insee`.
async fn population(app: &TestApp, insee: &str) -> f64 {
    app.query(
        &format!("{{ organisation(inseeCode: \"{insee}\", kind: COMMUNE) {{ population }} }}"),
        json!({}),
    )
    .await["organisation"]["population"]
        .as_f64()
        .unwrap_or_else(|| panic!("no population for {insee}"))
}

/// Another member commune of Vitré Communauté than Vitré.
async fn neighbour(app: &TestApp) -> String {
    let r = app
        .query(&format!("{{ organisation(siren: \"{CA_VITRE}\") {{ members(kinds: [COMMUNE], first: 5) {{ nodes {{ member {{ inseeCode }} }} }} }} }}"), json!({}))
        .await;
    r["organisation"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["member"]["inseeCode"].as_str())
        .find(|c| *c != "35360")
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn measurements_are_checked_corrected_with_history_aggregated_and_drawn() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    // A target before the baseline, a baseline off its periodicity: nothing defined.
    let base = json!({
        "projectId": p["id"], "name": "Part des ménages raccordés", "unit": "%",
        "direction": "INCREASE", "periodicity": "YEARLY", "method": "raccordements / ménages",
        "source": "Rapport annuel", "responsibleId": CA_VITRE, "aggregation": "POPULATION_WEIGHTED_MEAN",
        "baselineValue": 10.0, "baselinePeriod": date(-2, 1, 1),
    });
    for (change, field) in [
        (
            json!({ "targets": [{ "dueOn": date(-3, 1, 1), "value": 50.0 }] }),
            "input.targets",
        ),
        (
            json!({ "baselinePeriod": date(-2, 2, 1) }),
            "input.baselinePeriod",
        ),
        (json!({ "responsibleId": RENNES }), "input.responsibleId"),
    ] {
        let mut input = base.clone();
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = run(
            &app,
            Some(&staff(CA_VITRE)),
            "defineIndicator",
            "DefineIndicatorInput",
            input,
            INDICATOR,
        )
        .await;
        assert_eq!(
            r["data"]["defineIndicator"]["userErrors"][0]["field"], field,
            "{r}"
        );
    }
    // Planning is the drafter's and pilots' staff's: a signatory's staff do not define one.
    let r = run(
        &app,
        Some(&staff(VITRE)),
        "defineIndicator",
        "DefineIndicatorInput",
        base.clone(),
        INDICATOR,
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let i = indicator(&app, &p, "%", "POPULATION_WEIGHTED_MEAN").await;
    let other = neighbour(&app).await;
    let value = |commune: &str, period: String, v: f64| {
        json!({
            "indicatorId": i["id"], "communeId": commune, "period": period, "value": v, "source": "SIG du service",
        })
    };
    let ca = staff(CA_VITRE);
    // Outside the periodicity, the unit, the territory, the dates; or not the responsible.
    for (input, field) in [
        (value("35360", date(-1, 3, 1), 20.0), "input.period"),
        (value("35360", date(1, 1, 1), 20.0), "input.period"),
        (value("35360", date(-1, 1, 1), 120.0), "input.value"),
        (value("35238", date(-1, 1, 1), 20.0), "input.communeId"),
    ] {
        let r = measure(&app, &ca, input).await;
        assert_eq!(
            r["data"]["recordMeasurement"]["userErrors"][0]["field"], field,
            "{r}"
        );
    }
    let r = measure(&app, &staff(VITRE), value("35360", date(-1, 1, 1), 20.0)).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");

    let first = measure(&app, &ca, value("35360", date(-1, 1, 1), 20.0)).await;
    let first = first["data"]["recordMeasurement"]["measurement"].clone();
    assert!(first.is_object());
    measure(&app, &ca, value(&other, date(-1, 1, 1), 40.0)).await;
    // A second value for the period is refused unless it names the one it corrects.
    let r = measure(&app, &ca, value("35360", date(-1, 1, 1), 25.0)).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );
    let mut correction = value("35360", date(-1, 1, 1), 30.0);
    correction["corrects"] = first["id"].clone();
    correction["comment"] = json!("erreur de saisie");
    let r = measure(&app, &ca, correction.clone()).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["measurement"]["corrects"], first["id"],
        "{r}"
    );
    let r = measure(&app, &ca, correction).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["userErrors"][0]["code"], "CONFLICT",
        "{r}"
    );

    // The series weighs the communes' current values by their legal populations.
    let (pv, po) = (
        population(&app, "35360").await,
        population(&app, &other).await,
    );
    let expected = (30.0 * pv + 40.0 * po) / (pv + po);
    let read = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Indicator {
                series { period value communes } progress { latest { value } target { value } share reached }
                current: measurements { value } history: measurements(history: true) { value supersededAt }
                vitre: territorySeries(organisation: \"35360\") { value } chartUrl } } }",
            json!({ "id": i["id"] }),
        )
        .await;
    let n = &read["node"];
    let got = n["series"][0]["value"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}: {read}");
    assert_eq!(n["series"][0]["communes"], 2);
    assert_eq!(n["current"].as_array().map(Vec::len), Some(2));
    assert_eq!(n["history"].as_array().map(Vec::len), Some(3));
    assert_eq!(n["vitre"], json!([{ "value": 30.0 }]));
    let share = n["progress"]["share"].as_f64().unwrap();
    assert!((share - (expected - 10.0) / 40.0).abs() < 1e-9, "{read}");
    assert_eq!(n["progress"]["reached"], false);

    // The chart draws the same series, with its data as a table.
    let (status, svg) = app.get(n["chartUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{svg}");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    let text_of = |name: &str| {
        doc.descendants()
            .find(|d| d.has_tag_name(name))
            .and_then(|d| d.text())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(text_of("title"), "Part des ménages raccordés (%)");
    assert!(
        text_of("desc").contains("Baseline 10 for the period starting"),
        "{svg}"
    );
    assert!(
        text_of("desc").starts_with("Part des ménages raccordés measured yearly"),
        "{svg}"
    );
    let polyline = doc
        .descendants()
        .find(|d| d.has_tag_name("polyline"))
        .expect("a series line");
    assert_eq!(
        polyline
            .attribute("points")
            .unwrap()
            .split_whitespace()
            .count(),
        1
    );
    let rows: Vec<Vec<String>> = doc
        .descendants()
        .filter(|d| d.has_tag_name("tr"))
        .skip(1)
        .map(|tr| {
            tr.children()
                .filter(|c| c.has_tag_name("td"))
                .map(|td| td.text().unwrap_or_default().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(
        rows.len(),
        3,
        "baseline, one measured period, one target: {rows:?}"
    );
    assert_eq!(rows[1][0], date(-1, 1, 1));
    let drawn: f64 = rows[1][2].parse().unwrap();
    assert!((drawn - expected).abs() < 1e-3);
    // A draft's chart is its parties' only.
    let draft_project = draft(&app, "Projet de territoire 2030").await;
    let hidden = indicator(&app, &draft_project, "count", "SUM").await;
    let q = "query($id: ID!) { node(id: $id) { ... on Indicator { chartUrl } } }";
    let (_, seen) = app
        .graphql_as(Some(&staff(VITRE)), q, json!({ "id": hidden["id"] }))
        .await;
    let url = seen["data"]["node"]["chartUrl"]
        .as_str()
        .expect("its parties see it")
        .to_owned();
    let (_, anonymous) = app.graphql_as(None, q, json!({ "id": hidden["id"] })).await;
    assert_eq!(anonymous["data"]["node"], Value::Null, "{anonymous}");
    assert_eq!(app.get(&url).await.0, 404);
    let request = axum::http::Request::get(&url)
        .header("authorization", format!("Bearer {}", staff(VITRE)))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, _) = app.exchange(request).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml; charset=utf-8");
    let (status, _) = app.get("/charts/indicators/999999.svg").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_sum_adds_up_the_communes_and_the_dashboard_shows_each_territory() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let i = indicator(&app, &p, "count", "SUM").await;
    let other = neighbour(&app).await;
    for (commune, v) in [("35360", 120.0), (other.as_str(), 30.0)] {
        let r = measure(&app, &staff(CA_VITRE), json!({
            "indicatorId": i["id"], "communeId": commune, "period": date(0, 1, 1), "value": v, "source": "Registre",
        })).await;
        assert!(
            r["data"]["recordMeasurement"]["measurement"].is_object(),
            "{r}"
        );
    }
    let r = measure(&app, &staff(CA_VITRE), json!({
        "indicatorId": i["id"], "communeId": "35360", "period": date(-1, 1, 1), "value": 2.5, "source": "Registre",
    })).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["userErrors"][0]["field"], "input.value",
        "a count is whole: {r}"
    );
    let dashboard = |org: &str| {
        let app = &app;
        let org = org.to_owned();
        async move {
            app.query(
                "query($o: ID!) { indicatorDashboard(organisation: $o) { project { title } indicator { name } series { value communes } } }",
                json!({ "o": org }),
            )
            .await["indicatorDashboard"]
                .clone()
        }
    };
    let epci = dashboard(CA_VITRE).await;
    assert_eq!(
        epci[0]["series"],
        json!([{ "value": 150.0, "communes": 2 }]),
        "{epci}"
    );
    let commune = dashboard("35360").await;
    assert_eq!(
        commune[0]["series"],
        json!([{ "value": 120.0, "communes": 1 }]),
        "{commune}"
    );
    assert_eq!(dashboard(RENNES).await, json!([]));
}

#[tokio::test]
async fn every_signatory_signing_at_once_signs_once_and_racing_corrections_land_once() {
    let app = TestApp::new().await;
    let p = draft(&app, "CRTE de Vitré Communauté").await;
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "proposeTerritorialProject",
        "ProjectStepInput",
        json!({ "id": p["id"], "version": 1 }),
        PROJECT,
    )
    .await;
    assert_eq!(
        r["data"]["proposeTerritorialProject"]["project"]["phase"], "PROPOSED",
        "{r}"
    );
    let answers = join_all([VITRE, CA_VITRE].map(|party| {
        let app = &app;
        let id = p["id"].clone();
        async move {
            run(
                app,
                Some(&admin(party)),
                "signTerritorialProject",
                "SignTerritorialProjectInput",
                json!({ "id": id, "partyId": party }),
                PROJECT,
            )
            .await
        }
    }))
    .await;
    let phases: Vec<&str> = answers
        .iter()
        .map(|a| {
            a["data"]["signTerritorialProject"]["project"]["phase"]
                .as_str()
                .unwrap_or("none")
        })
        .collect();
    assert!(phases.contains(&"ACTIVE"), "{answers:?}");
    let read = app
        .query("query($id: ID!) { node(id: $id) { ... on TerritorialProject { phase version consents { decision } } } }", json!({ "id": p["id"] }))
        .await;
    assert_eq!(read["node"]["phase"], "ACTIVE");
    assert_eq!(
        read["node"]["consents"],
        json!([{ "decision": "APPROVED" }, { "decision": "APPROVED" }])
    );

    let i = indicator(&app, &p, "%", "SUM").await;
    let first = measure(
        &app,
        &staff(CA_VITRE),
        json!({
            "indicatorId": i["id"], "period": date(-1, 1, 1), "value": 20.0, "source": "Rapport",
        }),
    )
    .await;
    let first = first["data"]["recordMeasurement"]["measurement"]["id"].clone();
    let answers = join_all((0..6).map(|n| {
        let app = &app;
        let (id, first) = (i["id"].clone(), first.clone());
        async move {
            measure(app, &staff(CA_VITRE), json!({
                "indicatorId": id, "period": date(-1, 1, 1), "value": 21.0 + f64::from(n), "source": "Rapport corrigé",
                "corrects": first,
            })).await
        }
    }))
    .await;
    let landed = answers
        .iter()
        .filter(|a| a["data"]["recordMeasurement"]["measurement"].is_object())
        .count();
    assert_eq!(landed, 1, "{answers:?}");
    for a in answers
        .iter()
        .filter(|a| a["data"]["recordMeasurement"]["measurement"].is_null())
    {
        assert_eq!(
            a["data"]["recordMeasurement"]["userErrors"][0]["code"], "CONFLICT",
            "{a}"
        );
    }
    let read = app
        .query("query($id: ID!) { node(id: $id) { ... on Indicator { measurements(history: true) { supersededAt } series { value } } } }", json!({ "id": i["id"] }))
        .await;
    assert_eq!(
        read["node"]["measurements"].as_array().map(Vec::len),
        Some(2),
        "{read}"
    );
}

/// `GET path` as `tok`: status and the NDJSON lines.
async fn export_lines(app: &TestApp, tok: Option<&str>, path: &str) -> (u16, Vec<Value>) {
    let mut request = axum::http::Request::get(path);
    if let Some(tok) = tok {
        request = request.header("authorization", format!("Bearer {tok}"));
    }
    let (status, _, body) = app
        .exchange(request.body(axum::body::Body::empty()).unwrap())
        .await;
    let text = String::from_utf8_lossy(&body).into_owned();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    (status.as_u16(), lines)
}

#[tokio::test]
async fn exports_of_indicators_and_measurements_equal_the_api_as_of_a_date() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let i = indicator(&app, &p, "%", "SUM").await;
    let ca = staff(CA_VITRE);
    let whole = |period: String, v: f64| json!({ "indicatorId": i["id"], "period": period, "value": v, "source": "Rapport annuel" });
    let first = measure(&app, &ca, whole(date(-1, 1, 1), 20.0)).await;
    let mut correction = whole(date(-1, 1, 1), 25.0);
    correction["corrects"] = first["data"]["recordMeasurement"]["measurement"]["id"].clone();
    measure(&app, &ca, correction).await;
    measure(&app, &ca, whole(date(0, 1, 1), 30.0)).await;
    // A draft's indicator is its parties' only.
    let hidden = draft(&app, "Projet de territoire 2030").await;
    indicator(&app, &hidden, "count", "SUM").await;

    let api = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Indicator { id measurements { id period value source corrects } } } }",
            json!({ "id": i["id"] }),
        )
        .await;
    let today = crate::common::today();
    let (status, exported) = export_lines(
        &app,
        None,
        &format!("/export/measurements.ndjson?at={today}"),
    )
    .await;
    assert_eq!(status, 200);
    let exported: Vec<Value> = exported
        .iter()
        .map(|m| {
            assert_eq!(m["indicator"], api["node"]["id"]);
            json!({ "id": m["id"], "period": m["period"], "value": m["value"], "source": m["source"], "corrects": m["corrects"] })
        })
        .collect();
    assert_eq!(
        json!(exported),
        api["node"]["measurements"],
        "the export is the API's current values"
    );
    // As of yesterday nothing was measured yet.
    let yesterday = today.pred_opt().unwrap();
    let (_, before) = export_lines(
        &app,
        None,
        &format!("/export/measurements.ndjson?at={yesterday}"),
    )
    .await;
    assert_eq!(before, Vec::<Value>::new());
    let (_, public) = export_lines(&app, None, "/export/indicators.ndjson").await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(public[0]["id"], i["id"]);
    assert_eq!(
        public[0]["responsible"],
        json!(
            app.query(
                &format!("{{ organisation(siren: \"{CA_VITRE}\") {{ id }} }}"),
                json!({})
            )
            .await["organisation"]["id"]
        )
    );
    let (_, mine) = export_lines(&app, Some(&staff(VITRE)), "/export/indicators.ndjson").await;
    assert_eq!(
        mine.len(),
        2,
        "a party sees its draft's indicators too: {mine:?}"
    );
    let request = axum::http::Request::get("/export/measurements.csv")
        .body(axum::body::Body::empty())
        .unwrap();
    let (_, _, csv) = app.exchange(request).await;
    let csv = String::from_utf8_lossy(&csv).into_owned();
    assert!(
        csv.starts_with(
            "id,indicator,commune,period,value,responses,distribution,source,comment,recordedBy,recordedAt,corrects\r\n"
        ),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and two current values: {csv}"
    );
}

#[tokio::test]
async fn an_application_mandated_by_the_responsible_party_measures_and_sees_its_drafts() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let i = indicator(&app, &p, "%", "SUM").await;
    let hidden = draft(&app, "Projet de territoire 2030").await;
    let draft_indicator = indicator(&app, &hidden, "count", "SUM").await;
    let (app_id, app_token) = crate::mandates::application(&app).await;
    let value = json!({ "indicatorId": i["id"], "period": date(-1, 1, 1), "value": 20.0, "source": "Rapport annuel" });
    let exported_ids =
        |lines: Vec<Value>| -> Vec<Value> { lines.into_iter().map(|l| l["id"].clone()).collect() };

    // Before any mandate: neither the draft nor the measurement are the application's.
    let r = measure(&app, &app_token, value.clone()).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
    let (_, lines) = export_lines(&app, Some(&app_token), "/export/indicators.ndjson").await;
    assert_eq!(exported_ids(lines), vec![i["id"].clone()]);

    let granted = crate::mandates::grant(
        &app,
        &admin(CA_VITRE),
        json!({ "grantorId": CA_VITRE, "granteeId": app_id, "roles": ["EDITOR", "PARTNER"] }),
    )
    .await;
    assert_eq!(
        granted["data"]["grantMandate"]["mandate"]["inForce"], true,
        "{granted}"
    );
    let r = measure(&app, &app_token, value).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["measurement"]["value"], 20.0,
        "{r}"
    );
    // The party's draft, for the application it mandated: in the API and in the export alike.
    let read = app
        .graphql_as(
            Some(&app_token),
            "query($id: ID!) { node(id: $id) { ... on Indicator { id } } }",
            json!({ "id": draft_indicator["id"] }),
        )
        .await
        .1;
    assert_eq!(read["data"]["node"]["id"], draft_indicator["id"], "{read}");
    let (_, lines) = export_lines(&app, Some(&app_token), "/export/indicators.ndjson").await;
    assert_eq!(
        exported_ids(lines),
        vec![i["id"].clone(), draft_indicator["id"].clone()]
    );
    let (_, lines) = export_lines(
        &app,
        Some(&app_token),
        &format!("/export/measurements.ndjson?at={}", crate::common::today()),
    )
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
}

/// Defines a satisfaction barometer of `project` fed by `kind`.
async fn barometer(app: &TestApp, project: &Value, kind: &str, competence: Value) -> Value {
    let input = json!({
        "projectId": project["id"], "kind": kind, "competence": competence,
        "name": "Satisfaction des usagers", "unit": "score", "direction": "INCREASE",
        "periodicity": "YEARLY", "method": "note moyenne de 1 à 5", "source": "Enquête annuelle",
        "responsibleId": CA_VITRE, "aggregation": "SUM", "baselineValue": 3.0,
        "baselinePeriod": date(-1, 1, 1),
    });
    let r = run(
        app,
        Some(&staff(CA_VITRE)),
        "defineIndicator",
        "DefineIndicatorInput",
        input,
        INDICATOR,
    )
    .await;
    let i = r["data"]["defineIndicator"]["indicator"].clone();
    assert!(i.is_object(), "{r}");
    i
}

const SERIES: &str = "query($id: ID!) { node(id: $id) { ... on Indicator {
    series { period value responses withheld } measurements { value responses distribution } } } }";

#[tokio::test]
async fn satisfaction_barometers_from_surveys_and_referral_ratings_are_hidden_below_five_answers() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let mut wrong = json!({
        "projectId": p["id"], "kind": "SATISFACTION_SURVEY", "name": "Satisfaction", "unit": "%",
        "direction": "INCREASE", "periodicity": "YEARLY", "method": "note", "source": "Enquête",
        "responsibleId": CA_VITRE, "aggregation": "SUM", "baselineValue": 3.0, "baselinePeriod": date(-1, 1, 1),
    });
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "defineIndicator",
        "DefineIndicatorInput",
        wrong.clone(),
        INDICATOR,
    )
    .await;
    assert_eq!(
        r["data"]["defineIndicator"]["userErrors"][0]["field"], "input.unit",
        "{r}"
    );
    wrong["unit"] = json!("score");
    wrong["kind"] = json!("VALUE");
    let r = run(
        &app,
        Some(&staff(CA_VITRE)),
        "defineIndicator",
        "DefineIndicatorInput",
        wrong,
        INDICATOR,
    )
    .await;
    assert_eq!(
        r["data"]["defineIndicator"]["userErrors"][0]["field"], "input.unit",
        "{r}"
    );

    // Survey results: answers per score; four answers in one commune say nothing yet.
    let survey = barometer(&app, &p, "SATISFACTION_SURVEY", Value::Null).await;
    let other = neighbour(&app).await;
    let result = |commune: &str, distribution: Value| {
        json!({
            "indicatorId": survey["id"], "communeId": commune, "period": date(0, 1, 1),
            "distribution": distribution, "source": "Enquête usagers",
        })
    };
    let ca = staff(CA_VITRE);
    for (input, field) in [
        (result("35360", json!([1, 2, 3])), "input.distribution"),
        // Counts whose sums would overflow (this one wraps round to one answer).
        (
            result("35360", json!([i64::MAX, i64::MAX, 3, 0, 0])),
            "input.distribution",
        ),
        (
            result("35360", json!([0, 0, 0, 0, 2_000_000_000_000_000_000_i64])),
            "input.distribution",
        ),
        (
            result("35360", json!([0, 0, 0, 0, 0])),
            "input.distribution",
        ),
        (
            {
                let mut v = result("35360", json!([0, 0, 1, 2, 1]));
                v["value"] = json!(4.0);
                v
            },
            "input.distribution",
        ),
    ] {
        let r = measure(&app, &ca, input).await;
        assert_eq!(
            r["data"]["recordMeasurement"]["userErrors"][0]["field"], field,
            "{r}"
        );
    }
    let r = measure(&app, &ca, result("35360", json!([0, 0, 1, 2, 1]))).await;
    assert!(
        r["data"]["recordMeasurement"]["measurement"].is_object(),
        "{r}"
    );
    let read = app.query(SERIES, json!({ "id": survey["id"] })).await;
    let point = &read["node"]["series"][0];
    assert_eq!(
        (point["value"].clone(), point["responses"].clone()),
        (Value::Null, json!(4)),
        "{read}"
    );
    assert!(
        point["withheld"]
            .as_str()
            .is_some_and(|w| w.contains("from 5 answers")),
        "{read}"
    );
    assert_eq!(
        read["node"]["measurements"],
        json!([{ "value": null, "responses": 4, "distribution": null }])
    );
    // A fifth answer in another commune: the territory's mean is shown, the commune's alone not.
    measure(&app, &ca, result(&other, json!([1, 0, 0, 0, 0]))).await;
    let read = app.query(SERIES, json!({ "id": survey["id"] })).await;
    assert_eq!(
        read["node"]["series"],
        json!([{ "period": date(0, 1, 1), "value": 3.4, "responses": 5, "withheld": null }]),
        "{read}"
    );
    let vitre = app
        .query("query($id: ID!) { node(id: $id) { ... on Indicator { territorySeries(organisation: \"35360\") { value responses } } } }", json!({ "id": survey["id"] }))
        .await;
    assert_eq!(
        vitre["node"]["territorySeries"],
        json!([{ "value": null, "responses": 4 }])
    );
    // Exports withhold the same: the four answers of one commune are counted, not shown.
    let (_, exported) = export_lines(&app, None, "/export/measurements.ndjson").await;
    let four: Vec<&Value> = exported.iter().filter(|m| m["responses"] == 4).collect();
    assert_eq!(four.len(), 1, "{exported:?}");
    assert_eq!(
        (four[0]["value"].clone(), four[0]["distribution"].clone()),
        (Value::Null, Value::Null)
    );
    let one: Vec<&Value> = exported.iter().filter(|m| m["responses"] == 1).collect();
    assert_eq!(one[0]["distribution"], Value::Null, "{exported:?}");
    // Referral ratings: the referrals about the project's communes for waste collection.
    let ratings = barometer(&app, &p, "REFERRAL_SATISFACTION", json!("C2080")).await;
    let r = measure(&app, &ca, json!({ "indicatorId": ratings["id"], "period": date(0, 1, 1), "value": 4.0, "source": "Rapport" })).await;
    assert_eq!(
        r["data"]["recordMeasurement"]["userErrors"][0]["field"], "input.indicatorId",
        "{r}"
    );
    let rate = |score: i64| {
        let app = &app;
        async move {
            let filed = file(app, "35360", "C2080").await;
            let id = filed["id"].clone();
            call(
                app,
                &staff(CA_VITRE),
                "answerReferral",
                json!({ "id": id, "version": 1, "answer": "Collecte reprogrammée." }),
            )
            .await;
            let body = call(
                app,
                &staff(VITRE),
                "rateReferral",
                json!({ "id": id, "version": 2, "satisfaction": score, "resolved": true }),
            )
            .await;
            assert!(
                body["data"]["rateReferral"]["referral"].is_object(),
                "{body}"
            );
        }
    };
    // A referral about another competence does not count.
    let elsewhere = file(&app, "35360", "C5010").await;
    assert!(elsewhere["id"].is_string());
    for score in [5, 4, 4, 2] {
        rate(score).await;
    }
    let read = app.query(SERIES, json!({ "id": ratings["id"] })).await;
    assert_eq!(read["node"]["series"][0]["value"], Value::Null, "{read}");
    assert_eq!(read["node"]["series"][0]["responses"], 4);
    rate(5).await;
    let read = app.query(SERIES, json!({ "id": ratings["id"] })).await;
    assert_eq!(
        read["node"]["series"],
        json!([{ "period": date(0, 1, 1), "value": 4.0, "responses": 5, "withheld": null }]),
        "{read}"
    );
}

/// Statements run by an EPCI's dashboard and by the territory series of its project's
/// indicators (read with a token: nothing from the response cache), with what they answered.
async fn dashboard_reads(app: &TestApp) -> (usize, Value, Value) {
    let tok = staff(CA_VITRE);
    app.take_statements();
    let (_, dashboard) = app
        .graphql_as(
            Some(&tok),
            "query($o: ID!) { indicatorDashboard(organisation: $o) { indicator { name } series { value } } }",
            json!({ "o": CA_VITRE }),
        )
        .await;
    let (_, series) = app
        .graphql_as(
            Some(&tok),
            "{ territorialProjects(inseeCode: \"35360\") { indicators { territorySeries(organisation: \"35360\") { value } } } }",
            json!({}),
        )
        .await;
    (
        app.take_statements(),
        dashboard["data"].clone(),
        series["data"].clone(),
    )
}

/// Defines one indicator of each kind and rule in `project`.
async fn one_of_each(app: &TestApp, project: &Value) -> Value {
    let sum = indicator(app, project, "count", "SUM").await;
    indicator(app, project, "%", "POPULATION_WEIGHTED_MEAN").await;
    barometer(app, project, "SATISFACTION_SURVEY", Value::Null).await;
    barometer(app, project, "REFERRAL_SATISFACTION", json!("C2080")).await;
    sum
}

/// A dashboard, and the territory series of a project's indicators, read the same statements
/// for eight indicators as for four: each territory's communes, measurements, populations and
/// referral ratings are read once for all of them, not once per indicator.
#[tokio::test]
async fn dashboards_and_territory_series_read_the_same_statements_for_more_indicators() {
    let app = TestApp::new().await;
    let p = signed(&app).await;
    let sum = one_of_each(&app, &p).await;
    let r = measure(&app, &staff(CA_VITRE), json!({
        "indicatorId": sum["id"], "communeId": "35360", "period": date(0, 1, 1), "value": 12.0, "source": "Registre",
    })).await;
    assert!(
        r["data"]["recordMeasurement"]["measurement"].is_object(),
        "{r}"
    );
    let (four, dashboard, series) = dashboard_reads(&app).await;
    assert_eq!(
        dashboard["indicatorDashboard"].as_array().map(Vec::len),
        Some(4),
        "{dashboard}"
    );
    let indicators = &series["territorialProjects"][0]["indicators"];
    assert_eq!(indicators.as_array().map(Vec::len), Some(4), "{series}");
    assert_eq!(
        indicators[0]["territorySeries"],
        json!([{ "value": 12.0 }]),
        "{series}"
    );
    one_of_each(&app, &p).await;
    let (eight, dashboard, series) = dashboard_reads(&app).await;
    assert_eq!(
        dashboard["indicatorDashboard"].as_array().map(Vec::len),
        Some(8),
        "{dashboard}"
    );
    assert_eq!(
        series["territorialProjects"][0]["indicators"]
            .as_array()
            .map(Vec::len),
        Some(8),
        "{series}"
    );
    assert!(four > 0);
    assert_eq!(eight, four, "statements for four indicators, then eight");
}
