//! Registry leases: the instances that answer registry reads from memory without asking the
//! version, what version each has seen and until when its lease runs; and, on PostgreSQL, a
//! `NOTIFY maillage_registry` from the version's trigger, so that instances renew at once
//! when the registry changes (writers wait for them: see the API's `registry::lease`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegistryReaders {
    Table,
    Id,
    SeenVersion,
    LeaseUntil,
}

/// The trigger function of the registry version's migration, and the same that also notifies.
const BUMP: &str = "UPDATE registry_version SET version = version + 1 WHERE id = 1;";
const NOTIFY: &str = "PERFORM pg_notify('maillage_registry', '');";

fn bump_function(body: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION bump_registry_version() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegistryReaders::Table)
                    .col(
                        ColumnDef::new(RegistryReaders::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RegistryReaders::SeenVersion)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RegistryReaders::LeaseUntil)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&bump_function(&format!("{BUMP} {NOTIFY}")))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&bump_function(BUMP))
                .await?;
        }
        manager
            .drop_table(Table::drop().table(RegistryReaders::Table).to_owned())
            .await
    }
}
