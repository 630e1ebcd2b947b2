//! `POST /devicecontrol/deviceAccessToken` as the platform's Java x509 REST client sends it:
//! mutual TLS with the device certificate, `Accept: application/json`, no body, and
//! `X-Ssl-Cert-Chain` when the device's issuer is not itself a trusted certificate.

use std::sync::Arc;
use std::time::Duration;

use anchorage_common::token::DeviceAccessToken;
use bytes::Bytes;
use rustls::ClientConfig;

use crate::http::{self, Endpoint, RequestError};
use crate::jwt::{JwtError, Token};

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/devicecontrol/deviceAccessToken";

/// Why no token came back.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status; `message` is its envelope's message.
    #[error("the server refused: {status} {}: {message}", http::reason(*status))]
    Refused { status: u16, message: String },
    /// A 200 without a readable token.
    #[error("the server's answer holds no readable accessToken: {0}")]
    BadToken(String),
    /// No answer (connection, TLS, timeout).
    #[error(transparent)]
    Request(#[from] RequestError),
}

impl From<JwtError> for FetchError {
    fn from(e: JwtError) -> Self {
        Self::BadToken(e.to_string())
    }
}

/// Fetches device access tokens from one device listener with one identity, on a new
/// connection each time.
#[derive(Clone)]
pub struct TokenClient {
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    chain_header: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field("endpoint", &self.endpoint)
            .field("chain_header", &self.chain_header.is_some())
            .finish()
    }
}

impl TokenClient {
    /// A client for `endpoint` (the device listener's base URL) presenting the identity in
    /// `tls`; `chain_header` is sent as `X-Ssl-Cert-Chain` when given.
    pub fn new(endpoint: Endpoint, tls: Arc<ClientConfig>, chain_header: Option<String>) -> Self {
        Self { endpoint, tls, chain_header, timeout: Duration::from_secs(30) }
    }

    /// Changes the time allowed for one whole request (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Asks for a token once.
    pub async fn fetch(&self) -> Result<Token, FetchError> {
        let mut headers = vec![("accept", "application/json")];
        if let Some(chain) = &self.chain_header {
            headers.push(("x-ssl-cert-chain", chain.as_str()));
        }
        let res = http::send(
            &self.endpoint,
            Some(&self.tls),
            hyper::Method::POST,
            TOKEN_PATH,
            &headers,
            Bytes::new(),
            self.timeout,
        )
        .await?;
        if res.status != 200 {
            return Err(FetchError::Refused { status: res.status, message: http::error_message(&res.body) });
        }
        // Common's answer type: `accessToken` as the server writes it (and the platform's docs and
        // go-c8y), or `access_token` as the platform's OpenAPI description spells it.
        let answer: DeviceAccessToken =
            serde_json::from_slice(&res.body).map_err(|e| FetchError::BadToken(e.to_string()))?;
        Ok(Token::parse(&answer.access_token)?)
    }
}
