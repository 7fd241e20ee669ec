//! The national reference import: idempotent and atomic.

use api::reference::{self, Snapshot};
use entity::{membership, organisation};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::common::TestApp;

#[tokio::test]
async fn a_second_import_changes_nothing() {
    let app = TestApp::new().await;
    let orgs = organisation::Entity::find().count(&app.db).await.unwrap();
    let report = reference::import_shipped(&app.db).await.unwrap();
    assert!(report.is_unchanged(), "{report:?}");
    assert_eq!(
        organisation::Entity::find().count(&app.db).await.unwrap(),
        orgs
    );
}

#[tokio::test]
async fn a_failed_import_leaves_the_previous_data_intact() {
    let app = TestApp::new().await;
    let mut snapshot = Snapshot::decode(reference::snapshot::SHIPPED).unwrap();
    let renamed = snapshot
        .organisations
        .iter()
        .position(|o| o.insee_code.as_deref() == Some("35238"))
        .unwrap();
    snapshot.organisations[renamed].name = "Not Rennes".into();
    // The same new membership twice breaks a unique key half-way through the import.
    let mut dup = snapshot.memberships[0].clone();
    dup.valid_from = chrono::NaiveDate::from_ymd_opt(2023, 6, 1);
    snapshot.memberships.push(dup.clone());
    snapshot.memberships.push(dup);
    let memberships = membership::Entity::find().count(&app.db).await.unwrap();
    assert!(reference::import(&app.db, &snapshot).await.is_err());
    let data = app
        .query(
            "{ organisation(inseeCode: \"35238\") { name } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(data["organisation"]["name"], "Rennes");
    assert_eq!(
        membership::Entity::find().count(&app.db).await.unwrap(),
        memberships
    );
}

#[test]
fn the_shipped_snapshot_is_consistent() {
    let snapshot = Snapshot::decode(reference::snapshot::SHIPPED).unwrap();
    assert_eq!(snapshot.vintages, vec![2022, 2023, 2024, 2025, 2026]);
    let current = |kind: entity::OrganisationKind| {
        snapshot
            .organisations
            .iter()
            .filter(|o| o.kind == kind && o.valid_to.is_none())
            .count()
    };
    assert_eq!(current(entity::OrganisationKind::Commune), 34_969);
    assert_eq!(current(entity::OrganisationKind::Departement), 101);
    assert_eq!(current(entity::OrganisationKind::Region), 18);
}
