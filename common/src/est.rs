//! The tenant's certificate authority and EST enrollment (RFC 7030 subset, the platform's
//! `/.well-known/est/*`): the rules the server, the device tool and the console share.
//!
//! - The CA: [`CA_VALIDITY`], renewable once less than [`CA_RENEWAL_WINDOW`] is left
//!   ([`ca_renewal_allowed`]).
//! - A device certificate: [`DEVICE_CERTIFICATE_VALIDITY`], capped at the CA's end
//!   ([`device_validity`]); its CN is the device's external id ([`check_csr_common_name`]).
//! - The request body: a base64 DER CSR, line breaks allowed ([`decode_csr`]).
//! - One-time passwords ([`check_otp`], [`otp_from_random`]).
//! - When a device renews: at a share of its certificate's lifetime ([`reenroll_at`]).

use time::{Duration, OffsetDateTime};
use x509_parser::prelude::FromDer as _;

/// `POST`: a first certificate, for Basic `<external id>:<one-time password>`.
pub const SIMPLE_ENROLL_PATH: &str = "/.well-known/est/simpleenroll";
/// `POST`: a new certificate, for a device authenticated by its current one (or its token).
pub const SIMPLE_REENROLL_PATH: &str = "/.well-known/est/simplereenroll";
/// `GET`: the tenant's CA certificates.
pub const CACERTS_PATH: &str = "/.well-known/est/cacerts";
/// The media type of an EST request body.
pub const PKCS10_MEDIA_TYPE: &str = "application/pkcs10";
/// The media type of an EST answer.
pub const CERTS_ONLY_MEDIA_TYPE: &str = "application/pkcs7-mime; smime-type=certs-only";

/// How long a tenant CA is valid when made or renewed.
pub const CA_VALIDITY: Duration = Duration::days(1095);
/// A CA can be renewed once it has less than this left (the platform's "< 24 months").
pub const CA_RENEWAL_WINDOW: Duration = Duration::days(730);
/// How long an issued device certificate is valid (at most: never past the CA's end).
pub const DEVICE_CERTIFICATE_VALIDITY: Duration = Duration::days(365);
/// The CA subject's country and organisation unless configured otherwise (the CN is the tenant).
pub const DEFAULT_CA_COUNTRY: &str = "United States";
pub const DEFAULT_CA_ORGANIZATION: &str = "Cumulocity";

/// Largest CSR body read (a 4096-bit RSA CSR in base64 is about 2 KB).
pub const MAX_CSR_BYTES: usize = 16 * 1024;
/// Shortest and longest one-time password accepted.
pub const OTP_MIN_CHARS: usize = 8;
pub const OTP_MAX_CHARS: usize = 128;
/// Length of a generated one-time password (as the platform's console makes them).
pub const OTP_GENERATED_CHARS: usize = 32;
/// How long a one-time password can be used unless the server is configured otherwise.
pub const DEFAULT_OTP_LIFESPAN_DAYS: u32 = 30;
/// By default a device renews its certificate once this share (per cent) of its lifetime has
/// passed: a year's certificate at about eight months, leaving four to retry.
pub const DEFAULT_REENROLL_PERCENT: u8 = 66;

/// The platform's answer to an unknown id, a wrong or used one-time password.
pub const MESSAGE_NO_REQUEST: &str =
    "No newDeviceRequest found for this ID. It may already be registered, check the audit logs for details.";
/// The platform's answer when the tenant has no CA that can sign.
pub const MESSAGE_CA_UNUSABLE: &str =
    "Tenant CA certificate is either missing, expired, or has a validity of less than one year";

/// The platform's refusal of `POST /certificate-authority/renew`.
pub fn renewal_refused(tenant: &str) -> String {
    format!("Certificate Authority is not found or not eligible for renewal for tenant {tenant}")
}

/// The audit text of a certificate issued by `simpleenroll` (the platform's, matched by its
/// console).
pub fn signed_audit_text(device_id: &str) -> String {
    format!("Tenant certificate authority(CA) signed certificate for device: {device_id}.")
}

/// The audit text of a certificate issued by `simplereenroll`.
pub fn resigned_audit_text(device_id: &str) -> String {
    format!("Tenant certificate authority(CA) re-signed certificate for device: {device_id}.")
}

/// Whether a CA ending at `not_after` can be renewed at `now`.
pub fn ca_renewal_allowed(not_after: OffsetDateTime, now: OffsetDateTime) -> bool {
    not_after - now < CA_RENEWAL_WINDOW
}

/// The validity of a device certificate issued at `now` by a CA ending at `ca_not_after`: a
/// year, capped at the CA's end; None when the CA has ended.
pub fn device_validity(now: OffsetDateTime, ca_not_after: OffsetDateTime) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let now = now.replace_nanosecond(0).unwrap_or(now);
    (ca_not_after > now).then(|| (now, (now + DEVICE_CERTIFICATE_VALIDITY).min(ca_not_after)))
}

/// Checks a one-time password: 8 to 128 visible ASCII characters (it travels as the password
/// of HTTP Basic and in CSV cells).
pub fn check_otp(otp: &str) -> Result<(), String> {
    let n = otp.chars().count();
    if n < OTP_MIN_CHARS {
        return Err(format!("the one-time password must have at least {OTP_MIN_CHARS} characters"));
    }
    if n > OTP_MAX_CHARS {
        return Err(format!("the one-time password must have at most {OTP_MAX_CHARS} characters"));
    }
    if !otp.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the one-time password may hold only visible ASCII characters (no spaces)".into());
    }
    Ok(())
}

/// The letters of a generated password: no `0 O 1 l I`, so it can be read out and typed.
const OTP_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A one-time password of [`OTP_GENERATED_CHARS`] characters (160 bits: 5 bits from each random
/// byte) from the caller's source of random bytes (the browser's or the server's).
pub fn otp_from_random(random: &[u8; OTP_GENERATED_CHARS]) -> String {
    random.iter().map(|b| char::from(OTP_ALPHABET[usize::from(b & 31)])).collect()
}

/// The DER of an EST request body: base64 (line breaks and spaces allowed), a PEM
/// `CERTIFICATE REQUEST`, or DER itself.
pub fn decode_csr(body: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    if body.len() > MAX_CSR_BYTES {
        return Err(format!("the certificate signing request is larger than {MAX_CSR_BYTES} bytes"));
    }
    // DER: a SEQUENCE with a long-form length (base64 text never holds bytes >= 0x80).
    if body.first() == Some(&0x30) && body.get(1).is_some_and(|b| *b >= 0x80) {
        return Ok(body.to_vec());
    }
    let text = std::str::from_utf8(body).map_err(|_| "the certificate signing request is not base64 text")?;
    let text = match text.find("-----BEGIN") {
        Some(start) => {
            let after = &text[start..];
            let body_start = after.find('\n').ok_or("the PEM certificate signing request has no body")?;
            let end = after.find("-----END").ok_or("the PEM certificate signing request has no END line")?;
            if end < body_start {
                return Err("the PEM certificate signing request has no body".into());
            }
            &after[body_start..end]
        }
        None => text,
    };
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("the request has no certificate signing request (send it as base64 DER)".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("the certificate signing request is not valid base64: {e}"))
}

/// What a CSR asks for, read without checking its signature (the server checks that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrSubject {
    /// The last CN of the subject.
    pub common_name: Option<String>,
    /// The subject as the platform writes names.
    pub subject: String,
}

/// Reads a DER CSR's subject.
pub fn csr_subject(der: &[u8]) -> Result<CsrSubject, String> {
    let (rest, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .map_err(|e| format!("the certificate signing request cannot be read: {e}"))?;
    if !rest.is_empty() {
        return Err("the certificate signing request has data after its end".into());
    }
    let subject = &csr.certification_request_info.subject;
    Ok(CsrSubject { common_name: crate::dn::common_name(subject), subject: crate::dn::java_string(subject) })
}

/// The CSR's CN must be the device's external id.
pub fn check_csr_common_name(common_name: Option<&str>, device_id: &str) -> Result<(), String> {
    match common_name {
        Some(cn) if cn == device_id => Ok(()),
        Some(cn) => Err(format!(
            "The certificate signing request's common name '{}' is not the device id '{}'.",
            crate::names::escape(cn),
            crate::names::escape(device_id)
        )),
        None => Err(format!(
            "The certificate signing request has no common name (CN); it must be the device id '{}'.",
            crate::names::escape(device_id)
        )),
    }
}

/// When a certificate valid from `not_before` to `not_after` (Unix seconds) is renewed: once
/// `percent` (1–99, else the default) of its lifetime has passed.
pub fn reenroll_at(not_before: i64, not_after: i64, percent: u8) -> i64 {
    let percent = if (1..=99).contains(&percent) { percent } else { DEFAULT_REENROLL_PERCENT };
    let (from, to) = (i128::from(not_before), i128::from(not_after.max(not_before)));
    let at = from + (to - from) * i128::from(percent) / 100;
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// The command that enrolls a device with `anchorage-device`, for the console to show. The
/// password goes in the environment (`ANCHORAGE_DEVICE_OTP`), not in the process list.
pub fn enroll_command(url: &str, device_id: &str, otp: &str) -> String {
    format!(
        "ANCHORAGE_DEVICE_OTP={} anchorage-device enroll --url {} --id {} --key device.key --cert device.crt",
        shell_quote(otp),
        shell_quote(url),
        shell_quote(device_id)
    )
}

/// The same with only `openssl` and `curl`: key, CSR, enrollment, and the certificate out of
/// the PKCS#7 answer.
pub fn openssl_curl_commands(url: &str, device_id: &str, otp: &str) -> String {
    let subject = shell_quote(&format!("/CN={device_id}"));
    let credentials = shell_quote(&format!("{device_id}:{otp}"));
    let enroll_url = shell_quote(&format!("{url}{SIMPLE_ENROLL_PATH}"));
    format!(
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj {subject} -outform DER | base64 > device.csr\n\
         curl --fail-with-body -u {credentials} -H 'Content-Type: application/pkcs10' --data-binary @device.csr {enroll_url} > device.p7\n\
         base64 -d device.p7 | openssl pkcs7 -inform DER -print_certs -out device.crt"
    )
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@%=,:/".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn ca_renewal_window_is_24_months() {
        let now = datetime!(2026-01-01 0:00 UTC);
        assert!(!ca_renewal_allowed(now + CA_VALIDITY, now), "a new CA");
        assert!(!ca_renewal_allowed(now + Duration::days(730), now), "exactly 24 months left");
        assert!(ca_renewal_allowed(now + Duration::days(729), now));
        assert!(ca_renewal_allowed(now - Duration::days(1), now), "an expired CA can be renewed");
    }

    #[test]
    fn device_certificates_last_a_year_capped_at_the_ca() {
        let now = datetime!(2026-01-01 0:00:00.5 UTC);
        let (nb, na) = device_validity(now, now + CA_VALIDITY).expect("valid");
        assert_eq!(nb, datetime!(2026-01-01 0:00 UTC));
        assert_eq!(na - nb, DEVICE_CERTIFICATE_VALIDITY);
        let ca_end = now + Duration::days(100);
        assert_eq!(device_validity(now, ca_end).expect("valid").1, ca_end);
        assert_eq!(device_validity(now, now - Duration::seconds(1)), None);
    }

    #[test]
    fn otps() {
        assert!(check_otp("short").is_err());
        assert!(check_otp("has a space").is_err());
        assert!(check_otp("ünicode-ünicode").is_err());
        assert!(check_otp(&"x".repeat(129)).is_err());
        assert!(check_otp("k3Y-9fQ2").is_ok());
        let otp = otp_from_random(&[255; OTP_GENERATED_CHARS]);
        assert_eq!(otp.len(), OTP_GENERATED_CHARS);
        assert!(check_otp(&otp).is_ok());
        assert_ne!(otp_from_random(&[0; 32]), otp_from_random(&[1; 32]));
    }

    fn csr(cn: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "Thin Edge");
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        params.serialize_request(&key).expect("csr").der().to_vec()
    }

    #[test]
    fn csr_bodies_in_every_form() {
        use base64::Engine as _;
        let der = csr("device-01");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let wrapped: String =
            b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join("\r\n");
        let pem = format!("-----BEGIN CERTIFICATE REQUEST-----\n{wrapped}\n-----END CERTIFICATE REQUEST-----\n");
        for body in [b64.as_bytes(), wrapped.as_bytes(), pem.as_bytes(), &der] {
            assert_eq!(decode_csr(body).expect("decoded"), der);
        }
        assert!(decode_csr(b"").is_err());
        assert!(decode_csr(b"not base64!").is_err());
        assert!(decode_csr(&vec![b'A'; MAX_CSR_BYTES + 1]).is_err());
        let s = csr_subject(&der).expect("subject");
        assert_eq!(s.common_name.as_deref(), Some("device-01"));
        assert!(s.subject.contains("O=Thin Edge"), "{}", s.subject);
        assert!(csr_subject(&der[..der.len() - 3]).is_err());
    }

    #[test]
    fn the_csr_cn_must_be_the_device_id() {
        assert!(check_csr_common_name(Some("device-01"), "device-01").is_ok());
        let e = check_csr_common_name(Some("device-02"), "device-01").expect_err("other");
        assert!(e.contains("'device-02' is not the device id 'device-01'"), "{e}");
        assert!(check_csr_common_name(None, "device-01").is_err());
    }

    #[test]
    fn reenrollment_time() {
        assert_eq!(reenroll_at(0, 300, 66), 198);
        assert_eq!(reenroll_at(0, 300, 0), 198, "out of range: the default");
        assert_eq!(reenroll_at(100, 50, 50), 100, "an inverted validity renews at once");
        assert!(reenroll_at(i64::MIN, i64::MAX, 99) > 0, "no overflow");
    }

    #[test]
    fn commands_quote_what_the_shell_would_split() {
        let c = enroll_command("https://a.example", "dev'1", "p w");
        assert!(
            c.starts_with(
                "ANCHORAGE_DEVICE_OTP='p w' anchorage-device enroll --url https://a.example --id 'dev'\\''1'"
            ),
            "{c}"
        );
        let o = openssl_curl_commands("http://localhost:8080", "device-01", "abcdefgh");
        assert!(o.contains("http://localhost:8080/.well-known"), "{o}");
        assert!(o.contains("-u device-01:abcdefgh"), "{o}");
        assert!(o.contains("http://localhost:8080/.well-known/est/simpleenroll"), "{o}");
    }
}
