//! Competences: the nomenclature, the legal presumptions, declared assignments and their
//! scopes, transfers, and the consent of every party to a multi-party change.

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
    Label,
    Category,
    CategoryConfirmed,
    Nomenclature,
    Position,
}

#[derive(DeriveIden)]
enum LegalRule {
    Table,
    Id,
    CompetenceCode,
    Layer,
    AppliesTo,
    Roles,
    Condition,
    Source,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    OrganisationId,
    CompetenceCode,
    Role,
    Basis,
    WholeTerritory,
    ValidFrom,
    ValidTo,
    LegalReference,
    TransferId,
    AgreementId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssignmentScope {
    Table,
    AssignmentId,
    CommuneId,
}

#[derive(DeriveIden)]
enum Transfer {
    Table,
    Id,
    CompetenceCode,
    FromId,
    ToId,
    EffectiveDate,
    WholeTerritory,
    Status,
    ProposedById,
    LegalReference,
    Reason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Consent {
    Table,
    Id,
    SubjectType,
    SubjectId,
    PartyId,
    Decision,
    DecidedBy,
    DecidedAt,
    Reason,
}

fn index(
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

fn org_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Organisation::Table, Organisation::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Competence::Table)
                    .col(string(Competence::Code).primary_key())
                    .col(text(Competence::Label))
                    .col(text(Competence::Category))
                    .col(boolean(Competence::CategoryConfirmed))
                    .col(text(Competence::Nomenclature))
                    .col(integer(Competence::Position))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LegalRule::Table)
                    .col(big_pk_auto(LegalRule::Id))
                    .col(text(LegalRule::CompetenceCode))
                    .col(text(LegalRule::Layer))
                    .col(text(LegalRule::AppliesTo))
                    .col(text(LegalRule::Roles))
                    .col(text_null(LegalRule::Condition))
                    .col(text(LegalRule::Source))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Assignment::Table)
                    .col(big_pk_auto(Assignment::Id))
                    .col(big_integer(Assignment::OrganisationId))
                    .col(string(Assignment::CompetenceCode))
                    .col(text(Assignment::Role))
                    .col(text(Assignment::Basis))
                    .col(boolean(Assignment::WholeTerritory))
                    .col(date_null(Assignment::ValidFrom))
                    .col(date_null(Assignment::ValidTo))
                    .col(text_null(Assignment::LegalReference))
                    .col(big_integer_null(Assignment::TransferId))
                    .col(big_integer_null(Assignment::AgreementId))
                    .col(big_integer(Assignment::Version).default(1))
                    .col(timestamp_with_time_zone(Assignment::CreatedAt))
                    .col(timestamp_with_time_zone(Assignment::UpdatedAt))
                    .foreign_key(&mut org_fk(Assignment::Table, Assignment::OrganisationId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assignment::Table, Assignment::CompetenceCode)
                            .to(Competence::Table, Competence::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_assignment_competence_org",
                Assignment::Table,
                vec![
                    Assignment::CompetenceCode.into_iden(),
                    Assignment::OrganisationId.into_iden(),
                ],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_assignment_org",
                Assignment::Table,
                vec![Assignment::OrganisationId.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssignmentScope::Table)
                    .col(big_integer(AssignmentScope::AssignmentId))
                    .col(big_integer(AssignmentScope::CommuneId))
                    .primary_key(
                        Index::create()
                            .col(AssignmentScope::AssignmentId)
                            .col(AssignmentScope::CommuneId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssignmentScope::Table, AssignmentScope::AssignmentId)
                            .to(Assignment::Table, Assignment::Id),
                    )
                    .foreign_key(&mut org_fk(
                        AssignmentScope::Table,
                        AssignmentScope::CommuneId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_assignment_scope_commune",
                AssignmentScope::Table,
                vec![AssignmentScope::CommuneId.into_iden()],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Transfer::Table)
                    .col(big_pk_auto(Transfer::Id))
                    .col(string(Transfer::CompetenceCode))
                    .col(big_integer(Transfer::FromId))
                    .col(big_integer(Transfer::ToId))
                    .col(date(Transfer::EffectiveDate))
                    .col(boolean(Transfer::WholeTerritory))
                    .col(text(Transfer::Status))
                    .col(big_integer(Transfer::ProposedById))
                    .col(text_null(Transfer::LegalReference))
                    .col(text_null(Transfer::Reason))
                    .col(big_integer(Transfer::Version).default(1))
                    .col(timestamp_with_time_zone(Transfer::CreatedAt))
                    .col(timestamp_with_time_zone(Transfer::UpdatedAt))
                    .foreign_key(&mut org_fk(Transfer::Table, Transfer::FromId))
                    .foreign_key(&mut org_fk(Transfer::Table, Transfer::ToId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Transfer::Table, Transfer::CompetenceCode)
                            .to(Competence::Table, Competence::Code),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_transfer_from", Transfer::FromId),
            ("idx_transfer_to", Transfer::ToId),
        ] {
            manager
                .create_index(index(name, Transfer::Table, vec![col.into_iden()], false))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Consent::Table)
                    .col(big_pk_auto(Consent::Id))
                    .col(text(Consent::SubjectType))
                    .col(big_integer(Consent::SubjectId))
                    .col(big_integer(Consent::PartyId))
                    .col(text(Consent::Decision))
                    .col(text_null(Consent::DecidedBy))
                    .col(timestamp_with_time_zone_null(Consent::DecidedAt))
                    .col(text_null(Consent::Reason))
                    .foreign_key(&mut org_fk(Consent::Table, Consent::PartyId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_consent_subject_party",
                Consent::Table,
                vec![
                    Consent::SubjectType.into_iden(),
                    Consent::SubjectId.into_iden(),
                    Consent::PartyId.into_iden(),
                ],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Consent::Table.into_iden(),
            Transfer::Table.into_iden(),
            AssignmentScope::Table.into_iden(),
            Assignment::Table.into_iden(),
            LegalRule::Table.into_iden(),
            Competence::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
