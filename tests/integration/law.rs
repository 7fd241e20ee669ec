//! "Who does what" as the law makes it, in every kind of territory: a table of legal cases
//! (special statuses, the Grand Paris, mobility authorities, ordinary communes), each answer
//! checked for its holder and for the legal citation it gives; declarations checked against
//! the competences the law reserves; and every path of an answer (`responsibilities`,
//! `holders`, `Organisation.competences`) giving the same answer.

use serde_json::{Value, json};

use crate::common::{TestApp, date, token};

/// Whether organisation `o` is the one `spec` names: `COMMUNE:75056`, `DEPARTEMENT:93`,
/// `REGION:11`, `SIREN:200054781` or `NAME:Île-de-France Mobilités`.
fn is(spec: &str, o: &Value) -> bool {
    match spec.split_once(':') {
        Some(("COMMUNE", c)) => o["kind"] == "COMMUNE" && o["inseeCode"] == c,
        Some(("DEPARTEMENT", c)) => o["kind"] == "DEPARTEMENT" && o["inseeCode"] == c,
        Some(("REGION", c)) => o["kind"] == "REGION" && o["inseeCode"] == c,
        Some(("SIREN", c)) => o["siren"] == c,
        Some(("NAME", n)) => o["name"] == n,
        _ => panic!("bad organisation spec {spec}"),
    }
}

/// The table of legal cases: commune, competence, who holds it, the citation the answer
/// must give, its layer (`#` lines group them by territory).
const CASES: &str = include_str!("../fixtures/legal-cases.csv");

const PLAINE_COMMUNE: &str = "200057867";
const LYON_METROPOLE: &str = "200046977";
const RENNES_METROPOLE: &str = "243500139";
const VITRE_COMMUNAUTE: &str = "200039022";
const CEA: &str = "Collectivité européenne d'Alsace";
const IDFM: &str = "Île-de-France Mobilités";

const QUERY: &str = "query($code: String!, $c: String!, $at: Date) {
  responsibilities(inseeCode: $code, competence: $c, at: $at) {
    role layer source organisation { kind name siren inseeCode } } }";

/// Every case of the table, on three dates of the data's span: one holder, the one
/// expected, with the expected citation and layer; and implementing and paying go with
/// deciding (no other organisation implements or pays what the holder decides).
#[tokio::test]
async fn who_does_what_is_the_law_in_every_kind_of_territory() {
    let cases: Vec<Vec<&str>> = CASES
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(',').collect())
        .collect();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    assert!(cases.iter().all(|c| c.len() == 5), "a malformed case");
    let app = TestApp::new().await;
    let mut wrong = Vec::new();
    for at in [
        date(0, 6, 1),
        "2022-01-01".to_owned(),
        "2025-03-15".to_owned(),
    ] {
        for case in &cases {
            let [code, competence, who, source, layer] =
                [case[0], case[1], case[2], case[3], case[4]];
            let data = app
                .query(QUERY, json!({ "code": code, "c": competence, "at": at }))
                .await;
            let items = data["responsibilities"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let holders: Vec<&Value> = items.iter().filter(|r| r["role"] == "HOLDER").collect();
            let right = holders.len() == 1
                && is(who, &holders[0]["organisation"])
                && holders[0]["source"] == source
                && holders[0]["layer"] == layer
                && items.iter().all(|r| {
                    r["role"] == "HOLDER"
                        || r["organisation"] == holders[0]["organisation"]
                        || !matches!(r["role"].as_str(), Some("IMPLEMENTER" | "FINANCER"))
                });
            if !right {
                wrong.push(format!(
                    "{at} {code} {competence}: expected {who} ({source}, {layer}), got {items:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The collectivities of the special statuses are organisations of the registry, found by
/// search, with no SIREN invented; the départements they replace no longer answer for
/// their competences, on any path.
#[tokio::test]
async fn special_status_collectivities_are_organisations() {
    let app = TestApp::new().await;
    let data = app
        .query(
            "{ search(text: \"Collectivité européenne d'Alsace\", first: 3) { __typename ... on Organisation { name kind siren departementCode } } }",
            json!({}),
        )
        .await;
    let found = &data["search"][0];
    assert_eq!(found["name"], CEA, "{data}");
    assert_eq!(found["kind"], "COLLECTIVITE_STATUT_PARTICULIER");
    assert_eq!(found["siren"], Value::Null);

    let competences = "query($n: String!) { search(text: $n, first: 1) { ... on Organisation {
        name competences { competence { code } role layer source } } } }";
    let has = |data: &Value, code: &str, layer: &str| {
        data["search"][0]["competences"]
            .as_array()
            .is_some_and(|list| {
                list.iter().any(|r| {
                    r["competence"]["code"] == code && r["role"] == "HOLDER" && r["layer"] == layer
                })
            })
    };
    let cea = app.query(competences, json!({ "n": CEA })).await;
    assert!(has(&cea, "C5025", "LEGAL_DEFAULT"), "{cea}");
    assert!(!has(&cea, "C5020", "LEGAL_DEFAULT"), "{cea}");
    let idfm = app.query(competences, json!({ "n": IDFM })).await;
    assert!(has(&idfm, "C6000", "SPECIAL_STATUS"), "{idfm}");

    let org = "query($k: OrganisationKind!, $c: String!) { organisation(inseeCode: $c, kind: $k) {
        competences { competence { code } role layer } } }";
    let holds = |data: &Value, code: &str| {
        data["organisation"]["competences"]
            .as_array()
            .is_some_and(|l| {
                l.iter()
                    .any(|r| r["competence"]["code"] == code && r["role"] == "HOLDER")
            })
    };
    let bas_rhin = app
        .query(org, json!({ "k": "DEPARTEMENT", "c": "67" }))
        .await;
    assert!(!holds(&bas_rhin, "C5025"), "{bas_rhin}");
    let ille = app
        .query(org, json!({ "k": "DEPARTEMENT", "c": "35" }))
        .await;
    assert!(holds(&ille, "C5025"), "{ille}");
    let paris = app
        .query(org, json!({ "k": "COMMUNE", "c": "75056" }))
        .await;
    assert!(holds(&paris, "C5025") && holds(&paris, "C2080"), "{paris}");

    let mgp = "{ organisation(siren: \"200054781\") { competences { competence { code } role } } }";
    let mgp = app.query(mgp, json!({})).await;
    let mgp_holds = |code: &str| {
        mgp["organisation"]["competences"]
            .as_array()
            .is_some_and(|l| {
                l.iter()
                    .any(|r| r["competence"]["code"] == code && r["role"] == "HOLDER")
            })
    };
    assert!(mgp_holds("C5500") && mgp_holds("C2075"), "{mgp}");
    assert!(!mgp_holds("C2080") && !mgp_holds("C5510"), "{mgp}");
}

/// `holders` answers as `responsibilities` does: collèges in the Bas-Rhin are the CEA's, in
/// the Rhône the département's and the Métropole de Lyon's; waste in Seine-Saint-Denis is
/// the EPTs', never the Métropole du Grand Paris's.
#[tokio::test]
async fn holders_follow_the_special_statuses() {
    let app = TestApp::new().await;
    let q = "query($c: String!, $d: String!) { competence(code: $c) { holders(departement: $d, first: 50) {
        totalCount nodes { layer source organisation { kind name siren inseeCode } } } } }";
    let names = |data: &Value| -> Vec<String> {
        data["competence"]["holders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                n["organisation"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let alsace = app.query(q, json!({ "c": "C5025", "d": "67" })).await;
    assert_eq!(names(&alsace), [CEA], "{alsace}");
    let rhone = app.query(q, json!({ "c": "C5025", "d": "69" })).await;
    let nodes = rhone["competence"]["holders"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{rhone}");
    assert!(
        nodes
            .iter()
            .any(|n| is("DEPARTEMENT:69", &n["organisation"]))
    );
    assert!(
        nodes
            .iter()
            .any(|n| is(&format!("SIREN:{LYON_METROPOLE}"), &n["organisation"]))
    );
    let waste = app.query(q, json!({ "c": "C2080", "d": "93" })).await;
    let nodes = waste["competence"]["holders"]["nodes"].as_array().unwrap();
    assert!(nodes.len() >= 3, "{waste}");
    assert!(
        nodes.iter().all(|n| n["organisation"]["kind"] == "EPT"),
        "{waste}"
    );
    assert!(
        nodes
            .iter()
            .any(|n| is(&format!("SIREN:{PLAINE_COMMUNE}"), &n["organisation"]))
    );
}

const DECLARE: &str = "mutation($o: ID!, $c: String!, $b: AssignmentBasis!) {
  declareCompetence(input: { organisationId: $o, competence: $c, role: HOLDER, basis: $b,
                             validFrom: \"2026-01-01\" }) {
    assignment { id } userErrors { field message code } } }";

/// A declaration contradicting a competence the law reserves to another level is refused
/// with the reference; by delegation it is accepted, and the delegatee's answer is coherent.
#[tokio::test]
async fn declarations_are_checked_against_the_law() {
    let app = TestApp::new().await;
    let declare = |org: &'static str, c: &'static str, basis: &'static str| {
        let editor = token("editor@example.org", Some(org), &["editor"]);
        let app = &app;
        async move {
            app.graphql_as(
                Some(&editor),
                DECLARE,
                json!({ "o": org, "c": c, "b": basis }),
            )
            .await
            .1
        }
    };
    let refused = declare(VITRE_COMMUNAUTE, "C5025", "STATUTES").await;
    let errors = &refused["data"]["declareCompetence"]["userErrors"];
    assert_eq!(
        refused["data"]["declareCompetence"]["assignment"],
        Value::Null,
        "{refused}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Code de l'éducation L213-2")),
        "{refused}"
    );
    // Nothing changed.
    let data = app
        .query(
            QUERY,
            json!({ "code": "35360", "c": "C5025", "at": "2026-06-01" }),
        )
        .await;
    let holder = data["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "HOLDER")
        .cloned()
        .unwrap();
    assert!(is("DEPARTEMENT:35", &holder["organisation"]), "{data}");

    let refused = declare(RENNES_METROPOLE, "C5020", "LAW").await;
    assert!(
        refused["data"]["declareCompetence"]["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Code de l'éducation L214-6")),
        "{refused}"
    );

    let accepted = declare(VITRE_COMMUNAUTE, "C5025", "DELEGATION").await;
    assert_eq!(
        accepted["data"]["declareCompetence"]["userErrors"],
        json!([]),
        "{accepted}"
    );
    let data = app
        .query(
            QUERY,
            json!({ "code": "35360", "c": "C5025", "at": "2026-06-01" }),
        )
        .await;
    let items = data["responsibilities"].as_array().unwrap();
    let holder: Vec<&Value> = items.iter().filter(|r| r["role"] == "HOLDER").collect();
    assert_eq!(holder.len(), 1, "{data}");
    assert!(is(
        &format!("SIREN:{VITRE_COMMUNAUTE}"),
        &holder[0]["organisation"]
    ));
    // The département's presumed implementing and paying went with its holding.
    assert!(
        items
            .iter()
            .all(|r| !is("DEPARTEMENT:35", &r["organisation"])),
        "{data}"
    );

    // The level the law names, and a collectivity exercising it, may declare by statutes.
    let own = declare(LYON_METROPOLE, "C5025", "STATUTES").await;
    assert_eq!(
        own["data"]["declareCompetence"]["userErrors"],
        json!([]),
        "{own}"
    );
}

/// The three ways of asking "who does what" give one answer, over every commune of
/// départements of every kind (ordinary, Métropole de Lyon, Grand Paris, Alsace, Corse,
/// Paris, Mayotte): every responsibility `territoryProfile` gives a commune is among its
/// organisation's `competences`, every holder it gives is among the département's `holders`,
/// and `holders` names no one `territoryProfile` does not.
#[tokio::test]
async fn responsibilities_holders_and_competences_agree() {
    use std::collections::{BTreeMap, BTreeSet};
    // Thousands of large reads in a few seconds: over an anonymous client's budget.
    let app = TestApp::with_limits(api::config::Limits {
        cost_budget_anonymous: u32::MAX,
        ..Default::default()
    })
    .await;
    let at = date(0, 6, 1);
    let profile = "query($c: String!, $at: Date) { territoryProfile(inseeCode: $c, at: $at) {
        competence { code } responsibilities { role layer source organisation { id } } } }";
    let mut missing = Vec::new();
    for dept in ["35", "69", "93", "67", "2A", "75", "976"] {
        let codes: Vec<String> = every_node(
            &app,
            "query($d: String!, $after: String) { page: organisations(filter: { kinds: [COMMUNE], departement: $d },
               first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { inseeCode } } }",
            json!({ "d": dept }),
        )
        .await
        .iter()
        .map(|n| n["inseeCode"].as_str().unwrap().to_owned())
        .collect();
        assert!(!codes.is_empty(), "{dept}");
        // (organisation, competence, role, layer, source) given to some commune.
        let mut given: BTreeSet<(String, String, String, String, String)> = BTreeSet::new();
        let mut holders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for code in &codes {
            let data = app.query(profile, json!({ "c": code, "at": at })).await;
            for c in data["territoryProfile"].as_array().unwrap() {
                let competence = c["competence"]["code"].as_str().unwrap().to_owned();
                for r in c["responsibilities"].as_array().unwrap() {
                    let org = r["organisation"]["id"].as_str().unwrap().to_owned();
                    if r["role"] == "HOLDER" {
                        holders
                            .entry(competence.clone())
                            .or_default()
                            .insert(org.clone());
                    }
                    given.insert((
                        org,
                        competence.clone(),
                        r["role"].as_str().unwrap().to_owned(),
                        r["layer"].as_str().unwrap().to_owned(),
                        r["source"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
        // Each organisation's own list holds what it was given.
        let orgs: BTreeSet<String> = given.iter().map(|g| g.0.clone()).collect();
        let orgs: Vec<String> = orgs.into_iter().collect();
        let mut listed: BTreeSet<(String, String, String, String, String)> = BTreeSet::new();
        for chunk in orgs.chunks(40) {
            let data = app
                .query(
                    "query($ids: [ID!]!, $at: Date) { nodes(ids: $ids) { ... on Organisation { id
                       competences(at: $at) { competence { code } role layer source } } } }",
                    json!({ "ids": chunk, "at": at }),
                )
                .await;
            for o in data["nodes"].as_array().unwrap() {
                for r in o["competences"].as_array().unwrap() {
                    listed.insert((
                        o["id"].as_str().unwrap().to_owned(),
                        r["competence"]["code"].as_str().unwrap().to_owned(),
                        r["role"].as_str().unwrap().to_owned(),
                        r["layer"].as_str().unwrap().to_owned(),
                        r["source"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
        missing.extend(
            given
                .difference(&listed)
                .map(|g| format!("{dept}: {g:?} not in the organisation's competences")),
        );
        // `holders` in the département: the same organisations.
        for (competence, expected) in &holders {
            let found: BTreeSet<String> = every_node(
                &app,
                "query($c: String!, $d: String!, $at: Date, $after: String) { competence(code: $c) {
                   page: holders(departement: $d, at: $at, first: 100, after: $after) {
                     pageInfo { hasNextPage endCursor } nodes { organisation { id } } } } }",
                json!({ "c": competence, "d": dept, "at": at }),
            )
            .await
            .iter()
            .map(|n| n["organisation"]["id"].as_str().unwrap().to_owned())
            .collect();
            if &found != expected {
                missing.push(format!(
                    "{dept} {competence}: holders {found:?}, profiles {expected:?}"
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} disagreements:\n{}",
        missing.len(),
        missing[..missing.len().min(30)].join("\n")
    );
}

/// Every node of a paged list (the field aliased `page`, at any depth), following cursors.
async fn every_node(app: &TestApp, query: &str, variables: Value) -> Vec<Value> {
    fn page(v: &Value) -> Option<&Value> {
        if let Some(p) = v.get("page") {
            return Some(p);
        }
        v.as_object()?.values().find_map(page)
    }
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut vars = variables.clone();
        vars["after"] = json!(after);
        let data = app.query(query, vars).await;
        let p = page(&data).unwrap_or_else(|| panic!("no page in {data}"));
        out.extend(p["nodes"].as_array().unwrap().iter().cloned());
        if p["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}
