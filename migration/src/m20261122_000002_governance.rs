//! Governance: organisation profiles and partner identifiers, contact points, the audit
//! trail, the change feed and idempotency records.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Siret,
    Rna,
    AlternateNames,
    Description,
    Website,
    RegisteredById,
}

#[derive(DeriveIden)]
enum ContactPoint {
    Table,
    Id,
    OrganisationId,
    Kind,
    Label,
    Value,
    Visibility,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    Id,
    At,
    ActorSubject,
    ActorOrganisationId,
    ActorRoles,
    OrganisationId,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    RequestId,
}

#[derive(DeriveIden)]
enum ChangeEvent {
    Table,
    Id,
    At,
    EntityType,
    EntityId,
    Operation,
    OrganisationId,
    ActorOrganisationId,
}

#[derive(DeriveIden)]
enum IdempotencyRecord {
    Table,
    Id,
    ActorSubject,
    Key,
    Operation,
    InputHash,
    EntityId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            text_null(Organisation::Siret),
            text_null(Organisation::Rna),
            text_null(Organisation::AlternateNames),
            text_null(Organisation::Description),
            text_null(Organisation::Website),
            big_integer_null(Organisation::RegisteredById),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organisation::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ContactPoint::Table)
                    .col(big_pk_auto(ContactPoint::Id))
                    .col(big_integer(ContactPoint::OrganisationId))
                    .col(text(ContactPoint::Kind))
                    .col(text_null(ContactPoint::Label))
                    .col(text(ContactPoint::Value))
                    .col(text(ContactPoint::Visibility))
                    .col(big_integer(ContactPoint::Version).default(1))
                    .col(timestamp_with_time_zone(ContactPoint::CreatedAt))
                    .col(timestamp_with_time_zone(ContactPoint::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactPoint::Table, ContactPoint::OrganisationId)
                            .to(Organisation::Table, Organisation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_contact_point_organisation")
                    .table(ContactPoint::Table)
                    .col(ContactPoint::OrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditRecord::Table)
                    .col(big_pk_auto(AuditRecord::Id))
                    .col(timestamp_with_time_zone(AuditRecord::At))
                    .col(text_null(AuditRecord::ActorSubject))
                    .col(big_integer_null(AuditRecord::ActorOrganisationId))
                    .col(text(AuditRecord::ActorRoles))
                    .col(big_integer_null(AuditRecord::OrganisationId))
                    .col(text(AuditRecord::Action))
                    .col(text(AuditRecord::EntityType))
                    .col(big_integer(AuditRecord::EntityId))
                    .col(text_null(AuditRecord::Before))
                    .col(text_null(AuditRecord::After))
                    .col(text(AuditRecord::RequestId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_record_organisation")
                    .table(AuditRecord::Table)
                    .col(AuditRecord::OrganisationId)
                    .col(AuditRecord::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangeEvent::Table)
                    .col(big_pk_auto(ChangeEvent::Id))
                    .col(timestamp_with_time_zone(ChangeEvent::At))
                    .col(text(ChangeEvent::EntityType))
                    .col(big_integer(ChangeEvent::EntityId))
                    .col(text(ChangeEvent::Operation))
                    .col(big_integer_null(ChangeEvent::OrganisationId))
                    .col(big_integer_null(ChangeEvent::ActorOrganisationId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecord::Table)
                    .col(big_pk_auto(IdempotencyRecord::Id))
                    .col(text(IdempotencyRecord::ActorSubject))
                    .col(text(IdempotencyRecord::Key))
                    .col(text(IdempotencyRecord::Operation))
                    .col(text(IdempotencyRecord::InputHash))
                    .col(big_integer(IdempotencyRecord::EntityId))
                    .col(timestamp_with_time_zone(IdempotencyRecord::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_actor_key")
                    .table(IdempotencyRecord::Table)
                    .col(IdempotencyRecord::ActorSubject)
                    .col(IdempotencyRecord::Key)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyRecord::Table.into_iden(),
            ChangeEvent::Table.into_iden(),
            AuditRecord::Table.into_iden(),
            ContactPoint::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
