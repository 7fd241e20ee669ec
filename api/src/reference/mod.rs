//! The national reference: upstream COG vintages compiled into a compact timeline that ships
//! in the repository (`api/data/`), and loaded into the database idempotently.

pub mod collectivities;
pub mod competences;
pub mod compile;
pub mod events;
pub mod load;
pub mod snapshot;
pub mod upstream;

use std::path::{Path, PathBuf};

use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use sha2::{Digest, Sha256};

pub use load::ImportReport;
pub use snapshot::Snapshot;

/// Why the reference could not be read or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The data is not of the expected form.
    #[error("invalid reference data: {0}")]
    Invalid(String),
    /// The database refused the import (nothing was changed).
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl ReferenceError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Hex SHA-256 of a snapshot's compressed bytes.
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compiles the upstream vintages found under `dir` (one folder per year).
pub fn compile_dir(dir: &Path) -> Result<Snapshot, ReferenceError> {
    let vintages = upstream::read_dir(dir)?;
    compile::compile(&vintages)
}

/// Loads the snapshot shipped in the binary, and the competence reference.
/// `now` dates what the import records (its change events, its load time).
pub async fn import_shipped(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ImportReport, ReferenceError> {
    let snapshot = Snapshot::decode(snapshot::SHIPPED)?;
    let report = load::apply(db, &snapshot, &digest(snapshot::SHIPPED), now).await?;
    competences::sync_shipped(db, now).await?;
    Ok(report)
}

/// Loads `snapshot` (e.g. freshly compiled from upstream files).
pub async fn import(
    db: &DatabaseConnection,
    snapshot: &Snapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ImportReport, ReferenceError> {
    let bytes = snapshot.encode()?;
    let report = load::apply(db, snapshot, &digest(&bytes), now).await?;
    // Served at once by every instance reading the registry under a lease.
    crate::domain::registry::wait_for_readers(db).await?;
    Ok(report)
}

/// Whether a national reference has been loaded into `db`.
pub async fn is_loaded(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(entity::reference_dataset::Entity::find_by_id("cog")
        .one(db)
        .await?
        .is_some())
}

/// First day covered by the loaded reference: 1 January of its oldest vintage.
pub async fn coverage_start(db: &DatabaseConnection) -> Result<Option<chrono::NaiveDate>, DbErr> {
    let dataset = entity::reference_dataset::Entity::find_by_id("cog")
        .one(db)
        .await?;
    Ok(dataset.and_then(|d| {
        let first: i32 = d.vintages.split(',').next()?.parse().ok()?;
        chrono::NaiveDate::from_ymd_opt(first, 1, 1)
    }))
}
