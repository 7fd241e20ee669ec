//! Mutualisation: shared resources and their coverage, reservations, and agreements with
//! their parties, linked resources and competences, and documents.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Competence {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Resource {
    Table,
    Id,
    OwnerId,
    Kind,
    Name,
    Description,
    SearchText,
    CapacityMilli,
    Unit,
    LocationId,
    CostModel,
    CostAmountCents,
    Conditions,
    Visibility,
    Status,
    BookingPolicy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResourceCoverage {
    Table,
    Id,
    ResourceId,
    Scope,
    OrganisationId,
}

#[derive(DeriveIden)]
enum Reservation {
    Table,
    Id,
    ResourceId,
    RequesterId,
    QuantityMilli,
    StartsAt,
    EndsAt,
    Purpose,
    Status,
    Reason,
    AgreementId,
    DecidedBy,
    DecidedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Agreement {
    Table,
    Id,
    Kind,
    Title,
    LegalBasis,
    DraftedById,
    Status,
    ValidFrom,
    ValidTo,
    FinancialTerms,
    DirectBooking,
    SignedAt,
    TerminatedOn,
    TerminatedById,
    TerminationReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgreementParty {
    Table,
    Id,
    AgreementId,
    OrganisationId,
    Role,
}

#[derive(DeriveIden)]
enum AgreementResource {
    Table,
    AgreementId,
    ResourceId,
}

#[derive(DeriveIden)]
enum AgreementCompetence {
    Table,
    AgreementId,
    CompetenceCode,
    Role,
}

#[derive(DeriveIden)]
enum AgreementDocument {
    Table,
    Id,
    AgreementId,
    Title,
    Url,
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

fn fk(
    table: impl IntoIden,
    col: impl IntoIden,
    to: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, to_col)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let org = || (Organisation::Table, Organisation::Id);
        manager
            .create_table(
                Table::create()
                    .table(Resource::Table)
                    .col(big_pk_auto(Resource::Id))
                    .col(big_integer(Resource::OwnerId))
                    .col(text(Resource::Kind))
                    .col(text(Resource::Name))
                    .col(text_null(Resource::Description))
                    .col(text(Resource::SearchText))
                    .col(big_integer(Resource::CapacityMilli))
                    .col(text(Resource::Unit))
                    .col(big_integer_null(Resource::LocationId))
                    .col(text(Resource::CostModel))
                    .col(big_integer_null(Resource::CostAmountCents))
                    .col(text_null(Resource::Conditions))
                    .col(text(Resource::Visibility))
                    .col(text(Resource::Status))
                    .col(text(Resource::BookingPolicy))
                    .col(big_integer(Resource::Version).default(1))
                    .col(timestamp_with_time_zone(Resource::CreatedAt))
                    .col(timestamp_with_time_zone(Resource::UpdatedAt))
                    .foreign_key(&mut fk(
                        Resource::Table,
                        Resource::OwnerId,
                        org().0,
                        org().1,
                    ))
                    .foreign_key(&mut fk(
                        Resource::Table,
                        Resource::LocationId,
                        org().0,
                        org().1,
                    ))
                    .check(Expr::col(Resource::CapacityMilli).gt(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_resource_owner",
                Resource::Table,
                vec![Resource::OwnerId.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_resource_kind",
                Resource::Table,
                vec![Resource::Kind.into_iden(), Resource::Id.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceCoverage::Table)
                    .col(big_pk_auto(ResourceCoverage::Id))
                    .col(big_integer(ResourceCoverage::ResourceId))
                    .col(text(ResourceCoverage::Scope))
                    .col(big_integer_null(ResourceCoverage::OrganisationId))
                    .foreign_key(&mut fk(
                        ResourceCoverage::Table,
                        ResourceCoverage::ResourceId,
                        Resource::Table,
                        Resource::Id,
                    ))
                    .foreign_key(&mut fk(
                        ResourceCoverage::Table,
                        ResourceCoverage::OrganisationId,
                        org().0,
                        org().1,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            (
                "idx_resource_coverage_resource",
                ResourceCoverage::ResourceId,
            ),
            (
                "idx_resource_coverage_org",
                ResourceCoverage::OrganisationId,
            ),
        ] {
            manager
                .create_index(index(name, ResourceCoverage::Table, vec![col.into_iden()]))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Agreement::Table)
                    .col(big_pk_auto(Agreement::Id))
                    .col(text(Agreement::Kind))
                    .col(text(Agreement::Title))
                    .col(text_null(Agreement::LegalBasis))
                    .col(big_integer(Agreement::DraftedById))
                    .col(text(Agreement::Status))
                    .col(date_null(Agreement::ValidFrom))
                    .col(date_null(Agreement::ValidTo))
                    .col(text_null(Agreement::FinancialTerms))
                    .col(boolean(Agreement::DirectBooking))
                    .col(timestamp_with_time_zone_null(Agreement::SignedAt))
                    .col(date_null(Agreement::TerminatedOn))
                    .col(big_integer_null(Agreement::TerminatedById))
                    .col(text_null(Agreement::TerminationReason))
                    .col(big_integer(Agreement::Version).default(1))
                    .col(timestamp_with_time_zone(Agreement::CreatedAt))
                    .col(timestamp_with_time_zone(Agreement::UpdatedAt))
                    .foreign_key(&mut fk(
                        Agreement::Table,
                        Agreement::DraftedById,
                        org().0,
                        org().1,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reservation::Table)
                    .col(big_pk_auto(Reservation::Id))
                    .col(big_integer(Reservation::ResourceId))
                    .col(big_integer(Reservation::RequesterId))
                    .col(big_integer(Reservation::QuantityMilli))
                    .col(timestamp_with_time_zone(Reservation::StartsAt))
                    .col(timestamp_with_time_zone(Reservation::EndsAt))
                    .col(text(Reservation::Purpose))
                    .col(text(Reservation::Status))
                    .col(text_null(Reservation::Reason))
                    .col(big_integer_null(Reservation::AgreementId))
                    .col(text_null(Reservation::DecidedBy))
                    .col(timestamp_with_time_zone_null(Reservation::DecidedAt))
                    .col(big_integer(Reservation::Version).default(1))
                    .col(timestamp_with_time_zone(Reservation::CreatedAt))
                    .col(timestamp_with_time_zone(Reservation::UpdatedAt))
                    .foreign_key(&mut fk(
                        Reservation::Table,
                        Reservation::ResourceId,
                        Resource::Table,
                        Resource::Id,
                    ))
                    .foreign_key(&mut fk(
                        Reservation::Table,
                        Reservation::RequesterId,
                        org().0,
                        org().1,
                    ))
                    .foreign_key(&mut fk(
                        Reservation::Table,
                        Reservation::AgreementId,
                        Agreement::Table,
                        Agreement::Id,
                    ))
                    .check(Expr::col(Reservation::QuantityMilli).gt(0))
                    .check(Expr::col(Reservation::StartsAt).lt(Expr::col(Reservation::EndsAt)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_reservation_resource",
                Reservation::Table,
                vec![
                    Reservation::ResourceId.into_iden(),
                    Reservation::Status.into_iden(),
                    Reservation::StartsAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_reservation_requester",
                Reservation::Table,
                vec![Reservation::RequesterId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgreementParty::Table)
                    .col(big_pk_auto(AgreementParty::Id))
                    .col(big_integer(AgreementParty::AgreementId))
                    .col(big_integer(AgreementParty::OrganisationId))
                    .col(text(AgreementParty::Role))
                    .foreign_key(&mut fk(
                        AgreementParty::Table,
                        AgreementParty::AgreementId,
                        Agreement::Table,
                        Agreement::Id,
                    ))
                    .foreign_key(&mut fk(
                        AgreementParty::Table,
                        AgreementParty::OrganisationId,
                        org().0,
                        org().1,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_agreement_party_unique",
                    AgreementParty::Table,
                    vec![
                        AgreementParty::AgreementId.into_iden(),
                        AgreementParty::OrganisationId.into_iden(),
                        AgreementParty::Role.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_agreement_party_org",
                AgreementParty::Table,
                vec![AgreementParty::OrganisationId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgreementResource::Table)
                    .col(big_integer(AgreementResource::AgreementId))
                    .col(big_integer(AgreementResource::ResourceId))
                    .primary_key(
                        Index::create()
                            .col(AgreementResource::AgreementId)
                            .col(AgreementResource::ResourceId),
                    )
                    .foreign_key(&mut fk(
                        AgreementResource::Table,
                        AgreementResource::AgreementId,
                        Agreement::Table,
                        Agreement::Id,
                    ))
                    .foreign_key(&mut fk(
                        AgreementResource::Table,
                        AgreementResource::ResourceId,
                        Resource::Table,
                        Resource::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_agreement_resource_resource",
                AgreementResource::Table,
                vec![AgreementResource::ResourceId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgreementCompetence::Table)
                    .col(big_integer(AgreementCompetence::AgreementId))
                    .col(string(AgreementCompetence::CompetenceCode))
                    .col(text(AgreementCompetence::Role))
                    .primary_key(
                        Index::create()
                            .col(AgreementCompetence::AgreementId)
                            .col(AgreementCompetence::CompetenceCode),
                    )
                    .foreign_key(&mut fk(
                        AgreementCompetence::Table,
                        AgreementCompetence::AgreementId,
                        Agreement::Table,
                        Agreement::Id,
                    ))
                    .foreign_key(&mut fk(
                        AgreementCompetence::Table,
                        AgreementCompetence::CompetenceCode,
                        Competence::Table,
                        Competence::Code,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgreementDocument::Table)
                    .col(big_pk_auto(AgreementDocument::Id))
                    .col(big_integer(AgreementDocument::AgreementId))
                    .col(text(AgreementDocument::Title))
                    .col(text(AgreementDocument::Url))
                    .foreign_key(&mut fk(
                        AgreementDocument::Table,
                        AgreementDocument::AgreementId,
                        Agreement::Table,
                        Agreement::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_agreement_document_agreement",
                AgreementDocument::Table,
                vec![AgreementDocument::AgreementId.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AgreementDocument::Table.into_iden(),
            AgreementCompetence::Table.into_iden(),
            AgreementResource::Table.into_iden(),
            AgreementParty::Table.into_iden(),
            Reservation::Table.into_iden(),
            Agreement::Table.into_iden(),
            ResourceCoverage::Table.into_iden(),
            Resource::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
