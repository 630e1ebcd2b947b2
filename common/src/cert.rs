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
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo, X509Version};

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
    /// Its public key is one the device-side chain verification can check signatures with
    /// (see [`SUPPORTED_KEYS`]).
    UsableKey,
    /// It is signed with an algorithm the device-side chain verification accepts (see
    /// [`SUPPORTED_SIGNATURES`]).
    SupportedSignature,
}

impl Rule {
    /// Every rule, in display order.
    pub const ALL: [Rule; 6] = [
        Rule::Version3,
        Rule::CaTrue,
        Rule::InDate,
        Rule::KnownCriticalExtensions,
        Rule::UsableKey,
        Rule::SupportedSignature,
    ];

    /// A short label for the rule, as shown beside its outcome.
    pub fn label(self) -> &'static str {
        match self {
            Rule::Version3 => "X.509 version 3",
            Rule::CaTrue => "BasicConstraints CA:true",
            Rule::InDate => "Within its validity period",
            Rule::KnownCriticalExtensions => "No unknown critical extension",
            Rule::UsableKey => "A key devices' chains can be verified with",
            Rule::SupportedSignature => "A supported signature algorithm",
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
    /// Lowercase hex without leading zeros, as revocation entries are kept
    /// ([`crate::crl::serial_hex`]).
    pub serial_hex: String,
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

/// The SHA-256 fingerprint of a certificate's DER, in lowercase hex like the platform's SHA-1
/// `fingerprint` (`openssl x509 -fingerprint -sha256` prints the same digits, uppercase, with
/// colons).
pub fn sha256_fingerprint(der: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(der))
}

/// A serial number as `openssl x509 -serial` prints it: uppercase hex, whole bytes, from the
/// lowercase hex of [`CertificateInfo::serial_hex`].
pub fn openssl_serial(serial_hex: &str) -> String {
    let upper = serial_hex.to_ascii_uppercase();
    if upper.len() % 2 == 1 { format!("0{upper}") } else { upper }
}

/// Why bytes that are not an X.509 certificate's DER could not be parsed, in words (the
/// parser's own texts, such as "BER error: Unexpected Tag", name its internals).
pub const NOT_DER: &str = "this is not a certificate (its DER could not be read)";

fn describe(e: &x509_parser::nom::Err<x509_parser::error::X509Error>) -> String {
    use x509_parser::nom::Err;
    match e {
        Err::Incomplete(_) => "the data ends before the certificate does".to_string(),
        Err::Error(_) | Err::Failure(_) => NOT_DER.to_string(),
    }
}

fn info(der: &[u8], cert: &X509Certificate<'_>) -> Result<CertificateInfo, ParseError> {
    let fingerprint = hex::encode(Sha1::digest(der));
    let serial_number = java_serial(cert.raw_serial());
    let serial_hex = crate::crl::serial_hex(cert.raw_serial());
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
        serial_hex,
        version: cert.version().0.saturating_add(1),
        algorithm_name: java_algorithm_name(&dn::oid_text(&cert.signature_algorithm.algorithm)),
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
                .map(|e| dn::oid_text(&e.oid))
                .filter(|oid| !UNDERSTOOD_CRITICAL_EXTENSIONS.iter().any(|(o, _)| o == oid))
                .collect();
            if unknown.is_empty() {
                (true, "none".to_string())
            } else {
                (false, format!("it has a critical extension anchorage does not understand ({})", unknown.join(", ")))
            }
        }
        Rule::UsableKey => match key_verdict(cert.public_key()) {
            Ok(found) => (true, found),
            Err(why) => (false, why),
        },
        Rule::SupportedSignature => match signature_verdict(&cert.signature_algorithm) {
            Ok(found) => (true, found),
            Err(why) => (false, why),
        },
    };
    CheckOutcome { rule, passed, detail }
}

/// The public keys the device-side chain verification (rustls-webpki 0.103 with the
/// aws-lc-rs provider, `server/src/device_trust.rs`) can verify a device chain's signatures
/// with, in words.
pub const SUPPORTED_KEYS: &str = "RSA of 2048 to 8192 bits, ECDSA on P-256, P-384 or P-521, Ed25519, ML-DSA";

/// The signature algorithms that verification accepts, in words.
pub const SUPPORTED_SIGNATURES: &str =
    "RSA (PKCS #1 v1.5 or PSS) and ECDSA with SHA-256, SHA-384 or SHA-512, Ed25519, ML-DSA";

/// What to use instead of a key the verification cannot use.
const USE_INSTEAD: &str = "Use ECDSA P-256 or P-384, Ed25519, or RSA of 2048 bits or more";

/// What refusing a CA's key means, in words.
const REFUSED_CHAINS: &str = "devices' chains would be refused";

/// Smallest and largest RSA modulus aws-lc-rs verifies with (`RSA_PKCS1_2048_8192_*`,
/// `RSA_PSS_2048_8192_*`), in bits.
pub const RSA_BITS: std::ops::RangeInclusive<u32> = 2048..=8192;

/// Can the device-side verification check signatures with `spki`? `Ok` says what the key is,
/// `Err` why it cannot, in words. webpki compares the key's algorithm identifier byte for
/// byte with its own (`rsaEncryption` with NULL parameters, `id-ecPublicKey` with a named
/// curve, `id-Ed25519` and `id-ML-DSA-*` without parameters), and aws-lc-rs then checks the
/// key itself.
fn key_verdict(spki: &SubjectPublicKeyInfo<'_>) -> Result<String, String> {
    let alg = &spki.algorithm;
    let oid = dn::oid_text(&alg.algorithm);
    let key = spki.subject_public_key.data.as_ref();
    let params_absent = alg.parameters.is_none();
    match oid.as_str() {
        "1.2.840.113549.1.1.1" => {
            if !alg.parameters.as_ref().is_some_and(|p| p.tag() == Tag::Null && p.data.is_empty()) {
                return Err(format!(
                    "its RSA key's algorithm identifier does not carry the NULL parameters RFC 3279 requires, \
                     which devices' chain verification insists on: {REFUSED_CHAINS}"
                ));
            }
            rsa_verdict(key)
        }
        "1.2.840.10045.2.1" => {
            let curve = match &alg.parameters {
                Some(p) if p.tag() == Tag::Oid => p.as_oid().map(|o| dn::oid_text(&o)).unwrap_or_default(),
                Some(p) if p.tag() == Tag::Sequence => {
                    return Err(format!(
                        "its elliptic-curve key spells out its curve's parameters instead of naming the curve, \
                         which devices' chain verification does not support: {REFUSED_CHAINS}. \
                         Use a key on a named curve (P-256, P-384 or P-521)"
                    ));
                }
                _ => {
                    return Err(format!("its elliptic-curve key does not name its curve: {REFUSED_CHAINS}"));
                }
            };
            let field_bytes = match curve.as_str() {
                "1.2.840.10045.3.1.7" => 32,
                "1.3.132.0.34" => 48,
                "1.3.132.0.35" => 66,
                other => {
                    return Err(format!(
                        "its elliptic-curve key is on the curve {}, which devices' chain verification does not \
                         support: {REFUSED_CHAINS}. Use a key on P-256 or P-384 (or P-521)",
                        curve_name(other)
                    ));
                }
            };
            let name = curve_name(&curve);
            match key.first() {
                Some(0x04) if key.len() == 1 + 2 * field_bytes => Ok(format!("ECDSA {name}")),
                Some(0x02 | 0x03) if key.len() == 1 + field_bytes => Ok(format!("ECDSA {name} (compressed point)")),
                _ => Err(format!("its {name} public key is not a valid point encoding: {REFUSED_CHAINS}")),
            }
        }
        "1.3.101.112" if params_absent && key.len() == 32 => Ok("Ed25519".to_string()),
        "1.3.101.112" => Err(format!("its Ed25519 public key is malformed: {REFUSED_CHAINS}")),
        "2.16.840.1.101.3.4.3.17" | "2.16.840.1.101.3.4.3.18" | "2.16.840.1.101.3.4.3.19" => {
            let (name, len) = match oid.as_str() {
                "2.16.840.1.101.3.4.3.17" => ("ML-DSA-44", 1312),
                "2.16.840.1.101.3.4.3.18" => ("ML-DSA-65", 1952),
                _ => ("ML-DSA-87", 2592),
            };
            if params_absent && key.len() == len {
                Ok(name.to_string())
            } else {
                Err(format!("its {name} public key is malformed: {REFUSED_CHAINS}"))
            }
        }
        "1.2.840.113549.1.1.10" => Err(format!(
            "its key is an RSA-PSS key (id-RSASSA-PSS), which devices' chain verification does not support: \
             {REFUSED_CHAINS}. Use an ordinary RSA key (rsaEncryption) of 2048 bits or more, which can still sign \
             with PSS"
        )),
        "1.3.101.113" => Err(format!(
            "its key is an Ed448 key, which devices' chain verification does not support: {REFUSED_CHAINS}. \
             {USE_INSTEAD}"
        )),
        "1.2.840.10040.4.1" => Err(format!(
            "its key is a DSA key, which devices' chain verification does not support: {REFUSED_CHAINS}. \
             {USE_INSTEAD}"
        )),
        "1.3.101.110" | "1.3.101.111" | "1.3.132.1.12" | "1.3.132.1.13" | "1.2.840.113549.1.1.7" => Err(format!(
            "its key ({}) can only agree or encrypt keys, not verify signatures: {REFUSED_CHAINS}. {USE_INSTEAD}",
            key_algorithm_name(&oid)
        )),
        _ => Err(format!(
            "its public key algorithm ({}) is not one devices' chain verification supports: {REFUSED_CHAINS}. \
             {USE_INSTEAD}",
            key_algorithm_name(&oid)
        )),
    }
}

/// The RSA rules of aws-lc-rs: a modulus of 2048 to 8192 bits, odd (a valid RSA modulus),
/// and an odd public exponent of at least 3 and at most 33 bits.
fn rsa_verdict(key: &[u8]) -> Result<String, String> {
    let unreadable = || format!("its RSA public key cannot be read: {REFUSED_CHAINS}");
    let Ok((_, rsa)) = RSAPublicKey::from_der(key) else {
        return Err(unreadable());
    };
    // Positive integers, without the sign byte DER puts before a high bit.
    let magnitude = |bytes: &[u8]| -> Option<Vec<u8>> {
        if bytes.first().is_none_or(|b| b & 0x80 != 0) {
            return None;
        }
        Some(bytes.iter().copied().skip_while(|b| *b == 0).collect())
    };
    let (Some(n), Some(e)) = (magnitude(rsa.modulus), magnitude(rsa.exponent)) else {
        return Err(unreadable());
    };
    let bits =
        |v: &[u8]| -> u64 { v.first().map_or(0, |b| (v.len() as u64 - 1) * 8 + u64::from(8 - b.leading_zeros())) };
    let n_bits = bits(&n);
    if n_bits < u64::from(*RSA_BITS.start()) {
        return Err(format!(
            "its RSA key of {n_bits} bits is too weak: {REFUSED_CHAINS}. Use a key of {} bits or more",
            RSA_BITS.start()
        ));
    }
    if n_bits > u64::from(*RSA_BITS.end()) {
        return Err(format!(
            "its RSA key of {n_bits} bits is larger than devices' chain verification accepts ({} bits at most): \
             {REFUSED_CHAINS}. Use a key of {} to {} bits",
            RSA_BITS.end(),
            RSA_BITS.start(),
            RSA_BITS.end()
        ));
    }
    if n.last().is_none_or(|b| b & 1 == 0) {
        return Err(format!("its RSA modulus is even, so it is not a valid RSA key: {REFUSED_CHAINS}"));
    }
    let e_bits = bits(&e);
    if !(2..=33).contains(&e_bits) || e.last().is_none_or(|b| b & 1 == 0) {
        let shown = if e_bits <= 64 {
            e.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)).to_string()
        } else {
            format!("of {e_bits} bits")
        };
        return Err(format!(
            "its RSA public exponent {shown} is not one devices' chain verification accepts (an odd number from 3 \
             to 2^33 - 1; 65537 is usual): {REFUSED_CHAINS}"
        ));
    }
    Ok(format!("RSA {n_bits} bits"))
}

/// A curve's usual name, or its OID.
fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.132.0.33" => "P-224",
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.156.10197.1.301" => "SM2",
        other => return format!("with OID {other}"),
    }
    .to_string()
}

/// A key algorithm's usual name, or its OID.
fn key_algorithm_name(oid: &str) -> String {
    match oid {
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.132.1.12" => "ECDH",
        "1.3.132.1.13" => "ECMQV",
        "1.2.840.113549.1.1.7" => "RSAES-OAEP",
        "1.2.643.2.2.19" | "1.2.643.7.1.1.1.1" | "1.2.643.7.1.1.1.2" => "GOST R 34.10",
        other => return format!("OID {other}"),
    }
    .to_string()
}

/// Does the device-side verification accept the algorithm `alg` the certificate is signed
/// with? webpki never checks a trust anchor's own signature, so this is a rule about the CA
/// rather than about this one signature: a CA signed with SHA-1 or MD5 is a CA that signs
/// that way, and every chain it signs so would be refused.
fn signature_verdict(alg: &AlgorithmIdentifier<'_>) -> Result<String, String> {
    let oid = dn::oid_text(&alg.algorithm);
    let name = java_algorithm_name(&oid);
    let null_or_absent = alg.parameters.as_ref().is_none_or(|p| p.tag() == Tag::Null && p.data.is_empty());
    let reissue = "Re-issue the CA signed with SHA-256 or stronger";
    let broken = |hash: &str, words: &str| {
        Err(format!(
            "it is signed with {name}: {hash} signatures are {words} and devices' chain verification refuses \
             them, so certificates this CA signs the same way would be refused. {reissue}"
        ))
    };
    let unsupported = || {
        Err(format!(
            "it is signed with {name}, which devices' chain verification does not support, so certificates this CA \
             signs the same way would be refused. Supported: {SUPPORTED_SIGNATURES}"
        ))
    };
    match oid.as_str() {
        "1.2.840.113549.1.1.11" | "1.2.840.113549.1.1.12" | "1.2.840.113549.1.1.13" if null_or_absent => {
            Ok(format!("signed with {name}"))
        }
        "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3"
        | "1.2.840.10045.4.3.4"
        | "1.3.101.112"
        | "2.16.840.1.101.3.4.3.17"
        | "2.16.840.1.101.3.4.3.18"
        | "2.16.840.1.101.3.4.3.19"
            if alg.parameters.is_none() =>
        {
            Ok(format!("signed with {name}"))
        }
        "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12"
        | "1.2.840.113549.1.1.13"
        | "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3"
        | "1.2.840.10045.4.3.4"
        | "1.3.101.112"
        | "2.16.840.1.101.3.4.3.17"
        | "2.16.840.1.101.3.4.3.18"
        | "2.16.840.1.101.3.4.3.19" => Err(format!(
            "its signature algorithm identifier ({name}) carries parameters devices' chain verification does not \
             accept, so certificates this CA signs the same way would be refused"
        )),
        "1.2.840.113549.1.1.10" => {
            // RSASSA-PSS: its hash is in the parameters (SHA-1 when they are absent).
            let hash = alg
                .parameters
                .as_ref()
                .and_then(|p| RsaSsaPssParams::try_from(p).ok())
                .map(|p| dn::oid_text(p.hash_algorithm_oid()));
            let hash = match (&alg.parameters, hash) {
                (None, _) => Some("1.3.14.3.2.26".to_string()),
                (Some(_), h) => h,
            };
            match hash.as_deref() {
                Some("2.16.840.1.101.3.4.2.1") => Ok("signed with RSASSA-PSS and SHA-256".to_string()),
                Some("2.16.840.1.101.3.4.2.2") => Ok("signed with RSASSA-PSS and SHA-384".to_string()),
                Some("2.16.840.1.101.3.4.2.3") => Ok("signed with RSASSA-PSS and SHA-512".to_string()),
                Some("1.3.14.3.2.26") => broken("SHA-1", "no longer secure"),
                _ => unsupported(),
            }
        }
        "1.2.840.113549.1.1.2" | "1.2.840.113549.1.1.4" => {
            broken(if oid.ends_with('2') { "MD2" } else { "MD5" }, "broken")
        }
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" | "1.3.14.3.2.29" => {
            broken("SHA-1", "no longer secure")
        }
        _ => unsupported(),
    }
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
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(sha256_fingerprint(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_fingerprint(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(sha256_fingerprint(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assert_eq!(openssl_serial("1a2b3"), "01A2B3");
        assert_eq!(openssl_serial("ff"), "FF");
    }

    #[test]
    fn parse_errors_are_words_without_the_parser_internals() {
        let e = inspect(&[0x30, 0x03, 0x02, 0x01, 0x01], OffsetDateTime::now_utc()).unwrap_err();
        assert_eq!(e.to_string(), "this is not a certificate (its DER could not be read)");
        let e = inspect(&[0x04, 0x01, 0x00], OffsetDateTime::now_utc()).unwrap_err();
        assert_eq!(e.to_string(), NOT_DER);
    }

    #[test]
    fn algorithm_names_use_java_spelling() {
        assert_eq!(java_algorithm_name("1.2.840.10045.4.3.2"), "SHA256withECDSA");
        assert_eq!(java_algorithm_name("1.2.840.113549.1.1.11"), "SHA256withRSA");
        assert_eq!(java_algorithm_name("1.2.3.4"), "1.2.3.4");
    }
}
