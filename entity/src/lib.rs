//! Maillage's sea-orm entities: one module per table, plus the value types stored in them.
//!
//! Entities hold data only; the rules live in `api::domain`.

pub mod agreement;
pub mod agreement_competence;
pub mod agreement_document;
pub mod agreement_party;
pub mod agreement_resource;
pub mod assignment;
pub mod assignment_scope;
pub mod audit_record;
pub mod change_event;
pub mod competence;
pub mod competence_values;
pub mod consent;
pub mod contact_point;
pub mod idempotency_record;
pub mod indicator;
pub mod indicator_target;
pub mod legal_rule;
pub mod mandate;
pub mod measurement;
pub mod membership;
pub mod organisation;
pub mod project_action;
pub mod project_commune;
pub mod project_party;
pub mod project_values;
pub mod reference_dataset;
pub mod referral;
pub mod referral_deadlines;
pub mod referral_hop;
pub mod reservation;
pub mod resource;
pub mod resource_coverage;
pub mod resource_values;
pub mod succession;
pub mod territorial_project;
pub mod transfer;
pub mod values;

pub use competence_values::{
    AssignmentBasis, CompetenceRole, ConsentDecision, RuleLayer, TransferRule, TransferStatus,
};
pub use project_values::{
    ActionStatus, Aggregation, Direction, IndicatorKind, Periodicity, ProjectKind, ProjectRole,
    ProjectStatus,
};
pub use referral::ReferralStatus;
pub use resource_values::{
    AgreementKind, AgreementStatus, BookingPolicy, CostModel, CoverageScope, PartyRole,
    ReservationStatus, ResourceKind, ResourceStatus,
};
pub use values::{ContactKind, MembershipKind, OrganisationKind, SuccessionKind, Visibility};
