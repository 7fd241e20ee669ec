//! Maillage's sea-orm entities: one module per table, plus the value types stored in them.
//!
//! Entities hold data only; the rules live in `api::domain`.

pub mod audit_record;
pub mod change_event;
pub mod contact_point;
pub mod idempotency_record;
pub mod membership;
pub mod organisation;
pub mod reference_dataset;
pub mod succession;
pub mod values;

pub use values::{ContactKind, MembershipKind, OrganisationKind, SuccessionKind, Visibility};
