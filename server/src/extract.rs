//! Request extractors whose rejections speak the platform's error envelope: JSON bodies,
//! paging parameters, and the base URL for `self` links.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use anchorage_common::api::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageStatistics};

use crate::error::AppError;
use crate::state::AppState;

/// A JSON body; malformed JSON → 400, wrong shape → 422, too large → 413, not JSON → 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(AppError::unprocessable("general", format!("Invalid request body: {}", e.body_text())))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(AppError::bad_request("general", format!("Malformed JSON: {}", e.body_text())))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::UnsupportedMediaType {
                message: "Send the body as JSON (Content-Type: application/json).".into(),
            }),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge { limit: state.config.max_body_bytes })
            }
            Err(e) => Err(AppError::bad_request("general", e.body_text())),
        }
    }
}

/// A form body (the login): not a form → 415, too large → 413, a field of the wrong kind →
/// 400, each in the platform's envelope. For any router state (both modes log in with it).
pub struct ApiForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        use axum::extract::rejection::FormRejection;
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(ApiForm(v)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(AppError::UnsupportedMediaType {
                message: "Send the login as a form (Content-Type: application/x-www-form-urlencoded).".into(),
            }),
            Err(FormRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::refused(StatusCode::PAYLOAD_TOO_LARGE, "general", "The request body is too large."))
            }
            Err(e) => Err(AppError::bad_request("general", format!("Invalid form: {}", e.body_text()))),
        }
    }
}

/// Query parameters; a parameter of the wrong kind, or with a NUL character (which PostgreSQL
/// cannot store or compare, so both backends refuse it alike) → 422 in the platform's envelope.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(AppError::unprocessable("general", "Query parameters must not contain a NUL character."));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| AppError::unprocessable("general", e.body_text()))
    }
}

/// The links of one page of a collection.
pub struct PageLinks {
    pub self_url: String,
    pub next: Option<String>,
    pub prev: Option<String>,
}

/// Paging query parameters as the platform takes them.
#[derive(Debug, Clone)]
pub struct Paging {
    pub current_page: u32,
    pub page_size: u32,
    pub with_total_pages: bool,
    pub with_total_elements: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPaging {
    current_page: Option<String>,
    page_size: Option<String>,
    with_total_pages: Option<String>,
    with_total_elements: Option<String>,
}

impl Paging {
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.current_page - 1) * u64::from(self.page_size)
    }

    /// The `statistics` object, given the total when it was counted.
    pub fn statistics(&self, total: Option<u64>) -> PageStatistics {
        PageStatistics {
            current_page: self.current_page,
            page_size: self.page_size,
            total_pages: if self.with_total_pages {
                total.map(|t| t.div_ceil(u64::from(self.page_size)))
            } else {
                None
            },
            total_elements: if self.with_total_elements { total } else { None },
        }
    }

    /// Whether the total must be counted.
    pub fn needs_total(&self) -> bool {
        self.with_total_pages || self.with_total_elements
    }

    /// `self`, `next` (only when another page exists: known from the total when counted, else
    /// from a full page) and `prev` (after page 1) of a page of `returned` rows; `extra` are
    /// the filter parameters the links keep.
    pub fn links(&self, url: &str, extra: &[(&str, Option<&str>)], returned: usize, total: Option<u64>) -> PageLinks {
        let kept: String = extra
            .iter()
            .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("&{k}={}", url_encode(v))))
            .collect();
        let link = |page: u32| format!("{url}?{}{kept}", self.query_for(page));
        let more = match total {
            Some(t) => self.offset() + (returned as u64) < t,
            None => returned == self.page_size as usize,
        };
        PageLinks {
            self_url: link(self.current_page),
            next: more.then(|| link(self.current_page + 1)),
            prev: (self.current_page > 1).then(|| link(self.current_page - 1)),
        }
    }

    /// The platform's collection envelope: `{<property>: items, statistics, self, next?, prev?}`.
    pub fn envelope(
        &self,
        property: &str,
        items: Vec<serde_json::Value>,
        url: &str,
        extra: &[(&str, Option<&str>)],
        total: Option<u64>,
    ) -> serde_json::Value {
        let links = self.links(url, extra, items.len(), total);
        let mut body =
            serde_json::json!({ property: items, "statistics": self.statistics(total), "self": links.self_url });
        if let Some(next) = links.next {
            body["next"] = next.into();
        }
        if let Some(prev) = links.prev {
            body["prev"] = prev.into();
        }
        body
    }

    /// The query string for page `page` (what `self`, `next` and `prev` carry).
    pub fn query_for(&self, page: u32) -> String {
        let mut q = format!("pageSize={}&currentPage={page}", self.page_size);
        if self.with_total_pages {
            q.push_str("&withTotalPages=true");
        }
        if self.with_total_elements {
            q.push_str("&withTotalElements=true");
        }
        q
    }
}

fn positive(name: &str, v: Option<&str>, default: u32) -> Result<u32, AppError> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            AppError::unprocessable("general", format!("{name} must be a whole number from 1 to 4294967295, not '{s}'"))
        }),
    }
}

/// `pageSize`: a whole number of at least 1; above the platform's maximum (however far) the
/// maximum is served, as the platform does.
fn page_size(v: Option<&str>) -> Result<u32, AppError> {
    match v {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.bytes().any(|b| b != b'0') => {
            Ok(s.parse::<u32>().map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)))
        }
        None | Some("") => Ok(DEFAULT_PAGE_SIZE),
        Some(s) => Err(AppError::unprocessable(
            "general",
            format!("pageSize must be a whole number from 1 to {MAX_PAGE_SIZE}, not '{s}'"),
        )),
    }
}

fn flag(name: &str, v: Option<&str>) -> Result<bool, AppError> {
    match v {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(s) => Err(AppError::unprocessable("general", format!("{name} must be true or false, not '{s}'"))),
    }
}

impl FromRequestParts<AppState> for Paging {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Query(raw) = Query::<RawPaging>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::unprocessable("general", e.body_text()))?;
        Ok(Paging {
            current_page: positive("currentPage", raw.current_page.as_deref(), 1)?,
            page_size: page_size(raw.page_size.as_deref())?,
            with_total_pages: flag("withTotalPages", raw.with_total_pages.as_deref())?,
            with_total_elements: flag("withTotalElements", raw.with_total_elements.as_deref())?,
        })
    }
}

/// The public base URL (`http://host:port`, `https://` on the device listener) for links in
/// responses.
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(url) = &state.config.public_url {
            return Ok(BaseUrl(url.trim_end_matches('/').to_string()));
        }
        // HTTP/1.1 sends Host; HTTP/2 sends the authority in the URI.
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
            .map(str::to_string)
            .unwrap_or_else(|| state.config.listen.to_string());
        // Requests on the device listener arrived over TLS.
        let scheme = if parts.extensions.get::<crate::tls::PeerCertificates>().is_some() { "https" } else { "http" };
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// The client's address (`ip:port`), when the connection has one.
pub struct ClientAddress(pub Option<String>);

impl ClientAddress {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddress(addr))
    }
}

/// Percent-encodes a query or path value (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
