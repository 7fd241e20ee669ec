//! `GET /charts/indicators/{id}.svg`: an indicator's chart, for whoever may see its project.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{authenticate, failure, request_id, unauthenticated};
use crate::AppState;
use crate::domain::projects::{chart, indicators, series};
use crate::error::AppError;

/// The chart handler.
pub async fn indicator(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let id = request_id();
    let actor = match authenticate(&state, &headers).await {
        Ok(actor) => actor,
        Err(AppError::Unauthenticated) => return unauthenticated(&id),
        Err(other) => return failure(&other, &id),
    };
    let not_found = || AppError::NotFound(format!("no chart `{file}`"));
    let Some(number) = file
        .strip_suffix(".svg")
        .and_then(|n| n.parse::<i64>().ok())
    else {
        return failure(&not_found(), &id);
    };
    let evidence = async {
        let Some((indicator, _)) = indicators::visible(&state.db, &actor, number).await? else {
            return Err(not_found());
        };
        series::evidence_of(&state.db, vec![indicator])
            .await?
            .remove(&number)
            .ok_or_else(not_found)
    };
    match evidence.await {
        Ok(e) => {
            let mut response = chart::svg(&e.indicator, &e.series).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            );
            // The chart of a draft is its parties' business: never kept by a shared cache.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            response
        }
        Err(e) => failure(&e, &id),
    }
}
