//! The cookie session, the platform's way. `POST /tenant/oauth` (a form: `grant_type=PASSWORD`,
//! `username`, `password`, optional `tenant_id`) sets the HttpOnly `authorization` cookie, which
//! the browser then sends with every same-origin call by itself, and the readable `XSRF-TOKEN`
//! cookie, whose value every call echoes as `X-XSRF-TOKEN` ([`xsrf_token`], read at call time).
//! `GET /user/currentUser` on start-up tells whether a session is open; `POST /user/logout` ends
//! it. No credential or token is kept by the console, in storage or in memory.

use anchorage_common::api::{CurrentTenant, CurrentUser};
use anchorage_common::users::UserRole;
use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, Client, Login, encode, failure, json, no_content, prepared};

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
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("XSRF-TOKEN="))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Logs in (the tenant may be empty) and answers who is now logged in.
pub async fn log_in(tenant: &str, user: &str, password: &str) -> Result<Login, ApiError> {
    let tenant = tenant.trim();
    let url = if tenant.is_empty() { "/tenant/oauth".to_string() } else { format!("/tenant/oauth?tenant_id={}", encode(tenant)) };
    let form = format!("grant_type=PASSWORD&username={}&password={}", encode(user.trim()), encode(password));
    let request = prepared(Request::post(&url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .map_err(|e| ApiError::Unexpected(format!("could not encode the request: {e}")))?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    if !response.ok() {
        return Err(failure(response).await);
    }
    resume().await
}

/// Who the session cookie belongs to: the user, the tenant and the role. `Unauthorized` when
/// there is no session (or it has ended).
pub async fn resume() -> Result<Login, ApiError> {
    let user: CurrentUser = json(prepared(Request::get("/user/currentUser"))).await?;
    let tenant: CurrentTenant = json(prepared(Request::get("/tenant/currentTenant"))).await?;
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
    #[derive(Deserialize)]
    struct Answer {
        mode: String,
        upstream: Option<String>,
    }
    let answer: Answer = json(prepared(Request::get("/anchorage/mode"))).await?;
    Ok(match answer.mode.as_str() {
        "proxy" => Mode::Proxy { upstream: answer.upstream.unwrap_or_default() },
        _ => Mode::Local,
    })
}

impl Client {
    /// The user's role: anchorage's `role` field of the user, or, where the users API does not
    /// have one (a platform behind the proxy), what `effectiveRoles` says.
    async fn role_of(&self, user: &CurrentUser) -> Result<UserRole, ApiError> {
        #[derive(Deserialize)]
        struct Account {
            role: Option<UserRole>,
        }
        match json::<Account>(self.request(Request::get(&self.user_url(&user.user_name)))).await {
            Ok(Account { role: Some(role) }) => Ok(role),
            Err(ApiError::Unauthorized) => Err(ApiError::Unauthorized),
            _ => {
                let admin = user.effective_roles.iter().any(|r| r.id == "ROLE_TENANT_ADMIN" || r.id == "ROLE_TENANT_MANAGEMENT_ADMIN");
                Ok(if admin { UserRole::Admin } else { UserRole::Reader })
            }
        }
    }
}
