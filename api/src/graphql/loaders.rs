//! The request-scoped loaders of every relation a list can reach.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{OrganisationKind, contact_point, reservation, succession};
use futures_util::future::{BoxFuture, FutureExt};
use sea_orm::DatabaseConnection;

use super::batch::{BatchLoad, Batcher, Keep};
use crate::AppState;
use crate::auth::Actor;
use crate::domain::agreements;
use crate::domain::competences::{Catalogue, Responsibility, assignments, holdings, transfers};
use crate::domain::profile;
use crate::domain::projects::series;
use crate::domain::registry::{Direction, MembershipWith, Organisation, Reads};
use crate::domain::resources::availability::free_capacity;
use crate::domain::resources::reservations::{self, Side};
use crate::domain::resources::{self, Period};
use crate::error::AppResult;
use crate::graphql::guard::OperationSlot;

/// The measurements and series of indicators (reached only through visible projects).
pub struct IndicatorEvidence(DatabaseConnection);

impl BatchLoad for IndicatorEvidence {
    type Key = i64;
    type Value = Arc<series::Evidence>;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let db = self.0.clone();
        async move {
            Ok(series::evidence(&db, &keys)
                .await?
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v)))
                .collect())
        }
        .boxed()
    }
}

/// Indicators' series over other territories than their project's: every indicator asked of
/// one territory in the same few queries.
pub struct TerritorySeries(DatabaseConnection);

impl BatchLoad for TerritorySeries {
    type Key = series::TerritoryKey;
    type Value = Arc<Vec<series::Point>>;
    fn load(
        &self,
        keys: Vec<series::TerritoryKey>,
    ) -> BoxFuture<'static, AppResult<HashMap<series::TerritoryKey, Self::Value>>> {
        let db = self.0.clone();
        async move {
            Ok(series::series_of_territories(&db, &keys)
                .await?
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v)))
                .collect())
        }
        .boxed()
    }
}

/// Organisations by id.
pub struct OrganisationsById(Reads);

impl BatchLoad for OrganisationsById {
    type Key = i64;
    // Shared: at hand, the in-memory registry's row is handed out, not copied.
    type Value = Arc<Organisation>;
    fn load(
        &self,
        keys: Vec<i64>,
    ) -> BoxFuture<'static, AppResult<HashMap<i64, Arc<Organisation>>>> {
        let reads = self.0.clone();
        async move {
            Ok(reads
                .by_ids(&keys)
                .await?
                .into_iter()
                .map(|o| (o.id, Arc::new(o)))
                .collect())
        }
        .boxed()
    }
    fn at_hand(&self, key: &i64) -> Option<Option<Arc<Organisation>>> {
        self.0.organisation_at_hand(*key)
    }
}

/// The memberships of a member (valid at a date, or all), with their groups.
pub struct MembershipsOfMember(Reads);

impl BatchLoad for MembershipsOfMember {
    type Key = (i64, Option<NaiveDate>);
    type Value = Arc<Vec<MembershipWith>>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let reads = self.0.clone();
        async move {
            let mut by_date: HashMap<Option<NaiveDate>, Vec<i64>> = HashMap::new();
            for (id, at) in &keys {
                by_date.entry(*at).or_default().push(*id);
            }
            let mut out = HashMap::new();
            for (at, ids) in by_date {
                let mut found = reads.memberships_of(&ids, at).await?;
                for id in ids {
                    out.insert((id, at), Arc::new(found.remove(&id).unwrap_or_default()));
                }
            }
            Ok(out)
        }
        .boxed()
    }
    fn at_hand(&self, &(id, at): &Self::Key) -> Option<Option<Self::Value>> {
        let rows = self.0.memberships_at_hand(id, at)?;
        Some(Some(Arc::new(rows)))
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
///
/// Always batched, even when the registry copy is at hand: member lists are long, and a list
/// of groups answered without a yield (Q2, 50 groups) served a quarter fewer requests under 16
/// clients, though each cost less CPU (see `docs/benchmarks.md`, 2026-12-05).
pub struct MembersOfGroup(Reads);

impl BatchLoad for MembersOfGroup {
    type Key = MembersKey;
    type Value = Arc<Vec<MembershipWith>>;
    fn load(
        &self,
        keys: Vec<MembersKey>,
    ) -> BoxFuture<'static, AppResult<HashMap<MembersKey, Self::Value>>> {
        let reads = self.0.clone();
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
                let mut found = reads.members_of(&groups, at, &kinds).await?;
                for group in groups {
                    let key = MembersKey {
                        group,
                        at,
                        kinds: kinds.clone(),
                    };
                    out.insert(key, Arc::new(found.remove(&group).unwrap_or_default()));
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// Predecessors or successors of an organisation.
pub struct Successions(Reads);

impl BatchLoad for Successions {
    type Key = (i64, Direction);
    type Value = Vec<(succession::Model, Organisation)>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let reads = self.0.clone();
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
                let mut found = reads.successions_of(&ids, direction).await?;
                for id in ids {
                    out.insert((id, direction), found.remove(&id).unwrap_or_default());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// The contact points of organisations that the actor may see.
pub struct ContactPointsOf(DatabaseConnection, Actor);

impl BatchLoad for ContactPointsOf {
    type Key = i64;
    type Value = Vec<contact_point::Model>;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move { profile::visible_contact_points_of(&db, &actor, &keys).await }.boxed()
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
pub struct CompetencesOf(DatabaseConnection, Reads, Arc<Catalogue>);

impl BatchLoad for CompetencesOf {
    type Key = (i64, NaiveDate);
    type Value = Vec<Responsibility>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        let reads = self.1.clone();
        let catalogue = self.2.clone();
        async move {
            let mut by_date: HashMap<NaiveDate, Vec<i64>> = HashMap::new();
            for (id, at) in &keys {
                by_date.entry(*at).or_default().push(*id);
            }
            let mut out = HashMap::new();
            for (at, ids) in by_date {
                let orgs = reads.by_ids(&ids).await?;
                let found = holdings::of_organisations(&db, &reads, &catalogue, &orgs, at).await?;
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

/// Shared resources by id, with their coverage (visibility is the resolver's to apply).
pub struct ResourcesById(DatabaseConnection, Actor);

impl BatchLoad for ResourcesById {
    type Key = i64;
    type Value = resources::Resource;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move {
            Ok(resources::visible_by_ids(&db, &actor, &keys)
                .await?
                .into_iter()
                .map(|r| (r.model.id, r))
                .collect())
        }
        .boxed()
    }
}

/// Reservations by id that the actor may see (its requester's or its resource owner's
/// staff, the State).
pub struct ReservationsById(DatabaseConnection, Actor);

impl BatchLoad for ReservationsById {
    type Key = i64;
    type Value = reservation::Model;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move {
            Ok(reservations::visible_by_ids(&db, &actor, &keys)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect())
        }
        .boxed()
    }
}

/// Agreements by id that the actor may see, with parties, links, documents and consents.
pub struct AgreementsById(DatabaseConnection, Actor);

impl BatchLoad for AgreementsById {
    type Key = i64;
    type Value = agreements::Agreement;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move {
            Ok(agreements::by_ids(&db, &keys)
                .await?
                .into_iter()
                .filter(|a| a.visible_to(&actor))
                .map(|a| (a.model.id, a))
                .collect())
        }
        .boxed()
    }
}

/// The free capacity of resources over periods.
pub struct FreeCapacity(DatabaseConnection);

impl BatchLoad for FreeCapacity {
    type Key = (i64, DateTime<Utc>, DateTime<Utc>);
    type Value = i64;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        async move {
            let mut by_period: HashMap<(DateTime<Utc>, DateTime<Utc>), Vec<i64>> = HashMap::new();
            for (id, from, to) in &keys {
                by_period.entry((*from, *to)).or_default().push(*id);
            }
            let mut out = HashMap::new();
            for ((from, to), ids) in by_period {
                let rows: Vec<_> = resources::by_ids(&db, &ids)
                    .await?
                    .into_iter()
                    .map(|r| r.model)
                    .collect();
                let free = free_capacity(&db, &rows, Period { from, to }).await?;
                out.extend(free.into_iter().map(|(id, f)| ((id, from, to), f)));
            }
            Ok(out)
        }
        .boxed()
    }
}

/// The resources organisations own that the actor may see, oldest first.
pub struct ResourcesOf(DatabaseConnection, Actor);

impl BatchLoad for ResourcesOf {
    type Key = i64;
    type Value = Vec<resources::Resource>;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move {
            let mut found = resources::of_owners(&db, &keys).await?;
            for list in found.values_mut() {
                list.retain(|r| r.is_visible_to(&actor));
            }
            Ok(found)
        }
        .boxed()
    }
}

/// The reservations of organisations, as owner of the resource or as requester, newest
/// first.
pub struct ReservationsOf(DatabaseConnection);

impl BatchLoad for ReservationsOf {
    type Key = (i64, Side);
    type Value = Vec<reservation::Model>;
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>> {
        let db = self.0.clone();
        async move {
            let mut out = HashMap::new();
            for side in [Side::Owner, Side::Requester] {
                let orgs: Vec<i64> = keys
                    .iter()
                    .filter(|(_, s)| *s == side)
                    .map(|(o, _)| *o)
                    .collect();
                if orgs.is_empty() {
                    continue;
                }
                let mut found = reservations::of_organisations(&db, &orgs, side).await?;
                for org in orgs {
                    out.insert((org, side), found.remove(&org).unwrap_or_default());
                }
            }
            Ok(out)
        }
        .boxed()
    }
}

/// The agreements organisations are party to, oldest first.
pub struct AgreementsOf(DatabaseConnection, Actor);

impl BatchLoad for AgreementsOf {
    type Key = i64;
    type Value = Vec<agreements::Agreement>;
    fn load(&self, keys: Vec<i64>) -> BoxFuture<'static, AppResult<HashMap<i64, Self::Value>>> {
        let (db, actor) = (self.0.clone(), self.1.clone());
        async move {
            let ids = agreements::ids_of_parties(&db, &keys).await?;
            let actor = &actor;
            let mut all: Vec<i64> = ids.values().flatten().copied().collect();
            all.sort_unstable();
            all.dedup();
            let found: HashMap<i64, agreements::Agreement> = agreements::by_ids(&db, &all)
                .await?
                .into_iter()
                .filter(|a| a.visible_to(actor))
                .map(|a| (a.model.id, a))
                .collect();
            Ok(keys
                .into_iter()
                .map(|org| {
                    let list = ids
                        .get(&org)
                        .map(|l| l.iter().filter_map(|id| found.get(id).cloned()).collect())
                        .unwrap_or_default();
                    (org, list)
                })
                .collect())
        }
        .boxed()
    }
}

/// Every loader of one request.
pub struct Loaders {
    /// The registry reads the loaders go through (lookups and lists use them too).
    pub registry: Reads,
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
    /// Shared resources.
    pub resources: Batcher<ResourcesById>,
    /// Reservations.
    pub reservations: Batcher<ReservationsById>,
    /// Agreements.
    pub agreements: Batcher<AgreementsById>,
    /// Free capacity over periods.
    pub free_capacity: Batcher<FreeCapacity>,
    /// Resources of owners.
    pub resources_of: Batcher<ResourcesOf>,
    /// Reservations of organisations.
    pub reservations_of: Batcher<ReservationsOf>,
    /// Agreements of parties.
    pub agreements_of: Batcher<AgreementsOf>,
    /// The measurements and series of indicators.
    pub indicators: Batcher<IndicatorEvidence>,
    /// Indicators' series over territories.
    pub territory_series: Batcher<TerritorySeries>,
}

impl Loaders {
    /// Fresh loaders (and caches) for one request by `actor`: they return only what it may
    /// see. A query reads the registry at one version (checked once) and keeps what it
    /// loaded; a mutation checks the version at every read and keeps nothing, so that each
    /// of its fields sees the writes before it.
    pub fn new(state: &AppState, operation: &OperationSlot, actor: &Actor) -> Self {
        let info = operation.info.clone();
        let is_query: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(move || {
            info.lock()
                .ok()
                .is_some_and(|i| i.as_ref().is_some_and(|i| !i.mutation))
        });
        let pin_while = is_query.clone();
        let reads = Reads::pinned(state.db.clone(), state.registry.clone(), move || {
            pin_while()
        });
        Self::build(state, reads, actor, Keep::WhileQuery(is_query))
    }

    /// Loaders for a long-lived connection: they batch but keep nothing, so that every
    /// subscription event reads the data as it is then and memory does not grow.
    pub fn uncached(state: &AppState, actor: &Actor) -> Self {
        Self::build(state, state.registry_reads(), actor, Keep::Never)
    }

    fn build(state: &AppState, reads: Reads, actor: &Actor, keep: Keep) -> Self {
        let db = &state.db;
        let catalogue = &state.catalogue;
        Self {
            organisations: Batcher::new(OrganisationsById(reads.clone()), keep.clone()),
            memberships: Batcher::new(MembershipsOfMember(reads.clone()), keep.clone()),
            members: Batcher::new(MembersOfGroup(reads.clone()), keep.clone()),
            successions: Batcher::new(Successions(reads.clone()), keep.clone()),
            contact_points: Batcher::new(ContactPointsOf(db.clone(), actor.clone()), keep.clone()),
            profiles: Batcher::new(ProfilesOf(db.clone()), keep.clone()),
            competences: Batcher::new(
                CompetencesOf(db.clone(), reads.clone(), catalogue.clone()),
                keep.clone(),
            ),
            assignments: Batcher::new(AssignmentsById(db.clone()), keep.clone()),
            transfers: Batcher::new(TransfersById(db.clone()), keep.clone()),
            resources: Batcher::new(ResourcesById(db.clone(), actor.clone()), keep.clone()),
            reservations: Batcher::new(ReservationsById(db.clone(), actor.clone()), keep.clone()),
            agreements: Batcher::new(AgreementsById(db.clone(), actor.clone()), keep.clone()),
            free_capacity: Batcher::new(FreeCapacity(db.clone()), keep.clone()),
            resources_of: Batcher::new(ResourcesOf(db.clone(), actor.clone()), keep.clone()),
            reservations_of: Batcher::new(ReservationsOf(db.clone()), keep.clone()),
            agreements_of: Batcher::new(AgreementsOf(db.clone(), actor.clone()), keep.clone()),
            indicators: Batcher::new(IndicatorEvidence(db.clone()), keep.clone()),
            territory_series: Batcher::new(TerritorySeries(db.clone()), keep.clone()),
            registry: reads,
        }
    }
}
