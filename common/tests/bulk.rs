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
fn tenant_and_enrollment_columns_are_refused_per_row() {
    let f =
        parse(b"ID;AUTH_TYPE;TENANT;ENROLLMENT_OTP\na;CERTIFICATES;t2;\nb;CERTIFICATES;;otp123\nc;CERTIFICATES;;\n")
            .expect("parses");
    assert!(errors_of(&f, 2)[0].contains("management tenant"));
    assert!(errors_of(&f, 3)[0].contains("not supported"));
    assert!(errors_of(&f, 4).is_empty());
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
    assert!(matches!(parse(b"ID;NAME\n\"unterminated;x\n"), Ok(_) | Err(FileError::Malformed(_))));
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
