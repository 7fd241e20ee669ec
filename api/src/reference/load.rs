//! Applies a snapshot to the database as a diff, in one transaction: a second run with the
//! same snapshot changes nothing, and a failed run leaves the previous data intact.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{membership, organisation, reference_dataset, succession};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Iterable,
    QueryFilter, QuerySelect,
};

use super::events::{self, Touched};
use super::snapshot::Snapshot;
use crate::domain::text::fold;

/// Source label of national reference facts.
pub const SOURCE: &str = "COG";
/// Rows per multi-row INSERT (well under SQLite's and PostgreSQL's bind limits).
pub(super) const CHUNK: usize = 1000;

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Organisations inserted.
    pub organisations_inserted: usize,
    /// Organisations updated.
    pub organisations_updated: usize,
    /// Organisations deleted.
    pub organisations_deleted: usize,
    /// Memberships inserted.
    pub memberships_inserted: usize,
    /// Memberships updated.
    pub memberships_updated: usize,
    /// Memberships deleted.
    pub memberships_deleted: usize,
    /// Successions inserted.
    pub successions_inserted: usize,
    /// Successions deleted.
    pub successions_deleted: usize,
    /// Change events written (one per organisation touched).
    pub change_events: usize,
}

impl ImportReport {
    /// Whether the import changed anything.
    pub fn is_unchanged(&self) -> bool {
        *self == Self::default()
    }
}

fn vintages_text(v: &[i32]) -> String {
    v.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Applies `snapshot` (whose content digest is `digest`).
pub async fn apply(
    db: &DatabaseConnection,
    snapshot: &Snapshot,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<ImportReport, DbErr> {
    let txn = crate::domain::begin_write(db).await?;
    let mut report = ImportReport::default();
    let mut touched = Touched::default();
    let ids = apply_organisations(&txn, snapshot, &mut report, &mut touched, now).await?;
    apply_memberships(&txn, snapshot, &ids, &mut report, &mut touched).await?;
    apply_successions(&txn, snapshot, &ids, &mut report, &mut touched).await?;
    delete_stale_organisations(&txn, snapshot, &mut report, &mut touched).await?;
    report.change_events = events::record(&txn, &touched, now).await?;

    let previous = reference_dataset::Entity::find_by_id("cog")
        .one(&txn)
        .await?;
    if !report.is_unchanged() || previous.is_none_or(|p| p.digest != digest) {
        reference_dataset::Entity::insert(reference_dataset::ActiveModel {
            name: Set("cog".into()),
            digest: Set(digest.into()),
            vintages: Set(vintages_text(&snapshot.vintages)),
            loaded_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(reference_dataset::Column::Name)
                .update_columns([
                    reference_dataset::Column::Digest,
                    reference_dataset::Column::Vintages,
                    reference_dataset::Column::LoadedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    if !report.is_unchanged() {
        // A bulk load leaves the planner without statistics: PostgreSQL would plan range
        // scans and joins blind until autovacuum came by.
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(report)
}

/// The reference columns of an organisation, as compared between snapshot and database.
type OrgFacts = (
    entity::OrganisationKind,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn facts_of_model(m: &organisation::Model) -> OrgFacts {
    (
        m.kind,
        m.name.clone(),
        m.insee_code.clone(),
        m.siren.clone(),
        m.population,
        m.valid_from,
        m.valid_to,
        m.departement_code.clone(),
        m.region_code.clone(),
        m.vintages.clone(),
        m.postal_codes.clone(),
    )
}

async fn apply_organisations(
    txn: &DatabaseTransaction,
    snapshot: &Snapshot,
    report: &mut ImportReport,
    touched: &mut Touched,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    let existing: HashMap<String, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Source.eq(SOURCE))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|m| m.reference_key.clone().map(|k| (k, m)))
        .collect();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut inserted_keys = Vec::new();
    for rec in &snapshot.organisations {
        let facts: OrgFacts = (
            rec.kind,
            rec.name.clone(),
            rec.insee_code.clone(),
            rec.siren.clone(),
            rec.population,
            rec.valid_from,
            rec.valid_to,
            rec.departement.clone(),
            rec.region.clone(),
            Some(vintages_text(&rec.vintages)),
            (!rec.postal_codes.is_empty()).then(|| rec.postal_codes.join(" ")),
        );
        let active = organisation::ActiveModel {
            kind: Set(rec.kind),
            name: Set(rec.name.clone()),
            search_name: Set(fold(&rec.name)),
            insee_code: Set(rec.insee_code.clone()),
            siren: Set(rec.siren.clone()),
            population: Set(rec.population),
            valid_from: Set(rec.valid_from),
            valid_to: Set(rec.valid_to),
            departement_code: Set(rec.departement.clone()),
            region_code: Set(rec.region.clone()),
            vintages: Set(facts.9.clone()),
            postal_codes: Set(facts.10.clone()),
            updated_at: Set(now),
            ..Default::default()
        };
        match existing.get(&rec.key) {
            None => inserts.push({
                inserted_keys.push(rec.key.as_str());
                organisation::ActiveModel {
                    source: Set(SOURCE.into()),
                    reference_key: Set(Some(rec.key.clone())),
                    territory_id: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    ..active
                }
            }),
            Some(m) if facts_of_model(m) != facts => {
                // Every column set: the rows go back as one multi-row upsert.
                updates.push(over(
                    organisation::ActiveModel {
                        id: Set(m.id),
                        version: Set(m.version + 1),
                        ..active
                    },
                    m,
                ));
                report.organisations_updated += 1;
                touched.updated.insert(m.id);
                if m.valid_to.is_none() && rec.valid_to.is_some() {
                    touched.ended.insert(m.id);
                }
            }
            Some(_) => {}
        }
    }
    report.organisations_inserted = inserts.len();
    for chunk in chunked(inserts) {
        organisation::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    // A new vintage touches most rows (each records the vintages that observed it): one
    // statement per thousand rows keeps the import's write transaction short.
    for chunk in chunked(updates) {
        organisation::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(organisation::Column::Id)
                    .update_columns(ORGANISATION_FACTS)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }

    let ids_by_key: HashMap<String, (i64, Option<i64>)> = organisation::Entity::find()
        .select_only()
        .columns([
            organisation::Column::ReferenceKey,
            organisation::Column::Id,
            organisation::Column::TerritoryId,
        ])
        .filter(organisation::Column::Source.eq(SOURCE))
        .into_tuple::<(Option<String>, i64, Option<i64>)>()
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|(k, id, t)| k.map(|k| (k, (id, t))))
        .collect();
    touched.created.extend(
        inserted_keys
            .iter()
            .filter_map(|k| ids_by_key.get(*k).map(|(id, _)| *id)),
    );
    let mut ids = Vec::with_capacity(snapshot.organisations.len());
    for rec in &snapshot.organisations {
        let (id, _) = ids_by_key
            .get(&rec.key)
            .copied()
            .ok_or_else(|| DbErr::RecordNotFound(rec.key.clone()))?;
        ids.push(id);
    }
    for (i, rec) in snapshot.organisations.iter().enumerate() {
        let wanted = rec.territory.map(|t| ids[t]);
        let current = ids_by_key.get(&rec.key).and_then(|(_, t)| *t);
        if wanted != current {
            organisation::Entity::update_many()
                .col_expr(organisation::Column::TerritoryId, wanted.into())
                .filter(organisation::Column::Id.eq(ids[i]))
                .exec(txn)
                .await?;
            touched.updated.insert(ids[i]);
        }
    }
    Ok(ids)
}

async fn apply_memberships(
    txn: &DatabaseTransaction,
    snapshot: &Snapshot,
    ids: &[i64],
    report: &mut ImportReport,
    touched: &mut Touched,
) -> Result<(), DbErr> {
    let existing: HashMap<String, membership::Model> = membership::Entity::find()
        .filter(membership::Column::Source.eq(SOURCE))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|m| m.reference_key.clone().map(|k| (k, m)))
        .collect();
    let orgs = &snapshot.organisations;
    let mut seen = HashSet::with_capacity(snapshot.memberships.len());
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for rec in &snapshot.memberships {
        let key = format!(
            "{}>{}:{}:{}",
            orgs[rec.member].key,
            orgs[rec.group].key,
            kind_name(&rec.kind),
            rec.valid_from
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
        );
        let vintages = Some(vintages_text(&rec.vintages));
        let wanted = (
            ids[rec.member],
            ids[rec.group],
            rec.kind,
            rec.valid_from,
            rec.valid_to,
            vintages.clone(),
        );
        match existing.get(&key) {
            None => inserts.push({
                touched.updated.extend([ids[rec.member], ids[rec.group]]);
                membership::ActiveModel {
                    member_id: Set(ids[rec.member]),
                    group_id: Set(ids[rec.group]),
                    kind: Set(rec.kind),
                    valid_from: Set(rec.valid_from),
                    valid_to: Set(rec.valid_to),
                    source: Set(SOURCE.into()),
                    vintages: Set(vintages),
                    reference_key: Set(Some(key.clone())),
                    ..Default::default()
                }
            }),
            Some(m)
                if (
                    m.member_id,
                    m.group_id,
                    m.kind,
                    m.valid_from,
                    m.valid_to,
                    m.vintages.clone(),
                ) != wanted =>
            {
                updates.push(membership::ActiveModel {
                    id: Set(m.id),
                    member_id: Set(wanted.0),
                    group_id: Set(wanted.1),
                    kind: Set(m.kind),
                    valid_from: Set(m.valid_from),
                    valid_to: Set(wanted.4),
                    source: Set(m.source.clone()),
                    vintages: Set(wanted.5),
                    reference_key: Set(m.reference_key.clone()),
                });
                report.memberships_updated += 1;
                touched
                    .updated
                    .extend([m.member_id, m.group_id, wanted.0, wanted.1]);
            }
            Some(_) => {}
        }
        seen.insert(key);
    }
    report.memberships_inserted = inserts.len();
    for chunk in chunked(inserts) {
        membership::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in chunked(updates) {
        membership::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(membership::Column::Id)
                    .update_columns([
                        membership::Column::MemberId,
                        membership::Column::GroupId,
                        membership::Column::ValidTo,
                        membership::Column::Vintages,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let stale: Vec<i64> = existing
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .map(|(_, m)| {
            touched.updated.extend([m.member_id, m.group_id]);
            m.id
        })
        .collect();
    report.memberships_deleted = stale.len();
    for chunk in stale.chunks(CHUNK) {
        membership::Entity::delete_many()
            .filter(membership::Column::Id.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn apply_successions(
    txn: &DatabaseTransaction,
    snapshot: &Snapshot,
    ids: &[i64],
    report: &mut ImportReport,
    touched: &mut Touched,
) -> Result<(), DbErr> {
    let existing: HashMap<String, succession::Model> = succession::Entity::find()
        .filter(succession::Column::Source.eq(SOURCE))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|m| m.reference_key.clone().map(|k| (k, m)))
        .collect();
    let orgs = &snapshot.organisations;
    let mut seen = HashSet::new();
    let mut inserts = Vec::new();
    for rec in &snapshot.successions {
        let key = format!(
            "{}>{}:{}:{}",
            orgs[rec.predecessor].key,
            orgs[rec.successor].key,
            kind_name(&rec.kind),
            rec.date
        );
        if !existing.contains_key(&key) {
            touched
                .updated
                .extend([ids[rec.predecessor], ids[rec.successor]]);
            inserts.push(succession::ActiveModel {
                predecessor_id: Set(ids[rec.predecessor]),
                successor_id: Set(ids[rec.successor]),
                date: Set(rec.date),
                kind: Set(rec.kind),
                source: Set(SOURCE.into()),
                reference_key: Set(Some(key.clone())),
                ..Default::default()
            });
        }
        seen.insert(key);
    }
    report.successions_inserted = inserts.len();
    for chunk in chunked(inserts) {
        succession::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    let stale: Vec<i64> = existing
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .map(|(_, m)| {
            touched.updated.extend([m.predecessor_id, m.successor_id]);
            m.id
        })
        .collect();
    report.successions_deleted = stale.len();
    if !stale.is_empty() {
        succession::Entity::delete_many()
            .filter(succession::Column::Id.is_in(stale))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Removes reference organisations that the snapshot no longer has (after their reference
/// memberships and successions went with the diff above).
async fn delete_stale_organisations(
    txn: &DatabaseTransaction,
    snapshot: &Snapshot,
    report: &mut ImportReport,
    touched: &mut Touched,
) -> Result<(), DbErr> {
    let keys: HashSet<&str> = snapshot
        .organisations
        .iter()
        .map(|o| o.key.as_str())
        .collect();
    let stale: Vec<i64> = organisation::Entity::find()
        .select_only()
        .columns([organisation::Column::ReferenceKey, organisation::Column::Id])
        .filter(organisation::Column::Source.eq(SOURCE))
        .into_tuple::<(Option<String>, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .filter(|(k, _)| k.as_deref().is_some_and(|k| !keys.contains(k)))
        .map(|(_, id)| id)
        .collect();
    report.organisations_deleted = stale.len();
    touched.deleted.extend(stale.iter().copied());
    if !stale.is_empty() {
        organisation::Entity::delete_many()
            .filter(organisation::Column::Id.is_in(stale))
            .exec(txn)
            .await?;
    }
    Ok(())
}

fn kind_name<T: serde::Serialize>(kind: &T) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The changes of `changes` over the row `current`, every column set: what a multi-row upsert
/// writes back.
fn over(
    changes: organisation::ActiveModel,
    current: &organisation::Model,
) -> organisation::ActiveModel {
    let mut full = current.clone().into_active_model().reset_all();
    for c in organisation::Column::iter() {
        if let ActiveValue::Set(v) = changes.get(c) {
            full.set(c, v);
        }
    }
    full
}

/// The columns a reference import maintains on an organisation.
const ORGANISATION_FACTS: [organisation::Column; 14] = [
    organisation::Column::Kind,
    organisation::Column::Name,
    organisation::Column::SearchName,
    organisation::Column::InseeCode,
    organisation::Column::Siren,
    organisation::Column::Population,
    organisation::Column::ValidFrom,
    organisation::Column::ValidTo,
    organisation::Column::DepartementCode,
    organisation::Column::RegionCode,
    organisation::Column::Vintages,
    organisation::Column::PostalCodes,
    organisation::Column::UpdatedAt,
    organisation::Column::Version,
];

fn chunked<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(CHUNK).collect());
    }
    out
}
