//! `…/tenant/tenants/{tenantId}/trusted-certificates`: list, create (single and bulk), update,
//! delete.

use anchorage_common::api::{
    BulkNewTrustedCertificates, MAX_PAGE_SIZE, NewTrustedCertificate, TrustedCertificate, TrustedCertificateCollection,
    UpdateTrustedCertificate,
};
use gloo_net::http::Request;

use super::{ApiError, Client, encode, json, json_with_body, no_content};

impl Client {
    fn certificates_url(&self) -> String {
        format!("/tenant/tenants/{}/trusted-certificates", encode(self.tenant_id()))
    }

    fn certificate_url(&self, fingerprint: &str) -> String {
        format!("{}/{}", self.certificates_url(), encode(fingerprint))
    }

    /// Every trusted certificate of the tenant (one page of the largest size).
    pub async fn list_certificates(&self) -> Result<Vec<TrustedCertificate>, ApiError> {
        let url = format!("{}?pageSize={MAX_PAGE_SIZE}&withTotalPages=true", self.certificates_url());
        let page: TrustedCertificateCollection = json(self.request(Request::get(&url))).await?;
        Ok(page.certificates)
    }

    /// Uploads one certificate.
    pub async fn create_certificate(&self, new: &NewTrustedCertificate) -> Result<TrustedCertificate, ApiError> {
        json_with_body(self.request(Request::post(&self.certificates_url())), new).await
    }

    /// Uploads several certificates at once; the server stores all of them or none.
    pub async fn create_certificates(
        &self,
        bulk: &BulkNewTrustedCertificates,
    ) -> Result<Vec<TrustedCertificate>, ApiError> {
        let url = format!("{}/bulk", self.certificates_url());
        let created: TrustedCertificateCollection = json_with_body(self.request(Request::post(&url)), bulk).await?;
        Ok(created.certificates)
    }

    /// Changes the fields present in `update`; answers the certificate as now stored.
    pub async fn update_certificate(&self, update: &UpdateTrustedCertificate) -> Result<TrustedCertificate, ApiError> {
        let fingerprint = update.fingerprint.as_deref().unwrap_or_default();
        json_with_body(self.request(Request::put(&self.certificate_url(fingerprint))), update).await
    }

    /// Deletes the certificate with `fingerprint`.
    pub async fn delete_certificate(&self, fingerprint: &str) -> Result<(), ApiError> {
        no_content(self.request(Request::delete(&self.certificate_url(fingerprint)))).await
    }
}
