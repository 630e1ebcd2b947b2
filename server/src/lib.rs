//! anchorage's server: the platform-compatible REST API, persistence, and the console's files.
//!
//! [`app`] builds the whole `Router` from an [`AppState`]; [`start`] opens the database,
//! applies migrations, makes sure the tenant and its first admin exist, and serves. `main.rs`
//! only parses configuration and sets up logging.

#![forbid(unsafe_code)]

pub mod alarms;
pub mod audit;
pub mod auth;
pub mod browser;
pub mod ca;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crl_online;
pub mod db;
pub mod device_trust;
pub mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod hashing;
pub mod limiter;
pub mod listener;
pub mod openapi;
pub mod proxy;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod tls;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;
pub use crate::state::AppState;

/// The console runs only its own files: wasm needs `'wasm-unsafe-eval'`, nothing inline, no
/// framing. No CORS headers are ever sent, so other origins cannot call the API from a browser.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The whole application: the authenticated API, JSON 404s under API paths, and the console
/// (static files with `index.html` as the fallback for client-side routes).
pub fn app(state: AppState) -> Router {
    let public_url: Option<Arc<str>> = state.config.public_url.as_deref().map(Arc::from);
    let api = routes::api(&state)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(public_url, auth::refuse_cross_site))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    with_common_layers(
        Router::new()
            .merge(api)
            .route("/health", get(health))
            .route("/ready", get(ready))
            // The API's OpenAPI document (public, not an API path: outside the access table).
            .route("/openapi.json", get(openapi::serve))
            .fallback(fallback)
            .with_state(state),
    )
}

/// `GET /health`: liveness. The process serves requests; nothing else is checked (a load
/// balancer or orchestrator restarts an instance that stops answering it).
async fn health() -> Response {
    axum::Json(serde_json::json!({"status": "UP"})).into_response()
}

/// `GET /ready`: readiness. 200 when the database answers and has every migration this build
/// knows; 503 with the reason otherwise (a load balancer then sends traffic elsewhere).
async fn ready(State(state): State<AppState>) -> Response {
    let check = tokio::time::timeout(std::time::Duration::from_secs(3), db::ready(&state.db)).await;
    match check.unwrap_or_else(|_| Err("the database did not answer within 3 s".into())) {
        Ok(()) => {
            axum::Json(serde_json::json!({"status": "UP", "database": state.db.backend().name()})).into_response()
        }
        Err(detail) => {
            // The detail (which may name hosts or users) goes to the log, not to the caller.
            tracing::warn!(%detail, "not ready");
            let reason = if detail.starts_with("migrations") { detail } else { "database unavailable".into() };
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "DOWN", "reason": reason})))
                .into_response()
        }
    }
}

/// Unknown API paths → the platform's JSON 404; anything else → the console. A browser's page
/// load of a bare API prefix (`/audit`: a console page shares its name with the `/audit/…` API)
/// gets the console too, so every console page survives a reload and a bookmark; API clients,
/// which do not ask for HTML first, still get the JSON 404.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    let page_load = routes::API_PREFIXES.contains(&path) && accepts_html_first(req.headers());
    if routes::is_api_path(path) && !page_load {
        return AppError::not_found("general", format!("Resource not found: {path}")).into_response();
    }
    console_files(&state.config.assets_dir, req).await
}

/// Whether the request's `Accept` names `text/html` before any other type, as a browser's
/// navigation does (`text/html,application/xhtml+xml,…`); `curl`'s `*/*` and API clients'
/// JSON types do not.
fn accepts_html_first(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| first.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html")))
}

/// The console's files from `dir`: precompressed variants when the browser accepts them, and
/// `index.html` for client-side routes.
pub(crate) async fn console_files(dir: &std::path::Path, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return AppError::MethodNotAllowed.into_response();
    }
    let index = ServeFile::new(dir.join("index.html")).precompressed_gzip().precompressed_br();
    let files = ServeDir::new(dir).precompressed_gzip().precompressed_br().fallback(index);
    let mut res = match files.oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(e) => return AppError::internal(anyhow::anyhow!("serving console files: {e}")).into_response(),
    };
    // File names are not content-hashed, so the browser revalidates each load.
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// The headers every answer carries, request tracing (method and path only), and the panic
/// catcher: a handler that panics answers a logged 500 in the platform's envelope, and the
/// connection and the server carry on.
pub(crate) fn with_common_layers(router: Router) -> Router {
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(
            TraceLayer::new_for_http()
                // Path only: query strings may carry ids a log reader need not see.
                .make_span_with(
                    |req: &Request| tracing::debug_span!("http", method = %req.method(), path = %req.uri().path()),
                ),
        )
}

/// The answer to a request whose handler panicked.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    AppError::internal(anyhow::anyhow!("a request handler panicked: {what}")).into_response()
}

/// A running server.
pub struct Running {
    /// The address the console and API listen on (useful with port 0).
    pub addr: SocketAddr,
    /// The address of the device (mutual TLS) listener; none in proxy mode.
    pub device_addr: Option<SocketAddr>,
    /// The local CA that signed the device listener's certificate, when anchorage made it.
    pub local_ca: Option<std::path::PathBuf>,
    /// What start-up did about the first admin user.
    pub admin: AdminBootstrap,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    device_task: Option<tokio::task::JoinHandle<()>>,
    maintenance: Option<tokio::task::JoinHandle<()>>,
    state: Option<AppState>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.device_task {
            t.await.context("device listener task")?;
        }
        self.task.await.context("server task")?.context("server")?;
        if let Some(t) = self.maintenance {
            t.await.context("maintenance task")?;
        }
        Ok(())
    }

    /// Runs the background maintenance now (the audit retention, the refusal counts whose
    /// window has closed), at the server clock's time; for tests that move the clock.
    pub async fn maintain_now(&self) {
        if let Some(state) = &self.state {
            maintain_once(state).await;
        }
    }

    /// Waits until the server stops by itself (it does not, short of an error).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")?.context("server")
    }

    /// Stops when `signal` resolves.
    pub async fn stop_on(self, signal: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        signal.await;
        self.stop().await
    }
}

/// Opens the database, bootstraps the tenant and its admin, binds, and serves in the
/// background.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    if config.upstream.is_some() {
        return start_proxy(config, clock).await;
    }
    let db = config.open_database().await?;
    let now = anchorage_common::timefmt::platform(clock.now());
    db::ensure_tenant(&db, &config.tenant, &now).await?;
    let admin = bootstrap_admin(&db, &config, &now).await?;
    if !config.assets_dir.join("index.html").is_file() {
        tracing::warn!(dir = %config.assets_dir.display(), "console not built: run scripts/build-app.sh; the API works without it");
    }
    let secrets = secrets::SecretBox::load_or_create(&config.secret_key_path())?;
    let tokens = tokens::TokenService::load_or_create(&db, &secrets, &config.tenant, &now).await?;
    secrets::seal_legacy_rows(&db, &secrets).await?;
    let device_tls = tls::load_or_create(&config, clock.now())?;
    let api_tcp = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let device_listener = TcpListener::bind(config.device_listen)
        .await
        .with_context(|| format!("binding the device listener {}", config.device_listen))?;
    let (addr, device_addr) = (api_tcp.local_addr()?, device_listener.local_addr()?);
    let limits = listener::Limits::from_config(&config);
    let trusted_proxies: Arc<[config::IpNet]> = config.trusted_proxies.clone().into();
    let state = AppState::new(db, config, clock, tokens, secrets)?;
    let router = app(state.clone());
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let maintenance = tokio::spawn(maintain(state.clone(), rx.clone()));
    let device = listener::Listener {
        name: "devices",
        tcp: device_listener,
        tls: Some(tokio_rustls::TlsAcceptor::from(device_tls.server_config)),
        limits,
        trusted_proxies: trusted_proxies.clone(),
    };
    let device_task = tokio::spawn(listener::serve(device, router.clone(), rx.clone()));
    let api = listener::Listener { name: "api", tcp: api_tcp, tls: None, limits, trusted_proxies };
    let task = tokio::spawn(async move {
        listener::serve(api, router, rx).await;
        Ok::<(), std::io::Error>(())
    });
    Ok(Running {
        addr,
        device_addr: Some(device_addr),
        local_ca: device_tls.local_ca,
        admin,
        shutdown,
        task,
        device_task: Some(device_task),
        maintenance: Some(maintenance),
        state: Some(state),
    })
}

/// How often the background maintenance runs.
const MAINTENANCE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Background work until `stop`: the audit records of closed refusal windows, the audit
/// retention, and the pruning of failed-login counts. On stop, every pending refusal count is written.
async fn maintain(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => maintain_once(&state).await,
            _ = stop.changed() => break,
        }
    }
    if let Err(e) = state.refusals.flush(&state.db, state.clock.now(), true).await {
        tracing::warn!(error = %e, "writing the pending refusal counts");
    }
}

async fn maintain_once(state: &AppState) {
    let now = state.clock.now();
    if let Err(e) = state.refusals.flush(&state.db, now, false).await {
        tracing::warn!(error = %e, "writing the refusal counts");
    }
    match audit::apply_retention(&state.db, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "audit retention: deleted records older than the retention"),
        Err(e) => tracing::warn!(error = %e, "audit retention"),
    }
    if let Err(e) = alarms::evaluate(&state.db, &state.config.tenant, now).await {
        tracing::warn!(error = %e, "expiry alarms: evaluating the certificates");
    }
    match db::logins::prune(&state.db, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "login throttling: deleted idle failed-login counts"),
        Err(e) => tracing::warn!(error = %e, "login throttling: pruning the failure counts"),
    }
}

/// Proxy mode: no database, no device listener; the console and the forwarded API.
async fn start_proxy(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let state = proxy::ProxyState::new(&config, clock)?;
    let api_tcp = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let addr = api_tcp.local_addr()?;
    tracing::info!(
        upstream = config.upstream.as_deref().unwrap_or_default(),
        "proxy mode: forwarding the platform API"
    );
    let limits = listener::Limits::from_config(&config);
    let trusted_proxies: Arc<[config::IpNet]> = config.trusted_proxies.clone().into();
    let api = listener::Listener { name: "api", tcp: api_tcp, tls: None, limits, trusted_proxies };
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        listener::serve(api, with_common_layers(proxy::app(state)), rx).await;
        Ok::<(), std::io::Error>(())
    });
    Ok(Running {
        addr,
        device_addr: None,
        local_ca: None,
        admin: AdminBootstrap::Proxy,
        shutdown,
        task,
        device_task: None,
        maintenance: None,
        state: None,
    })
}

/// What start-up did about the tenant's first admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// The tenant already had an admin; nothing was changed.
    Existing,
    /// Created with the password from `ANCHORAGE_ADMIN_PASSWORD`.
    CreatedFromEnvironment,
    /// Created with this generated password, to be shown once.
    CreatedWithGenerated(String),
    /// Proxy mode: the users are the upstream tenant's.
    Proxy,
}

/// Creates the first admin of the tenant when it has no admin yet.
async fn bootstrap_admin(db: &db::Db, config: &Config, now: &str) -> anyhow::Result<AdminBootstrap> {
    if db::users::count_admins(db, &config.tenant).await? > 0 {
        return Ok(AdminBootstrap::Existing);
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.0.clone(), false),
        None => (auth::generate_password(), true),
    };
    anchorage_common::users::check_password(&password).map_err(|e| anyhow::anyhow!("ANCHORAGE_ADMIN_PASSWORD: {e}"))?;
    let hash = (hashing::hash(password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?, password);
    let row = db::users::UserRow {
        tenant_id: config.tenant.clone(),
        user_name: config.admin_user.clone(),
        password_hash: hash.0,
        role: "admin".into(),
        enabled: true,
        password_changed_at: None,
    };
    match db::users::insert(db, &row, now).await {
        Ok(()) => {}
        // Another instance starting on the same database made it first.
        Err(e) if crate::error::is_unique_violation(&e) => return Ok(AdminBootstrap::Existing),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(tenant = %config.tenant, user = %config.admin_user, "created the first admin user");
    Ok(if generated { AdminBootstrap::CreatedWithGenerated(hash.1) } else { AdminBootstrap::CreatedFromEnvironment })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_envelope_with_the_usual_headers() {
        async fn boom() -> &'static str {
            unreachable!("boom")
        }
        let app = with_common_layers(Router::new().route("/boom", get(boom)));
        let req = axum::http::Request::builder().uri("/boom").body(Body::empty()).expect("request");
        let res = app.oneshot(req).await.expect("answer");
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[header::CONTENT_TYPE], anchorage_common::api::ERROR_MEDIA_TYPE);
        assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let body = axum::body::to_bytes(res.into_body(), 4096).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"], "general/Internal Server Error");
    }
}
