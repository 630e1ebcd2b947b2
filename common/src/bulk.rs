//! Bulk registration files: the platform's CSV format, parsed and validated row by row.
//!
//! One implementation serves the browser's preview (every problem shown before anything is
//! sent) and the server's `POST /devicecontrol/bulkNewDeviceRequests` (the authority).
//!
//! Format: UTF-8 with or without BOM (else read as Windows-1252), CRLF or LF, the separator
//! (tab, `;` or `,`) detected from the header line, quoted fields with `""` escapes. Columns:
//! `ID` (mandatory), `CREDENTIALS` (mandatory unless `AUTH_TYPE=CERTIFICATES`, where it must be
//! empty), `AUTH_TYPE` (`BASIC` or `CERTIFICATES`), `TENANT`, `TYPE`, `NAME`, `ICCID`, `IDTYPE`
//! (default `c8y_Serial`), `PATH`, `SHELL` (`0`/`1`), `ENROLLMENT_OTP`, `external-<type>`, and
//! any other column as a custom property (dotted names nest).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::device::check_device_id;

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Most data rows accepted in one file.
pub const MAX_ROWS: usize = 200_000;
/// Most columns accepted.
pub const MAX_COLUMNS: usize = 256;
/// Longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 4096;
/// Default external id type.
pub const DEFAULT_ID_TYPE: &str = "c8y_Serial";

/// How a device authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    Basic,
    Certificates,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Basic => "BASIC",
            AuthType::Certificates => "CERTIFICATES",
        }
    }
}

/// What a header cell means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Id,
    Credentials,
    AuthType,
    Tenant,
    Type,
    Name,
    Iccid,
    IdType,
    Path,
    Shell,
    EnrollmentOtp,
    /// `external-<type>`: an additional external id of that type.
    External(String),
    /// Any other column: a custom property; dotted names nest.
    Custom(Vec<String>),
}

impl Column {
    fn parse(name: &str) -> Result<Column, String> {
        let upper = name.to_ascii_uppercase();
        Ok(match upper.as_str() {
            "ID" => Column::Id,
            "CREDENTIALS" => Column::Credentials,
            "AUTH_TYPE" => Column::AuthType,
            "TENANT" => Column::Tenant,
            "TYPE" => Column::Type,
            "NAME" => Column::Name,
            "ICCID" => Column::Iccid,
            "IDTYPE" => Column::IdType,
            "PATH" => Column::Path,
            "SHELL" => Column::Shell,
            "ENROLLMENT_OTP" => Column::EnrollmentOtp,
            _ if upper.starts_with("EXTERNAL-") => {
                let t = &name["external-".len()..];
                if t.is_empty() {
                    return Err("column 'external-' needs an id type after the dash".into());
                }
                Column::External(t.to_string())
            }
            _ => {
                if name.is_empty() {
                    return Err("a column has an empty name".into());
                }
                let path: Vec<String> = name.split('.').map(str::to_string).collect();
                if path.iter().any(String::is_empty) {
                    return Err(format!("column '{name}' has an empty part in its dotted name"));
                }
                Column::Custom(path)
            }
        })
    }

    /// Whether using this column in a row makes `TYPE` and `NAME` required.
    fn needs_type_and_name(&self) -> bool {
        matches!(self, Column::Iccid | Column::IdType | Column::Path | Column::Shell)
    }
}

/// How serious an issue is: errors make a row invalid; warnings are shown, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located by line (1 = the header) and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub line: u32,
    pub column: Option<String>,
    pub severity: Severity,
    pub message: String,
}

/// A data row: where its cells are in the file's text, and how many problems it has. The
/// cells of every row live in one buffer of the [`BulkFile`] (no allocation per row or cell:
/// 100,000-row files are the normal case); read them with [`BulkFile::cell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u32,
    /// Where the row's first cell starts in the file's text.
    start: u32,
    /// Index of the row's first cell end in the file's `ends`.
    first: u32,
    /// How many cells the row has.
    count: u32,
    pub errors: u32,
    pub warnings: u32,
}

impl Row {
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// How many cells the row has.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the row has no cell.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Counts for the preview and the server's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
    pub certificates: usize,
    pub basic: usize,
}

/// A parsed and validated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkFile {
    pub separator: char,
    pub header: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Every problem, in line order; file-level problems have line 1.
    pub issues: Vec<Issue>,
    pub summary: Summary,
    /// The cells of every row, one after another.
    text: String,
    /// Where each cell ends in `text`, row after row.
    ends: Vec<u32>,
}

/// Why a file cannot be read at all (no row can be judged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("the header line is invalid: {0}")]
    Header(String),
    #[error("the CSV is malformed: {0}")]
    Malformed(String),
}

/// A valid row, ready to register.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEntry {
    pub line: u32,
    pub id: String,
    pub auth_type: AuthType,
    /// The password of a BASIC device.
    pub credentials: Option<String>,
    pub device_type: Option<String>,
    pub name: Option<String>,
    pub iccid: Option<String>,
    pub id_type: String,
    pub path: Option<String>,
    pub shell: bool,
    /// Additional external ids: `(type, value)`.
    pub external_ids: Vec<(String, String)>,
    /// Custom properties, nested by dotted names; values stay strings.
    pub properties: Map<String, Value>,
}

/// Whether a cell would run as a formula in a spreadsheet (`=`, `+`, `-`, `@`).
pub fn is_formula(cell: &str) -> bool {
    matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'))
}

/// A cell made safe for export to a spreadsheet: formulas are prefixed with `'`.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if is_formula(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// The separator of a file, from its header line: the most frequent of tab, `;` and `,`
/// outside quotes (ties: `;`, then tab, then `,`; none: `;`).
pub fn detect_separator(header_line: &str) -> char {
    let mut counts = [(';', 0usize), ('\t', 0), (',', 0)];
    let mut quoted = false;
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                if let Some(e) = counts.iter_mut().find(|(s, _)| *s == c) {
                    e.1 += 1;
                }
            }
        }
    }
    let best = counts.iter().fold((';', 0), |best, &(s, n)| if n > best.1 { (s, n) } else { best });
    best.0
}

/// The UTF-8 byte order mark, dropped from the start of a file.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Decodes file bytes: UTF-8 (a BOM is dropped), else Windows-1252 read as Latin-1 with a
/// warning.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Option<Issue>) {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.into(), None),
        Err(_) => {
            let text: String = bytes.iter().map(|&b| b as char).collect();
            let warn = Issue {
                line: 1,
                column: None,
                severity: Severity::Warning,
                message: "the file is not UTF-8; it was read as Windows-1252 (ANSI)".into(),
            };
            (text.into(), Some(warn))
        }
    }
}

/// Parses and validates a whole file.
pub fn parse(bytes: &[u8]) -> Result<BulkFile, FileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileError::TooLarge);
    }
    let (text, encoding_warning) = decode(bytes);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let first_line = text.lines().next().unwrap_or_default();
    let mut scan = Scan::new(detect_separator(first_line), text.len(), encoding_warning);
    scan.feed(&text);
    scan.finish()
}

/// Parses and validates a file that arrives in pieces (a browser reads a file as a stream):
/// each piece is parsed and checked as it comes, so reading and parsing overlap. The result
/// is the one [`parse`] gives for the whole file, always: files that are not UTF-8, too
/// large, or refused as a whole are parsed again from their bytes by [`parse`] at the end
/// (the rare case; those bytes are kept until then).
#[derive(Debug)]
pub struct StreamParser {
    /// Every byte fed so far (up to [`MAX_FILE_BYTES`]).
    bytes: Vec<u8>,
    /// More than [`MAX_FILE_BYTES`] were fed.
    too_large: bool,
    /// `bytes[..utf8_up_to]` is valid UTF-8; what follows may end in the middle of a character.
    utf8_up_to: usize,
    /// `bytes` are not UTF-8: only [`parse`] at the end can read them.
    not_utf8: bool,
    /// The parser, once the header line (and so the separator) is known; it has been given
    /// `bytes[..utf8_up_to]`.
    scan: Option<Scan>,
}

impl StreamParser {
    /// A parser for a file of about `size` bytes.
    pub fn new(size: usize) -> Self {
        StreamParser {
            bytes: Vec::with_capacity(size.min(MAX_FILE_BYTES)),
            too_large: false,
            utf8_up_to: 0,
            not_utf8: false,
            scan: None,
        }
    }

    /// The next piece of the file.
    pub fn feed(&mut self, piece: &[u8]) {
        self.feed_with(piece.len(), |space| space.copy_from_slice(piece));
    }

    /// The next piece of the file, `len` bytes that `fill` writes straight into the parser's
    /// copy of the file (e.g. from a JS `Uint8Array`, saving a copy).
    pub fn feed_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) {
        if self.too_large || len == 0 {
            return;
        }
        if self.bytes.len() + len > MAX_FILE_BYTES {
            self.too_large = true;
            self.bytes = Vec::new();
            self.scan = None;
            return;
        }
        let at = self.bytes.len();
        self.bytes.resize(at + len, 0);
        fill(&mut self.bytes[at..]);
        if self.not_utf8 {
            return;
        }
        // The text is checked once, here, and the parser reads it as checked text.
        let from = self.utf8_up_to;
        let valid = match std::str::from_utf8(&self.bytes[from..]) {
            Ok(valid) => {
                if let Some(scan) = &mut self.scan {
                    scan.feed(valid);
                }
                valid.len()
            }
            // A character cut at the end of the piece: the next piece completes it.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                if let Some(scan) = &mut self.scan {
                    scan.feed(std::str::from_utf8(&self.bytes[from..from + valid]).unwrap_or_default());
                }
                valid
            }
            Err(_) => {
                self.not_utf8 = true;
                self.scan = None;
                return;
            }
        };
        self.utf8_up_to += valid;
        if self.scan.is_none() {
            // The header line decides the separator: wait for all of it.
            let Some(newline) = find_newline(&self.bytes[..self.utf8_up_to]) else { return };
            self.start_scan(newline);
        }
    }

    /// The parsed and checked file, once every piece was fed.
    pub fn finish(mut self) -> Result<BulkFile, FileError> {
        if self.too_large {
            return Err(FileError::TooLarge);
        }
        if self.not_utf8 || self.utf8_up_to != self.bytes.len() {
            return parse(&self.bytes);
        }
        if self.scan.is_none() {
            self.start_scan(self.bytes.len());
        }
        match self.scan.take().map(Scan::finish) {
            Some(Ok(file)) => Ok(file),
            // Refused: `parse` tells exactly why (e.g. an empty file before a bad header).
            _ => parse(&self.bytes),
        }
    }

    /// Starts the parser on the text so far, whose header line ends at `line_end` (or the file
    /// does).
    fn start_scan(&mut self, line_end: usize) {
        let start = if self.bytes.starts_with(BOM) { BOM.len() } else { 0 };
        // Valid UTF-8 up to `utf8_up_to`: checked before.
        let text = std::str::from_utf8(self.bytes.get(start..self.utf8_up_to).unwrap_or_default()).unwrap_or_default();
        let first_line = text.get(..line_end.saturating_sub(start)).unwrap_or_default();
        let capacity = self.bytes.capacity().saturating_sub(start);
        let mut scan = Scan::new(detect_separator(first_line), capacity, None);
        scan.feed(text);
        self.scan = Some(scan);
    }
}

fn find_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The parser proper: cuts the text into records and cells into one buffer for the whole file
/// and checks each row as soon as it is complete.
///
/// Records are cut exactly as the `csv` crate (`csv_core`) cuts them with this module's
/// settings (tests/bulk_equivalence.rs compares them): `"` quotes, `""` in quotes is a quote,
/// a quote after text in a field is text, text after a closing quote joins the field; `\r`,
/// `\n` and `\r\n` end a record; blank lines are no record; a BOM at the very start is
/// dropped. A record's line is the line its first character is on, counting `\n`, `\r\n` and a
/// lone `\r` as one line break each (the `csv` crate's own line numbers are off by one after a
/// `\r\n` or a blank line).
#[derive(Debug)]
struct Scan {
    separator: char,
    /// The separator as a byte.
    delimiter: u8,
    state: State,
    /// Whether any input was read (a BOM is dropped only at the very start).
    started: bool,
    /// Line breaks read so far (`\n`, `\r\n` and a lone `\r` are one each).
    newlines: u64,
    /// A quoted cell's `\r` ended the previous piece of input: a line break unless a `\n`
    /// starts this one.
    cr_at_end: bool,
    /// The cells read so far.
    text: String,
    /// The record being read: where it starts in `text`, the line it starts on, and where its
    /// fields end (relative to its start).
    record_start: usize,
    record_line: u32,
    record_ends: Vec<usize>,
    /// The header once read, and what the rules need of it.
    head: Option<Head>,
    ends: Vec<u32>,
    rows: Vec<Row>,
    issues: Vec<Issue>,
    summary: Summary,
    seen: Seen,
    /// Why the file is refused, once it is.
    refused: Option<FileError>,
}

/// Where the record reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a record: line breaks are skipped.
    StartRecord,
    /// After a separator (or at a record's start).
    StartField,
    /// In an unquoted cell.
    InField,
    /// In a quoted cell.
    InQuoted,
    /// After a quote in a quoted cell: a second quote is a quote, anything else ends the quotes.
    QuoteInQuoted,
    /// After a record ended by `\r`: a `\n` belongs to it.
    AfterCr,
    /// The end of the file was read.
    End,
}

#[derive(Debug)]
struct Head {
    header: Vec<String>,
    columns: Vec<Column>,
    at: Indices,
}

impl Scan {
    fn new(separator: char, capacity: usize, encoding_warning: Option<Issue>) -> Self {
        let delimiter = u8::try_from(separator).unwrap_or(b';');
        Scan {
            separator,
            delimiter,
            state: State::StartRecord,
            started: false,
            newlines: 0,
            cr_at_end: false,
            // Cells are never longer than the text they are read from.
            text: String::with_capacity(capacity),
            record_start: 0,
            record_line: 1,
            record_ends: Vec::with_capacity(64),
            head: None,
            ends: Vec::new(),
            rows: Vec::new(),
            issues: encoding_warning.into_iter().collect(),
            summary: Summary::default(),
            seen: Seen::new(),
            refused: None,
        }
    }

    /// Reads the records of `input`, the text that follows what was fed before.
    fn feed(&mut self, input: &str) {
        if !input.is_empty() {
            self.read(input);
        }
    }

    /// Reads to the end (the last record may have no line break) and returns the file.
    fn finish(mut self) -> Result<BulkFile, FileError> {
        self.read_end();
        if let Some(e) = self.refused {
            return Err(e);
        }
        let Some(head) = self.head else { return Err(FileError::Empty) };
        self.summary.errors = self.issues.iter().filter(|i| i.severity == Severity::Error).count();
        self.summary.warnings = self.issues.len() - self.summary.errors;
        Ok(BulkFile {
            separator: self.separator,
            header: head.header,
            columns: head.columns,
            rows: self.rows,
            issues: self.issues,
            summary: self.summary,
            text: self.text,
            ends: self.ends,
        })
    }

    /// Cells are copied from `text` in runs cut at ASCII bytes (separators, quotes, line
    /// breaks), so they are text too.
    fn read(&mut self, text: &str) {
        let input = text.as_bytes();
        let mut i = 0;
        if !self.started {
            self.started = true;
            if input.len() >= BOM.len() && input.starts_with(BOM) {
                i = BOM.len();
            }
        }
        if std::mem::take(&mut self.cr_at_end) && input.get(i) != Some(&b'\n') {
            self.newlines += 1;
        }
        let n = input.len();
        while i < n && self.refused.is_none() {
            match self.state {
                State::StartRecord => {
                    let b = input[i];
                    if b == b'\n' {
                        self.newlines += 1;
                        i += 1;
                    } else if b == b'\r' {
                        i += 1;
                        self.state = State::AfterCr;
                    } else {
                        // The record starts on the line after every break read so far.
                        self.record_line = u32::try_from(self.newlines + 1).unwrap_or(u32::MAX);
                        self.state = State::StartField;
                    }
                }
                State::StartField => {
                    let b = input[i];
                    if b == b'"' {
                        i += 1;
                        self.state = State::InQuoted;
                    } else if b == self.delimiter {
                        i += 1;
                        self.end_field();
                    } else if b == b'\n' || b == b'\r' {
                        i += 1;
                        self.end_record(b);
                    } else {
                        self.state = State::InField;
                    }
                }
                State::InField => {
                    let len = find3(&input[i..], self.delimiter, b'\r', b'\n');
                    self.text.push_str(text.get(i..i + len).unwrap_or_default());
                    i += len;
                    if let Some(&b) = input.get(i) {
                        i += 1;
                        if b == self.delimiter {
                            self.end_field();
                            self.state = State::StartField;
                        } else {
                            self.end_record(b);
                        }
                    }
                }
                State::InQuoted => {
                    let len = find3(&input[i..], b'"', b'"', b'"');
                    let quoted = text.get(i..i + len).unwrap_or_default();
                    // Line breaks in the cell: `\n`, and a `\r` not followed by `\n` (when it
                    // ends this piece of input, the next piece tells).
                    for (k, b) in quoted.bytes().enumerate() {
                        if b == b'\n' {
                            self.newlines += 1;
                        } else if b == b'\r' {
                            match input.get(i + k + 1) {
                                Some(b'\n') => {}
                                Some(_) => self.newlines += 1,
                                None => self.cr_at_end = true,
                            }
                        }
                    }
                    self.text.push_str(quoted);
                    i += len;
                    if i < n {
                        i += 1;
                        self.state = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted => {
                    let b = input[i];
                    if b == b'"' {
                        i += 1;
                        self.text.push('"');
                        self.state = State::InQuoted;
                    } else if b == self.delimiter {
                        i += 1;
                        self.end_field();
                        self.state = State::StartField;
                    } else if b == b'\n' || b == b'\r' {
                        i += 1;
                        self.end_record(b);
                    } else {
                        self.state = State::InField;
                    }
                }
                State::AfterCr => {
                    // `\r\n` is one line break, and so is a `\r` alone.
                    if input[i] == b'\n' {
                        i += 1;
                    }
                    self.newlines += 1;
                    self.state = State::StartRecord;
                }
                State::End => return,
            }
        }
    }

    /// The end of the file: the last record may have no line break.
    fn read_end(&mut self) {
        match self.state {
            State::StartField | State::InField | State::InQuoted | State::QuoteInQuoted => {
                self.end_field();
                self.record();
            }
            State::StartRecord | State::AfterCr | State::End => {}
        }
        self.state = State::End;
    }

    fn end_field(&mut self) {
        self.record_ends.push(self.text.len() - self.record_start);
    }

    /// The record ends with line break `b` (read).
    fn end_record(&mut self, b: u8) {
        // A `\r` is counted once it is known whether a `\n` follows it (`AfterCr`).
        self.newlines += u64::from(b == b'\n');
        self.end_field();
        self.record();
        self.state = if b == b'\r' { State::AfterCr } else { State::StartRecord };
    }

    /// The record just read: the header, a blank line, or a row to check. Then the next
    /// record starts.
    fn record(&mut self) {
        self.check_record();
        self.record_start = self.text.len();
        self.record_ends.clear();
    }

    fn check_record(&mut self) {
        let text = self.text.get(self.record_start..).unwrap_or_default();
        let cells = Cells { text, ends: &self.record_ends };
        let Some(head) = &self.head else {
            match Head::of(&cells) {
                Ok(head) => self.head = Some(head),
                Err(e) => self.refused = Some(e),
            }
            // The header's cells are not kept in the text.
            self.text.truncate(self.record_start);
            return;
        };
        // Blank lines (a trailing one included) are not rows.
        if cells.len() == 1 && text.trim().is_empty() {
            self.text.truncate(self.record_start);
            return;
        }
        if self.rows.len() >= MAX_ROWS {
            self.refused = Some(FileError::TooManyRows);
            return;
        }
        let line = self.record_line;
        let start = self.record_start;
        let previous = self.text.as_bytes().get(..start).unwrap_or_default();
        let (errors, warnings, auth) =
            validate_row(head, line, &cells, &mut self.seen, previous, start, &mut self.issues);
        let row = Row {
            line,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            first: u32::try_from(self.ends.len()).unwrap_or(u32::MAX),
            count: u32::try_from(cells.len()).unwrap_or(u32::MAX),
            errors,
            warnings,
        };
        self.ends.extend(cells.ends.iter().map(|&e| u32::try_from(start + e).unwrap_or(u32::MAX)));
        self.summary.rows += 1;
        if row.is_valid() {
            self.summary.valid += 1;
            match auth {
                Some(AuthType::Certificates) => self.summary.certificates += 1,
                _ => self.summary.basic += 1,
            }
        } else {
            self.summary.invalid += 1;
        }
        self.rows.push(row);
        if self.rows.len() == 1 {
            self.expect_rows_like(self.text.len() - start + cells.len());
        }
    }

    /// Makes room at once for as many rows as the text would hold if every row took `bytes`
    /// bytes as the first did (instead of growing and copying as they come).
    fn expect_rows_like(&mut self, bytes: usize) {
        let rows = (self.text.capacity() / bytes.max(1)).min(MAX_ROWS);
        let cells = self.ends.len().max(1);
        self.rows.reserve(rows);
        self.ends.reserve((rows * cells).min(self.text.capacity()));
        self.seen.first.reserve(rows);
    }
}

impl Head {
    fn of(cells: &Cells<'_>) -> Result<Head, FileError> {
        let header: Vec<String> = cells.iter().map(|h| h.trim().to_string()).collect();
        if header.len() > MAX_COLUMNS {
            return Err(FileError::Header(format!(
                "it has {} columns; at most {MAX_COLUMNS} are accepted",
                header.len()
            )));
        }
        let columns =
            header.iter().map(|h| Column::parse(h)).collect::<Result<Vec<_>, _>>().map_err(FileError::Header)?;
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(FileError::Header(format!("column '{}' appears twice", header[i])));
            }
        }
        if !columns.contains(&Column::Id) {
            return Err(FileError::Header("the mandatory column ID is missing".into()));
        }
        let at = Indices::of(&columns);
        Ok(Head { header, columns, at })
    }
}

/// Where the first of the bytes `a`, `b` and `c` is in `bytes` (its length if none is): eight
/// bytes at a time, with the bit tricks for finding a zero byte in a word (the lowest flagged
/// byte is always a true match).
fn find3(bytes: &[u8], a: u8, b: u8, c: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let (a8, b8, c8) = (ONES * u64::from(a), ONES * u64::from(b), ONES * u64::from(c));
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let found = zero(x ^ a8) | zero(x ^ b8) | zero(x ^ c8);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + words.remainder().iter().position(|&x| x == a || x == b || x == c).unwrap_or(words.remainder().len())
}

/// The cells of the record being checked: `text` cut at `ends`.
struct Cells<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> Cells<'a> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

fn cell<'f>(file: &'f BulkFile, row: &Row, which: &Column) -> Option<&'f str> {
    file.columns.iter().position(|c| c == which).and_then(|i| file.cell(row, i))
}

/// Where the columns the rules look at are, found once per file.
#[derive(Debug)]
struct Indices {
    count: usize,
    id: Option<usize>,
    auth_type: Option<usize>,
    credentials: Option<usize>,
    type_: Option<usize>,
    name: Option<usize>,
    shell: Option<usize>,
    tenant: Option<usize>,
    enrollment_otp: Option<usize>,
    /// ICCID, IDTYPE, PATH, SHELL: using one makes TYPE and NAME required.
    needing_type_and_name: Vec<usize>,
}

impl Indices {
    fn of(columns: &[Column]) -> Self {
        let at = |which: Column| columns.iter().position(|c| *c == which);
        Indices {
            count: columns.len(),
            id: at(Column::Id),
            auth_type: at(Column::AuthType),
            credentials: at(Column::Credentials),
            type_: at(Column::Type),
            name: at(Column::Name),
            shell: at(Column::Shell),
            tenant: at(Column::Tenant),
            enrollment_otp: at(Column::EnrollmentOtp),
            needing_type_and_name: columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.needs_type_and_name())
                .map(|(i, _)| i)
                .collect(),
        }
    }
}

/// The valid IDs seen so far, by a hash of the ID (a fast hasher with a random seed: the
/// server parses untrusted files too). An entry points at the ID in the file's text, so no
/// ID is copied; IDs whose hash an earlier, different ID has are kept apart, in full.
#[derive(Debug)]
struct Seen {
    hasher: foldhash::fast::RandomState,
    /// Hash → where the first ID with that hash is in the text, and its line.
    first: HashMap<u64, (u32, u32, u32), foldhash::fast::RandomState>,
    /// IDs whose hash was taken by another ID → line.
    collided: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Seen {
    fn new() -> Self {
        Seen { hasher: Default::default(), first: HashMap::default(), collided: HashMap::default() }
    }

    /// The line of an earlier row with ID `id`; else records `id`, which is at `at` in the
    /// text, on `line`. `text` is the text of the earlier rows.
    fn check(&mut self, id: &str, at: usize, line: u32, text: &[u8]) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(id);
        self.check_hashed(hash, id, at, line, text)
    }

    fn check_hashed(&mut self, hash: u64, id: &str, at: usize, line: u32, text: &[u8]) -> Option<u32> {
        use std::collections::hash_map::Entry;
        match self.first.entry(hash) {
            Entry::Vacant(e) => {
                let at = u32::try_from(at).unwrap_or(u32::MAX);
                e.insert((at, u32::try_from(id.len()).unwrap_or(u32::MAX), line));
                None
            }
            Entry::Occupied(e) => {
                let (start, len, first_line) = *e.get();
                let (start, len) = (start as usize, len as usize);
                if text.get(start..start + len) == Some(id.as_bytes()) {
                    return Some(first_line);
                }
                match self.collided.get(id) {
                    Some(&first_line) => Some(first_line),
                    None => {
                        self.collided.insert(id.to_string(), line);
                        None
                    }
                }
            }
        }
    }
}

/// Checks one row (its `cells`, on `line`, starting at `start` in the text whose earlier rows
/// are `previous`), adds its problems to `issues`; returns how many errors and warnings it
/// has, and its auth type when the row names a valid one.
fn validate_row(
    head: &Head,
    line: u32,
    cells: &Cells<'_>,
    seen: &mut Seen,
    previous: &[u8],
    start: usize,
    issues: &mut Vec<Issue>,
) -> (u32, u32, Option<AuthType>) {
    let (at, header) = (&head.at, &head.header);
    let mut problems: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut warnings: Vec<(Option<usize>, Severity, String)> = Vec::new();
    let mut error = |col: Option<usize>, m: String| problems.push((col, Severity::Error, m));
    if cells.len() != at.count {
        error(None, format!("the row has {} fields but the header has {}", cells.len(), at.count));
    }
    let get = |index: Option<usize>| index.map(|i| (i, cells.get(i).unwrap_or_default()));

    // ID
    if let Some((i, id)) = get(at.id) {
        match check_device_id(id) {
            Err(e) => error(Some(i), capitalize(&e)),
            Ok(()) => {
                let offset = if i == 0 { 0 } else { cells.ends[i - 1] };
                if let Some(first) = seen.check(id, start + offset, line, previous) {
                    error(Some(i), format!("The ID '{id}' is a duplicate of line {first}"));
                }
            }
        }
    }
    // AUTH_TYPE and CREDENTIALS
    let auth = match get(at.auth_type).map(|(i, v)| (i, v, trim(v))) {
        None => Some(AuthType::Basic),
        Some((_, _, t)) if t.is_empty() || t.eq_ignore_ascii_case("BASIC") => Some(AuthType::Basic),
        Some((_, _, t)) if t.eq_ignore_ascii_case("CERTIFICATES") => Some(AuthType::Certificates),
        Some((i, v, _)) => {
            error(Some(i), format!("AUTH_TYPE must be BASIC or CERTIFICATES, not '{v}'"));
            None
        }
    };
    let credentials = get(at.credentials);
    match (auth, credentials) {
        (Some(AuthType::Certificates), Some((i, c))) if !c.is_empty() => {
            error(Some(i), "CREDENTIALS must be empty when AUTH_TYPE is CERTIFICATES".into())
        }
        (Some(AuthType::Basic), None) => {
            error(None, "CREDENTIALS is required for password (BASIC) devices; for certificate devices set AUTH_TYPE to CERTIFICATES".into())
        }
        (Some(AuthType::Basic), Some((i, ""))) => {
            error(Some(i), "CREDENTIALS is required for password (BASIC) devices; for certificate devices set AUTH_TYPE to CERTIFICATES".into())
        }
        _ => {}
    }
    // TYPE and NAME when ICCID, IDTYPE, PATH or SHELL are used.
    let used = |i: &&usize| cells.get(**i).is_some_and(|v| !v.is_empty());
    let missing = |which: Option<usize>| get(which).is_none_or(|(_, v)| trim(v).is_empty());
    if (missing(at.type_) || missing(at.name)) && at.needing_type_and_name.iter().any(|i| used(&i)) {
        let uses_extras: Vec<&str> =
            at.needing_type_and_name.iter().filter(used).map(|i| header[*i].as_str()).collect();
        for (which, label) in [(at.type_, "TYPE"), (at.name, "NAME")] {
            if missing(which) {
                error(which, format!("{label} is required when {} is used", uses_extras.join(", ")));
            }
        }
    }
    if let Some((i, v)) = get(at.shell)
        && !matches!(trim(v), "" | "0" | "1")
    {
        error(Some(i), format!("SHELL must be 0 or 1, not '{v}'"));
    }
    if let Some((i, v)) = get(at.tenant)
        && !trim(v).is_empty()
    {
        error(Some(i), "TENANT can only be used from the management tenant".into());
    }
    if let Some((i, v)) = get(at.enrollment_otp)
        && !trim(v).is_empty()
    {
        error(
            Some(i),
            "ENROLLMENT_OTP (certificate enrollment with a one-time password) is not supported by anchorage".into(),
        );
    }
    for (i, v) in cells.iter().enumerate() {
        if v.len() > MAX_CELL_CHARS && v.chars().count() > MAX_CELL_CHARS {
            error(Some(i), format!("the value is longer than {MAX_CELL_CHARS} characters"));
        } else if is_formula(v) {
            let warning =
                format!("'{}' starts with '{}': a spreadsheet would run it as a formula", shorten(v), &v[..1]);
            warnings.push((Some(i), Severity::Warning, warning));
        }
    }
    let (mut errors, mut warning_count) = (0, 0);
    for (col, severity, message) in problems.into_iter().chain(warnings) {
        match severity {
            Severity::Error => errors += 1,
            Severity::Warning => warning_count += 1,
        }
        issues.push(Issue { line, column: col.and_then(|i| header.get(i).cloned()), severity, message });
    }
    (errors, warning_count, auth)
}

/// `s.trim()`, at once for the usual cell that starts and ends with a visible ASCII character.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

fn shorten(v: &str) -> String {
    if v.chars().count() > 24 { format!("{}…", v.chars().take(24).collect::<String>()) } else { v.to_string() }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl BulkFile {
    /// The valid rows as entries to register (invalid rows are skipped).
    pub fn entries(&self) -> impl Iterator<Item = DeviceEntry> + '_ {
        self.rows.iter().filter(|r| r.is_valid()).map(|r| self.entry(r))
    }

    /// The entry of a valid row.
    pub fn entry(&self, row: &Row) -> DeviceEntry {
        let get = |which: &Column| cell(self, row, which).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let auth_type = match get(&Column::AuthType) {
            Some(a) if a.eq_ignore_ascii_case("CERTIFICATES") => AuthType::Certificates,
            _ => AuthType::Basic,
        };
        let mut properties = Map::new();
        let mut external_ids = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let Some(v) = self.cell(row, i).filter(|v| !v.is_empty()) else { continue };
            match c {
                Column::External(t) => external_ids.push((t.clone(), v.to_string())),
                Column::Custom(path) => insert_nested(&mut properties, path, v.to_string()),
                _ => {}
            }
        }
        DeviceEntry {
            line: row.line,
            id: cell(self, row, &Column::Id).unwrap_or_default().to_string(),
            auth_type,
            credentials: if auth_type == AuthType::Basic {
                cell(self, row, &Column::Credentials).map(str::to_string)
            } else {
                None
            },
            device_type: get(&Column::Type),
            name: get(&Column::Name),
            iccid: get(&Column::Iccid),
            id_type: get(&Column::IdType).unwrap_or_else(|| DEFAULT_ID_TYPE.to_string()),
            path: get(&Column::Path),
            shell: get(&Column::Shell).as_deref() == Some("1"),
            external_ids,
            properties,
        }
    }

    /// Cell `i` of `row` (a row of this file), as written.
    pub fn cell(&self, row: &Row, i: usize) -> Option<&str> {
        if i >= row.len() {
            return None;
        }
        let at = row.first as usize + i;
        let end = *self.ends.get(at)? as usize;
        let start = if i == 0 { row.start as usize } else { self.ends[at - 1] as usize };
        self.text.get(start..end)
    }

    /// Every cell of `row` (a row of this file), in order.
    pub fn cells<'a>(&'a self, row: &'a Row) -> impl Iterator<Item = &'a str> + 'a {
        (0..row.len()).map(move |i| self.cell(row, i).unwrap_or_default())
    }

    /// The issues of one line.
    pub fn issues_of(&self, line: u32) -> impl Iterator<Item = &Issue> {
        let start = self.issues.partition_point(|i| i.line < line);
        self.issues[start..].iter().take_while(move |i| i.line == line)
    }
}

fn insert_nested(map: &mut Map<String, Value>, path: &[String], value: String) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), Value::String(value));
        }
        [first, rest @ ..] => {
            let child = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(m) = child {
                insert_nested(m, rest, value);
            }
        }
    }
}

/// The templates the console offers, as the platform's bulk registration dialog does.
pub mod templates {
    /// Simple registration: certificate devices by id alone. (The platform's simple template,
    /// `ID;PATH`, creates device requests awaiting acceptance, which anchorage does not have.)
    pub const SIMPLE: &str = "ID;AUTH_TYPE\nsimple-device-01;CERTIFICATES\nsimple-device-02;CERTIFICATES\n";
    /// Full registration with passwords, the platform's header, quoted.
    pub const FULL: &str = "\"ID\";\"TYPE\";\"NAME\";\"ICCID\";\"IDTYPE\";\"PATH\";\"SHELL\";\"AUTH_TYPE\";\"CREDENTIALS\"\n\
\"device-01\";\"c8y_Device\";\"Device 01\";\"\";\"c8y_Serial\";\"Group A\";\"1\";\"BASIC\";\"a-long-device-password-01\"\n";
    /// Certificate devices: `AUTH_TYPE=CERTIFICATES`, empty `CREDENTIALS`.
    pub const CERTIFICATES: &str = "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n\"cert-device-01\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Certificate device 01\"\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find3_finds_the_first_of_three_bytes_at_every_offset() {
        let text = b"abc;defgh\rijklmnopq\nrstuvwxyz0123456789;;\n";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let bytes = &text[start..end];
                let naive = bytes.iter().position(|&b| b == b';' || b == b'\r' || b == b'\n').unwrap_or(bytes.len());
                assert_eq!(find3(bytes, b';', b'\r', b'\n'), naive, "{start}..{end}");
            }
        }
        // Bytes just above and below the ones sought (borrows between bytes in the word trick).
        let tricky = [0x3a, 0x3c, 0x0b, 0x0c, 0x0e, 0x80, 0xff, 0x00, 0x01, 0x3b];
        assert_eq!(find3(&tricky, b';', b'\r', b'\n'), 9);
        assert_eq!(find3(&[0x00, 0x3b], b';', b'\r', b'\n'), 1);
    }

    #[test]
    fn the_quick_trim_is_str_trim() {
        for v in ["", " ", "a", " a", "a ", "\ta\n", "x y", "\u{a0}x", "x\u{3000}", "é", " é ", "\u{85}", "-", "a\r"]
        {
            assert_eq!(trim(v), v.trim(), "{v:?}");
        }
    }

    #[test]
    fn ids_whose_hashes_collide_are_still_told_apart() {
        let mut seen = Seen::new();
        let text = b"first|second|";
        // Two different IDs given the same hash on purpose.
        assert_eq!(seen.check_hashed(7, "first", 0, 2, text), None);
        assert_eq!(seen.check_hashed(7, "second", 6, 3, text), None);
        assert_eq!(seen.check_hashed(7, "second", 13, 4, text), Some(3));
        assert_eq!(seen.check_hashed(7, "first", 13, 5, text), Some(2));
        assert_eq!(seen.check_hashed(8, "third", 13, 6, text), None);
    }
}
