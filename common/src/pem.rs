//! Decoding certificate input: PEM (one or a bundle) or bare base64 DER.
//!
//! Whitespace inside a PEM block may be line breaks or spaces, so the same decoder reads a
//! pasted file, a `certInPemFormat` field and the platform's `X-Ssl-Cert-Chain` header (PEM
//! with line breaks replaced by spaces).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Largest certificate input accepted, in bytes (a bundle of a few dozen certificates).
pub const MAX_INPUT_BYTES: usize = 512 * 1024;

/// Why input holds no usable certificate. Messages are written for the person who supplied it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("no certificate found in the input")]
    Empty,
    #[error("the input is larger than {} KiB", MAX_INPUT_BYTES / 1024)]
    TooLarge,
    #[error("found a PEM block of type \"{0}\"; expected CERTIFICATE")]
    WrongLabel(String),
    #[error("a PEM block \"-----BEGIN {0}-----\" has no matching END line")]
    Unterminated(String),
    /// A character outside base64 (`line` counts from 1 in the whole input).
    #[error("{}: line {line} has a character that is not base64 ({symbol:?})", if *.pem { "this is not a PEM certificate" } else { "this is neither a PEM certificate nor base64" })]
    NotBase64 { pem: bool, line: usize, symbol: char },
    /// Only base64 characters, but not a whole base64 text (cut off, extra or misplaced
    /// characters, padding in the middle).
    #[error("the base64 text is damaged: it is cut off, or has extra or misplaced characters")]
    Base64Damaged,
}

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// Decodes every certificate in `input`: PEM blocks in order of appearance, or, when the
/// input has no PEM header at all, one bare base64 DER certificate. Any other PEM block (a
/// private key pasted by mistake) is refused, naming it.
pub fn decode_certificates(input: &str) -> Result<Vec<Vec<u8>>, DecodeError> {
    decode(input, false)
}

/// [`decode_certificates`] for a device's own files, which often hold the certificate and its
/// private key together (as curl and OpenSSL accept): private-key blocks are skipped.
pub fn decode_certificates_beside_key(input: &str) -> Result<Vec<Vec<u8>>, DecodeError> {
    decode(input, true)
}

fn decode(input: &str, skip_keys: bool) -> Result<Vec<Vec<u8>>, DecodeError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(DecodeError::TooLarge);
    }
    let input = input.trim_start_matches('\u{feff}');
    if !input.contains(BEGIN) {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(DecodeError::Empty);
        }
        return decode_base64(&compact, input, 0, false).map(|der| vec![der]);
    }
    let mut out = Vec::new();
    let mut rest = input;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let label_end = after.find(DASHES).ok_or_else(|| DecodeError::Unterminated(String::new()))?;
        let label = after[..label_end].trim().to_string();
        let skipped = skip_keys && label.ends_with("PRIVATE KEY");
        if !skipped && label != "CERTIFICATE" && label != "X509 CERTIFICATE" && label != "TRUSTED CERTIFICATE" {
            return Err(DecodeError::WrongLabel(label));
        }
        let body_start = &after[label_end + DASHES.len()..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start.find(&end_marker).ok_or_else(|| DecodeError::Unterminated(label.clone()))?;
        if skipped {
            rest = &body_start[body_end + end_marker.len()..];
            continue;
        }
        let region = &body_start[..body_end];
        let body: String = region.chars().filter(|c| !c.is_whitespace()).collect();
        out.push(decode_base64(&body, input, input.len() - body_start.len(), true)?);
        rest = &body_start[body_end + end_marker.len()..];
    }
    if out.is_empty() { Err(DecodeError::Empty) } else { Ok(out) }
}

/// Decodes `s` (the base64 of one certificate, whitespace removed), which was read from
/// `input` starting at byte `from`; a failure says in words what is wrong, and where.
fn decode_base64(s: &str, input: &str, from: usize, pem: bool) -> Result<Vec<u8>, DecodeError> {
    let der = STANDARD.decode(s).or_else(|_| {
        // Some tools drop the padding; accept that, explain the input otherwise.
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| explain_base64(input, from, pem))
    })?;
    if der.is_empty() { Err(DecodeError::Empty) } else { Ok(der) }
}

/// Why the base64 text from byte `from` of `input` (up to its END line) does not decode: the
/// first character that is not base64, with its line, or that the text is damaged.
fn explain_base64(input: &str, from: usize, pem: bool) -> DecodeError {
    let rest = input.get(from..).unwrap_or_default();
    let region = if pem { rest.split("-----END").next().unwrap_or(rest) } else { rest };
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace();
    match region.char_indices().find(|&(_, c)| !is_base64(c)) {
        Some((at, symbol)) => {
            let line = input.get(..from + at).map_or(0, |before| before.matches('\n').count()) + 1;
            DecodeError::NotBase64 { pem, line, symbol }
        }
        None => DecodeError::Base64Damaged,
    }
}

/// The platform's output form of a certificate: base64 of the DER on one line, no header.
pub fn to_single_line_base64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

/// A PEM block with 64-character lines, for downloads and display.
pub fn to_pem(der: &[u8]) -> String {
    format!("-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----\n", base64_lines(der))
}

/// Base64 of `der` in lines of 64 characters, each ending with a line feed (PEM bodies, EST
/// bodies).
pub fn base64_lines(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 1);
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every 64-byte chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_device_file_may_hold_its_key_beside_the_certificate() {
        let cert = super::to_pem(b"not really DER but bytes");
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let both = format!("{key}{cert}{ec}");
        assert_eq!(super::decode_certificates_beside_key(&both).map(|c| c.len()), Ok(1));
        assert_eq!(
            super::decode_certificates(&both),
            Err(super::DecodeError::WrongLabel("PRIVATE KEY".into())),
            "uploads still refuse a key"
        );
        assert_eq!(super::decode_certificates_beside_key(key), Err(super::DecodeError::Empty));
    }

    use super::*;

    const DER: &[u8] = b"\x30\x03\x02\x01\x01";

    #[test]
    fn reads_pem_bundle_and_space_separated_header_form() {
        let one = to_pem(DER);
        let two = format!("junk before\n{one}\n{one}");
        assert_eq!(decode_certificates(&two).unwrap(), vec![DER.to_vec(), DER.to_vec()]);
        let header_form = one.replace('\n', " ");
        assert_eq!(decode_certificates(&header_form).unwrap(), vec![DER.to_vec()]);
        let crlf = one.replace('\n', "\r\n");
        assert_eq!(decode_certificates(&crlf).unwrap(), vec![DER.to_vec()]);
    }

    #[test]
    fn reads_bare_base64_with_or_without_padding() {
        let b64 = to_single_line_base64(DER);
        assert_eq!(decode_certificates(&b64).unwrap(), vec![DER.to_vec()]);
        assert_eq!(decode_certificates(b64.trim_end_matches('=')).unwrap(), vec![DER.to_vec()]);
    }

    #[test]
    fn refuses_keys_garbage_and_empty_input() {
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(decode_certificates(key), Err(DecodeError::WrongLabel("PRIVATE KEY".into())));
        assert_eq!(
            decode_certificates("not base64 !!"),
            Err(DecodeError::NotBase64 { pem: false, line: 1, symbol: '!' })
        );
        assert_eq!(decode_certificates("  \n"), Err(DecodeError::Empty));
        let open = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n";
        assert_eq!(decode_certificates(open), Err(DecodeError::Unterminated("CERTIFICATE".into())));
        assert_eq!(decode_certificates(&"A".repeat(MAX_INPUT_BYTES + 1)), Err(DecodeError::TooLarge));
    }

    #[test]
    fn base64_errors_say_what_and_where_in_words() {
        let mut lines: Vec<String> = to_pem(DER).lines().map(str::to_string).collect();
        lines.insert(1, "MAMC!AQE=".to_string());
        let text = format!("junk\n{}", lines.join("\n"));
        let e = decode_certificates(&text).unwrap_err();
        assert_eq!(e, DecodeError::NotBase64 { pem: true, line: 3, symbol: '!' });
        assert_eq!(e.to_string(), "this is not a PEM certificate: line 3 has a character that is not base64 ('!')");
        let damaged = "-----BEGIN CERTIFICATE-----\nMA=MCAQE\n-----END CERTIFICATE-----\n";
        assert_eq!(decode_certificates(damaged), Err(DecodeError::Base64Damaged));
        assert_eq!(
            decode_certificates("MAMC\nAQ*E").unwrap_err().to_string(),
            "this is neither a PEM certificate nor base64: line 2 has a character that is not base64 ('*')"
        );
    }
}
