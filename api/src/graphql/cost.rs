//! Cost accounting and rate limiting by cost, in the spirit of GitHub's points and Shopify's
//! leaky bucket: an operation costs its complexity (one point a field, a connection's
//! selection times its page size), charged before execution against its actor's budget (the
//! token's subject, else the client's address). Budgets refill continuously (GCRA, the
//! `governor` crate) and differ by role. Every response carries
//! `extensions.cost { requested actual remaining resetAt }`; over budget, the operation never
//! runs and the answer is `RATE_LIMITED` with `retryAfter` (HTTP 429).

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextValidation,
};
use async_graphql::{ErrorExtensionValues, Response, ServerError, ValidationResult, Value};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::auth::Role;
use crate::config::Limits;
use crate::domain::pagination::{DEFAULT_FIRST, MAX_FIRST};
use crate::graphql::context::RequestContext;

/// The complexity weight of a connection or list taking `first`: its page size.
pub fn page(first: Option<i32>) -> usize {
    first.map_or(DEFAULT_FIRST, |n| n.clamp(0, MAX_FIRST as i32) as usize)
}

type Limiter = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// One class of actors and its budget of points per minute.
struct Bucket {
    limiter: Limiter,
    budget: u32,
}

impl Bucket {
    fn new(per_minute: u32) -> Self {
        let budget = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(budget))
                .with_middleware::<StateInformationMiddleware>(),
            budget: budget.get(),
        }
    }

    /// How long one point takes to come back.
    fn refill(&self) -> Duration {
        Duration::from_secs(60) / self.budget
    }
}

/// The budgets of every class, shared by the requests of one instance.
pub struct Budgets {
    anonymous: Bucket,
    member: Bucket,
    state: Bucket,
}

impl Budgets {
    /// Budgets as configured.
    pub fn new(limits: &Limits) -> Self {
        Self {
            anonymous: Bucket::new(limits.cost_budget_anonymous),
            member: Bucket::new(limits.cost_budget_member),
            state: Bucket::new(limits.cost_budget_state),
        }
    }

    fn bucket_for(&self, req: &RequestContext) -> (&Bucket, String) {
        let actor = &req.actor;
        match &actor.subject {
            Some(subject) if actor.has(Role::State) || actor.has(Role::Superadmin) => {
                (&self.state, format!("sub:{subject}"))
            }
            Some(subject) => (&self.member, format!("sub:{subject}")),
            None => (&self.anonymous, format!("ip:{}", req.client)),
        }
    }
}

/// The schema extension charging each operation.
#[derive(Clone)]
pub struct CostLimit(Arc<Budgets>);

impl CostLimit {
    /// The extension over `limits`' budgets.
    pub fn new(limits: &Limits) -> Self {
        Self(Arc::new(Budgets::new(limits)))
    }
}

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Charge {
            budgets: self.0.clone(),
            charged: Mutex::new(None),
        })
    }
}

/// What one request was charged.
#[derive(Debug, Clone, Copy)]
struct Charged {
    requested: usize,
    remaining: u32,
    reset_at: DateTime<Utc>,
}

struct Charge {
    budgets: Arc<Budgets>,
    charged: Mutex<Option<Charged>>,
}

fn rate_limited(message: String, retry_after: Option<Duration>) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "RATE_LIMITED");
    if let Some(wait) = retry_after {
        // Whole seconds, rounded up: retrying then succeeds.
        ext.set(
            "retryAfter",
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        );
    }
    error.extensions = Some(ext);
    error
}

/// Fields in a response's data: what was actually resolved.
fn fields(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.len() + map.values().map(fields).sum::<usize>(),
        Value::List(items) => items.iter().map(fields).sum(),
        _ => 0,
    }
}

#[async_trait::async_trait]
impl Extension for Charge {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let Some(req) = ctx.data_opt::<RequestContext>() else {
            return Ok(result);
        };
        let (bucket, key) = self.budgets.bucket_for(req);
        let requested = result.complexity.max(1);
        let n = NonZeroU32::new(u32::try_from(requested).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        match bucket.limiter.check_key_n(&key, n) {
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                let refill = bucket.refill() * (bucket.budget - remaining.min(bucket.budget));
                let reset_at = Utc::now() + chrono::Duration::from_std(refill).unwrap_or_default();
                if let Ok(mut charged) = self.charged.lock() {
                    *charged = Some(Charged {
                        requested,
                        remaining,
                        reset_at,
                    });
                }
                Ok(result)
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(vec![rate_limited(
                    format!("over the cost budget: this operation costs {requested} points"),
                    Some(wait),
                )])
            }
            Err(_) => Err(vec![rate_limited(
                format!(
                    "this operation costs {requested} points, more than the whole budget of {} a minute",
                    bucket.budget
                ),
                None,
            )]),
        }
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let charged = self.charged.lock().ok().and_then(|c| *c);
        if let Some(c) = charged {
            let cost = async_graphql::value!({
                "requested": c.requested,
                "actual": fields(&response.data),
                "remaining": c.remaining,
                "resetAt": c.reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            response.extensions.insert("cost".into(), cost);
        }
        response
    }
}
