//! Authentication of API calls: HTTP Basic with `<tenant>/<user>:<password>` or
//! `<user>:<password>`, as the platform's clients send it.
//!
//! Passwords are verified with argon2 (off the async threads). A successful verification is
//! remembered for a short time under a salted SHA-256 of the credentials, so a console that
//! sends Basic on every call does not pay argon2 on every call. Unknown users are verified
//! against a dummy hash, so the answer takes as long as for a known user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::db::{self, Db};
use crate::error::AppError;
use crate::state::AppState;

/// How long a verified password is remembered.
const CACHE_TTL: Duration = Duration::from_secs(120);
/// Most remembered verifications; the cache is emptied when full.
const CACHE_MAX: usize = 4096;
/// Shortest password accepted for a console user.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub tenant: String,
    pub user_name: String,
    /// `admin` or `reader` for console users, `device` for a device token.
    pub role: String,
    /// The `jti` of the bearer token used, if any.
    pub token_id: Option<String>,
}

/// Verifies credentials against the users table.
pub struct Authenticator {
    db: Db,
    salt: [u8; 32],
    dummy_hash: String,
    cache: Mutex<HashMap<[u8; 32], (AuthUser, Instant)>>,
}

impl Authenticator {
    pub fn new(db: Db) -> Self {
        let dummy: String = rand::thread_rng().sample_iter(rand::distributions::Alphanumeric).take(24).map(char::from).collect();
        Self {
            db,
            salt: rand::random(),
            dummy_hash: hash_password(&dummy).unwrap_or_default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Checks `user`/`password` in `tenant`; `None` for any mismatch, whatever the cause.
    pub async fn verify(&self, tenant: &str, user: &str, password: &str) -> Result<Option<AuthUser>, AppError> {
        let key = self.cache_key(tenant, user, password);
        if let Some(hit) = self.cached(&key) {
            return Ok(Some(hit));
        }
        let row = db::users::find(&self.db, tenant, user).await?;
        let hash = row.as_ref().map(|r| r.password_hash.clone()).unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(AppError::internal)?;
        let Some(row) = row.filter(|_| ok) else { return Ok(None) };
        let user = AuthUser { tenant: row.tenant_id, user_name: row.user_name, role: row.role, token_id: None };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, (user.clone(), Instant::now() + CACHE_TTL));
        Ok(Some(user))
    }

    fn cached(&self, key: &[u8; 32]) -> Option<AuthUser> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(key) {
            Some((user, until)) if *until > Instant::now() => Some(user.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    fn cache_key(&self, tenant: &str, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        for part in [tenant, user, password] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random password for the first admin when none is configured.
pub fn generate_password() -> String {
    rand::thread_rng().sample_iter(rand::distributions::Alphanumeric).take(20).map(char::from).collect()
}

/// Credentials from an `Authorization: Basic` header: `(tenant, user, password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(Option<String>, String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    let (tenant, user) = match login.split_once('/') {
        Some((t, u)) => (Some(t.to_string()), u.to_string()),
        None => (None, login.to_string()),
    };
    Some((tenant, user, password.to_string()))
}

/// Whether the client asked for `WWW-Authenticate: XBasic` (so browsers show no pop-up).
fn wants_xbasic(headers: &HeaderMap) -> bool {
    headers.contains_key("usexbasic")
}

/// A bearer token from the `Authorization` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks a device token: signature, issuer, audience, validity at the server's clock, and
/// that it was not revoked (logout) or dropped.
async fn verify_bearer(state: &AppState, token: &str) -> Result<Result<AuthUser, String>, AppError> {
    let claims = match state.tokens.verify(token, state.clock.now().unix_timestamp()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("Invalid token: {e}."))),
    };
    match db::devices::token(&state.db, &claims.jti).await? {
        Some(row) if !row.revoked => {}
        _ => return Ok(Err("Invalid token: it was revoked.".into())),
    }
    Ok(Ok(AuthUser { tenant: claims.ten, user_name: claims.sub, role: "device".into(), token_id: Some(claims.jti) }))
}

/// Middleware: every API call needs valid credentials (Basic, or a device's Bearer token); the
/// caller is put in the request's extensions as [`AuthUser`].
pub async fn require_user(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, AppError> {
    let xbasic = wants_xbasic(req.headers());
    let unauthorized = |message: &str| AppError::Unauthorized { message: message.to_string(), xbasic };
    if let Some(token) = bearer_token(req.headers()) {
        let user = verify_bearer(&state, token).await?.map_err(|m| unauthorized(&m))?;
        req.extensions_mut().insert(user);
        return Ok(next.run(req).await);
    }
    let Some((tenant, user, password)) = basic_credentials(req.headers()) else {
        return Err(unauthorized("Authentication required: send Authorization: Basic with <tenant>/<user>:<password>."));
    };
    let tenant = tenant.unwrap_or_else(|| state.config.tenant.clone());
    let verified = if tenant == state.config.tenant {
        state.auth.verify(&tenant, &user, &password).await?
    } else {
        // Same work as a real check, so an unknown tenant is not told apart by timing.
        state.auth.verify(&state.config.tenant, "", &password).await?;
        None
    };
    let Some(user) = verified else {
        return Err(unauthorized("Invalid credentials!"));
    };
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        h
    }

    #[test]
    fn parses_both_credential_forms() {
        let b = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
        assert_eq!(
            basic_credentials(&headers(&b("t1/admin:pa:ss"))),
            Some((Some("t1".into()), "admin".into(), "pa:ss".into()))
        );
        assert_eq!(basic_credentials(&headers(&b("admin:x"))), Some((None, "admin".into(), "x".into())));
        assert_eq!(basic_credentials(&headers("Bearer abc")), None);
        assert_eq!(basic_credentials(&headers("Basic !!!")), None);
        assert_eq!(basic_credentials(&headers(&b("no-colon"))), None);
    }

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash_password("correct horse").unwrap_or_default();
        let b = hash_password("correct horse").unwrap_or_default();
        assert_ne!(a, b);
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong", &a));
        assert!(!verify_password("x", "not a phc string"));
    }
}

/// Middleware (after [`require_user`]): administration is for console users; a device token
/// gets 403.
pub async fn require_console_user(req: Request, next: Next) -> Result<Response, AppError> {
    match req.extensions().get::<AuthUser>() {
        Some(u) if u.role != "device" => Ok(next.run(req).await),
        _ => Err(AppError::Forbidden { message: "Access is denied: device credentials cannot use this resource.".into() }),
    }
}
