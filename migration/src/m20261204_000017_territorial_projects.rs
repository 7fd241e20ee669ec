//! Territorial projects (projet de territoire, CRTE, Petites villes de demain…): the project
//! and its parties and communes, its actions, its indicators with their targets, and the
//! measurements partners contribute (a correction supersedes, never overwrites).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TerritorialProject {
    Table,
    Id,
    Kind,
    Title,
    Description,
    DraftedById,
    Status,
    ValidFrom,
    ValidTo,
    SignedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectParty {
    Table,
    Id,
    ProjectId,
    OrganisationId,
    Role,
}

#[derive(DeriveIden)]
enum ProjectCommune {
    Table,
    ProjectId,
    CommuneId,
}

#[derive(DeriveIden)]
enum ProjectAction {
    Table,
    Id,
    ProjectId,
    Axis,
    Title,
    PilotId,
    Status,
    BudgetPlanned,
    BudgetCommitted,
    StartsOn,
    EndsOn,
    Links,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Id,
    ProjectId,
    ActionId,
    Kind,
    CompetenceCode,
    Name,
    Unit,
    Direction,
    Periodicity,
    Method,
    Source,
    ResponsibleId,
    Aggregation,
    BaselineValue,
    BaselinePeriod,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IndicatorTarget {
    Table,
    Id,
    IndicatorId,
    DueOn,
    Value,
}

#[derive(DeriveIden)]
enum Measurement {
    Table,
    Id,
    IndicatorId,
    CommuneId,
    Period,
    Value,
    Distribution,
    Responses,
    Source,
    Comment,
    RecordedById,
    RecordedAt,
    Corrects,
    SupersededAt,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TerritorialProject::Table)
                    .col(big_pk_auto(TerritorialProject::Id))
                    .col(string_len(TerritorialProject::Kind, 32))
                    .col(string(TerritorialProject::Title))
                    .col(text_null(TerritorialProject::Description))
                    .col(big_integer(TerritorialProject::DraftedById))
                    .col(string_len(TerritorialProject::Status, 16))
                    .col(date(TerritorialProject::ValidFrom))
                    .col(date_null(TerritorialProject::ValidTo))
                    .col(timestamp_with_time_zone_null(TerritorialProject::SignedAt))
                    .col(big_integer(TerritorialProject::Version))
                    .col(timestamp_with_time_zone(TerritorialProject::CreatedAt))
                    .col(timestamp_with_time_zone(TerritorialProject::UpdatedAt))
                    .foreign_key(&mut fk(
                        (TerritorialProject::Table, TerritorialProject::DraftedById),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectParty::Table)
                    .col(big_pk_auto(ProjectParty::Id))
                    .col(big_integer(ProjectParty::ProjectId))
                    .col(big_integer(ProjectParty::OrganisationId))
                    .col(string_len(ProjectParty::Role, 16))
                    .foreign_key(&mut fk(
                        (ProjectParty::Table, ProjectParty::ProjectId),
                        (TerritorialProject::Table, TerritorialProject::Id),
                    ))
                    .foreign_key(&mut fk(
                        (ProjectParty::Table, ProjectParty::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectCommune::Table)
                    .col(big_integer(ProjectCommune::ProjectId))
                    .col(big_integer(ProjectCommune::CommuneId))
                    .primary_key(
                        Index::create()
                            .col(ProjectCommune::ProjectId)
                            .col(ProjectCommune::CommuneId),
                    )
                    .foreign_key(&mut fk(
                        (ProjectCommune::Table, ProjectCommune::ProjectId),
                        (TerritorialProject::Table, TerritorialProject::Id),
                    ))
                    .foreign_key(&mut fk(
                        (ProjectCommune::Table, ProjectCommune::CommuneId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectAction::Table)
                    .col(big_pk_auto(ProjectAction::Id))
                    .col(big_integer(ProjectAction::ProjectId))
                    .col(string(ProjectAction::Axis))
                    .col(string(ProjectAction::Title))
                    .col(big_integer(ProjectAction::PilotId))
                    .col(string_len(ProjectAction::Status, 16))
                    .col(big_integer_null(ProjectAction::BudgetPlanned))
                    .col(big_integer_null(ProjectAction::BudgetCommitted))
                    .col(date_null(ProjectAction::StartsOn))
                    .col(date_null(ProjectAction::EndsOn))
                    .col(text(ProjectAction::Links))
                    .col(big_integer(ProjectAction::Version))
                    .col(timestamp_with_time_zone(ProjectAction::UpdatedAt))
                    .foreign_key(&mut fk(
                        (ProjectAction::Table, ProjectAction::ProjectId),
                        (TerritorialProject::Table, TerritorialProject::Id),
                    ))
                    .foreign_key(&mut fk(
                        (ProjectAction::Table, ProjectAction::PilotId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Indicator::Table)
                    .col(big_pk_auto(Indicator::Id))
                    .col(big_integer(Indicator::ProjectId))
                    .col(big_integer_null(Indicator::ActionId))
                    .col(string_len(Indicator::Kind, 32))
                    .col(string_len_null(Indicator::CompetenceCode, 16))
                    .col(string(Indicator::Name))
                    .col(string_len(Indicator::Unit, 32))
                    .col(string_len(Indicator::Direction, 16))
                    .col(string_len(Indicator::Periodicity, 16))
                    .col(text(Indicator::Method))
                    .col(string(Indicator::Source))
                    .col(big_integer(Indicator::ResponsibleId))
                    .col(string_len(Indicator::Aggregation, 32))
                    .col(double(Indicator::BaselineValue))
                    .col(date(Indicator::BaselinePeriod))
                    .col(big_integer(Indicator::Version))
                    .col(timestamp_with_time_zone(Indicator::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Indicator::Table, Indicator::ProjectId),
                        (TerritorialProject::Table, TerritorialProject::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Indicator::Table, Indicator::ResponsibleId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IndicatorTarget::Table)
                    .col(big_pk_auto(IndicatorTarget::Id))
                    .col(big_integer(IndicatorTarget::IndicatorId))
                    .col(date(IndicatorTarget::DueOn))
                    .col(double(IndicatorTarget::Value))
                    .foreign_key(&mut fk(
                        (IndicatorTarget::Table, IndicatorTarget::IndicatorId),
                        (Indicator::Table, Indicator::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Measurement::Table)
                    .col(big_pk_auto(Measurement::Id))
                    .col(big_integer(Measurement::IndicatorId))
                    .col(big_integer_null(Measurement::CommuneId))
                    .col(date(Measurement::Period))
                    .col(double(Measurement::Value))
                    .col(text_null(Measurement::Distribution))
                    .col(big_integer_null(Measurement::Responses))
                    .col(string(Measurement::Source))
                    .col(text_null(Measurement::Comment))
                    .col(big_integer(Measurement::RecordedById))
                    .col(timestamp_with_time_zone(Measurement::RecordedAt))
                    .col(big_integer_null(Measurement::Corrects))
                    .col(timestamp_with_time_zone_null(Measurement::SupersededAt))
                    .foreign_key(&mut fk(
                        (Measurement::Table, Measurement::IndicatorId),
                        (Indicator::Table, Indicator::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            ("idx_project_party_project", "project_party", "project_id"),
            ("idx_project_party_org", "project_party", "organisation_id"),
            (
                "idx_project_commune_commune",
                "project_commune",
                "commune_id",
            ),
            ("idx_project_action_project", "project_action", "project_id"),
            ("idx_indicator_project", "indicator", "project_id"),
            (
                "idx_indicator_target_indicator",
                "indicator_target",
                "indicator_id",
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        // One current value per indicator, commune and period: a correction supersedes the
        // value in the same transaction. Partial unique indexes read the same on both engines;
        // the commune is coalesced so that whole-territory values (null) are unique too.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_measurement_current ON measurement \
                 (indicator_id, COALESCE(commune_id, 0), period) WHERE superseded_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Measurement::Table.into_iden(),
            IndicatorTarget::Table.into_iden(),
            Indicator::Table.into_iden(),
            ProjectAction::Table.into_iden(),
            ProjectCommune::Table.into_iden(),
            ProjectParty::Table.into_iden(),
            TerritorialProject::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
