//! Why a device was refused a token: one code per reason, shared by the server (which records
//! it with every refusal and returns it from the chain doctor) and the console (which counts
//! and explains refusals per device and per trusted certificate).
//!
//! The codes are stable API: they appear in audit records (`details.reason`) and in the
//! anchorage extension of `verify-cert-chain`'s answers. The list is in docs/decisions.md.

use serde::{Deserialize, Serialize};

/// A refusal reason. Serialized as its `SCREAMING_SNAKE_CASE` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// No certificate in the TLS handshake (or none uploaded to the chain doctor).
    NoClientCertificate,
    /// The device certificate cannot be parsed.
    UnreadableCertificate,
    /// The `X-Ssl-Cert-Chain` header (or the uploaded chain) cannot be read or is too long.
    UnreadableChain,
    /// The first certificate of `X-Ssl-Cert-Chain` is not the TLS client certificate.
    HeaderChainMismatch,
    /// No trusted certificate issued the chain.
    UnknownIssuer,
    /// The trusted certificate that anchors the chain is disabled.
    CaDisabled,
    /// The trusted certificate that anchors the chain has expired.
    CaExpired,
    /// A certificate of the chain has expired.
    Expired,
    /// A certificate of the chain is not valid yet.
    NotYetValid,
    /// A signature of the chain does not verify.
    BadSignature,
    /// A certificate that signs another is not a CA, or the device certificate is a CA.
    NotACa,
    /// Key usage or extended key usage does not allow client authentication.
    KeyUsage,
    /// Path length, name constraints, unsupported critical extension, chain too long.
    InvalidChain,
    /// The certificate's serial is in the tenant's revocation list, or in its issuer's CRL.
    Revoked,
    /// The online check could not tell (distribution point unreachable, CRL expired, badly
    /// signed or too large) and the tenant fails closed.
    RevocationUnknown,
    /// An administrator of the tenant disabled the device
    /// (`PUT /inventory/managedObjects/{id}/user` with `enabled: false`).
    DeviceDisabled,
    /// The device certificate has no CN, or its CN is not a valid device id.
    InvalidDeviceId,
    /// The device is registered for password authentication.
    PasswordDevice,
    /// The device is not registered and the CA's auto-registration is off.
    NotRegistered,
    /// Too many refusals from the client's address: answered 429 without being checked.
    TooManyRefusals,
}

impl Reason {
    /// Every reason, in the order the console lists them.
    pub const ALL: [Reason; 20] = [
        Reason::NoClientCertificate,
        Reason::UnreadableCertificate,
        Reason::UnreadableChain,
        Reason::HeaderChainMismatch,
        Reason::UnknownIssuer,
        Reason::CaDisabled,
        Reason::CaExpired,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::BadSignature,
        Reason::NotACa,
        Reason::KeyUsage,
        Reason::InvalidChain,
        Reason::Revoked,
        Reason::RevocationUnknown,
        Reason::DeviceDisabled,
        Reason::InvalidDeviceId,
        Reason::PasswordDevice,
        Reason::NotRegistered,
        Reason::TooManyRefusals,
    ];

    /// The code as stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoClientCertificate => "NO_CLIENT_CERTIFICATE",
            Reason::UnreadableCertificate => "UNREADABLE_CERTIFICATE",
            Reason::UnreadableChain => "UNREADABLE_CHAIN",
            Reason::HeaderChainMismatch => "HEADER_CHAIN_MISMATCH",
            Reason::UnknownIssuer => "UNKNOWN_ISSUER",
            Reason::CaDisabled => "CA_DISABLED",
            Reason::CaExpired => "CA_EXPIRED",
            Reason::Expired => "EXPIRED",
            Reason::NotYetValid => "NOT_YET_VALID",
            Reason::BadSignature => "BAD_SIGNATURE",
            Reason::NotACa => "NOT_A_CA",
            Reason::KeyUsage => "KEY_USAGE",
            Reason::InvalidChain => "INVALID_CHAIN",
            Reason::Revoked => "REVOKED",
            Reason::RevocationUnknown => "REVOCATION_UNKNOWN",
            Reason::DeviceDisabled => "DEVICE_DISABLED",
            Reason::InvalidDeviceId => "INVALID_DEVICE_ID",
            Reason::PasswordDevice => "PASSWORD_DEVICE",
            Reason::NotRegistered => "NOT_REGISTERED",
            Reason::TooManyRefusals => "TOO_MANY_REFUSALS",
        }
    }

    /// Reads a code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// A short label for lists and charts.
    pub fn label(self) -> &'static str {
        match self {
            Reason::NoClientCertificate => "No client certificate",
            Reason::UnreadableCertificate => "Unreadable certificate",
            Reason::UnreadableChain => "Unreadable chain",
            Reason::HeaderChainMismatch => "Header chain does not match",
            Reason::UnknownIssuer => "Unknown issuer",
            Reason::CaDisabled => "CA disabled",
            Reason::CaExpired => "CA expired",
            Reason::Expired => "Expired",
            Reason::NotYetValid => "Not yet valid",
            Reason::BadSignature => "Bad signature",
            Reason::NotACa => "Not a CA",
            Reason::KeyUsage => "Key usage",
            Reason::InvalidChain => "Invalid chain",
            Reason::Revoked => "Revoked",
            Reason::RevocationUnknown => "Revocation status unknown",
            Reason::DeviceDisabled => "Device disabled",
            Reason::InvalidDeviceId => "Invalid device id",
            Reason::PasswordDevice => "Password device",
            Reason::NotRegistered => "Not registered",
            Reason::TooManyRefusals => "Too many refusals",
        }
    }

    /// What an operator can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Reason::NoClientCertificate => "Call the endpoint over mutual TLS with the device certificate and its key.",
            Reason::UnreadableCertificate => "The device certificate is not valid DER; issue it again.",
            Reason::UnreadableChain => "Send the chain as PEM certificates, at most 10, with line breaks as spaces.",
            Reason::HeaderChainMismatch => {
                "Put the device certificate first in X-Ssl-Cert-Chain, followed by its intermediates."
            }
            Reason::UnknownIssuer => "Upload the CA that issued the device's chain, or send the intermediates.",
            Reason::CaDisabled => "Enable the trusted certificate, if the devices it issued should connect.",
            Reason::CaExpired => "Upload the CA's renewed certificate.",
            Reason::Expired => "Renew the device certificate (or the expired intermediate).",
            Reason::NotYetValid => "Check the clocks of the device and of the CA that issued the certificate.",
            Reason::BadSignature => "The chain was tampered with or mixes certificates of different keys.",
            Reason::NotACa => "Only CA certificates (BasicConstraints CA:true) may sign others.",
            Reason::KeyUsage => "Issue the device certificate with extended key usage clientAuth.",
            Reason::InvalidChain => "Check path length and name constraints of the CAs in the chain.",
            Reason::Revoked => "The certificate was revoked: issue the device a new one.",
            Reason::RevocationUnknown => "Make the CRL distribution point reachable, or publish a fresh CRL.",
            Reason::DeviceDisabled => "Enable the device on the Devices page, if it should connect again.",
            Reason::InvalidDeviceId => "The certificate's CN is the device id: a non-empty CN without ':'.",
            Reason::PasswordDevice => "The device is registered with a password; register it for certificates.",
            Reason::NotRegistered => "Register the device with AUTH_TYPE=CERTIFICATES, or enable auto-registration.",
            Reason::TooManyRefusals => "Fix the cause of the earlier refusals; the address may retry later.",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The certificate a refused request presented, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedCertificate {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub serial_number_in_hex: Option<String>,
    /// SHA-1 of the DER, lowercase hex.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// SHA-256 of the DER, lowercase hex (recorded by versions that record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_fingerprint: Option<String>,
}

/// The audit details' key of the refused certificate's SHA-256 fingerprint (beside
/// `certificateFingerprint`, its SHA-1).
pub const SHA256_FINGERPRINT_KEY: &str = "certificateSha256Fingerprint";

/// A serial number kept as hex (any case, colons allowed, leading zeros or not) as `openssl x509
/// -serial` prints it: uppercase hex of whole bytes, no colons (`0A1B`). Anything that is not
/// hex is returned as it is.
pub fn openssl_serial(hex: &str) -> String {
    let digits: String = hex.trim().chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return hex.to_string();
    }
    let significant = digits.trim_start_matches('0');
    let mut out = significant.to_ascii_uppercase();
    if out.len() % 2 == 1 || out.is_empty() {
        out.insert(0, '0');
    }
    if out == "0" { "00".into() } else { out }
}

/// A record type of the audit log in words, for people: `DeviceAccessToken` → "Device access
/// token". Types this table does not know are shown as they are.
pub fn audit_type_label(record_type: &str) -> &str {
    AUDIT_TYPES.iter().find(|(t, _)| *t == record_type).map_or(record_type, |(_, label)| label)
}

/// The record types anchorage writes (the platform's names where it has one), with their
/// names for people, in the order the console offers them as filters.
pub const AUDIT_TYPES: [(&str, &str); 9] = [
    ("Tenant", "Trusted certificate"),
    ("DeviceAccessToken", "Device access token"),
    ("UserAuthentication", "Login"),
    ("User", "User"),
    ("Option", "Tenant option"),
    ("BulkRegistration", "Bulk registration"),
    ("DeviceRegistration", "Device registration"),
    ("ProvisionedCertificate", "Provisioned certificate"),
    ("TenantCertificateAuthority", "Tenant CA"),
];

/// One recorded refusal (or several identical ones, `count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusalRecord {
    pub id: String,
    pub time: String,
    /// `None` for records of a version that did not record reasons.
    #[serde(default)]
    pub reason: Option<Reason>,
    pub text: String,
    /// How many refusals the record stands for.
    pub count: u64,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub client_address: Option<String>,
    pub certificate: RefusedCertificate,
    #[serde(default)]
    pub trusted_certificate_fingerprint: Option<String>,
}

/// Refusals per reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonCount {
    #[serde(default)]
    pub reason: Option<Reason>,
    pub count: u64,
}

/// `GET /anchorage/refusals`: the last refusals of a device or a trusted certificate (or of the
/// tenant) and their counts per reason over the last 24 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusalSummary {
    pub refusals: Vec<RefusalRecord>,
    /// Start of the counting window (24 hours before the server's now).
    pub counts_since: String,
    pub counts: Vec<ReasonCount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
            assert_eq!(serde_json::to_value(r).expect("json"), serde_json::Value::String(r.code().into()));
        }
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert_eq!(Reason::from_code("nope"), None);
    }

    #[test]
    fn serials_read_as_openssl_prints_them() {
        assert_eq!(openssl_serial("a1b2"), "A1B2");
        assert_eq!(openssl_serial("1b2"), "01B2");
        assert_eq!(openssl_serial("00:ff:01"), "FF01");
        assert_eq!(openssl_serial("0"), "00");
        assert_eq!(openssl_serial("not hex"), "not hex");
    }

    #[test]
    fn audit_types_have_names() {
        assert_eq!(audit_type_label("UserAuthentication"), "Login");
        assert_eq!(audit_type_label("SomethingNew"), "SomethingNew");
    }
}
