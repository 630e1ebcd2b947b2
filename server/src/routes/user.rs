//! `GET /user/currentUser` (who the credentials belong to: the console's login check, or the
//! device user of a device token) and `POST /user/logout` (revokes the bearer token used).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};

use anchorage_common::api::{CurrentUser, Role};
use anchorage_common::users::UserRole;

use crate::audit;
use crate::auth::{AuthUser, Principal};
use crate::extract::{BaseUrl, ClientAddress};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/user/currentUser", Access::Authenticated, get(current_user)),
        Endpoint::new(Method::POST, "/user/logout", Access::Authenticated, post(logout)),
    ]
}

/// Ends what authenticated this call: a device token is revoked at once (further use → 401);
/// a session ends and its cookies are cleared. Basic credentials have nothing to end.
async fn logout(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    tls: Option<Extension<crate::tls::PeerCertificates>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, crate::error::AppError> {
    if let Principal::Device { token_id } = &user.principal {
        crate::db::devices::revoke(&state.db, token_id).await?;
        tracing::info!(tenant = %user.tenant, user = %user.user_name, "device token revoked by logout");
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Principal::User { session: Some(session), .. } = &user.principal {
        crate::db::sessions::delete(&state.db, session).await?;
        tracing::info!(tenant = %user.tenant, user = %user.user_name, "logout");
        let event = audit::Event::info(
            audit::types::AUTHENTICATION,
            "Logout",
            format!("User '{}' logged out.", user.user_name),
            Some(&user.user_name),
        )
        .from_address(address.as_deref());
        audit::record(&state, &user.tenant, event).await?;
        let secure = crate::browser::cookies_secure(state.config.public_url.as_deref(), &headers, tls.is_some());
        crate::browser::clear_cookies(&mut res, secure);
    }
    Ok(res)
}

async fn current_user(Extension(user): Extension<AuthUser>, BaseUrl(base): BaseUrl) -> Json<CurrentUser> {
    let roles: &[&str] = match user.role() {
        Some(UserRole::Admin) => &[
            "ROLE_TENANT_ADMIN",
            "ROLE_TENANT_MANAGEMENT_ADMIN",
            "ROLE_TENANT_MANAGEMENT_READ",
            "ROLE_OPTION_MANAGEMENT_ADMIN",
        ],
        None => &["ROLE_DEVICE"],
        Some(UserRole::Reader) => &["ROLE_TENANT_MANAGEMENT_READ"],
    };
    Json(CurrentUser {
        id: user.user_name.clone(),
        self_url: format!("{base}/user/{}/users/{}", user.tenant, user.user_name),
        user_name: user.user_name,
        effective_roles: roles.iter().map(|r| Role { id: r.to_string(), name: r.to_string() }).collect(),
    })
}
