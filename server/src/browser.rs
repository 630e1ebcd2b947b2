//! What a browser session is, for both modes (the local API and proxy mode): the login form the
//! platform's clients send, the session and XSRF cookies and when they are `Secure`, and the
//! XSRF check. Where the sessions are kept differs (the database; memory in proxy mode), the
//! rules do not. Failed logins are throttled by the same [`crate::limiter`] in both modes.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use base64::Engine as _;
use serde::Deserialize;

use crate::auth::{SESSION_COOKIE, XSRF_COOKIE, XSRF_HEADER, same_secret};
use crate::error::AppError;

/// The form of `POST /tenant/oauth` and `POST /tenant/oauth/token`.
#[derive(Deserialize)]
pub struct LoginForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    tenant_id: Option<String>,
}

/// `?tenant_id=` of the login calls.
#[derive(Deserialize)]
pub struct TenantQuery {
    tenant_id: Option<String>,
}

/// A login's credentials: tenant (if given), user, password.
pub struct Login {
    pub tenant: Option<String>,
    pub user: String,
    pub password: String,
}

impl LoginForm {
    /// Checks the form; the tenant comes from the query or the form.
    pub fn login(self, query: TenantQuery) -> Result<Login, AppError> {
        if !self.grant_type.as_deref().is_some_and(|g| g.eq_ignore_ascii_case("password")) {
            return Err(AppError::bad_request("security", "grant_type must be PASSWORD"));
        }
        let (Some(user), Some(password)) = (self.username, self.password) else {
            return Err(AppError::bad_request("security", "username and password are required"));
        };
        let tenant = query.tenant_id.or(self.tenant_id).filter(|t| !t.is_empty());
        Ok(Login { tenant, user, password })
    }
}

/// A random token for a session or its XSRF cookie (256 bits).
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Whether cookies must be marked `Secure`: the request came over TLS, the public URL is https,
/// or a proxy in front says the client used https.
pub fn cookies_secure(public_url: Option<&str>, headers: &HeaderMap, over_tls: bool) -> bool {
    over_tls
        || public_url.is_some_and(|u| u.starts_with("https://"))
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

/// Adds the session cookie (HttpOnly) and the readable XSRF cookie, and `no-store`.
pub fn set_session_cookies(res: &mut Response, token: &str, xsrf: &str, secure: bool) {
    set_cookie(res, SESSION_COOKIE, token, true, secure, None);
    set_cookie(res, XSRF_COOKIE, xsrf, false, secure, None);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Adds the headers that end the browser's session cookies.
pub fn clear_cookies(res: &mut Response, secure: bool) {
    set_cookie(res, SESSION_COOKIE, "", true, secure, Some(0));
    set_cookie(res, XSRF_COOKIE, "", false, secure, Some(0));
}

/// A call authenticated by the session cookie that changes state must echo the session's XSRF
/// token in `X-XSRF-TOKEN` (compared without an early exit).
pub fn check_xsrf(method: &Method, headers: &HeaderMap, expected: &str) -> Result<(), AppError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let echoed = headers.get(XSRF_HEADER).and_then(|v| v.to_str().ok());
    if echoed.is_some_and(|e| same_secret(e, expected)) {
        Ok(())
    } else {
        Err(AppError::Forbidden { message: "Missing or wrong X-XSRF-TOKEN header for a session cookie.".into() })
    }
}
