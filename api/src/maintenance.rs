//! Periodic work of a serving instance: the retention purge of referrals' personal data.
//! Every instance runs it; the work is conditional on versions, so instances never collide.

use std::time::Duration;

use crate::AppState;
use crate::domain::referrals::retention;

/// Time between two runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Runs the periodic work now and every [`EVERY`] until shutdown begins.
pub async fn run(state: AppState) {
    let stop = state.shutdown.begun();
    tokio::pin!(stop);
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticks.tick() => once(&state).await,
        }
    }
}

/// One run, reading the state's clock.
pub async fn once(state: &AppState) {
    match retention::purge(
        &state.db,
        state.clock.now(),
        state.referral_retention,
        (Some(state.feed.clone()), Some(state.write_gate.clone())),
    )
    .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            purged = n,
            "referrals' personal data purged after retention"
        ),
        Err(e) => tracing::warn!(error = %e, "the retention purge failed; it runs again later"),
    }
}
