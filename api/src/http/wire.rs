//! GraphQL over HTTP, as the specification (and graphql-http's audit) reads it: strict
//! request parameters, `application/graphql-response+json` or `application/json` as the
//! client accepts, and status codes that say whether the request itself was refused.

use std::collections::HashMap;

use async_graphql::{Extensions, Request, Variables};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_json::{Value, json};

/// The response media types, in the client's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors are HTTP 4xx.
    GraphqlResponse,
    /// `application/json` (also for `*/*` or no `Accept`): always 200 once parsed.
    Json,
}

impl Media {
    /// The media type the client prefers among those served (the first one it names).
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for range in accept.split(',') {
            let mime = range.split(';').next().unwrap_or("").trim();
            if mime.eq_ignore_ascii_case("application/graphql-response+json") {
                return Media::GraphqlResponse;
            }
            if mime.eq_ignore_ascii_case("application/json") {
                return Media::Json;
            }
        }
        Media::Json
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        })
    }
}

/// The parameters of a GraphQL request, with the types the specification requires (read
/// straight into async-graphql's values: a detour through `serde_json::Value` cost a copy
/// of every request).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Variables>,
    extensions: Option<Extensions>,
}

/// A request that cannot be run, with why.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// The answer, in the negotiated media type.
    pub fn into_response(self, media: Media, request_id: &str) -> Response {
        let body = json!({ "errors": [{
            "message": self.message,
            "extensions": { "code": "BAD_REQUEST", "requestId": request_id }
        }] });
        encoded(self.status, media, &body)
    }
}

/// A POST body: `application/json` holding one request (batches are not accepted).
pub fn from_post(headers: &HeaderMap, body: &Bytes) -> Result<Request, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some("application/json") {
        return Err(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "send the request as `content-type: application/json`".into(),
        });
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Refusal::bad(
            "batched requests are not accepted: send one at a time",
        ));
    }
    let params: Params = serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => Refusal::bad(format!("invalid request parameters: {e}")),
        Category::Io | Category::Syntax | Category::Eof => {
            Refusal::bad(format!("the body is not JSON: {e}"))
        }
    })?;
    build(params)
}

/// GET parameters: `query`, `operationName`, and `variables` and `extensions` as JSON text.
pub fn from_get(query_string: Option<&str>) -> Result<Request, Refusal> {
    let raw: HashMap<String, String> = serde_urlencoded::from_str(query_string.unwrap_or(""))
        .map_err(|e| Refusal::bad(format!("invalid query string: {e}")))?;
    fn json_object<T: DeserializeOwned>(
        raw: &HashMap<String, String>,
        name: &str,
    ) -> Result<Option<T>, Refusal> {
        raw.get(name)
            .map(|text| {
                serde_json::from_str::<Option<T>>(text)
                    .map_err(|e| Refusal::bad(format!("`{name}` is not a JSON object: {e}")))
            })
            .transpose()
            .map(Option::flatten)
    }
    build(Params {
        query: raw.get("query").cloned(),
        operation_name: raw.get("operationName").cloned(),
        variables: json_object(&raw, "variables")?,
        extensions: json_object(&raw, "extensions")?,
    })
}

fn build(params: Params) -> Result<Request, Refusal> {
    let extensions = params.extensions.unwrap_or_default();
    // A persisted query's hash may stand for the document (APQ).
    if params.query.is_none() && !extensions.contains_key("persistedQuery") {
        return Err(Refusal::bad("the `query` parameter is missing"));
    }
    let mut request = Request::new(params.query.unwrap_or_default())
        .variables(params.variables.unwrap_or_default());
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    request.extensions = extensions;
    Ok(request)
}

/// Whether a result is a request error: nothing executed (no data, no error with a path).
fn is_request_error(result: &async_graphql::Response) -> bool {
    !result.errors.is_empty()
        && matches!(result.data, async_graphql::Value::Null)
        && result.errors.iter().all(|e| e.path.is_empty())
}

/// Encodes a result: a request error has no `data` entry and, for clients that accept
/// `application/graphql-response+json`, is HTTP 400; `status` overrides when set (429…).
/// `data`, when given, is a direct answer's data, written already (`result` then holds no
/// data and no errors).
pub fn respond(
    result: async_graphql::Response,
    data: Option<String>,
    media: Media,
    status: Option<StatusCode>,
) -> Response {
    let request_error = is_request_error(&result);
    // Encoded straight from the result: a detour through `serde_json::Value` costs a copy of
    // every answer (a territory profile is hundreds of objects).
    let body = if let Some(data) = data {
        direct_body(data, &result.extensions)
    } else if request_error {
        serde_json::to_string(&RequestError {
            errors: &result.errors,
            extensions: &result.extensions,
        })
    } else {
        serde_json::to_string(&result)
    };
    let body = body.unwrap_or_else(|_| {
        json!({ "errors": [{ "message": "the result could not be encoded",
                              "extensions": { "code": "INTERNAL" } }] })
        .to_string()
    });
    let status = status.unwrap_or(match (media, request_error) {
        (Media::GraphqlResponse, true) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    });
    let mut response = encoded_text(status, media, body);
    for (name, value) in result.http_headers.iter() {
        response.headers_mut().append(name, value.clone());
    }
    response
}

/// A direct answer's body: its data, then its extensions when it has any, as async-graphql
/// writes a response.
fn direct_body(
    data: String,
    extensions: &std::collections::BTreeMap<String, async_graphql::Value>,
) -> Result<String, serde_json::Error> {
    let mut body = data;
    body.insert_str(0, "{\"data\":");
    if !extensions.is_empty() {
        body.push_str(",\"extensions\":");
        body.push_str(&serde_json::to_string(extensions)?);
    }
    body.push('}');
    Ok(body)
}

/// A request error: no `data` entry (GraphQL over HTTP).
#[derive(serde::Serialize)]
struct RequestError<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn encoded(status: StatusCode, media: Media, body: &Value) -> Response {
    encoded_text(status, media, body.to_string())
}

fn encoded_text(status: StatusCode, media: Media, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}
