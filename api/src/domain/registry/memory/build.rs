//! Building the in-memory registry: one consistent read of its tables (organisations,
//! memberships, successions, declared assignments and their scopes), then indexing off the
//! async workers.

use std::collections::HashMap;
use std::sync::Arc;

use entity::{
    OrganisationKind, assignment, assignment_scope, membership, organisation, succession,
};
use futures_util::TryStreamExt;
use sea_orm::{
    AccessMode, DatabaseConnection, DbBackend, EntityTrait, IsolationLevel, Order, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::lists::Orders;
use super::{Declared, Groups, Link, MemoryRegistry};
use crate::domain::registry::rows::{Membership, Organisation, memberships, organisations};
use crate::domain::registry::version;
use crate::error::{AppError, AppResult};

/// Reads the registry as one snapshot of the database (with the version it is at) and indexes it.
pub async fn load(db: &DatabaseConnection) -> AppResult<MemoryRegistry> {
    // PostgreSQL: one snapshot for every statement. SQLite (WAL): a read transaction sees the
    // database as of its first read.
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    };
    let at_version = version(&txn).await?;
    // Streamed: collecting the raw rows first would hold several times the models' memory.
    let orgs: Vec<Organisation> = organisations()
        .order_by(organisation::Column::Id, Order::Asc)
        .into_model::<Organisation>()
        .stream(&txn)
        .await?
        .try_collect()
        .await?;
    let links: Vec<Membership> = memberships()
        .order_by(membership::Column::Id, Order::Asc)
        .into_model::<Membership>()
        .stream(&txn)
        .await?
        .try_collect()
        .await?;
    let successions = succession::Entity::find()
        .order_by(succession::Column::Date, Order::Asc)
        .order_by(succession::Column::Id, Order::Asc)
        .all(&txn)
        .await?;
    let assignments = assignment::Entity::find().all(&txn).await?;
    let scopes: Vec<(i64, i64)> = assignment_scope::Entity::find()
        .select_only()
        .column(assignment_scope::Column::AssignmentId)
        .column(assignment_scope::Column::CommuneId)
        .into_tuple()
        .all(&txn)
        .await?;
    txn.commit().await?;
    tokio::task::spawn_blocking(move || {
        let mut built = index(at_version, orgs, links, successions);
        built.declared = Declared::new(assignments, scopes);
        built
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "indexing the registry failed");
        AppError::Internal
    })
}

/// Interns provenance texts: a handful of distinct values over ~100,000 links.
#[derive(Default)]
struct Interner {
    texts: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
}

impl Interner {
    fn intern(&mut self, text: Arc<str>) -> u32 {
        if let Some(&i) = self.index.get(&*text) {
            return i;
        }
        let i = self.texts.len() as u32;
        self.index.insert(text.clone(), i);
        self.texts.push(text);
        i
    }
}

fn positions_by<K: std::hash::Hash + Eq>(
    orgs: &[Organisation],
    key: impl Fn(&Organisation) -> Option<K>,
) -> HashMap<K, Vec<u32>> {
    let mut out: HashMap<K, Vec<u32>> = HashMap::new();
    for (p, o) in orgs.iter().enumerate() {
        if let Some(k) = key(o) {
            out.entry(k).or_default().push(p as u32);
        }
    }
    out
}

fn index(
    version: i64,
    orgs: Vec<Organisation>,
    rows: Vec<Membership>,
    successions: Vec<succession::Model>,
) -> MemoryRegistry {
    let position: HashMap<i64, u32> = orgs
        .iter()
        .enumerate()
        .map(|(p, o)| (o.id, p as u32))
        .collect();
    let mut texts = Interner::default();
    let links: Vec<Link> = rows
        .into_iter()
        .filter_map(|m| {
            // Foreign keys make both ends exist; a link to nowhere would be skipped by SQL too.
            Some(Link {
                id: m.id,
                member: *position.get(&m.member_id)?,
                group: *position.get(&m.group_id)?,
                kind: m.kind,
                valid_from: m.valid_from,
                valid_to: m.valid_to,
                source: texts.intern(m.source),
                vintages: m.vintages.map(|v| texts.intern(v)),
            })
        })
        .collect();

    let mut by_start: Vec<u32> = (0..links.len() as u32).collect();
    by_start.sort_by_key(|&l| {
        let l = &links[l as usize];
        (l.valid_from, l.id)
    });
    let pairs: Vec<(u32, u32)> = by_start
        .iter()
        .map(|&l| (links[l as usize].member, l))
        .collect();
    let of_member = Groups::new(orgs.len(), &pairs);

    let mut by_member_name: Vec<u32> = (0..links.len() as u32).collect();
    by_member_name.sort_by(|&a, &b| {
        let (a, b) = (&links[a as usize], &links[b as usize]);
        let (ma, mb) = (&orgs[a.member as usize], &orgs[b.member as usize]);
        (&ma.search_name, ma.id, a.id).cmp(&(&mb.search_name, mb.id, b.id))
    });
    let pairs: Vec<(u32, u32)> = by_member_name
        .iter()
        .map(|&l| (links[l as usize].group, l))
        .collect();
    let of_group = Groups::new(orgs.len(), &pairs);

    let ends = |pick: fn(&succession::Model) -> i64| -> Vec<(u32, u32)> {
        successions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((*position.get(&pick(s))?, i as u32)))
            .collect()
    };
    let predecessors = Groups::new(orgs.len(), &ends(|s| s.successor_id));
    let successors = Groups::new(orgs.len(), &ends(|s| s.predecessor_id));

    MemoryRegistry {
        version,
        by_insee: positions_by(&orgs, |o| o.insee_code.clone()),
        by_siren: positions_by(&orgs, |o| o.siren.clone()),
        by_departement: positions_by(&orgs, |o| o.departement_code.clone()),
        by_region: positions_by(&orgs, |o| o.region_code.clone()),
        state_services: positions_by(&orgs, |o| {
            o.territory_id
                .filter(|_| o.kind == OrganisationKind::StateService)
        }),
        by_law_source: positions_by(&orgs, |o| {
            o.source.starts_with("law:").then(|| o.source.clone())
        }),
        orders: Orders::new(&orgs),
        orgs: orgs.into_iter().map(Arc::new).collect(),
        links,
        texts: texts.texts,
        of_member,
        of_group,
        successions,
        predecessors,
        successors,
        declared: Declared::default(),
    }
}
