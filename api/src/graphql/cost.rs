//! Cost accounting and rate limiting by cost, in the spirit of GitHub's points and Shopify's
//! leaky bucket: an operation costs what [`super::price`] says (one point a field, a list's
//! selection times what it can return), charged before execution against its actor's budget (the
//! token's subject, else the client's address). Budgets refill continuously (GCRA, the
//! `governor` crate) and differ by role. Every response carries
//! `extensions.cost { requested actual remaining resetAt }`; over budget, the operation never
//! runs and the answer is `RATE_LIMITED` with `retryAfter` (HTTP 429). Depth and cost limits
//! are checked here too, before anything is charged, each refusal naming its limit.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensionValues, Response, ServerError, ServerResult, Value, Variables};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::auth::Role;
use crate::config::Limits;
use crate::graphql::context::RequestContext;
use crate::graphql::guard::{field_depth, limit_exceeded};
use crate::graphql::price::{Price, Prices};

/// Deepest introspection document accepted: the standard introspection queries (graphql-js's
/// `getIntrospectionQuery` with every option, graphql-core's, GraphiQL's) nest 14 levels
/// (nine `ofType`); deeper schema walks are refused.
pub const MAX_INTROSPECTION_DEPTH: usize = 16;

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

/// The cost policy: limits and budgets, shared by every transport.
#[derive(Clone)]
pub struct CostLimit {
    budgets: Arc<Budgets>,
    prices: Arc<Prices>,
    max_depth: usize,
    max_complexity: usize,
}

impl CostLimit {
    /// The policy over `limits`' depth, complexity and budgets, pricing with `prices`.
    pub fn new(limits: &Limits, prices: Prices) -> Self {
        Self {
            budgets: Arc::new(Budgets::new(limits)),
            prices: Arc::new(prices),
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
        }
    }

    /// Prices the operation `operation` (or the document's only one) of `doc` and checks its
    /// depth and cost against the limits. `introspection`: the operation reads the schema
    /// only, whose standard queries nest deeper than data queries.
    pub fn price(
        &self,
        doc: &ExecutableDocument,
        operation: Option<&str>,
        variables: &Variables,
        introspection: bool,
    ) -> ServerResult<Price> {
        let max_depth = if introspection {
            MAX_INTROSPECTION_DEPTH.max(self.max_depth)
        } else {
            self.max_depth
        };
        let depth = field_depth(doc, operation);
        if depth > max_depth {
            return Err(limit_exceeded(
                "depth",
                max_depth,
                format!("the document nests {depth} fields deep, more than {max_depth}"),
            ));
        }
        let price = self.prices.cost(doc, operation, variables);
        if price.points > self.max_complexity {
            return Err(limit_exceeded(
                "complexity",
                self.max_complexity,
                format!(
                    "the document costs {} points, more than {}",
                    price.points, self.max_complexity
                ),
            ));
        }
        Ok(price)
    }

    /// Charges `complexity` points (a price within the limits) to the budget of `req`'s
    /// actor (nothing is charged without a request context).
    pub fn charge(
        &self,
        complexity: usize,
        req: Option<&RequestContext>,
    ) -> ServerResult<Option<Charged>> {
        let Some(req) = req else {
            return Ok(None);
        };
        let (bucket, key) = self.budgets.bucket_for(req);
        let requested = complexity.max(1);
        let n = NonZeroU32::new(u32::try_from(requested).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        match bucket.limiter.check_key_n(&key, n) {
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                let refill = bucket.refill() * (bucket.budget - remaining.min(bucket.budget));
                let reset_at = Utc::now() + chrono::Duration::from_std(refill).unwrap_or_default();
                Ok(Some(Charged {
                    requested,
                    remaining,
                    reset_at,
                }))
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(rate_limited(
                    format!("over the cost budget: this operation costs {requested} points"),
                    Some(wait),
                ))
            }
            Err(_) => Err(rate_limited(
                format!(
                    "this operation costs {requested} points, more than the whole budget of {} a minute",
                    bucket.budget
                ),
                None,
            )),
        }
    }
}

/// What one request was charged.
#[derive(Debug, Clone, Copy)]
pub struct Charged {
    requested: usize,
    remaining: u32,
    reset_at: DateTime<Utc>,
}

impl Charged {
    /// Tells the caller, in `extensions.cost`, what its request cost and what it has left.
    pub fn report(&self, response: &mut Response) {
        let actual = fields(&response.data);
        self.report_fields(response, actual);
    }

    /// [`Self::report`] for an answer of `actual` fields whose data is written elsewhere.
    pub fn report_fields(&self, response: &mut Response, actual: usize) {
        let cost = async_graphql::value!({
            "requested": self.requested,
            "actual": actual,
            "remaining": self.remaining,
            "resetAt": self.reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        response.extensions.insert("cost".into(), cost);
    }
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
