//! The bulk import of declared competences (`maillage import-competences`): rows checked as
//! `declareCompetence` checks them, all written or none, a second import of the same file
//! harmless, a dry run writing nothing.

use api::auth::{Actor, Role};
use api::domain::audit::WriteContext;
use api::domain::competences::bulk::{self, ImportError, Report, RowError};
use entity::{audit_record, change_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{TestApp, date};
use crate::competence_changes::{rows, who};

const RENNES: &str = "213502388";
const METRO: &str = "243500139";

const HEADER: &str = "siren,competence,role,basis,valid_from,valid_to,source,scope";

/// The reference administrator's write context, as the command builds it.
fn operator(app: &TestApp) -> WriteContext {
    WriteContext {
        now: app.clock.now(),
        actor: Actor {
            subject: Some("maillage:import-competences".into()),
            roles: [Role::Superadmin].into(),
            ..Actor::default()
        },
        request_id: "import-test".into(),
        feed: None,
        gate: None,
    }
}

async fn import(app: &TestApp, file: &str, dry_run: bool) -> Result<Report, ImportError> {
    let rows = bulk::parse(file.as_bytes())?;
    bulk::import(
        &app.db,
        &app.state.catalogue,
        &operator(app),
        &rows,
        dry_run,
    )
    .await
}

fn refused(outcome: Result<Report, ImportError>) -> Vec<RowError> {
    match outcome {
        Err(ImportError::Refused(rows)) => rows,
        other => panic!("expected refused rows, got {other:?}"),
    }
}

/// Rennes Métropole's statutes, as a préfecture's extract gives them: a competence it took
/// from its communes, one it carries out, one for two of its communes only.
fn statutes() -> String {
    let from = date(1, 1, 1);
    format!(
        "{HEADER}\n\
         {METRO},C3035,HOLDER,STATUTES,{from},,Arrêté préfectoral (statuts de Rennes Métropole),\n\
         {METRO},C1030,implementer,Statutes,{from},,,\n\
         {METRO},C5050,HOLDER,STATUTES,{from},,Arrêté préfectoral,35238;35051\n"
    )
}

#[tokio::test]
async fn an_extract_is_declared_as_the_api_declares_and_a_second_import_changes_nothing() {
    let app = TestApp::new().await;
    let before = rows(&app).await;
    let at = date(1, 6, 1);
    assert_eq!(
        who(&app, "35238", "C3035", &at, "HOLDER").await[0].0,
        RENNES
    );

    let dry = import(&app, &statutes(), true).await.unwrap();
    assert_eq!((dry.rows, dry.declared, dry.dry_run), (3, 3, true));
    assert_eq!(rows(&app).await, before, "a dry run writes nothing");

    let report = import(&app, &statutes(), false).await.unwrap();
    assert_eq!((report.declared, report.already_declared), (3, 0));
    let after = rows(&app).await;
    assert_eq!(after.0, before.0 + 3);
    let audited = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("importCompetences"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 3);
    // Each declaration is an event of the change feed, as one made through the API.
    let events = change_event::Entity::find()
        .filter(change_event::Column::EntityType.eq("Assignment"))
        .filter(change_event::Column::Operation.eq("CREATED"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 3);

    // The answers follow on the effective date, citing the extract's reference; not before.
    let data = app
        .query(
            "query($at: Date) { responsibilities(inseeCode: \"35051\", competence: \"C3035\", at: $at) {
               role layer basis source organisation { siren } } }",
            json!({ "at": at }),
        )
        .await;
    let holder = data["responsibilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "HOLDER")
        .unwrap()
        .clone();
    assert_eq!(holder["organisation"]["siren"], METRO);
    assert_eq!(holder["layer"], "DECLARED");
    assert_eq!(holder["basis"], "STATUTES");
    assert_eq!(
        holder["source"],
        "Arrêté préfectoral (statuts de Rennes Métropole)"
    );
    assert_eq!(
        who(&app, "35238", "C3035", &date(0, 12, 31), "HOLDER").await[0].0,
        RENNES
    );
    assert_eq!(
        who(&app, "35238", "C1030", &at, "IMPLEMENTER").await[0].0,
        METRO
    );
    // The scoped row covers its two communes, not their neighbours.
    assert_eq!(who(&app, "35051", "C5050", &at, "HOLDER").await[0].0, METRO);
    let bruz = who(&app, "35047", "C5050", &at, "HOLDER").await;
    assert!(bruz.iter().all(|h| h.0 != METRO), "{bruz:?}");

    let again = import(&app, &statutes(), false).await.unwrap();
    assert_eq!((again.declared, again.already_declared), (0, 3));
    assert_eq!(
        rows(&app).await,
        after,
        "the same file twice changes nothing"
    );
}

#[tokio::test]
async fn one_refused_row_writes_nothing_and_every_refusal_is_reported() {
    let app = TestApp::new().await;
    let before = rows(&app).await;
    let (from, earlier) = (date(1, 1, 1), date(0, 1, 1));
    let file = format!(
        "{HEADER}\n\
         {METRO},C3035,HOLDER,STATUTES,{from},,Arrêté préfectoral,\n\
         123,C3035,HOLDER,STATUTES,{from},,,\n\
         000000000,C3035,HOLDER,STATUTES,{from},,,\n\
         {METRO},C9999,HOLDER,STATUTES,{from},,,\n\
         {METRO},C5025,HOLDER,STATUTES,{from},,,\n\
         {METRO},C1030,HOLDER,TRANSFER,{from},,,\n\
         {METRO},C1030,HOLDER,STATUTES,{from},{earlier},,\n\
         {METRO},C5050,HOLDER,STATUTES,{from},,,35238;29019\n\
         {RENNES},C3035,HOLDER,STATUTES,{from},,,\n"
    );
    let refusals = refused(import(&app, &file, false).await);
    let seen: Vec<(u64, &str, Option<&str>)> = refusals
        .iter()
        .map(|r| (r.line, r.code, r.column.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (3, "BAD_USER_INPUT", Some("siren")),
            (4, "BAD_USER_INPUT", Some("siren")),
            (5, "BAD_USER_INPUT", Some("competence")),
            (6, "BAD_USER_INPUT", Some("basis")),
            (7, "BAD_USER_INPUT", Some("basis")),
            (8, "BAD_USER_INPUT", Some("valid_to")),
            (9, "BAD_USER_INPUT", Some("scope")),
            // Rennes cannot hold what its métropole took two lines earlier.
            (10, "CONFLICT", None),
        ],
        "{refusals:#?}"
    );
    assert!(
        refusals[3].message.contains("Code de l'éducation L213-2"),
        "{}",
        refusals[3].message
    );
    assert_eq!(rows(&app).await, before, "nothing written, not even line 2");
    assert_eq!(
        who(&app, "35238", "C3035", &date(1, 6, 1), "HOLDER").await[0].0,
        RENNES
    );
}

#[tokio::test]
async fn malformed_rows_are_reported_with_their_line_before_anything_is_read() {
    let file = format!(
        "{HEADER}\n\
         {METRO},C3035,OWNER,STATUTES,2027-01-01,,,\n\
         {METRO},C3035,HOLDER,STATUTES,2027-13-01,,,\n\
         {METRO},C3035,HOLDER\n"
    );
    let refusals = match bulk::parse(file.as_bytes()) {
        Err(ImportError::Refused(rows)) => rows,
        other => panic!("expected refused rows, got {other:?}"),
    };
    let seen: Vec<(u64, Option<&str>)> = refusals
        .iter()
        .map(|r| (r.line, r.column.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (2, Some("role")),
            (3, Some("valid_from")),
            (4, Some("file"))
        ]
    );
}
