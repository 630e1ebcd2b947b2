//! The REST API: one module per resource, each exposing `router()`.

pub mod alarms;
pub mod audit;
pub mod bulk_registration;
pub mod certificate_authority;
pub mod crl;
pub mod device_access_token;
pub mod est;
pub mod inventory;
pub mod jwks;
pub mod new_device_requests;
pub mod pop;
pub mod refusals;
pub mod sessions;
pub mod tenant;
pub mod tenant_options;
pub mod trusted_certificates;
pub mod user;
pub mod users;
pub mod verify_cert_chain;

use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::routing::MethodRouter;

use crate::auth;
use crate::state::AppState;

pub use crate::auth::Access;

/// One method on one path, with who may call it: the router is built from this table, and
/// the tests enumerate it, so no route can be added without an access rule.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl Endpoint {
    pub fn new(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Self {
        Self { method, path, access, handler }
    }
}

/// Every endpoint of the API.
pub fn endpoints() -> Vec<Endpoint> {
    [
        tenant::endpoints(),
        user::endpoints(),
        sessions::endpoints(),
        users::endpoints(),
        trusted_certificates::endpoints(),
        pop::endpoints(),
        crl::endpoints(),
        tenant_options::endpoints(),
        bulk_registration::endpoints(),
        inventory::endpoints(),
        device_access_token::endpoints(),
        jwks::endpoints(),
        audit::endpoints(),
        alarms::endpoints(),
        verify_cert_chain::endpoints(),
        refusals::endpoints(),
        certificate_authority::endpoints(),
        new_device_requests::endpoints(),
        est::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The API router: each endpoint behind the authentication and role check its access needs.
pub fn api(state: &AppState) -> Router<AppState> {
    endpoints().into_iter().fold(Router::new(), |router, e| {
        let handler = match e.access {
            Access::Public => e.handler,
            access => e
                .handler
                .route_layer(middleware::from_fn_with_state(access, auth::require_access))
                .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_user)),
        };
        router.route(e.path, handler)
    })
}

/// Path prefixes that belong to the API: unknown paths under them get a JSON 404, never the
/// console's `index.html`.
pub const API_PREFIXES: &[&str] = &[
    "/tenant",
    "/user",
    "/devicecontrol",
    "/inventory",
    "/identity",
    "/audit",
    "/alarm",
    "/event",
    "/measurement",
    "/application",
    "/features",
    "/certificate-authority",
    "/.well-known",
    "/anchorage",
];

/// Whether `path` is an API path.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}
