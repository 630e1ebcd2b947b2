//! The few admin API calls the device tool needs (HTTP Basic `<tenant>/<user>:<password>`):
//! the tenant id, uploading trusted certificates one at a time or in bulk, and tenant options.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::{Value, json};

use crate::http::{self, Endpoint};

/// Most certificates the bulk endpoint takes in one request (common's limit, the server's).
pub const BULK_LIMIT: usize = anchorage_common::api::MAX_BULK_CERTIFICATES;

/// An admin API client. `Debug` never shows the password.
pub struct Admin {
    endpoint: Endpoint,
    authorization: String,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl Admin {
    /// A client for the API at `url` as `user` (`<tenant>/<user>` or `<user>`).
    pub fn new(url: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::parse(url)?;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let tls = rustls::ClientConfig::builder_with_provider(crate::identity::provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(crate::identity::web_roots())
            .with_no_client_auth();
        Ok(Self { endpoint, authorization: format!("Basic {credentials}"), tls: Arc::new(tls) })
    }

    /// The API's address.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn call(&self, method: hyper::Method, path: &str, body: Option<&Value>) -> anyhow::Result<(u16, Value)> {
        let mut headers = vec![("authorization", self.authorization.as_str()), ("accept", "application/json")];
        let body = match body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                Bytes::from(serde_json::to_vec(b)?)
            }
            None => Bytes::new(),
        };
        let res =
            http::send(&self.endpoint, Some(&self.tls), method.clone(), path, &headers, body, Duration::from_secs(120))
                .await
                .with_context(|| format!("{method} {path}"))?;
        let value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        Ok((res.status, value))
    }

    fn failed(what: &str, status: u16, body: &Value) -> anyhow::Error {
        let message = body.get("message").and_then(Value::as_str).unwrap_or("(no message)");
        anyhow::anyhow!("{what}: {status} {}: {message}", http::reason(status))
    }

    /// The tenant id (`GET /tenant/currentTenant` → `name`).
    pub async fn tenant(&self) -> anyhow::Result<String> {
        let (status, body) = self.call(hyper::Method::GET, "/tenant/currentTenant", None).await?;
        if status != 200 {
            return Err(Self::failed("reading the current tenant", status, &body));
        }
        body.get("name").and_then(Value::as_str).map(str::to_string).context("the current tenant has no name")
    }

    /// How many trusted certificates the tenant has.
    pub async fn count_trusted(&self, tenant: &str) -> anyhow::Result<u64> {
        let path = format!("/tenant/tenants/{tenant}/trusted-certificates?pageSize=1&withTotalElements=true");
        let (status, body) = self.call(hyper::Method::GET, &path, None).await?;
        if status != 200 {
            return Err(Self::failed("counting trusted certificates", status, &body));
        }
        body.pointer("/statistics/totalElements")
            .and_then(Value::as_u64)
            .context("no statistics.totalElements in the answer")
    }

    /// Uploads one CA as an enabled trusted certificate. `Ok(false)` when it was there already.
    pub async fn trust(&self, tenant: &str, name: &str, pem: &str, auto_registration: bool) -> anyhow::Result<bool> {
        let body = json!({"name": name, "certInPemFormat": pem, "status": "ENABLED", "autoRegistrationEnabled": auto_registration});
        let (status, answer) = self
            .call(hyper::Method::POST, &format!("/tenant/tenants/{tenant}/trusted-certificates"), Some(&body))
            .await?;
        match status {
            201 => Ok(true),
            409 => Ok(false),
            _ => Err(Self::failed(&format!("uploading '{name}'"), status, &answer)),
        }
    }

    /// Uploads `(name, pem)` CAs through the bulk endpoint, [`BULK_LIMIT`] a request, enabled and
    /// without auto-registration.
    pub async fn trust_bulk(&self, tenant: &str, cas: &[(String, String)]) -> anyhow::Result<()> {
        for batch in cas.chunks(BULK_LIMIT) {
            let certificates: Vec<Value> = batch
                .iter()
                .map(|(name, pem)| json!({"name": name, "certInPemFormat": pem, "status": "ENABLED", "autoRegistrationEnabled": false}))
                .collect();
            let body = json!({ "certificates": certificates });
            let (status, answer) = self
                .call(hyper::Method::POST, &format!("/tenant/tenants/{tenant}/trusted-certificates/bulk"), Some(&body))
                .await?;
            if !(200..300).contains(&status) {
                return Err(Self::failed("bulk upload", status, &answer));
            }
        }
        Ok(())
    }

    /// Sets a tenant option (`POST /tenant/options`).
    pub async fn set_option(&self, category: &str, key: &str, value: &str) -> anyhow::Result<()> {
        let body = json!({"category": category, "key": key, "value": value});
        let (status, answer) = self.call(hyper::Method::POST, "/tenant/options", Some(&body)).await?;
        if !(200..300).contains(&status) {
            return Err(Self::failed(&format!("setting {category}/{key}"), status, &answer));
        }
        Ok(())
    }
}

/// `n` new self-signed CA certificates (ECDSA P-256) that sign nothing, as `(name, pem)`.
pub fn unrelated_cas(n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let tag = format!("{:08x}", rand::random::<u32>());
    (1..=n)
        .map(|i| {
            let name = format!("bench extra CA {tag}-{i}");
            let key = KeyPair::generate()?;
            let mut p = CertificateParams::new(Vec::<String>::new())?;
            p.distinguished_name.push(DnType::OrganizationName, "anchorage bench");
            p.distinguished_name.push(DnType::CommonName, name.clone());
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
            p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(365);
            Ok((name, p.self_signed(&key)?.pem()))
        })
        .collect()
}
