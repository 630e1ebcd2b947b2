//! The benchmark's baseline: a bare rustls mutual-TLS server that verifies the client
//! certificate against the device root (`WebPkiClientVerifier`), reads one request and answers
//! a fixed small body. What a token request costs beyond the TLS handshake is anchorage's part.
//! It runs on its own tokio runtime (as many worker threads as cores), like a server process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// The fixed answer: common's `DeviceAccessToken` shape, as the benchmark counts a token.
const BODY: &str = r#"{"accessToken":"baseline"}"#;

/// A running baseline server on 127.0.0.1.
pub struct Baseline {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The CA that signed its certificate (clients trust this).
    pub ca_pem: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: std::thread::JoinHandle<()>,
}

impl Baseline {
    /// Starts a server on 127.0.0.1:0 accepting client certificates that chain to
    /// `device_roots`, with an ECDSA P-256 certificate for 127.0.0.1 from a CA made now.
    pub async fn start(device_roots: RootCertStore) -> anyhow::Result<Self> {
        Self::start_on(device_roots, 0).await
    }

    /// As [`Baseline::start`], on 127.0.0.1:`port` (0: any free port).
    pub async fn start_on(device_roots: RootCertStore, port: u16) -> anyhow::Result<Self> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name.push(DnType::CommonName, "anchorage bench baseline CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(vec!["localhost".to_string()])?;
        p.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = p.signed_by(&key, &issuer)?;

        let provider = crate::identity::provider();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(device_roots), provider.clone())
            .build()
            .context("the client verifier")?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // As anchorage's device listener (and nginx in bench.sh): no TLS 1.3 session tickets, so
        // that the limit is the same handshake, not one that also seals and sends two tickets.
        config.send_tls13_tickets = 0;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        // Its own runtime and worker threads, as a separate server process would have, so it
        // does not share the bench client's threads.
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).context("binding the baseline server")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("baseline")
            .enable_all()
            .build()?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = std::thread::Builder::new().name("baseline-accept".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else { return };
                loop {
                    let tcp = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((tcp, _)) => tcp,
                            Err(_) => continue,
                        },
                        _ = stopped.changed() => break,
                    };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(10), answer(acceptor, tcp)).await;
                    });
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
        Ok(Self { addr, ca_pem: ca_cert.pem(), stop, task })
    }

    /// Stops accepting and waits for its runtime to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let task = self.task;
        let _ = tokio::task::spawn_blocking(move || task.join()).await;
    }
}

/// Handshake, read the request head, answer the fixed body, close.
async fn answer(acceptor: tokio_rustls::TlsAcceptor, tcp: tokio::net::TcpStream) -> std::io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    let mut buf = [0u8; 8192];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).await?;
        if n == 0 || seen.len() > 64 * 1024 {
            return Ok(());
        }
        seen.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    tls.write_all(response.as_bytes()).await?;
    tls.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_answer_is_a_device_access_token() {
        let answer: anchorage_common::token::DeviceAccessToken = serde_json::from_str(BODY).expect("the answer type");
        assert_eq!(answer.access_token, "baseline");
    }
}
