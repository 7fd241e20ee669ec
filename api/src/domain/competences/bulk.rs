//! The bulk import of declared competences, as a préfecture's or a BANATIC extract gives
//! them: one CSV row per declaration, each checked exactly as a declaration made through the
//! API, all written in one unit of work or none. Importing the same file again changes
//! nothing.

use std::io::Read;

use chrono::NaiveDate;
use entity::{AssignmentBasis, CompetenceRole, organisation};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};

use super::Catalogue;
use super::assignments::{self, NewAssignment};
use crate::domain::audit::WriteContext;
use crate::domain::{UnitOfWork, authz, codes, contains};
use crate::error::AppError;

/// The columns of an import file, in the order the documentation gives them.
pub const COLUMNS: [&str; 8] = [
    "siren",
    "competence",
    "role",
    "basis",
    "valid_from",
    "valid_to",
    "source",
    "scope",
];

/// One row as the file spells it.
#[derive(Debug, Deserialize)]
struct Record {
    siren: String,
    competence: String,
    role: String,
    basis: String,
    valid_from: String,
    #[serde(default)]
    valid_to: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// One declaration of the file, its values parsed.
#[derive(Debug, Clone)]
pub struct Row {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// SIREN of the declaring organisation.
    pub siren: String,
    /// Competence code of the catalogue.
    pub competence: String,
    /// Role played.
    pub role: CompetenceRole,
    /// What gives the organisation the competence.
    pub basis: AssignmentBasis,
    /// First day.
    pub valid_from: NaiveDate,
    /// Day after the last; `None` = open.
    pub valid_to: Option<NaiveDate>,
    /// Legal reference (the arrêté approving the statutes, the agreement…).
    pub source: Option<String>,
    /// INSEE codes of the member communes covered; `None` for the whole territory.
    pub scope: Option<Vec<String>>,
}

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// Line in the file.
    pub line: u64,
    /// The stable error code an API declaration would have answered.
    pub code: &'static str,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

impl RowError {
    fn new(line: u64, error: AppError) -> Self {
        let column = match &error {
            AppError::BadUserInput { field, .. } => field.as_deref().map(column_of),
            _ => None,
        };
        Self {
            line,
            code: error.code(),
            column,
            message: error.to_string(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", {column}")?;
        }
        write!(f, ": {} ({})", self.message, self.code)
    }
}

/// The file's column for an API input field named in an error.
fn column_of(field: &str) -> String {
    let field = field.strip_prefix("input.").unwrap_or(field);
    let column = match field {
        "validFrom" => "valid_from",
        "validTo" => "valid_to",
        "legalReference" => "source",
        f if f.starts_with("scope") => "scope",
        f => f,
    };
    column.to_owned()
}

/// What an import wrote (or, on a dry run, would write).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Rows read.
    pub rows: usize,
    /// Declarations written.
    pub declared: usize,
    /// Rows already declared exactly so (an earlier import of the same data).
    pub already_declared: usize,
    /// Whether everything was rolled back after the checks.
    pub dry_run: bool,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Some rows were refused; every refusal is listed.
    #[error("{} row(s) refused; nothing was written", .0.len())]
    Refused(Vec<RowError>),
    /// The database failed.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Reads an import file (CSV with a header naming the [`COLUMNS`]; `valid_to`, `source` and
/// `scope` may be empty or absent). Every malformed row is reported.
pub fn parse(reader: impl Read) -> Result<Vec<Row>, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in csv.deserialize::<Record>().enumerate() {
        let line = i as u64 + 2;
        let parsed = record
            .map_err(|e| AppError::bad_input("file", format!("unreadable row: {e}")))
            .and_then(|r| row(line, r));
        match parsed {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(RowError::new(line, e)),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ImportError::Refused(errors))
    }
}

fn row(line: u64, r: Record) -> Result<Row, AppError> {
    let date = |column: &str, text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            AppError::bad_input(column, format!("`{text}` is not a date (YYYY-MM-DD)"))
        })
    };
    let filled = |v: Option<String>| v.filter(|s| !s.is_empty());
    let role = CompetenceRole::try_from_value(&r.role.to_ascii_uppercase()).map_err(|_| {
        AppError::bad_input(
            "role",
            format!(
                "`{}` is not a role (HOLDER, IMPLEMENTER, FINANCER…)",
                r.role
            ),
        )
    })?;
    let basis = AssignmentBasis::try_from_value(&r.basis.to_ascii_uppercase()).map_err(|_| {
        AppError::bad_input(
            "basis",
            format!(
                "`{}` is not a basis (STATUTES, LAW, DELEGATION, AGREEMENT)",
                r.basis
            ),
        )
    })?;
    Ok(Row {
        line,
        siren: r.siren,
        competence: r.competence,
        role,
        basis,
        valid_from: date("valid_from", &r.valid_from)?,
        valid_to: filled(r.valid_to)
            .map(|t| date("valid_to", &t))
            .transpose()?,
        source: filled(r.source),
        scope: filled(r.scope).map(|s| {
            s.split(|c: char| c == ';' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        }),
    })
}

/// Declares every row for the organisation its SIREN names, each checked as
/// `declareCompetence` checks it (the catalogue, the law's reservations, the scope, the
/// holders already declared, earlier rows included), in one unit of work: all are written,
/// or, if any is refused, none. A row declared exactly so already is left as it is. A dry
/// run checks everything and writes nothing.
pub async fn import(
    db: &DatabaseConnection,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    rows: &[Row],
    dry_run: bool,
) -> Result<Report, ImportError> {
    let txn = UnitOfWork::begin(db, ctx).await?;
    let mut report = Report {
        rows: rows.len(),
        dry_run,
        ..Report::default()
    };
    let mut errors = Vec::new();
    for row in rows {
        match declare(&txn, catalogue, ctx, row).await {
            Ok(true) => report.declared += 1,
            Ok(false) => report.already_declared += 1,
            Err(e @ (AppError::Internal | AppError::ServiceUnavailable)) => return Err(e.into()),
            Err(e) => errors.push(RowError::new(row.line, e)),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Refused(errors));
    }
    if !dry_run {
        txn.commit().await?;
    }
    Ok(report)
}

/// Declares one row; `false` when it was declared exactly so already.
async fn declare<C: ConnectionTrait>(
    txn: &C,
    catalogue: &Catalogue,
    ctx: &WriteContext,
    row: &Row,
) -> Result<bool, AppError> {
    codes::check_siren("siren", &row.siren)?;
    let organisation_id = by_siren(txn, &row.siren, row.valid_from).await?;
    authz::require_edit(&ctx.actor, organisation_id)?;
    let new = NewAssignment {
        organisation_id,
        competence: row.competence.clone(),
        role: row.role,
        basis: row.basis,
        scope: row.scope.clone(),
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        legal_reference: row.source.clone(),
    };
    let legal_reference = assignments::check_declaration(catalogue, &new)?;
    let checked = assignments::check_in(txn, catalogue, &new).await?;
    if assignments::already_declared(txn, &checked, new.basis).await? {
        return Ok(false);
    }
    assignments::write_checked(
        txn,
        ctx,
        "importCompetences",
        &checked,
        new.basis,
        legal_reference,
    )
    .await?;
    Ok(true)
}

/// The organisation `siren` names: the one in existence on `at`, else its latest.
async fn by_siren<C: ConnectionTrait>(
    txn: &C,
    siren: &str,
    at: NaiveDate,
) -> Result<i64, AppError> {
    let found = organisation::Entity::find()
        .filter(organisation::Column::Siren.eq(siren))
        .order_by_desc(organisation::Column::ValidFrom)
        .all(txn)
        .await?;
    found
        .iter()
        .find(|o| contains(o.valid_from, o.valid_to, at))
        .or(found.first())
        .map(|o| o.id)
        .ok_or_else(|| AppError::bad_input("siren", format!("no organisation has SIREN {siren}")))
}
