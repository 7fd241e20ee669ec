//! Domain services: the rules, queries and transactions of each area, free of GraphQL types.

pub mod agreements;
pub mod audit;
pub mod audit_log;
pub mod authz;
pub mod codes;
pub mod competences;
pub mod consent;
pub mod export;
pub mod feed;
pub mod feed_signal;
pub mod groupings;
pub mod idempotency;
pub mod mandates;
pub mod pagination;
pub mod partners;
pub mod profile;
pub mod projects;
pub mod referrals;
pub mod registry;
pub mod resources;
pub mod shared_read;
pub mod territory;
pub mod text;
pub mod unit_of_work;
pub mod versioned;

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, PrimaryKeyTrait,
    QuerySelect,
};

pub use unit_of_work::{UnitOfWork, begin_write};

/// Condition "valid on `at`": `from` is null or ≤ `at`, and `to` is null or > `at`.
pub fn valid_at<C: ColumnTrait>(from: C, to: C, at: NaiveDate) -> Condition {
    Condition::all()
        .add(Condition::any().add(from.is_null()).add(from.lte(at)))
        .add(Condition::any().add(to.is_null()).add(to.gt(at)))
}

/// Locks row `id` of `E` until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's write
/// transactions are serial already), so that concurrent changes of one object take turns and
/// each reads what the one before it committed.
pub async fn lock_row<E, C>(txn: &C, id: i64) -> Result<(), DbErr>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
    C: ConnectionTrait,
{
    E::find_by_id(id).lock_exclusive().one(txn).await?;
    Ok(())
}

/// Serialises the writers that check the registry before adding to it (that a SIREN or an
/// RNA is not taken) until the transaction ends, so that two registrations at once cannot
/// both pass the check. PostgreSQL locks the `registry_version` row: every write to the
/// registry's tables updates it (their triggers), so such writers took turns on it already,
/// only after their checks. SQLite's write transactions are serial already.
pub async fn lock_registry<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT version FROM registry_version WHERE id = 1 FOR UPDATE")
            .await?;
    }
    Ok(())
}

/// Whether the half-open period `[from, to)` contains `at`.
pub fn contains(from: Option<NaiveDate>, to: Option<NaiveDate>, at: NaiveDate) -> bool {
    from.is_none_or(|f| f <= at) && to.is_none_or(|t| t > at)
}
