//! The optimistic write every versioned row shares: a change lands only on the version it was
//! read at, and bumps it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};

use crate::error::{AppError, AppResult};

/// A table whose rows clients change by naming the version they read: each row carries a key,
/// a `version` bumped by every change, and the time of its last change.
pub trait Versioned: EntityTrait {
    /// What errors call a row ("agreement", "contact point").
    const NOUN: &'static str;
    /// The column a row is found by.
    const KEY: Self::Column;
    /// The version column.
    const VERSION: Self::Column;
    /// The time of the row's last change.
    const UPDATED_AT: Self::Column;
}

/// Writes `changes` to the row keyed `key` if it is still at `version`, bumping the version and
/// stamping `now`; `CONFLICT` if another write landed first.
///
/// The version condition is part of the `UPDATE` itself: on PostgreSQL a writer that waited for
/// another's row lock evaluates it again on the row that one committed, so of two writers that
/// read the same version, exactly one lands, whatever they checked before.
pub async fn save<A, C>(
    db: &C,
    mut changes: A,
    key: i64,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<()>
where
    A: ActiveModelTrait,
    A::Entity: Versioned,
    C: ConnectionTrait,
{
    changes.try_set(
        <A::Entity as Versioned>::VERSION,
        Value::BigInt(Some(version + 1)),
    )?;
    changes.try_set(<A::Entity as Versioned>::UPDATED_AT, now.into())?;
    let written = A::Entity::update_many()
        .set(changes)
        .filter(<A::Entity as Versioned>::KEY.eq(key))
        .filter(<A::Entity as Versioned>::VERSION.eq(version))
        .exec(db)
        .await?;
    if written.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "the {} changed while this write was made: read it again",
            <A::Entity as Versioned>::NOUN
        )))
    }
}

/// Declares [`Versioned`] for entities whose columns are named `Id` (or the key given),
/// `Version` and `UpdatedAt`.
macro_rules! versioned {
    ($($module:ident: $noun:literal $(by $key:ident)?;)*) => {$(
        impl Versioned for entity::$module::Entity {
            const NOUN: &'static str = $noun;
            const KEY: Self::Column = versioned!(@key $module $($key)?);
            const VERSION: Self::Column = entity::$module::Column::Version;
            const UPDATED_AT: Self::Column = entity::$module::Column::UpdatedAt;
        }
    )*};
    (@key $module:ident) => { entity::$module::Column::Id };
    (@key $module:ident $key:ident) => { entity::$module::Column::$key };
}

versioned! {
    agreement: "agreement";
    assignment: "assignment";
    contact_point: "contact point";
    mandate: "mandate";
    organisation: "organisation";
    project_action: "project action";
    referral: "referral";
    referral_deadlines: "referral deadlines" by OrganisationId;
    reservation: "reservation";
    resource: "resource";
    territorial_project: "territorial project";
}
