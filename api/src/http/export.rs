//! `GET /export/{dataset}.{ndjson|csv}?at=YYYY-MM-DD`: a whole dataset streamed from one
//! snapshot, page by page (constant memory), with the change-feed cursor of that snapshot in
//! the `x-feed-cursor` header.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use futures_util::stream;
use serde_json::{Map, Value};

use super::{authenticate, failure, request_id, unauthenticated};
use crate::AppState;
use crate::domain::export::{self, Dataset, Field, Ref, Row, Snapshot};
use crate::error::AppError;
use crate::graphql::ids::{self, NodeType};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

/// Query parameters.
#[derive(Debug, serde::Deserialize)]
pub struct ExportParams {
    /// The date the export answers for (default today).
    at: Option<String>,
}

fn id_of(r: Ref) -> String {
    match r {
        Ref::Organisation(id) => ids::encode(NodeType::Organisation, id).0,
        Ref::Assignment(id) => ids::encode(NodeType::Assignment, id).0,
        Ref::Resource(id) => ids::encode(NodeType::Resource, id).0,
        Ref::Agreement(id) => ids::encode(NodeType::Agreement, id).0,
        Ref::TerritorialProject(id) => ids::encode(NodeType::TerritorialProject, id).0,
        Ref::Indicator(id) => ids::encode(NodeType::Indicator, id).0,
        Ref::Measurement(id) => ids::encode(NodeType::Measurement, id).0,
    }
}

fn json_of(field: &Field) -> Value {
    match field {
        Field::Value(v) => v.clone(),
        Field::Ref(r) => Value::String(id_of(*r)),
        Field::Refs(list) => Value::Array(list.iter().map(|&r| Value::String(id_of(r))).collect()),
        Field::Texts(list) => Value::Array(list.iter().cloned().map(Value::String).collect()),
        Field::Parties(list) => Value::Array(
            list.iter()
                .map(|&(org, role)| {
                    serde_json::json!({ "organisation": id_of(Ref::Organisation(org)), "role": role })
                })
                .collect(),
        ),
    }
}

fn csv_of(field: &Field) -> String {
    match field {
        Field::Value(Value::Null) => String::new(),
        Field::Value(Value::String(s)) => s.clone(),
        Field::Value(other) => other.to_string(),
        Field::Ref(r) => id_of(*r),
        // Lists join with `;` in one cell: an ID, or `ID:ROLE` for a party.
        Field::Refs(list) => list.iter().map(|&r| id_of(r)).collect::<Vec<_>>().join(";"),
        Field::Texts(list) => list.join(";"),
        Field::Parties(list) => list
            .iter()
            .map(|&(org, role)| format!("{}:{}", id_of(Ref::Organisation(org)), json_role(role)))
            .collect::<Vec<_>>()
            .join(";"),
    }
}

fn json_role(role: entity::PartyRole) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn encode(format: Format, columns: &[&str], rows: &[Row], header: bool) -> Bytes {
    match format {
        Format::Ndjson => {
            let mut out = Vec::new();
            for row in rows {
                let object: Map<String, Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(c, f)| ((*c).to_owned(), json_of(f)))
                    .collect();
                out.extend(Value::Object(object).to_string().into_bytes());
                out.push(b'\n');
            }
            Bytes::from(out)
        }
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            if header {
                let _ = writer.write_record(columns);
            }
            for row in rows {
                let _ = writer.write_record(row.iter().map(csv_of));
            }
            Bytes::from(writer.into_inner().unwrap_or_default())
        }
    }
}

struct Reader {
    snapshot: Option<Snapshot>,
    /// Nothing to export but the header.
    empty: bool,
    dataset: Dataset,
    format: Format,
    at: NaiveDate,
    after: i64,
    header: bool,
}

impl Reader {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        let snapshot = self.snapshot.take()?;
        let columns = self.dataset.columns();
        if self.header && self.format == Format::Csv {
            self.header = false;
            let bytes = encode(self.format, columns, &[], true);
            self.snapshot = Some(snapshot);
            return Some((Ok(bytes), self));
        }
        if self.empty {
            snapshot.close().await;
            return None;
        }
        match snapshot.page(self.dataset, self.at, self.after).await {
            Ok((rows, _)) if rows.is_empty() => {
                snapshot.close().await;
                None
            }
            Ok((rows, last)) => {
                self.after = last;
                let bytes = encode(self.format, columns, &rows, false);
                self.snapshot = Some(snapshot);
                Some((Ok(bytes), self))
            }
            Err(e) => {
                snapshot.close().await;
                // The body is cut short: the client sees an incomplete transfer, not a
                // truncated file that looks whole.
                Some((Err(std::io::Error::other(e.to_string())), self))
            }
        }
    }
}

/// The export handler.
pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    let id = request_id();
    let actor = match authenticate(&state, &headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => return unauthenticated(&id),
        Err(other) => return failure(&other, &id),
    };
    let (name, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let format = match ext {
        "ndjson" => Format::Ndjson,
        "csv" => Format::Csv,
        _ => {
            return failure(
                &AppError::NotFound(format!("no export `{file}`: use .ndjson or .csv")),
                &id,
            );
        }
    };
    let Some(dataset) = Dataset::parse(name) else {
        return failure(
            &AppError::NotFound(format!(
                "no export `{name}`: organisations, memberships, competences, assignments, resources, agreements, indicators or measurements"
            )),
            &id,
        );
    };
    let at = match params.at.as_deref() {
        None => state.clock.today(),
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) if text.len() == 10 => d,
            _ => {
                return failure(
                    &AppError::bad_input("at", format!("`{text}` is not a date (YYYY-MM-DD)")),
                    &id,
                );
            }
        },
    };
    let snapshot = match export::open(&state.db, actor).await {
        Ok(s) => s,
        Err(e) => return failure(&e, &id),
    };
    let cursor = snapshot.cursor.map(|p| p.cursor());
    // Before the data begins there are no dated facts, as `organisations(at:)` answers.
    let empty = dataset.is_dated() && state.before_data(at);
    let reader = Reader {
        snapshot: Some(snapshot),
        empty,
        dataset,
        format,
        at,
        after: 0,
        header: true,
    };
    let body = Body::from_stream(stream::unfold(reader, Reader::next));
    let content_type = match format {
        Format::Ndjson => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8; header=present",
    };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Absent when the feed is empty: follow it from its start.
    if let Some(v) = cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("x-feed-cursor", v);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    response
}
