//! Graceful shutdown: once it begins, `/readyz` says so, live connections (WebSocket
//! subscriptions, SSE streams) are closed properly, and `serve` waits for them, bounded.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

/// The shutdown state shared by every part of one server.
#[derive(Debug)]
pub struct Shutdown {
    begun: watch::Sender<bool>,
    live: TaskTracker,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            begun: watch::channel(false).0,
            live: TaskTracker::new(),
        }
    }
}

impl Shutdown {
    /// Starts shutting down: readiness turns false and live connections close.
    pub fn begin(&self) {
        self.begun.send_replace(true);
    }

    /// Whether shutdown has begun.
    pub fn has_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Completes once shutdown has begun.
    pub fn begun(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.begun.subscribe();
        async move {
            // An error means the sender is gone: the server is going away too.
            let _ = rx.wait_for(|begun| *begun).await;
        }
    }

    /// Runs `connection` as a live connection that shutdown waits for.
    pub fn track<F: Future>(&self, connection: F) -> impl Future<Output = F::Output> + use<F> {
        self.live.track_future(connection)
    }

    /// Waits for live connections to close, at most `within`; whether they all did.
    pub async fn drained(&self, within: Duration) -> bool {
        self.live.close();
        tokio::time::timeout(within, self.live.wait()).await.is_ok()
    }
}
