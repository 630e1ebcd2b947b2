//! `TestApp`: a running anchorage on 127.0.0.1:0 with its own data directory, plus helpers to
//! make certificates and call the API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use anchorage_server::AdminBootstrap;
use anchorage_server::Running;
use anchorage_server::clock::{Clock, ManualClock};
use anchorage_server::config::{Config, Secret};
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

pub const TENANT: &str = "t4711";
pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "test-password-1";

pub struct TestApp {
    /// Where the tests send their API calls: the server itself, or a proxy in front of it.
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub admin: AdminBootstrap,
    running: Option<Running>,
    /// A second anchorage in proxy mode in front of this one, if spawned so.
    proxy: Option<Running>,
    /// The server's console and device addresses, kept across restarts.
    addrs: (std::net::SocketAddr, Option<std::net::SocketAddr>),
    data: tempfile::TempDir,
    assets: PathBuf,
    /// The PostgreSQL database of this server, on the PostgreSQL run of the suite.
    database: Option<Arc<PgDatabase>>,
}

/// The PostgreSQL server of the suite's PostgreSQL run (scripts/test.sh runs the API suite
/// once on SQLite, without it, and once with it).
pub fn postgres_url() -> Option<String> {
    std::env::var("ANCHORAGE_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty())
}

/// A fresh, empty database on the suite's PostgreSQL server, dropped with this value.
pub struct PgDatabase {
    pub url: String,
    server: String,
    name: String,
}

impl PgDatabase {
    /// A new database on the server of [`postgres_url`], if the suite runs on PostgreSQL.
    pub async fn create_if_configured() -> Option<Arc<Self>> {
        Some(Arc::new(Self::create(&postgres_url()?).await))
    }

    /// A new database on the server `server` (a URL naming any database of it).
    pub async fn create(server: &str) -> Self {
        use sqlx::Connection as _;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("anchorage_test_{}_{n}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut admin = sqlx::PgConnection::connect(server).await.expect("the test PostgreSQL server answers");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.expect("create database");
        let _ = admin.close().await;
        Self { url: with_database(server, &name), server: server.to_string(), name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Dropped from async code: a thread of its own with its own runtime.
        let done = std::thread::spawn(move || {
            use sqlx::Connection as _;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&server).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut c).await;
                }
            });
        });
        let _ = done.join();
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub fn config(data_dir: &Path, assets: &Path, password: Option<&str>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data_dir.to_path_buf(),
        tenant: TENANT.into(),
        admin_user: ADMIN.into(),
        admin_password: password.map(|p| Secret(p.into())),
        assets_dir: assets.to_path_buf(),
        public_url: None,
        device_listen: "127.0.0.1:0".parse().expect("addr"),
        tls_cert: None,
        tls_key: None,
        upstream: None,
        upstream_ca: None,
        upstream_timeout_seconds: 10,
        session_idle_seconds: 1800,
        session_lifetime_seconds: 28800,
        max_body_bytes: 1024 * 1024,
        max_connections: 4096,
        max_connections_per_address: 256,
        body_read_timeout_seconds: 60,
        header_read_timeout_seconds: 10,
        idle_timeout_seconds: 60,
        crl_fetch_timeout_ms: 5000,
        crl_max_bytes: 10 * 1024 * 1024,
        trusted_proxies: Vec::new(),
        secret_key_file: None,
        database_url: None,
        db_max_connections: 8,
        db_min_connections: 0,
        shutdown_grace_seconds: 10,
        tenant_ca_key: anchorage_server::ca::KeyAlgorithm::P256,
        tenant_ca_days: 1095,
        tenant_ca_country: anchorage_common::est::DEFAULT_CA_COUNTRY.into(),
        tenant_ca_organization: anchorage_common::est::DEFAULT_CA_ORGANIZATION.into(),
        enrollment_otp_days: anchorage_common::est::DEFAULT_OTP_LIFESPAN_DAYS,
    }
}

/// The configuration of an anchorage in proxy mode in front of `upstream`.
pub fn proxy_config(upstream: &str, upstream_ca: Option<PathBuf>, assets: &Path) -> Config {
    let mut c = config(Path::new("/nonexistent-proxy-data"), assets, None);
    c.upstream = Some(upstream.to_string());
    c.upstream_ca = upstream_ca;
    c
}

impl TestApp {
    /// A fresh server with an empty data directory and the admin password [`PASSWORD`].
    pub async fn spawn() -> Self {
        Self::spawn_with(Some(PASSWORD)).await
    }

    pub async fn spawn_with(password: Option<&str>) -> Self {
        Self::spawn_configured(password, |_| {}).await
    }

    /// A fresh server whose configuration `adjust` changes first.
    pub async fn spawn_configured(password: Option<&str>, adjust: impl FnOnce(&mut Config)) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let assets = data.path().join("site");
        std::fs::create_dir_all(&assets).expect("assets dir");
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let mut c = config(data.path(), &assets, password);
        let mut database = PgDatabase::create_if_configured().await;
        c.database_url = database.as_ref().map(|d| d.url.clone());
        adjust(&mut c);
        // `adjust` named another database: the fresh one is not this server's.
        if database.as_ref().map(|d| &d.url) != c.database_url.as_ref() {
            database = None;
        }
        let running = anchorage_server::start(c, clock.clone() as Arc<dyn Clock>).await.expect("server starts");
        Self {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            admin: running.admin.clone(),
            clock,
            addrs: (running.addr, running.device_addr),
            running: Some(running),
            proxy: None,
            data,
            assets,
            database,
        }
    }

    /// A fresh server on an SQLite file, also on the PostgreSQL run.
    pub async fn spawn_on_sqlite() -> Self {
        Self::spawn_configured(Some(PASSWORD), |c| c.database_url = None).await
    }

    /// A fresh server (A) with a second anchorage (B) in proxy mode in front of it, reaching A
    /// over TLS with A's local CA; API calls go to B.
    pub async fn spawn_proxied() -> Self {
        let mut app = Self::spawn().await;
        let proxy = anchorage_server::start(
            proxy_config(&app.upstream_url(), Some(app.data.path().join("tls/ca.pem")), &app.assets),
            app.clock.clone() as Arc<dyn Clock>,
        )
        .await
        .expect("proxy starts");
        app.base = format!("http://{}", proxy.addr);
        app.proxy = Some(proxy);
        app
    }

    /// Another instance on this one's database (its SQLite file, or its PostgreSQL database),
    /// with listeners and a data directory of its own, the same secret key file and the same
    /// device-listener certificate: the set-up of several instances behind a load balancer.
    pub async fn spawn_sibling(&self) -> Self {
        let mut sibling = self.spawn_sharing(self.database_url()).await;
        // Keeps the shared PostgreSQL database until the last instance is dropped.
        sibling.database.clone_from(&self.database);
        sibling
    }

    /// A new instance on the database `url` with this one's secret key file and device-listener
    /// certificate (as after moving this installation to that database).
    pub async fn spawn_sharing(&self, url: String) -> Self {
        let tls = self.data.path().join("tls");
        let secret = self.data.path().join("secret.key");
        let sibling = Self::spawn_configured(Some(PASSWORD), |c| {
            c.database_url = Some(url);
            c.secret_key_file = Some(secret);
            c.tls_cert = Some(tls.join("server.pem"));
            c.tls_key = Some(tls.join("server-key.pem"));
        })
        .await;
        // Its helpers find the device listener's CA where they look for it.
        let own_tls = sibling.data.path().join("tls");
        std::fs::create_dir_all(&own_tls).expect("tls dir");
        std::fs::copy(tls.join("ca.pem"), own_tls.join("ca.pem")).expect("CA copy");
        sibling
    }

    /// A's API over TLS (its device listener serves the whole API too).
    pub fn upstream_url(&self) -> String {
        let addr = self.addrs.1.expect("device listener");
        format!("https://localhost:{}", addr.port())
    }

    /// Stops the server (A; a proxy in front stays up).
    pub async fn stop_server(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }

    /// Stops the server and starts a new one on the same data directory and the same ports (a
    /// restart; a proxy in front stays up and must reach it again).
    pub async fn restart(&mut self, password: Option<&str>) {
        self.stop_server().await;
        let mut c = config(self.data.path(), &self.assets, password);
        c.database_url = self.database.as_ref().map(|d| d.url.clone());
        c.listen = self.addrs.0;
        c.device_listen = self.addrs.1.expect("device listener");
        let running = anchorage_server::start(c, self.clock.clone() as Arc<dyn Clock>).await.expect("server restarts");
        if self.proxy.is_none() {
            self.base = format!("http://{}", running.addr);
        }
        self.admin = running.admin.clone();
        self.running = Some(running);
    }

    pub fn assets(&self) -> &Path {
        &self.assets
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn certs_url(&self) -> String {
        self.url(&format!("/tenant/tenants/{TENANT}/trusted-certificates"))
    }

    /// A request authenticated as the admin (`<tenant>/<user>:<password>`).
    pub fn admin(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url).basic_auth(format!("{TENANT}/{ADMIN}"), Some(PASSWORD))
    }

    pub async fn create(&self, body: &Value) -> Response {
        self.admin(Method::POST, &self.certs_url()).json(body).send().await.expect("request")
    }
}

/// Logs in to a console cookie session at `base` with the login form the platform's clients
/// send (`POST /tenant/oauth`): the status; when the answer set the XSRF cookie, the `Cookie`
/// header value of every cookie set and the XSRF token; and the `Set-Cookie` values as sent.
pub async fn console_login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (u16, Option<(String, String)>, Vec<String>) {
    let res = client
        .post(format!("{base}/tenant/oauth?tenant_id={TENANT}"))
        .form(&[("grant_type", "PASSWORD"), ("username", user), ("password", password)])
        .send()
        .await
        .expect("login");
    let status = res.status().as_u16();
    let set: Vec<String> =
        res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_string)).collect();
    let cookies: Vec<&str> = set.iter().map(|c| c.split(';').next().unwrap_or_default()).collect();
    let xsrf = cookies.iter().find_map(|c| c.strip_prefix("XSRF-TOKEN=")).map(str::to_string);
    (status, xsrf.map(|x| (cookies.join("; "), x)), set)
}

/// Through `app`, with the console session `cookie`: a change without the XSRF token, or with
/// a wrong one, is refused (403); with `xsrf` it is made (a trusted certificate named `name`).
pub async fn assert_session_changes_need_xsrf(app: &TestApp, cookie: &str, xsrf: &str, name: &str) {
    let body = serde_json::json!({"name": name, "certInPemFormat": ca_pem(name), "status": "ENABLED"});
    let post = |token: Option<&str>| {
        let mut req = app.client.post(app.certs_url()).header("cookie", cookie).json(&body);
        if let Some(t) = token {
            req = req.header("X-XSRF-TOKEN", t);
        }
        req.send()
    };
    assert_error(post(None).await.expect("post"), 403, "security/Forbidden", "Missing or wrong X-XSRF-TOKEN").await;
    assert_eq!(post(Some("wrong")).await.expect("post").status(), 403);
    assert_eq!(post(Some(xsrf)).await.expect("post").status(), 201);
}

/// Logs the console session `cookie` out through `app`: the answer's status.
pub async fn logout_session(app: &TestApp, cookie: &str, xsrf: &str) -> u16 {
    let res = app
        .client
        .post(app.url("/user/logout"))
        .header("cookie", cookie)
        .header("X-XSRF-TOKEN", xsrf)
        .send()
        .await
        .expect("logout");
    res.status().as_u16()
}

/// The status and the JSON body of a response.
pub async fn json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Asserts an error answer: status, media type, `error` (unless empty) and a `message` prefix.
pub async fn assert_error(res: Response, status: u16, error: &str, message_starts: &str) -> Value {
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.com.nsn.cumulocity.error+json")
    );
    let (got, body) = json(res).await;
    assert_eq!(got, status, "{body}");
    if !error.is_empty() {
        assert_eq!(body["error"], error, "{body}");
    }
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(message_starts), "message {message:?} should start with {message_starts:?}");
    assert!(body["info"].as_str().is_some_and(|s| s.starts_with("https://")), "{body}");
    body
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Certificate parameters with a distinguished name `O=anchorage tests, CN=<cn>`.
pub fn params(cn: &str, ca: IsCa) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "anchorage tests");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = ca;
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(365);
    p
}

/// A self-signed certificate as PEM.
pub fn self_signed_pem(p: CertificateParams) -> String {
    let key = KeyPair::generate().expect("key");
    p.self_signed(&key).expect("sign").pem()
}

/// A new valid CA certificate (PEM).
pub fn ca_pem(cn: &str) -> String {
    self_signed_pem(params(cn, IsCa::Ca(BasicConstraints::Unconstrained)))
}

/// A CA with an unknown critical extension.
pub fn ca_with_unknown_critical_extension() -> String {
    let mut p = params("odd CA", IsCa::Ca(BasicConstraints::Unconstrained));
    let mut ext = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 7], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    self_signed_pem(p)
}

/// The SHA-1 fingerprint the platform would give `pem`.
pub fn fingerprint(pem: &str) -> String {
    let der = anchorage_common::pem::decode_certificates(pem).expect("pem").remove(0);
    anchorage_common::cert::inspect(&der, now()).expect("parses").info.fingerprint
}

/// The serial number of `pem` in hex, as the CRL settings take it.
pub fn serial_hex(pem: &str) -> String {
    let der = anchorage_common::pem::decode_certificates(pem).expect("pem").remove(0);
    anchorage_common::cert::inspect(&der, now()).expect("inspect").info.serial_hex
}

/// A create body as the platform's UI sends it.
pub fn body(name: &str, pem: &str, status: &str) -> Value {
    serde_json::json!({"name": name, "certInPemFormat": pem, "status": status})
}

impl TestApp {
    /// The data directory of this server.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The SQLite file of this server.
    pub fn db_path(&self) -> PathBuf {
        self.data.path().join("anchorage.db")
    }

    /// Whether this server keeps its data in PostgreSQL (the suite's PostgreSQL run).
    pub fn on_postgres(&self) -> bool {
        self.database.is_some()
    }

    /// The database URL of this server: its SQLite file or its PostgreSQL database.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(d) => d.url.clone(),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// A pool on this server's database, of whichever backend, for a test to look at rows
    /// (queries with `$1` parameters run on both).
    pub async fn raw_db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.database_url()).await.expect("the server's database")
    }

    /// The number of audit records in the database.
    pub async fn audit_count(&self) -> i64 {
        let db = self.raw_db().await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_records").fetch_one(&db).await.expect("count");
        db.close().await;
        n
    }

    /// Runs the server's background maintenance now, at its clock's time.
    pub async fn maintain_now(&self) {
        self.running.as_ref().expect("running").maintain_now().await;
    }

    /// What `anchorage check-db` finds wrong in this app's database (nothing: every row whole).
    pub async fn check_db(&self) -> Vec<String> {
        let location = anchorage_server::db::Location::parse(&self.database_url()).expect("url");
        let db = anchorage_server::db::open(&location, anchorage_server::db::PoolSizes::default()).await.expect("db");
        let problems = anchorage_server::db::check::check(&db).await.expect("check");
        db.close().await;
        problems.into_iter().map(|p| p.0).collect()
    }

    /// The addresses of the API listener and the device listener.
    pub fn addresses(&self) -> (std::net::SocketAddr, std::net::SocketAddr) {
        (self.addrs.0, self.addrs.1.expect("device listener"))
    }

    /// The local CA that signed the device listener's certificate.
    pub fn local_ca_pem(&self) -> String {
        std::fs::read_to_string(self.data.path().join("tls/ca.pem")).expect("local CA")
    }

    pub fn device_url(&self, path: &str) -> String {
        let addr = self.running.as_ref().and_then(|r| r.device_addr).expect("device listener");
        format!("https://{addr}{path}")
    }

    /// Asks for a device token over a fresh mutual-TLS connection as `device`, optionally with
    /// an `X-Ssl-Cert-Chain` header built from `chain_header` (PEMs, line breaks → spaces).
    pub async fn device_token(&self, device: &Device, chain_header: Option<&[&str]>) -> (u16, Value) {
        let client = device.client(&self.local_ca_pem());
        let mut req =
            client.post(self.device_url("/devicecontrol/deviceAccessToken")).header("Accept", "application/json");
        if let Some(pems) = chain_header {
            req = req.header("X-Ssl-Cert-Chain", pems.concat().replace(['\r', '\n'], " "));
        }
        json(req.send().await.expect("request")).await
    }

    /// Uploads `ca` as a trusted certificate.
    pub async fn trust(&self, ca: &Ca, status: &str, auto_registration: bool) {
        let res = self
            .create(&serde_json::json!({"name": ca.name, "certInPemFormat": ca.pem, "status": status, "autoRegistrationEnabled": auto_registration}))
            .await;
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
    }

    /// Turns the boolean tenant option `configuration/<key>` on or off.
    pub async fn switch(&self, key: &str, on: bool) {
        let url = self.url(&format!("/tenant/options/configuration/{key}"));
        // A JSON boolean, as the platform's UI sends it.
        let res = self.admin(Method::PUT, &url).json(&serde_json::json!({"value": on})).send().await.expect("put");
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
    }

    pub async fn set_certificate(&self, ca: &Ca, patch: Value) {
        let url = format!("{}/{}", self.certs_url(), fingerprint(&ca.pem));
        let res = self.admin(Method::PUT, &url).json(&patch).send().await.expect("put");
        assert_eq!(res.status(), 200);
    }
}

/// A CA (root or intermediate) made at test time.
pub struct Ca {
    pub name: String,
    pub pem: String,
    issuer: rcgen::Issuer<'static, KeyPair>,
}

/// A device certificate and its key, with the chain above it (not including the root).
pub struct Device {
    pub cert_pem: String,
    pub key_pem: String,
    pub intermediates: Vec<String>,
}

impl Ca {
    pub fn root(name: &str) -> Ca {
        Self::root_with(name, |_| {})
    }

    /// A root CA whose parameters `adjust` changes first.
    pub fn root_with(name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Ca {
        let key = KeyPair::generate().expect("key");
        let mut p = params(name, IsCa::Ca(BasicConstraints::Unconstrained));
        adjust(&mut p);
        let pem = p.self_signed(&key).expect("sign").pem();
        Ca { name: name.into(), pem, issuer: rcgen::Issuer::new(p, key) }
    }

    /// The CA's private key (PEM), for tools that sign with it.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A certificate signed by this CA that can sign others; `is_ca: false` makes a
    /// certificate with `CA:false` that nevertheless signs (an invalid intermediate).
    pub fn intermediate(&self, name: &str, is_ca: bool) -> Ca {
        let key = KeyPair::generate().expect("key");
        let p = params(name, if is_ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa });
        let pem = p.signed_by(&key, &self.issuer).expect("sign").pem();
        Ca { name: name.into(), pem, issuer: rcgen::Issuer::new(p, key) }
    }

    /// A device certificate with CN `id`, valid from yesterday for a year.
    pub fn device(&self, id: &str) -> Device {
        self.device_valid(id, now() - Duration::days(1), now() + Duration::days(365))
    }

    pub fn device_valid(&self, id: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Device {
        self.device_with(id, |p| {
            p.not_before = not_before;
            p.not_after = not_after;
        })
    }

    /// A device certificate with CN `id`, valid from yesterday for a year, whose parameters
    /// `adjust` changes first.
    pub fn device_with(&self, id: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Device {
        let key = KeyPair::generate().expect("key");
        let mut p = params(id, IsCa::ExplicitNoCa);
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        adjust(&mut p);
        let cert_pem = p.signed_by(&key, &self.issuer).expect("sign").pem();
        Device { cert_pem, key_pem: key.serialize_pem(), intermediates: Vec::new() }
    }
}

impl Device {
    /// Sends `intermediates` in the TLS handshake too.
    pub fn with_tls_intermediates(mut self, pems: &[&str]) -> Self {
        self.intermediates = pems.iter().map(|s| s.to_string()).collect();
        self
    }

    /// A client that opens a fresh connection for every request, with this device's identity.
    pub fn client(&self, server_ca_pem: &str) -> reqwest::Client {
        self.client_builder(server_ca_pem).pool_max_idle_per_host(0).build().expect("client")
    }

    /// A client that keeps its connection (one TLS handshake for many requests).
    pub fn keep_alive_client(&self, server_ca_pem: &str) -> reqwest::Client {
        self.client_builder(server_ca_pem).build().expect("client")
    }

    fn client_builder(&self, server_ca_pem: &str) -> reqwest::ClientBuilder {
        let identity = format!("{}{}{}", self.cert_pem, self.intermediates.concat(), self.key_pem);
        reqwest::Client::builder()
            .use_rustls_tls()
            .identity(reqwest::Identity::from_pem(identity.as_bytes()).expect("identity"))
            .add_root_certificate(reqwest::Certificate::from_pem(server_ca_pem.as_bytes()).expect("ca"))
            .tls_built_in_root_certs(false)
    }
}

/// A free loopback port (for the binary, which needs its ports up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Waits until the server at `base` answers HTTP.
pub async fn wait_up(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while client.get(format!("{base}/tenant/currentTenant")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "anchorage did not start");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Defines a test that runs twice: against the server (`local`), and through a second
/// anchorage in proxy mode in front of it (`through_proxy`), which must answer the same.
macro_rules! local_and_proxied {
    ($name:ident, $app:ident, $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(#[allow(unused_mut)] mut $app: $crate::support::TestApp) $body

            #[tokio::test]
            async fn local() {
                run($crate::support::TestApp::spawn().await).await
            }

            #[tokio::test]
            async fn through_proxy() {
                run($crate::support::TestApp::spawn_proxied().await).await
            }
        }
    };
}
pub(crate) use local_and_proxied;
