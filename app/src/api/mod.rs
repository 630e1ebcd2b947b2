//! The console's only door to the network: typed async functions over the platform's REST API.
//!
//! Calls are authenticated by the session cookie, which the browser sends by itself (see
//! [`session`]); every request carries the session's `X-XSRF-TOKEN`, `UseXBasic: true` (so a
//! 401 never makes the browser pop up its own login box) and `Accept: application/json`.
//! Failures come back as [`ApiError`], whose `Display` is a sentence for the person using the
//! console. Pages never see gloo-net.

pub mod alarms;
mod audit;
mod bulk_registration;
mod chain_doctor;
mod devices;
mod est;
mod options;
mod refusals;
mod revocation;
mod session;
mod trusted_certificates;
mod users;
pub(crate) mod wire;

pub use audit::{AuditFilter, AuditPage, AuditRecord};
pub use chain_doctor::{Asked, ChainVerdict, ServerClock};
pub use devices::{Device, DevicePage};
pub use est::NewDeviceRequestPage;
pub use refusals::{MAX_REFUSALS, RefusalsOf};
pub use revocation::RevokedPage;
pub use session::{Mode, log_in, log_out, mode, resume};

use std::fmt;

use anchorage_common::api::{CurrentTenant, CurrentUser};
use anchorage_common::users::UserRole;
use gloo_net::http::{RequestBuilder, Response};
use serde::de::DeserializeOwned;

/// Why an API call failed, in terms the user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server refused the credentials (HTTP 401).
    Unauthorized,
    /// The server answered with an error status; `message` is its own words when it gave any.
    Status { status: u16, message: String },
    /// No answer at all: the server is down or unreachable.
    Network,
    /// An answer that is not what the API promises.
    Unexpected(String),
    /// Too many attempts (HTTP 429): the server takes the next one after `retry_after` seconds.
    Throttled { retry_after: u32, message: String },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("Wrong user name or password."),
            ApiError::Status { message, .. } | ApiError::Throttled { message, .. } => f.write_str(message),
            ApiError::Network => f.write_str("anchorage did not answer; check that it is running."),
            ApiError::Unexpected(what) => write!(f, "anchorage sent an unexpected answer ({what})."),
        }
    }
}

/// The API of the session's tenant. Holds no credential: the session cookie is HttpOnly and
/// the browser sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    tenant_id: String,
}

/// Who is logged in: what a login or [`resume`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub client: Client,
    pub user: CurrentUser,
    pub tenant: CurrentTenant,
    pub role: UserRole,
}

impl Client {
    /// The tenant this client acts in.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    fn request(&self, builder: RequestBuilder) -> RequestBuilder {
        prepared(builder)
    }
}

/// The headers of every call. `X-XSRF-TOKEN` is what the server requires of changes made with
/// the session cookie; it is sent on reads too (where it does no harm) to keep this one rule.
fn prepared(builder: RequestBuilder) -> RequestBuilder {
    let builder = builder.header("UseXBasic", "true").header("Accept", "application/json");
    match session::xsrf_token() {
        Some(token) => builder.header("X-XSRF-TOKEN", &token),
        None => builder,
    }
}

/// Sends a request without a body and decodes a JSON answer.
async fn json<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T, ApiError> {
    let response = builder.send().await.map_err(|_| ApiError::Network)?;
    decode(response).await
}

/// Sends a request without a body and decodes a JSON answer of the first load ([`wire`]: no
/// serde_json).
async fn read<T: wire::FromJson>(builder: RequestBuilder) -> Result<T, ApiError> {
    let response = builder.send().await.map_err(|_| ApiError::Network)?;
    read_answer(response).await
}

async fn read_answer<T: wire::FromJson>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(failure(response).await);
    }
    let text = response.text().await.map_err(|_| ApiError::Network)?;
    wire::decode(&text).map_err(ApiError::Unexpected)
}

/// Sends a request with a JSON body and decodes a JSON answer.
async fn json_with_body<B: serde::Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let request = builder.header("Content-Type", "application/json").json(body).map_err(unbuildable)?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    decode(response).await
}

/// A request that the browser's fetch API would not build. (gloo-net's error is not shown: its
/// `Display` would link serde_json's and std::io's error texts into the first load.)
fn unbuildable(_: gloo_net::Error) -> ApiError {
    ApiError::Unexpected("the request could not be built".to_string())
}

/// Sends a request whose success has no body (e.g. `DELETE` → 204).
async fn no_content(builder: RequestBuilder) -> Result<(), ApiError> {
    let response = builder.send().await.map_err(|_| ApiError::Network)?;
    if response.ok() { Ok(()) } else { Err(failure(response).await) }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(failure(response).await);
    }
    let text = response.text().await.map_err(|_| ApiError::Network)?;
    serde_json::from_str(&text).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// Turns an error answer into an [`ApiError`], using the platform's error body when present.
async fn failure(response: Response) -> ApiError {
    let status = response.status();
    if status == 401 {
        return ApiError::Unauthorized;
    }
    let body = response.text().await.unwrap_or_default();
    error_of(status, &body)
}

/// The [`ApiError`] of an error status and its body.
fn error_of(status: u16, body: &str) -> ApiError {
    if status == 401 {
        return ApiError::Unauthorized;
    }
    let message = match wire::error_message(body) {
        Some(message) if !message.trim().is_empty() => message,
        _ => fallback_message(status),
    };
    ApiError::Status { status, message }
}

/// Percent-encodes one path segment or query value.
fn encode(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

fn fallback_message(status: u16) -> String {
    match status {
        403 => "You are not allowed to do this.".into(),
        404 => "Not found: it may have been deleted meanwhile. Reload to see the current state.".into(),
        413 => "The request is too large.".into(),
        502..=504 => "anchorage did not answer; check that it is running.".into(),
        s => format!("anchorage answered with HTTP status {s}."),
    }
}
