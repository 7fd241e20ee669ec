//! The `Membership` type.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;

use super::enums::MembershipKind;
use super::organisation::{Organisation, Provenance};
use crate::domain::registry::{Membership as Row, Organisation as OrgRow};
use crate::error::AppError;
use crate::graphql::context::loaders;
use crate::graphql::scalars::Date;

/// A dated link from a member to a group: a commune in its EPCI, département or commune
/// nouvelle; a département in its région.
#[derive(Clone, Debug)]
pub struct Membership {
    model: Row,
    member: Option<Arc<OrgRow>>,
    group: Option<Arc<OrgRow>>,
    at: NaiveDate,
}

impl Membership {
    /// A membership whose group row is already loaded.
    pub fn with_group(model: Row, group: impl Into<Arc<OrgRow>>, at: NaiveDate) -> Self {
        Self {
            model,
            member: None,
            group: Some(group.into()),
            at,
        }
    }

    /// A membership whose member row is already loaded.
    pub fn with_member(model: Row, member: impl Into<Arc<OrgRow>>, at: NaiveDate) -> Self {
        Self {
            model,
            member: Some(member.into()),
            group: None,
            at,
        }
    }

    async fn organisation(
        &self,
        ctx: &Context<'_>,
        known: &Option<Arc<OrgRow>>,
        id: i64,
    ) -> Result<Organisation> {
        let model = match known {
            Some(m) => m.clone(),
            None => loaders(ctx)?
                .organisations
                .load(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("organisation {id}")))?,
        };
        Ok(Organisation::new(model, self.at))
    }

    /// The membership row's id (used as its cursor position).
    pub(crate) fn row_id(&self) -> i64 {
        self.model.id
    }
}

/// A dated link from a member to a group: a commune in its EPCI, département or commune
/// nouvelle; a département in its région.
// Serial for the reason `Organisation` is: long member lists resolve their rows together.
#[Object(serial)]
impl Membership {
    /// The member.
    async fn member(&self, ctx: &Context<'_>) -> Result<Organisation> {
        self.organisation(ctx, &self.member, self.model.member_id)
            .await
    }

    /// The group.
    async fn group(&self, ctx: &Context<'_>) -> Result<Organisation> {
        self.organisation(ctx, &self.group, self.model.group_id)
            .await
    }

    /// Kind of link.
    async fn kind(&self) -> MembershipKind {
        self.model.kind.into()
    }

    /// First day (inclusive); null when it predates the data.
    async fn valid_from(&self) -> Option<Date> {
        self.model.valid_from.map(Date)
    }

    /// End (exclusive); null while it holds.
    async fn valid_to(&self) -> Option<Date> {
        self.model.valid_to.map(Date)
    }

    /// Where this fact comes from.
    async fn provenance(&self) -> Provenance {
        Provenance::from_columns(&self.model.source, self.model.vintages.as_deref())
    }
}
