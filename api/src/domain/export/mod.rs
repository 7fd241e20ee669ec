//! Bulk exports: whole datasets read page by page from one consistent snapshot, with the
//! change-feed position the snapshot was taken at, so a mirror can load the export and then
//! follow the feed without a gap.

mod mutualisation;
mod projects;
mod registry;

use chrono::NaiveDate;
use entity::PartyRole;
use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel,
    TransactionTrait,
};
use serde_json::{Value, json};

use super::feed::{self, Position};
use crate::auth::Actor;
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
    /// Shared resources the caller may see, as they are now.
    Resources,
    /// Agreements the caller may see, with their status at the date.
    Agreements,
    /// Indicators of the territorial projects the caller may see.
    Indicators,
    /// Measurements of those indicators, as they stood at the end of the date.
    Measurements,
}

impl Dataset {
    /// Whether its rows are facts valid at a date (none before the data begins).
    pub fn is_dated(self) -> bool {
        matches!(
            self,
            Self::Organisations | Self::Memberships | Self::Assignments
        )
    }

    /// The dataset a file name names (`organisations`…).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "organisations" => Some(Self::Organisations),
            "memberships" => Some(Self::Memberships),
            "competences" => Some(Self::Competences),
            "assignments" => Some(Self::Assignments),
            "resources" => Some(Self::Resources),
            "agreements" => Some(Self::Agreements),
            "indicators" => Some(Self::Indicators),
            "measurements" => Some(Self::Measurements),
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
            Self::Memberships => &[
                "member",
                "memberInseeCode",
                "memberSiren",
                "group",
                "groupInseeCode",
                "groupSiren",
                "kind",
                "validFrom",
                "validTo",
            ],
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
            Self::Resources => &[
                "id",
                "owner",
                "kind",
                "name",
                "description",
                "capacity",
                "unit",
                "location",
                "costModel",
                "costAmount",
                "conditions",
                "visibility",
                "status",
                "bookingPolicy",
            ],
            Self::Agreements => &[
                "id",
                "kind",
                "title",
                "legalBasis",
                "status",
                "draftedBy",
                "parties",
                "validFrom",
                "validTo",
                "directBooking",
                "resources",
                "competences",
            ],
            Self::Indicators => &[
                "id",
                "project",
                "name",
                "unit",
                "direction",
                "periodicity",
                "aggregation",
                "method",
                "source",
                "responsible",
                "baselineValue",
                "baselinePeriod",
            ],
            Self::Measurements => &[
                "id",
                "indicator",
                "commune",
                "period",
                "value",
                "responses",
                "distribution",
                "source",
                "comment",
                "recordedBy",
                "recordedAt",
                "corrects",
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
    /// A resource.
    Resource(i64),
    /// An agreement.
    Agreement(i64),
    /// A territorial project.
    TerritorialProject(i64),
    /// An indicator.
    Indicator(i64),
    /// A measurement.
    Measurement(i64),
}

/// One exported field.
#[derive(Debug, Clone)]
pub enum Field {
    /// A plain value.
    Value(Value),
    /// A reference to an object.
    Ref(Ref),
    /// References to objects (an assignment's scope, an agreement's resources).
    Refs(Vec<Ref>),
    /// The parties of an agreement and their roles.
    Parties(Vec<(i64, PartyRole)>),
    /// Plain texts (an agreement's competence codes).
    Texts(Vec<String>),
}

/// One exported row, in [`Dataset::columns`] order.
pub type Row = Vec<Field>;

/// A page of rows and the key to continue after.
pub type Page = (Vec<Row>, i64);

/// An open snapshot: a read-only transaction and the feed position it was taken at.
pub struct Snapshot {
    txn: DatabaseTransaction,
    /// Resume the feed from here after loading the export.
    pub cursor: Option<Position>,
    /// Who reads it: what they may see is what is exported.
    actor: Actor,
}

/// Opens a snapshot for `actor` (repeatable read on PostgreSQL; SQLite's read transactions
/// are).
pub async fn open(db: &DatabaseConnection, actor: Actor) -> AppResult<Snapshot> {
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
    Ok(Snapshot { txn, cursor, actor })
}

pub(super) fn v<T: serde::Serialize>(x: T) -> Field {
    Field::Value(json!(x))
}

impl Snapshot {
    /// The next page of `dataset` at `at` after row key `after` (0 to start): rows and the
    /// key to continue from; an empty page is the end.
    pub async fn page(&self, dataset: Dataset, at: NaiveDate, after: i64) -> AppResult<Page> {
        let txn = &self.txn;
        match dataset {
            Dataset::Organisations => registry::organisations(txn, at, after).await,
            Dataset::Memberships => registry::memberships(txn, at, after).await,
            Dataset::Competences => registry::competences(txn, at, after).await,
            Dataset::Assignments => registry::assignments(txn, at, after).await,
            Dataset::Resources => mutualisation::resources(txn, &self.actor, after).await,
            Dataset::Agreements => mutualisation::agreements(txn, &self.actor, at, after).await,
            Dataset::Indicators => projects::indicators(txn, &self.actor, after).await,
            Dataset::Measurements => projects::measurements(txn, &self.actor, at, after).await,
        }
    }

    /// Ends the snapshot.
    pub async fn close(self) {
        let _ = self.txn.rollback().await;
    }
}
