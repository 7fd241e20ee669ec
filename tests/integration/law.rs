//! "Who does what" as the law makes it, in every kind of territory: a table of legal cases
//! (special statuses, the Grand Paris, mobility authorities, ordinary communes), each answer
//! checked for its holder and for the legal citation it gives; declarations checked against
//! the competences the law reserves; and every path of an answer (`responsibilities`,
//! `holders`, `Organisation.competences`) giving the same answer.

use serde_json::{Value, json};

use crate::common::{TestApp, date, token};

/// Who a case expects: an organisation by kind and code, or by name.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// The commune with this INSEE code.
    Commune(&'static str),
    /// The département with this code.
    Departement(&'static str),
    /// The région with this code.
    Region(&'static str),
    /// The grouping with this SIREN.
    Siren(&'static str),
    /// The organisation with this name (collectivities the law data adds).
    Named(&'static str),
}

impl Who {
    fn matches(self, o: &Value) -> bool {
        match self {
            Who::Commune(c) => o["kind"] == "COMMUNE" && o["inseeCode"] == c,
            Who::Departement(c) => o["kind"] == "DEPARTEMENT" && o["inseeCode"] == c,
            Who::Region(c) => o["kind"] == "REGION" && o["inseeCode"] == c,
            Who::Siren(s) => o["siren"] == s,
            Who::Named(n) => o["name"] == n,
        }
    }
}

const GRAND_PARIS: &str = "200054781";
const PLAINE_COMMUNE: &str = "200057867";
const SEINE_OUEST: &str = "200057974";
const EST_ENSEMBLE: &str = "200057875";
const LYON_METROPOLE: &str = "200046977";
const STRASBOURG_EUROMETROPOLE: &str = "246700488";
const RENNES_METROPOLE: &str = "243500139";
const VITRE_COMMUNAUTE: &str = "200039022";
const BRETAGNE_ROMANTIQUE: &str = "243500733";
const VERSAILLES_GRAND_PARC: &str = "247800584";
const CEA: &str = "Collectivité européenne d'Alsace";
const CORSE: &str = "Collectivité de Corse";
const MARTINIQUE: &str = "Collectivité territoriale de Martinique";
const GUYANE: &str = "Collectivité territoriale de Guyane";
const IDFM: &str = "Île-de-France Mobilités";

/// (commune, competence, who holds it, the citation its source must be, its layer)
type Case = (&'static str, &'static str, Who, &'static str, &'static str);

const CASES: &[Case] = &[
    // Ville de Paris: commune and département (CGCT L2512-1), EPT-level competences itself.
    (
        "75056",
        "C2080",
        Who::Commune("75056"),
        "CGCT L2224-13",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C2085",
        Who::Commune("75056"),
        "CGCT L2224-13",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C5510",
        Who::Commune("75056"),
        "Code de l'urbanisme L153-8",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C5010",
        Who::Commune("75056"),
        "Code de l'éducation L212-4",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C5025",
        Who::Commune("75056"),
        "Code de l'éducation L213-2; CGCT L2512-1",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C3045",
        Who::Commune("75056"),
        "Code de l'action sociale et des familles L263-1; CGCT L2512-1",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C3060",
        Who::Commune("75056"),
        "Code de l'action sociale et des familles L232-1; CGCT L2512-1",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C6075",
        Who::Commune("75056"),
        "Code de la voirie routière L131-1; CGCT L2512-1",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C5500",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "75056",
        "C2005",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "75056",
        "C2075",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "75056",
        "C6500",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "75056",
        "C5020",
        Who::Region("11"),
        "Code de l'éducation L214-6",
        "LEGAL_DEFAULT",
    ),
    (
        "75056",
        "C6000",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "75056",
        "C6005",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "75101",
        "C5025",
        Who::Commune("75056"),
        "Code de l'éducation L213-2; CGCT L2512-1",
        "LEGAL_DEFAULT",
    ),
    (
        "75120",
        "C2080",
        Who::Commune("75056"),
        "CGCT L2224-13",
        "LEGAL_DEFAULT",
    ),
    // Métropole du Grand Paris and its établissements publics territoriaux.
    (
        "93066",
        "C2080",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C2085",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C5510",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C1505",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C1510",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C3500",
        Who::Siren(PLAINE_COMMUNE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C5500",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C2010",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "93066",
        "C5025",
        Who::Departement("93"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
    (
        "93066",
        "C5010",
        Who::Commune("93066"),
        "Code de l'éducation L212-4",
        "LEGAL_DEFAULT",
    ),
    (
        "93066",
        "C6000",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "93008",
        "C2080",
        Who::Siren(EST_ENSEMBLE),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "93008",
        "C2095",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "92012",
        "C2080",
        Who::Siren(SEINE_OUEST),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "92012",
        "C5510",
        Who::Siren(SEINE_OUEST),
        "CGCT L5219-5",
        "LEGAL_BASELINE",
    ),
    (
        "92012",
        "C2075",
        Who::Siren(GRAND_PARIS),
        "CGCT L5219-1",
        "LEGAL_BASELINE",
    ),
    (
        "92012",
        "C5025",
        Who::Departement("92"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
    (
        "92012",
        "C6010",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    // Métropole de Lyon: métropole and département competences on its communes.
    (
        "69123",
        "C5025",
        Who::Siren(LYON_METROPOLE),
        "Code de l'éducation L213-2; CGCT L3641-2",
        "LEGAL_DEFAULT",
    ),
    (
        "69123",
        "C3045",
        Who::Siren(LYON_METROPOLE),
        "Code de l'action sociale et des familles L263-1; CGCT L3641-2",
        "LEGAL_DEFAULT",
    ),
    (
        "69123",
        "C6075",
        Who::Siren(LYON_METROPOLE),
        "Code de la voirie routière L131-1; CGCT L3641-2",
        "LEGAL_DEFAULT",
    ),
    (
        "69123",
        "C2080",
        Who::Siren(LYON_METROPOLE),
        "CGCT L3641-1",
        "LEGAL_BASELINE",
    ),
    (
        "69123",
        "C5510",
        Who::Siren(LYON_METROPOLE),
        "CGCT L3641-1",
        "LEGAL_BASELINE",
    ),
    (
        "69123",
        "C5020",
        Who::Region("84"),
        "Code de l'éducation L214-6",
        "LEGAL_DEFAULT",
    ),
    (
        "69123",
        "C5010",
        Who::Commune("69123"),
        "Code de l'éducation L212-4",
        "LEGAL_DEFAULT",
    ),
    (
        "69381",
        "C5025",
        Who::Siren(LYON_METROPOLE),
        "Code de l'éducation L213-2; CGCT L3641-2",
        "LEGAL_DEFAULT",
    ),
    // The Rhône keeps the rest of 69.
    (
        "69264",
        "C5025",
        Who::Departement("69"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
    (
        "69264",
        "C3045",
        Who::Departement("69"),
        "Code de l'action sociale et des familles L263-1",
        "LEGAL_DEFAULT",
    ),
    // Collectivité européenne d'Alsace.
    (
        "67482",
        "C5025",
        Who::Named(CEA),
        "Code de l'éducation L213-2; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    (
        "67482",
        "C3060",
        Who::Named(CEA),
        "Code de l'action sociale et des familles L232-1; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    (
        "67482",
        "C6075",
        Who::Named(CEA),
        "Code de la voirie routière L131-1; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    (
        "67482",
        "C5020",
        Who::Region("44"),
        "Code de l'éducation L214-6",
        "LEGAL_DEFAULT",
    ),
    (
        "67482",
        "C2080",
        Who::Siren(STRASBOURG_EUROMETROPOLE),
        "CGCT L5217-2",
        "LEGAL_BASELINE",
    ),
    (
        "68224",
        "C5025",
        Who::Named(CEA),
        "Code de l'éducation L213-2; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    (
        "68224",
        "C3045",
        Who::Named(CEA),
        "Code de l'action sociale et des familles L263-1; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    (
        "68066",
        "C3040",
        Who::Named(CEA),
        "Code de l'action sociale et des familles L121-1; CGCT L3431-1",
        "LEGAL_DEFAULT",
    ),
    // Collectivité de Corse: département and région.
    (
        "2A004",
        "C5025",
        Who::Named(CORSE),
        "Code de l'éducation L213-2; CGCT L4421-1",
        "LEGAL_DEFAULT",
    ),
    (
        "2A004",
        "C5020",
        Who::Named(CORSE),
        "Code de l'éducation L214-6; CGCT L4421-1",
        "LEGAL_DEFAULT",
    ),
    (
        "2A004",
        "C4010",
        Who::Named(CORSE),
        "CGCT L4251-17; CGCT L4421-1",
        "LEGAL_DEFAULT",
    ),
    (
        "2B033",
        "C5025",
        Who::Named(CORSE),
        "Code de l'éducation L213-2; CGCT L4421-1",
        "LEGAL_DEFAULT",
    ),
    (
        "2B033",
        "C6010",
        Who::Named(CORSE),
        "Code des transports L3111-1; CGCT L4421-1",
        "LEGAL_DEFAULT",
    ),
    // Collectivités territoriales de Martinique and de Guyane.
    (
        "97209",
        "C5025",
        Who::Named(MARTINIQUE),
        "Code de l'éducation L213-2; CGCT L7211-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97209",
        "C5020",
        Who::Named(MARTINIQUE),
        "Code de l'éducation L214-6; CGCT L7211-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97209",
        "C3045",
        Who::Named(MARTINIQUE),
        "Code de l'action sociale et des familles L263-1; CGCT L7211-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97302",
        "C5025",
        Who::Named(GUYANE),
        "Code de l'éducation L213-2; CGCT L7111-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97302",
        "C5020",
        Who::Named(GUYANE),
        "Code de l'éducation L214-6; CGCT L7111-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97302",
        "C4010",
        Who::Named(GUYANE),
        "CGCT L4251-17; CGCT L7111-1",
        "LEGAL_DEFAULT",
    ),
    // Mayotte: the département exercises the région's competences.
    (
        "97611",
        "C5025",
        Who::Departement("976"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
    (
        "97611",
        "C5020",
        Who::Departement("976"),
        "Code de l'éducation L214-6; CGCT LO3511-1",
        "LEGAL_DEFAULT",
    ),
    (
        "97611",
        "C4010",
        Who::Departement("976"),
        "CGCT L4251-17; CGCT LO3511-1",
        "LEGAL_DEFAULT",
    ),
    // Mobility: CA, CU and métropoles are mobility authorities and organise school transport
    // in their area; elsewhere the région.
    (
        "35360",
        "C6005",
        Who::Siren(VITRE_COMMUNAUTE),
        "Code des transports L3111-7",
        "LEGAL_BASELINE",
    ),
    (
        "35360",
        "C6000",
        Who::Siren(VITRE_COMMUNAUTE),
        "CGCT L5216-5",
        "LEGAL_BASELINE",
    ),
    (
        "35360",
        "C6010",
        Who::Region("53"),
        "Code des transports L3111-1",
        "LEGAL_DEFAULT",
    ),
    (
        "35238",
        "C6005",
        Who::Siren(RENNES_METROPOLE),
        "Code des transports L3111-7",
        "LEGAL_BASELINE",
    ),
    (
        "35238",
        "C2080",
        Who::Siren(RENNES_METROPOLE),
        "CGCT L5217-2",
        "LEGAL_BASELINE",
    ),
    (
        "35238",
        "C5025",
        Who::Departement("35"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
    (
        "35238",
        "C5020",
        Who::Region("53"),
        "Code de l'éducation L214-6",
        "LEGAL_DEFAULT",
    ),
    (
        "35085",
        "C6005",
        Who::Region("53"),
        "Code des transports L3111-7",
        "LEGAL_DEFAULT",
    ),
    (
        "35085",
        "C6000",
        Who::Region("53"),
        "Code des transports L1231-1",
        "LEGAL_DEFAULT",
    ),
    (
        "35085",
        "C2080",
        Who::Siren(BRETAGNE_ROMANTIQUE),
        "CGCT L5214-16",
        "LEGAL_BASELINE",
    ),
    (
        "35085",
        "C5010",
        Who::Commune("35085"),
        "Code de l'éducation L212-4",
        "LEGAL_DEFAULT",
    ),
    (
        "35085",
        "C7000",
        Who::Siren(BRETAGNE_ROMANTIQUE),
        "CGCT L5214-16",
        "LEGAL_BASELINE",
    ),
    // Île-de-France: Île-de-France Mobilités, whatever the intercommunality.
    (
        "78646",
        "C6000",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "78646",
        "C6005",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "78646",
        "C6010",
        Who::Named(IDFM),
        "Code des transports L1241-1",
        "SPECIAL_STATUS",
    ),
    (
        "78646",
        "C2080",
        Who::Siren(VERSAILLES_GRAND_PARC),
        "CGCT L5216-5",
        "LEGAL_BASELINE",
    ),
    (
        "78646",
        "C5025",
        Who::Departement("78"),
        "Code de l'éducation L213-2",
        "LEGAL_DEFAULT",
    ),
];

const QUERY: &str = "query($code: String!, $c: String!, $at: Date) {
  responsibilities(inseeCode: $code, competence: $c, at: $at) {
    role layer source organisation { kind name siren inseeCode } } }";

/// Every case of the table, on three dates of the data's span: one holder, the one
/// expected, with the expected citation and layer; and implementing and paying go with
/// deciding (no other organisation implements or pays what the holder decides).
#[tokio::test]
async fn who_does_what_is_the_law_in_every_kind_of_territory() {
    assert!(CASES.len() >= 80, "{} cases", CASES.len());
    let app = TestApp::new().await;
    let mut wrong = Vec::new();
    for at in [
        date(0, 6, 1),
        "2022-01-01".to_owned(),
        "2025-03-15".to_owned(),
    ] {
        for &(code, competence, who, source, layer) in CASES {
            let data = app
                .query(QUERY, json!({ "code": code, "c": competence, "at": at }))
                .await;
            let items = data["responsibilities"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let holders: Vec<&Value> = items.iter().filter(|r| r["role"] == "HOLDER").collect();
            let right = holders.len() == 1
                && who.matches(&holders[0]["organisation"])
                && holders[0]["source"] == source
                && holders[0]["layer"] == layer
                && items.iter().all(|r| {
                    r["role"] == "HOLDER"
                        || r["organisation"] == holders[0]["organisation"]
                        || !matches!(r["role"].as_str(), Some("IMPLEMENTER" | "FINANCER"))
                });
            if !right {
                wrong.push(format!(
                    "{at} {code} {competence}: expected {who:?} ({source}, {layer}), got {items:?}"
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
            .any(|n| Who::Departement("69").matches(&n["organisation"]))
    );
    assert!(
        nodes
            .iter()
            .any(|n| Who::Siren(LYON_METROPOLE).matches(&n["organisation"]))
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
            .any(|n| Who::Siren(PLAINE_COMMUNE).matches(&n["organisation"]))
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
    assert!(
        Who::Departement("35").matches(&holder["organisation"]),
        "{data}"
    );

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
    assert!(Who::Siren(VITRE_COMMUNAUTE).matches(&holder[0]["organisation"]));
    // The département's presumed implementing and paying went with its holding.
    assert!(
        items
            .iter()
            .all(|r| !Who::Departement("35").matches(&r["organisation"])),
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
