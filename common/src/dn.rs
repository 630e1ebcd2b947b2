//! Distinguished names rendered as Java's `X500Principal.toString()` renders them, which is
//! what the platform returns in `subject` and `issuer`: RDNs in reverse order of the DER
//! encoding, separated by `", "`, multi-valued RDNs joined by `" + "`, Java's keywords
//! (`CN`, `OU`, `ST`, `EMAILADDRESS`, …, else `OID.<dotted>`), and RFC 1779 quoting.

use x509_parser::der_parser::asn1_rs::Tag;
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

/// The value of the most specific common name, if any (used for default names and, later,
/// device ids).
pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name().last().and_then(|a| string_value(a))
}

fn ava(a: &AttributeTypeAndValue<'_>) -> String {
    let oid = a.attr_type().to_id_string();
    let key = keyword(&oid).map(str::to_string).unwrap_or_else(|| format!("OID.{oid}"));
    match string_value(a) {
        Some(v) => format!("{key}={}", quote(&v)),
        None => format!("{key}=#{}", hex::encode(der_of(a))),
    }
}

/// The value of a directory string, decoded from whichever ASN.1 string type carries it.
fn string_value(a: &AttributeTypeAndValue<'_>) -> Option<String> {
    let any = a.attr_value();
    let data = any.data;
    match any.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString | Tag::VisibleString => {
            std::str::from_utf8(data).ok().map(str::to_string)
        }
        // T.61 in practice carries Latin-1.
        Tag::TeletexString => Some(data.iter().map(|&b| b as char).collect()),
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = data.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        Tag::UniversalString => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        _ => None,
    }
}

/// The DER encoding of a non-string attribute value (Java prints those as `#hex`).
fn der_of(a: &AttributeTypeAndValue<'_>) -> Vec<u8> {
    let any = a.attr_value();
    let data = any.data;
    let mut out = Vec::with_capacity(data.len() + 6);
    // Universal, primitive tags below 31 fit one byte; anything else is rare enough to
    // print as its content alone.
    let tag = any.tag().0;
    if tag < 31 {
        out.push(tag as u8 | if any.header.is_constructed() { 0x20 } else { 0 });
        let len = data.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    out.extend_from_slice(data);
    out
}

/// RFC 1779 quoting as Java applies it in `toString()`: a value holding one of
/// `, = \n + < > # ;` or a quote or backslash, or with leading/trailing spaces, is put in
/// double quotes, with `"` and `\` escaped by a backslash inside.
fn quote(v: &str) -> String {
    const SPECIAL: &[char] = &[',', '=', '\n', '+', '<', '>', '#', ';', '\\', '"'];
    let needs = v.contains(SPECIAL) || v.starts_with(' ') || v.ends_with(' ');
    if !needs {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_java() {
        assert_eq!(quote("Thin Edge"), "Thin Edge");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote(" padded"), "\" padded\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}
