//! The registry: organisations, memberships, successions and the loaded reference dataset.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Kind,
    Name,
    SearchName,
    InseeCode,
    Siren,
    Population,
    ValidFrom,
    ValidTo,
    DepartementCode,
    RegionCode,
    TerritoryId,
    Source,
    Vintages,
    ReferenceKey,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    MemberId,
    GroupId,
    Kind,
    ValidFrom,
    ValidTo,
    Source,
    Vintages,
    ReferenceKey,
}

#[derive(DeriveIden)]
enum Succession {
    Table,
    Id,
    PredecessorId,
    SuccessorId,
    Date,
    Kind,
    Source,
    ReferenceKey,
}

#[derive(DeriveIden)]
enum ReferenceDataset {
    Table,
    Name,
    Digest,
    Vintages,
    LoadedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Name search and ordering compare folded names byte-wise on both engines, so that
        // prefix ranges use the index and pagination orders agree between SQLite and PostgreSQL.
        let mut search_name = text(Organisation::SearchName);
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            search_name.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(Organisation::Table)
                    .col(big_pk_auto(Organisation::Id))
                    .col(text(Organisation::Kind))
                    .col(text(Organisation::Name))
                    .col(search_name)
                    .col(text_null(Organisation::InseeCode))
                    .col(text_null(Organisation::Siren))
                    .col(big_integer_null(Organisation::Population))
                    .col(date_null(Organisation::ValidFrom))
                    .col(date_null(Organisation::ValidTo))
                    .col(text_null(Organisation::DepartementCode))
                    .col(text_null(Organisation::RegionCode))
                    .col(big_integer_null(Organisation::TerritoryId))
                    .col(text(Organisation::Source))
                    .col(text_null(Organisation::Vintages))
                    .col(text_null(Organisation::ReferenceKey).unique_key())
                    .col(big_integer(Organisation::Version).default(1))
                    .col(timestamp_with_time_zone(Organisation::CreatedAt))
                    .col(timestamp_with_time_zone(Organisation::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organisation::Table, Organisation::TerritoryId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_organisation_insee", vec![Organisation::InseeCode]),
            ("idx_organisation_siren", vec![Organisation::Siren]),
            ("idx_organisation_search", vec![Organisation::SearchName]),
            (
                "idx_organisation_kind_search",
                vec![Organisation::Kind, Organisation::SearchName],
            ),
            (
                "idx_organisation_departement",
                vec![Organisation::DepartementCode, Organisation::Kind],
            ),
            (
                "idx_organisation_region",
                vec![Organisation::RegionCode, Organisation::Kind],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Organisation::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(big_pk_auto(Membership::Id))
                    .col(big_integer(Membership::MemberId))
                    .col(big_integer(Membership::GroupId))
                    .col(text(Membership::Kind))
                    .col(date_null(Membership::ValidFrom))
                    .col(date_null(Membership::ValidTo))
                    .col(text(Membership::Source))
                    .col(text_null(Membership::Vintages))
                    .col(text_null(Membership::ReferenceKey).unique_key())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::MemberId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::GroupId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_member")
                    .table(Membership::Table)
                    .col(Membership::MemberId)
                    .col(Membership::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_group")
                    .table(Membership::Table)
                    .col(Membership::GroupId)
                    .col(Membership::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Succession::Table)
                    .col(big_pk_auto(Succession::Id))
                    .col(big_integer(Succession::PredecessorId))
                    .col(big_integer(Succession::SuccessorId))
                    .col(date(Succession::Date))
                    .col(text(Succession::Kind))
                    .col(text(Succession::Source))
                    .col(text_null(Succession::ReferenceKey).unique_key())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Succession::Table, Succession::PredecessorId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Succession::Table, Succession::SuccessorId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_succession_predecessor", Succession::PredecessorId),
            ("idx_succession_successor", Succession::SuccessorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Succession::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ReferenceDataset::Table)
                    .col(text(ReferenceDataset::Name).primary_key())
                    .col(text(ReferenceDataset::Digest))
                    .col(text(ReferenceDataset::Vintages))
                    .col(timestamp_with_time_zone(ReferenceDataset::LoadedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReferenceDataset::Table.into_iden(),
            Succession::Table.into_iden(),
            Membership::Table.into_iden(),
            Organisation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
