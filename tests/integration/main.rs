//! Maillage's integration tests: one binary, one module per area, each test on a fresh
//! database copied from a template loaded with the national reference.
//!
//! SQLite by default; set `MAILLAGE_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) to run every test on PostgreSQL instead.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod abuse;
mod agreements;
mod auth_keys;
mod auth_tokens;
mod change_feed;
mod common;
mod competence_changes;
mod competence_import;
mod competences;
mod concurrency;
mod conformance;
mod cost;
mod direct_answers;
mod exports;
mod http;
mod http_caching;
mod identity;
mod law;
mod live_connections;
mod mandates;
mod newcomer;
mod projects;
mod red_team;
mod reference_import;
mod referral_service;
mod referrals;
mod registry_leases;
mod registry_lists;
mod registry_lookup;
mod registry_memory;
mod resources;
mod restitutions;
mod schema;
mod transfers;
mod visibility_walk;
