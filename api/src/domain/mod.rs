//! Domain services: the rules, queries and transactions of each area, free of GraphQL types.

pub mod codes;
pub mod pagination;
pub mod registry;
pub mod text;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition};

/// Condition "valid on `at`": `from` is null or ≤ `at`, and `to` is null or > `at`.
pub fn valid_at<C: ColumnTrait>(from: C, to: C, at: NaiveDate) -> Condition {
    Condition::all()
        .add(Condition::any().add(from.is_null()).add(from.lte(at)))
        .add(Condition::any().add(to.is_null()).add(to.gt(at)))
}

/// Whether the half-open period `[from, to)` contains `at`.
pub fn contains(from: Option<NaiveDate>, to: Option<NaiveDate>, at: NaiveDate) -> bool {
    from.is_none_or(|f| f <= at) && to.is_none_or(|t| t > at)
}
