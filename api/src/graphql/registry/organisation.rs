//! The `Organisation` type.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use futures_util::FutureExt;

use super::connection::{MembershipConnection, members_page};
use super::contact_point::ContactPoint;
use super::enums::OrganisationKind;
use super::membership::Membership;
use crate::domain::registry::{Direction, Organisation as Row};
use crate::graphql::agreements::{self, Agreement, AgreementStatus};
use crate::graphql::competences::Responsibility;
use crate::graphql::context::{Scope, before_data, loaders, request, state};
use crate::graphql::ids::{self, NodeType};
use crate::graphql::resources::{self, Reservation, ReservationSide, ReservationStatus, Resource};
use crate::graphql::scalars::Date;

/// A public institution or partner: commune, intercommunality, département, région, State
/// service… over one period of legal existence.
#[derive(Clone, Debug)]
pub struct Organisation {
    pub(crate) model: Arc<Row>,
    /// The date nested fields answer for when not given their own `at`.
    pub(crate) at: NaiveDate,
}

impl Organisation {
    /// Wraps a row, answering nested questions as of `at`.
    pub fn new(model: impl Into<Arc<Row>>, at: NaiveDate) -> Self {
        Self {
            model: model.into(),
            at,
        }
    }

    /// Its global ID (`id`).
    pub fn global_id(&self) -> ID {
        ids::encode(NodeType::Organisation, self.model.id)
    }

    /// Its postal codes (`postalCodes`), as stored: separated by spaces.
    pub fn postal_code_list(&self) -> impl Iterator<Item = &str> {
        self.model
            .postal_codes
            .as_deref()
            .into_iter()
            .flat_map(|codes| codes.split(' '))
    }
}

/// Where a fact comes from.
#[derive(SimpleObject, Clone, Debug)]
pub struct Provenance {
    /// `COG` (the national reference) or `DECLARED`.
    pub source: String,
    /// Reference vintages that observed it (e.g. `[2024, 2025]`).
    pub vintages: Vec<i32>,
    /// A readable label, e.g. `COG 2022–2026`.
    pub label: String,
}

impl Provenance {
    /// Provenance from a row's `source` and `vintages` columns.
    pub fn from_columns(source: &str, vintages: Option<&str>) -> Self {
        let vintages: Vec<i32> = vintages
            .unwrap_or_default()
            .split(',')
            .filter_map(|v| v.parse().ok())
            .collect();
        let label = match (vintages.first(), vintages.last()) {
            (Some(a), Some(b)) if a == b => format!("{source} {a}"),
            (Some(a), Some(b)) => format!("{source} {a}–{b}"),
            _ => source.to_owned(),
        };
        Self {
            source: source.to_owned(),
            vintages,
            label,
        }
    }
}

fn kinds_filter(kinds: Option<Vec<OrganisationKind>>) -> Vec<entity::OrganisationKind> {
    kinds
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

/// A public institution or partner: commune, intercommunality, département, région, State
/// service… over one period of legal existence.
// Resolvers that query the database themselves box that query: async-graphql moves every
// field's future into a box as large as the largest field's, so one large future made `name`
// as costly to start as `mandates`.
// Its fields are resolved one after the other (`serial`): most are at hand, and resolving
// them concurrently built a task set per object, a tenth of the instructions of a 20-row page
// (callgrind, `docs/design.md`). Lists still resolve their rows together, so lookups are
// batched across the rows as before; only one organisation's own database reads wait for
// one another.
#[Object(serial)]
impl Organisation {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    /// Kind of institution.
    async fn kind(&self) -> OrganisationKind {
        self.model.kind.into()
    }

    /// Official name (latest known).
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// INSEE COG code of its kind: 5 characters for communes, 2–3 for départements
    /// (01…976, 2A, 2B), 2–3 for régions; null for groupings, which are known by SIREN.
    async fn insee_code(&self) -> Option<&str> {
        self.model.insee_code.as_deref()
    }

    /// SIREN (9 digits), where the organisation has one in the data.
    async fn siren(&self) -> Option<&str> {
        self.model.siren.as_deref()
    }

    /// Legal population (INSEE); for départements and régions, the sum of their communes'.
    async fn population(&self) -> Option<i64> {
        self.model.population
    }

    /// A commune's postal codes (La Poste, as the COG lists them), which `search` also finds;
    /// empty for other organisations.
    async fn postal_codes(&self) -> Vec<&str> {
        self.postal_code_list().collect()
    }

    /// First day of existence (inclusive); null when it predates the data.
    async fn valid_from(&self) -> Option<Date> {
        self.model.valid_from.map(Date)
    }

    /// Day it ceased to exist (exclusive); null while it exists.
    async fn valid_to(&self) -> Option<Date> {
        self.model.valid_to.map(Date)
    }

    /// COG code of the département it lies in (for a grouping: of its most populous commune).
    async fn departement_code(&self) -> Option<&str> {
        self.model.departement_code.as_deref()
    }

    /// COG code of the région it lies in.
    async fn region_code(&self) -> Option<&str> {
        self.model.region_code.as_deref()
    }

    /// Where this organisation's record comes from.
    async fn provenance(&self) -> Provenance {
        Provenance::from_columns(&self.model.source, self.model.vintages.as_deref())
    }

    /// The groups it belongs to on `at` (default: the date it was looked up at), optionally
    /// only groups of the given kinds.
    async fn member_of(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
        kinds: Option<Vec<OrganisationKind>>,
    ) -> Result<Vec<Membership>> {
        let at = at.map_or(self.at, |d| d.0);
        if before_data(ctx, at)? {
            return Ok(Vec::new());
        }
        let kinds = kinds_filter(kinds);
        let rows = loaders(ctx)?
            .memberships
            .load((self.model.id, Some(at)))
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .filter(|r| kinds.is_empty() || kinds.contains(&r.organisation.kind))
            .map(|r| Membership::with_group(r.membership.clone(), r.organisation.clone(), at))
            .collect())
    }

    /// Its members on `at` (default: the date it was looked up at), by name.
    async fn members(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
        kinds: Option<Vec<OrganisationKind>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<MembershipConnection> {
        let at = at.map_or(self.at, |d| d.0);
        members_page(ctx, self.model.id, at, kinds_filter(kinds), first, after).await
    }

    /// The competences it exercises on `at` (default: the date it was looked up at): what it
    /// declared, and the legal presumptions of its kind (EPCI baseline, default holder) that
    /// it has neither declared otherwise nor transferred away.
    async fn competences(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
    ) -> Result<Vec<Responsibility>> {
        let at = at.map_or(self.at, |d| d.0);
        if before_data(ctx, at)? {
            return Ok(Vec::new());
        }
        let catalogue = &state(ctx)?.catalogue;
        let found = loaders(ctx)?
            .competences
            .load((self.model.id, at))
            .await?
            .unwrap_or_default();
        Ok(found
            .into_iter()
            .map(|r| Responsibility::new(r, self.model.clone(), catalogue.clone(), at))
            .collect())
    }

    /// The intercommunality (EPCI à fiscalité propre) the commune belongs to on `at`.
    async fn epci(&self, ctx: &Context<'_>, at: Option<Date>) -> Result<Option<Organisation>> {
        self.epci_at(Scope::of(ctx)?, at).await
    }

    /// The département it lies in on `at` (itself for a département).
    async fn departement(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
    ) -> Result<Option<Organisation>> {
        self.departement_at(Scope::of(ctx)?, at).await
    }

    /// The région it lies in on `at` (through its département for a commune).
    async fn region(&self, ctx: &Context<'_>, at: Option<Date>) -> Result<Option<Organisation>> {
        self.region_at(Scope::of(ctx)?, at).await
    }

    /// For a State service: the territory it serves (a préfecture's département or région).
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.model.territory_id else {
            return Ok(None);
        };
        let org = loaders(ctx)?.organisations.load(id).await?;
        Ok(org.map(|o| Organisation::new(o, self.at)))
    }

    /// Organisations this one succeeded (the communes merged into a commune nouvelle…).
    async fn predecessors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        self.succession(ctx, Direction::Predecessors).await
    }

    /// Organisations that succeeded this one.
    async fn successors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        self.succession(ctx, Direction::Successors).await
    }

    /// Optimistic-concurrency version; updates must carry it.
    async fn version(&self) -> i64 {
        self.model.version
    }

    /// The organisation's own public profile (other names, description, website, SIRET, RNA).
    async fn profile(&self, ctx: &Context<'_>) -> Result<OrganisationProfile> {
        let p = loaders(ctx)?
            .profiles
            .load(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(OrganisationProfile {
            alternate_names: p.alternate_names,
            description: p.description,
            website: p.website,
            siret: p.siret,
            rna: p.rna,
        })
    }

    /// The agreements it is party to, oldest first: those the caller may see (drafts and
    /// proposals are for the parties), with these statuses (as of today), in force on `at`
    /// when given.
    async fn agreements(
        &self,
        ctx: &Context<'_>,
        status: Option<Vec<AgreementStatus>>,
        at: Option<Date>,
    ) -> Result<Vec<Agreement>> {
        agreements::of_organisation(ctx, self.model.id, status, at.map(|d| d.0))
            .boxed()
            .await
    }

    /// Mandates it granted (`granted: true`, the default: organisations acting for it) or
    /// received (organisations it acts for), newest first; those ended or revoked too with
    /// `includeEnded`. For its own staff and State services; empty for anyone else.
    async fn mandates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = true)] granted: bool,
        #[graphql(default = false)] include_ended: bool,
    ) -> Result<Vec<crate::graphql::governance::Mandate>> {
        let req = request(ctx)?;
        let rows = crate::domain::mandates::of_organisation(
            &state(ctx)?.db,
            &req.actor,
            self.model.id,
            granted,
            include_ended,
            req.now,
        )
        .boxed()
        .await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::governance::Mandate)
            .collect())
    }

    /// Referrals it handles now (`HANDLER`) or filed (`FILER`), newest first, with these
    /// statuses, only overdue ones (or only others) when `overdue` is given; `first` (default
    /// 20, at most 100) after the cursor `after`, with `totalCount`. For its own staff and the
    /// applications it mandated; empty otherwise.
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        role: crate::graphql::referrals::ReferralRole,
        status: Option<Vec<crate::graphql::referrals::ReferralStatus>>,
        overdue: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<crate::graphql::referrals::ReferralConnection> {
        let query = crate::domain::referrals::ListQuery {
            side: role.into(),
            statuses: status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            overdue,
        };
        crate::graphql::referrals::page(ctx, self.model.id, query, first, after)
            .boxed()
            .await
    }

    /// The terms it commits to for the referrals it handles (public).
    async fn referral_deadlines(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::graphql::referrals::ReferralDeadlines> {
        let terms = crate::domain::referrals::deadlines::of(&state(ctx)?.db, self.model.id)
            .boxed()
            .await?;
        Ok(crate::graphql::referrals::ReferralDeadlines(terms))
    }

    /// The resources it shares that the caller may see (retired ones too), oldest first.
    async fn resources(&self, ctx: &Context<'_>) -> Result<Vec<Resource>> {
        resources::of_organisation(ctx, self.model.id, self.at)
            .boxed()
            .await
    }

    /// Reservations of the resources it owns (`OWNER`) or that it requested (`REQUESTER`),
    /// newest first, with these statuses; for its own staff and State services.
    async fn reservations(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "as")] side: ReservationSide,
        status: Option<Vec<ReservationStatus>>,
        first: Option<i32>,
    ) -> Result<Vec<Reservation>> {
        resources::reservations_of(ctx, self.model.id, side, status, first, self.at)
            .boxed()
            .await
    }

    /// The contact points the caller may see: `PUBLIC` ones for everyone, `PARTNERS` ones
    /// for authenticated callers, `RESTRICTED` ones for the organisation itself and the State.
    async fn contact_points(&self, ctx: &Context<'_>) -> Result<Vec<ContactPoint>> {
        let all = loaders(ctx)?
            .contact_points
            .load(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(all.into_iter().map(ContactPoint).collect())
    }
}

/// An organisation's own public profile.
#[derive(SimpleObject, Clone, Debug)]
pub struct OrganisationProfile {
    /// Other names it is known by.
    pub alternate_names: Vec<String>,
    /// A short description.
    pub description: Option<String>,
    /// Public website.
    pub website: Option<String>,
    /// SIRET of its registered establishment (partners).
    pub siret: Option<String>,
    /// RNA number (associations).
    pub rna: Option<String>,
}

impl Organisation {
    /// What `epci(at:)` answers.
    pub(crate) async fn epci_at(
        &self,
        scope: Scope<'_>,
        at: Option<Date>,
    ) -> Result<Option<Organisation>> {
        let at = at.map_or(self.at, |d| d.0);
        self.group_where(scope, at, |g| g.kind.is_epci()).await
    }

    /// What `departement(at:)` answers.
    pub(crate) async fn departement_at(
        &self,
        scope: Scope<'_>,
        at: Option<Date>,
    ) -> Result<Option<Organisation>> {
        let at = at.map_or(self.at, |d| d.0);
        if self.model.kind == entity::OrganisationKind::Departement {
            return Ok(Some(self.clone()));
        }
        self.group_where(scope, at, |g| {
            g.kind == entity::OrganisationKind::Departement
        })
        .await
    }

    /// What `region(at:)` answers.
    pub(crate) async fn region_at(
        &self,
        scope: Scope<'_>,
        at: Option<Date>,
    ) -> Result<Option<Organisation>> {
        use entity::OrganisationKind as K;
        let at = at.map_or(self.at, |d| d.0);
        match self.model.kind {
            K::Region => Ok(Some(self.clone())),
            K::Departement => self.group_where(scope, at, |g| g.kind == K::Region).await,
            _ => match self
                .group_where(scope, at, |g| g.kind == K::Departement)
                .await?
            {
                Some(dep) => dep.group_where(scope, at, |g| g.kind == K::Region).await,
                None => Ok(None),
            },
        }
    }

    /// The group of the kind `wanted` says it belongs to on `at` (for a commune déléguée or
    /// an arrondissement municipal, that of the commune it is part of).
    async fn group_where(
        &self,
        scope: Scope<'_>,
        at: NaiveDate,
        wanted: impl Fn(&Row) -> bool,
    ) -> Result<Option<Organisation>> {
        if scope.before_data(at) {
            return Ok(None);
        }
        let rows = scope
            .loaders
            .memberships
            .load((self.model.id, Some(at)))
            .await?
            .unwrap_or_default();
        let found = rows.iter().find(|r| {
            r.membership.kind != entity::MembershipKind::PartOf && wanted(&r.organisation)
        });
        if let Some(r) = found {
            return Ok(Some(Organisation::new(r.organisation.clone(), at)));
        }
        // A commune déléguée or an arrondissement municipal lies where the commune it is part
        // of lies.
        let Some(whole) = rows
            .iter()
            .find(|r| r.membership.kind == entity::MembershipKind::PartOf)
        else {
            return Ok(None);
        };
        let rows = scope
            .loaders
            .memberships
            .load((whole.organisation.id, Some(at)))
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .find(|r| {
                r.membership.kind != entity::MembershipKind::PartOf && wanted(&r.organisation)
            })
            .map(|r| Organisation::new(r.organisation.clone(), at)))
    }

    async fn succession(
        &self,
        ctx: &Context<'_>,
        direction: Direction,
    ) -> Result<Vec<Organisation>> {
        let rows = loaders(ctx)?
            .successions
            .load((self.model.id, direction))
            .await?
            .unwrap_or_default();
        let mut out: Vec<Organisation> = Vec::with_capacity(rows.len());
        for (s, org) in rows {
            if out.iter().all(|o| o.model.id != org.id) {
                // Nested questions default to the predecessor's last day, the successor's first.
                let when = match direction {
                    Direction::Predecessors => s.date.pred_opt().unwrap_or(s.date),
                    Direction::Successors => s.date,
                };
                out.push(Organisation::new(org, when));
            }
        }
        Ok(out)
    }
}
