//! The chain doctor's calls: `POST /tenant/trusted-certificates/verify-cert-chain` (the
//! server's verdict on a chain, sent as the multipart part `file`), and the server's clock,
//! read from the `Date` header of an answer, so that the browser checks validity at the time
//! the server does.
//!
//! In the chain doctor's chunk only (serde_json is fine here).

use anchorage_common::api::ErrorBody;
use anchorage_common::chain::VerifyChainAnswer;
use anchorage_common::refusal::Reason;
use gloo_net::http::{Request, Response};
use time::{Duration, OffsetDateTime};
use web_sys::{Blob, BlobPropertyBag, FormData};

use super::{ApiError, Client, error_of, unbuildable};

const VERIFY_URL: &str = "/tenant/trusted-certificates/verify-cert-chain";

/// The server's clock compared with the browser's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerClock {
    /// The server's time minus the browser's, estimated from one answer's `Date` header (which
    /// has whole seconds: about a second either way).
    pub skew: Duration,
}

impl ServerClock {
    /// The server's time now, by the browser's clock and the skew.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.skew
    }
}

/// What the server says of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// 200: the chain leads to an enabled trusted certificate (and whether a token would be
    /// issued).
    Trusted(VerifyChainAnswer),
    /// 400, 401 or 422 with a reason code: the chain is refused.
    Refused { status: u16, reason: Option<Reason>, message: String },
}

/// The server's verdict and the clock read from its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub verdict: ChainVerdict,
    pub clock: Option<ServerClock>,
}

impl Client {
    /// Asks the server about `chain_pem` (the PEM certificates, device certificate first).
    pub async fn verify_chain(&self, chain_pem: &str) -> Result<Asked, ApiError> {
        let failed = |_| ApiError::Unexpected("the browser refused to build the request".into());
        let parts = js_sys::Array::of1(&chain_pem.into());
        let options = BlobPropertyBag::new();
        options.set_type("application/x-pem-file");
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(failed)?;
        let form = FormData::new().map_err(failed)?;
        form.append_with_blob_and_filename("file", &blob, "chain.pem").map_err(failed)?;
        let request = self.request(Request::post(VERIFY_URL)).body(form).map_err(unbuildable)?;
        let (response, clock) = timed(request.send()).await?;
        let status = response.status();
        let body = response.text().await.map_err(|_| ApiError::Network)?;
        if response.ok() {
            let answer: VerifyChainAnswer =
                serde_json::from_str(&body).map_err(|e| ApiError::Unexpected(e.to_string()))?;
            return Ok(Asked { verdict: ChainVerdict::Trusted(answer), clock });
        }
        // A refused chain carries its reason; a 401 without one is the session's end.
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(ErrorBody { message, reason: Some(reason), .. }) => {
                Ok(Asked { verdict: ChainVerdict::Refused { status, reason: Some(reason), message }, clock })
            }
            Ok(ErrorBody { message, reason: None, .. }) if status == 400 || status == 422 => {
                Ok(Asked { verdict: ChainVerdict::Refused { status, reason: None, message }, clock })
            }
            _ => Err(error_of(status, &body)),
        }
    }

    /// The server's clock, from the `Date` header of `GET /tenant/currentTenant`.
    pub async fn server_clock(&self) -> Result<Option<ServerClock>, ApiError> {
        let (response, clock) = timed(self.request(Request::get("/tenant/currentTenant")).send()).await?;
        if !response.ok() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(error_of(status, &body));
        }
        Ok(clock)
    }
}

/// Sends a request and reads the server's clock from its answer: the `Date` header, compared
/// with the browser's time half-way through the exchange.
async fn timed(
    send: impl std::future::Future<Output = Result<Response, gloo_net::Error>>,
) -> Result<(Response, Option<ServerClock>), ApiError> {
    let before = OffsetDateTime::now_utc();
    let response = send.await.map_err(|_| ApiError::Network)?;
    let after = OffsetDateTime::now_utc();
    let midway = before + (after - before) / 2;
    let clock = response.headers().get("date").and_then(|d| anchorage_common::chain::parse_http_date(&d)).map(|t| {
        // The header's time is truncated to the second: the middle of that second is closer.
        ServerClock { skew: t + Duration::milliseconds(500) - midway }
    });
    Ok((response, clock))
}
