//! A counter that every change to the registry's tables (organisations, memberships,
//! successions) advances, in the writing transaction, by trigger: a reader that finds the
//! counter where it was knows that its in-memory copy of the registry is still the database's,
//! whichever process or tool wrote.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables the in-memory registry copies.
const TABLES: [&str; 3] = ["organisation", "membership", "succession"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE registry_version (\
               id INTEGER PRIMARY KEY CHECK (id = 1), \
               version BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO registry_version (id, version) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION bump_registry_version() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                       UPDATE registry_version SET version = version + 1 WHERE id = 1; \
                       RETURN NULL; \
                     END $$",
                )
                .await?;
                for table in TABLES {
                    // Once per statement: a bulk import advances it once per statement.
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_bumps_registry_version \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version()"
                    ))
                    .await?;
                }
            }
            _ => {
                // SQLite has row triggers only.
                for table in TABLES {
                    for event in ["INSERT", "UPDATE", "DELETE"] {
                        let verb = event.to_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_{verb}_bumps_registry_version \
                             AFTER {event} ON {table} BEGIN \
                               UPDATE registry_version SET version = version + 1 WHERE id = 1; \
                             END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER {table}_bumps_registry_version ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION bump_registry_version()")
                    .await?;
            }
            _ => {
                for table in TABLES {
                    for verb in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER {table}_{verb}_bumps_registry_version"
                        ))
                        .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DROP TABLE registry_version").await?;
        Ok(())
    }
}
