//! A legal rule can reserve its competence to the level it names (collèges to the
//! département, lycées to the région…): declarations that contradict it are refused.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LegalRule {
    Table,
    Reserved,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LegalRule::Table)
                    .add_column(
                        ColumnDef::new(LegalRule::Reserved)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LegalRule::Table)
                    .drop_column(LegalRule::Reserved)
                    .to_owned(),
            )
            .await
    }
}
