//! Mandates: an organisation's admin lets a partner application act for it, so that one
//! application token serves every organisation that mandated it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Mandate {
    Table,
    Id,
    GrantorId,
    GranteeId,
    Roles,
    ValidFrom,
    ValidTo,
    RevokedAt,
    RevocationReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Mandate::Table)
                    .col(big_pk_auto(Mandate::Id))
                    .col(big_integer(Mandate::GrantorId))
                    .col(big_integer(Mandate::GranteeId))
                    .col(text(Mandate::Roles))
                    .col(timestamp_with_time_zone(Mandate::ValidFrom))
                    .col(timestamp_with_time_zone_null(Mandate::ValidTo))
                    .col(timestamp_with_time_zone_null(Mandate::RevokedAt))
                    .col(text_null(Mandate::RevocationReason))
                    .col(big_integer(Mandate::Version).default(1))
                    .col(timestamp_with_time_zone(Mandate::CreatedAt))
                    .col(timestamp_with_time_zone(Mandate::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mandate::Table, Mandate::GrantorId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Mandate::Table, Mandate::GranteeId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Every authenticated request of a grantee reads its mandates.
        for (name, column) in [
            ("idx_mandate_grantee", Mandate::GranteeId),
            ("idx_mandate_grantor", Mandate::GrantorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Mandate::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Mandate::Table).to_owned())
            .await
    }
}
