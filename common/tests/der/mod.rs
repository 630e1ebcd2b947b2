//! DER by hand, for the test suites that build certificates and names openssl cannot make
//! quickly or at all (`mod der;` in each). Each suite uses a part of it.
#![allow(dead_code, reason = "shared by several test crates, each using a part")]

/// A TLV with a one-byte tag.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// The content octets of an OBJECT IDENTIFIER in dotted form (arcs up to 128 bits).
pub fn oid_content(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u128> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut out = Vec::new();
    for mut v in std::iter::once(arcs[0] * 40 + arcs[1]).chain(arcs[2..].iter().copied()) {
        let mut group = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            group.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(group.into_iter().rev());
    }
    out
}

/// An OBJECT IDENTIFIER, whole.
pub fn oid(dotted: &str) -> Vec<u8> {
    tlv(0x06, &oid_content(dotted))
}

/// A positive INTEGER from big-endian magnitude bytes.
pub fn uint(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::new();
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    tlv(0x02, &content)
}

pub fn bits(content: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[0u8][..], content].concat())
}

pub const NULL: [u8; 2] = [0x05, 0x00];
