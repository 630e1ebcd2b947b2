//! Proxy mode (`--upstream URL`): the same console in front of a real platform tenant.
//!
//! The platform stores everything; anchorage forwards the platform's API unchanged (method,
//! path, query, body, media types, status), streaming bodies both ways. The console's users are
//! the tenant's users: a login is checked against the platform, and the credentials are kept
//! in memory only, for the session's forwarded calls. Nothing is stored on disk; the device
//! token endpoint is not forwarded (devices talk to the platform directly) and there is no
//! device listener. When the platform does not answer, the caller gets a 502 or 504 in the
//! platform's error envelope saying so in words; nothing is retried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::json;

use crate::auth::{SESSION_COOKIE, XSRF_HEADER, cookie, token_digest, wants_xbasic};
use crate::browser::{self, Login, LoginForm, TenantQuery, random_token};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;
use crate::extract::{ApiForm, ApiQuery, ClientAddress};
use crate::limiter::{self, LoginLimiter};

/// Largest request body forwarded (streamed, not held; the platform applies its own limits
/// too): the largest the local mode accepts, a bulk-registration file in its multipart body, so
/// that a file the local mode refuses by its size is refused by the platform with its message.
const MAX_FORWARDED_BODY: usize = anchorage_common::bulk::MAX_FILE_BYTES + 1024 * 1024;

/// A console session in proxy mode: the user's own credentials, in memory only.
struct Session {
    authorization: HeaderValue,
    xsrf: String,
    last_seen: Instant,
    expires: Instant,
}

/// State of a proxying anchorage.
#[derive(Clone)]
pub struct ProxyState(Arc<Inner>);

struct Inner {
    upstream: String,
    client: reqwest::Client,
    timeout: Duration,
    sessions: Mutex<HashMap<String, Session>>,
    idle: Duration,
    lifetime: Duration,
    assets: std::path::PathBuf,
    public_url: Option<String>,
    /// Failed logins, throttled as in the local mode (counted in memory: no database here).
    limiter: LoginLimiter,
    clock: Arc<dyn Clock>,
}

impl ProxyState {
    /// The upstream client: TLS always verified, against the system roots and `--upstream-ca`.
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let upstream = config.upstream.clone().context("no upstream")?.trim_end_matches('/').to_string();
        anyhow::ensure!(
            upstream.starts_with("https://") || upstream.starts_with("http://"),
            "--upstream must be an http(s) URL"
        );
        let timeout = Duration::from_secs(config.upstream_timeout_seconds);
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(ca) = &config.upstream_ca {
            let pem = std::fs::read(ca).with_context(|| format!("reading --upstream-ca {}", ca.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).context("parsing --upstream-ca")? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Self(Arc::new(Inner {
            upstream,
            client: builder.build().context("building the upstream client")?,
            timeout,
            sessions: Mutex::new(HashMap::new()),
            idle: Duration::from_secs(config.session_idle_seconds),
            lifetime: Duration::from_secs(config.session_lifetime_seconds),
            assets: config.assets_dir.clone(),
            public_url: config.public_url.clone(),
            limiter: LoginLimiter::in_memory(),
            clock,
        })))
    }

    /// A failure to reach the platform, in words.
    fn gateway_error(&self, e: &reqwest::Error) -> AppError {
        let upstream = &self.0.upstream;
        if e.is_timeout() {
            return AppError::refused(
                StatusCode::GATEWAY_TIMEOUT,
                "general",
                format!("The platform at {upstream} did not answer within {} s.", self.0.timeout.as_secs()),
            );
        }
        let mut cause = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        let what =
            if cause.to_ascii_lowercase().contains("certificate") || cause.contains("tls") || cause.contains("TLS") {
                format!("The TLS connection to the platform at {upstream} failed: {cause}.")
            } else {
                format!("The platform at {upstream} cannot be reached: {cause}.")
            };
        tracing::warn!(upstream = %upstream, error = %cause, "upstream call failed");
        AppError::refused(StatusCode::BAD_GATEWAY, "general", what)
    }
}

/// The router of proxy mode: local login and mode, forwarded API, the console's files.
pub fn app(state: ProxyState) -> Router {
    let assets = state.0.assets.clone();
    Router::new()
        .route("/tenant/oauth", post(login_with_cookie))
        .route("/user/logout", post(logout))
        .route("/anchorage/mode", get(mode))
        .route("/devicecontrol/deviceAccessToken", post(not_forwarded))
        .route("/openapi.json", get(no_document))
        .fallback(move |State(state): State<ProxyState>, req: Request| {
            let assets = assets.clone();
            async move {
                if crate::routes::is_api_path(req.uri().path()) {
                    forward(state, req).await
                } else {
                    crate::console_files(&assets, req).await
                }
            }
        })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_FORWARDED_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.0.public_url.as_deref().map(Arc::from),
            crate::auth::refuse_cross_site,
        ))
        .with_state(state)
}

async fn mode(State(state): State<ProxyState>) -> Json<serde_json::Value> {
    Json(json!({ "mode": "proxy", "upstream": state.0.upstream }))
}

async fn not_forwarded() -> AppError {
    AppError::not_found(
        "devicecontrol",
        "anchorage runs in proxy mode: devices get their tokens from the platform directly, not through the console.",
    )
}

/// anchorage's OpenAPI document describes the API it serves itself; a proxy serves the
/// platform's, whose document is the platform's (not a console page either).
async fn no_document() -> AppError {
    AppError::not_found(
        "openapi",
        "anchorage runs in proxy mode: the API here is the platform's, forwarded; see the platform's API \
         reference. anchorage's own document is served when it runs on its database.",
    )
}

/// Checks the credentials against the platform (`GET /user/currentUser`) and opens an
/// in-memory session holding them.
async fn login_with_cookie(
    State(state): State<ProxyState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TenantQuery>,
    ApiForm(form): ApiForm<LoginForm>,
) -> Result<Response, AppError> {
    let Login { tenant, user, password } = form.login(query)?;
    // Throttled as a local login is (the platform has its own limits too).
    let keys = limiter::keys(tenant.as_deref().unwrap_or(""), &user, address.as_deref());
    state.0.limiter.admit(&keys, state.0.clock.now()).await?;
    let login = match &tenant {
        Some(t) => format!("{t}/{user}"),
        None => user.clone(),
    };
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}")));
    let authorization = HeaderValue::from_str(&basic)
        .map_err(|_| AppError::bad_request("security", "the credentials cannot be sent"))?;
    let res = state
        .0
        .client
        .get(format!("{}/user/currentUser", state.0.upstream))
        .header(header::AUTHORIZATION, authorization.clone())
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| state.gateway_error(&e))?;
    match res.status() {
        s if s.is_success() => {}
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            tracing::info!(upstream = %state.0.upstream, "login refused by the platform");
            // A form login never answers with a Basic challenge: browsers would show their own dialog.
            return Err(AppError::Unauthorized { message: "Invalid credentials!".into(), xbasic: true });
        }
        other => {
            return Err(AppError::refused(
                StatusCode::BAD_GATEWAY,
                "general",
                format!("The platform at {} answered the login with {other}.", state.0.upstream),
            ));
        }
    }
    state.0.limiter.succeeded(&keys).await;
    let (token, xsrf) = (random_token(), random_token());
    let now = Instant::now();
    {
        let mut sessions = state.0.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.expires > now && now.duration_since(s.last_seen) < state.0.idle);
        sessions.insert(
            token_digest(&token),
            Session { authorization, xsrf: xsrf.clone(), last_seen: now, expires: now + state.0.lifetime },
        );
    }
    tracing::info!(upstream = %state.0.upstream, "login (proxy)");
    let mut res = StatusCode::OK.into_response();
    let secure = browser::cookies_secure(state.0.public_url.as_deref(), &headers, false);
    browser::set_session_cookies(&mut res, &token, &xsrf, secure);
    Ok(res)
}

async fn logout(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.0.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&token_digest(token));
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    browser::clear_cookies(&mut res, browser::cookies_secure(state.0.public_url.as_deref(), &headers, false));
    res
}

/// The credentials to forward: the caller's own `Authorization`, or its session's.
fn credentials(state: &ProxyState, req: &Request) -> Result<Option<HeaderValue>, AppError> {
    if let Some(a) = req.headers().get(header::AUTHORIZATION) {
        return Ok(Some(a.clone()));
    }
    let Some(token) = cookie(req.headers(), SESSION_COOKIE) else { return Ok(None) };
    let xbasic = wants_xbasic(req.headers());
    let mut sessions = state.0.sessions.lock().unwrap_or_else(|e| e.into_inner());
    let hash = token_digest(token);
    let now = Instant::now();
    let Some(s) = sessions.get_mut(&hash) else {
        return Err(AppError::Unauthorized { message: "The session has ended; log in again.".into(), xbasic });
    };
    if s.expires <= now || now.duration_since(s.last_seen) >= state.0.idle {
        sessions.remove(&hash);
        return Err(AppError::Unauthorized { message: "The session has ended; log in again.".into(), xbasic });
    }
    browser::check_xsrf(req.method(), req.headers(), &s.xsrf)?;
    s.last_seen = now;
    Ok(Some(s.authorization.clone()))
}

/// Headers that belong to one connection, never forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

/// Forwards one API call to the platform, streaming the bodies.
async fn forward(state: ProxyState, req: Request) -> Response {
    match forward_inner(&state, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn forward_inner(state: &ProxyState, req: Request) -> Result<Response, AppError> {
    let authorization = credentials(state, &req)?;
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path_and_query}", state.0.upstream);
    let mut out = state.0.client.request(req.method().clone(), url);
    for (name, value) in req.headers() {
        // The browser's origin headers were checked here (refuse_cross_site); towards the
        // platform the request is this proxy's own, from its own origin.
        if hop_by_hop(name)
            || name == header::COOKIE
            || name == header::AUTHORIZATION
            || name.as_str() == XSRF_HEADER
            || name == header::ORIGIN
            || name.as_str() == "sec-fetch-site"
        {
            continue;
        }
        out = out.header(name, value);
    }
    if let Some(a) = authorization {
        out = out.header(header::AUTHORIZATION, a);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        out = out.body(reqwest::Body::wrap_stream(req.into_body().into_data_stream()));
    }
    let res = out.send().await.map_err(|e| state.gateway_error(&e))?;
    let mut back = Response::builder().status(res.status());
    for (name, value) in res.headers() {
        if !hop_by_hop(name) && name != header::SET_COOKIE {
            back = back.header(name, value);
        }
    }
    back.body(Body::from_stream(res.bytes_stream())).map_err(AppError::internal)
}
