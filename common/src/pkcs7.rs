//! PKCS#7 "certs-only" (RFC 5652 SignedData with no signers, RFC 7030 §4.1.3): how EST carries
//! certificates. [`certs_only`] writes one in DER; [`certificates`] reads one in BER, as the
//! platform sends it (indefinite lengths), or DER.

/// `1.2.840.113549.1.7.2` signedData.
const SIGNED_DATA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// `1.2.840.113549.1.7.1` data.
const DATA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// Most certificates read from one PKCS#7 (EST answers hold one to a few).
pub const MAX_CERTIFICATES: usize = 16;

/// Appends a DER length (also used by `dn` to write values back).
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// A DER element: `tag`, then its length and `content`.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A certs-only SignedData (DER) holding `certificates` (each a DER certificate), in order.
pub fn certs_only(certificates: &[&[u8]]) -> Vec<u8> {
    let certs: Vec<u8> = certificates.concat();
    let signed_data = [
        tlv(0x02, &[0x01]), // version 1
        tlv(0x31, &[]),     // digestAlgorithms: none
        tlv(0x30, DATA),    // encapContentInfo: data, no content
        tlv(0xa0, &certs),  // certificates [0] IMPLICIT
        tlv(0x31, &[]),     // signerInfos: none
    ]
    .concat();
    let content = [SIGNED_DATA, &tlv(0xa0, &tlv(0x30, &signed_data))].concat();
    tlv(0x30, &content)
}

/// One BER element read from the front of some bytes.
struct Element<'a> {
    tag: u8,
    /// The content (for an indefinite length: up to, not including, the end-of-contents).
    content: &'a [u8],
    /// The whole element, header included.
    whole: &'a [u8],
}

/// Reads the element at the start of `input`; `depth` bounds nesting (an indefinite length
/// needs its content walked to find the end).
fn element(input: &[u8], depth: u8) -> Result<(Element<'_>, &[u8]), String> {
    if depth > 16 {
        return Err("the PKCS#7 structure nests too deeply".into());
    }
    let (&tag, rest) = input.split_first().ok_or("the PKCS#7 structure ends early")?;
    if tag & 0x1f == 0x1f {
        return Err("the PKCS#7 structure uses a high tag number".into());
    }
    let (&first, rest) = rest.split_first().ok_or("the PKCS#7 structure ends early")?;
    let header_len = input.len() - rest.len();
    if first == 0x80 {
        // Indefinite: constructed content, elements until 00 00.
        if tag & 0x20 == 0 {
            return Err("the PKCS#7 structure has an indefinite length on a primitive element".into());
        }
        let mut inner = rest;
        loop {
            if inner.starts_with(&[0, 0]) {
                let content_len = rest.len() - inner.len();
                let content = &rest[..content_len];
                let total = header_len + content_len + 2;
                return Ok((Element { tag, content, whole: &input[..total] }, &inner[2..]));
            }
            let (_, after) = element(inner, depth + 1)?;
            inner = after;
        }
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 || rest.len() < n {
            return Err("the PKCS#7 structure has an invalid length".into());
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("the PKCS#7 structure ends early".into());
    }
    let header_len = input.len() - rest.len();
    Ok((Element { tag, content: &rest[..len], whole: &input[..header_len + len] }, &rest[len..]))
}

/// The elements of a constructed element's content.
fn children(content: &[u8], depth: u8) -> Result<Vec<Element<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (e, after) = element(rest, depth)?;
        out.push(e);
        rest = after;
    }
    Ok(out)
}

/// The certificates (DER, in order) of a certs-only PKCS#7 in BER or DER. Certificates in
/// indefinite-length encoding are refused (no CA writes them; a DER certificate is what every
/// consumer needs).
pub fn certificates(ber: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let (info, _) = element(ber, 0)?;
    if info.tag != 0x30 {
        return Err("not a PKCS#7 structure (no ContentInfo sequence)".into());
    }
    let parts = children(info.content, 1)?;
    match parts.first() {
        Some(oid) if oid.whole == SIGNED_DATA => {}
        _ => return Err("not a PKCS#7 SignedData".into()),
    }
    let explicit = parts.get(1).filter(|e| e.tag == 0xa0).ok_or("the PKCS#7 SignedData has no content")?;
    let signed = children(explicit.content, 2)?;
    let signed = signed.first().filter(|e| e.tag == 0x30).ok_or("the PKCS#7 SignedData has no content")?;
    let fields = children(signed.content, 3)?;
    let Some(certs) = fields.iter().find(|e| e.tag == 0xa0) else {
        return Err("the PKCS#7 structure holds no certificates".into());
    };
    let certs = children(certs.content, 4)?;
    if certs.len() > MAX_CERTIFICATES {
        return Err(format!(
            "the PKCS#7 structure holds {} certificates; at most {MAX_CERTIFICATES} are read",
            certs.len()
        ));
    }
    let mut out = Vec::with_capacity(certs.len());
    for c in certs {
        if c.tag != 0x30 || c.whole.get(1) == Some(&0x80) {
            return Err("the PKCS#7 structure holds a certificate that is not DER".into());
        }
        out.push(c.whole.to_vec());
    }
    if out.is_empty() {
        return Err("the PKCS#7 structure holds no certificates".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        rcgen::CertificateParams::new(vec![name.to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert")
            .der()
            .to_vec()
    }

    #[test]
    fn round_trips_and_is_read_by_x509_parsers() {
        let (a, b) = (cert("a.example"), cert("b.example"));
        let der = certs_only(&[&a, &b]);
        assert_eq!(certificates(&der).expect("read"), vec![a.clone(), b]);
        // A single big certificate needs long-form lengths throughout.
        let one = certs_only(&[&a]);
        assert_eq!(certificates(&one).expect("read"), vec![a]);
    }

    #[test]
    fn reads_the_platforms_indefinite_length_encoding() {
        let a = cert("device-01");
        // As the platform writes it: ContentInfo, [0] and SignedData with indefinite lengths.
        let signed = [
            tlv(0x02, &[0x01]),
            tlv(0x31, &[]),
            vec![0x30, 0x80],
            DATA.to_vec(),
            vec![0, 0],
            vec![0xa0, 0x80],
            a.clone(),
            vec![0, 0],
            tlv(0x31, &[]),
        ]
        .concat();
        let ber = [&[0x30, 0x80][..], SIGNED_DATA, &[0xa0, 0x80, 0x30, 0x80], &signed, &[0, 0, 0, 0, 0, 0]].concat();
        assert_eq!(certificates(&ber).expect("read"), vec![a]);
    }

    #[test]
    fn refuses_what_is_not_certs_only_without_panicking() {
        assert!(certificates(&[]).is_err());
        assert!(certificates(&[0x30, 0x80]).is_err());
        assert!(certificates(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        let a = cert("x");
        assert!(certificates(&a).is_err(), "a bare certificate is not PKCS#7");
        let der = certs_only(&[&a]);
        for cut in 0..der.len() {
            assert!(certificates(&der[..cut]).is_err(), "cut at {cut}");
        }
        // Deep nesting of indefinite lengths.
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 64).flatten().collect();
        assert!(certificates(&deep).is_err());
    }
}
