//! Authentication of API calls, as the platform's clients send it: HTTP Basic with
//! `<tenant>/<user>:<password>` or `<user>:<password>`; the session cookie `authorization` set
//! by `POST /tenant/oauth` (state-changing calls must echo the `XSRF-TOKEN` cookie in
//! `X-XSRF-TOKEN`); `Bearer` with a session token from `POST /tenant/oauth/token` or a
//! device's JWT.
//!
//! Passwords are verified with argon2 (off the async threads); unknown and disabled users are
//! verified against a dummy hash and answered exactly like a wrong password. Failed logins are
//! throttled per user and per address ([`crate::limiter`]) and audited. A successful
//! verification is remembered for a short time under a salted SHA-256 of the credentials,
//! together with the stored hash it matched, so a client sending Basic on every call does not
//! pay argon2 on every call, while a changed password, role or account state applies at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest, Sha256};

use crate::db::{self, Db};
use crate::error::AppError;
use crate::extract::ClientAddress;
use crate::state::AppState;
use crate::{audit, limiter};
use anchorage_common::users::UserRole;

/// How long a verified password is remembered.
const CACHE_TTL: Duration = Duration::from_secs(120);
/// Most remembered verifications; the cache is emptied when full.
const CACHE_MAX: usize = 4096;
/// Name of the session cookie (the platform's).
pub const SESSION_COOKIE: &str = "authorization";
/// Name of the readable cookie holding the XSRF token.
pub const XSRF_COOKIE: &str = "XSRF-TOKEN";
/// Header that must echo it on state-changing calls authenticated by the cookie.
pub const XSRF_HEADER: &str = "x-xsrf-token";

/// Who is calling: a user or a device of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub tenant: String,
    pub user_name: String,
    pub principal: Principal,
}

/// What kind of caller, with what it authenticated by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A console user with a role; `session` is the session used (SHA-256 of its token), if any.
    User { role: UserRole, session: Option<String> },
    /// A device with its access token (`token_id` is the token's `jti`).
    Device { token_id: String },
}

impl AuthUser {
    /// The user's role; `None` for a device.
    pub fn role(&self) -> Option<UserRole> {
        match self.principal {
            Principal::User { role, .. } => Some(role),
            Principal::Device { .. } => None,
        }
    }
}

/// Who may call an endpoint: the access policy, declared per endpoint in the route table
/// (`routes::Endpoint`) and enforced by [`require_access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; the handler authenticates by other means (the device's TLS certificate) or
    /// serves public data.
    Public,
    /// Any authenticated caller, devices with a token included.
    Authenticated,
    /// Console users: admins and readers.
    Read,
    /// Console admins only.
    Admin,
}

impl Access {
    /// Whether `caller` may call an endpoint with this access.
    pub fn allows(self, caller: &AuthUser) -> bool {
        match self {
            Access::Public | Access::Authenticated => true,
            Access::Read => caller.role().is_some(),
            Access::Admin => caller.role() == Some(UserRole::Admin),
        }
    }
}

/// Verifies credentials against the users table.
pub struct Authenticator {
    db: Db,
    salt: [u8; 32],
    dummy_hash: String,
    /// Salted credential digest → (the stored hash it was verified against, until when).
    cache: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    /// Salted credential digest → the turn of the requests checking those very credentials now.
    turns: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
}

/// A request's turn to check its credentials ([`Authenticator::turn`]), held until dropped.
pub struct Turn<'a> {
    auth: &'a Authenticator,
    key: [u8; 32],
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut turns = self.auth.turns.lock().unwrap_or_else(|e| e.into_inner());
        self.guard.take();
        // Nobody else holds or awaits it: forgotten.
        if turns.get(&self.key).is_some_and(|t| Arc::strong_count(t) == 1) {
            turns.remove(&self.key);
        }
    }
}

impl Authenticator {
    /// Fails when the dummy hash cannot be made: without it unknown users would be refused
    /// faster than known ones, which tells them apart.
    pub fn new(db: Db) -> anyhow::Result<Self> {
        Self::with_hasher(db, hash_password)
    }

    fn with_hasher(db: Db, hash: impl Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<Self> {
        let dummy: String =
            rand::thread_rng().sample_iter(rand::distributions::Alphanumeric).take(24).map(char::from).collect();
        let dummy_hash = hash(&dummy)
            .and_then(|h| {
                anyhow::ensure!(PasswordHash::new(&h).is_ok(), "not a PHC string");
                Ok(h)
            })
            .map_err(|e| anyhow::anyhow!("making the dummy password hash for unknown users: {e}"))?;
        Ok(Self {
            db,
            salt: rand::random(),
            dummy_hash,
            cache: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
        })
    }

    /// Waits until no other request is checking these very credentials, and holds the turn
    /// until dropped. Identical credentials sent in parallel (a client's first calls, each with
    /// Basic) thus take turns: the first is verified, and the others find it remembered instead
    /// of each counting as a failed login until one succeeds (with more than the free failures
    /// in parallel, a right password would be answered 429). Different credentials never wait
    /// for each other. Entries live while someone holds or awaits them; a turn given up while
    /// awaited may leave one, and past [`CACHE_MAX`] the unheld are dropped.
    pub async fn turn(&self, tenant: &str, user: &str, password: &str) -> Turn<'_> {
        let key = self.cache_key(tenant, user, password);
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            if turns.len() >= CACHE_MAX {
                turns.retain(|_, t| Arc::strong_count(t) > 1);
            }
            turns.entry(key).or_default().clone()
        };
        let guard = turn.lock_owned().await;
        Turn { auth: self, key, guard: Some(guard) }
    }

    /// Checks `user`/`password` in `tenant`; `None` for any mismatch, whatever the cause.
    /// The user's row is read every time, so a disabled user, a new role or a new password
    /// (from any instance, the API or the command line) applies at once; only argon2 is skipped
    /// for credentials verified against the same stored hash a short while ago.
    pub async fn verify(&self, tenant: &str, user: &str, password: &str) -> Result<Option<AuthUser>, AppError> {
        let key = self.cache_key(tenant, user, password);
        let row = db::users::find(&self.db, tenant, user).await?;
        let remembered = row.as_ref().is_some_and(|r| self.remembered(&key, &r.password_hash));
        let ok = remembered || {
            let hash = row.as_ref().map(|r| r.password_hash.clone()).unwrap_or_else(|| self.dummy_hash.clone());
            let password = password.to_string();
            crate::hashing::verify(password, hash).await?
        };
        let Some(row) = row.filter(|r| ok && r.enabled) else { return Ok(None) };
        if !remembered {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, (row.password_hash.clone(), Instant::now() + CACHE_TTL));
        }
        let Ok(role) = UserRole::parse(&row.role) else {
            tracing::warn!(tenant, user, role = %row.role, "a user with an unknown role is refused");
            return Ok(None);
        };
        Ok(Some(AuthUser {
            tenant: row.tenant_id,
            user_name: row.user_name,
            principal: Principal::User { role, session: None },
        }))
    }

    /// The user, if these exact credentials were verified against the user's current hash a
    /// moment ago (no argon2, and no guessing going on: login throttling is not consulted).
    pub async fn verify_remembered(
        &self,
        tenant: &str,
        user: &str,
        password: &str,
    ) -> Result<Option<AuthUser>, AppError> {
        let key = self.cache_key(tenant, user, password);
        if !self.cache.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&key) {
            return Ok(None);
        }
        let Some(row) = db::users::find(&self.db, tenant, user).await? else { return Ok(None) };
        if !row.enabled || !self.remembered(&key, &row.password_hash) {
            return Ok(None);
        }
        let Ok(role) = UserRole::parse(&row.role) else { return Ok(None) };
        Ok(Some(AuthUser {
            tenant: row.tenant_id,
            user_name: row.user_name,
            principal: Principal::User { role, session: None },
        }))
    }

    /// Whether these credentials were verified against `hash` within the cache's lifetime.
    fn remembered(&self, key: &[u8; 32], hash: &str) -> bool {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(key) {
            Some((h, until)) if *until > Instant::now() && h == hash => true,
            Some(_) => {
                cache.remove(key);
                false
            }
            None => false,
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

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random password for the first admin when none is configured.
pub fn generate_password() -> String {
    rand::thread_rng().sample_iter(rand::distributions::Alphanumeric).take(20).map(char::from).collect()
}

/// Credentials from an `Authorization: Basic` header: `(tenant, user, password)`.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(Option<String>, String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    // No tenant or user name has a NUL character (and PostgreSQL could not look one up).
    if login.contains('\0') {
        return None;
    }
    let (tenant, user) = match login.split_once('/') {
        Some((t, u)) => (Some(t.to_string()), u.to_string()),
        None => (None, login.to_string()),
    };
    Some((tenant, user, password.to_string()))
}

/// Whether the 401 must say `WWW-Authenticate: XBasic`, which browsers do not answer with a
/// password dialog: when the client asks (`UseXBasic`), and for every request a browser makes
/// (it sends `Sec-Fetch-Mode`). A browser must never cache Basic credentials for this origin:
/// a cross-site form could then ride on them; the console uses its session.
pub fn wants_xbasic(headers: &HeaderMap) -> bool {
    headers.contains_key("usexbasic") || headers.contains_key("sec-fetch-mode")
}

/// Middleware on the whole API, in both modes: a request that changes state (not GET, HEAD or
/// OPTIONS) is refused with 403 when a browser says it comes from another site
/// (`Sec-Fetch-Site: cross-site`) or its `Origin` is not this server's (the `Host` it was sent
/// to, or `--public-url`). Clients that send neither (curl, devices, SDKs) are not affected.
pub async fn refuse_cross_site(
    State(public_url): State<Option<std::sync::Arc<str>>>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let headers = req.headers();
    let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    let foreign_origin = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("null")).is_some_and(|origin| {
        let authority = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let public =
            public_url.as_deref().and_then(|u| u.split_once("://")).map(|(_, rest)| rest.trim_end_matches('/'));
        !authority.is_some_and(|a| Some(a) == host || Some(a) == public)
    });
    if cross_site || foreign_origin {
        return Err(AppError::Forbidden {
            message: "Requests from another site cannot change anything here (Origin or Sec-Fetch-Site says so)."
                .into(),
        });
    }
    Ok(next.run(req).await)
}

/// A bearer token from the `Authorization` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks a device token: signature, issuer, audience, validity at the server's clock, and
/// that it was not revoked (logout) or dropped.
pub(crate) async fn verify_device_token(state: &AppState, token: &str) -> Result<Result<AuthUser, String>, AppError> {
    let claims = match state.tokens.verify(token, state.clock.now().unix_timestamp()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("Invalid token: {e}."))),
    };
    // The stored row must be this very token, issued to this device of this tenant: a token
    // signed by someone who got hold of the key, with another `sub`, is refused.
    match db::devices::token(&state.db, &claims.jti).await? {
        Some(row) if row.certificate_revoked && !row.revoked => {
            return Ok(Err("Invalid token: the certificate it was issued for has been revoked.".into()));
        }
        Some(row)
            if !row.revoked
                && row.tenant_id == claims.ten
                && row.user_name == claims.sub
                && row.token_hash.as_deref().is_some_and(|h| same_secret(h, &token_digest(token))) => {}
        Some(row) if row.revoked => return Ok(Err("Invalid token: it was revoked.".into())),
        _ => return Ok(Err("Invalid token: it is not a token this server issued.".into())),
    }
    Ok(Ok(AuthUser {
        tenant: claims.ten,
        user_name: claims.sub,
        principal: Principal::Device { token_id: claims.jti },
    }))
}

/// A cookie's value from the `Cookie` header.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// SHA-256 (hex) of a session or device token: what the database keeps of it.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares secrets without an early exit.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session of `token`, if it exists, belongs to an enabled user and is within its idle and
/// absolute limits; also returns its XSRF token. Expired sessions are dropped.
async fn session_user(state: &AppState, token: &str) -> Result<Option<(AuthUser, String)>, AppError> {
    let hash = token_digest(token);
    let Some(session) = db::sessions::find(&state.db, &hash).await? else { return Ok(None) };
    let now = state.clock.now().unix_timestamp();
    let idle = i64::try_from(state.config.session_idle_seconds).unwrap_or(i64::MAX);
    if now >= session.expires_at || now >= session.last_seen.saturating_add(idle) {
        db::sessions::delete(&state.db, &hash).await?;
        return Ok(None);
    }
    let Some(user) = db::users::find(&state.db, &session.tenant_id, &session.user_name).await?.filter(|u| u.enabled)
    else {
        return Ok(None);
    };
    // Writing on every call would make every read a write; a minute's precision is enough.
    if now - session.last_seen >= 60 {
        db::sessions::touch(&state.db, &hash, now).await?;
    }
    let Ok(role) = UserRole::parse(&user.role) else { return Ok(None) };
    let auth = AuthUser {
        tenant: user.tenant_id,
        user_name: user.user_name,
        principal: Principal::User { role, session: Some(hash) },
    };
    Ok(Some((auth, session.xsrf_token)))
}

/// A password login (Basic on any call, or `POST /tenant/oauth`): throttled, verified, audited
/// when it fails. Every failure answers the same, whatever the reason.
pub async fn password_login(
    state: &AppState,
    tenant: Option<&str>,
    user: &str,
    password: &str,
    address: Option<&str>,
    xbasic: bool,
) -> Result<AuthUser, AppError> {
    let tenant = tenant.unwrap_or(&state.config.tenant);
    if tenant == state.config.tenant
        && let Some(u) = state.auth.verify_remembered(tenant, user, password).await?
    {
        return Ok(u);
    }
    // The same credentials in parallel take turns; when this one's comes, the one before may
    // have verified them.
    let _turn = state.auth.turn(tenant, user, password).await;
    if tenant == state.config.tenant
        && let Some(u) = state.auth.verify_remembered(tenant, user, password).await?
    {
        return Ok(u);
    }
    let keys = limiter::keys(tenant, user, address);
    state.limiter.admit(&keys, state.clock.now()).await?;
    let verified = if tenant == state.config.tenant {
        state.auth.verify(tenant, user, password).await?
    } else {
        // Same work as a real check, so an unknown tenant is not told apart by timing.
        state.auth.verify(&state.config.tenant, "", password).await?;
        None
    };
    match verified {
        Some(u) => {
            state.limiter.succeeded(&keys).await;
            Ok(u)
        }
        None => {
            // Already counted as a failure by the gate.
            let shown = audit::clip(user, audit::MAX_FIELD_CHARS);
            tracing::info!(tenant, user = %shown, client = address.unwrap_or("-"), "login failed");
            let event = audit::Event::info(
                audit::types::AUTHENTICATION,
                "Login failed",
                format!("Failed login for user '{shown}'."),
                Some(&shown),
            )
            .warning()
            .from_address(address);
            state.refusals.record(state, audit::Refusal { tenant: &state.config.tenant, event }).await?;
            Err(AppError::Unauthorized { message: "Invalid credentials!".into(), xbasic })
        }
    }
}

/// Middleware: every API call needs valid credentials; the caller is put in the request's
/// extensions as [`AuthUser`].
pub async fn require_user(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    mut req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let xbasic = wants_xbasic(req.headers());
    let unauthorized = |message: &str| AppError::Unauthorized { message: message.to_string(), xbasic };
    let user = if let Some(token) = bearer_token(req.headers()) {
        if token.contains('.') {
            verify_device_token(&state, token).await?.map_err(|m| unauthorized(&m))?
        } else {
            session_user(&state, token)
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| unauthorized("Invalid token: the session has ended; log in again."))?
        }
    } else if let Some((tenant, user, password)) = basic_credentials(req.headers()) {
        password_login(&state, tenant.as_deref(), &user, &password, address.as_deref(), xbasic).await?
    } else if let Some(token) = cookie(req.headers(), SESSION_COOKIE) {
        let (user, xsrf) =
            session_user(&state, token).await?.ok_or_else(|| unauthorized("The session has ended; log in again."))?;
        crate::browser::check_xsrf(req.method(), req.headers(), &xsrf)?;
        user
    } else {
        return Err(unauthorized(
            "Authentication required: send Authorization: Basic with <tenant>/<user>:<password>, or log in.",
        ));
    };
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}

/// Middleware (after [`require_user`]): the caller's role must allow the endpoint's access.
pub async fn require_access(State(access): State<Access>, req: Request, next: Next) -> Result<Response, AppError> {
    let caller = req.extensions().get::<AuthUser>();
    if caller.is_some_and(|c| access.allows(c)) {
        return Ok(next.run(req).await);
    }
    let message = match caller.map(|c| &c.principal) {
        Some(Principal::Device { .. }) => "Access is denied: device credentials cannot use this resource.",
        _ => "Access is denied: this needs the admin role.",
    };
    Err(AppError::Forbidden { message: message.into() })
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

    #[tokio::test]
    async fn no_dummy_hash_stops_start_up_instead_of_answering_unknown_users_faster() {
        let db = crate::db::Db::Sqlite(sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("lazy pool"));
        assert!(Authenticator::with_hasher(db.clone(), |_| anyhow::bail!("no memory")).is_err());
        assert!(Authenticator::with_hasher(db.clone(), |_| Ok(String::new())).is_err(), "an empty hash");
        assert!(Authenticator::new(db).is_ok());
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
