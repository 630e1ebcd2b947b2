//! `common::dn` against Java itself: distinguished names built here as DER are rendered by
//! `anchorage_common::dn::java_string` and by Java's `X500Principal.toString()` (what the
//! platform returns in `subject` and `issuer`), through `tests/java/DnPrint.java`, and must be
//! the same text, except where a difference below says why anchorage differs on purpose.
//!
//! Needs a JDK (`javac` and `java` on the PATH, 17 or later): without one the test fails and
//! says so, it does not skip. `DN_JAVA_SHOW=1 cargo test -p anchorage-common --test dn_java --
//! --nocapture` prints Java's line for every fixture.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anchorage_common::dn;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

// ASN.1 universal tags used by the fixtures.
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const UTF8: u8 = 0x0c;
const NUMERIC: u8 = 0x12;
const PRINTABLE: u8 = 0x13;
const T61: u8 = 0x14;
const IA5: u8 = 0x16;
const UTC_TIME: u8 = 0x17;
const VISIBLE: u8 = 0x1a;
const GENERAL: u8 = 0x1b;
const UNIVERSAL: u8 = 0x1c;
const BMP: u8 = 0x1e;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

mod der;
use der::{oid_content as oid, tlv};

/// One attribute: its type (dotted OID) and its value, whole (tag, length and content).
fn ava(typ: &str, value: Vec<u8>) -> Vec<u8> {
    let mut content = tlv(OID, &oid(typ));
    content.extend(value);
    tlv(SEQUENCE, &content)
}

/// An attribute whose value is a string of ASN.1 type `tag` holding `bytes`.
fn s(typ: &str, tag: u8, bytes: &[u8]) -> Vec<u8> {
    ava(typ, tlv(tag, bytes))
}

/// A UTF8String attribute.
fn u(typ: &str, text: &str) -> Vec<u8> {
    s(typ, UTF8, text.as_bytes())
}

/// A PrintableString attribute.
fn p(typ: &str, text: &str) -> Vec<u8> {
    s(typ, PRINTABLE, text.as_bytes())
}

fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn utf32be(text: &str) -> Vec<u8> {
    text.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect()
}

/// A name of single-valued RDNs, in DER order (the rendering reverses it).
fn name(avas: &[Vec<u8>]) -> Vec<u8> {
    let rdns: Vec<Vec<Vec<u8>>> = avas.iter().map(|a| vec![a.clone()]).collect();
    multi(&rdns)
}

/// A name whose RDNs may hold several attributes each. Each SET's members are sorted by their
/// encoding, as DER requires.
fn multi(rdns: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut content = Vec::new();
    for rdn in rdns {
        let mut members = rdn.clone();
        members.sort();
        content.extend(tlv(SET, &members.concat()));
    }
    tlv(SEQUENCE, &content)
}

const CN: &str = "2.5.4.3";
const C: &str = "2.5.4.6";
const O: &str = "2.5.4.10";
const OU: &str = "2.5.4.11";

/// Every fixture: a label and the DER of a name.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut f: Vec<(&'static str, Vec<u8>)> = vec![
        ("empty name", tlv(SEQUENCE, &[])),
        ("one CN", name(&[u(CN, "tedge01")])),
        ("typical", name(&[p(C, "DE"), u(O, "Thin Edge"), u(OU, "Test Device"), u(CN, "tedge04")])),
        // Java's keyword table (sun.security.x509.AVAKeyword), every entry.
        (
            "every keyword",
            name(&[
                p(C, "DE"),
                u("2.5.4.8", "Bavaria"),
                u("2.5.4.7", "Munich"),
                u("2.5.4.9", "Main Street 1"),
                u(O, "Org"),
                u(OU, "Unit"),
                u("2.5.4.12", "Dr"),
                u("2.5.4.46", "q1"),
                u("2.5.4.4", "Doe"),
                u("2.5.4.42", "Jane"),
                u("2.5.4.43", "JD"),
                u("2.5.4.44", "III"),
                s("1.2.840.113549.1.9.1", IA5, b"pki@example.com"),
                s("0.9.2342.19200300.100.1.25", IA5, b"example"),
                u("0.9.2342.19200300.100.1.1", "jdoe"),
                p("2.5.4.5", "12345"),
                u("1.3.6.1.4.1.42.2.11.2.1", "10.0.0.1"),
                u(CN, "All"),
            ]),
        ),
        // Types Java has no keyword for: OID.<dotted>.
        (
            "unknown attribute types",
            name(&[
                p("2.5.4.17", "80331"),
                u("2.5.4.97", "VATDE-123456789"),
                u("2.5.4.15", "Private Organization"),
                p("1.3.6.1.4.1.311.60.2.1.3", "DE"),
                u("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20", "deep"),
                u("2.999.1", "big first arc"),
                u(CN, "x"),
            ]),
        ),
        // Multi-valued RDNs.
        ("multi-valued RDN", multi(&[vec![p(C, "DE")], vec![u(OU, "Devices"), u(CN, "dev1")]])),
        (
            "three values in one RDN",
            multi(&[vec![u(O, "Org")], vec![u(CN, "a"), u("2.5.4.5", "42"), u("0.9.2342.19200300.100.1.1", "uid")]]),
        ),
        ("multi-valued with unknown type", multi(&[vec![u("2.5.4.17", "80331"), u(CN, "zip")]])),
        ("multi-valued needing quotes", multi(&[vec![u(CN, "a+b"), u(O, "x, y")]])),
        // Values that are not strings: #hex of their whole DER.
        ("octet string value", name(&[ava("1.2.3.4", tlv(OCTET_STRING, &[0xde, 0xad, 0xbe, 0xef]))])),
        ("integer value", name(&[ava("1.2.3.5", tlv(INTEGER, &[0x01, 0x00]))])),
        ("null value", name(&[ava("1.2.3.6", tlv(NULL, &[]))])),
        ("bit string value", name(&[ava(CN, tlv(BIT_STRING, &[0x00, 0xa5]))])),
        ("oid value", name(&[ava("1.2.3.7", tlv(OID, &oid("1.2.840.113549")))])),
        ("time value", name(&[ava("1.2.3.8", tlv(UTC_TIME, b"250101000000Z"))])),
        ("sequence value", name(&[ava("1.2.3.9", tlv(SEQUENCE, &tlv(INTEGER, &[5])))])),
        ("long octet string value", name(&[ava("1.2.3.10", tlv(OCTET_STRING, &[0x5a; 200]))])),
        ("context-tagged value", name(&[ava("1.2.3.11", tlv(0x80, &[1, 2, 3]))])),
        ("CN as octet string", name(&[ava(CN, tlv(OCTET_STRING, b"dev"))])),
        // String types other than UTF8String and PrintableString.
        ("numeric string", name(&[s("2.5.4.5", NUMERIC, b"0123 456")])),
        ("visible string", name(&[s(CN, VISIBLE, b"visible")])),
        ("general string", name(&[s(CN, GENERAL, b"general")])),
        ("ia5 string", name(&[s(CN, IA5, b"ia5 text")])),
        ("t61 string latin-1", name(&[s(CN, T61, b"Caf\xe9 M\xfcnchen")])),
        ("bmp string", name(&[s(CN, BMP, &utf16be("Grüße € 日本"))])),
        ("bmp string with a surrogate pair", name(&[s(CN, BMP, &utf16be("smile 😀"))])),
        ("universal string", name(&[s(CN, UNIVERSAL, &utf32be("Ünï 😀 ok"))])),
        ("universal string needing quotes", name(&[s(CN, UNIVERSAL, &utf32be("a, b"))])),
        ("bmp string needing quotes", name(&[s(O, BMP, &utf16be(" lead"))])),
        ("utf8 non-ascii", name(&[u(CN, "Müller Straße 日本 😀")])),
        // Escaping and quoting.
        ("comma", name(&[u(CN, "Doe, Jane")])),
        ("plus", name(&[u(CN, "a+b")])),
        ("equals", name(&[u(CN, "a=b")])),
        ("semicolon", name(&[u(CN, "a;b")])),
        ("angle brackets", name(&[u(CN, "<tag>")])),
        ("hash first", name(&[u(CN, "#1")])),
        ("hash inside", name(&[u(CN, "no#1")])),
        ("double quote", name(&[u(CN, "say \"hi\"")])),
        ("backslash", name(&[u(CN, "C:\\dir")])),
        ("backslash only", name(&[u(CN, "\\")])),
        ("already quoted", name(&[u(CN, "\"quoted\"")])),
        ("already quoted with comma", name(&[u(CN, "\"a,b\"")])),
        ("already quoted with inner quote", name(&[u(CN, "\"a\"b\"")])),
        ("already quoted with backslash", name(&[u(CN, "\"a\\b\"")])),
        ("a lone quote", name(&[u(CN, "\"")])),
        ("leading space", name(&[u(CN, " lead")])),
        ("trailing space", name(&[u(CN, "trail ")])),
        ("two inner spaces", name(&[u(CN, "two  spaces")])),
        ("spaces around non-ascii", name(&[u(CN, "a ü b")])),
        ("space after non-ascii then space", name(&[u(CN, "ü  b")])),
        ("space underscore space", name(&[u(CN, "a _ b")])),
        ("only spaces", name(&[u(CN, "   ")])),
        ("empty value", name(&[u(CN, "")])),
        ("newline inside", name(&[u(CN, "line1\nline2")])),
        ("newline first", name(&[u(CN, "\nx")])),
        ("newline last", name(&[u(CN, "x\n")])),
        ("space then newline", name(&[u(CN, "a \nb")])),
        ("carriage return", name(&[u(CN, "a\rb")])),
        ("tab", name(&[u(CN, "a\tb")])),
        ("nul and bell", name(&[u(CN, "a\u{0}b\u{7}")])),
        ("bidi override", name(&[u(CN, "evil\u{202e}gnp.exe")])),
        ("every special character", name(&[u(CN, ",+=\n<>#;\\\"")])),
        ("printable string with specials", name(&[p(O, "Example, Inc.")])),
        ("specials in an unknown type", name(&[u("1.2.3.4", "x=y")])),
        // Malformed strings: Java decodes them with replacement characters.
        ("utf8 string invalid", name(&[s(CN, UTF8, b"ok\xff\xfebad")])),
        ("utf8 string truncated sequence", name(&[s(CN, UTF8, b"ab\xe6\x97")])),
        ("utf8 string overlong", name(&[s(CN, UTF8, b"\xc0\xafx")])),
        ("printable string with non-ascii", name(&[s(CN, PRINTABLE, "Müller".as_bytes())])),
        ("ia5 string with non-ascii", name(&[s(CN, IA5, b"a\xffb")])),
        ("bmp string odd length", name(&[s(CN, BMP, b"\x00a\x00")])),
        ("bmp string lone surrogate", name(&[s(CN, BMP, b"\x00a\xd8\x00\x00b")])),
        ("universal string bad length", name(&[s(CN, UNIVERSAL, b"\x00\x00\x00a\x00")])),
        ("universal string beyond unicode", name(&[s(CN, UNIVERSAL, b"\x00\x11\x00\x00\x00\x00\x00a")])),
        ("universal string surrogate", name(&[s(CN, UNIVERSAL, b"\x00\x00\xd8\x00\x00\x00\x00a")])),
        ("utf8 string encoded surrogate", name(&[s(CN, UTF8, b"a\xed\xa0\x80b")])),
        ("utf8 string beyond unicode", name(&[s(CN, UTF8, b"a\xf4\x90\x80\x80b")])),
        ("utf8 lone continuation", name(&[s(CN, UTF8, b"a\x80b")])),
        ("utf8 c1 lead", name(&[s(CN, UTF8, b"\xc1\xbfz")])),
        ("utf8 two-byte lead last", name(&[s(CN, UTF8, b"a\xc2")])),
        ("utf8 two-byte lead then ascii", name(&[s(CN, UTF8, b"\xc2Az")])),
        ("utf8 overlong three bytes", name(&[s(CN, UTF8, b"\xe0\x80\x80z")])),
        ("utf8 three-byte lead then one continuation last", name(&[s(CN, UTF8, b"a\xe0\xa0")])),
        ("utf8 e0 then bad second last", name(&[s(CN, UTF8, b"a\xe0\x80")])),
        ("utf8 three-byte lead last", name(&[s(CN, UTF8, b"a\xe6")])),
        ("utf8 three-byte lead then ascii", name(&[s(CN, UTF8, b"\xe6Az")])),
        ("utf8 three-byte two then ascii", name(&[s(CN, UTF8, b"\xe6\x97Az")])),
        ("utf8 three-byte two then ascii then more", name(&[s(CN, UTF8, b"\xe6\x97AzZ")])),
        ("utf8 overlong four bytes", name(&[s(CN, UTF8, b"\xf0\x80\x80\x80z")])),
        ("utf8 four-byte three last", name(&[s(CN, UTF8, b"a\xf0\x90\x80")])),
        ("utf8 four-byte two last", name(&[s(CN, UTF8, b"a\xf0\x90")])),
        ("utf8 four-byte lead last", name(&[s(CN, UTF8, b"a\xf0")])),
        ("utf8 four-byte three then ascii", name(&[s(CN, UTF8, b"\xf0\x90\x80Az")])),
        ("utf8 four-byte two then ascii", name(&[s(CN, UTF8, b"\xf0\x90Az")])),
        ("utf8 four-byte two then ascii then more", name(&[s(CN, UTF8, b"\xf0\x90AzZ")])),
        ("utf8 four-byte bad third", name(&[s(CN, UTF8, b"\xf0\x90A\x80z")])),
        ("utf8 four-byte bad fourth", name(&[s(CN, UTF8, b"\xf0\x90\x80Az")])),
        ("utf8 f5 lead", name(&[s(CN, UTF8, b"\xf5\x80\x80\x80z")])),
        ("utf8 f5 lead last", name(&[s(CN, UTF8, b"a\xf5\x80")])),
        ("utf8 f8 lead", name(&[s(CN, UTF8, b"\xf8\x88\x80\x80\x80z")])),
        ("utf8 ff", name(&[s(CN, UTF8, b"a\xffb")])),
        ("utf8 encoded low surrogate", name(&[s(CN, UTF8, b"\xed\xbf\xbfz")])),
        ("utf8 encoded surrogate cut", name(&[s(CN, UTF8, b"a\xed\xa0")])),
        ("utf8 noncharacters", name(&[s(CN, UTF8, b"\xef\xbf\xbe\xf4\x8f\xbf\xbf")])),
        ("utf8 f4 beyond cut", name(&[s(CN, UTF8, b"a\xf4\x90\x80")])),
        ("utf8 f0 bad second cut", name(&[s(CN, UTF8, b"a\xf0\x80")])),
        ("utf8 three-byte bad third", name(&[s(CN, UTF8, b"\xe6\x97Az")])),
        ("utf8 three-byte bad second", name(&[s(CN, UTF8, b"\xe6A\x97z")])),
        ("bmp string byte order mark", name(&[s(CN, BMP, b"\xfe\xff\x00a\x00b")])),
        ("bmp string reversed byte order mark", name(&[s(CN, BMP, b"\xff\xfea\x00b\x00")])),
        ("bmp string lone low surrogate", name(&[s(CN, BMP, b"\x00a\xdc\x00\x00b")])),
        ("bmp string high surrogate last", name(&[s(CN, BMP, b"\x00a\x00b\xd8\x00")])),
        ("bmp string high surrogate then odd byte", name(&[s(CN, BMP, b"\x00a\xd8\x00\x00")])),
        ("bmp string two high surrogates", name(&[s(CN, BMP, b"\xd8\x00\xd8\x00\xdc\x00\x00z")])),
        ("universal string byte order mark", name(&[s(CN, UNIVERSAL, b"\x00\x00\xfe\xff\x00\x00\x00a")])),
        ("universal string reversed byte order mark", name(&[s(CN, UNIVERSAL, b"\xff\xfe\x00\x00a\x00\x00\x00")])),
        ("universal string two trailing bytes", name(&[s(CN, UNIVERSAL, b"\x00\x00\x00a\x00\x00")])),
        ("universal string three trailing bytes", name(&[s(CN, UNIVERSAL, b"\x00\x00\x00a\x00\x00\x00")])),
        ("general string non-ascii", name(&[s(CN, GENERAL, b"a\xe9b")])),
        ("printable string with other ascii", name(&[p(CN, "a@b_c*d!")])),
        ("t61 string control byte", name(&[s(CN, T61, b"a\x01b")])),
        ("huge arc", name(&[u("2.25.329800735698586629295641978511506172918", "uuid oid")])),
        ("empty RDN", tlv(SEQUENCE, &tlv(SET, &[]))),
        (
            "unsorted multi-valued RDN",
            tlv(SEQUENCE, &tlv(SET, &[u(OU, "Devices"), u(CN, "dev1"), u(C, "DE")].concat())),
        ),
        ("private tag value", name(&[ava("1.2.3.12", tlv(0xc1, &[7]))])),
        ("high tag number value", name(&[ava("1.2.3.13", [vec![0x9f, 0x1f, 0x01, 0x09]].concat())])),
        ("constructed context value", name(&[ava("1.2.3.14", tlv(0xa0, &tlv(INTEGER, &[1])))])),
    ];
    // A long name (the length needs two bytes).
    f.push(("long value", name(&[u(CN, &"x".repeat(300))])));
    f
}

/// Where anchorage renders a name differently from Java on purpose: the fixture, what
/// anchorage prints, what DnPrint prints for Java (escaped as it writes it), and why.
const DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "universal string surrogate",
        "CN=\u{fffd}a",
        "OK CN=\\ud800a",
        "Java keeps the surrogate code point U+D800 of a UniversalString as a lone UTF-16 surrogate. \
         A Rust string cannot hold one (nor can well-formed JSON text), so anchorage writes U+FFFD, \
         the replacement Java itself uses for every other malformed value.",
    ),
    (
        "high tag number value",
        "OID.1.2.3.13=#9f1f0109",
        "ERR java.lang.IllegalArgumentException: improperly specified input name",
        "Java's DER reader refuses a tag number above 30 anywhere in a name, so the platform could not \
         read such a certificate at all. x509-parser reads it, and anchorage prints the value as `#` and \
         its DER like any other value that is not a string, rather than failing to render a name it has \
         already parsed.",
    ),
];

/// Renders `der` as anchorage does.
fn anchorage(der: &[u8]) -> String {
    match X509Name::from_der(der) {
        Ok(([], n)) => dn::java_string(&n),
        Ok((rest, _)) => format!("ERR {} bytes after the name", rest.len()),
        Err(e) => format!("ERR {e}"),
    }
}

/// Undoes DnPrint's escaping (\uXXXX as UTF-16 code units). `None` when the text holds a lone
/// surrogate, which no Rust string can.
fn unescape(s: &str) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\\u") {
        units.extend(rest[..at].encode_utf16());
        let code = u16::from_str_radix(&rest[at + 2..at + 6], 16).expect("DnPrint writes four hex digits");
        units.push(code);
        rest = &rest[at + 6..];
    }
    units.extend(rest.encode_utf16());
    String::from_utf16(&units).ok()
}

/// Compiles DnPrint.java into `dir` and runs it over `ders`; one line per name.
fn java(dir: &Path, ders: &[Vec<u8>]) -> Vec<String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/DnPrint.java");
    let javac = Command::new("javac").arg("-d").arg(dir).arg(&source).output().unwrap_or_else(|e| {
        panic!(
            "this test needs a JDK (17 or later): `javac` could not be run ({e}). \
             Install one (Debian: apt-get install openjdk-17-jdk-headless) and put javac and java on the PATH."
        )
    });
    assert!(javac.status.success(), "javac failed: {}", String::from_utf8_lossy(&javac.stderr));
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(dir)
        .arg("DnPrint")
        .arg("toString")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs a JDK (17 or later): `java` could not be run ({e})"));
    let input: String = ders.iter().map(|d| format!("{}\n", hex::encode(d))).collect();
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to java");
    let out = child.wait_with_output().expect("java runs");
    assert!(out.status.success(), "java DnPrint failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("DnPrint prints ASCII");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), ders.len(), "DnPrint printed {} lines for {} names:\n{text}", lines.len(), ders.len());
    lines
}

#[test]
fn names_render_as_java_x500principal_to_string() {
    let dir = tempfile::tempdir().expect("tmp");
    let fixtures = fixtures();
    let ders: Vec<Vec<u8>> = fixtures.iter().map(|(_, d)| d.clone()).collect();
    let javas = java(dir.path(), &ders);
    let mut problems = Vec::new();
    for ((label, der), java_line) in fixtures.iter().zip(&javas) {
        let ours = anchorage(der);
        if std::env::var_os("DN_JAVA_SHOW").is_some() {
            println!("{label}: {java_line}");
        }
        if let Some((_, want, java_want, _why)) = DIFFERENCES.iter().find(|(l, ..)| l == label) {
            if ours != *want {
                problems.push(format!("{label}: anchorage {ours:?}, documented {want:?}"));
            }
            if java_line != java_want {
                problems.push(format!("{label}: Java now prints {java_line:?}, documented {java_want:?}"));
            }
            continue;
        }
        match java_line.strip_prefix("OK ").map(unescape) {
            Some(Some(theirs)) if theirs == ours => {}
            Some(Some(theirs)) => problems.push(format!("{label}: anchorage {ours:?}, Java {theirs:?}")),
            Some(None) => problems.push(format!("{label}: Java's text holds a lone surrogate: {java_line}")),
            None => problems.push(format!("{label}: Java refused the name: {java_line}")),
        }
    }
    for (label, ..) in DIFFERENCES {
        assert!(fixtures.iter().any(|(l, _)| l == label), "difference {label:?} names no fixture");
    }
    assert!(problems.is_empty(), "{} of {} names differ:\n{}", problems.len(), fixtures.len(), problems.join("\n"));
}
