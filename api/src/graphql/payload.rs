//! Mutation payload conventions: business-rule and validation failures become `userErrors`;
//! authentication and authorisation failures stay top-level errors.

use async_graphql::{MaybeUndefined, SimpleObject};

use crate::error::{AppError, AppResult};

/// A validation or business-rule failure of a mutation; nothing was changed.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserError {
    /// The input field at fault (e.g. `input.siren`), when there is one.
    pub field: Option<String>,
    /// Stable code: `BAD_USER_INPUT`, `CONFLICT`, `ILLEGAL_TRANSITION`, `NOT_FOUND`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// Splits a domain outcome into the payload's object and user errors; errors that are not
/// the user's input (authentication, authorisation, internal) stay top-level.
pub fn split<T>(outcome: AppResult<T>) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match outcome {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(
            e @ (AppError::BadUserInput { .. }
            | AppError::Conflict(_)
            | AppError::IllegalTransition(_)
            | AppError::NotFound(_)),
        ) => {
            let field = match &e {
                AppError::BadUserInput { field, .. } => field.clone(),
                _ => None,
            };
            Ok((
                None,
                vec![UserError {
                    field,
                    code: e.code().to_owned(),
                    message: e.to_string(),
                }],
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// An optional input field of an update: `None` when omitted, `Some(None)` when `null`.
pub fn maybe<T>(v: MaybeUndefined<T>) -> Option<Option<T>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
