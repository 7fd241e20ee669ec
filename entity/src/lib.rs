//! Maillage's sea-orm entities: one module per table, plus the value types stored in them.
//!
//! Entities hold data only; the rules live in `api::domain`.

pub mod membership;
pub mod organisation;
pub mod reference_dataset;
pub mod succession;
pub mod values;

pub use values::{MembershipKind, OrganisationKind, SuccessionKind};
