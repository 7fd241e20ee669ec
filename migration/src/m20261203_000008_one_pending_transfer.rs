//! At most one pending transfer per (competence, giver, receiver), enforced by the database:
//! concurrent proposals of the same transfer cannot both be inserted. Duplicates left by
//! earlier versions (all but the oldest) are withdrawn first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE transfer SET status = 'WITHDRAWN', \
               reason = 'duplicate of an earlier pending transfer' \
             WHERE status = 'PROPOSED' AND id NOT IN ( \
               SELECT MIN(id) FROM transfer WHERE status = 'PROPOSED' \
               GROUP BY competence_code, from_id, to_id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_transfer_one_pending \
             ON transfer (competence_code, from_id, to_id) WHERE status = 'PROPOSED'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_transfer_one_pending")
            .await?;
        Ok(())
    }
}
