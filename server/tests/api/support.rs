//! `TestApp`: a running anchorage on 127.0.0.1:0 with its own data directory, plus helpers to
//! make certificates and call the API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_server::clock::{Clock, ManualClock};
use anchorage_server::config::{Config, Secret};
pub use anchorage_server::AdminBootstrap;
use anchorage_server::Running;
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

pub const TENANT: &str = "t4711";
pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "test-password-1";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub admin: AdminBootstrap,
    running: Option<Running>,
    data: tempfile::TempDir,
    assets: PathBuf,
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
        max_body_bytes: 1024 * 1024,
    }
}

impl TestApp {
    /// A fresh server with an empty data directory and the admin password [`PASSWORD`].
    pub async fn spawn() -> Self {
        Self::spawn_with(Some(PASSWORD)).await
    }

    pub async fn spawn_with(password: Option<&str>) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let assets = data.path().join("site");
        std::fs::create_dir_all(&assets).expect("assets dir");
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let running = anchorage_server::start(config(data.path(), &assets, password), clock.clone() as Arc<dyn Clock>)
            .await
            .expect("server starts");
        Self {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            admin: running.admin.clone(),
            clock,
            running: Some(running),
            data,
            assets,
        }
    }

    /// Stops the server and starts a new one on the same data directory (a restart).
    pub async fn restart(&mut self, password: Option<&str>) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
        let running = anchorage_server::start(config(self.data.path(), &self.assets, password), self.clock.clone() as Arc<dyn Clock>)
            .await
            .expect("server restarts");
        self.base = format!("http://{}", running.addr);
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

/// A create body as the platform's UI sends it.
pub fn body(name: &str, pem: &str, status: &str) -> Value {
    serde_json::json!({"name": name, "certInPemFormat": pem, "status": status})
}
