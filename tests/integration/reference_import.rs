//! The national reference import: idempotent and atomic.

use api::reference::{self, Snapshot};
use entity::{change_event, membership, organisation};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{TestApp, token};

#[tokio::test]
async fn a_second_import_changes_nothing() {
    let app = TestApp::new().await;
    let orgs = organisation::Entity::find().count(&app.db).await.unwrap();
    let report = reference::import_shipped(&app.db, app.clock.now())
        .await
        .unwrap();
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
    assert!(
        reference::import(&app.db, &snapshot, app.clock.now())
            .await
            .is_err()
    );
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

/// Events after `from`, as a set of (organisation id, operation).
async fn events_after(
    app: &TestApp,
    from: Option<String>,
) -> std::collections::BTreeSet<(String, String)> {
    let state = token("miroir@dgcl.gouv.fr", None, &["state"]);
    let (_, r) = app
        .graphql_as(
            Some(&state),
            "query($a: String) { changes(after: $a, first: 100) { hasNextPage
               events { entityType entityId operation actorOrganisation { id } } } }",
            json!({ "a": from }),
        )
        .await;
    assert_eq!(r["data"]["changes"]["hasNextPage"], false, "{r:#}");
    r["data"]["changes"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["entityType"], "Organisation");
            assert!(e["actorOrganisation"].is_null(), "an import has no actor");
            let id = e["entityId"].as_str().unwrap().to_owned();
            (id, e["operation"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn imports_appear_in_the_change_feed() {
    let app = TestApp::new().await;
    // The first import created every organisation, one event each.
    let orgs = organisation::Entity::find().count(&app.db).await.unwrap();
    let created = change_event::Entity::find()
        .filter(change_event::Column::EntityType.eq("Organisation"))
        .filter(change_event::Column::Operation.eq("CREATED"))
        .filter(change_event::Column::ActorOrganisationId.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(created, orgs);
    assert!(orgs > 35_000);

    let original = Snapshot::decode(reference::snapshot::SHIPPED).unwrap();
    let mut next = original.clone();
    let at = |code: &str, kind: &str| {
        original
            .organisations
            .iter()
            .position(|o| {
                o.insee_code.as_deref() == Some(code)
                    && serde_json::to_value(o.kind).unwrap() == kind
            })
            .unwrap()
    };
    let (rennes, brest) = (at("35238", "COMMUNE"), at("29019", "COMMUNE"));
    let metropole = original
        .organisations
        .iter()
        .position(|o| o.siren.as_deref() == Some("243500139"))
        .unwrap();
    next.organisations[rennes].name = "Rennes (test)".into();
    next.organisations[brest].valid_to = chrono::NaiveDate::from_ymd_opt(2030, 1, 1);
    let link = next
        .memberships
        .iter()
        .position(|m| m.member == rennes && m.group == metropole && m.valid_to.is_none())
        .unwrap();
    next.memberships[link].valid_to = chrono::NaiveDate::from_ymd_opt(2030, 1, 1);
    let mut fixture = original.organisations[rennes].clone();
    fixture.key = "test-fixture".into();
    fixture.insee_code = None;
    fixture.siren = None;
    next.organisations.push(fixture);

    let gid = |code: &str, kind: &str| {
        let app = &app;
        let (code, kind) = (code.to_owned(), kind.to_owned());
        async move {
            app.query(
                "query($c: String, $k: OrganisationKind) { organisation(inseeCode: $c, kind: $k) { id } }",
                json!({ "c": code, "k": kind }),
            )
            .await["organisation"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (rennes_id, brest_id) = (gid("35238", "COMMUNE").await, gid("29019", "COMMUNE").await);
    let metropole_id = app
        .query("{ organisation(siren: \"243500139\") { id } }", json!({}))
        .await["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let start = crate::change_feed::head(&app).await;
    let report = reference::import(&app.db, &next, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.change_events, 4, "{report:?}");
    let fixture_row = organisation::Entity::find()
        .filter(organisation::Column::ReferenceKey.eq("test-fixture"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let events = events_after(&app, start.clone()).await;
    let ops: std::collections::BTreeMap<String, String> = events.iter().cloned().collect();
    assert_eq!(ops.len(), 4, "{events:?}");
    assert_eq!(ops[&rennes_id], "UPDATED");
    assert_eq!(ops[&metropole_id], "UPDATED", "its member's link changed");
    assert_eq!(ops[&brest_id], "ENDED");
    assert_eq!(
        ops.iter().filter(|(_, op)| *op == "CREATED").count(),
        1,
        "{events:?}"
    );

    // Back to the shipped data: the fixture is removed, the others change back.
    let middle = crate::change_feed::head(&app).await;
    reference::import(&app.db, &original, app.clock.now())
        .await
        .unwrap();
    let back: std::collections::BTreeMap<String, String> =
        events_after(&app, middle).await.into_iter().collect();
    assert_eq!(back.len(), 4, "{back:?}");
    assert_eq!(back[&rennes_id], "UPDATED");
    assert_eq!(back[&brest_id], "UPDATED");
    let created_id = ops
        .iter()
        .find(|(_, op)| *op == "CREATED")
        .map(|(id, _)| id.clone())
        .unwrap();
    assert_eq!(back[&created_id], "DELETED");
    assert!(
        organisation::Entity::find_by_id(fixture_row.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    // And an unchanged import writes nothing.
    let end = crate::change_feed::head(&app).await;
    let report = reference::import(&app.db, &original, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.change_events, 0);
    assert_eq!(crate::change_feed::head(&app).await, end);
}

/// The yearly import: a registry loaded from the vintages up to last year's takes this
/// year's vintage in one import, which a second import leaves as it is.
#[tokio::test]
async fn the_yearly_import_applies_the_next_vintage() {
    let app = TestApp::new().await;
    let full = Snapshot::decode(reference::snapshot::SHIPPED).unwrap();
    let last = *full.vintages.last().unwrap();
    assert_eq!(
        full.until(last).unwrap(),
        full,
        "up to the last vintage is all"
    );
    assert!(full.until(full.vintages[0] - 1).is_err());
    let year_before = full.until(last - 1).unwrap();
    assert_eq!(
        year_before.vintages,
        full.vintages[..full.vintages.len() - 1]
    );
    // A commune déléguée the last vintage no longer lists (taken from the data).
    let new_year = chrono::NaiveDate::from_ymd_opt(last, 1, 1);
    let ended = full
        .organisations
        .iter()
        .find(|o| o.kind == entity::OrganisationKind::CommuneDeleguee && o.valid_to == new_year)
        .unwrap();
    let asked_at = (new_year.unwrap() - chrono::Days::new(100)).to_string();
    let valid_to = || {
        let app = &app;
        let vars = json!({ "c": ended.insee_code, "at": asked_at });
        async move {
            app.query(
                "query($c: String, $at: Date) {
                   organisation(inseeCode: $c, kind: COMMUNE_DELEGUEE, at: $at) { name validTo } }",
                vars,
            )
            .await["organisation"]
                .clone()
        }
    };
    assert_eq!(valid_to().await["validTo"], new_year.unwrap().to_string());

    let back = reference::import(&app.db, &year_before, app.clock.now())
        .await
        .unwrap();
    assert!(back.organisations_updated > 0, "{back:?}");
    let before = valid_to().await;
    assert_eq!(before["name"], ended.name.as_str());
    assert!(before["validTo"].is_null(), "{before}");

    let yearly = reference::import(&app.db, &full, app.clock.now())
        .await
        .unwrap();
    assert!(
        yearly.organisations_updated > 0 && yearly.memberships_updated > 0,
        "{yearly:?}"
    );
    assert_eq!(valid_to().await["validTo"], new_year.unwrap().to_string());
    let again = reference::import(&app.db, &full, app.clock.now())
        .await
        .unwrap();
    assert!(again.is_unchanged(), "{again:?}");
}
