//! One HTTP/1.1 exchange per connection: parse a base URL, open a TCP connection (and a TLS
//! one on top for `https`), send one request with `Connection: close`, read the answer.
//!
//! Every call makes a new connection, so a client survives server restarts and address
//! changes, and a benchmark measures full handshakes.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{CONNECTION, HOST};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Largest response body read (tokens and error envelopes are far smaller).
const MAX_BODY: usize = 1024 * 1024;

/// Where requests go: scheme, host, port and an optional path prefix, from a base URL such as
/// `https://127.0.0.1:8443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or not (`http`).
    pub tls: bool,
    /// Host name or IP address, without brackets.
    pub host: String,
    /// Port (default 443 or 80).
    pub port: u16,
    /// Path prefix without a trailing slash (usually empty).
    pub prefix: String,
}

impl Endpoint {
    /// Parses an `http://` or `https://` base URL.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let uri: hyper::Uri = url.parse().with_context(|| format!("{url:?} is not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => anyhow::bail!("{url:?}: the URL must start with https:// or http://"),
        };
        let host = uri.host().with_context(|| format!("{url:?} has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        anyhow::ensure!(uri.query().is_none(), "{url:?}: a base URL has no query");
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let prefix = uri.path().trim_end_matches('/').to_string();
        Ok(Self { tls, host, port, prefix })
    }

    /// The TLS server name to verify: the IP address or the DNS name.
    pub fn server_name(&self) -> anyhow::Result<ServerName<'static>> {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => Ok(ServerName::IpAddress(ip.into())),
            Err(_) => ServerName::try_from(self.host.clone())
                .with_context(|| format!("{:?} is not a valid server name", self.host)),
        }
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default { host } else { format!("{host}:{}", self.port) }
    }

    /// The base URL again (for messages).
    pub fn url(&self) -> String {
        format!("{}://{}{}", if self.tls { "https" } else { "http" }, self.authority(), self.prefix)
    }

    /// The request target for `path` (which starts with `/`).
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// Resolves the host now (each time: addresses may change between requests).
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>, RequestError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| RequestError::Resolve { host: self.host.clone(), error: e })?
            .collect();
        if addrs.is_empty() {
            return Err(RequestError::Resolve { host: self.host.clone(), error: std::io::Error::other("no address") });
        }
        Ok(addrs)
    }
}

/// Why an exchange failed before an HTTP status arrived.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The host name does not resolve.
    #[error("cannot resolve {host}: {error}")]
    Resolve { host: String, error: std::io::Error },
    /// No TCP connection.
    #[error("cannot connect to {addr}: {error}")]
    Connect { addr: SocketAddr, error: std::io::Error },
    /// The TLS handshake failed (server certificate not trusted, client certificate refused…).
    #[error("TLS handshake with {addr} failed: {error}")]
    Tls { addr: SocketAddr, error: std::io::Error },
    /// The connection broke or the answer was not HTTP.
    #[error("HTTP exchange failed: {0}")]
    Http(String),
    /// No complete answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl RequestError {
    /// A short label to count failures by.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Resolve { .. } => "resolve",
            Self::Connect { .. } => "connect",
            Self::Tls { .. } => "tls",
            Self::Http(_) => "http",
            Self::Timeout(_) => "timeout",
        }
    }
}

/// A response: status and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

/// A request to send: method, path (already prefixed), extra headers and body.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method.
    pub method: hyper::Method,
    /// The request target.
    pub path: &'a str,
    /// The `Host` header.
    pub authority: &'a str,
    /// Extra headers.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (empty for none).
    pub body: Bytes,
}

/// Opens a TCP connection to `addr` and a TLS session over it.
pub async fn connect_tls(
    addr: SocketAddr,
    server_name: ServerName<'static>,
    config: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, RequestError> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| RequestError::Connect { addr, error: e })?;
    let _ = tcp.set_nodelay(true);
    tokio_rustls::TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| RequestError::Tls { addr, error: e })
}

/// Sends `req` on `io` (a fresh connection) and reads the answer; the connection is closed
/// afterwards.
pub async fn exchange<IO>(io: IO, req: Request<'_>) -> Result<Response, RequestError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .map_err(|e| RequestError::Http(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let mut builder = hyper::Request::builder()
        .method(req.method)
        .uri(req.path)
        .header(HOST, req.authority)
        .header(CONNECTION, "close");
    for (name, value) in req.headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Full::new(req.body)).map_err(|e| RequestError::Http(format!("invalid request: {e}")));
    let result = async {
        let response = sender.send_request(request?).await.map_err(|e| RequestError::Http(e.to_string()))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| RequestError::Http(format!("reading the body: {e}")))?
            .to_bytes();
        Ok(Response { status, body })
    }
    .await;
    driver.abort();
    result
}

/// One request to `endpoint` on a new connection (TLS with `tls` for `https`), within
/// `timeout`. Each resolved address is tried in turn until one connects.
pub async fn send(
    endpoint: &Endpoint,
    tls: Option<&Arc<ClientConfig>>,
    method: hyper::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    timeout: Duration,
) -> Result<Response, RequestError> {
    let work = async {
        let addrs = endpoint.resolve().await?;
        let authority = endpoint.authority();
        let path = endpoint.path(path);
        let req = Request { method, path: &path, authority: &authority, headers, body };
        let mut last = None;
        for addr in addrs {
            let attempt = match (endpoint.tls, tls) {
                (true, Some(config)) => {
                    let name = endpoint.server_name().map_err(|e| RequestError::Http(e.to_string()))?;
                    match connect_tls(addr, name, config.clone()).await {
                        Ok(stream) => return exchange(stream, req).await,
                        Err(e) => e,
                    }
                }
                (true, None) => return Err(RequestError::Http("an https URL needs a TLS configuration".into())),
                (false, _) => match TcpStream::connect(addr).await {
                    Ok(tcp) => {
                        let _ = tcp.set_nodelay(true);
                        return exchange(tcp, req).await;
                    }
                    Err(e) => RequestError::Connect { addr, error: e },
                },
            };
            // Only connection failures move on to the next address.
            if !matches!(attempt, RequestError::Connect { .. }) {
                return Err(attempt);
            }
            last = Some(attempt);
        }
        Err(last.unwrap_or(RequestError::Http("no address to try".into())))
    };
    tokio::time::timeout(timeout, work).await.unwrap_or(Err(RequestError::Timeout(timeout)))
}

/// The `message` of the platform's error envelope, or the start of the body when it is not one.
pub fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(m) = v.get("message").and_then(|m| m.as_str())
    {
        return m.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() { "(no message)".to_string() } else { text.chars().take(300).collect() }
}

/// The canonical reason phrase of a status (`401` → `Unauthorized`).
pub fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse() {
        let e = Endpoint::parse("https://127.0.0.1:8443").expect("url");
        assert_eq!((e.tls, e.host.as_str(), e.port, e.prefix.as_str()), (true, "127.0.0.1", 8443, ""));
        assert_eq!(e.authority(), "127.0.0.1:8443");
        assert_eq!(e.url(), "https://127.0.0.1:8443");
        assert_eq!(e.path("/x"), "/x");
        let e = Endpoint::parse("https://[::1]/base/").expect("url");
        assert_eq!(
            (e.host.as_str(), e.port, e.authority(), e.path("/x")),
            ("::1", 443, "[::1]".to_string(), "/base/x".to_string())
        );
        assert!(matches!(e.server_name().expect("name"), ServerName::IpAddress(_)));
        let e = Endpoint::parse("http://localhost:8080").expect("url");
        assert!(!e.tls);
        assert!(matches!(e.server_name().expect("name"), ServerName::DnsName(_)));
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("127.0.0.1:8443").is_err());
    }

    #[test]
    fn error_messages_come_from_the_envelope() {
        assert_eq!(error_message(br#"{"error":"x/Y","message":"Nope.","info":"https://"}"#), "Nope.");
        assert_eq!(error_message(b"plain"), "plain");
        assert_eq!(error_message(b""), "(no message)");
    }
}
