//! `GET /user/currentUser`: who the credentials belong to (the console's login check).

use axum::routing::get;
use axum::{Extension, Json, Router};

use anchorage_common::api::{CurrentUser, Role};

use crate::auth::AuthUser;
use crate::extract::BaseUrl;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/user/currentUser", get(current_user))
}

async fn current_user(Extension(user): Extension<AuthUser>, BaseUrl(base): BaseUrl) -> Json<CurrentUser> {
    let roles: &[&str] = if user.role == "admin" {
        &["ROLE_TENANT_ADMIN", "ROLE_TENANT_MANAGEMENT_ADMIN", "ROLE_TENANT_MANAGEMENT_READ", "ROLE_OPTION_MANAGEMENT_ADMIN"]
    } else {
        &["ROLE_TENANT_MANAGEMENT_READ"]
    };
    Json(CurrentUser {
        id: user.user_name.clone(),
        self_url: format!("{base}/user/{}/users/{}", user.tenant, user.user_name),
        user_name: user.user_name,
        effective_roles: roles.iter().map(|r| Role { id: r.to_string(), name: r.to_string() }).collect(),
    })
}
