//! The change feed's order: each event carries the id of the transaction that wrote it, so that
//! readers can page in (transaction, event) order and never pass a transaction still running.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // On PostgreSQL the writing transaction's id; SQLite writers are serial, so the event
        // id alone is commit order there.
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "ALTER TABLE change_event ADD COLUMN txid BIGINT NOT NULL \
                 DEFAULT ((pg_current_xact_id()::text)::bigint)"
            }
            _ => "ALTER TABLE change_event ADD COLUMN txid BIGINT NOT NULL DEFAULT 0",
        };
        db.execute_unprepared(sql).await?;
        db.execute_unprepared("CREATE INDEX idx_change_event_order ON change_event (txid, id)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_change_event_order")
            .await?;
        db.execute_unprepared("ALTER TABLE change_event DROP COLUMN txid")
            .await?;
        Ok(())
    }
}
