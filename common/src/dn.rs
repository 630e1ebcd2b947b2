//! Distinguished names rendered as Java's `X500Principal.toString()` renders them, which is
//! what the platform returns in `subject` and `issuer`: RDNs in reverse order of the DER
//! encoding, separated by `", "`, multi-valued RDNs joined by `" + "`, Java's keywords
//! (`CN`, `OU`, `ST`, `EMAILADDRESS`, …, else `OID.<dotted>`), and RFC 1779 quoting.
//!
//! `X500Principal.toString()` is neither `getName(RFC2253)` nor `getName(RFC1779)`: it uses
//! `", "` between RDNs and every keyword Java knows (like RFC 1779's `OID.` prefix for the
//! others) but quotes values instead of escaping them (RFC 2253 escapes with `\`). Values that
//! are not strings are `#` and the hex of their DER. `common/tests/dn_java.rs` holds this
//! module to Java itself, through `X500Principal`, on names built for every case.

use num_bigint::BigUint;
use x509_parser::der_parser::asn1_rs::{Class, Oid, Tag};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Java's keyword for an attribute type (the keyword table of `sun.security.x509.AVAKeyword`;
/// where Java lists two keywords for one OID, the later one is the one it prints).
fn keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "T",
        "1.3.6.1.4.1.42.2.11.2.1" => "IP",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "2.5.4.46" => "DNQ",
        "2.5.4.4" => "SURNAME",
        "2.5.4.42" => "GIVENNAME",
        "2.5.4.43" => "INITIALS",
        "2.5.4.44" => "GENERATION",
        "1.2.840.113549.1.9.1" => "EMAILADDRESS",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.5" => "SERIALNUMBER",
        _ => return None,
    })
}

/// `name` as Java's `X500Principal.toString()` prints it.
pub fn java_string(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name.iter().map(|rdn| rdn.iter().map(ava).collect::<Vec<_>>().join(" + ")).collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(", ")
}

/// The value of the most specific common name, if any (used for default names and device
/// ids), decoded as Java decodes it (see [`java_string`]); `None` when it is not one of the
/// string types Java reads.
pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name().last().and_then(|a| string_value(a))
}

/// One attribute of a name as it is encoded: what a writer of certificates or CSRs needs to
/// write the same name again (its type, the ASN.1 tag of its string type, the value's bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttribute {
    /// The type's arcs (`[2, 5, 4, 3]` for CN).
    pub oid: Vec<u64>,
    /// The type as Java prints it (`CN`, or `OID.<dotted>`), for messages.
    pub label: String,
    /// The ASN.1 tag number of the value (12 UTF8String, 19 PrintableString, …).
    pub tag: u32,
    /// The value's content bytes.
    pub value: Vec<u8>,
}

/// The attributes of the DER name `name_der` in order, for names a writer that takes one
/// attribute per RDN and one value per type (rcgen) can write again byte for byte. Refused, with
/// the reason: a multi-valued or empty RDN, a type that appears twice, an unreadable name.
pub fn single_valued_attributes(name_der: &[u8]) -> Result<Vec<NameAttribute>, String> {
    use x509_parser::prelude::FromDer as _;
    let (rest, name) = X509Name::from_der(name_der).map_err(|e| format!("the name cannot be read: {e}"))?;
    if !rest.is_empty() {
        return Err("the name has data after its end".into());
    }
    let mut out: Vec<NameAttribute> = Vec::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err("a part of the name holds several attributes (or none)".into());
        };
        let oid_text = oid_text(attr.attr_type());
        let label = keyword(&oid_text).map(str::to_string).unwrap_or_else(|| format!("OID.{oid_text}"));
        let oid: Vec<u64> =
            attr.attr_type().iter().ok_or_else(|| format!("the attribute type {label} is too large"))?.collect();
        if out.iter().any(|a| a.oid == oid) {
            return Err(format!("the attribute {label} appears twice"));
        }
        let value = attr.attr_value();
        out.push(NameAttribute { oid, label, tag: value.header.tag().0, value: value.data.to_vec() });
    }
    Ok(out)
}

/// The DER name `name_der` as rcgen writes it: attribute by attribute
/// ([`single_valued_attributes`]) with the same string types, so a certificate or CSR made from
/// it carries the same name byte for byte (the server copies a CSR's subject into the device
/// certificate and renews its CA; the device tool repeats its certificate's subject in a
/// re-enrollment request). Refused besides what that refuses: a string type other than UTF8,
/// Printable, IA5, Teletex, BMP or Universal, or a value rcgen cannot hold in its type.
#[cfg(feature = "rcgen")]
pub fn to_rcgen(name_der: &[u8]) -> Result<rcgen::DistinguishedName, String> {
    use rcgen::DnValue;
    use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};
    let mut dn = rcgen::DistinguishedName::new();
    for a in single_valued_attributes(name_der)? {
        let label = &a.label;
        let text = || std::str::from_utf8(&a.value).map_err(|_| format!("the attribute {label} is not text"));
        let bad = |e: rcgen::Error| format!("the attribute {label} cannot be written as it is ({e})");
        let value = match a.tag {
            12 => DnValue::Utf8String(text()?.to_owned()),
            19 => DnValue::PrintableString(PrintableString::try_from(text()?).map_err(bad)?),
            22 => DnValue::Ia5String(Ia5String::try_from(text()?).map_err(bad)?),
            20 => DnValue::TeletexString(TeletexString::try_from(text()?).map_err(bad)?),
            30 => DnValue::BmpString(BmpString::from_utf16be(a.value.clone()).map_err(bad)?),
            28 => DnValue::UniversalString(UniversalString::from_utf32be(a.value.clone()).map_err(bad)?),
            other => {
                return Err(format!(
                    "the attribute {label} has a string type (ASN.1 tag {other}) that is not supported"
                ));
            }
        };
        dn.push(rcgen::DnType::from_oid(&a.oid), value);
    }
    Ok(dn)
}

/// An object identifier in dotted decimal, as Java's `ObjectIdentifier.toString()` prints it,
/// whatever the size of its arcs (asn1-rs prints `2.999.1` as `3.16.55.1`, and an arc beyond
/// 64 bits as hex bytes). A truncated last arc is printed as far as it goes.
pub fn oid_text(oid: &Oid<'_>) -> String {
    let bytes = oid.as_bytes();
    let mut arcs: Vec<String> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = bytes[at..].iter().position(|b| b & 0x80 == 0).map_or(bytes.len(), |p| at + p + 1);
        let chunk = &bytes[at..end];
        let first = at == 0;
        at = end;
        // Small arcs in a u64 (the usual case), any other in a BigUint.
        let small = chunk.iter().try_fold(0u64, |v, b| v.checked_mul(128).map(|v| v | u64::from(b & 0x7f)));
        match (small, first) {
            (Some(v), false) => arcs.push(v.to_string()),
            (Some(v), true) if v < 80 => arcs.extend([(v / 40).to_string(), (v % 40).to_string()]),
            (Some(v), true) => arcs.extend(["2".to_string(), (v - 80).to_string()]),
            (None, first) => {
                let v = chunk.iter().fold(BigUint::default(), |v, b| (v << 7u32) | BigUint::from(b & 0x7f));
                // A value beyond 64 bits is far above 80: the first arc is 2.
                if first {
                    arcs.push("2".to_string());
                    arcs.push((v - BigUint::from(80u32)).to_string());
                } else {
                    arcs.push(v.to_string());
                }
            }
        }
    }
    arcs.join(".")
}

fn ava(a: &AttributeTypeAndValue<'_>) -> String {
    let oid = oid_text(a.attr_type());
    let key = keyword(&oid).map(str::to_string).unwrap_or_else(|| format!("OID.{oid}"));
    match string_value(a) {
        Some(v) => format!("{key}={}", quote(&v)),
        None => format!("{key}=#{}", hex::encode(der_of(a))),
    }
}

/// The value of a directory string, decoded as Java's `DerValue.getAsString()` decodes it:
/// only UTF8String, PrintableString, T61String, IA5String, UniversalString, BMPString and
/// GeneralString are strings (Java prints a NumericString or VisibleString as `#hex`), and
/// malformed content becomes U+FFFD the way Java's decoders replace it.
fn string_value(a: &AttributeTypeAndValue<'_>) -> Option<String> {
    let any = a.attr_value();
    if any.class() != Class::Universal || any.header.is_constructed() {
        return None;
    }
    let data = any.data;
    Some(match any.tag() {
        Tag::Utf8String => java_utf8(data),
        Tag::PrintableString | Tag::Ia5String | Tag::GeneralString => {
            data.iter().map(|&b| if b < 0x80 { char::from(b) } else { REPLACEMENT }).collect()
        }
        // T.61 is decoded as Latin-1, as Java does.
        Tag::TeletexString => data.iter().map(|&b| char::from(b)).collect(),
        Tag::BmpString => java_utf16be(data),
        Tag::UniversalString => java_utf32be(data),
        _ => return None,
    })
}

const REPLACEMENT: char = char::REPLACEMENT_CHARACTER;

/// UTF-8 as Java 17's `new String(bytes, UTF_8)` decodes it, replacement for replacement
/// (`java.lang.String.decodeUTF8_UTF16`): unlike Rust's lossy decoding, an encoded surrogate
/// is one U+FFFD, and a sequence cut off by the end of the value ends the value.
fn java_utf8(src: &[u8]) -> String {
    let cont = |b: u8| b & 0xc0 == 0x80;
    let malformed3_2 = |b1: u8, b2: u8| (b1 == 0xe0 && b2 & 0xe0 == 0x80) || !cont(b2);
    let malformed4_2 =
        |b1: u8, b2: u8| (b1 == 0xf0 && !(0x90..=0xbf).contains(&b2)) || (b1 == 0xf4 && b2 & 0xf0 != 0x80) || !cont(b2);
    let mut out = String::with_capacity(src.len());
    let mut sp = 0;
    let sl = src.len();
    while sp < sl {
        let b1 = src[sp];
        sp += 1;
        match b1 {
            0x00..=0x7f => out.push(char::from(b1)),
            0xc2..=0xdf => {
                if sp < sl {
                    let b2 = src[sp];
                    if cont(b2) {
                        sp += 1;
                        out.push(
                            char::from_u32((u32::from(b1 & 0x1f) << 6) | u32::from(b2 & 0x3f)).unwrap_or(REPLACEMENT),
                        );
                    } else {
                        out.push(REPLACEMENT);
                    }
                    continue;
                }
                out.push(REPLACEMENT);
                break;
            }
            0xe0..=0xef => {
                if sp + 1 < sl {
                    let (b2, b3) = (src[sp], src[sp + 1]);
                    if malformed3_2(b1, b2) || !cont(b3) {
                        out.push(REPLACEMENT);
                        // Java skips the lead byte, and the second byte too when only the
                        // third is wrong.
                        if !malformed3_2(b1, b2) {
                            sp += 1;
                        }
                    } else {
                        sp += 2;
                        let c = (u32::from(b1 & 0x0f) << 12) | (u32::from(b2 & 0x3f) << 6) | u32::from(b3 & 0x3f);
                        // A surrogate (ED A0..BF ..) is one replacement for its three bytes.
                        out.push(char::from_u32(c).unwrap_or(REPLACEMENT));
                    }
                    continue;
                }
                if sp < sl && malformed3_2(b1, src[sp]) {
                    out.push(REPLACEMENT);
                    continue;
                }
                out.push(REPLACEMENT);
                break;
            }
            0xf0..=0xf7 => {
                if sp + 2 < sl {
                    let (b2, b3, b4) = (src[sp], src[sp + 1], src[sp + 2]);
                    let c = (u32::from(b1 & 0x07) << 18)
                        | (u32::from(b2 & 0x3f) << 12)
                        | (u32::from(b3 & 0x3f) << 6)
                        | u32::from(b4 & 0x3f);
                    if !cont(b2) || !cont(b3) || !cont(b4) || !(0x10000..0x110000).contains(&c) {
                        out.push(REPLACEMENT);
                        // Java's `malformed4`: how many bytes the bad sequence spans.
                        if !(b1 > 0xf4 || malformed4_2(b1, b2)) {
                            sp += if cont(b3) { 2 } else { 1 };
                        }
                    } else {
                        sp += 3;
                        out.push(char::from_u32(c).unwrap_or(REPLACEMENT));
                    }
                    continue;
                }
                if b1 > 0xf4 || (sp < sl && malformed4_2(b1, src[sp])) {
                    out.push(REPLACEMENT);
                    continue;
                }
                sp += 1;
                out.push(REPLACEMENT);
                if sp < sl && !cont(src[sp]) {
                    continue;
                }
                break;
            }
            _ => out.push(REPLACEMENT),
        }
    }
    out
}

/// UTF-16BE as Java's decoder reads it: a high surrogate followed by anything but a low one
/// is one U+FFFD for both units, a lone low surrogate is one, and whatever is left at the end
/// (an odd byte, or a high surrogate without its pair) is one.
fn java_utf16be(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() / 2);
    let mut units = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    let odd = !data.len().is_multiple_of(2);
    while let Some(u) = units.next() {
        match u {
            0xd800..=0xdbff => match units.next() {
                Some(low @ 0xdc00..=0xdfff) => {
                    let c = 0x10000 + ((u32::from(u) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                    out.push(char::from_u32(c).unwrap_or(REPLACEMENT));
                }
                Some(_) => out.push(REPLACEMENT),
                None => {
                    // The surrogate and the odd byte, if any, are one malformed input.
                    out.push(REPLACEMENT);
                    return out;
                }
            },
            0xdc00..=0xdfff => out.push(REPLACEMENT),
            _ => out.push(char::from_u32(u32::from(u)).unwrap_or(REPLACEMENT)),
        }
    }
    if odd {
        out.push(REPLACEMENT);
    }
    out
}

/// UTF-32BE as Java reads a UniversalString: a leading byte order mark is dropped, a code
/// point beyond U+10FFFF is U+FFFD, and 1 to 3 bytes left at the end are one U+FFFD. Java
/// keeps a surrogate code point as a lone surrogate, which a Rust string cannot hold: it is
/// U+FFFD here.
fn java_utf32be(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() / 4);
    let mut chunks = data.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).peekable();
    if chunks.peek() == Some(&0xfeff) {
        chunks.next();
    }
    out.extend(chunks.map(|c| char::from_u32(c).unwrap_or(REPLACEMENT)));
    if !data.len().is_multiple_of(4) {
        out.push(REPLACEMENT);
    }
    out
}

/// The DER encoding of a non-string attribute value, which Java prints as `#hex`.
fn der_of(a: &AttributeTypeAndValue<'_>) -> Vec<u8> {
    let any = a.attr_value();
    let data = any.data;
    let mut out = Vec::with_capacity(data.len() + 8);
    let class = (any.class() as u8) << 6;
    let constructed = if any.header.is_constructed() { 0x20 } else { 0 };
    let tag = any.tag().0;
    if tag < 31 {
        out.push(class | constructed | tag as u8);
    } else {
        out.push(class | constructed | 0x1f);
        let mut groups = vec![(tag & 0x7f) as u8];
        let mut rest = tag >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    crate::pkcs7::push_len(&mut out, data.len());
    out.extend_from_slice(data);
    out
}

/// RFC 1779 quoting as Java applies it in `toString()` (`sun.security.x509.AVA`): a value
/// holding one of `, + = \n < > # ; \ "`, starting or ending with a space or line feed, or
/// holding two of them in a row, is put in double quotes, with `"` and `\` escaped by a
/// backslash. A value that already starts and ends with `"` is left unquoted, its inner `"`
/// and `\` escaped.
fn quote(v: &str) -> String {
    const ESCAPEES: &[char] = &[',', '+', '=', '\n', '<', '>', '#', ';', '\\', '"'];
    let count = v.chars().count();
    let already = count > 1 && v.starts_with('"') && v.ends_with('"');
    let mut out = String::with_capacity(v.len() + 2);
    let mut needed = false;
    let mut previous_white = false;
    for (i, c) in v.chars().enumerate() {
        if already && (i == 0 || i == count - 1) {
            out.push(c);
            continue;
        }
        let white = c == ' ' || c == '\n';
        if ESCAPEES.contains(&c) || (white && (i == 0 || previous_white)) {
            needed = true;
        }
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        previous_white = white;
        out.push(c);
    }
    if out.ends_with([' ', '\n']) {
        needed = true;
    }
    if needed && !already { format!("\"{out}\"") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn single_valued_attributes_in_order_with_their_string_types() {
        let mut p = rcgen::CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(rcgen::DnType::CountryName, "DE");
        p.distinguished_name.push(rcgen::DnType::CommonName, "dev-1");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = p.self_signed(&key).expect("cert");
        let info = crate::cert::inspect(cert.der(), time::OffsetDateTime::now_utc()).expect("inspect").info;
        let attrs = super::single_valued_attributes(&info.subject_der).expect("attributes");
        let summary: Vec<(&str, u32, &[u8])> =
            attrs.iter().map(|a| (a.label.as_str(), a.tag, a.value.as_slice())).collect();
        assert_eq!(summary, [("C", 12, &b"DE"[..]), ("CN", 12, &b"dev-1"[..])]);
        assert_eq!(attrs[1].oid, [2, 5, 4, 3]);
        // Two OUs; a multi-valued RDN; garbage.
        let ou = |v: u8| [0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x01, v];
        let twice = [&[0x30, 0x18][..], &ou(b'a'), &ou(b'b')].concat();
        assert_eq!(super::single_valued_attributes(&twice), Err("the attribute OU appears twice".to_string()));
        let multi = [
            0x30, 0x16, 0x31, 0x14, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x01, b'a', 0x30, 0x08, 0x06, 0x03,
            0x55, 0x04, 0x03, 0x0c, 0x01, b'b',
        ];
        assert!(super::single_valued_attributes(&multi).is_err_and(|e| e.contains("several attributes")));
        assert!(super::single_valued_attributes(&twice[..5]).is_err());
        assert!(super::single_valued_attributes(&[]).is_err());
    }

    use super::*;

    #[test]
    fn quotes_like_java() {
        assert_eq!(quote("Thin Edge"), "Thin Edge");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote(" padded"), "\" padded\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote("two  spaces"), "\"two  spaces\"");
        assert_eq!(quote("\"already, quoted\""), "\"already, quoted\"");
        assert_eq!(quote("\""), "\"\\\"\"");
        assert_eq!(quote(""), "");
    }

    #[test]
    fn decoders_take_any_bytes_and_keep_valid_text() {
        let text = "Grüße, 日本 😀";
        assert_eq!(java_utf8(text.as_bytes()), text);
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(java_utf16be(&utf16), text);
        let utf32: Vec<u8> = text.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect();
        assert_eq!(java_utf32be(&utf32), text);
        // Every one- and two-byte input, and three-byte ones around the multi-byte leads.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for input in [&[a][..], &[a, b], &[0xe0, a, b], &[0xf0, a, b], &[0xf4, 0x8f, a, b]] {
                    let _ = (java_utf8(input), java_utf16be(input), java_utf32be(input));
                }
            }
        }
    }

    #[test]
    fn oids_print_every_arc() {
        use x509_parser::der_parser::oid;
        assert_eq!(oid_text(&oid!(2.5.4.3)), "2.5.4.3");
        assert_eq!(oid_text(&Oid::new(std::borrow::Cow::Borrowed(&[0x88, 0x37, 0x01]))), "2.999.1");
        assert_eq!(oid_text(&Oid::new(std::borrow::Cow::Borrowed(&[0x2a, 0x86]))), "1.2.6");
        assert_eq!(oid_text(&Oid::new(std::borrow::Cow::Borrowed(&[]))), "");
        // Non-minimal groups (leading 0x80) of any length, and arcs beyond 64 bits.
        let padded = [[0x80u8; 12].as_slice(), &[0x01, 0x02]].concat();
        assert_eq!(oid_text(&Oid::new(std::borrow::Cow::Borrowed(&padded))), "0.1.2");
        let big = [[0xffu8; 12].as_slice(), &[0x7f]].concat();
        assert_eq!(
            oid_text(&Oid::new(std::borrow::Cow::Borrowed(&big))),
            format!("2.{}", (BigUint::from(1u8) << 91u32) - 81u32)
        );
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = oid_text(&Oid::new(std::borrow::Cow::Borrowed(&[a, b, a, 0x80, b])));
            }
        }
    }
}
