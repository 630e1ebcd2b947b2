//! The REST API: one module per resource, each exposing `router()`.

pub mod tenant;
pub mod trusted_certificates;
pub mod user;

use axum::Router;

use crate::state::AppState;

/// Every API route (all of them need authentication; the caller adds that layer).
pub fn api() -> Router<AppState> {
    Router::new().merge(tenant::router()).merge(user::router()).merge(trusted_certificates::router())
}

/// Path prefixes that belong to the API: unknown paths under them get a JSON 404, never the
/// console's `index.html`.
pub const API_PREFIXES: &[&str] = &[
    "/tenant", "/user", "/devicecontrol", "/inventory", "/identity", "/audit", "/alarm", "/event",
    "/measurement", "/application", "/features", "/certificate-authority", "/.well-known",
];

/// Whether `path` is an API path.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}
