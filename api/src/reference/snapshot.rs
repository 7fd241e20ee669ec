//! The compact reference form shipped in the repository (`api/data/reference.json.gz`):
//! the timeline of organisations, memberships and successions compiled from every vintage.

use std::io::{Read, Write};

use chrono::NaiveDate;
use entity::{MembershipKind, OrganisationKind, SuccessionKind};
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde::{Deserialize, Serialize};

use super::ReferenceError;

/// The shipped snapshot, embedded in the binary so that a fresh clone needs nothing else.
pub const SHIPPED: &[u8] = include_bytes!("../../data/reference.json.gz");

/// The whole national reference.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// Vintages it was compiled from, oldest first.
    pub vintages: Vec<i32>,
    /// Organisations; memberships and successions refer to them by position.
    pub organisations: Vec<OrganisationRecord>,
    /// Dated memberships.
    pub memberships: Vec<MembershipRecord>,
    /// Successions.
    pub successions: Vec<SuccessionRecord>,
}

/// One organisation over one period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrganisationRecord {
    /// Stable key, unique in the snapshot.
    pub key: String,
    /// Kind.
    pub kind: OrganisationKind,
    /// Latest official name.
    pub name: String,
    /// INSEE COG code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insee_code: Option<String>,
    /// SIREN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    /// Latest population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<i64>,
    /// Postal codes of a commune (latest vintage that lists them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postal_codes: Vec<String>,
    /// Start (inclusive), `None` when it predates the first vintage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// End (exclusive), `None` while it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    /// Département code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// Région code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Position of the territorial organisation a State service serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<usize>,
    /// Vintages that observed it.
    pub vintages: Vec<i32>,
}

/// One membership over one period.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MembershipRecord {
    /// Position of the member.
    pub member: usize,
    /// Position of the group.
    pub group: usize,
    /// Kind.
    pub kind: MembershipKind,
    /// Start (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// End (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    /// Vintages that observed it.
    pub vintages: Vec<i32>,
}

/// One predecessor → successor link.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuccessionRecord {
    /// Position of the predecessor.
    pub predecessor: usize,
    /// Position of the successor.
    pub successor: usize,
    /// Date it took effect.
    pub date: NaiveDate,
    /// Kind.
    pub kind: SuccessionKind,
}

impl Snapshot {
    /// Decodes a gzip-compressed snapshot.
    pub fn decode(bytes: &[u8]) -> Result<Self, ReferenceError> {
        let mut json = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut json)
            .map_err(|e| ReferenceError::Invalid(format!("snapshot is not gzip: {e}")))?;
        let snapshot: Snapshot = serde_json::from_slice(&json)
            .map_err(|e| ReferenceError::Invalid(format!("snapshot is not valid: {e}")))?;
        snapshot.check()?;
        Ok(snapshot)
    }

    /// Encodes the snapshot as gzip-compressed JSON.
    pub fn encode(&self) -> Result<Vec<u8>, ReferenceError> {
        let json = serde_json::to_vec(self)
            .map_err(|e| ReferenceError::Invalid(format!("cannot encode snapshot: {e}")))?;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&json)
            .and_then(|_| encoder.finish())
            .map_err(|e| ReferenceError::Invalid(format!("cannot compress snapshot: {e}")))
    }

    /// The snapshot as a deployment loaded from the vintages up to `year` holds it: records
    /// first observed later are left out, and what the `year` vintage observed is open-ended
    /// (names and populations stay the latest). Loading it, then the whole snapshot, is the
    /// yearly import of the next vintage: how operators rehearse it, and how CI exercises it.
    pub fn until(&self, year: i32) -> Result<Snapshot, ReferenceError> {
        let window: Vec<i32> = self
            .vintages
            .iter()
            .copied()
            .filter(|v| *v <= year)
            .collect();
        if window.is_empty() {
            return Err(ReferenceError::Invalid(format!(
                "no vintage up to {year} (the snapshot has {:?})",
                self.vintages
            )));
        }
        let jan_first = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1);
        let horizon = jan_first(year);
        // The end of a record whose last kept vintage is `last`: open when the `year` vintage
        // observed it, else the next vintage's 1 January.
        let end = |last: i32, valid_to: Option<NaiveDate>| {
            if last == year {
                None
            } else if valid_to.is_some_and(|t| Some(t) <= horizon) {
                valid_to
            } else {
                self.vintages
                    .iter()
                    .find(|v| **v > last)
                    .and_then(|v| jan_first(*v))
            }
        };
        let kept = |vintages: &[i32]| -> Vec<i32> {
            vintages.iter().copied().filter(|v| *v <= year).collect()
        };
        let mut position = vec![None; self.organisations.len()];
        let mut organisations = Vec::new();
        for (i, o) in self.organisations.iter().enumerate() {
            let vintages = kept(&o.vintages);
            let Some(&last) = vintages.last() else {
                continue;
            };
            position[i] = Some(organisations.len());
            organisations.push(OrganisationRecord {
                valid_to: end(last, o.valid_to),
                vintages,
                ..o.clone()
            });
        }
        for o in &mut organisations {
            o.territory = o.territory.and_then(|t| position[t]);
        }
        let memberships = self
            .memberships
            .iter()
            .filter_map(|m| {
                let vintages = kept(&m.vintages);
                let last = *vintages.last()?;
                Some(MembershipRecord {
                    member: position[m.member]?,
                    group: position[m.group]?,
                    valid_to: end(last, m.valid_to),
                    vintages,
                    ..m.clone()
                })
            })
            .collect();
        let successions = self
            .successions
            .iter()
            .filter(|s| Some(s.date) <= horizon)
            .filter_map(|s| {
                Some(SuccessionRecord {
                    predecessor: position[s.predecessor]?,
                    successor: position[s.successor]?,
                    ..s.clone()
                })
            })
            .collect();
        Ok(Snapshot {
            vintages: window,
            organisations,
            memberships,
            successions,
        })
    }

    /// Checks that every position points at an organisation and every key is unique.
    pub fn check(&self) -> Result<(), ReferenceError> {
        let n = self.organisations.len();
        let mut keys = std::collections::HashSet::with_capacity(n);
        for org in &self.organisations {
            if !keys.insert(org.key.as_str()) {
                return Err(ReferenceError::Invalid(format!(
                    "duplicate key {}",
                    org.key
                )));
            }
            if org.territory.is_some_and(|t| t >= n) {
                return Err(ReferenceError::Invalid(format!(
                    "bad territory in {}",
                    org.key
                )));
            }
        }
        let bad_m = self
            .memberships
            .iter()
            .any(|m| m.member >= n || m.group >= n);
        let bad_s = self
            .successions
            .iter()
            .any(|s| s.predecessor >= n || s.successor >= n);
        if bad_m || bad_s {
            return Err(ReferenceError::Invalid(
                "dangling position in snapshot".into(),
            ));
        }
        Ok(())
    }
}
