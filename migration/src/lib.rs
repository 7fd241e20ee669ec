//! Maillage's schema migrations, applied in order at start-up; one file per change.
//!
//! A landed migration is never edited: a change to the schema is a new file.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_registry;
mod m20261122_000002_governance;
mod m20261122_000003_competences;
mod m20261122_000004_change_feed;
mod m20261122_000005_feed_order;
mod m20261122_000006_resources_agreements;
mod m20261123_000007_registry_version;
mod m20261203_000008_one_pending_transfer;
mod m20261203_000009_reserved_rules;
mod m20261203_000010_transfer_majority;
mod m20261203_000011_declarations_in_registry;
mod m20261203_000012_search_aliases;
mod m20261203_000013_postal_codes;
mod m20261203_000014_mandates;
mod m20261203_000015_referrals;
mod m20261204_000016_referral_deadlines;
mod m20261204_000017_territorial_projects;
mod m20261205_000018_registry_leases;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_registry::Migration),
            Box::new(m20261122_000002_governance::Migration),
            Box::new(m20261122_000003_competences::Migration),
            Box::new(m20261122_000004_change_feed::Migration),
            Box::new(m20261122_000005_feed_order::Migration),
            Box::new(m20261122_000006_resources_agreements::Migration),
            Box::new(m20261123_000007_registry_version::Migration),
            Box::new(m20261203_000008_one_pending_transfer::Migration),
            Box::new(m20261203_000009_reserved_rules::Migration),
            Box::new(m20261203_000010_transfer_majority::Migration),
            Box::new(m20261203_000011_declarations_in_registry::Migration),
            Box::new(m20261203_000012_search_aliases::Migration),
            Box::new(m20261203_000013_postal_codes::Migration),
            Box::new(m20261203_000014_mandates::Migration),
            Box::new(m20261203_000015_referrals::Migration),
            Box::new(m20261204_000016_referral_deadlines::Migration),
            Box::new(m20261204_000017_territorial_projects::Migration),
            Box::new(m20261205_000018_registry_leases::Migration),
        ]
    }
}
