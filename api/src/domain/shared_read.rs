//! Small reads shared by concurrent readers (the registry's version, the change feed's head):
//! under load one statement answers many requests, and never one sent before a reader
//! arrived, so a reader still sees every write acknowledged before it asked.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{AppError, AppResult};

/// A small read (a version, a head) shared by concurrent readers. A read may answer every
/// reader that arrived before its statement was sent: whatever was committed before such a
/// reader arrived was committed before the statement ran, so it sees it. Under load one
/// statement answers many requests; alone, a request gets a read of its own.
#[derive(Debug, Default)]
pub struct SharedRead {
    /// Readers so far; a reader's ticket is its number.
    arrivals: AtomicU64,
    /// The latest check: the readers it answers (tickets below this) and the version it read
    /// (none: the database did not answer, and neither will it for them).
    latest: std::sync::Mutex<(u64, Option<i64>)>,
    /// One check at a time.
    running: tokio::sync::Mutex<()>,
    /// Statements sent so far.
    sent: AtomicU64,
}

impl SharedRead {
    fn answered(&self, ticket: u64) -> Option<AppResult<i64>> {
        let latest = self.latest.lock().ok()?;
        (latest.0 > ticket).then(|| latest.1.ok_or(AppError::ServiceUnavailable))
    }

    /// How many reads were sent so far (each answering one reader or more).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The answer of a `read` sent after this call began: this reader's own, or that of a
    /// check sent after it arrived.
    pub async fn shared<F, R>(&self, read: F) -> AppResult<i64>
    where
        F: FnOnce() -> R,
        R: std::future::Future<Output = AppResult<i64>>,
    {
        let ticket = self.arrivals.fetch_add(1, Ordering::AcqRel);
        if let Some(answer) = self.answered(ticket) {
            return answer;
        }
        let _turn = self.running.lock().await;
        if let Some(answer) = self.answered(ticket) {
            return answer;
        }
        let answers = self.arrivals.load(Ordering::Acquire);
        self.sent.fetch_add(1, Ordering::Relaxed);
        // A failure answers the waiting readers too: retrying one after another would keep
        // each waiting for every earlier one's timeout while the database is away.
        let read = read().await;
        if let Ok(mut latest) = self.latest.lock()
            && latest.0 < answers
        {
            *latest = (answers, read.as_ref().ok().copied());
        }
        read
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Readers arriving while a check is held share the next check: however the tasks are
    /// scheduled, 32 readers cost at most two reads (the one already sent, and one for all
    /// who arrived after it was sent).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_arriving_during_a_check_share_the_next_one() {
        const READERS: u64 = 32;
        let checks = Arc::new(SharedRead::default());
        let reads = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..READERS)
            .map(|_| {
                let (checks, reads) = (checks.clone(), reads.clone());
                tokio::spawn(async move {
                    let inner = checks.clone();
                    checks
                        .shared(|| async move {
                            reads.fetch_add(1, Ordering::SeqCst);
                            // Held until every reader has arrived.
                            while inner.arrivals.load(Ordering::SeqCst) < READERS {
                                tokio::task::yield_now().await;
                            }
                            Ok(7)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.ok().and_then(Result::ok), Some(7));
        }
        let reads = reads.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&reads),
            "{reads} reads for {READERS} readers"
        );
    }

    /// A failed check answers the readers waiting on it with the same failure.
    #[tokio::test]
    async fn a_failed_check_answers_its_waiters() {
        let checks = SharedRead::default();
        let first = checks.shared(|| async { Err(AppError::ServiceUnavailable) });
        assert!(matches!(first.await, Err(AppError::ServiceUnavailable)));
        // A reader arriving afterwards gets a check of its own.
        assert_eq!(checks.shared(|| async { Ok(3) }).await.ok(), Some(3));
    }
}
