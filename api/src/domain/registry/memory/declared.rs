//! The declared assignments, held with the registry at its version (a declaration bumps it
//! like a membership does), indexed by the organisation of a whole-territory assignment and
//! by each commune a scope names: "who does what" reads no SQL.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::assignment;

use crate::domain::contains;

/// Assignments and the communes their scopes name, as a declaration read returns them.
pub type Found = (Vec<assignment::Model>, Vec<(i64, i64)>);

/// Every declared assignment, whatever its dates.
#[derive(Debug, Default)]
pub struct Declared {
    /// By id.
    all: Vec<assignment::Model>,
    /// Each scoped assignment's communes (by position in `all`).
    scopes: HashMap<u32, Vec<i64>>,
    /// Whole-territory assignments by organisation.
    whole: HashMap<i64, Vec<u32>>,
    /// Scoped assignments by commune named.
    scoped: HashMap<i64, Vec<u32>>,
}

impl Declared {
    /// Indexes `all` and the `(assignment, commune)` pairs of their scopes.
    pub fn new(mut all: Vec<assignment::Model>, scopes: Vec<(i64, i64)>) -> Self {
        all.sort_unstable_by_key(|a| a.id);
        let position: HashMap<i64, u32> = all
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i as u32))
            .collect();
        let mut out = Self::default();
        for (i, a) in all.iter().enumerate() {
            if a.whole_territory {
                out.whole
                    .entry(a.organisation_id)
                    .or_default()
                    .push(i as u32);
            }
        }
        for (assignment, commune) in scopes {
            if let Some(&i) = position.get(&assignment) {
                out.scopes.entry(i).or_default().push(commune);
                out.scoped.entry(commune).or_default().push(i);
            }
        }
        out.all = all;
        out
    }

    fn found(&self, mut positions: Vec<u32>, at: NaiveDate, competence: Option<&str>) -> Found {
        positions.sort_unstable();
        positions.dedup();
        let mut models = Vec::new();
        let mut scopes = Vec::new();
        for p in positions {
            let a = &self.all[p as usize];
            if !contains(a.valid_from, a.valid_to, at)
                || competence.is_some_and(|c| c != a.competence_code)
            {
                continue;
            }
            for &commune in self.scopes.get(&p).into_iter().flatten() {
                scopes.push((a.id, commune));
            }
            models.push(a.clone());
        }
        (models, scopes)
    }

    /// Every assignment in effect at `at` (of `competence` when given), with their scopes.
    pub fn in_effect(&self, at: NaiveDate, competence: Option<&str>) -> Found {
        self.found((0..self.all.len() as u32).collect(), at, competence)
    }

    /// The assignments in effect at `at` that can cover `commune`, whose groups (itself
    /// included) are `groups`, with the communes of their scopes that are `commune`.
    pub fn of_commune(
        &self,
        commune: i64,
        groups: &[i64],
        at: NaiveDate,
        competence: Option<&str>,
    ) -> Found {
        let positions = groups
            .iter()
            .flat_map(|g| self.whole.get(g).into_iter().flatten())
            .chain(self.scoped.get(&commune).into_iter().flatten())
            .copied()
            .collect();
        let (models, scopes) = self.found(positions, at, competence);
        // As the SQL read: only the scope entries naming the commune.
        let scopes = scopes.into_iter().filter(|&(_, c)| c == commune).collect();
        (models, scopes)
    }
}
