//! Logging in, the platform's way (what `@c8y/client` sends):
//! `POST /tenant/oauth?tenant_id=<t>` with a form `grant_type=PASSWORD&username=…&password=…`
//! sets the HttpOnly, SameSite=Strict `authorization` cookie and a readable `XSRF-TOKEN`
//! cookie; `POST /tenant/oauth/token` (same form) answers `{"access_token": …}` for Bearer use.
//! Sessions end after `--session-idle-seconds` without use, after their lifetime (the tenant
//! option `oauth.internal` / `basic-user.cookie.lifespan.seconds`, else
//! `--session-lifetime-seconds`), on logout, and when the user's password changes or the user is
//! disabled.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};
use serde_json::json;

use anchorage_common::options::{BASIC_USER_COOKIE_LIFESPAN, OAUTH_INTERNAL};

use crate::auth::{self, AuthUser};
use crate::browser::{self, Login, LoginForm, TenantQuery};
use crate::extract::{ApiForm, ApiQuery, ClientAddress};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::{audit, db, error::AppError};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/tenant/oauth", Access::Public, post(login_with_cookie)),
        Endpoint::new(Method::POST, "/tenant/oauth/token", Access::Public, post(login_with_token)),
    ]
}

/// A new session: its token (given to the client only) and its XSRF token.
struct NewSession {
    token: String,
    xsrf: String,
}

/// Checks the form and the password (throttled, audited on failure) and opens a session.
async fn open_session(
    state: &AppState,
    form: LoginForm,
    query: TenantQuery,
    address: Option<&str>,
) -> Result<(AuthUser, NewSession), AppError> {
    let Login { tenant, user, password } = form.login(query)?;
    // A form login never answers with a Basic challenge: browsers would show their own dialog.
    let user = auth::password_login(state, tenant.as_deref(), &user, &password, address, true).await?;

    let now = state.clock.now().unix_timestamp();
    let idle = i64::try_from(state.config.session_idle_seconds).unwrap_or(i64::MAX);
    db::sessions::delete_expired(&state.db, now, idle).await?;
    let lifetime = match db::options::get(&state.db, &user.tenant, OAUTH_INTERNAL, BASIC_USER_COOKIE_LIFESPAN).await? {
        Some(v) => v.trim().parse::<i64>().ok().filter(|n| *n > 0),
        None => None,
    }
    .unwrap_or_else(|| i64::try_from(state.config.session_lifetime_seconds).unwrap_or(28800));
    let session = NewSession { token: browser::random_token(), xsrf: browser::random_token() };
    db::sessions::insert(
        &state.db,
        &db::sessions::SessionRow {
            id_hash: auth::token_digest(&session.token),
            tenant_id: user.tenant.clone(),
            user_name: user.user_name.clone(),
            xsrf_token: session.xsrf.clone(),
            last_seen: now,
            expires_at: now.saturating_add(lifetime),
        },
        now,
    )
    .await?;
    tracing::info!(tenant = %user.tenant, user = %user.user_name, "login");
    let event = audit::Event::info(
        audit::types::AUTHENTICATION,
        "Login",
        format!("User '{}' logged in.", user.user_name),
        Some(&user.user_name),
    )
    .from_address(address);
    audit::record(state, &user.tenant, event).await?;
    Ok((user, session))
}

async fn login_with_cookie(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    tls: Option<Extension<crate::tls::PeerCertificates>>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TenantQuery>,
    ApiForm(form): ApiForm<LoginForm>,
) -> Result<Response, AppError> {
    let (_, session) = open_session(&state, form, query, address.as_deref()).await?;
    let secure = browser::cookies_secure(state.config.public_url.as_deref(), &headers, tls.is_some());
    let mut res = StatusCode::OK.into_response();
    browser::set_session_cookies(&mut res, &session.token, &session.xsrf, secure);
    Ok(res)
}

async fn login_with_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiQuery(query): ApiQuery<TenantQuery>,
    ApiForm(form): ApiForm<LoginForm>,
) -> Result<Response, AppError> {
    let (_, session) = open_session(&state, form, query, address.as_deref()).await?;
    let mut res = Json(json!({ "access_token": session.token, "token_type": "Bearer" })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
