//! Live change feed: `subscription { changes(after, entityTypes, organisation) }`.
//!
//! Each subscriber reads the event table from its cursor, page by page, and waits for a
//! wake-up (or [`POLL`] at most) when it has caught up. Nothing is buffered per subscriber
//! beyond one page: a slow client only falls behind and reads on from the table.

use std::collections::VecDeque;
use std::time::Duration;

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::stream;
use futures_util::{Stream, StreamExt};

use super::feed::ChangeEvent;
use crate::AppState;
use crate::auth::Actor;
use crate::domain::feed::{self, FeedFilter, Position};
use crate::graphql::context::{actor, state};
use crate::graphql::ids::{self, NodeType};

/// Longest wait between two looks at the table, wake-up or not.
pub const POLL: Duration = Duration::from_secs(5);
/// Events read per look.
const PAGE: usize = 100;

/// The change feed, live.
#[derive(Default)]
pub struct FeedSubscription;

struct Follower {
    state: AppState,
    actor: Actor,
    filter: FeedFilter,
    after: Option<Position>,
    pending: VecDeque<entity::change_event::Model>,
    wake: tokio::sync::watch::Receiver<u64>,
}

impl Follower {
    async fn next(mut self) -> Option<(Result<entity::change_event::Model>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            // Mark the current signal seen before reading, so a change committed during
            // the read wakes the next wait.
            self.wake.borrow_and_update();
            match feed::read(&self.state.db, &self.actor, self.after, PAGE, &self.filter).await {
                Ok(page) => {
                    self.after = page.end;
                    self.pending.extend(page.events);
                    if page.has_next || !self.pending.is_empty() {
                        continue;
                    }
                }
                Err(e) => return Some((Err(e.into()), self)),
            }
            let _ = tokio::time::timeout(POLL, self.wake.changed()).await;
        }
    }
}

/// The events `actor` may see that `filter` selects, from now on: each as it commits, on this
/// instance or any other sharing the database.
pub(crate) async fn follow(
    state: AppState,
    actor: Actor,
    filter: FeedFilter,
    after: Option<Position>,
) -> Result<impl Stream<Item = Result<entity::change_event::Model>> + use<>> {
    let after = match after {
        Some(p) => Some(p),
        None => feed::head(&state.db).await?,
    };
    let follower = Follower {
        wake: state.feed.subscribe(),
        state,
        actor,
        filter,
        after,
        pending: VecDeque::new(),
    };
    Ok(stream::unfold(follower, Follower::next))
}

/// The change feed, live.
#[Subscription]
impl FeedSubscription {
    /// Every change committed after `after` (from now when omitted), then each new one as it
    /// commits, on this instance or any other sharing the database. Reconnect with the last
    /// event's `cursor` as `after` to miss nothing.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        entity_types: Option<Vec<String>>,
        organisation: Option<ID>,
    ) -> Result<impl Stream<Item = Result<ChangeEvent>> + use<>> {
        let entity_types = entity_types.unwrap_or_default();
        let start = feed::check(after.as_deref(), &entity_types)?;
        let organisation = organisation
            .map(|id| ids::decode_as("organisation", &id, NodeType::Organisation))
            .transpose()?;
        let filter = FeedFilter {
            entity_types,
            organisation,
        };
        let events = follow(state(ctx)?.clone(), actor(ctx)?.clone(), filter, start).await?;
        Ok(events.map(|e| e.map(ChangeEvent)))
    }
}
