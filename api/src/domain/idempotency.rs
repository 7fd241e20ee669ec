//! Idempotency keys on creates: the same key and input replays the first result; the same
//! key with another input is refused.

use entity::idempotency_record;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// Longest key accepted.
const MAX_KEY_LEN: usize = 128;

/// Digest of a create's input, to tell a retry from a reuse.
pub fn input_hash(input: &serde_json::Value) -> String {
    Sha256::digest(input.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The entity created by an earlier call with `key`, if any; an error if `key` was used
/// with another operation or input.
///
/// A retry may arrive while the first call is still running (its client gave up waiting):
/// on PostgreSQL the key is locked first (a transaction-scoped advisory lock), so the retry
/// waits for the first call to commit and then replays it, instead of failing on the
/// record the first call writes. SQLite's write transactions are serial already.
pub async fn replay<C: ConnectionTrait>(
    txn: &C,
    subject: &str,
    key: &str,
    operation: &str,
    hash: &str,
) -> AppResult<Option<i64>> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(AppError::bad_input(
            "idempotencyKey",
            format!("an idempotency key has 1 to {MAX_KEY_LEN} characters"),
        ));
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("idempotency\n{subject}\n{key}").into()],
        ))
        .await?;
    }
    let found = idempotency_record::Entity::find()
        .filter(idempotency_record::Column::ActorSubject.eq(subject))
        .filter(idempotency_record::Column::Key.eq(key))
        .one(txn)
        .await?;
    match found {
        None => Ok(None),
        Some(r) if r.operation == operation && r.input_hash == hash => Ok(Some(r.entity_id)),
        Some(_) => Err(AppError::bad_input(
            "idempotencyKey",
            "this idempotency key was already used with a different input",
        )),
    }
}

/// Remembers that `key` created `entity_id`.
pub async fn remember<C: ConnectionTrait>(
    txn: &C,
    subject: &str,
    key: &str,
    operation: &str,
    hash: &str,
    entity_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    idempotency_record::Entity::insert(idempotency_record::ActiveModel {
        actor_subject: Set(subject.to_owned()),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        input_hash: Set(hash.to_owned()),
        entity_id: Set(entity_id),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
