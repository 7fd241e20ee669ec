//! The change feed's order becomes the event id alone: writers of change events take one
//! transaction-scoped lock before their first event (see `api::domain::audit`), so ids are
//! assigned in commit order and readers need not hold back behind running transactions — which
//! on PostgreSQL meant behind any long transaction of the whole cluster.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_change_event_order")
            .await?;
        db.execute_unprepared("ALTER TABLE change_event DROP COLUMN txid")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
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
}
