//! `GET /user/currentUser` (who the credentials belong to: the console's login check, or the
//! device user of a device token), `PUT /user/currentUser/password` (a console user, reader or
//! admin, changes their own password with the current one; their other sessions end) and
//! `POST /user/logout` (revokes the bearer token used).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json};

use anchorage_common::api::{CurrentUser, Role};
use anchorage_common::users::{PasswordChange, UserRole, check_password_change};

use crate::audit;
use crate::auth::{AuthUser, Principal};
use crate::error::AppError;
use crate::extract::{ApiJson, BaseUrl, ClientAddress};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/user/currentUser", Access::Authenticated, get(current_user)),
        Endpoint::new(Method::PUT, "/user/currentUser/password", Access::Read, put(change_own_password)),
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

/// The caller changes their own password: the current one must be right (a wrong one is a
/// refusal, aggregated in the audit log and counted against the address's budget like the
/// devices' refusals, so guessing is slow and cannot grow the log), the new one follows the
/// password rules. The session the change was made in stays; every other session of the user
/// ends (a password that leaked no longer keeps anyone in).
async fn change_own_password(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    const RESOURCE: &str = "user";
    let Principal::User { session, .. } = &user.principal else {
        return Err(AppError::Forbidden { message: "Devices have no password to change here.".into() });
    };
    check_password_change(&change).map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    let Some(row) = crate::db::users::find(&state.db, &user.tenant, &user.user_name).await? else {
        return Err(AppError::not_found(RESOURCE, format!("User with username '{}' not found.", user.user_name)));
    };
    // An address over its budget is refused before the password is checked: once there, no
    // guess is tried at all, right or wrong.
    if let Some(retry_after_seconds) = state.refusals.over_budget(address.as_deref(), state.clock.now()) {
        return Err(AppError::TooManyRequests {
            message: format!("Too many wrong passwords from this address; try again in {retry_after_seconds} s."),
            retry_after_seconds,
        });
    }
    if !crate::hashing::verify(change.current_user_password, row.password_hash).await? {
        let event = audit::Event::info(
            audit::types::USER,
            "Own password change refused",
            format!("User '{}' gave a wrong current password.", user.user_name),
            Some(&user.user_name),
        )
        .warning()
        .from_address(address.as_deref());
        state.refusals.record(&state, audit::Refusal { tenant: &user.tenant, event }).await?;
        return Err(AppError::unprocessable(RESOURCE, "The current password is not correct."));
    }
    let hash = crate::hashing::hash(change.new_password).await?;
    // The change and its audit record: one transaction.
    let now = state.now_text();
    let mut tx = crate::db::users::begin(&state.db, &user.tenant).await?;
    let changed =
        crate::db::users::change_own_password(&mut tx, &user.tenant, &user.user_name, &hash, session.as_deref(), &now)
            .await?;
    if !changed {
        return Err(AppError::not_found(RESOURCE, format!("User with username '{}' not found.", user.user_name)));
    }
    let event = audit::Event::info(
        audit::types::USER,
        "User password changed",
        format!("User '{}' changed their own password; their other sessions ended.", user.user_name),
        Some(&user.user_name),
    )
    .from_address(address.as_deref());
    audit::record_in(&mut tx, &user.tenant, &now, event).await?;
    tx.commit().await?;
    tracing::info!(tenant = %user.tenant, user = %user.user_name, "own password changed");
    Ok(StatusCode::NO_CONTENT)
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
