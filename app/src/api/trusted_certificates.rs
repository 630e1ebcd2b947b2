//! `…/tenant/tenants/{tenantId}/trusted-certificates`: list, create (single and bulk), update,
//! delete; and `…/trusted-certificates-pop/{fingerprint}/…`: proof of possession.

use anchorage_common::api::{
    BulkNewTrustedCertificates, CertificateChanges, MAX_PAGE_SIZE, NewTrustedCertificate, TrustedCertificate,
    TrustedCertificateCollection,
};
use gloo_net::http::Request;

use super::wire::{self, Certificates};
use super::{ApiError, Client, encode, json, json_with_body, no_content, read, read_answer, unbuildable};

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
        let page: Certificates = read(self.request(Request::get(&url))).await?;
        Ok(page.0)
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

    /// Changes the fields set in `changes`; answers the certificate as now stored. (On the home
    /// page: the body is written and the answer read without serde_json, [`wire`].)
    pub async fn update_certificate(
        &self,
        fingerprint: &str,
        changes: &CertificateChanges,
    ) -> Result<TrustedCertificate, ApiError> {
        let request = self
            .request(Request::put(&self.certificate_url(fingerprint)))
            .header("Content-Type", "application/json")
            .body(wire::certificate_changes(changes))
            .map_err(unbuildable)?;
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        read_answer(response).await
    }

    /// Deletes the certificate with `fingerprint`.
    pub async fn delete_certificate(&self, fingerprint: &str) -> Result<(), ApiError> {
        no_content(self.request(Request::delete(&self.certificate_url(fingerprint)))).await
    }

    fn pop_url(&self, fingerprint: &str, what: &str) -> String {
        format!("/tenant/tenants/{}/trusted-certificates-pop/{}/{what}", encode(self.tenant_id()), encode(fingerprint))
    }

    /// Generates a new proof-of-possession verification code for the certificate (replacing
    /// any earlier one); answers the certificate with the code.
    pub async fn generate_pop_code(&self, fingerprint: &str) -> Result<TrustedCertificate, ApiError> {
        read(self.request(Request::post(&self.pop_url(fingerprint, "verification-code")))).await
    }

    /// Sends the signed verification code (`signed`: the base64 signature); answers the
    /// certificate, its proof of possession valid.
    pub async fn prove_possession(&self, fingerprint: &str, signed: &str) -> Result<TrustedCertificate, ApiError> {
        let mut body = String::from("{");
        wire::write_string(&mut body, anchorage_common::pop::SIGNED_CODE_FIELD);
        body.push(':');
        wire::write_string(&mut body, signed);
        body.push('}');
        let request = self
            .request(Request::post(&self.pop_url(fingerprint, "pop")))
            .header("Content-Type", "application/json")
            .body(body)
            .map_err(unbuildable)?;
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        read_answer(response).await
    }
}

impl Client {
    /// How many devices last got a token through the certificate (anchorage's own
    /// `…/trusted-certificates/{fingerprint}/devices/count`): what disabling or deleting it
    /// would refuse.
    pub async fn count_certificate_devices(&self, fingerprint: &str) -> Result<u64, ApiError> {
        let url = format!("{}/devices/count", self.certificate_url(fingerprint));
        let answer: anchorage_common::api::CertificateDeviceCount = json(self.request(Request::get(&url))).await?;
        Ok(answer.count)
    }
}
