//! A short-lived cache of "which commune does this code name, and which groups is it in", the
//! reference-data half of every resolution. Declared assignments are always read fresh.
//!
//! The map changes once a year (a reference import) and groupings rarely; entries live
//! [`TTL`] at most, so a change made by another process or instance shows within that time,
//! and [`ChainCache::clear`] drops everything at once for changes made here.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use lru::LruCache;

use super::resolve::{Ancestor, Subject};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(30);
/// Entries kept (a few kilobytes each).
const CAPACITY: usize = 4096;

/// A commune's subject and groups at a date.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The commune the code names, and how.
    pub subject: Subject,
    /// The commune, its groups and the State services serving it.
    pub ancestors: Vec<Ancestor>,
}

type Entry = (Instant, Option<Arc<Chain>>);

/// The cache.
pub struct ChainCache {
    entries: Mutex<LruCache<(String, NaiveDate), Entry>>,
}

impl Default for ChainCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl ChainCache {
    /// The cached chain of `code` at `at`: `Some(None)` when the code is known to name no
    /// commune then, `None` when not cached (or expired).
    pub fn get(&self, code: &str, at: NaiveDate) -> Option<Option<Arc<Chain>>> {
        let mut entries = self.entries.lock().ok()?;
        let key = (code.to_owned(), at);
        match entries.get(&key) {
            Some((stored, chain)) if stored.elapsed() < TTL => Some(chain.clone()),
            Some(_) => {
                entries.pop(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers the chain of `code` at `at`.
    pub fn put(&self, code: &str, at: NaiveDate, chain: Option<Arc<Chain>>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.put((code.to_owned(), at), (Instant::now(), chain));
        }
    }

    /// Forgets everything (after a change to the map or to groupings).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}
