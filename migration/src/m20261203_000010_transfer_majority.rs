//! A transfer to an EPCI à fiscalité propre is decided by its member councils by qualified
//! majority within three months (CGCT L5211-17): the rule and the deadline are recorded, and a
//! commune finds the decisions it is asked for by an index on the party.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Transfer {
    Table,
    Rule,
    DecisionDeadline,
}

#[derive(DeriveIden)]
enum Consent {
    Table,
    PartyId,
    SubjectType,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Transfer::Table)
                    .add_column(
                        ColumnDef::new(Transfer::Rule)
                            .string()
                            .not_null()
                            .default("UNANIMITY"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transfer::Table)
                    .add_column(ColumnDef::new(Transfer::DecisionDeadline).date().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_party")
                    .table(Consent::Table)
                    .col(Consent::PartyId)
                    .col(Consent::SubjectType)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_consent_party")
                    .table(Consent::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Transfer::DecisionDeadline, Transfer::Rule] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Transfer::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
