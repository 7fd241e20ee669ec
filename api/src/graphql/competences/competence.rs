//! The `Competence` type and its holders.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object, Result, SimpleObject};

use super::responsibility::Responsibility;
use crate::domain::codes;
use crate::domain::competences::Catalogue;
use crate::domain::competences::holdings::{self, HolderCursor};
use crate::domain::pagination::{decode_cursor, encode_cursor, page_size};
use crate::graphql::context::{before_data, registry_reads, request, state};
use crate::graphql::scalars::Date;

/// A competence of the national nomenclature (BANATIC).
#[derive(Clone)]
pub struct Competence {
    pub(crate) catalogue: Arc<Catalogue>,
    pub(crate) index: usize,
}

/// Fields of a holders list beyond its page.
#[derive(SimpleObject)]
pub struct HolderListInfo {
    /// Number of holders in the whole list.
    pub total_count: i64,
}

/// A page of holders.
pub type HolderConnection = Connection<String, Responsibility, HolderListInfo>;

/// A competence of the national nomenclature (BANATIC).
// Serial, as `Organisation`: its fields are at hand but `holders`.
#[Object(serial)]
impl Competence {
    /// BANATIC code (`C1005`…).
    async fn code(&self) -> &str {
        &self.catalogue.at(self.index).code
    }

    /// Official French label.
    async fn label(&self) -> &str {
        &self.catalogue.at(self.index).label
    }

    /// The BANATIC heading it sits under.
    async fn category(&self) -> &str {
        &self.catalogue.at(self.index).category
    }

    /// False where the heading was inferred from the code range rather than read in the source.
    async fn category_confirmed(&self) -> bool {
        self.catalogue.at(self.index).category_confirmed
    }

    /// The nomenclature it belongs to (`BANATIC 2025`).
    async fn nomenclature(&self) -> &str {
        &self.catalogue.at(self.index).nomenclature
    }

    /// Who holds it (role `HOLDER`) on `at` (default today) for some commune — of one
    /// département (COG code) when given — as `responsibilities` answers for each commune:
    /// declared holders first, then those of a special status, then groupings holding it by
    /// law, then the levels of government by default (communes, départements, régions,
    /// préfectures, or the collectivity a special status substitutes), each by organisation.
    async fn holders(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
        departement: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<HolderConnection> {
        let at = at.map_or(request(ctx)?.today, |d| d.0);
        let first = page_size(first)?;
        if let Some(d) = &departement {
            codes::check_insee_code("departement", d)?;
        }
        let after: Option<HolderCursor> = after.as_deref().map(decode_cursor).transpose()?;
        if before_data(ctx, at)? {
            return Ok(Connection::with_additional_fields(
                false,
                false,
                HolderListInfo { total_count: 0 },
            ));
        }
        let page = holdings::holders(
            &state(ctx)?.db,
            registry_reads(ctx)?,
            &self.catalogue,
            self.index,
            at,
            departement.as_deref(),
            first,
            after,
        )
        .await?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            HolderListInfo {
                total_count: page.total as i64,
            },
        );
        for h in page.holders {
            connection.edges.push(Edge::new(
                encode_cursor(&h.cursor),
                Responsibility::new(h.responsibility, h.organisation, self.catalogue.clone(), at),
            ));
        }
        Ok(connection)
    }
}
