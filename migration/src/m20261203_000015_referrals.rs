//! Referrals: a person's request routed to the competent organisation, with its route of hops
//! (CRPA L114-2: transmitted onward when it lands at the wrong door).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Referral {
    Table,
    Id,
    CommuneId,
    CompetenceCode,
    Subject,
    Message,
    Contact,
    FilerId,
    HandlerId,
    Status,
    Answer,
    AcknowledgeDue,
    AnswerDue,
    AcknowledgedAt,
    AnsweredAt,
    ClosedAt,
    Satisfaction,
    Resolved,
    ErasedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReferralHop {
    Table,
    Id,
    ReferralId,
    Position,
    FromId,
    ToId,
    Reason,
    At,
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
                    .table(Referral::Table)
                    .col(big_pk_auto(Referral::Id))
                    .col(big_integer(Referral::CommuneId))
                    .col(text(Referral::CompetenceCode))
                    .col(text(Referral::Subject))
                    .col(text_null(Referral::Message))
                    .col(text_null(Referral::Contact))
                    .col(big_integer(Referral::FilerId))
                    .col(big_integer(Referral::HandlerId))
                    .col(text(Referral::Status))
                    .col(text_null(Referral::Answer))
                    .col(timestamp_with_time_zone(Referral::AcknowledgeDue))
                    .col(timestamp_with_time_zone(Referral::AnswerDue))
                    .col(timestamp_with_time_zone_null(Referral::AcknowledgedAt))
                    .col(timestamp_with_time_zone_null(Referral::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Referral::ClosedAt))
                    .col(integer_null(Referral::Satisfaction))
                    .col(boolean_null(Referral::Resolved))
                    .col(timestamp_with_time_zone_null(Referral::ErasedAt))
                    .col(big_integer(Referral::Version).default(1))
                    .col(timestamp_with_time_zone(Referral::CreatedAt))
                    .col(timestamp_with_time_zone(Referral::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referral::Table, Referral::CommuneId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referral::Table, Referral::FilerId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referral::Table, Referral::HandlerId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReferralHop::Table)
                    .col(big_pk_auto(ReferralHop::Id))
                    .col(big_integer(ReferralHop::ReferralId))
                    .col(integer(ReferralHop::Position))
                    .col(big_integer_null(ReferralHop::FromId))
                    .col(big_integer(ReferralHop::ToId))
                    .col(text(ReferralHop::Reason))
                    .col(timestamp_with_time_zone(ReferralHop::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReferralHop::Table, ReferralHop::ReferralId)
                            .to(Referral::Table, Referral::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReferralHop::Table, ReferralHop::ToId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Inboxes and outboxes are read by organisation; a route by its referral, in order.
        for (name, table, columns) in [
            (
                "idx_referral_handler",
                Referral::Table.into_iden(),
                vec![Referral::HandlerId.into_iden()],
            ),
            (
                "idx_referral_filer",
                Referral::Table.into_iden(),
                vec![Referral::FilerId.into_iden()],
            ),
            (
                "idx_referral_hop_route",
                ReferralHop::Table.into_iden(),
                vec![
                    ReferralHop::ReferralId.into_iden(),
                    ReferralHop::Position.into_iden(),
                ],
            ),
            (
                "idx_referral_hop_to",
                ReferralHop::Table.into_iden(),
                vec![ReferralHop::ToId.into_iden()],
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
        for table in [ReferralHop::Table.into_iden(), Referral::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
