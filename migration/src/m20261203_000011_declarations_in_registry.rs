//! Declared assignments and their scopes are held with the in-memory registry: changing them
//! advances the registry version like any registry change, by the same triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables added to the registry's copy.
const TABLES: [&str; 2] = ["assignment", "assignment_scope"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            match manager.get_database_backend() {
                // `bump_registry_version()` comes with the registry version's migration.
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_bumps_registry_version \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version()"
                    ))
                    .await?;
                }
                _ => {
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
        for table in TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER {table}_bumps_registry_version ON {table}"
                    ))
                    .await?;
                }
                _ => {
                    for verb in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER {table}_{verb}_bumps_registry_version"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}
