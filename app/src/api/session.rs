//! The cookie session, the platform's way. `POST /tenant/oauth` (a form: `grant_type=PASSWORD`,
//! `username`, `password`, optional `tenant_id`) sets the HttpOnly `authorization` cookie, which
//! the browser then sends with every same-origin call by itself, and the readable `XSRF-TOKEN`
//! cookie, whose value every call echoes as `X-XSRF-TOKEN` ([`xsrf_token`], read at call time).
//! `GET /user/currentUser` on start-up tells whether a session is open; `POST /user/logout` ends
//! it. No credential or token is kept by the console, in storage or in memory.

use anchorage_common::api::{CurrentTenant, CurrentUser};
use anchorage_common::users::{User, UserRole};
use gloo_net::http::Request;

use super::wire::{Fields, FromJson, Json};
use super::{ApiError, Client, Login, encode, failure, no_content, prepared, read, unbuildable};

/// What the server runs as, from `GET /anchorage/mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// anchorage stores everything itself.
    Local,
    /// anchorage forwards the API to a platform tenant at `upstream`.
    Proxy { upstream: String },
}

/// The value of the `XSRF-TOKEN` cookie now, if the server has set one.
pub(super) fn xsrf_token() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let cookies = js_sys::Reflect::get(&document, &"cookie".into()).ok()?.as_string()?;
    cookie_value(&cookies, "XSRF-TOKEN")
}

/// The value of the cookie `name` in a `document.cookie` string (`a=1; b=2`), if not empty.
fn cookie_value(cookies: &str, name: &str) -> Option<String> {
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The role `effectiveRoles` stands for: admin with the platform's tenant-admin roles.
fn role_from_effective_roles(user: &CurrentUser) -> UserRole {
    let admin =
        user.effective_roles.iter().any(|r| r.id == "ROLE_TENANT_ADMIN" || r.id == "ROLE_TENANT_MANAGEMENT_ADMIN");
    if admin { UserRole::Admin } else { UserRole::Reader }
}

/// Logs in (the tenant may be empty) and answers who is now logged in.
pub async fn log_in(tenant: &str, user: &str, password: &str) -> Result<Login, ApiError> {
    let (tenant, user) = (tenant.trim(), user.trim());
    let url = if tenant.is_empty() {
        "/tenant/oauth".to_string()
    } else {
        format!("/tenant/oauth?tenant_id={}", encode(tenant))
    };
    let form = format!("grant_type=PASSWORD&username={}&password={}", encode(user), encode(password));
    let request = prepared(Request::post(&url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .map_err(unbuildable)?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    if response.status() == 429 {
        // The login throttle: `Retry-After` says when the next attempt is taken.
        let retry_after = response.headers().get("retry-after").and_then(|v| v.trim().parse().ok()).unwrap_or(60);
        let message = failure(response).await.to_string();
        return Err(ApiError::Throttled { retry_after, message });
    }
    if !response.ok() {
        return Err(failure(response).await);
    }
    resume().await
}

/// Who the session cookie belongs to: the user, the tenant and the role. `Unauthorized` when
/// there is no session (or it has ended).
pub async fn resume() -> Result<Login, ApiError> {
    let user: CurrentUser = read(prepared(Request::get("/user/currentUser"))).await?;
    let tenant: CurrentTenant = read(prepared(Request::get("/tenant/currentTenant"))).await?;
    let client = Client { tenant_id: tenant.name.clone() };
    let role = client.role_of(&user).await?;
    Ok(Login { client, user, tenant, role })
}

/// Ends the session; the server clears both cookies.
pub async fn log_out() -> Result<(), ApiError> {
    no_content(prepared(Request::post("/user/logout"))).await
}

/// Whether anchorage runs on its own or in front of a platform.
pub async fn mode() -> Result<Mode, ApiError> {
    read(prepared(Request::get("/anchorage/mode"))).await
}

/// `{"mode": "local" | "proxy", "upstream": <url> | null}`
impl FromJson for Mode {
    fn from_json(v: &Json) -> Result<Self, String> {
        let f = Fields::of(v, "the mode")?;
        Ok(match f.string("mode")?.as_str() {
            "proxy" => Mode::Proxy { upstream: f.optional_string("upstream")?.unwrap_or_default() },
            _ => Mode::Local,
        })
    }
}

impl Client {
    /// The user's role: anchorage's `role` field of the user, or, where the users API does not
    /// have one (a platform behind the proxy), what `effectiveRoles` says.
    async fn role_of(&self, user: &CurrentUser) -> Result<UserRole, ApiError> {
        // A platform's users have no `role` (nor, maybe, `enabled`): they do not decode as `User`.
        match read::<User>(self.request(Request::get(&self.user_url(&user.user_name)))).await {
            Ok(account) => Ok(account.role),
            Err(ApiError::Unauthorized) => Err(ApiError::Unauthorized),
            _ => Ok(role_from_effective_roles(user)),
        }
    }
}

#[cfg(test)]
mod tests {
    use anchorage_common::api::Role;

    use super::*;

    #[test]
    fn the_xsrf_cookie_is_found_among_others() {
        assert_eq!(cookie_value("a=1; XSRF-TOKEN=abc-_1; b=2", "XSRF-TOKEN").as_deref(), Some("abc-_1"));
        assert_eq!(cookie_value("XSRF-TOKEN=x", "XSRF-TOKEN").as_deref(), Some("x"));
        assert_eq!(cookie_value("NOT-XSRF-TOKEN=x", "XSRF-TOKEN"), None);
        assert_eq!(cookie_value("XSRF-TOKEN=; a=1", "XSRF-TOKEN"), None);
        assert_eq!(cookie_value("", "XSRF-TOKEN"), None);
    }

    #[test]
    fn tenant_admin_roles_make_an_admin() {
        let user = |roles: &[&str]| CurrentUser {
            id: "u".into(),
            user_name: "u".into(),
            self_url: String::new(),
            effective_roles: roles.iter().map(|r| Role { id: r.to_string(), name: r.to_string() }).collect(),
        };
        assert_eq!(
            role_from_effective_roles(&user(&["ROLE_TENANT_MANAGEMENT_READ", "ROLE_TENANT_ADMIN"])),
            UserRole::Admin
        );
        assert_eq!(role_from_effective_roles(&user(&["ROLE_TENANT_MANAGEMENT_ADMIN"])), UserRole::Admin);
        assert_eq!(role_from_effective_roles(&user(&["ROLE_TENANT_MANAGEMENT_READ"])), UserRole::Reader);
        assert_eq!(role_from_effective_roles(&user(&[])), UserRole::Reader);
    }
}
