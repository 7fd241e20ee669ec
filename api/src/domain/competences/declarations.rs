//! The declared assignments in effect at a date, and the one rule of which cover a commune:
//! the whole-territory assignments of the commune or of any of its groups, and those whose
//! scope names it. Read from the versioned in-memory registry when it is current, by SQL
//! otherwise (the two answer alike: a test compares them).

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{assignment, assignment_scope};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::registry::Reads;
use crate::domain::valid_at;
use crate::error::AppResult;

/// Declared assignments in effect, indexed for coverage.
#[derive(Debug, Default)]
pub struct Declarations {
    all: Vec<assignment::Model>,
    /// Whole-territory assignments by organisation.
    whole: HashMap<i64, Vec<usize>>,
    /// Scoped assignments by commune of their scope.
    scoped: HashMap<i64, Vec<usize>>,
}

fn in_effect(at: NaiveDate, competence: Option<&str>) -> Condition {
    let mut cond = Condition::all().add(valid_at(
        assignment::Column::ValidFrom,
        assignment::Column::ValidTo,
        at,
    ));
    if let Some(code) = competence {
        cond = cond.add(assignment::Column::CompetenceCode.eq(code));
    }
    cond
}

impl Declarations {
    fn new(all: Vec<assignment::Model>, scopes: Vec<(i64, i64)>) -> Self {
        let mut out = Self {
            all,
            ..Self::default()
        };
        let position: HashMap<i64, usize> =
            out.all.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        for (i, a) in out.all.iter().enumerate() {
            if a.whole_territory {
                out.whole.entry(a.organisation_id).or_default().push(i);
            }
        }
        for (assignment, commune) in scopes {
            if let Some(&i) = position.get(&assignment) {
                out.scoped.entry(commune).or_default().push(i);
            }
        }
        out
    }

    /// Every assignment in effect at `at` (for `competence` when given), with their scopes.
    pub async fn in_effect<C: ConnectionTrait>(
        db: &C,
        reads: &Reads,
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Self> {
        match reads.declared_in_effect(at, competence).await? {
            Some((all, scopes)) => Ok(Self::new(all, scopes)),
            None => Self::in_effect_by_sql(db, at, competence).await,
        }
    }

    /// [`Declarations::in_effect`], read by SQL.
    pub async fn in_effect_by_sql<C: ConnectionTrait>(
        db: &C,
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Self> {
        let all = assignment::Entity::find()
            .filter(in_effect(at, competence))
            .all(db)
            .await?;
        let ids = Query::select()
            .column(assignment::Column::Id)
            .from(assignment::Entity)
            .cond_where(in_effect(at, competence))
            .to_owned();
        let scopes: Vec<(i64, i64)> = assignment_scope::Entity::find()
            .select_only()
            .column(assignment_scope::Column::AssignmentId)
            .column(assignment_scope::Column::CommuneId)
            .filter(assignment_scope::Column::AssignmentId.in_subquery(ids))
            .into_tuple()
            .all(db)
            .await?;
        Ok(Self::new(all, scopes))
    }

    /// The assignments in effect at `at` that can cover `commune`, whose groups (itself
    /// included) are `groups`.
    pub async fn of_commune<C: ConnectionTrait>(
        db: &C,
        reads: &Reads,
        commune: i64,
        groups: &[i64],
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Self> {
        match reads
            .declared_of_commune(commune, groups, at, competence)
            .await?
        {
            Some((all, scopes)) => Ok(Self::new(all, scopes)),
            None => Self::of_commune_by_sql(db, commune, groups, at, competence).await,
        }
    }

    /// [`Declarations::of_commune`], read by SQL: one query.
    pub async fn of_commune_by_sql<C: ConnectionTrait>(
        db: &C,
        commune: i64,
        groups: &[i64],
        at: NaiveDate,
        competence: Option<&str>,
    ) -> AppResult<Self> {
        let scoped = Query::select()
            .expr(Expr::val(1))
            .from(assignment_scope::Entity)
            .and_where(
                Expr::col((
                    assignment_scope::Entity,
                    assignment_scope::Column::AssignmentId,
                ))
                .equals((assignment::Entity, assignment::Column::Id)),
            )
            .and_where(assignment_scope::Column::CommuneId.eq(commune))
            .to_owned();
        let all = assignment::Entity::find()
            .filter(in_effect(at, competence))
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(assignment::Column::WholeTerritory.eq(true))
                            .add(assignment::Column::OrganisationId.is_in(groups.to_vec())),
                    )
                    .add(Expr::exists(scoped)),
            )
            .all(db)
            .await?;
        // What the query found beyond the whole-territory ones has a scope naming the commune.
        let scopes = all
            .iter()
            .filter(|a| !a.whole_territory)
            .map(|a| (a.id, commune))
            .collect();
        Ok(Self::new(all, scopes))
    }

    /// The assignments covering `commune`, whose groups (itself included) are `groups`.
    pub fn covering(&self, commune: i64, groups: &[i64]) -> Vec<&assignment::Model> {
        let mut found: Vec<usize> = groups
            .iter()
            .flat_map(|g| self.whole.get(g).into_iter().flatten())
            .chain(self.scoped.get(&commune).into_iter().flatten())
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.all[i]).collect()
    }

    /// Whether some assignment names `commune` itself (its own, or a scope naming it): its
    /// answer may then differ from its neighbours'.
    pub fn name_commune(&self, commune: i64) -> bool {
        self.whole.contains_key(&commune) || self.scoped.contains_key(&commune)
    }

    /// Every assignment in effect.
    pub fn all(&self) -> &[assignment::Model] {
        &self.all
    }
}
