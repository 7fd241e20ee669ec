//! GraphiQL served from the binary: the page and its assets (GraphiQL, React and the page's
//! bootstrap with its example tabs), so that it works offline and behind proxies that block
//! CDNs. The page's Content-Security-Policy lets it reach only the server it came from.

use std::io::Read;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::read::GzDecoder;

/// The assets' version, part of their URLs: they are cached as immutable, so a new GraphiQL
/// must come with a new version.
const VERSION: &str = "4.1.2-1";

/// The page's policy: scripts, styles and connections to this server only (GraphiQL sets
/// inline styles and its stylesheet carries its fonts and icons as data URLs).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One asset: its name in the URL, its media type, and its bytes, gzipped when `gzipped`.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
    gzipped: bool,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "graphiql.min.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css.gz"),
        gzipped: true,
    },
    Asset {
        name: "react.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "react-dom.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "maillage.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/maillage.js"),
        gzipped: false,
    },
];

/// The GraphiQL page, for browsers asking `/graphql` for HTML.
pub(super) fn page() -> Response {
    let html = include_str!("../../assets/graphiql/index.html").replace("VERSION", VERSION);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

/// `GET /graphiql/{version}/{file}`: one of the page's assets, gzipped to clients that accept
/// it. Another version answers 404 rather than stale bytes under an immutable URL.
pub(super) async fn asset(
    Path((version, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if version != VERSION {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut response = if asset.gzipped && !accepts_gzip(&headers) {
        let mut plain = Vec::new();
        if GzDecoder::new(asset.bytes).read_to_end(&mut plain).is_err() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        plain.into_response()
    } else {
        let mut response = asset.bytes.into_response();
        if asset.gzipped {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    };
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether the client takes gzip (every browser does; `curl` without `--compressed` does not).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}
