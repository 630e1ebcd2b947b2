//! Logging in, the platform's way (what `@c8y/client` sends):
//! `POST /tenant/oauth?tenant_id=<t>` with a form `grant_type=PASSWORD&username=…&password=…`
//! sets the HttpOnly, SameSite=Strict `authorization` cookie and a readable `XSRF-TOKEN`
//! cookie; `POST /tenant/oauth/token` (same form) answers `{"access_token": …}` for Bearer use.
//! Sessions end after `--session-idle-seconds` without use, after their lifetime (the tenant
//! option `oauth.internal` / `basic-user.cookie.lifespan.seconds`, else
//! `--session-lifetime-seconds`), on logout, and when the user's password changes or the user is
//! disabled.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Form, Json};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use anchorage_common::options::{BASIC_USER_COOKIE_LIFESPAN, OAUTH_INTERNAL};

use crate::auth::{self, AuthUser, SESSION_COOKIE, XSRF_COOKIE};
use crate::extract::ClientAddress;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::{audit, db, error::AppError};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/tenant/oauth", Access::Public, post(login_with_cookie)),
        Endpoint::new(Method::POST, "/tenant/oauth/token", Access::Public, post(login_with_token)),
    ]
}

#[derive(Deserialize)]
pub struct LoginForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    tenant_id: Option<String>,
}

#[derive(Deserialize)]
pub struct TenantQuery {
    tenant_id: Option<String>,
}

/// A new session: its token (given to the client only) and its XSRF token.
struct NewSession {
    token: String,
    xsrf: String,
}

fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Checks the form and the password (throttled, audited on failure) and opens a session.
async fn open_session(
    state: &AppState,
    form: LoginForm,
    query: TenantQuery,
    address: Option<&str>,
) -> Result<(AuthUser, NewSession), AppError> {
    if !form.grant_type.as_deref().is_some_and(|g| g.eq_ignore_ascii_case("password")) {
        return Err(AppError::bad_request("security", "grant_type must be PASSWORD"));
    }
    let (Some(user), Some(password)) = (form.username, form.password) else {
        return Err(AppError::bad_request("security", "username and password are required"));
    };
    let tenant = query.tenant_id.or(form.tenant_id).filter(|t| !t.is_empty());
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
    let session = NewSession { token: random_token(), xsrf: random_token() };
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

/// Whether cookies must be marked `Secure`: the request came over TLS or the public URL is https.
fn secure(state: &AppState, headers: &HeaderMap, over_tls: bool) -> bool {
    over_tls
        || state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        || headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

fn set_cookie(res: &mut Response, name: &str, value: &str, http_only: bool, secure: bool, max_age: Option<i64>) {
    let mut c = format!("{name}={value}; Path=/; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Adds the headers that end the browser's session cookies.
pub fn clear_cookies(res: &mut Response, secure: bool) {
    set_cookie(res, SESSION_COOKIE, "", true, secure, Some(0));
    set_cookie(res, XSRF_COOKIE, "", false, secure, Some(0));
}

async fn login_with_cookie(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    tls: Option<Extension<crate::tls::PeerCertificates>>,
    headers: HeaderMap,
    Query(query): Query<TenantQuery>,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let (_, session) = open_session(&state, form, query, address.as_deref()).await?;
    let secure = secure(&state, &headers, tls.is_some());
    let mut res = StatusCode::OK.into_response();
    set_cookie(&mut res, SESSION_COOKIE, &session.token, true, secure, None);
    set_cookie(&mut res, XSRF_COOKIE, &session.xsrf, false, secure, None);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn login_with_token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Query(query): Query<TenantQuery>,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let (_, session) = open_session(&state, form, query, address.as_deref()).await?;
    let mut res = Json(json!({ "access_token": session.token, "token_type": "Bearer" })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
