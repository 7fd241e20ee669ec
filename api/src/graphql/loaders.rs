//! The request-scoped loaders of every relation a list can reach.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{OrganisationKind, contact_point, succession};
use futures_util::future::{BoxFuture, FutureExt};
use sea_orm::DatabaseConnection;

use super::batch::{BatchLoad, Batcher};
use crate::domain::competences::{Catalogue, Responsibility, assignments, holdings, transfers};
use crate::domain::profile;
use crate::domain::registry::{self, Direction, MembershipWith, Organisation};
use crate::error::AppResult;

/// Organisations by id.
pub struct OrganisationsById(DatabaseConnection);

impl BatchLoad for OrganisationsById {
    type Key = i64;
    type Value = Organisation;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Organisation>>> {
        let db = self.0.clone();
        async move {
            Ok(registry::by_ids(&db, &keys)
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect())
        }
        .boxed()
    }
}

/// The memberships of a member (valid at a date, or all), with their groups.
pub struct MembershipsOfMember(DatabaseConnection);

impl BatchLoad for MembershipsOfMember {
    type Key = (i64, Option<NaiveDate>);
    type Value = Vec<MembershipWith>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        async move {
            let mut by_date: HashMap<Option<NaiveDate>, Vec<i64>> = HashMap::new();
            for (id, at) in &keys {
                by_date.entry(*at).or_default().push(*id);
            }
            let mut out = HashMap::new();
            for (at, ids) in by_date {
                let mut found = registry::memberships_of(&db, &ids, at).await?;
                for id in ids {
                    out.insert((id, at), found.remove(&id).unwrap_or_default());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// Which members of a group to load.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MembersKey {
    /// The group.
    pub group: i64,
    /// The date.
    pub at: NaiveDate,
    /// Only members of these kinds (empty: all).
    pub kinds: Vec<OrganisationKind>,
}

/// The members of a group at a date, with the member organisations.
pub struct MembersOfGroup(DatabaseConnection);

impl BatchLoad for MembersOfGroup {
    type Key = MembersKey;
    type Value = Vec<MembershipWith>;
    fn load(
        &self,
        keys: Vec<MembersKey>,
    ) -> BoxFuture<'static, AppResult<HashMap<MembersKey, Self::Value>>> {
        let db = self.0.clone();
        async move {
            let mut by_query: HashMap<(NaiveDate, Vec<OrganisationKind>), Vec<i64>> =
                HashMap::new();
            for k in &keys {
                by_query
                    .entry((k.at, k.kinds.clone()))
                    .or_default()
                    .push(k.group);
            }
            let mut out = HashMap::new();
            for ((at, kinds), groups) in by_query {
                let mut found = registry::members_of(&db, &groups, at, &kinds).await?;
                for group in groups {
                    let key = MembersKey {
                        group,
                        at,
                        kinds: kinds.clone(),
                    };
                    out.insert(key, found.remove(&group).unwrap_or_default());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// Predecessors or successors of an organisation.
pub struct Successions(DatabaseConnection);

impl BatchLoad for Successions {
    type Key = (i64, Direction);
    type Value = Vec<(succession::Model, Organisation)>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        async move {
            let mut out = HashMap::new();
            for direction in [Direction::Predecessors, Direction::Successors] {
                let ids: Vec<i64> = keys
                    .iter()
                    .filter(|(_, d)| *d == direction)
                    .map(|(id, _)| *id)
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let mut found = registry::successions_of(&db, &ids, direction).await?;
                for id in ids {
                    out.insert((id, direction), found.remove(&id).unwrap_or_default());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// The contact points of organisations.
pub struct ContactPointsOf(DatabaseConnection);

impl BatchLoad for ContactPointsOf {
    type Key = i64;
    type Value = Vec<contact_point::Model>;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let db = self.0.clone();
        async move { profile::contact_points_of(&db, &keys).await }.boxed()
    }
}

/// The profiles of organisations.
pub struct ProfilesOf(DatabaseConnection);

impl BatchLoad for ProfilesOf {
    type Key = i64;
    type Value = profile::Profile;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let db = self.0.clone();
        async move { profile::profiles_of(&db, &keys).await }.boxed()
    }
}

/// What organisations exercise at a date (declared and presumed).
pub struct CompetencesOf(DatabaseConnection, Arc<Catalogue>);

impl BatchLoad for CompetencesOf {
    type Key = (i64, NaiveDate);
    type Value = Vec<Responsibility>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        let catalogue = self.1.clone();
        async move {
            let mut by_date: HashMap<NaiveDate, Vec<i64>> = HashMap::new();
            for (id, at) in &keys {
                by_date.entry(*at).or_default().push(*id);
            }
            let mut out = HashMap::new();
            for (at, ids) in by_date {
                let orgs = registry::by_ids(&db, &ids).await?;
                let found = holdings::of_organisations(&db, &catalogue, &orgs, at).await?;
                out.extend(found.into_iter().map(|(id, v)| ((id, at), v)));
            }
            Ok(out)
        }
        .boxed()
    }
}

/// Declared assignments by id, with their scopes.
pub struct AssignmentsById(DatabaseConnection);

impl BatchLoad for AssignmentsById {
    type Key = i64;
    type Value = assignments::Assignment;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let db = self.0.clone();
        async move {
            Ok(assignments::by_ids(&db, &keys)
                .await?
                .into_iter()
                .map(|a| (a.model.id, a))
                .collect())
        }
        .boxed()
    }
}

/// Competence transfers by id, with their consents.
pub struct TransfersById(DatabaseConnection);

impl BatchLoad for TransfersById {
    type Key = i64;
    type Value = transfers::Transfer;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let db = self.0.clone();
        async move {
            Ok(transfers::by_ids(&db, &keys)
                .await?
                .into_iter()
                .map(|t| (t.model.id, t))
                .collect())
        }
        .boxed()
    }
}

/// Every loader of one request.
pub struct Loaders {
    /// Organisations by id.
    pub organisations: Batcher<OrganisationsById>,
    /// Memberships of members.
    pub memberships: Batcher<MembershipsOfMember>,
    /// Members of groups.
    pub members: Batcher<MembersOfGroup>,
    /// Successions.
    pub successions: Batcher<Successions>,
    /// Contact points.
    pub contact_points: Batcher<ContactPointsOf>,
    /// Profiles.
    pub profiles: Batcher<ProfilesOf>,
    /// Competences exercised.
    pub competences: Batcher<CompetencesOf>,
    /// Declared assignments.
    pub assignments: Batcher<AssignmentsById>,
    /// Competence transfers.
    pub transfers: Batcher<TransfersById>,
}

impl Loaders {
    /// Fresh loaders (and caches) for one request.
    pub fn new(db: &DatabaseConnection, catalogue: &Arc<Catalogue>) -> Self {
        Self {
            organisations: Batcher::new(OrganisationsById(db.clone())),
            memberships: Batcher::new(MembershipsOfMember(db.clone())),
            members: Batcher::new(MembersOfGroup(db.clone())),
            successions: Batcher::new(Successions(db.clone())),
            contact_points: Batcher::new(ContactPointsOf(db.clone())),
            profiles: Batcher::new(ProfilesOf(db.clone())),
            competences: Batcher::new(CompetencesOf(db.clone(), catalogue.clone())),
            assignments: Batcher::new(AssignmentsById(db.clone())),
            transfers: Batcher::new(TransfersById(db.clone())),
        }
    }
}
