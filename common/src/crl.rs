//! Certificate revocation: serial numbers, revocation dates and the CSV of the CRL upload
//! (`PUT /tenant/trusted-certificates/settings/crl`).
//!
//! Serial numbers are kept in one normal form, lowercase hex without colons or leading zeros
//! (`"0"` for zero), whether they were typed by a user ([`normalize_serial`]) or read from a
//! certificate's DER serial bytes ([`serial_hex`]), so a device certificate's serial compares
//! equal to a stored entry.

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::api::PageStatistics;
use crate::bulk::detect_separator;
use crate::timefmt;

/// Most hex digits of a serial number, leading zeros not counted (RFC 5280 §4.1.2.2: at most
/// 20 octets).
pub const MAX_SERIAL_HEX_DIGITS: usize = 40;
/// Longest serial number input read, in bytes (colons, spaces and leading zeros included).
pub const MAX_SERIAL_INPUT_BYTES: usize = 128;
/// Most entries accepted in one CSV file, and in one JSON request.
pub const MAX_CSV_ROWS: usize = 5000;
/// Most entries accepted in one JSON request (as many as one file).
pub const MAX_JSON_ENTRIES: usize = MAX_CSV_ROWS;
/// Largest CSV file accepted, in bytes (5000 rows of a 40-digit serial and a date take about
/// 330 KB).
pub const MAX_CSV_BYTES: usize = 1024 * 1024;
/// The header line of the CSV template (the platform UI's `crl-template.csv`).
pub const CSV_TEMPLATE_HEADER: &str = "SERIALNO,DATE";
/// The serial number of the template's example row.
pub const CSV_TEMPLATE_SERIAL: &str = "1000";
/// Longest part of a line quoted in a [`CsvError`], in characters.
const MAX_QUOTED_CHARS: usize = 100;

/// Normalizes a serial number typed by a user: hex digits in any case, optionally separated by
/// single colons (`0A:1B:2C`), surrounding whitespace ignored. The result is lowercase hex
/// without leading zeros (`"0"` for zero). At most [`MAX_SERIAL_HEX_DIGITS`] significant
/// digits.
pub fn normalize_serial(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("the serial number is empty".into());
    }
    if trimmed.len() > MAX_SERIAL_INPUT_BYTES {
        return Err(format!("the serial number is longer than {MAX_SERIAL_INPUT_BYTES} characters"));
    }
    if trimmed.starts_with(':') || trimmed.ends_with(':') || trimmed.contains("::") {
        return Err(format!(
            "the serial number \"{trimmed}\" has a misplaced colon (colons may only separate groups of hex digits)"
        ));
    }
    if let Some(bad) = trimmed.chars().find(|c| !c.is_ascii_hexdigit() && *c != ':') {
        return Err(format!(
            "the serial number \"{trimmed}\" is not hexadecimal (\"{bad}\" is not a hex digit; use 0-9 and a-f, \
             optionally separated by colons)"
        ));
    }
    let digits: String = trimmed.chars().filter(|c| *c != ':').map(|c| c.to_ascii_lowercase()).collect();
    let significant = digits.trim_start_matches('0');
    if significant.len() > MAX_SERIAL_HEX_DIGITS {
        return Err(format!(
            "the serial number \"{trimmed}\" has {} significant hex digits; at most {MAX_SERIAL_HEX_DIGITS} \
             (20 octets) are allowed",
            significant.len()
        ));
    }
    Ok(if significant.is_empty() { "0".into() } else { significant.into() })
}

/// Normalizes a search for serial numbers (a substring of the normal form): hex digits in
/// any case, colons dropped, surrounding whitespace ignored, lowercase; leading zeros are kept
/// (`"0a"` finds `10a`). Empty means no filter.
pub fn normalize_serial_query(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.len() > MAX_SERIAL_INPUT_BYTES {
        return Err(format!("the serial number searched for is longer than {MAX_SERIAL_INPUT_BYTES} characters"));
    }
    if let Some(bad) = trimmed.chars().find(|c| !c.is_ascii_hexdigit() && *c != ':') {
        return Err(format!(
            "the serial number searched for (\"{trimmed}\") is not hexadecimal (\"{bad}\" is not a hex digit)"
        ));
    }
    Ok(trimmed.chars().filter(|c| *c != ':').map(|c| c.to_ascii_lowercase()).collect())
}

/// The normal form of a certificate's serial number from its raw DER bytes (x509-parser's
/// `raw_serial()`): the bytes read as an unsigned number, in lowercase hex without leading
/// zeros (`"0"` for zero or no bytes).
pub fn serial_hex(der_serial: &[u8]) -> String {
    let hex = hex::encode(der_serial);
    let significant = hex.trim_start_matches('0');
    if significant.is_empty() { "0".into() } else { significant.into() }
}

/// A revocation date that is not in a supported format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported date time format")]
pub struct DateError;

/// Reads a revocation date: the platform format `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, or any RFC 3339
/// date-time (with an offset, without milliseconds). None or empty (whitespace only) means
/// `now`; a date after `now` is `now` (the platform's rule). The result is in UTC; a date
/// before the year 1 in UTC (`0000-01-01T00:00:00+01:00`) is refused too, since neither the
/// platform format nor a CRL can hold it.
pub fn parse_revocation_date(input: Option<&str>, now: OffsetDateTime) -> Result<OffsetDateTime, DateError> {
    let now = now.to_offset(UtcOffset::UTC);
    let Some(text) = input.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(now) };
    let date = timefmt::parse(text).ok_or(DateError)?.to_offset(UtcOffset::UTC);
    if date.year() < 1 {
        return Err(DateError);
    }
    Ok(if date > now { now } else { date })
}

/// Body of `PUT /tenant/trusted-certificates/settings/crl` (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlEntries {
    #[serde(default)]
    pub crls: Vec<CrlEntryInput>,
}

/// One entry of [`CrlEntries`]: the serial is required (checked by [`normalize_serial`]), the
/// date optional (read by [`parse_revocation_date`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrlEntryInput {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub serial_number_in_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revocation_date: Option<String>,
}

/// One revoked serial as listed by `GET …/settings/crl` (JSON): the serial in normal form, the
/// date in the platform format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedSerial {
    pub serial_number_in_hex: String,
    pub revocation_date: String,
}

/// A page of revoked serials (`GET …/settings/crl` with `Accept: application/json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSerials {
    pub crls: Vec<RevokedSerial>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub statistics: Option<PageStatistics>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none", default)]
    pub self_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prev: Option<String>,
}

/// A checked revocation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The serial in normal form ([`normalize_serial`]).
    pub serial_hex: String,
    pub revocation_date: OffsetDateTime,
}

/// Why a CRL CSV file is refused (as a whole: nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// The file has no entry (nothing, or only the header line).
    #[error("the file has no entries (the first line is the header; each following line is serial,date)")]
    NoEntries,
    /// More than [`MAX_CSV_ROWS`] entries.
    #[error("the file has more than {MAX_CSV_ROWS} entries; at most {MAX_CSV_ROWS} are accepted per file")]
    TooManyRows,
    /// A row is wrong: `row` counts the entries (1 is the first after the header), `line` is
    /// its line in the file, `text` the line (shortened), `reason` what is wrong.
    #[error("row {row} (line {line}: \"{text}\"): {reason}")]
    Row { row: usize, line: usize, text: String, reason: String },
}

/// Reads the CSV of a CRL upload. The first line is a header and skipped whatever it says
/// (`SERIALNO,DATE` in the platform's template, other names elsewhere); each further line is
/// `serial,date`, the separator detected from the header line as for bulk registration
/// ([`detect_separator`]: tab, `;` or `,`). The date may be empty or missing (now). Empty
/// lines are ignored; a cell may be quoted (`"1000"`). A UTF-8 byte order mark is dropped.
///
/// All or nothing: the first wrong row refuses the file, naming it; more than
/// [`MAX_CSV_ROWS`] entries refuse it too.
pub fn parse_csv(text: &str, now: OffsetDateTime) -> Result<Vec<Revocation>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else { return Err(CsvError::NoEntries) };
    let separator = detect_separator(header);
    let mut out = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        if out.len() >= MAX_CSV_ROWS {
            return Err(CsvError::TooManyRows);
        }
        let row = out.len() + 1;
        let refuse = |reason: String| CsvError::Row { row, line: index + 1, text: shorten(line), reason };
        let mut cells = line.split(separator).map(unquote);
        let serial = cells.next().unwrap_or_default();
        let date = cells.next();
        if let Some(extra) = cells.find(|c| !c.trim().is_empty()) {
            return Err(refuse(format!(
                "expected two columns (serial{}date), found more (\"{}\")",
                separator_name(separator),
                shorten(extra)
            )));
        }
        let serial_hex = normalize_serial(serial).map_err(refuse)?;
        let revocation_date = parse_revocation_date(date, now).map_err(|e| refuse(e.to_string()))?;
        out.push(Revocation { serial_hex, revocation_date });
    }
    if out.is_empty() {
        return Err(CsvError::NoEntries);
    }
    Ok(out)
}

/// The CSV template (`crl-template.csv`): the header and one example row that uploads as is.
pub fn csv_template(now: OffsetDateTime) -> String {
    format!("{CSV_TEMPLATE_HEADER}\n{CSV_TEMPLATE_SERIAL},{}\n", timefmt::platform(now))
}

/// A cell without the double quotes around it; other cells as they are (a serial or a date
/// never holds a quote, a separator or a line break, so no more of CSV quoting is needed).
fn unquote(cell: &str) -> &str {
    let trimmed = cell.trim();
    trimmed.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(cell)
}

/// The separator's name in a message.
fn separator_name(separator: char) -> &'static str {
    match separator {
        '\t' => " TAB ",
        ';' => ";",
        _ => ",",
    }
}

/// At most [`MAX_QUOTED_CHARS`] characters of `text`, with `…` when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2024-05-06 07:08:09.123 UTC);

    #[test]
    fn serials_are_normalized() {
        assert_eq!(normalize_serial("1000").unwrap(), "1000");
        assert_eq!(normalize_serial("  0A:1b:2C \n").unwrap(), "a1b2c");
        assert_eq!(normalize_serial("00:00:ff").unwrap(), "ff");
        assert_eq!(normalize_serial("ABCDEF").unwrap(), "abcdef");
        assert_eq!(normalize_serial("0").unwrap(), "0");
        assert_eq!(normalize_serial("00:00").unwrap(), "0");
        // 20 octets with a leading zero octet (as DER writes a serial with its high bit set).
        let twenty = format!("00{}", "8f".repeat(20));
        assert_eq!(normalize_serial(&twenty).unwrap(), "8f".repeat(20));
    }

    #[test]
    fn wrong_serials_are_refused_saying_why() {
        assert_eq!(normalize_serial("").unwrap_err(), "the serial number is empty");
        assert_eq!(normalize_serial("   ").unwrap_err(), "the serial number is empty");
        let e = normalize_serial("12g4").unwrap_err();
        assert!(e.contains("not hexadecimal") && e.contains("\"g\""), "{e}");
        let e = normalize_serial("0x1000").unwrap_err();
        assert!(e.contains("\"x\""), "{e}");
        for colon in [":ab", "ab:", "ab::cd"] {
            assert!(normalize_serial(colon).unwrap_err().contains("misplaced colon"), "{colon}");
        }
        let e = normalize_serial(&"1".repeat(41)).unwrap_err();
        assert!(e.contains("41 significant hex digits") && e.contains("at most 40"), "{e}");
        assert!(normalize_serial(&"1".repeat(40)).is_ok());
        assert!(normalize_serial(&"0".repeat(200)).unwrap_err().contains("longer than 128"));
        assert!(normalize_serial("12 34").unwrap_err().contains("\" \""));
    }

    #[test]
    fn serial_queries_keep_leading_zeros() {
        assert_eq!(normalize_serial_query(" 0A:1b ").unwrap(), "0a1b");
        assert_eq!(normalize_serial_query("").unwrap(), "");
        assert!(normalize_serial_query("zz").unwrap_err().contains("not hexadecimal"));
        assert!(normalize_serial_query(&"a".repeat(129)).unwrap_err().contains("longer than 128"));
    }

    #[test]
    fn certificate_serials_compare_equal_to_typed_ones() {
        assert_eq!(serial_hex(&[0x10, 0x00]), "1000");
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[]), "0");
        assert_eq!(serial_hex(&[0x0a, 0x1b]), normalize_serial("0A:1B").unwrap());
    }

    #[test]
    fn serial_of_a_generated_certificate_matches() {
        let mut params = rcgen::CertificateParams::new(vec!["device".into()]).unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0xde, 0xad, 0xbe, 0xef]));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        assert_eq!(serial_hex(parsed.raw_serial()), normalize_serial("DE:AD:BE:EF").unwrap());
    }

    #[test]
    fn dates_in_the_platform_format_and_rfc3339_are_read() {
        assert_eq!(
            parse_revocation_date(Some("2023-01-11T16:12:36.288Z"), NOW).unwrap(),
            datetime!(2023-01-11 16:12:36.288 UTC)
        );
        assert_eq!(
            parse_revocation_date(Some("2023-01-11T18:12:36+02:00"), NOW).unwrap(),
            datetime!(2023-01-11 16:12:36 UTC)
        );
        assert_eq!(
            parse_revocation_date(Some(" 2023-01-11T16:12:36Z "), NOW).unwrap(),
            datetime!(2023-01-11 16:12:36 UTC)
        );
        let with_offset = parse_revocation_date(Some("2023-01-11T18:12:36+02:00"), NOW).unwrap();
        assert_eq!(with_offset.offset(), UtcOffset::UTC);
        assert_eq!(
            parse_revocation_date(Some("0001-01-01T00:00:00Z"), NOW).unwrap(),
            datetime!(0001-01-01 00:00:00 UTC)
        );
        assert_eq!(parse_revocation_date(Some("0001-01-01T00:30:00+01:00"), NOW), Err(DateError));
    }

    #[test]
    fn missing_empty_and_future_dates_are_now() {
        assert_eq!(parse_revocation_date(None, NOW).unwrap(), NOW);
        assert_eq!(parse_revocation_date(Some(""), NOW).unwrap(), NOW);
        assert_eq!(parse_revocation_date(Some("  "), NOW).unwrap(), NOW);
        assert_eq!(parse_revocation_date(Some("2099-01-01T00:00:00.000Z"), NOW).unwrap(), NOW);
        assert_eq!(parse_revocation_date(Some("2024-05-06T07:08:09.124Z"), NOW).unwrap(), NOW);
    }

    #[test]
    fn wrong_dates_are_refused_with_the_platform_message() {
        for bad in ["2023-01-11", "11.01.2023", "2023-13-01T00:00:00Z", "2023-01-11T16:12:36.288", "yesterday"] {
            let e = parse_revocation_date(Some(bad), NOW).unwrap_err();
            assert_eq!(e.to_string(), "Unsupported date time format", "{bad}");
        }
    }

    #[test]
    fn wire_types_use_the_platform_names() {
        let body: CrlEntries = serde_json::from_str(
            r#"{"crls":[{"serialNumberInHex":"1000","revocationDate":"2023-01-11T16:12:36.288Z"},{}]}"#,
        )
        .unwrap();
        assert_eq!(body.crls[0].serial_number_in_hex.as_deref(), Some("1000"));
        assert_eq!(body.crls[0].revocation_date.as_deref(), Some("2023-01-11T16:12:36.288Z"));
        assert_eq!(body.crls[1], CrlEntryInput::default());
        let list = RevokedSerials {
            crls: vec![RevokedSerial {
                serial_number_in_hex: "ab".into(),
                revocation_date: "2023-01-11T16:12:36.288Z".into(),
            }],
            statistics: Some(PageStatistics {
                current_page: 1,
                page_size: 5,
                total_pages: None,
                total_elements: Some(1),
            }),
            self_url: Some("https://h/x".into()),
            next: None,
            prev: None,
        };
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "crls": [{"serialNumberInHex": "ab", "revocationDate": "2023-01-11T16:12:36.288Z"}],
                "statistics": {"currentPage": 1, "pageSize": 5, "totalElements": 1},
                "self": "https://h/x"
            })
        );
    }

    #[test]
    fn csv_rows_are_read_after_the_header() {
        let csv = "SERIALNO,DATE\n1000,2023-01-11T16:12:36.288Z\r\n\nAB:CD,\n  \nff\n";
        let rows = parse_csv(csv, NOW).unwrap();
        assert_eq!(
            rows,
            vec![
                Revocation { serial_hex: "1000".into(), revocation_date: datetime!(2023-01-11 16:12:36.288 UTC) },
                Revocation { serial_hex: "abcd".into(), revocation_date: NOW },
                Revocation { serial_hex: "ff".into(), revocation_date: NOW },
            ]
        );
    }

    #[test]
    fn csv_separators_are_those_of_the_bulk_csv() {
        let semicolon = parse_csv("SERIAL NO.;REVOCATION DATE\n0a;2023-01-11T16:12:36.288Z\n", NOW).unwrap();
        assert_eq!(semicolon[0].serial_hex, "a");
        assert_eq!(semicolon[0].revocation_date, datetime!(2023-01-11 16:12:36.288 UTC));
        let tab = parse_csv("SERIALNO\tDATE\n0b\t2023-01-11T16:12:36.288Z\n", NOW).unwrap();
        assert_eq!(tab[0].serial_hex, "b");
        let quoted = parse_csv("\u{feff}\"SERIALNO\",\"DATE\"\n\"0C\",\"2023-01-11T16:12:36.288Z\"\n", NOW).unwrap();
        assert_eq!(quoted[0].serial_hex, "c");
        // The header is skipped whatever it says, even a serial.
        assert_eq!(parse_csv("1000,\n2000,\n", NOW).unwrap().len(), 1);
    }

    #[test]
    fn one_wrong_row_refuses_the_file_naming_it() {
        let csv = "SERIALNO,DATE\n1000,\n\nzz99,2023-01-11T16:12:36.288Z\n2000,\n";
        let e = parse_csv(csv, NOW).unwrap_err();
        assert_eq!(
            e,
            CsvError::Row {
                row: 2,
                line: 4,
                text: "zz99,2023-01-11T16:12:36.288Z".into(),
                reason: normalize_serial("zz99").unwrap_err()
            }
        );
        assert!(e.to_string().starts_with("row 2 (line 4: \"zz99,2023-01-11T16:12:36.288Z\"): the serial number"));
        let e = parse_csv("SERIALNO,DATE\n1000,11.01.2023\n", NOW).unwrap_err();
        assert_eq!(e.to_string(), "row 1 (line 2: \"1000,11.01.2023\"): Unsupported date time format");
        let e = parse_csv("SERIALNO,DATE\n,2023-01-11T16:12:36.288Z\n", NOW).unwrap_err();
        assert!(e.to_string().contains("the serial number is empty"), "{e}");
        let e = parse_csv("SERIALNO,DATE\n1000,2023-01-11T16:12:36.288Z,x\n", NOW).unwrap_err();
        assert!(e.to_string().contains("expected two columns"), "{e}");
        // Trailing empty cells are tolerated (spreadsheets write them).
        assert_eq!(parse_csv("SERIALNO,DATE\n1000,2023-01-11T16:12:36.288Z,,\n", NOW).unwrap().len(), 1);
    }

    #[test]
    fn long_lines_are_shortened_in_messages() {
        let line = format!("{},", "é".repeat(300));
        let e = parse_csv(&format!("SERIALNO,DATE\n{line}\n"), NOW).unwrap_err();
        let CsvError::Row { text, .. } = e else { panic!("{e:?}") };
        assert_eq!(text.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn at_most_5000_rows_and_at_least_one() {
        let mut csv = String::from("SERIALNO,DATE\n");
        for i in 0..MAX_CSV_ROWS {
            csv.push_str(&format!("{:x},\n", i + 1));
        }
        assert_eq!(parse_csv(&csv, NOW).unwrap().len(), MAX_CSV_ROWS);
        csv.push_str("ffffff,\n");
        let e = parse_csv(&csv, NOW).unwrap_err();
        assert_eq!(e, CsvError::TooManyRows);
        assert_eq!(e.to_string(), "the file has more than 5000 entries; at most 5000 are accepted per file");
        assert_eq!(parse_csv("", NOW).unwrap_err(), CsvError::NoEntries);
        assert_eq!(parse_csv("SERIALNO,DATE\n\n", NOW).unwrap_err(), CsvError::NoEntries);
    }

    #[test]
    fn the_template_uploads_as_is() {
        let template = csv_template(NOW);
        assert_eq!(template, "SERIALNO,DATE\n1000,2024-05-06T07:08:09.123Z\n");
        assert_eq!(
            parse_csv(&template, NOW).unwrap(),
            vec![Revocation { serial_hex: "1000".into(), revocation_date: NOW }]
        );
    }
}
