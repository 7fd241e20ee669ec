//! Runs a plan: the same lookups and field resolvers as the executor's, their values written
//! as JSON in the order asked.

use async_graphql::{InputType, Name, Value, Variables};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};

use super::plan::{Arguments, Fields, ListAsk, OrganisationAsk, Plan, RootAsk};
use crate::graphql::context::Scope;
use crate::graphql::registry::{Organisation, OrganisationKind, lookups};
use crate::graphql::scalars::Date;

/// A direct answer: the `data` object as JSON, and how many fields it holds (what the cost
/// report calls `actual`).
pub struct Written {
    /// The `data` object.
    pub data: String,
    /// Fields in it: every object's entries, nested ones included.
    pub fields: usize,
}

/// The answer to `plan` with `variables`, or `None` when anything fails: the executor then
/// runs the operation again and answers its errors as always (these are reads; running them
/// twice changes nothing).
pub async fn answer(plan: &Plan, variables: &Variables, scope: Scope<'_>) -> Option<Written> {
    let mut out = Out::default();
    out.open();
    for (n, (key, ask)) in plan.roots.iter().enumerate() {
        out.key(n, key);
        match ask {
            RootAsk::Typename => out.str("Query"),
            RootAsk::Organisation(args, fields) => {
                let args = Args::read(args, plan, variables)?;
                let found = lookups::organisation(
                    scope,
                    args.get("id")?,
                    args.get("inseeCode")?,
                    args.get("siren")?,
                    args.get("kind")?,
                    args.get("at")?,
                )
                .await
                .ok()?;
                out.organisation_or_null(found.as_ref(), fields, scope)
                    .await?;
            }
            RootAsk::Organisations(args, fields) => {
                let args = Args::read(args, plan, variables)?;
                let list = lookups::organisations(
                    scope,
                    args.get("filter")?,
                    args.get("orderBy")?,
                    args.get("first")?,
                    args.get("after")?,
                    args.get("at")?,
                )
                .await
                .ok()?;
                let rows: Vec<&Organisation> = list.edges.iter().map(|e| &e.node).collect();
                out.open();
                for (n, (key, ask)) in fields.iter().enumerate() {
                    out.key(n, key);
                    match ask {
                        ListAsk::Typename => out.str("OrganisationConnection"),
                        ListAsk::Nodes(fields) => out.organisations(&rows, fields, scope).await?,
                    }
                }
                out.close();
            }
        }
    }
    out.close();
    Some(Written {
        data: String::from_utf8(out.buf).ok()?,
        fields: out.fields,
    })
}

/// A field's arguments with variables read: a variable not sent takes its default.
struct Args(Vec<(Name, Value)>);

impl Args {
    fn read(args: &Arguments, plan: &Plan, variables: &Variables) -> Option<Self> {
        let variable = |name: Name| {
            variables
                .get(&name)
                .or_else(|| {
                    plan.defaults
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v)
                })
                .cloned()
                .ok_or(())
        };
        let read = args
            .iter()
            .map(|(name, value)| {
                Some((name.clone(), value.clone().into_const_with(variable).ok()?))
            })
            .collect::<Option<_>>()?;
        Some(Self(read))
    }

    /// The argument `name` as its resolver takes it (`None` if it cannot be read so).
    fn get<T: InputType>(&self, name: &str) -> Option<T> {
        let value = self
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone());
        T::parse(value).ok()
    }
}

/// The JSON being written.
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    fields: usize,
}

impl Out {
    fn open(&mut self) {
        self.buf.push(b'{');
    }

    fn close(&mut self) {
        self.buf.push(b'}');
    }

    /// The `n`th key of an object (names need no escaping).
    fn key(&mut self, n: usize, key: &str) {
        if n > 0 {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
        self.fields += 1;
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    fn str(&mut self, s: &str) {
        // Writing to a vector cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, s);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// A value as async-graphql writes it (enums and scalars of the schema).
    fn value(&mut self, value: &Value) {
        let _ = serde_json::to_writer(&mut self.buf, value);
    }

    fn append(&mut self, other: Out) {
        self.buf.extend_from_slice(&other.buf);
        self.fields += other.fields;
    }

    async fn organisation_or_null(
        &mut self,
        found: Option<&Organisation>,
        fields: &Fields<OrganisationAsk>,
        scope: Scope<'_>,
    ) -> Option<()> {
        match found {
            Some(org) => self.organisation(org, fields, scope).await,
            None => {
                self.null();
                Some(())
            }
        }
    }

    /// A list of organisations. Rows whose fields read the database resolve together, as the
    /// executor resolves a list's rows, so their reads are batched.
    async fn organisations(
        &mut self,
        rows: &[&Organisation],
        fields: &Fields<OrganisationAsk>,
        scope: Scope<'_>,
    ) -> Option<()> {
        self.buf.push(b'[');
        if fields.iter().any(|(_, ask)| ask.reads()) {
            let written = join_all(rows.iter().map(|org| async move {
                let mut out = Out::default();
                out.organisation(org, fields, scope).await.map(|()| out)
            }))
            .await;
            for (n, row) in written.into_iter().enumerate() {
                if n > 0 {
                    self.buf.push(b',');
                }
                self.append(row?);
            }
        } else {
            for (n, org) in rows.iter().enumerate() {
                if n > 0 {
                    self.buf.push(b',');
                }
                self.organisation(org, fields, scope).await?;
            }
        }
        self.buf.push(b']');
        Some(())
    }

    /// One organisation, its fields in the order asked, resolved one after the other as the
    /// executor resolves them (`Organisation` is a serial object).
    fn organisation<'a>(
        &'a mut self,
        org: &'a Organisation,
        fields: &'a Fields<OrganisationAsk>,
        scope: Scope<'a>,
    ) -> BoxFuture<'a, Option<()>> {
        async move {
            use OrganisationAsk as A;
            // The values its resolvers give (`graphql::registry::organisation`).
            let m = &org.model;
            self.open();
            for (n, (key, ask)) in fields.iter().enumerate() {
                self.key(n, key);
                match ask {
                    A::Typename => self.str("Organisation"),
                    A::Id => self.str(&org.global_id()),
                    A::Kind => self.value(&OrganisationKind::from(m.kind).to_value()),
                    A::Name => self.str(&m.name),
                    A::InseeCode => self.opt_str(m.insee_code.as_deref()),
                    A::Siren => self.opt_str(m.siren.as_deref()),
                    A::Population => self.value(&m.population.to_value()),
                    A::PostalCodes => {
                        self.buf.push(b'[');
                        for (n, code) in org.postal_code_list().enumerate() {
                            if n > 0 {
                                self.buf.push(b',');
                            }
                            self.str(code);
                        }
                        self.buf.push(b']');
                    }
                    A::ValidFrom => self.value(&m.valid_from.map(Date).to_value()),
                    A::ValidTo => self.value(&m.valid_to.map(Date).to_value()),
                    A::DepartementCode => self.opt_str(m.departement_code.as_deref()),
                    A::RegionCode => self.opt_str(m.region_code.as_deref()),
                    A::Version => self.value(&m.version.to_value()),
                    A::Epci(nested) => {
                        let found = org.epci_at(scope, None).await.ok()?;
                        self.organisation_or_null(found.as_ref(), nested, scope)
                            .await?;
                    }
                    A::Departement(nested) => {
                        let found = org.departement_at(scope, None).await.ok()?;
                        self.organisation_or_null(found.as_ref(), nested, scope)
                            .await?;
                    }
                    A::Region(nested) => {
                        let found = org.region_at(scope, None).await.ok()?;
                        self.organisation_or_null(found.as_ref(), nested, scope)
                            .await?;
                    }
                }
            }
            self.close();
            Some(())
        }
        .boxed()
    }
}
