//! The REST API: one module per resource, each exposing `router()`.

pub mod bulk_registration;
pub mod device_access_token;
pub mod inventory;
pub mod jwks;
pub mod tenant;
pub mod tenant_options;
pub mod trusted_certificates;
pub mod user;

use axum::Router;
use axum::middleware;

use crate::auth;
use crate::state::AppState;

/// Every API route that needs credentials: administration (console users only; a device
/// token gets 403) and what any authenticated caller, devices included, may use.
pub fn authenticated(state: &AppState) -> Router<AppState> {
    let admin = Router::new()
        .merge(trusted_certificates::router())
        .merge(tenant_options::router())
        .merge(bulk_registration::router())
        .merge(inventory::router())
        .route_layer(middleware::from_fn(auth::require_console_user));
    Router::new()
        .merge(admin)
        .merge(tenant::router())
        .merge(user::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_user))
}

/// Routes that authenticate by other means (the device's TLS certificate) or not at all.
pub fn public() -> Router<AppState> {
    Router::new().merge(device_access_token::router()).merge(jwks::router())
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
