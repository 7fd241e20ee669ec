//! The one clock the domain reads: the system clock in production, a clock starting at a
//! fixed instant in tests (so that "today" is the same on any day the suite runs).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

/// Tells the time. Cheap to clone; clones share their offset.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Start {
    System,
    Fixed { at: DateTime<Utc>, since: Instant },
}

#[derive(Debug)]
struct Inner {
    start: Start,
    /// Microseconds added by [`Clock::advance`].
    offset_micros: AtomicI64,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::with(Start::System)
    }

    /// A clock that reads `at` now and runs on from there at the pace of real time.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self::with(Start::Fixed {
            at,
            since: Instant::now(),
        })
    }

    fn with(start: Start) -> Self {
        Self {
            inner: Arc::new(Inner {
                start,
                offset_micros: AtomicI64::new(0),
            }),
        }
    }

    /// The current instant, to the microsecond.
    pub fn now(&self) -> DateTime<Utc> {
        let base = match &self.inner.start {
            Start::System => Utc::now(),
            Start::Fixed { at, since } => {
                *at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
            }
        };
        let now =
            base + chrono::Duration::microseconds(self.inner.offset_micros.load(Ordering::Relaxed));
        // Microseconds: what PostgreSQL keeps, so that both engines answer the same instants.
        now.trunc_subsecs(6)
    }

    /// Today's date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves the clock forward by `by` (tests: deadlines, retention periods).
    pub fn advance(&self, by: chrono::Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.inner
            .offset_micros
            .fetch_add(micros, Ordering::Relaxed);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_starts_where_told_and_advances() {
        let start = DateTime::parse_from_rfc3339("2026-06-15T08:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let clock = Clock::starting_at(start);
        assert_eq!(clock.today(), start.date_naive());
        assert!(clock.now() >= start);
        clock.advance(chrono::Duration::days(2));
        assert_eq!(
            clock.today(),
            start.date_naive() + chrono::Duration::days(2)
        );
        let shared = clock.clone();
        shared.advance(chrono::Duration::days(1));
        assert_eq!(
            clock.today(),
            start.date_naive() + chrono::Duration::days(3)
        );
    }
}
