//! Cursor pagination: `first` bounds and opaque keyset cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AppError, AppResult};

/// Page size when `first` is not given.
pub const DEFAULT_FIRST: usize = 20;
/// Largest page a client may ask for.
pub const MAX_FIRST: usize = 100;

/// Validates `first`: default 20, at most 100, never negative.
pub fn page_size(first: Option<i32>) -> AppResult<usize> {
    match first {
        None => Ok(DEFAULT_FIRST),
        Some(n) if n < 0 => Err(AppError::bad_input("first", "`first` must not be negative")),
        Some(n) if n as usize > MAX_FIRST => Err(AppError::bad_input(
            "first",
            format!("`first` is at most {MAX_FIRST}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

/// Encodes a keyset position as an opaque cursor.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is `BAD_USER_INPUT` on `after`.
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str) -> AppResult<T> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "`after` is not a cursor this API issued"))
}
