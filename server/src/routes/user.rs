//! `GET /user/currentUser` (who the credentials belong to: the console's login check, or the
//! device user of a device token) and `POST /user/logout` (revokes the bearer token used).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use anchorage_common::api::{CurrentUser, Role};

use crate::auth::AuthUser;
use crate::extract::BaseUrl;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/user/currentUser", get(current_user)).route("/user/logout", post(logout))
}

/// Ends what authenticated this call: a device token is revoked at once (further use → 401).
/// Basic credentials have nothing to end.
async fn logout(State(state): State<AppState>, Extension(user): Extension<AuthUser>) -> Result<StatusCode, crate::error::AppError> {
    if let Some(jti) = &user.token_id {
        crate::db::devices::revoke(&state.db, jti).await?;
        tracing::info!(tenant = %user.tenant, user = %user.user_name, "device token revoked by logout");
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn current_user(Extension(user): Extension<AuthUser>, BaseUrl(base): BaseUrl) -> Json<CurrentUser> {
    let roles: &[&str] = match user.role.as_str() {
        "admin" => &["ROLE_TENANT_ADMIN", "ROLE_TENANT_MANAGEMENT_ADMIN", "ROLE_TENANT_MANAGEMENT_READ", "ROLE_OPTION_MANAGEMENT_ADMIN"],
        "device" => &["ROLE_DEVICE"],
        _ => &["ROLE_TENANT_MANAGEMENT_READ"],
    };
    Json(CurrentUser {
        id: user.user_name.clone(),
        self_url: format!("{base}/user/{}/users/{}", user.tenant, user.user_name),
        user_name: user.user_name,
        effective_roles: roles.iter().map(|r| Role { id: r.to_string(), name: r.to_string() }).collect(),
    })
}
