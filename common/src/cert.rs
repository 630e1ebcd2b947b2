//! Certificate inspection and the rules that make a certificate acceptable as a trusted CA.
//!
//! [`inspect`] computes every field the platform returns for a trusted certificate, exactly as
//! the platform computes it, and evaluates each [`Rule`] against an injected `now`. The
//! console shows the outcome rule by rule; the server refuses the first failure with
//! [`Inspection::first_failure`]. Parsing never panics, whatever the input.

use num_bigint::BigInt;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Version;

use crate::{dn, timefmt};

/// Extensions anchorage understands and enforces when they are critical: those that the
/// device-side path validation (rustls-webpki) processes. Any other critical extension makes
/// a certificate unusable as a trust anchor, so it is refused at upload rather than at the
/// first device handshake.
pub const UNDERSTOOD_CRITICAL_EXTENSIONS: &[(&str, &str)] = &[
    ("2.5.29.14", "subjectKeyIdentifier"),
    ("2.5.29.15", "keyUsage"),
    ("2.5.29.17", "subjectAltName"),
    ("2.5.29.19", "basicConstraints"),
    ("2.5.29.30", "nameConstraints"),
    ("2.5.29.31", "cRLDistributionPoints"),
    ("2.5.29.35", "authorityKeyIdentifier"),
    ("2.5.29.37", "extKeyUsage"),
];

/// The rules a certificate must pass to be uploaded as a trusted certificate, in the order
/// they are checked and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The certificate is X.509 version 3.
    Version3,
    /// It carries `BasicConstraints` with `CA:true`.
    CaTrue,
    /// `now` lies within `notBefore..=notAfter`.
    InDate,
    /// Every critical extension is one anchorage understands.
    KnownCriticalExtensions,
}

impl Rule {
    /// Every rule, in display order.
    pub const ALL: [Rule; 4] = [Rule::Version3, Rule::CaTrue, Rule::InDate, Rule::KnownCriticalExtensions];

    /// A short label for the rule, as shown beside its outcome.
    pub fn label(self) -> &'static str {
        match self {
            Rule::Version3 => "X.509 version 3",
            Rule::CaTrue => "BasicConstraints CA:true",
            Rule::InDate => "Within its validity period",
            Rule::KnownCriticalExtensions => "No unknown critical extension",
        }
    }
}

/// The outcome of one rule for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub rule: Rule,
    pub passed: bool,
    /// What was found, in words (for a failure: why it fails and what is needed).
    pub detail: String,
}

/// Everything the platform computes from a certificate, plus what anchorage indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub der: Vec<u8>,
    /// Lowercase hex SHA-1 of the DER, 40 characters: the resource id.
    pub fingerprint: String,
    /// Decimal, signed as Java's `BigInteger.toString()`.
    pub serial_number: String,
    /// 1-based X.509 version (3 for v3).
    pub version: u32,
    /// Java's `getSigAlgName()` spelling, e.g. `SHA256withECDSA`.
    pub algorithm_name: String,
    /// Java's `X500Principal.toString()`, e.g. `OU=Test Device, O=Thin Edge, CN=tedge04`.
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// `BasicConstraints` CA flag (false when the extension is absent).
    pub is_ca: bool,
    /// The DER of the subject name, for issuer look-ups during path building.
    pub subject_der: Vec<u8>,
    /// The DER of the issuer name: the subject of the certificate that signed this one.
    pub issuer_der: Vec<u8>,
    /// Subject key identifier, lowercase hex, if the certificate has one.
    pub subject_key_id: Option<String>,
    /// Whether subject and issuer are the same name.
    pub self_issued: bool,
}

impl CertificateInfo {
    /// `notBefore` in the platform's format.
    pub fn not_before_text(&self) -> String {
        timefmt::platform(self.not_before)
    }
    /// `notAfter` in the platform's format.
    pub fn not_after_text(&self) -> String {
        timefmt::platform(self.not_after)
    }
    /// The certificate as the platform returns `certInPemFormat`: one line of base64 DER.
    pub fn cert_in_pem_format(&self) -> String {
        crate::pem::to_single_line_base64(&self.der)
    }
    /// Whole days from `now` until `notAfter` (negative once expired).
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }
}

/// A parsed certificate and the outcome of every [`Rule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub info: CertificateInfo,
    pub checks: Vec<CheckOutcome>,
}

impl Inspection {
    /// Whether every rule passed.
    pub fn acceptable(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
    /// The first failing rule, if any.
    pub fn first_failure(&self) -> Option<&CheckOutcome> {
        self.checks.iter().find(|c| !c.passed)
    }
}

/// The certificate could not be parsed as X.509 DER. `Display` gives the reason only; the
/// platform's message wraps it (see [`ParseError::platform_message`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    /// The platform's 422 message for an unparsable certificate.
    pub fn platform_message(&self) -> String {
        format!("Cannot parse X509 certificate. : Could not parse certificate: {}", self.0)
    }
}

/// Parses `der` and evaluates every rule at `now`.
pub fn inspect(der: &[u8], now: OffsetDateTime) -> Result<Inspection, ParseError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| ParseError(describe(&e)))?;
    if !rest.is_empty() {
        return Err(ParseError(format!("{} bytes of unexpected data after the certificate", rest.len())));
    }
    let der = &der[..der.len() - rest.len()];
    let info = info(der, &cert)?;
    let checks = Rule::ALL.iter().map(|&rule| check(rule, &cert, &info, now)).collect();
    Ok(Inspection { info, checks })
}

fn describe(e: &x509_parser::nom::Err<x509_parser::error::X509Error>) -> String {
    use x509_parser::nom::Err;
    match e {
        Err::Incomplete(_) => "the data ends before the certificate does".to_string(),
        Err::Error(e) | Err::Failure(e) => format!("invalid DER ({e})"),
    }
}

fn info(der: &[u8], cert: &X509Certificate<'_>) -> Result<CertificateInfo, ParseError> {
    let fingerprint = hex::encode(Sha1::digest(der));
    let serial_number = java_serial(cert.raw_serial());
    let validity = cert.validity();
    let subject_key_id = cert.iter_extensions().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(hex::encode(k.0)),
        _ => None,
    });
    let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    Ok(CertificateInfo {
        der: der.to_vec(),
        fingerprint,
        serial_number,
        version: cert.version().0.saturating_add(1),
        algorithm_name: java_algorithm_name(&cert.signature_algorithm.algorithm.to_id_string()),
        subject: dn::java_string(cert.subject()),
        issuer: dn::java_string(cert.issuer()),
        common_name: dn::common_name(cert.subject()),
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        is_ca,
        subject_der: cert.subject().as_raw().to_vec(),
        issuer_der: cert.issuer().as_raw().to_vec(),
        subject_key_id,
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
    })
}

fn check(rule: Rule, cert: &X509Certificate<'_>, info: &CertificateInfo, now: OffsetDateTime) -> CheckOutcome {
    let (passed, detail) = match rule {
        // x509-parser accepts any version number (even 7): compare with v3 explicitly.
        Rule::Version3 => {
            if cert.version() == X509Version::V3 {
                (true, "version 3".to_string())
            } else {
                (false, format!("it is X.509 version {}; only version 3 certificates can be trusted", info.version))
            }
        }
        Rule::CaTrue => match cert.basic_constraints() {
            Ok(Some(bc)) if bc.value.ca => {
                let len = bc.value.path_len_constraint.map(|n| format!(", pathlen:{n}")).unwrap_or_default();
                (true, format!("CA:true{len}"))
            }
            Ok(Some(_)) => (false, "its BasicConstraints say CA:false; it is not a CA certificate".to_string()),
            Ok(None) => {
                (false, "it has no BasicConstraints extension; a trusted certificate needs CA:true".to_string())
            }
            Err(e) => (false, format!("its BasicConstraints extension is invalid ({e})")),
        },
        Rule::InDate => {
            if now < info.not_before {
                (false, format!("it is not valid before {}", info.not_before_text()))
            } else if now > info.not_after {
                (false, format!("it expired on {}", info.not_after_text()))
            } else {
                (true, format!("valid until {}", info.not_after_text()))
            }
        }
        Rule::KnownCriticalExtensions => {
            let unknown: Vec<String> = cert
                .extensions()
                .iter()
                .filter(|e| e.critical)
                .map(|e| e.oid.to_id_string())
                .filter(|oid| !UNDERSTOOD_CRITICAL_EXTENSIONS.iter().any(|(o, _)| o == oid))
                .collect();
            if unknown.is_empty() {
                (true, "none".to_string())
            } else {
                (false, format!("it has a critical extension anchorage does not understand ({})", unknown.join(", ")))
            }
        }
    };
    CheckOutcome { rule, passed, detail }
}

/// The serial as Java's `BigInteger.toString()` prints it: decimal, two's complement sign
/// (x509-parser itself reads negative serials as positive).
pub fn java_serial(raw: &[u8]) -> String {
    BigInt::from_signed_bytes_be(raw).to_string()
}

/// Java's `getSigAlgName()` for a signature algorithm OID; unknown algorithms are shown as
/// their dotted OID, as Java does.
pub fn java_algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.2" => "MD2withRSA",
        "1.2.840.113549.1.1.4" => "MD5withRSA",
        "1.2.840.113549.1.1.5" => "SHA1withRSA",
        "1.2.840.113549.1.1.14" => "SHA224withRSA",
        "1.2.840.113549.1.1.11" => "SHA256withRSA",
        "1.2.840.113549.1.1.12" => "SHA384withRSA",
        "1.2.840.113549.1.1.13" => "SHA512withRSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.1" => "SHA1withECDSA",
        "1.2.840.10045.4.3.1" => "SHA224withECDSA",
        "1.2.840.10045.4.3.2" => "SHA256withECDSA",
        "1.2.840.10045.4.3.3" => "SHA384withECDSA",
        "1.2.840.10045.4.3.4" => "SHA512withECDSA",
        "1.2.840.10040.4.3" => "SHA1withDSA",
        "2.16.840.1.101.3.4.3.1" => "SHA224withDSA",
        "2.16.840.1.101.3.4.3.2" => "SHA256withDSA",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        other => return other.to_string(),
    }
    .to_string()
}

/// Why a certificate cannot be uploaded, with the message the API answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not decodable or not parsable; the message is the platform's.
    #[error("{0}")]
    Unparsable(String),
    /// Parsed, but a rule fails.
    #[error("Cannot add certificate - {detail}.")]
    Rule { rule: Rule, detail: String },
}

/// Decodes one certificate from `input` (PEM or bare base64) and applies every rule: the
/// server's check for `POST …/trusted-certificates`.
pub fn accept_one(input: &str, now: OffsetDateTime) -> Result<CertificateInfo, Rejection> {
    let ders = crate::pem::decode_certificates(input)
        .map_err(|e| Rejection::Unparsable(ParseError(e.to_string()).platform_message()))?;
    if ders.len() != 1 {
        return Err(Rejection::Unparsable(
            ParseError(format!(
                "the input holds {} certificates; send one per entry (use …/bulk for several)",
                ders.len()
            ))
            .platform_message(),
        ));
    }
    let inspection = inspect(&ders[0], now).map_err(|e| Rejection::Unparsable(e.platform_message()))?;
    match inspection.first_failure() {
        Some(f) => Err(Rejection::Rule { rule: f.rule, detail: f.detail.clone() }),
        None => Ok(inspection.info),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_signed_decimal_like_java_biginteger() {
        assert_eq!(java_serial(&[0x48, 0xe2, 0xe8, 0x05, 0x16, 0x00, 0x1e, 0x6c]), "5252015224009006700");
        assert_eq!(java_serial(&[0xff, 0x01]), "-255");
        assert_eq!(java_serial(&[0x00, 0xff]), "255");
    }

    #[test]
    fn algorithm_names_use_java_spelling() {
        assert_eq!(java_algorithm_name("1.2.840.10045.4.3.2"), "SHA256withECDSA");
        assert_eq!(java_algorithm_name("1.2.840.113549.1.1.11"), "SHA256withRSA");
        assert_eq!(java_algorithm_name("1.2.3.4"), "1.2.3.4");
    }
}
