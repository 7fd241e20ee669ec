//! Bulk exports: whole datasets read page by page from one consistent snapshot, with the
//! change-feed position the snapshot was taken at, so a mirror can load the export and then
//! follow the feed without a gap.

use chrono::NaiveDate;
use entity::{assignment, assignment_scope, competence, membership, organisation};
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Value, json};

use super::feed::{self, Position};
use super::valid_at;
use crate::error::AppResult;

/// Rows read per page: memory stays flat whatever the dataset's size.
pub const PAGE: u64 = 1000;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// Organisations valid at the date.
    Organisations,
    /// Memberships valid at the date.
    Memberships,
    /// The competence catalogue.
    Competences,
    /// Declared assignments valid at the date.
    Assignments,
}

impl Dataset {
    /// The dataset a file name names (`organisations`…).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "organisations" => Some(Self::Organisations),
            "memberships" => Some(Self::Memberships),
            "competences" => Some(Self::Competences),
            "assignments" => Some(Self::Assignments),
            _ => None,
        }
    }

    /// Column names, as the GraphQL fields are named.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Organisations => &[
                "id",
                "kind",
                "name",
                "inseeCode",
                "siren",
                "population",
                "departementCode",
                "regionCode",
                "validFrom",
                "validTo",
            ],
            Self::Memberships => &["member", "group", "kind", "validFrom", "validTo"],
            Self::Competences => &["code", "label", "category", "nomenclature"],
            Self::Assignments => &[
                "id",
                "organisation",
                "competenceCode",
                "role",
                "basis",
                "wholeTerritory",
                "scope",
                "validFrom",
                "validTo",
                "legalReference",
            ],
        }
    }
}

/// A value that names another object: the HTTP layer turns it into a global ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// An organisation.
    Organisation(i64),
    /// An assignment.
    Assignment(i64),
}

/// One exported field.
#[derive(Debug, Clone)]
pub enum Field {
    /// A plain value.
    Value(Value),
    /// A reference to an object.
    Ref(Ref),
    /// References to organisations (an assignment's scope).
    Refs(Vec<i64>),
}

/// One exported row, in [`Dataset::columns`] order.
pub type Row = Vec<Field>;

/// An open snapshot: a read-only transaction and the feed position it was taken at.
pub struct Snapshot {
    txn: DatabaseTransaction,
    /// Resume the feed from here after loading the export.
    pub cursor: Option<Position>,
}

/// Opens a snapshot (repeatable read on PostgreSQL; SQLite's read transactions are).
pub async fn open(db: &DatabaseConnection) -> AppResult<Snapshot> {
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let cursor = feed::head_in(&txn).await?;
    Ok(Snapshot { txn, cursor })
}

fn v<T: serde::Serialize>(x: T) -> Field {
    Field::Value(json!(x))
}

impl Snapshot {
    /// The next page of `dataset` at `at` after row key `after` (0 to start): rows and the
    /// key to continue from; an empty page is the end.
    pub async fn page(
        &self,
        dataset: Dataset,
        at: NaiveDate,
        after: i64,
    ) -> AppResult<(Vec<Row>, i64)> {
        let txn = &self.txn;
        Ok(match dataset {
            Dataset::Organisations => {
                let rows = organisation::Entity::find()
                    .filter(organisation::Column::Id.gt(after))
                    .filter(valid_at(
                        organisation::Column::ValidFrom,
                        organisation::Column::ValidTo,
                        at,
                    ))
                    .order_by_asc(organisation::Column::Id)
                    .limit(PAGE)
                    .all(txn)
                    .await?;
                let last = rows.last().map_or(after, |o| o.id);
                let out = rows
                    .into_iter()
                    .map(|o| {
                        vec![
                            Field::Ref(Ref::Organisation(o.id)),
                            v(o.kind),
                            v(o.name),
                            v(o.insee_code),
                            v(o.siren),
                            v(o.population),
                            v(o.departement_code),
                            v(o.region_code),
                            v(o.valid_from),
                            v(o.valid_to),
                        ]
                    })
                    .collect();
                (out, last)
            }
            Dataset::Memberships => {
                let rows = membership::Entity::find()
                    .filter(membership::Column::Id.gt(after))
                    .filter(valid_at(
                        membership::Column::ValidFrom,
                        membership::Column::ValidTo,
                        at,
                    ))
                    .order_by_asc(membership::Column::Id)
                    .limit(PAGE)
                    .all(txn)
                    .await?;
                let last = rows.last().map_or(after, |m| m.id);
                let out = rows
                    .into_iter()
                    .map(|m| {
                        vec![
                            Field::Ref(Ref::Organisation(m.member_id)),
                            Field::Ref(Ref::Organisation(m.group_id)),
                            v(m.kind),
                            v(m.valid_from),
                            v(m.valid_to),
                        ]
                    })
                    .collect();
                (out, last)
            }
            Dataset::Competences => {
                let rows = competence::Entity::find()
                    // The key is the position plus one, so that 0 starts before the first.
                    .filter(competence::Column::Position.gte(after as i32))
                    .order_by_asc(competence::Column::Position)
                    .limit(PAGE)
                    .all(txn)
                    .await?;
                let last = rows.last().map_or(after, |c| i64::from(c.position) + 1);
                let out = rows
                    .into_iter()
                    .map(|c| vec![v(c.code), v(c.label), v(c.category), v(c.nomenclature)])
                    .collect();
                (out, last)
            }
            Dataset::Assignments => {
                let rows = assignment::Entity::find()
                    .filter(assignment::Column::Id.gt(after))
                    .filter(valid_at(
                        assignment::Column::ValidFrom,
                        assignment::Column::ValidTo,
                        at,
                    ))
                    .order_by_asc(assignment::Column::Id)
                    .limit(PAGE)
                    .all(txn)
                    .await?;
                let last = rows.last().map_or(after, |a| a.id);
                let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
                let scopes: Vec<(i64, i64)> = assignment_scope::Entity::find()
                    .select_only()
                    .column(assignment_scope::Column::AssignmentId)
                    .column(assignment_scope::Column::CommuneId)
                    .filter(assignment_scope::Column::AssignmentId.is_in(ids))
                    .into_tuple()
                    .all(txn)
                    .await?;
                let out = rows
                    .into_iter()
                    .map(|a| {
                        let scope = scopes
                            .iter()
                            .filter(|(id, _)| *id == a.id)
                            .map(|(_, c)| *c)
                            .collect();
                        vec![
                            Field::Ref(Ref::Assignment(a.id)),
                            Field::Ref(Ref::Organisation(a.organisation_id)),
                            v(a.competence_code),
                            v(a.role),
                            v(a.basis),
                            v(a.whole_territory),
                            Field::Refs(scope),
                            v(a.valid_from),
                            v(a.valid_to),
                            v(a.legal_reference),
                        ]
                    })
                    .collect();
                (out, last)
            }
        })
    }

    /// Ends the snapshot.
    pub async fn close(self) {
        let _ = self.txn.rollback().await;
    }
}
