//! Request-scoped batching of lookups, so that a list never issues one query per row.
//!
//! async-graphql's `DataLoader` gathers keys during a timer delay, and tokio timers tick in
//! milliseconds: every nesting level would wait ≥ 1 ms. Sibling resolvers of a list are
//! polled in one pass of the same task, so a batch here gathers keys until the task yields
//! once, then runs one query for all of them.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::error::{AppError, AppResult};

/// Loads many keys in one query.
pub trait BatchLoad: Send + Sync + 'static {
    /// Lookup key.
    type Key: Eq + Hash + Clone + Send + Sync + 'static;
    /// What a key yields.
    type Value: Clone + Send + Sync + 'static;
    /// Loads `keys`; keys without a value are absent from the map.
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>>;

    /// The value of `key` if it is at hand without a query (data already in memory), as
    /// `load` would give it; `None` to load it in a batch. A batch shares one query among
    /// keys; with no query to share, it would only add a yield and a channel per key.
    fn at_hand(&self, _key: &Self::Key) -> Option<Option<Self::Value>> {
        None
    }
}

type Outcome<K, V> = Result<Arc<HashMap<K, V>>, AppError>;

struct OpenBatch<K, V> {
    keys: Vec<K>,
    done: watch::Sender<Option<Outcome<K, V>>>,
}

struct State<K, V> {
    open: Option<OpenBatch<K, V>>,
    cache: HashMap<K, Option<V>>,
}

/// Whether batchers keep what they loaded for the rest of the request.
#[derive(Clone)]
pub enum Keep {
    /// Never: a stream's events each read the data as it is then.
    Never,
    /// While the request runs a query (the predicate says so): a mutation's fields each run
    /// after their own write, so nothing read before a write may answer after it.
    WhileQuery(Arc<dyn Fn() -> bool + Send + Sync>),
}

impl Keep {
    fn now(&self) -> bool {
        match self {
            Keep::Never => false,
            Keep::WhileQuery(is_query) => is_query(),
        }
    }
}

/// Batches and caches one kind of lookup for the duration of a request.
pub struct Batcher<L: BatchLoad> {
    loader: L,
    /// Whether values are kept once loaded.
    keep: Keep,
    state: Mutex<State<L::Key, L::Value>>,
}

impl<L: BatchLoad> Batcher<L> {
    /// A batcher over `loader`, keeping what it loaded as `keep` says.
    pub fn new(loader: L, keep: Keep) -> Self {
        Self {
            loader,
            keep,
            state: Mutex::new(State {
                open: None,
                cache: HashMap::new(),
            }),
        }
    }

    /// The value of `key`, loaded together with every key asked for in the same pass.
    ///
    /// The first caller of a pass leads: it yields once, so that its siblings join the
    /// batch, then runs the query and publishes the result to them. Followers only wait:
    /// they never drive the query themselves, which would close the batch early.
    pub async fn load(&self, key: L::Key) -> AppResult<Option<L::Value>> {
        if let Some(value) = self.loader.at_hand(&key) {
            return Ok(value);
        }
        let mut follower = None;
        {
            let mut state = self.state.lock().map_err(|_| AppError::Internal)?;
            if let Some(hit) = state.cache.get(&key).filter(|_| self.keep.now()) {
                return Ok(hit.clone());
            }
            match &mut state.open {
                Some(open) => {
                    open.keys.push(key.clone());
                    follower = Some(open.done.subscribe());
                }
                None => {
                    let (done, _) = watch::channel(None);
                    state.open = Some(OpenBatch {
                        keys: vec![key.clone()],
                        done,
                    });
                }
            }
        }
        let values = match follower {
            Some(mut rx) => {
                let outcome = rx
                    .wait_for(Option::is_some)
                    .await
                    .map_err(|_| AppError::Internal)?;
                outcome.clone().ok_or(AppError::Internal)??
            }
            None => self.lead().await?,
        };
        Ok(values.get(&key).cloned())
    }

    /// The values of `keys` (those that have one), loaded in one batch.
    pub async fn load_many(&self, keys: Vec<L::Key>) -> AppResult<HashMap<L::Key, L::Value>> {
        let values =
            futures_util::future::try_join_all(keys.iter().cloned().map(|k| self.load(k))).await?;
        Ok(keys
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    async fn lead(&self) -> Outcome<L::Key, L::Value> {
        tokio::task::yield_now().await;
        let OpenBatch { keys, done } = {
            let mut state = self.state.lock().map_err(|_| AppError::Internal)?;
            state.open.take().ok_or(AppError::Internal)?
        };
        let mut seen = HashSet::new();
        let unique: Vec<L::Key> = keys
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect();
        let outcome = self.loader.load(unique.clone()).await.map(Arc::new);
        if self.keep.now()
            && let Ok(values) = &outcome
            && let Ok(mut state) = self.state.lock()
        {
            for k in unique {
                let v = values.get(&k).cloned();
                state.cache.insert(k, v);
            }
        }
        done.send_replace(Some(outcome.clone()));
        outcome
    }
}
