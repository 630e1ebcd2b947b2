//! Bulk registration CSV: separators, quoting, encodings, every rule, templates, size.

use anchorage_common::bulk::{self, AuthType, FileError, Severity, parse, templates};
use serde_json::json;

fn errors_of(file: &bulk::BulkFile, line: u32) -> Vec<String> {
    file.issues_of(line).filter(|i| i.severity == Severity::Error).map(|i| i.message.clone()).collect()
}

#[test]
fn each_separator_is_detected_from_the_header() {
    for sep in [';', ',', '\t'] {
        let text = format!(
            "ID{sep}AUTH_TYPE{sep}CREDENTIALS\ndev-1{sep}CERTIFICATES{sep}\ndev-2{sep}BASIC{sep}secret-password\n"
        );
        let f = parse(text.as_bytes()).expect("parses");
        assert_eq!(f.separator, sep);
        assert_eq!(
            (f.summary.rows, f.summary.valid, f.summary.certificates, f.summary.basic),
            (2, 2, 1, 1),
            "{sep:?}: {:?}",
            f.issues
        );
    }
}

#[test]
fn quoting_bom_crlf_and_a_trailing_empty_line_are_fine() {
    let text = "\u{feff}\"ID\";\"AUTH_TYPE\";\"NAME\";\"TYPE\";\"c8y_Notes\"\r\n\"dev-1\";\"CERTIFICATES\";\"Hall \"\"A\"\"; left\";\"t\";\"multi\nline\"\r\n\r\n";
    let f = parse(text.as_bytes()).expect("parses");
    assert_eq!(f.header, ["ID", "AUTH_TYPE", "NAME", "TYPE", "c8y_Notes"]);
    assert_eq!(f.summary.valid, 1, "{:?}", f.issues);
    let e = f.entries().next().expect("entry");
    assert_eq!(e.name.as_deref(), Some("Hall \"A\"; left"));
    assert_eq!(e.properties, json!({"c8y_Notes": "multi\nline"}).as_object().cloned().expect("map"));
}

#[test]
fn a_row_is_reported_on_the_line_it_starts_on_whatever_the_line_breaks() {
    // The same rows with LF, CRLF and CR line breaks, a blank line, and a quoted cell spanning
    // two lines: each row's line is the one an editor shows it on.
    for br in ["\n", "\r\n", "\r"] {
        let text = [
            "ID;AUTH_TYPE;c8y_Notes",
            "ok-1;CERTIFICATES;",
            "",
            "bad id;CERTIFICATES;\"two",
            "lines\"",
            "ok-2;CERTIFICATES;",
            "bad id;CERTIFICATES;",
            "",
        ]
        .join(br);
        let f = parse(text.as_bytes()).expect("parses");
        assert_eq!(f.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 6, 7], "line breaks {br:?}");
        assert!(errors_of(&f, 4)[0].contains("whitespace"), "{br:?}: {:?}", f.issues);
        assert!(errors_of(&f, 7)[0].contains("whitespace"), "{br:?}: {:?}", f.issues);
        // Fed in pieces of every size, the lines are the same.
        for size in 1..=5 {
            let mut parser = bulk::StreamParser::new(text.len());
            for piece in text.as_bytes().chunks(size) {
                parser.feed(piece);
            }
            let lines: Vec<u32> = parser.finish().expect("parses").rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 4, 6, 7], "line breaks {br:?}, pieces of {size}");
        }
    }
}

#[test]
fn windows_1252_files_are_read_with_a_warning() {
    let bytes = b"ID;AUTH_TYPE;NAME;TYPE\ndev-1;CERTIFICATES;Stra\xdfe;t\n";
    let f = parse(bytes).expect("parses");
    assert_eq!(f.entries().next().and_then(|e| e.name), Some("Straße".to_string()));
    assert!(f.issues.iter().any(|i| i.severity == Severity::Warning && i.message.contains("Windows-1252")));
}

#[test]
fn id_rules_and_duplicates() {
    let text = "ID;AUTH_TYPE\ndev-1;CERTIFICATES\n;CERTIFICATES\nbad id;CERTIFICATES\na/b;CERTIFICATES\nx+y;CERTIFICATES\nd$1;CERTIFICATES\nd:1;CERTIFICATES\ndev-1;CERTIFICATES\n";
    let f = parse(text.as_bytes()).expect("parses");
    assert_eq!(f.summary.valid, 1);
    assert!(errors_of(&f, 3)[0].contains("empty"));
    assert!(errors_of(&f, 4)[0].contains("whitespace"));
    for line in 5..=8 {
        assert!(errors_of(&f, line)[0].contains("not allowed"), "line {line}: {:?}", errors_of(&f, line));
    }
    assert_eq!(errors_of(&f, 9), ["The ID 'dev-1' is a duplicate of line 2"]);
    let issue = f.issues_of(9).next().expect("issue");
    assert_eq!(issue.column.as_deref(), Some("ID"));
}

#[test]
fn credentials_depend_on_the_auth_type() {
    let text = "ID;AUTH_TYPE;CREDENTIALS\nc1;CERTIFICATES;\nc2;CERTIFICATES;oops\nb1;BASIC;secret-password\nb2;BASIC;\nb3;;pw-for-default-basic\nx1;TOKEN;\n";
    let f = parse(text.as_bytes()).expect("parses");
    assert!(errors_of(&f, 2).is_empty());
    assert_eq!(errors_of(&f, 3), ["CREDENTIALS must be empty when AUTH_TYPE is CERTIFICATES"]);
    assert!(errors_of(&f, 4).is_empty());
    assert!(errors_of(&f, 5)[0].starts_with("CREDENTIALS is required"));
    assert!(errors_of(&f, 6).is_empty(), "empty AUTH_TYPE means BASIC");
    assert_eq!(errors_of(&f, 7), ["AUTH_TYPE must be BASIC or CERTIFICATES, not 'TOKEN'"]);
    let entries: Vec<_> = f.entries().map(|e| (e.id, e.auth_type, e.credentials)).collect();
    assert_eq!(entries[0], ("c1".to_string(), AuthType::Certificates, None));
    assert_eq!(entries[1], ("b1".to_string(), AuthType::Basic, Some("secret-password".to_string())));

    // Without AUTH_TYPE and CREDENTIALS columns, rows would be BASIC without a password.
    let f = parse(b"ID;PATH\nd1;\n").expect("parses");
    assert!(errors_of(&f, 2)[0].starts_with("CREDENTIALS is required"));
    // An absent CREDENTIALS column is fine for certificate devices.
    let f = parse(b"ID;AUTH_TYPE\nd1;CERTIFICATES\n").expect("parses");
    assert_eq!(f.summary.valid, 1);
}

#[test]
fn type_and_name_are_required_with_iccid_idtype_path_or_shell() {
    let text = "ID;AUTH_TYPE;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL\n\
                a;CERTIFICATES;;;;;;\n\
                b;CERTIFICATES;;;8949;;;\n\
                c;CERTIFICATES;t;;;;g/h;\n\
                d;CERTIFICATES;t;Dee;89;imei;g/h;1\n\
                e;CERTIFICATES;t;E;;;;2\n";
    let f = parse(text.as_bytes()).expect("parses");
    assert!(errors_of(&f, 2).is_empty());
    assert_eq!(errors_of(&f, 3), ["TYPE is required when ICCID is used", "NAME is required when ICCID is used"]);
    assert_eq!(errors_of(&f, 4), ["NAME is required when PATH is used"]);
    assert!(errors_of(&f, 5).is_empty());
    assert_eq!(errors_of(&f, 6), ["SHELL must be 0 or 1, not '2'"]);
    let d = f.entries().find(|e| e.id == "d").expect("d");
    assert_eq!(
        (d.id_type.as_str(), d.path.as_deref(), d.shell, d.iccid.as_deref()),
        ("imei", Some("g/h"), true, Some("89"))
    );
    let a = f.entries().find(|e| e.id == "a").expect("a");
    assert_eq!((a.id_type.as_str(), a.shell), (bulk::DEFAULT_ID_TYPE, false));
}

#[test]
fn external_ids_and_nested_custom_properties() {
    let text = "ID;AUTH_TYPE;external-c8y_Imei;com_cumulocity_model_Agent.active;c8y_Hardware.model;c8y_Hardware.serial\n\
                a;CERTIFICATES;3512;true;X1;\n";
    let f = parse(text.as_bytes()).expect("parses");
    let e = f.entries().next().expect("entry");
    assert_eq!(e.external_ids, vec![("c8y_Imei".to_string(), "3512".to_string())]);
    assert_eq!(
        serde_json::Value::Object(e.properties),
        json!({"com_cumulocity_model_Agent": {"active": "true"}, "c8y_Hardware": {"model": "X1"}})
    );
}

#[test]
fn tenant_is_refused_and_enrollment_passwords_are_checked_per_row() {
    let f = parse(
        b"ID;AUTH_TYPE;CREDENTIALS;TENANT;ENROLLMENT_OTP\na;CERTIFICATES;;t2;\nb;CERTIFICATES;;;otp123\nc;CERTIFICATES;;;\n\
          d;CERTIFICATES;;;otp-12345\ne;BASIC;a-long-password-1;;otp-12345\n",
    )
    .expect("parses");
    assert!(errors_of(&f, 2)[0].contains("management tenant"));
    assert!(errors_of(&f, 3)[0].contains("ENROLLMENT_OTP: the one-time password must have at least 8 characters"));
    assert!(errors_of(&f, 4).is_empty());
    assert!(errors_of(&f, 5).is_empty());
    assert!(errors_of(&f, 6)[0].contains("ENROLLMENT_OTP needs AUTH_TYPE CERTIFICATES"));
    let otps: Vec<Option<String>> = f.entries().map(|e| e.enrollment_otp).collect();
    assert_eq!(otps, [None, Some("otp-12345".to_string())]);
}

#[test]
fn formula_cells_are_kept_but_flagged() {
    let f = parse(b"ID;AUTH_TYPE;NAME;TYPE\na;CERTIFICATES;=HYPERLINK(\"x\");t\nb;CERTIFICATES;@SUM(1);t\n")
        .expect("parses");
    assert_eq!(f.summary.valid, 2, "warnings do not make rows invalid");
    assert_eq!(f.summary.warnings, 2);
    assert_eq!(f.entries().next().and_then(|e| e.name), Some("=HYPERLINK(\"x\")".to_string()));
    assert!(f.issues_of(2).any(|i| i.severity == Severity::Warning && i.message.contains("formula")));
    assert_eq!(bulk::escape_formula("=1+1"), "'=1+1");
    assert_eq!(bulk::escape_formula("-5"), "'-5");
    assert_eq!(bulk::escape_formula("plain"), "plain");
}

#[test]
fn field_count_must_match_the_header() {
    let f = parse(b"ID;AUTH_TYPE\na;CERTIFICATES;extra\nb\n").expect("parses");
    assert!(errors_of(&f, 2)[0].contains("has 3 fields but the header has 2"));
    assert!(errors_of(&f, 3)[0].contains("has 1 fields"));
}

#[test]
fn header_problems_refuse_the_whole_file() {
    assert_eq!(parse(b""), Err(FileError::Empty));
    assert_eq!(parse(b"\n\n"), Err(FileError::Empty));
    assert!(matches!(parse(b"NAME;TYPE\nx;y\n"), Err(FileError::Header(m)) if m.contains("ID is missing")));
    assert!(matches!(parse(b"ID;ID\nx;y\n"), Err(FileError::Header(m)) if m.contains("twice")));
    assert!(matches!(parse(b"ID;external-\nx;y\n"), Err(FileError::Header(_))));
    assert!(matches!(parse(b"ID;a..b\nx;y\n"), Err(FileError::Header(_))));
    assert_eq!(parse(b"ID;NAME\n\"unterminated;x\n"), Err(FileError::UnclosedQuote { line: 2 }));
    assert_eq!(parse(&vec![b'a'; bulk::MAX_FILE_BYTES + 1]), Err(FileError::TooLarge));
}

#[test]
fn the_templates_parse() {
    let full = parse(templates::FULL.as_bytes()).expect("full");
    assert_eq!(full.header, ["ID", "TYPE", "NAME", "ICCID", "IDTYPE", "PATH", "SHELL", "AUTH_TYPE", "CREDENTIALS"]);
    assert_eq!(full.summary.valid, 1, "{:?}", full.issues);
    let certs = parse(templates::CERTIFICATES.as_bytes()).expect("certificates");
    assert_eq!((certs.summary.valid, certs.summary.certificates), (1, 1), "{:?}", certs.issues);
    let simple = parse(templates::SIMPLE.as_bytes()).expect("simple");
    assert_eq!(simple.header, ["ID", "AUTH_TYPE"]);
    assert_eq!((simple.summary.valid, simple.summary.certificates), (2, 2), "{:?}", simple.issues);
}

#[test]
fn a_hundred_thousand_rows_parse_and_validate() {
    let mut text = String::from(
        "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\";\"IDTYPE\";\"PATH\";\"c8y_Hardware.model\"\n",
    );
    for i in 0..100_000 {
        text.push_str(&format!("\"device-{i:06}\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Device {i}\";\"c8y_Serial\";\"Plant 1/Line {}\";\"M{}\"\n", i % 50, i % 7));
    }
    text.push_str("device-000042;CERTIFICATES;;c8y_Device;dup;c8y_Serial;;\n");
    let f = parse(text.as_bytes()).expect("parses");
    assert_eq!((f.summary.rows, f.summary.valid, f.summary.invalid), (100_001, 100_000, 1));
    assert_eq!(errors_of(&f, 100_002), ["The ID 'device-000042' is a duplicate of line 44"]);
    assert_eq!(f.entries().count(), 100_000);
}

#[test]
fn too_many_rows_is_a_file_error() {
    let mut text = String::from("ID;AUTH_TYPE\n");
    for i in 0..=bulk::MAX_ROWS {
        text.push_str(&format!("d{i};CERTIFICATES\n"));
    }
    assert_eq!(parse(text.as_bytes()), Err(FileError::TooManyRows));
}

/// The error a file is refused with, as the server and the preview word it.
fn refusal(bytes: &[u8]) -> String {
    match parse(bytes) {
        Ok(f) => format!("parsed, {} rows: {:?}", f.summary.rows, f.issues),
        Err(e) => e.to_string(),
    }
}

/// The same, fed to the preview's parser in pieces of `size` bytes.
fn refusal_in_pieces(bytes: &[u8], size: usize) -> String {
    let mut parser = bulk::StreamParser::new(bytes.len());
    for piece in bytes.chunks(size) {
        parser.feed(piece);
    }
    match parser.finish() {
        Ok(f) => format!("parsed, {} rows: {:?}", f.summary.rows, f.issues),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_unclosed_quote_refuses_the_file_naming_the_line_it_opened_on() {
    // Before, the quote took the rest of the file into one cell: 1 row of 3, "all good".
    let text = "ID;AUTH_TYPE;NAME\ndev-1;CERTIFICATES;one\ndev-2;CERTIFICATES;\"two\ndev-3;CERTIFICATES;three\n";
    assert_eq!(refusal(text.as_bytes()), "the quote opened on line 3 is never closed");
    for size in 1..=7 {
        assert_eq!(refusal_in_pieces(text.as_bytes(), size), "the quote opened on line 3 is never closed");
    }
    // The line counts the breaks before it however they are written, those inside quoted
    // cells included; `""` inside the open quote does not close it.
    for br in ["\n", "\r\n", "\r"] {
        let text = ["ID;AUTH_TYPE;c8y_Notes", "a;CERTIFICATES;\"two", "lines\"", "", "b;CERTIFICATES;\"x\"\"y", "c;;"]
            .join(br);
        assert_eq!(refusal(text.as_bytes()), "the quote opened on line 5 is never closed", "{br:?}");
        for size in 1..=5 {
            assert_eq!(refusal_in_pieces(text.as_bytes(), size), "the quote opened on line 5 is never closed");
        }
    }
    // In the header; in a row's first cell; a lone quote at the very end.
    assert_eq!(refusal(b"ID;\"NAME\nx;y\n"), "the quote opened on line 1 is never closed");
    assert_eq!(refusal(b"ID;NAME\n\"unterminated;x\n"), "the quote opened on line 2 is never closed");
    assert_eq!(refusal(b"ID;AUTH_TYPE\na;CERTIFICATES\n\""), "the quote opened on line 3 is never closed");
    // Closed quotes, and quotes inside unquoted text, are fine.
    let f = parse(b"ID;AUTH_TYPE;NAME\na;CERTIFICATES;\"x\"\"\"\nb;CERTIFICATES;say \"hi\n").expect("parses");
    assert_eq!(f.summary.valid, 2, "{:?}", f.issues);
    // The wording the server and the preview show.
    assert_eq!(FileError::UnclosedQuote { line: 3 }.to_string(), "the quote opened on line 3 is never closed");
}

#[test]
fn utf16_files_are_refused_naming_the_encoding() {
    let text = "ID;AUTH_TYPE;NAME\ndev-1;CERTIFICATES;Straße\n";
    let le: Vec<u8> = [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let be: Vec<u8> = [0xfe, 0xff].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    let expected = "the file is UTF-16 encoded; save it as UTF-8 (or Windows-1252) and try again";
    for bytes in [&le, &be] {
        assert_eq!(refusal(bytes), expected);
        for size in [1, 3, 64] {
            assert_eq!(refusal_in_pieces(bytes, size), expected);
        }
    }
    // UTF-32's marks start like UTF-16's: named for what they are.
    let le32: Vec<u8> =
        [0xff, 0xfe, 0, 0].into_iter().chain(text.chars().flat_map(|c| (c as u32).to_le_bytes())).collect();
    let be32: Vec<u8> =
        [0, 0, 0xfe, 0xff].into_iter().chain(text.chars().flat_map(|c| (c as u32).to_be_bytes())).collect();
    for bytes in [&le32, &be32] {
        assert_eq!(refusal(bytes), "the file is UTF-32 encoded; save it as UTF-8 (or Windows-1252) and try again");
    }
    // Just the mark: the encoding is still what is wrong.
    assert_eq!(refusal(&[0xff, 0xfe]), expected);
}

/// Windows-1252's bytes 0x80–0x9F and the characters they stand for, written out from the
/// WHATWG Encoding Standard's index (index-windows-1252.txt), independent of any decoder. The
/// five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1
/// control of the same value, as the standard (and every browser) says.
const WINDOWS_1252_0X80_TO_0X9F: [(u8, char); 32] = [
    (0x80, '\u{20AC}'), // €
    (0x81, '\u{0081}'),
    (0x82, '\u{201A}'), // ‚
    (0x83, '\u{0192}'), // ƒ
    (0x84, '\u{201E}'), // „
    (0x85, '\u{2026}'), // …
    (0x86, '\u{2020}'), // †
    (0x87, '\u{2021}'), // ‡
    (0x88, '\u{02C6}'), // ˆ
    (0x89, '\u{2030}'), // ‰
    (0x8A, '\u{0160}'), // Š
    (0x8B, '\u{2039}'), // ‹
    (0x8C, '\u{0152}'), // Œ
    (0x8D, '\u{008D}'),
    (0x8E, '\u{017D}'), // Ž
    (0x8F, '\u{008F}'),
    (0x90, '\u{0090}'),
    (0x91, '\u{2018}'), // ‘
    (0x92, '\u{2019}'), // ’
    (0x93, '\u{201C}'), // “
    (0x94, '\u{201D}'), // ”
    (0x95, '\u{2022}'), // •
    (0x96, '\u{2013}'), // –
    (0x97, '\u{2014}'), // —
    (0x98, '\u{02DC}'), // ˜
    (0x99, '\u{2122}'), // ™
    (0x9A, '\u{0161}'), // š
    (0x9B, '\u{203A}'), // ›
    (0x9C, '\u{0153}'), // œ
    (0x9D, '\u{009D}'),
    (0x9E, '\u{017E}'), // ž
    (0x9F, '\u{0178}'), // Ÿ
];

#[test]
fn windows_1252_bytes_0x80_to_0x9f_are_read_as_windows_1252_maps_them() {
    // A NAME cell with every byte from 0x80 to 0x9F, between two Latin-1 letters (ß, é).
    let mut bytes = b"ID;AUTH_TYPE;NAME;TYPE\ndev-1;CERTIFICATES;Stra\xdfe ".to_vec();
    bytes.extend(WINDOWS_1252_0X80_TO_0X9F.iter().map(|&(b, _)| b));
    bytes.extend_from_slice(b" caf\xe9;t\n");
    let expected: String =
        ["Straße ".to_string(), WINDOWS_1252_0X80_TO_0X9F.iter().map(|&(_, c)| c).collect(), " café".to_string()]
            .concat();
    assert!(expected.starts_with("Straße €\u{81}‚ƒ„…†‡ˆ‰Š‹Œ\u{8d}Ž\u{8f}\u{90}‘’“”•–—˜™š›œ\u{9d}žŸ café"));
    for f in [parse(&bytes).expect("parses"), {
        let mut parser = bulk::StreamParser::new(bytes.len());
        bytes.chunks(5).for_each(|piece| parser.feed(piece));
        parser.finish().expect("parses in pieces")
    }] {
        assert_eq!(f.summary.valid, 1, "{:?}", f.issues);
        assert_eq!(f.cell(&f.rows[0], 2), Some(expected.as_str()));
        assert_eq!(f.entries().next().and_then(|e| e.name), Some(expected.clone()));
        assert!(f.issues.iter().any(|i| i.severity == Severity::Warning && i.message.contains("Windows-1252")));
    }
    // Each byte alone, as the whole NAME.
    for &(byte, c) in &WINDOWS_1252_0X80_TO_0X9F {
        let mut bytes = b"ID;AUTH_TYPE;NAME\ndev-1;CERTIFICATES;N".to_vec();
        bytes.extend_from_slice(&[byte, b'\n']);
        let f = parse(&bytes).expect("parses");
        assert_eq!(f.cell(&f.rows[0], 2), Some(format!("N{c}").as_str()), "byte {byte:#04x}");
    }
}

#[test]
fn byte_soup_never_panics_and_reads_the_same_in_pieces() {
    // Quotes, separators, line breaks, marks of every encoding, bytes that are not UTF-8.
    let alphabet: &[&[u8]] = &[
        b"\"",
        b"\"",
        b";",
        b",",
        b"\t",
        b"\r",
        b"\n",
        b"ID",
        b"a",
        b" ",
        b"\x80",
        b"\x9f",
        b"\xff",
        b"\xfe",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xc3\xa9",
        b"\xe2\x82",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for case in 0..3000 {
        let mut bytes = if next(2) == 0 { b"ID;NAME\n".to_vec() } else { Vec::new() };
        for _ in 0..next(40) {
            bytes.extend_from_slice(alphabet[next(alphabet.len())]);
        }
        let whole = parse(&bytes);
        let mut parser = bulk::StreamParser::new(bytes.len());
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let n = 1 + next(5).min(rest.len() - 1);
            parser.feed(&rest[..n]);
            rest = &rest[n..];
        }
        assert_eq!(parser.finish(), whole, "case {case}: {bytes:?}");
    }
}
