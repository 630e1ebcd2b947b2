//! `GET /openapi.json`: the OpenAPI 3.1 document of the API anchorage serves.
//!
//! The document is hand-written JSON (`server/openapi.json`), embedded in the binary. Every
//! operation carries `x-anchorage-access`, the access rule of the route table
//! ([`crate::routes::endpoints`]); `server/tests/api/openapi.rs` checks the document against that
//! table and against the running server's answers. How to add an operation:
//! docs/architecture.md, "The OpenAPI document".

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// How long a client may use its copy before revalidating it (with `If-None-Match`).
const CACHE_CONTROL: &str = "public, max-age=3600";

/// The document's entity tag: a digest of its bytes, so it changes exactly when they do.
pub fn etag() -> String {
    let digest = Sha256::digest(DOCUMENT.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// `GET /openapi.json`: public, `application/json`, cacheable; 304 when `If-None-Match` names
/// the current entity tag.
pub async fn serve(headers: HeaderMap) -> Response {
    let etag = etag();
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == etag || t.trim() == "*");
    let mut res = if matches { StatusCode::NOT_MODIFIED.into_response() } else { DOCUMENT.into_response() };
    let h = res.headers_mut();
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_of_openapi_3_1() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("the document is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
    }

    #[test]
    fn the_etag_is_quoted_and_stable() {
        let tag = etag();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34, "{tag}");
        assert_eq!(tag, etag());
    }
}
