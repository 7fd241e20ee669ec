//! The competence catalogue and "who does what here": held-out checks of the legal layers
//! against the official data, merged communes, holders, and set-based resolution.

use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

const RESPONSIBILITIES: &str = "query($code: String!, $c: String!, $at: Date) {
  responsibilities(inseeCode: $code, competence: $c, at: $at) {
    role layer basis source validFrom validTo
    organisation { kind name siren inseeCode }
    commune { inseeCode name } requested { inseeCode name } resolvedThrough
  } }";

async fn responsibilities(app: &TestApp, code: &str, c: &str, at: Option<&str>) -> Vec<Value> {
    let data = app
        .query(RESPONSIBILITIES, json!({ "code": code, "c": c, "at": at }))
        .await;
    data["responsibilities"].as_array().unwrap().clone()
}

/// The responsibilities of `role`.
fn with_role<'a>(items: &'a [Value], role: &str) -> Vec<&'a Value> {
    items.iter().filter(|r| r["role"] == role).collect()
}

/// Member communes (INSEE codes) of the first `n` EPCIs of `kind`, with the EPCI's SIREN.
async fn communes_of_kind(app: &TestApp, kind: &str, n: usize) -> Vec<(String, String)> {
    let data = app
        .query(
            "query($k: [OrganisationKind!]) { organisations(filter: {kinds: $k}, first: 40) {
               nodes { siren members(first: 3, kinds: [COMMUNE]) { nodes { member { inseeCode } } } } } }",
            json!({ "k": [kind] }),
        )
        .await;
    let mut out = Vec::new();
    for epci in data["organisations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .step_by(7)
        .take(n)
    {
        for m in epci["members"]["nodes"].as_array().unwrap() {
            out.push((
                m["member"]["inseeCode"].as_str().unwrap().to_owned(),
                epci["siren"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert!(out.len() >= n, "too few communes of {kind}: {out:?}");
    out
}

#[tokio::test]
async fn the_catalogue_is_the_banatic_nomenclature() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ all: competences(first: 100) { totalCount pageInfo { hasNextPage endCursor } }
               waste: competence(code: \"C2080\") { code label category nomenclature }
               none: competence(code: \"C9999\") { code }
               water: competences(filter: {text: \"EAU (production\"}) { totalCount nodes { code } }
               social: competences(filter: {category: \"Sanitaire et social\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["all"]["totalCount"], 118);
    assert_eq!(data["all"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        data["waste"]["label"],
        "Exercice de la compétence collecte des déchets ménagers et assimilés"
    );
    assert_eq!(data["waste"]["nomenclature"], "BANATIC 2025");
    assert!(data["none"].is_null());
    assert_eq!(data["water"]["nodes"][0]["code"], "C1505");
    assert_eq!(data["social"]["totalCount"], 13);

    let cursor = data["all"]["pageInfo"]["endCursor"].as_str().unwrap();
    let rest = app
        .query(
            "query($a: String) { competences(first: 100, after: $a) { edges { node { code } } pageInfo { hasNextPage } } }",
            json!({ "a": cursor }),
        )
        .await;
    assert_eq!(rest["competences"]["edges"].as_array().unwrap().len(), 18);
    assert_eq!(rest["competences"]["pageInfo"]["hasNextPage"], false);

    for bad in ["X2080", "C208", "c2080", "C20800"] {
        let response = app
            .graphql(
                "query($c: String!) { competence(code: $c) { code } }",
                json!({ "c": bad }),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{bad}");
    }
}

#[tokio::test]
async fn legal_layers_answer_from_the_official_data() {
    let app = TestApp::new().await;
    // Waste collection is mandatory for every CC: their communes' holder is their CC.
    for (commune, cc) in communes_of_kind(&app, "CC", 4).await {
        let items = responsibilities(&app, &commune, "C2080", None).await;
        let holders = with_role(&items, "HOLDER");
        assert_eq!(holders.len(), 1, "{commune}: {items:#?}");
        assert_eq!(holders[0]["organisation"]["siren"], cc.as_str());
        assert_eq!(holders[0]["layer"], "LEGAL_BASELINE");
        assert_eq!(holders[0]["basis"], "LAW");
        assert_eq!(holders[0]["source"], "CGCT L5214-16");
        assert_eq!(
            with_role(&items, "FINANCER")[0]["organisation"]["siren"],
            cc.as_str()
        );
        assert_eq!(holders[0]["commune"]["inseeCode"], commune.as_str());
        assert_eq!(holders[0]["resolvedThrough"], "ITSELF");

        // Schools: the commune; collèges: the département; lycées: the région.
        let schools = responsibilities(&app, &commune, "C5010", None).await;
        let holder = with_role(&schools, "HOLDER")[0];
        assert_eq!(holder["organisation"]["inseeCode"], commune.as_str());
        assert_eq!(holder["layer"], "LEGAL_DEFAULT");
        let colleges = responsibilities(&app, &commune, "C5025", None).await;
        let holder = with_role(&colleges, "HOLDER")[0];
        assert_eq!(holder["organisation"]["kind"], "DEPARTEMENT");
        assert_eq!(holder["organisation"]["inseeCode"], &commune[..2]);
        assert_eq!(holder["layer"], "LEGAL_DEFAULT");
        let lycees = responsibilities(&app, &commune, "C5020", None).await;
        let holder = with_role(&lycees, "HOLDER")[0];
        assert_eq!(holder["organisation"]["kind"], "REGION");
        assert_eq!(holder["layer"], "LEGAL_DEFAULT");
        // Since the law of 11 April 2025, water is not mandatory for a CC: the commune keeps it.
        let water = responsibilities(&app, &commune, "C1505", None).await;
        assert_eq!(
            with_role(&water, "HOLDER")[0]["organisation"]["inseeCode"],
            commune.as_str()
        );
    }
    // Water is mandatory for every CA.
    for (commune, ca) in communes_of_kind(&app, "CA", 3).await {
        let items = responsibilities(&app, &commune, "C1505", None).await;
        let holders = with_role(&items, "HOLDER");
        assert_eq!(holders.len(), 1, "{commune}: {items:#?}");
        assert_eq!(holders[0]["organisation"]["siren"], ca.as_str());
        assert_eq!(holders[0]["layer"], "LEGAL_BASELINE");
        assert_eq!(holders[0]["source"], "CGCT L5216-5");
    }
    // Aides à la pierre: the State, through the préfecture of the département.
    let state = responsibilities(&app, "35238", "C6530", None).await;
    let holder = with_role(&state, "HOLDER")[0];
    assert_eq!(holder["organisation"]["kind"], "STATE_SERVICE");
    assert_eq!(
        holder["organisation"]["name"],
        "Préfecture d'Ille-et-Vilaine"
    );
}

#[tokio::test]
async fn a_merged_commune_answers_through_its_successor() {
    let app = TestApp::new().await;
    // Le Mont-Dieu (08300) merged into Tannay-le-Mont-Dieu (08439) on 2025-01-01.
    let before = responsibilities(&app, "08300", "C2080", Some("2024-06-01")).await;
    let holder = with_role(&before, "HOLDER")[0];
    assert_eq!(holder["organisation"]["siren"], "240800847");
    assert_eq!(holder["commune"]["inseeCode"], "08300");
    assert_eq!(holder["resolvedThrough"], "ITSELF");

    let after = responsibilities(&app, "08300", "C5010", Some("2026-01-01")).await;
    let holder = with_role(&after, "HOLDER")[0];
    assert_eq!(holder["organisation"]["inseeCode"], "08439");
    assert_eq!(holder["commune"]["inseeCode"], "08439");
    assert_eq!(holder["requested"]["inseeCode"], "08300");
    assert_eq!(holder["resolvedThrough"], "SUCCESSION");

    // An arrondissement municipal answers for its city.
    let paris = responsibilities(&app, "75104", "C5010", None).await;
    let holder = with_role(&paris, "HOLDER")[0];
    assert_eq!(holder["organisation"]["inseeCode"], "75056");
    assert_eq!(holder["resolvedThrough"], "PART_OF");
}

#[tokio::test]
async fn bad_arguments_are_typed_errors() {
    let app = TestApp::new().await;
    for (code, c, field) in [
        ("3523", "C2080", "inseeCode"),
        ("35", "C2080", "inseeCode"),
        ("35238", "2080", "competence"),
        ("35238", "C9999", "competence"),
    ] {
        let response = app
            .graphql(
                "query($code: String!, $c: String!) { responsibilities(inseeCode: $code, competence: $c) { role } }",
                json!({ "code": code, "c": c }),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{code} {c}");
        assert_eq!(
            response["errors"][0]["extensions"]["argument"], field,
            "{response:#}"
        );
    }
    // A well-formed code naming no commune, and a date before the data: empty answers.
    assert!(
        responsibilities(&app, "99999", "C2080", None)
            .await
            .is_empty()
    );
    assert!(
        responsibilities(&app, "35238", "C2080", Some("2019-01-01"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_territory_profile_is_set_based() {
    let app = TestApp::new().await;
    app.take_statements();
    let data = app
        .query(
            "{ territoryProfile(inseeCode: \"35238\") {
                 competence { code } responsibilities { role layer organisation { name } } } }",
            json!({}),
        )
        .await;
    let statements = app.take_statements();
    let profile = data["territoryProfile"].as_array().unwrap();
    assert_eq!(profile.len(), 118);
    let with_holder = profile
        .iter()
        .filter(|c| {
            c["responsibilities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["role"] == "HOLDER")
        })
        .count();
    assert!(
        with_holder >= 115,
        "{with_holder} competences have a holder"
    );
    // Rennes Métropole holds waste collection by law.
    let waste = profile
        .iter()
        .find(|c| c["competence"]["code"] == "C2080")
        .unwrap();
    assert!(
        waste["responsibilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| { r["role"] == "HOLDER" && r["organisation"]["name"] == "Rennes Métropole" })
    );
    // A handful of statements whatever the number of competences and groups.
    assert!(
        statements <= 6,
        "{statements} statements for a territory profile"
    );

    app.take_statements();
    app.query(
        "{ responsibilities(inseeCode: \"35238\", competence: \"C2080\") { role } }",
        json!({}),
    )
    .await;
    assert!(app.take_statements() <= 6);
}

#[tokio::test]
async fn holders_of_a_competence_are_listed_by_layer() {
    let app = TestApp::new().await;
    let epcis = app
        .query(
            "{ organisations(filter: {kinds: [CC, CA, CU, METROPOLE], departement: \"35\"}) { totalCount } }",
            json!({}),
        )
        .await["organisations"]["totalCount"]
        .as_i64()
        .unwrap();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut total;
    loop {
        let data = app
            .query(
                "query($a: String) { competence(code: \"C2080\") { holders(departement: \"35\", first: 7, after: $a) {
                    totalCount pageInfo { hasNextPage endCursor }
                    nodes { layer role organisation { id kind } } } } }",
                json!({ "a": after }),
            )
            .await;
        let page = &data["competence"]["holders"];
        total = page["totalCount"].as_i64().unwrap();
        for n in page["nodes"].as_array().unwrap() {
            assert_eq!(n["layer"], "LEGAL_BASELINE");
            assert_eq!(n["role"], "HOLDER");
            seen.push(n["organisation"]["id"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(total, epcis);
    assert_eq!(seen.len() as i64, epcis);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as i64, epcis, "no holder twice");

    // Collèges: the département by default.
    let data = app
        .query(
            "{ competence(code: \"C5025\") { holders(departement: \"35\") { totalCount nodes { layer organisation { kind inseeCode } } } } }",
            json!({}),
        )
        .await;
    let holders = &data["competence"]["holders"];
    assert_eq!(holders["totalCount"], 1);
    assert_eq!(holders["nodes"][0]["organisation"]["inseeCode"], "35");
    assert_eq!(holders["nodes"][0]["layer"], "LEGAL_DEFAULT");
}

#[tokio::test]
async fn an_organisation_lists_what_it_exercises() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ metro: organisation(siren: \"243500139\") { competences { competence { code } role layer } }
               dept: organisation(inseeCode: \"35\", kind: DEPARTEMENT) { competences { competence { code } role layer } } }",
            json!({}),
        )
        .await;
    let has = |v: &Value, code: &str, layer: &str| {
        v["competences"].as_array().unwrap().iter().any(|r| {
            r["competence"]["code"] == code && r["role"] == "HOLDER" && r["layer"] == layer
        })
    };
    assert!(has(&data["metro"], "C2080", "LEGAL_BASELINE"));
    assert!(has(&data["metro"], "C1505", "LEGAL_BASELINE"));
    assert!(!has(&data["metro"], "C5010", "LEGAL_DEFAULT"));
    assert!(has(&data["dept"], "C5025", "LEGAL_DEFAULT"));
    assert!(!has(&data["dept"], "C2080", "LEGAL_BASELINE"));
}
