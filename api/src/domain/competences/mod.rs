//! Competences: the catalogue and its legal layers, declared assignments, transfers, and the
//! layered answer to "who does what here".

pub mod ancestry;
pub mod assignments;
pub mod bulk;
pub mod catalogue;
pub mod declarations;
pub mod holdings;
pub mod law;
pub mod precedence;
pub mod resolve;
pub mod transfers;

use chrono::NaiveDate;
use entity::{AssignmentBasis, CompetenceRole, assignment};

pub use catalogue::Catalogue;
pub use resolve::{Resolution, Subject, Through, resolve};

/// Where a responsibility comes from, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Declared by an organisation (assignment, transfer, delegation).
    Declared,
    /// Given whole by a special status of the territory (Île-de-France Mobilités…).
    SpecialStatus,
    /// Mandatory for the commune's EPCI or EPT by law.
    LegalBaseline,
    /// Held by a level of government by default.
    LegalDefault,
}

/// One answer: who plays which role in a competence, from which layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsibility {
    /// The organisation.
    pub organisation_id: i64,
    /// Catalogue position of the competence.
    pub competence: usize,
    /// Its role.
    pub role: CompetenceRole,
    /// Where the answer comes from.
    pub layer: Layer,
    /// What gives it the competence.
    pub basis: Option<AssignmentBasis>,
    /// Start (inclusive).
    pub valid_from: Option<NaiveDate>,
    /// End (exclusive).
    pub valid_to: Option<NaiveDate>,
    /// The declared assignment, for the `DECLARED` layer.
    pub assignment_id: Option<i64>,
    /// A condition the law attaches.
    pub condition: Option<String>,
    /// The legal source: an article, a note, or the assignment's legal reference.
    pub source: String,
}

impl Responsibility {
    /// The responsibility a declared assignment gives.
    pub fn declared(competence: usize, a: &assignment::Model) -> Self {
        Self {
            organisation_id: a.organisation_id,
            competence,
            role: a.role,
            layer: Layer::Declared,
            basis: Some(a.basis),
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            assignment_id: Some(a.id),
            condition: None,
            source: a
                .legal_reference
                .clone()
                .unwrap_or_else(|| "declared by the organisation".into()),
        }
    }
}
