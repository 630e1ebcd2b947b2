//! The platform's wire types for the resources anchorage serves, and the checked values they
//! turn into.
//!
//! Request types are lenient serde structs (unknown and read-only fields are tolerated, as the
//! platform's own UI sends `fingerprint` back on update); their `check` methods produce the
//! checked values or a message for the user. Response types serialize exactly the platform's
//! field names.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::cert::{self, CertificateInfo, Rejection};

/// Media type of every error body.
pub const ERROR_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.error+json";
/// The `info` link the platform puts in every error body.
pub const ERROR_INFO: &str = "https://cumulocity.com/guides/reference/rest-implementation/#error_reporting";
/// Largest `pageSize` the platform serves.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// Default `pageSize` when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 5;
/// Longest certificate name accepted, in characters (the rule is [`crate::names`]).
pub const MAX_NAME_CHARS: usize = crate::names::MAX_NAME_CHARS;
/// Most certificates accepted in one bulk request.
pub const MAX_BULK_CERTIFICATES: usize = 500;

/// The platform's error envelope: `{"error": "<resource>/<Reason>", "message", "info"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default)]
    pub info: String,
    /// anchorage's extension on refused device chains: the [`crate::refusal::Reason`] code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::refusal::Reason>,
}

/// Paging statistics of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageStatistics {
    pub current_page: u32,
    pub page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_pages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_elements: Option<u64>,
}

/// `status` of a trusted certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateStatus {
    Enabled,
    Disabled,
}

impl CertificateStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Enabled => "ENABLED",
            CertificateStatus::Disabled => "DISABLED",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ENABLED" => Some(CertificateStatus::Enabled),
            "DISABLED" => Some(CertificateStatus::Disabled),
            _ => None,
        }
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        v.as_str().and_then(Self::parse).ok_or_else(|| format!("status must be \"ENABLED\" or \"DISABLED\", not {v}"))
    }
}

/// A trusted certificate as the platform returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedCertificate {
    pub name: String,
    pub cert_in_pem_format: String,
    pub fingerprint: String,
    pub status: CertificateStatus,
    pub auto_registration_enabled: bool,
    pub serial_number: String,
    pub version: u32,
    pub algorithm_name: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default)]
    pub proof_of_possession_valid: bool,
    /// The code to sign for the proof of possession, once generated (shown to admins only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof_of_possession_unsigned_verification_code: Option<String>,
    /// Until when that code can be used, in the platform's date format.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof_of_possession_verification_code_usable_until: Option<String>,
    #[serde(default)]
    pub tenant_certificate_authority: bool,
}

/// Body of `POST …/trusted-certificates-pop/{fingerprint}/pop`. The field is read leniently
/// (any JSON) so that a missing or mistyped one gets a message naming it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofOfPossession {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof_of_possession_signed_verification_code: Option<Value>,
}

/// A page of trusted certificates (`GET …/trusted-certificates`), also the body of a bulk
/// create's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedCertificateCollection {
    pub certificates: Vec<TrustedCertificate>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub statistics: Option<PageStatistics>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none", default)]
    pub self_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prev: Option<String>,
}

/// Answer of anchorage's `GET …/trusted-certificates/{fingerprint}/devices/count` (not a
/// platform endpoint): how many device users last got a token through the certificate, i.e.
/// would be refused if it were disabled or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateDeviceCount {
    pub count: u64,
}

/// Body of `POST …/trusted-certificates` (and each entry of `…/bulk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTrustedCertificate {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cert_in_pem_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auto_registration_enabled: Option<Value>,
}

/// Body of `POST …/trusted-certificates/bulk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkNewTrustedCertificates {
    pub certificates: Vec<NewTrustedCertificate>,
}

/// A checked upload: what the server stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateUpload {
    pub name: String,
    pub status: CertificateStatus,
    pub auto_registration_enabled: bool,
    pub info: CertificateInfo,
}

/// Why a create request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// A request field is missing or malformed.
    #[error("{0}")]
    Field(String),
    /// The certificate itself is refused.
    #[error(transparent)]
    Certificate(#[from] Rejection),
}

impl NewTrustedCertificate {
    /// Checks the request and the certificate it carries at `now`.
    pub fn check(&self, now: OffsetDateTime) -> Result<CertificateUpload, UploadError> {
        let pem = match &self.cert_in_pem_format {
            Some(Value::String(s)) => s,
            Some(_) => return Err(UploadError::Field("certInPemFormat must be a string".into())),
            None => return Err(UploadError::Field("certInPemFormat is required".into())),
        };
        let status = match &self.status {
            Some(v) => CertificateStatus::from_json(v).map_err(UploadError::Field)?,
            None => return Err(UploadError::Field("status is required: \"ENABLED\" or \"DISABLED\"".into())),
        };
        let auto_registration_enabled = match &self.auto_registration_enabled {
            Some(v) => json_bool("autoRegistrationEnabled", v).map_err(UploadError::Field)?,
            None => false,
        };
        let name = match &self.name {
            Some(v) if !v.is_null() => Some(check_name(v).map_err(UploadError::Field)?),
            _ => None,
        };
        let info = cert::accept_one(pem, now)?;
        let name = name.unwrap_or_else(|| default_name(&info));
        Ok(CertificateUpload { name, status, auto_registration_enabled, info })
    }
}

/// The name used when a request gives none: the subject's common name, else the subject,
/// without control or bidirectional formatting characters ([`crate::names::default_certificate_name`]).
pub fn default_name(info: &CertificateInfo) -> String {
    crate::names::default_certificate_name(info)
}

/// Checks a certificate name: a string that passes [`crate::names::check_display_name`] (not
/// blank, at most [`MAX_NAME_CHARS`] characters, no control or bidirectional formatting
/// characters). Returns it trimmed.
pub fn check_name(v: &Value) -> Result<String, String> {
    crate::names::check_display_name(v.as_str().ok_or_else(|| "name must be a string".to_string())?)
}

/// A boolean field that the platform's docs also send as the strings `"true"`/`"false"`.
pub fn json_bool(field: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(format!("{field} must be true or false, not {other}")),
    }
}

/// Body of `PUT …/trusted-certificates/{fingerprint}`: a partial update. Read-only fields
/// (`fingerprint`, `certInPemFormat`, `subject`, …) are tolerated and ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTrustedCertificate {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auto_registration_enabled: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fingerprint: Option<String>,
}

/// A checked partial update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateChanges {
    pub name: Option<String>,
    pub status: Option<CertificateStatus>,
    pub auto_registration_enabled: Option<bool>,
}

impl UpdateTrustedCertificate {
    /// Checks the fields present; a `null` counts as absent.
    pub fn check(&self) -> Result<CertificateChanges, String> {
        let present = |v: &Option<Value>| v.clone().filter(|v| !v.is_null());
        Ok(CertificateChanges {
            name: present(&self.name).map(|v| check_name(&v)).transpose()?,
            status: present(&self.status).map(|v| CertificateStatus::from_json(&v)).transpose()?,
            auto_registration_enabled: present(&self.auto_registration_enabled)
                .map(|v| json_bool("autoRegistrationEnabled", &v))
                .transpose()?,
        })
    }
}

/// `GET /tenant/currentTenant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentTenant {
    pub name: String,
    pub domain_name: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default)]
    pub allow_create_tenants: bool,
}

/// `GET /user/currentUser` (the subset anchorage serves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUser {
    pub id: String,
    pub user_name: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default)]
    pub effective_roles: Vec<Role>,
}

/// A role reference as the platform lists it in `effectiveRoles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_accepts_what_the_platform_ui_and_docs_send() {
        let u: UpdateTrustedCertificate =
            serde_json::from_value(json!({"fingerprint": "ab", "autoRegistrationEnabled": "true", "subject": "x"}))
                .unwrap();
        assert_eq!(
            u.check().unwrap(),
            CertificateChanges { auto_registration_enabled: Some(true), ..Default::default() }
        );
        let u: UpdateTrustedCertificate = serde_json::from_value(json!({"status": "ENABLED", "name": " CA "})).unwrap();
        let c = u.check().unwrap();
        assert_eq!((c.status, c.name.as_deref()), (Some(CertificateStatus::Enabled), Some("CA")));
    }

    #[test]
    fn update_refuses_bad_values_with_a_reason() {
        for (body, want) in [
            (json!({"status": "ON"}), "status must be"),
            (json!({"autoRegistrationEnabled": "yes"}), "autoRegistrationEnabled must be true or false"),
            (json!({"name": ""}), "name must not be empty"),
            (json!({"name": "x".repeat(MAX_NAME_CHARS + 1)}), "at most"),
            (json!({"name": 7}), "must be a string"),
            (json!({"name": "a\u{7}b"}), "control"),
        ] {
            let u: UpdateTrustedCertificate = serde_json::from_value(body).unwrap();
            let err = u.check().unwrap_err();
            assert!(err.contains(want), "{err} should contain {want}");
        }
    }

    #[test]
    fn create_requires_certificate_and_status() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let missing = NewTrustedCertificate::default().check(now).unwrap_err();
        assert_eq!(missing, UploadError::Field("certInPemFormat is required".into()));
        let no_status = NewTrustedCertificate { cert_in_pem_format: Some(json!("MAMCAQE=")), ..Default::default() };
        assert!(no_status.check(now).unwrap_err().to_string().starts_with("status is required"));
    }
}

/// Status of one device in a bulk registration answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulkNewDeviceStatus {
    Created,
    Failed,
    CredentialUpdated,
}

/// A device whose credentials (or properties) a re-upload updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkUpdated {
    pub bulk_new_device_status: BulkNewDeviceStatus,
    pub device_id: String,
}

/// A row that was not registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkFailed {
    pub bulk_new_device_status: BulkNewDeviceStatus,
    pub device_id: String,
    pub failure_reason: String,
    /// Which row: `DeviceInfo{id='…', line=N}` (credentials are never echoed).
    pub line: String,
}

/// Answer of `POST /devicecontrol/bulkNewDeviceRequests`, in the platform's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkNewDeviceRequestResult {
    pub number_of_all: u64,
    pub number_of_created: u64,
    pub number_of_failed: u64,
    pub number_of_successful: u64,
    pub credential_updated_list: Vec<BulkUpdated>,
    pub failed_creation_list: Vec<BulkFailed>,
}

/// Most device ids asked about in one `POST /anchorage/bulk-registration/existing`.
pub const MAX_EXISTING_QUERY_IDS: usize = 10_000;

/// Body of anchorage's `POST /anchorage/bulk-registration/existing` (not a platform endpoint):
/// the device ids (external ids) of a bulk-registration file, at most
/// [`MAX_EXISTING_QUERY_IDS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingDevicesQuery {
    pub ids: Vec<String>,
}

/// Answer of `POST /anchorage/bulk-registration/existing`: the ids asked about that are
/// registered devices of the tenant already (a bulk registration updates them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingDevices {
    pub existing: Vec<String>,
}

/// A device as the Devices page lists it (`GET /inventory/managedObjects?fragmentType=c8y_IsDevice`
/// returns managed objects carrying these fields in the `anchorage_Registration` fragment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistration {
    pub device_id: String,
    pub user_name: String,
    pub auth_type: String,
    /// `BULK` or `AUTO_REGISTRATION`.
    pub registered_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_certificate_serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_certificate_fingerprint: Option<String>,
    /// Whether the device may get tokens: an admin can disable it
    /// (`PUT /inventory/managedObjects/{id}/user` `{"enabled": false}`).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The trusted certificate that anchored the last token: its fingerprint, and its name
    /// while it is still trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ca_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ca_name: Option<String>,
    /// The certificate last used: serial in lowercase hex, and end of validity (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_certificate_serial_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_certificate_not_after: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// Body of `PUT /inventory/managedObjects/{id}/user`: the platform's way to enable or disable
/// a device's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceUserChange {
    pub enabled: bool,
}

/// A certificate a device used for a successful token: an entry of
/// `provisionedCertificates` in `GET /user/{tenant}/users/{userName}?withCertificates=true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedCertificate {
    /// Lowercase hex, as the revocation list takes it (the platform UI revokes a provisioned
    /// certificate with `{"serialNumberInHex": serialNumber}`).
    pub serial_number: String,
    /// The same, named as the revocation list names it.
    pub serial_number_in_hex: String,
    /// anchorage's: decimal, as trusted certificates show serials.
    #[serde(default)]
    pub serial_number_decimal: String,
    pub not_before: String,
    pub not_after: String,
    pub subject: String,
    pub issuer: String,
    pub fingerprint: String,
    /// anchorage's: when the device first and last got a new token with it.
    #[serde(default)]
    pub first_used: String,
    #[serde(default)]
    pub last_used: String,
}

/// A device's user, as `GET /user/{tenant}/users/{userName}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceUser {
    pub id: String,
    pub user_name: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    pub enabled: bool,
    /// The device's external id (its certificate's CN).
    #[serde(default)]
    pub device_id: String,
    /// `CERTIFICATES` or `BASIC`.
    #[serde(default)]
    pub auth_type: String,
    /// With `withCertificates=true`: the last certificates the device used, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_certificates: Option<Vec<ProvisionedCertificate>>,
    /// anchorage's, with `withCertificates=true`: the certificates the tenant's CA issued to the
    /// device over EST, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_certificates: Option<Vec<IssuedCertificate>>,
}

/// A certificate the tenant's CA issued to a device (EST `simpleenroll` or `simplereenroll`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCertificate {
    /// Lowercase hex, as the revocation list takes it.
    pub serial_number_in_hex: String,
    pub not_before: String,
    pub not_after: String,
    pub fingerprint: String,
    /// When it was issued (the platform's date format).
    pub issued: String,
    /// `ENROLL` (first certificate, with a one-time password) or `REENROLL`.
    pub how: String,
    /// When the device first got a token with it, if it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_used: Option<String>,
    /// Fingerprint of the CA certificate that signed it.
    pub ca_fingerprint: String,
}

/// Media type of one new device request.
pub const NEW_DEVICE_REQUEST_MEDIA_TYPE: &str = "application/vnd.com.nsn.cumulocity.newdevicerequest+json";
/// Media type of a page of new device requests.
pub const NEW_DEVICE_REQUEST_COLLECTION_MEDIA_TYPE: &str =
    "application/vnd.com.nsn.cumulocity.newdevicerequestcollection+json";

/// A new device request (`/devicecontrol/newDeviceRequests`), as the platform returns it. The
/// one-time password (`enrollmentToken`) is accepted on create and never returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDeviceRequest {
    pub id: String,
    /// `WAITING_FOR_CONNECTION`, `PENDING_ACCEPTANCE`, `ACCEPTED` or `BLOCKED`.
    pub status: String,
    #[serde(rename = "self", default)]
    pub self_url: String,
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// anchorage's: whether the request carries a one-time password for EST enrollment, and
    /// until when it can be used (the platform's date format).
    #[serde(default)]
    pub enrollment_token_set: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_token_valid_until: Option<String>,
}

/// A page of new device requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDeviceRequestCollection {
    pub new_device_requests: Vec<NewDeviceRequest>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub statistics: Option<PageStatistics>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none", default)]
    pub self_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prev: Option<String>,
}

/// Body of `POST /devicecontrol/newDeviceRequests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNewDeviceRequest {
    pub id: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_token: Option<String>,
}
