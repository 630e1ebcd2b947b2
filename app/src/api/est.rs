//! The tenant's certificate authority and EST enrollment: `POST /certificate-authority` (create),
//! `…/renew` and `…/rollover` (anchorage's), the tenant's CA certificates
//! (`…/trusted-certificates?certificateAuthority=true`), new device requests with a one-time
//! password (`/devicecontrol/newDeviceRequests`: create, list, delete), and a device user's
//! certificates (`GET /user/{tenant}/users/device_<id>?withCertificates=true`: the provisioned
//! and the issued ones).
//!
//! The CA's answers are trusted certificates, read without serde_json ([`super::wire`]):
//! creating the CA is on the home page, in the first load. The rest is used in the chunks of the
//! CA's card and of the devices page only (serde_json is fine there).

use anchorage_common::api::{
    CreateNewDeviceRequest, DeviceUser, MAX_PAGE_SIZE, NewDeviceRequest, NewDeviceRequestCollection, TrustedCertificate,
};
use gloo_net::http::Request;

use super::wire::Certificates;
use super::{ApiError, Client, decode, encode, json, json_with_body, no_content, read};

/// The tenant's CA (no body: the server makes the key and the certificate).
const CA_URL: &str = "/certificate-authority";
/// New device requests.
const REQUESTS_URL: &str = "/devicecontrol/newDeviceRequests";

/// One page of new device requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeviceRequestPage {
    pub requests: Vec<NewDeviceRequest>,
    /// The page shown, from 1.
    pub page: u32,
    /// How many pages there are (at least 1).
    pub pages: u64,
    /// Whether a next page exists.
    pub has_next: bool,
}

impl Client {
    /// The tenant's CA certificates: the one that signs now and any earlier one still trusted
    /// (after a rollover).
    pub async fn certificate_authorities(&self) -> Result<Vec<TrustedCertificate>, ApiError> {
        let url = format!(
            "/tenant/tenants/{}/trusted-certificates?certificateAuthority=true&pageSize={MAX_PAGE_SIZE}",
            encode(self.tenant_id())
        );
        let page: Certificates = read(self.request(Request::get(&url))).await?;
        Ok(page.0)
    }

    /// Creates the tenant's CA (409 when it has one).
    pub async fn create_certificate_authority(&self) -> Result<TrustedCertificate, ApiError> {
        read(self.request(Request::post(CA_URL))).await
    }

    /// Renews the tenant's CA: the same key and subject, new dates and so a new fingerprint
    /// (422 unless it has less than [`anchorage_common::est::CA_RENEWAL_WINDOW`] left).
    pub async fn renew_certificate_authority(&self) -> Result<TrustedCertificate, ApiError> {
        read(self.request(Request::post(&format!("{CA_URL}/renew")))).await
    }

    /// Makes a new CA (a new key) that signs from now on; the previous one stays trusted until
    /// it is deleted.
    pub async fn roll_over_certificate_authority(&self) -> Result<TrustedCertificate, ApiError> {
        read(self.request(Request::post(&format!("{CA_URL}/rollover")))).await
    }

    /// Registers a device that will enroll with the one-time password of `new`.
    pub async fn create_new_device_request(&self, new: &CreateNewDeviceRequest) -> Result<NewDeviceRequest, ApiError> {
        json_with_body(self.request(Request::post(REQUESTS_URL)), new).await
    }

    /// Page `page` (from 1) of `page_size` new device requests.
    pub async fn new_device_requests(&self, page: u32, page_size: u32) -> Result<NewDeviceRequestPage, ApiError> {
        let url = format!("{REQUESTS_URL}?pageSize={page_size}&currentPage={page}&withTotalPages=true");
        let c: NewDeviceRequestCollection = json(self.request(Request::get(&url))).await?;
        let (current, total) = c.statistics.map_or((page, None), |s| (s.current_page, s.total_pages));
        let has_next = match total {
            Some(total) => u64::from(current) < total,
            None => c.next.is_some() && !c.new_device_requests.is_empty(),
        };
        let pages = total.unwrap_or(u64::from(current)).max(1);
        Ok(NewDeviceRequestPage { requests: c.new_device_requests, page: current, pages, has_next })
    }

    /// Deletes the new device request of `id` (its one-time password can no longer be used).
    pub async fn delete_new_device_request(&self, id: &str) -> Result<(), ApiError> {
        no_content(self.request(Request::delete(&format!("{REQUESTS_URL}/{}", encode(id))))).await
    }

    /// The device user `user_name` (`device_<id>`) with the certificates it got tokens with and
    /// those the tenant's CA issued to it.
    pub async fn device_user(&self, user_name: &str) -> Result<DeviceUser, ApiError> {
        let url = format!("{}?withCertificates=true", self.user_url(user_name));
        let response = self.request(Request::get(&url)).send().await.map_err(|_| ApiError::Network)?;
        decode(response).await
    }
}
