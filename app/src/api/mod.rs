//! The console's only door to the network: typed async functions over the platform's REST API.
//!
//! Every request carries the Basic credentials of the session, `UseXBasic: true` (so a 401
//! never makes the browser pop up its own login box) and `Accept: application/json`. Failures
//! come back as [`ApiError`], whose `Display` is a sentence for the person using the console.
//! Pages never see gloo-net.

mod bulk_registration;
mod devices;
mod options;
mod trusted_certificates;

pub use devices::{Device, DevicePage};

use std::fmt;

use anchorage_common::api::{CurrentTenant, CurrentUser, ErrorBody};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gloo_net::http::{Request, RequestBuilder, Response};
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
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("Wrong user name or password."),
            ApiError::Status { message, .. } => f.write_str(message),
            ApiError::Network => f.write_str("anchorage did not answer; check that it is running."),
            ApiError::Unexpected(what) => write!(f, "anchorage sent an unexpected answer ({what})."),
        }
    }
}

/// The value of the `Authorization` header for one login. Lives in memory only; `Debug`
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials(String);

impl Credentials {
    /// Basic credentials for `user` (prefixed `tenant/` when a tenant is given, as the
    /// platform accepts) and `password`.
    pub fn basic(tenant: &str, user: &str, password: &str) -> Self {
        let tenant = tenant.trim();
        let user = user.trim();
        let login = if tenant.is_empty() { user.to_string() } else { format!("{tenant}/{user}") };
        Credentials(format!("Basic {}", STANDARD.encode(format!("{login}:{password}"))))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(…)")
    }
}

/// An authenticated connection to anchorage: credentials plus the tenant they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    credentials: Credentials,
    tenant_id: String,
}

/// What a successful login yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub client: Client,
    pub user: CurrentUser,
    pub tenant: CurrentTenant,
}

/// Checks `credentials` with `GET /user/currentUser`, then learns the tenant id with
/// `GET /tenant/currentTenant`.
pub async fn login(credentials: Credentials) -> Result<Login, ApiError> {
    let user: CurrentUser = json(authorized(Request::get("/user/currentUser"), &credentials)).await?;
    let tenant: CurrentTenant = json(authorized(Request::get("/tenant/currentTenant"), &credentials)).await?;
    let client = Client { credentials, tenant_id: tenant.name.clone() };
    Ok(Login { client, user, tenant })
}

impl Client {
    /// The tenant this client acts in.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    fn request(&self, builder: RequestBuilder) -> RequestBuilder {
        authorized(builder, &self.credentials)
    }
}

fn authorized(builder: RequestBuilder, credentials: &Credentials) -> RequestBuilder {
    builder
        .header("Authorization", &credentials.0)
        .header("UseXBasic", "true")
        .header("Accept", "application/json")
}

/// Sends a request without a body and decodes a JSON answer.
async fn json<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T, ApiError> {
    let response = builder.send().await.map_err(|_| ApiError::Network)?;
    decode(response).await
}

/// Sends a request with a JSON body and decodes a JSON answer.
async fn json_with_body<B: serde::Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let request = builder
        .header("Content-Type", "application/json")
        .json(body)
        .map_err(|e| ApiError::Unexpected(format!("could not encode the request: {e}")))?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    decode(response).await
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
    let message = match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) if !e.message.trim().is_empty() => e.message,
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
