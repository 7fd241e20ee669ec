//! Referral deadlines per organisation (a service may commit to shorter terms than the
//! defaults), and the indexes of the territory barometer, the retention purge and the
//! transmissions an organisation made.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReferralDeadlines {
    Table,
    OrganisationId,
    AcknowledgeDays,
    AnswerDays,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Referral {
    Table,
    CommuneId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReferralHop {
    Table,
    FromId,
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
                    .table(ReferralDeadlines::Table)
                    .col(big_integer(ReferralDeadlines::OrganisationId).primary_key())
                    .col(integer(ReferralDeadlines::AcknowledgeDays))
                    .col(integer_null(ReferralDeadlines::AnswerDays))
                    .col(big_integer(ReferralDeadlines::Version).default(1))
                    .col(timestamp_with_time_zone(ReferralDeadlines::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReferralDeadlines::Table, ReferralDeadlines::OrganisationId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in [
            (
                "idx_referral_commune_created",
                Referral::Table.into_iden(),
                vec![
                    Referral::CommuneId.into_iden(),
                    Referral::CreatedAt.into_iden(),
                ],
            ),
            (
                "idx_referral_updated",
                Referral::Table.into_iden(),
                vec![Referral::UpdatedAt.into_iden()],
            ),
            (
                "idx_referral_hop_from",
                ReferralHop::Table.into_iden(),
                vec![ReferralHop::FromId.into_iden()],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for c in columns {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_referral_commune_created",
            "idx_referral_updated",
            "idx_referral_hop_from",
        ] {
            manager
                .drop_index(Index::drop().name(name).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ReferralDeadlines::Table).to_owned())
            .await
    }
}
