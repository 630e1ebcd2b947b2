//! `GET /anchorage/refusals`: why devices were refused tokens, for one device or one trusted
//! certificate: the last refusals and the counts per reason over the last 24 hours.
//!
//! anchorage's own endpoint (the platform has none); in the chunks of the pages that show it.

use anchorage_common::refusal::RefusalSummary;
use gloo_net::http::Request;

use super::{ApiError, Client, encode, json};

/// Whose refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalsOf {
    /// A device, by its user name (`device_<external id>`).
    Device(String),
    /// The devices whose chains a trusted certificate anchors, by its fingerprint.
    TrustedCertificate(String),
}

/// Most refusals the server lists at once.
pub const MAX_REFUSALS: u32 = 100;

impl Client {
    /// The last `page_size` (at most [`MAX_REFUSALS`]) refusals of `of`, and the counts per
    /// reason over the last 24 hours.
    pub async fn refusals(&self, of: &RefusalsOf, page_size: u32) -> Result<RefusalSummary, ApiError> {
        let (name, value) = match of {
            RefusalsOf::Device(user_name) => ("device", user_name),
            RefusalsOf::TrustedCertificate(fingerprint) => ("trustedCertificate", fingerprint),
        };
        let url = format!("/anchorage/refusals?{name}={}&pageSize={}", encode(value), page_size.clamp(1, MAX_REFUSALS));
        json(self.request(Request::get(&url))).await
    }
}
