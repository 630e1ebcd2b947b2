//! Proof of possession (PoP) of a trusted certificate's private key: what the console and the
//! server agree on.
//!
//! The server hands out a random verification code; the certificate's owner signs the code's
//! exact bytes with the certificate's private key and sends the signature back in base64. This
//! module holds the rule for reading that signature ([`read_signature`]), the kind of key a
//! certificate has ([`certificate_key`]), the openssl line that makes the signature
//! ([`openssl_sign_command`]), and the platform's messages.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::FromDer;

use crate::dn;

/// Random bytes in a verification code: 96, which base64 writes as 128 characters (the length
/// of the platform's OAS example).
pub const CODE_RANDOM_BYTES: usize = 96;
/// How long a verification code can be used after it is generated: one hour.
pub const CODE_TTL_SECONDS: i64 = 3600;
/// Longest submitted signature text accepted, in bytes (before whitespace is removed). Line
/// breaks every 64 characters included, the largest signature fits several times over.
pub const MAX_SIGNATURE_TEXT_BYTES: usize = 8 * 1024;
/// Largest decoded signature accepted, in bytes: an RSA-8192 signature (1024 bytes) is the
/// largest a certificate anchorage accepts can make.
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// The request field that carries the signature.
pub const SIGNED_CODE_FIELD: &str = "proofOfPossessionSignedVerificationCode";

/// The curve of an ECDSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    /// The curve's usual name.
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }
}

/// What kind of key a certificate has, as far as proving possession of it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA: signed with RSASSA-PKCS1-v1_5 and SHA-256.
    Rsa,
    /// ECDSA on a named curve: signed with SHA-256, the signature DER-encoded.
    Ecdsa(EcCurve),
    /// Ed25519: the raw code is signed (no separate digest).
    Ed25519,
    /// A key anchorage cannot check a proof with (ML-DSA, or a key stored before the upload
    /// rules refused it). An admin can confirm possession instead.
    Unsupported,
}

impl KeyKind {
    /// The key and the signature it makes, in words.
    pub fn describe(self) -> String {
        match self {
            KeyKind::Rsa => "RSA key: RSA PKCS #1 v1.5 signature with SHA-256".to_string(),
            KeyKind::Ecdsa(curve) => format!("ECDSA {} key: ECDSA signature with SHA-256", curve.name()),
            KeyKind::Ed25519 => "Ed25519 key: Ed25519 signature of the code itself".to_string(),
            KeyKind::Unsupported => "a key anchorage cannot check proofs of possession with".to_string(),
        }
    }
}

/// A certificate's public key: its kind and the bytes of its `subjectPublicKey` (an RSA
/// `RSAPublicKey` in DER, an EC point, or the 32 bytes of an Ed25519 key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateKey {
    pub kind: KeyKind,
    pub public_key: Vec<u8>,
}

/// The public key of the certificate `der`. `Err` when the certificate cannot be parsed.
pub fn certificate_key(der: &[u8]) -> Result<CertificateKey, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("the certificate cannot be parsed ({e})"))?;
    let spki = cert.public_key();
    let public_key = spki.subject_public_key.data.to_vec();
    let curve = || {
        let p = spki.algorithm.parameters.as_ref().filter(|p| p.tag() == Tag::Oid)?;
        match dn::oid_text(&p.as_oid().ok()?).as_str() {
            "1.2.840.10045.3.1.7" => Some(EcCurve::P256),
            "1.3.132.0.34" => Some(EcCurve::P384),
            "1.3.132.0.35" => Some(EcCurve::P521),
            _ => None,
        }
    };
    let kind = match dn::oid_text(&spki.algorithm.algorithm).as_str() {
        "1.2.840.113549.1.1.1" => KeyKind::Rsa,
        "1.2.840.10045.2.1" => curve().map_or(KeyKind::Unsupported, KeyKind::Ecdsa),
        "1.3.101.112" => KeyKind::Ed25519,
        _ => KeyKind::Unsupported,
    };
    Ok(CertificateKey { kind, public_key })
}

/// The kind of key of a certificate given as the API returns it (`certInPemFormat`: base64
/// DER, or PEM); [`KeyKind::Unsupported`] when it cannot be read.
pub fn key_kind_of(cert_in_pem_format: &str) -> KeyKind {
    crate::pem::decode_certificates(cert_in_pem_format)
        .ok()
        .and_then(|mut ders| ders.pop())
        .and_then(|der| certificate_key(&der).ok())
        .map_or(KeyKind::Unsupported, |k| k.kind)
}

/// Why a submitted signature cannot be read. `Display` is the message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{SIGNED_CODE_FIELD} is empty: send the base64 signature of the verification code")]
    Empty,
    #[error(
        "{SIGNED_CODE_FIELD} is too long ({0} bytes; at most {MAX_SIGNATURE_TEXT_BYTES}): send the base64 signature \
         of the verification code, not a file holding other things"
    )]
    TooLong(usize),
    #[error("{SIGNED_CODE_FIELD} is not base64 (standard alphabet, as `openssl base64 -A` writes it): {0}")]
    NotBase64(String),
    #[error(
        "{SIGNED_CODE_FIELD} decodes to {0} bytes, more than any signature anchorage checks ({MAX_SIGNATURE_BYTES} \
         bytes at most)"
    )]
    TooLarge(usize),
}

/// base64 with the standard alphabet; padding may be left out.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads a submitted signature: ASCII whitespace anywhere is dropped (a pasted file's line
/// breaks, `openssl base64` without `-A` wraps lines), the rest must be base64 with the
/// standard alphabet, of at most [`MAX_SIGNATURE_BYTES`] bytes. The text itself is bounded by
/// [`MAX_SIGNATURE_TEXT_BYTES`].
pub fn read_signature(text: &str) -> Result<Vec<u8>, SignatureError> {
    if text.len() > MAX_SIGNATURE_TEXT_BYTES {
        return Err(SignatureError::TooLong(text.len()));
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(SignatureError::Empty);
    }
    let bytes = BASE64.decode(compact.as_bytes()).map_err(|e| SignatureError::NotBase64(e.to_string()))?;
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(SignatureError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// The signature in an uploaded file: the file's text when it reads as a signature (base64,
/// as `… | openssl base64 -A` writes it), else, for a file holding the raw signature
/// (`openssl dgst -sign … -out <file>` without base64), its bytes in base64.
pub fn signature_from_file(bytes: &[u8]) -> Result<String, SignatureError> {
    if bytes.len() > MAX_SIGNATURE_TEXT_BYTES {
        return Err(SignatureError::TooLong(bytes.len()));
    }
    let as_text = std::str::from_utf8(bytes).map_err(|_| SignatureError::NotBase64("not text".to_string()));
    match as_text.and_then(|text| read_signature(text).map(|_| text)) {
        Ok(text) => Ok(text.trim().to_string()),
        Err(_) if !bytes.is_empty() && bytes.len() <= MAX_SIGNATURE_BYTES => Ok(BASE64_OUT.encode(bytes)),
        Err(e) => Err(e),
    }
}

/// base64 as it is sent: the standard alphabet, padded.
const BASE64_OUT: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The platform's message for a signature that does not verify (answered with 400).
pub fn wrong_code_message(tenant: &str, fingerprint: &str) -> String {
    format!(
        "Wrong proof of possession verification code used for tenant {tenant}. Certificate {fingerprint}, usage not \
         granted."
    )
}

/// The platform's message for a code used after its time (answered with 422).
pub fn expired_code_message(tenant: &str, fingerprint: &str) -> String {
    format!(
        "Proof of possession verification code used for tenant {tenant} expired. Certificate {fingerprint}, usage \
         not granted."
    )
}

/// anchorage's message when a proof is sent before any code was generated (answered with 422).
pub fn no_code_message(tenant: &str, fingerprint: &str) -> String {
    format!(
        "No proof of possession verification code was generated for tenant {tenant}. Certificate {fingerprint}, \
         usage not granted. Generate a verification code first, then sign it."
    )
}

/// anchorage's message when the certificate's key is one it cannot check a proof with
/// (answered with 422).
pub fn unsupported_key_message(fingerprint: &str) -> String {
    format!(
        "Certificate {fingerprint} has a key anchorage cannot check a proof of possession with (supported: RSA, \
         ECDSA on P-256, P-384 or P-521, Ed25519). An admin can confirm the proof of possession instead."
    )
}

/// Why enabling a certificate is refused while the tenant option
/// `configuration/trusted-certificates.pop.required.enabled` is `true` and its proof of
/// possession is not complete (answered with 422). `new` is for an upload with status ENABLED.
pub fn enable_refused_message(fingerprint: &str, new: bool) -> String {
    let option = format!("{}/{}", crate::options::CONFIGURATION, crate::options::POP_REQUIRED);
    if new {
        format!(
            "Cannot add certificate {fingerprint} as ENABLED: the tenant option {option} is true and a new \
             certificate has no proof of possession yet. Add it DISABLED, prove possession of its private key, then \
             enable it."
        )
    } else {
        format!(
            "Cannot enable certificate {fingerprint}: its proof of possession is not complete and the tenant option \
             {option} is true. Prove possession of its private key first."
        )
    }
}

/// A file name or path as one shell word: unchanged when it is made of safe characters, else
/// in single quotes (a `'` inside written `'\''`).
fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | ',' | ':' | '@' | '%');
    if !s.is_empty() && s.chars().all(safe) { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// The ready-to-run openssl line that signs the code in `code_file` with the private key in
/// `key_file` and prints the signature as one line of base64, for a certificate with a key of
/// `key`: `openssl dgst -sha256 -sign <key> <code file> | openssl base64 -A` for RSA and ECDSA
/// (the platform's documented line), and for Ed25519, which signs the message itself,
/// `openssl pkeyutl -sign -rawin -inkey <key> -in <code file> | openssl base64 -A` (OpenSSL
/// 3.0 or later). For a key anchorage cannot check, the Ed25519-style line (what OpenSSL uses
/// for algorithms without a separate digest); the console says such keys cannot be proven.
pub fn openssl_sign_command(key: KeyKind, code_file: &str, key_file: &str) -> String {
    let (code, key_path) = (shell_word(code_file), shell_word(key_file));
    match key {
        KeyKind::Rsa | KeyKind::Ecdsa(_) => format!("openssl dgst -sha256 -sign {key_path} {code} | openssl base64 -A"),
        KeyKind::Ed25519 | KeyKind::Unsupported => {
            format!("openssl pkeyutl -sign -rawin -inkey {key_path} -in {code} | openssl base64 -A")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_read_with_whitespace_dropped_and_bounded() {
        assert_eq!(read_signature("AQID").unwrap(), vec![1, 2, 3]);
        assert_eq!(read_signature("  AQ\r\nID \n").unwrap(), vec![1, 2, 3]);
        assert_eq!(read_signature("AQI=").unwrap(), vec![1, 2]);
        assert_eq!(read_signature("AQI").unwrap(), vec![1, 2]);
        assert_eq!(read_signature(" \n\t"), Err(SignatureError::Empty));
        assert!(matches!(read_signature("AQ-_"), Err(SignatureError::NotBase64(_))));
        assert!(matches!(read_signature("not base64!"), Err(SignatureError::NotBase64(_))));
        let long = "A".repeat(MAX_SIGNATURE_TEXT_BYTES + 1);
        assert_eq!(read_signature(&long), Err(SignatureError::TooLong(MAX_SIGNATURE_TEXT_BYTES + 1)));
        let big = BASE64.encode(vec![0u8; MAX_SIGNATURE_BYTES + 3]);
        assert_eq!(read_signature(&big), Err(SignatureError::TooLarge(MAX_SIGNATURE_BYTES + 3)));
        let largest = BASE64.encode(vec![7u8; MAX_SIGNATURE_BYTES]);
        assert_eq!(read_signature(&largest).unwrap().len(), MAX_SIGNATURE_BYTES);
    }

    #[test]
    fn a_file_holds_the_signature_as_base64_or_raw() {
        assert_eq!(signature_from_file(b"AQID\n").unwrap(), "AQID");
        let raw = [0x30u8, 0x45, 0x02, 0x21, 0x00, 0xff, 0xfe];
        assert_eq!(signature_from_file(&raw).unwrap(), BASE64_OUT.encode(raw));
        assert_eq!(read_signature(&signature_from_file(&raw).unwrap()).unwrap(), raw);
        assert_eq!(signature_from_file(b""), Err(SignatureError::Empty));
        assert!(matches!(signature_from_file(&[0u8; MAX_SIGNATURE_BYTES + 1]), Err(SignatureError::NotBase64(_))));
        assert!(matches!(
            signature_from_file(&vec![b'A'; MAX_SIGNATURE_TEXT_BYTES + 1]),
            Err(SignatureError::TooLong(_))
        ));
    }

    #[test]
    fn messages_are_the_platforms() {
        assert_eq!(
            wrong_code_message("t1", "ab"),
            "Wrong proof of possession verification code used for tenant t1. Certificate ab, usage not granted."
        );
        assert_eq!(
            expired_code_message("t1", "ab"),
            "Proof of possession verification code used for tenant t1 expired. Certificate ab, usage not granted."
        );
        assert!(
            enable_refused_message("ab", false).contains("configuration/trusted-certificates.pop.required.enabled")
        );
    }

    #[test]
    fn openssl_lines_per_key_kind() {
        assert_eq!(
            openssl_sign_command(KeyKind::Rsa, "My_CA.txt", "private.key"),
            "openssl dgst -sha256 -sign private.key My_CA.txt | openssl base64 -A"
        );
        assert_eq!(
            openssl_sign_command(KeyKind::Ecdsa(EcCurve::P384), "code.txt", "ca key.pem"),
            "openssl dgst -sha256 -sign 'ca key.pem' code.txt | openssl base64 -A"
        );
        assert_eq!(
            openssl_sign_command(KeyKind::Ed25519, "it's.txt", "k.pem"),
            r"openssl pkeyutl -sign -rawin -inkey k.pem -in 'it'\''s.txt' | openssl base64 -A"
        );
    }

    fn key_of(alg: &'static rcgen::SignatureAlgorithm) -> KeyKind {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["x".to_string()]).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        let k = certificate_key(cert.der()).unwrap();
        assert_eq!(key_kind_of(&cert.pem()), k.kind);
        assert_eq!(key_kind_of(&crate::pem::to_single_line_base64(cert.der())), k.kind);
        assert_eq!(k.public_key, key.public_key_raw());
        k.kind
    }

    #[test]
    fn key_kinds_come_from_the_certificate() {
        assert_eq!(key_of(&rcgen::PKCS_ECDSA_P256_SHA256), KeyKind::Ecdsa(EcCurve::P256));
        assert_eq!(key_of(&rcgen::PKCS_ECDSA_P384_SHA384), KeyKind::Ecdsa(EcCurve::P384));
        assert_eq!(key_of(&rcgen::PKCS_ED25519), KeyKind::Ed25519);
        assert_eq!(key_kind_of("not a certificate"), KeyKind::Unsupported);
        assert!(certificate_key(b"\x30\x03\x02\x01\x01").is_err());
    }
}
