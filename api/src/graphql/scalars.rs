//! The `Date` scalar (ISO `YYYY-MM-DD`) and the `DateTime` scalar (an RFC 3339 instant with
//! its offset), each refusing what it cannot read with a message saying what to write.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, NaiveDateTime, Utc};

/// Earliest date accepted in input.
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1800, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
/// Latest date accepted in input.
pub const MAX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// A calendar date, ISO 8601 `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar date, ISO 8601 `YYYY-MM-DD` (e.g. `2025-01-01`), from 1800-01-01 to
/// 2199-12-31 in input.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .filter(|_| s.len() == 10)
                    .ok_or_else(|| {
                        InputValueError::custom(crate::error::shorten_quotes(&format!(
                            "`{s}` is not a date (YYYY-MM-DD)"
                        )))
                    })?;
                if !(MIN_DATE..=MAX_DATE).contains(&date) {
                    return Err(InputValueError::custom(format!(
                        "`{s}` is outside the dates accepted ({MIN_DATE} to {MAX_DATE})"
                    )));
                }
                Ok(Date(date))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// An instant: RFC 3339, a date and a time with its offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, RFC 3339 with its offset (e.g. `2026-01-01T09:00:00Z` or
/// `2026-01-01T10:00:00+01:00`); answered in UTC.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(s) {
            return Ok(DateTime(at.with_timezone(&Utc)));
        }
        let quoted = crate::error::shorten_quotes(&format!("`{s}`"));
        let message = if NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            || NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        {
            format!(
                "{quoted} has no offset: an instant needs one, e.g. `Z` for UTC \
                 (2026-01-01T09:00:00Z) or `+01:00` for Paris in winter"
            )
        } else if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
            format!(
                "{quoted} is a date: an instant is a date and a time with its offset, \
                 e.g. {s}T00:00:00Z"
            )
        } else {
            format!("{quoted} is not an instant: write RFC 3339, e.g. 2026-01-01T09:00:00Z")
        };
        Err(InputValueError::custom(message))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(at: chrono::DateTime<Utc>) -> Self {
        DateTime(at)
    }
}
