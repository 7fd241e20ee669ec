//! Direct answers: the registry's plain lookups — `organisation(...)` and
//! `organisations(...) { nodes }`, with an organisation's own fields and the places it lies
//! in — written straight to JSON by the same lookups and resolvers, without async-graphql's
//! executor.
//!
//! Partner apps ask these few questions all day. The executor builds every answer as a tree
//! of values (one hashed map an object) and then encodes it, and runs every field through
//! its generic machinery: for a page of 20 organisations that was most of the time of the
//! request (`docs/design.md`). A document qualifies once it passed full validation and
//! while its variables are certainly valid ([`super::revalidation`]); anything else, and any
//! lookup that fails, runs through the executor, whose answer then stands.

mod plan;
mod write;

pub use plan::Plan;
pub use write::{Written, answer};
