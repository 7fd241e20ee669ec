//! Request-scoped batching of lookups, so that a list never issues one query per row.
//!
//! async-graphql's `DataLoader` gathers keys during a timer delay, and tokio timers tick in
//! milliseconds: every nesting level would wait ≥ 1 ms. Sibling resolvers of a list are
//! polled in one pass of the same task, so a batch here gathers keys until the task yields
//! once, then runs one query for all of them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::error::{AppError, AppResult};

/// Loads many keys in one query.
pub trait BatchLoad: Send + Sync + 'static {
    /// Lookup key.
    type Key: Eq + Hash + Clone + Send + Sync + 'static;
    /// What a key yields.
    type Value: Clone + Send + Sync + 'static;
    /// Loads `keys`; keys without a value are absent from the map.
    fn load(&self, keys: Vec<Self::Key>) -> BoxFuture<'static, AppResult<HashMap<Self::Key, Self::Value>>>;
}

type Outcome<K, V> = Result<Arc<HashMap<K, V>>, AppError>;

struct OpenBatch<K, V> {
    keys: Vec<K>,
    done: Shared<BoxFuture<'static, Outcome<K, V>>>,
}

struct State<K, V> {
    open: Option<OpenBatch<K, V>>,
    cache: HashMap<K, Option<V>>,
}

/// Batches and caches one kind of lookup for the duration of a request.
pub struct Batcher<L: BatchLoad> {
    loader: Arc<L>,
    state: Arc<Mutex<State<L::Key, L::Value>>>,
}

impl<L: BatchLoad> Batcher<L> {
    /// A batcher over `loader`.
    pub fn new(loader: L) -> Self {
        Self {
            loader: Arc::new(loader),
            state: Arc::new(Mutex::new(State {
                open: None,
                cache: HashMap::new(),
            })),
        }
    }

    /// The value of `key`, loaded together with every key asked for in the same pass.
    pub async fn load(&self, key: L::Key) -> AppResult<Option<L::Value>> {
        let done = {
            let mut state = self.state.lock().map_err(|_| AppError::Internal)?;
            if let Some(hit) = state.cache.get(&key) {
                return Ok(hit.clone());
            }
            match &mut state.open {
                Some(open) => {
                    open.keys.push(key.clone());
                    open.done.clone()
                }
                None => {
                    let done = self.start().shared();
                    state.open = Some(OpenBatch {
                        keys: vec![key.clone()],
                        done: done.clone(),
                    });
                    done
                }
            }
        };
        let values = done.await?;
        Ok(values.get(&key).cloned())
    }

    fn start(&self) -> BoxFuture<'static, Outcome<L::Key, L::Value>> {
        let loader = self.loader.clone();
        let state = self.state.clone();
        async move {
            // Let the sibling resolvers of this pass add their keys.
            tokio::task::yield_now().await;
            let keys = {
                let mut state = state.lock().map_err(|_| AppError::Internal)?;
                state.open.take().map(|o| o.keys).unwrap_or_default()
            };
            let mut unique = keys.clone();
            let mut seen = std::collections::HashSet::new();
            unique.retain(|k| seen.insert(k.clone()));
            let values = loader.load(unique.clone()).await?;
            let mut state = state.lock().map_err(|_| AppError::Internal)?;
            for k in unique {
                let v = values.get(&k).cloned();
                state.cache.insert(k, v);
            }
            Ok(Arc::new(values))
        }
        .boxed()
    }
}
