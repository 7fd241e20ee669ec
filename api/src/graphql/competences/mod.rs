//! Competence queries: the catalogue, and the one entry point "who does what here".

mod assignment;
mod competence;
mod enums;
mod mutations;
mod responsibility;

use crate::graphql::context::organisation_id;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

pub use assignment::{Assignment, Consent, Transfer};
pub use competence::{Competence, HolderConnection};
pub use enums::{
    AssignmentBasis, CompetenceRole, ConsentDecision, ResolvedThrough, ResponsibilityLayer,
    TransferStatus,
};
pub use mutations::CompetenceMutation;
pub use responsibility::{CompetenceResponsibilities, Responsibility};

use crate::domain::codes;
use crate::domain::competences::{self, Catalogue, transfers};
use crate::domain::pagination::{decode_cursor, encode_cursor, page_size};
use crate::domain::registry::Organisation as Row;
use crate::error::AppError;
use crate::graphql::context::{before_data, registry_reads, request, state};
use crate::graphql::scalars::Date;

/// Which competences a list returns.
#[derive(InputObject, Default)]
pub struct CompetenceFilter {
    /// Only this BANATIC heading (exact).
    pub category: Option<String>,
    /// Only competences whose code, label or usual words ("PLU", "ordures ménagères",
    /// "cantine"…) match this text, accent- and case-insensitive: each word of it is a word of
    /// theirs, or begins one when longer than three letters.
    pub text: Option<String>,
}

/// Fields of a competence list beyond its page.
#[derive(SimpleObject)]
pub struct CompetenceListInfo {
    /// Number of competences in the whole list.
    pub total_count: i64,
}

/// A page of competences.
pub type CompetenceConnection = Connection<String, Competence, CompetenceListInfo>;

/// Competence entry points.
#[derive(Default)]
pub struct CompetenceQuery;

fn catalogue<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Catalogue>> {
    Ok(&state(ctx)?.catalogue)
}

/// The catalogue position of `code`: malformed is `BAD_USER_INPUT`, unknown is `None`.
fn position(ctx: &Context<'_>, argument: &str, code: &str) -> Result<Option<usize>> {
    codes::check_competence_code(argument, code)?;
    Ok(catalogue(ctx)?.index_of(code))
}

/// Competence entry points.
#[Object]
impl CompetenceQuery {
    /// The competence with BANATIC code `code` (`C` and 4 digits); null when the catalogue
    /// has no such code.
    async fn competence(&self, ctx: &Context<'_>, code: String) -> Result<Option<Competence>> {
        let cat = catalogue(ctx)?;
        Ok(position(ctx, "code", &code)?.map(|index| Competence {
            catalogue: cat.clone(),
            index,
        }))
    }

    /// The competences of the catalogue, in nomenclature order.
    async fn competences(
        &self,
        ctx: &Context<'_>,
        filter: Option<CompetenceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CompetenceConnection> {
        let first = page_size(first)?;
        let after: Option<i32> = after.as_deref().map(decode_cursor).transpose()?;
        let filter = filter.unwrap_or_default();
        if let Some(t) = &filter.text {
            codes::check_text("filter.text", t, 1, 200)?;
        }
        let cat = catalogue(ctx)?;
        let matching: Vec<&entity::competence::Model> = cat
            .filter(filter.category.as_deref(), filter.text.as_deref())
            .collect();
        let total = matching.len();
        let rest: Vec<&entity::competence::Model> = matching
            .into_iter()
            .filter(|c| after.is_none_or(|a| c.position > a))
            .collect();
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            rest.len() > first,
            CompetenceListInfo {
                total_count: total as i64,
            },
        );
        for c in rest.into_iter().take(first) {
            if let Some(index) = cat.index_of(&c.code) {
                connection.edges.push(Edge::new(
                    encode_cursor(&c.position),
                    Competence {
                        catalogue: cat.clone(),
                        index,
                    },
                ));
            }
        }
        Ok(connection)
    }

    /// Who holds, implements, finances… competence `competence` for commune `inseeCode` on
    /// date `at` (default today). Resolved in layers: assignments declared for the commune
    /// or any group it belongs to then (`DECLARED`), the legal baseline of its EPCI's kind
    /// (`LEGAL_BASELINE`), then the default holder — the commune, its département, its
    /// région or the State (`LEGAL_DEFAULT`); a more specific layer overrides a less
    /// specific one for the same role. The code of a commune déléguée answers for its commune,
    /// that of a merged commune for its successor (see `resolvedThrough`). Empty when the
    /// code names no commune at that date.
    async fn responsibilities(
        &self,
        ctx: &Context<'_>,
        insee_code: String,
        competence: String,
        at: Option<Date>,
    ) -> Result<Vec<Responsibility>> {
        let at = at.map_or(request(ctx)?.today, |d| d.0);
        let Some(index) = position(ctx, "competence", &competence)? else {
            return Err(AppError::bad_input(
                "competence",
                format!("`{competence}` is not in the competence catalogue"),
            )
            .into());
        };
        let mut out = resolve(ctx, &insee_code, Some(index), at).await?;
        Ok(out.pop().map(|c| c.responsibilities).unwrap_or_default())
    }

    /// Every competence of the catalogue, with its responsibilities, for one commune (see
    /// `responsibilities`). Empty when the code names no commune at that date.
    async fn territory_profile(
        &self,
        ctx: &Context<'_>,
        insee_code: String,
        at: Option<Date>,
    ) -> Result<Vec<CompetenceResponsibilities>> {
        let at = at.map_or(request(ctx)?.today, |d| d.0);
        resolve(ctx, &insee_code, None, at).await
    }

    /// The competence transfers an organisation (its global ID, INSEE code or SIREN) is a
    /// party to, oldest first.
    async fn competence_transfers(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
    ) -> Result<Vec<Transfer>> {
        let id = organisation_id(ctx, "organisation", &organisation).await?;
        let today = request(ctx)?.today;
        Ok(transfers::of_organisation(&state(ctx)?.db, id)
            .await?
            .into_iter()
            .map(|t| Transfer::new(t, today))
            .collect())
    }
}

async fn resolve(
    ctx: &Context<'_>,
    code: &str,
    competence: Option<usize>,
    at: chrono::NaiveDate,
) -> Result<Vec<CompetenceResponsibilities>> {
    let st = state(ctx)?;
    let cat = &st.catalogue;
    if before_data(ctx, at)? {
        codes::check_insee_code("inseeCode", code)?;
        return Ok(Vec::new());
    }
    let Some(resolution) =
        competences::resolve(&st.db, registry_reads(ctx)?, cat, code, competence, at).await?
    else {
        return Ok(Vec::new());
    };
    let subject = Arc::new(resolution.subject);
    let orgs: HashMap<i64, Arc<Row>> = resolution
        .organisations
        .into_iter()
        .map(|(id, o)| (id, Arc::new(o)))
        .collect();
    Ok(resolution
        .by_competence
        .into_iter()
        .map(|(index, items)| CompetenceResponsibilities {
            competence: Competence {
                catalogue: cat.clone(),
                index,
            },
            responsibilities: items
                .into_iter()
                .filter_map(|r| {
                    let org = orgs.get(&r.organisation_id)?.clone();
                    Some(Responsibility {
                        inner: r,
                        organisation: org,
                        catalogue: cat.clone(),
                        at,
                        subject: Some(subject.clone()),
                    })
                })
                .collect(),
        })
        .collect())
}
