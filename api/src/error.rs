//! The one application error, its stable codes, and the single place where database errors
//! and application errors are mapped to what clients see.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Every failure a request can meet, each with a stable `extensions.code`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The input is malformed or breaks a rule; `field` names the argument or input field.
    #[error("{message}")]
    BadUserInput {
        /// The offending argument or input field.
        field: Option<String>,
        /// What is wrong, for a person.
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A concurrent or duplicate write, or a limit (capacity) already taken.
    #[error("{0}")]
    Conflict(String),
    /// The thing is not in a state that allows this (signing a draft, approving a
    /// cancelled reservation…).
    #[error("{0}")]
    IllegalTransition(String),
    /// No valid credential: none was sent where one is needed, or the one sent is not valid
    /// (the transports answer that case with their own "invalid credentials").
    #[error("authentication required: send a valid bearer token")]
    Unauthenticated,
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The database is unreachable or overloaded; retrying later may succeed.
    #[error("service temporarily unavailable, retry later")]
    ServiceUnavailable,
    /// Anything unexpected; details are logged, never returned.
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// A `CONFLICT`: the `what` a write was based on changed since it was read (optimistic
    /// concurrency); `current` is its version now.
    pub fn stale(what: &str, current: i64) -> Self {
        Self::Conflict(format!(
            "the {what} changed since it was read (now at version {current}): read it again"
        ))
    }

    /// A `BAD_USER_INPUT` error naming `field`; input it quotes is cut short.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: Some(field.into()),
            message: shorten_quotes(&message.into()),
        }
    }

    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::IllegalTransition(_) => "ILLEGAL_TRANSITION",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return Self::Conflict("a record with the same identity already exists".into());
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::Conflict("the record refers to, or is referred by, another".into());
            }
            _ => {}
        }
        match &err {
            DbErr::RecordNotFound(what) => Self::NotFound(what.clone()),
            _ if unavailable(&err) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::ServiceUnavailable
            }
            _ => {
                tracing::error!(error = %err, "database error");
                Self::Internal
            }
        }
    }
}

/// Whether a database error is the database being away or overloaded (retry later), rather
/// than a fault of the statement: no connection to be had, a connection lost mid-statement,
/// the server shutting down or starting (SQLSTATE 57P0x), a connection exception (08xxx), a
/// statement or lock timeout (57014, 55P03), a busy SQLite.
fn unavailable(err: &DbErr) -> bool {
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e.as_ref(),
        _ => return false,
    };
    use sea_orm::sqlx::Error as E;
    match sqlx {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed => true,
        E::Database(db) => {
            let code = db.code().unwrap_or_default();
            code.starts_with("57P")
                || code.starts_with("08")
                || code == "57014"
                || code == "55P03"
                || code == "53300"
                // SQLite's (extended) result codes: busy or locked.
                || (code.len() < 5 && code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)))
        }
        _ => false,
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Self::BadUserInput {
                field: Some(field), ..
            } = self
            {
                ext.set("argument", field.as_str());
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.extend()
    }
}

/// Longest quotation of a client's input in an error message, in characters.
pub const MAX_QUOTE_CHARS: usize = 40;

/// `message` with every `quoted` stretch longer than [`MAX_QUOTE_CHARS`] cut to a prefix and
/// an ellipsis: an error says which input it refuses without sending a large one back.
pub fn shorten_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().count() > MAX_QUOTE_CHARS {
            out.extend(part.chars().take(MAX_QUOTE_CHARS));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Result of domain operations.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quotations_are_cut() {
        let long = "x".repeat(100_000);
        let message = shorten_quotes(&format!("`{long}` is not a SIREN: expected `9` digits"));
        assert_eq!(
            message,
            format!("`{}…` is not a SIREN: expected `9` digits", "x".repeat(40))
        );
        assert!(message.len() < 100);
        assert_eq!(shorten_quotes("`35238` is fine"), "`35238` is fine");
    }
}
